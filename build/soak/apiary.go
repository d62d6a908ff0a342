package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apiary-hive/apiary/internal/benchenv"
)

// apiary is the appliance under test: the real binary, built from this
// working tree, running as its own process on a fresh data directory.
type apiary struct {
	cmd     *exec.Cmd
	pid     int
	web     string // http://127.0.0.1:port
	mqtt    string // 127.0.0.1:port
	logPath string
	exited  chan struct{}
	exitErr error

	mu    sync.Mutex
	lines map[string][]string // level (ERROR, WARN) -> log lines
}

// buildApiary builds ./cmd/apiary of the module into dir.
func buildApiary(root, dir string) (string, error) {
	bin := filepath.Join(dir, "apiary")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/apiary")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/apiary: %v\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot is the directory of the go.mod this program belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the apiary module: run from the repository (build/soak.sh does)")
	}
	return filepath.Dir(mod), nil
}

var (
	webListening  = regexp.MustCompile(`web interface listening" addr=(\S+)`)
	mqttListening = regexp.MustCompile(`mqtt broker listening" addr=(\S+)`)
	logLevel      = regexp.MustCompile(`\blevel=(ERROR|WARN)\b`)
)

// startApiary runs `apiary serve` on data with both listeners on free
// loopback ports, and waits until it has said "apiary ready" with its
// addresses and answers /healthz with 200. Its log goes to logPath.
func startApiary(bin, data, logPath string) (*apiary, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	a := &apiary{logPath: logPath, exited: make(chan struct{}), lines: map[string][]string{}}
	a.cmd = exec.Command(bin, "serve", "--data", data, "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
	a.cmd.Stdout = logf
	// Its own process group, so that a Ctrl-C at the terminal reaches only
	// the soak (which then stops the nodes, verifies and stops apiary);
	// and SIGTERM if the soak dies.
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	stderr, err := a.cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := a.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	a.pid = a.cmd.Process.Pid
	ready := make(chan [2]string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		var web, mq string
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if m := logLevel.FindStringSubmatch(line); m != nil {
				a.mu.Lock()
				a.lines[m[1]] = append(a.lines[m[1]], line)
				a.mu.Unlock()
			}
			if m := webListening.FindStringSubmatch(line); m != nil {
				web = m[1]
			}
			if m := mqttListening.FindStringSubmatch(line); m != nil {
				mq = m[1]
			}
			if web != "" && strings.Contains(line, `msg="apiary ready"`) {
				select {
				case ready <- [2]string{web, mq}:
				default:
				}
			}
		}
		io.Copy(logf, stderr)
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it all first
		a.exitErr = a.cmd.Wait()
		logf.Close()
		close(a.exited)
	}()
	select {
	case addrs := <-ready:
		a.web, a.mqtt = "http://"+addrs[0], addrs[1]
	case <-a.exited:
		return nil, fmt.Errorf("apiary exited before it was ready (%v); see %s", a.exitErr, logPath)
	case <-time.After(60 * time.Second):
		a.kill()
		return nil, fmt.Errorf("apiary did not say \"apiary ready\" with its addresses within 60s; see %s", logPath)
	}
	if a.mqtt == "" {
		a.kill()
		return nil, errors.New("apiary did not report its MQTT address")
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if status, _, err := httpGet(a.web + "/healthz"); err == nil && status == http.StatusOK {
			return a, nil
		}
		if time.Now().After(deadline) {
			a.kill()
			return nil, errors.New("apiary's /healthz did not answer 200 within 30s")
		}
	}
}

func (a *apiary) kill() {
	a.cmd.Process.Kill()
	<-a.exited
}

// stop sends SIGTERM and waits for the graceful stop; it returns how long
// it took.
func (a *apiary) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-a.exited:
		return time.Since(start), a.exitErr
	case <-time.After(timeout):
		a.kill()
		return time.Since(start), fmt.Errorf("did not stop within %s after SIGTERM; killed", timeout)
	}
}

// logLines returns the log lines at level (ERROR or WARN).
func (a *apiary) logLines(level string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.lines[level]...)
}

// cpuSeconds is the user and system CPU time of the process so far
// (/proc/<pid>/stat, in USER_HZ = 100 ticks per second on Linux).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unreadable stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil
}

// rssSampler samples VmRSS once a second.
type rssSampler struct {
	mu             sync.Mutex
	n              int
	sum, peak, min int64
	peakAt         time.Duration
	start          time.Time
	stop           chan struct{}
	done           chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if st, err := benchenv.ProcStatus(pid); err == nil {
				rss := st["VmRSS"]
				s.mu.Lock()
				s.n++
				s.sum += rss
				if rss > s.peak {
					s.peak, s.peakAt = rss, time.Since(s.start)
				}
				if s.min == 0 || rss < s.min {
					s.min = rss
				}
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) finish() {
	close(s.stop)
	<-s.done
}

func (s *rssSampler) current() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// storedReadings reads apiary_readings_stored_total from /metrics.
func storedReadings(web string) (int64, error) {
	status, body, err := httpGet(web + "/metrics")
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("/metrics: %d", status)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "apiary_readings_stored_total "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("/metrics has no apiary_readings_stored_total")
}

// exportCount counts the rows of a channel's JSON export (all of its
// time) and their non-null values.
func exportCount(web, channel string) (rows, values int64, err error) {
	status, body, err := httpGet(web + "/api/" + channel + "/data.json?from=2000-01-01&to=now%2B1h")
	if err != nil {
		return 0, 0, err
	}
	if status == http.StatusNotFound {
		return 0, 0, nil // no data
	}
	if status != http.StatusOK {
		return 0, 0, fmt.Errorf("export of %s: %d %.200s", channel, status, body)
	}
	var rs []map[string]any
	if err := json.Unmarshal([]byte(body), &rs); err != nil {
		return 0, 0, fmt.Errorf("export of %s: %v", channel, err)
	}
	for _, r := range rs {
		for k, v := range r {
			if k != "time" && v != nil {
				values++
			}
		}
	}
	return int64(len(rs)), values, nil
}

// apiChannel is an element of GET /api/channels.
type apiChannel struct {
	Realm, Network, Gateway, Node string
}

func (c apiChannel) path() string { return c.Realm + "/" + c.Network + "/" + c.Gateway + "/" + c.Node }

func listChannels(web string) ([]string, error) {
	status, body, err := httpGet(web + "/api/channels")
	if err != nil {
		return nil, err
	}
	var cs []apiChannel
	if err := json.Unmarshal([]byte(body), &cs); status != http.StatusOK || err != nil {
		return nil, fmt.Errorf("/api/channels: %d %v", status, err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.path())
	}
	return out, nil
}

// apiError is an entry of GET /api/errors.
type apiError struct {
	Count   int64  `json:"count"`
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	Source  string `json:"source"`
	Client  string `json:"client"`
	Message string `json:"message"`
	Excerpt string `json:"excerpt"`
}

func (e apiError) key() errKey {
	if e.Channel != "" {
		return errKey{e.Kind, e.Channel}
	}
	return errKey{e.Kind, e.Source}
}

func errorLog(web string) ([]apiError, error) {
	status, body, err := httpGet(web + "/api/errors?" + url.Values{}.Encode())
	if err != nil {
		return nil, err
	}
	var es []apiError
	if err := json.Unmarshal([]byte(body), &es); status != http.StatusOK || err != nil {
		return nil, fmt.Errorf("/api/errors: %d %v", status, err)
	}
	return es, nil
}

var probe = &http.Client{Timeout: 60 * time.Second}

func httpGet(u string) (int, string, error) {
	resp, err := probe.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
