package ui

import (
	"bufio"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateSampler turns the store's counter of stored readings into a rate:
// readings per second since the previous sample (a status view or a
// metrics scrape at least ten seconds before) and since the start.
type rateSampler struct {
	mu        sync.Mutex
	lastTime  time.Time
	lastCount int64
	rate      float64
}

func (s *rateSampler) sample(now time.Time, count int64) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastTime.IsZero() {
		s.lastTime, s.lastCount = now, count
		return 0
	}
	if dt := now.Sub(s.lastTime).Seconds(); dt >= 10 {
		s.rate = float64(count-s.lastCount) / dt
		s.lastTime, s.lastCount = now, count
	}
	return s.rate
}

type statusView struct {
	Version     string
	Started     string
	Uptime      string
	RateRecent  string
	RateAverage string
	Readings    int64
	Points      int64
	Errors      int64
	Channels    int
	Series      int
	StoreBytes  string
	FreeBytes   string
	RSS         string
	HeapBytes   string
	Goroutines  int
	MQTTClients int64
	GoVersion   string
	Platform    string
}

func (u *UI) statusPage(w http.ResponseWriter, r *http.Request) {
	st := u.st.Stats()
	now := u.now()
	up := now.Sub(u.opts.Started)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	v := statusView{
		Version:     u.opts.Version,
		Started:     u.opts.Started.In(u.opts.Zone).Format("2006-01-02 15:04:05"),
		Uptime:      up.Round(time.Second).String(),
		RateRecent:  strconv.FormatFloat(u.rate.sample(now, st.ReadingsStored), 'f', 2, 64),
		RateAverage: strconv.FormatFloat(float64(st.ReadingsStored)/max(up.Seconds(), 1), 'f', 2, 64),
		Readings:    st.ReadingsStored,
		Points:      st.PointsStored,
		Errors:      st.ErrorsRecorded,
		Channels:    st.Channels,
		Series:      st.Series,
		StoreBytes:  byteSize(st.DiskBytes),
		FreeBytes:   byteSize(u.st.FreeDiskBytes()),
		RSS:         byteSize(rssBytes()),
		HeapBytes:   byteSize(ms.HeapAlloc),
		Goroutines:  runtime.NumGoroutine(),
		MQTTClients: u.opts.MQTTClients(),
		GoVersion:   runtime.Version(),
		Platform:    runtime.GOOS + "/" + runtime.GOARCH,
	}
	render(w, r, http.StatusOK, statusPage(u.newPage("Status · Apiary", "status", false), v))
}

// rssBytes is the process's resident memory (VmRSS), where /proc has it.
func rssBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func byteSize(b uint64) string {
	switch {
	case b >= 1<<30:
		return strconv.FormatFloat(float64(b)/(1<<30), 'f', 2, 64) + " GiB"
	case b >= 1<<20:
		return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
	case b >= 1<<10:
		return strconv.FormatFloat(float64(b)/(1<<10), 'f', 0, 64) + " KiB"
	}
	return strconv.FormatUint(b, 10) + " B"
}
