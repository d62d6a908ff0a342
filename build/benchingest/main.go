// Command benchingest measures, side by side on one machine, how many MQTT
// messages per second Apiary stores and how many a Debian Mosquitto moves
// from the same publishers to one counting subscriber.
//
//	go run ./build/benchingest -n 200000 -qos1-n 40000 -runs 3
//
// Scenarios:
//
//   - QoS 0: one paho publisher at full speed. Apiary: from the first publish
//     until the store's Stats().ReadingsStored reaches n. Mosquitto: until a
//     paho subscriber on "#" (QoS 0) has received n. Either stops early when
//     nothing moves for -stall; the rate is then over what arrived, up to the
//     last progress, and the loss is reported.
//   - QoS 1: -qos1-publishers paho clients (one goroutine and one client id
//     each, like devices), each waiting for its PUBACK before the next
//     publish. Apiary acknowledges only after the durable write (sync =
//     "always"). Mosquitto: until the subscriber (QoS 1) has received all.
//
// Apiary runs in this process (appliance.Open/Run, a fresh temp data dir per
// run, the default configuration); Mosquitto is a child process (a fresh
// one per run). The publishers and the subscriber run in this process in
// both cases. Runs alternate Apiary/Mosquitto (ABBA order: A M, M A, A M...)
// so that drift of a shared machine hits both alike.
//
// Progress goes to stderr; the markdown section to stdout (and -o FILE).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/internal/benchenv"
	"github.com/apiary-hive/apiary/internal/mosquitto"
)

var (
	flagN          = flag.Int("n", 200000, "messages in the QoS 0 scenario (one publisher)")
	flagQoS1N      = flag.Int("qos1-n", 40000, "messages in the QoS 1 scenario (all publishers together)")
	flagPubs       = flag.Int("qos1-publishers", 16, "publishers (clients) in the QoS 1 scenario")
	flagRuns       = flag.Int("runs", 3, "runs of each scenario on each broker")
	flagOut        = flag.String("o", "", "also write the markdown section to this file")
	flagCPUProfile = flag.String("cpuprofile", "", "write a CPU profile of the first Apiary run of each scenario: FILE gets the scenario name inserted (cpu.pprof -> cpu.qos0.pprof, cpu.qos1.pprof)")
	flagDir        = flag.String("dir", "", "parent directory of the temp data directories (default: $TMPDIR); put it on the disk you want to measure")
	flagStall      = flag.Duration("stall", 10*time.Second, "give up waiting when no message arrives for this long")
	flagPoll       = flag.Duration("poll", 2*time.Millisecond, "how often to poll Apiary's Stats() in the QoS 0 scenario")
	flagMosquitto  = flag.String("mosquitto", "", "mosquitto binary (default: found on PATH or in /usr/sbin)")
	flagOnly       = flag.String("only", "", "run only these scenarios (comma-separated: qos0,qos1)")
	flagVia        = flag.String("via", "", "the script that runs this program, named next to the command in the report")
	flagSync       = flag.String("sync", "always", "Apiary's store.sync for the runs: \"always\" (the default configuration, what the targets are about) or an interval like \"1s\", to see what the fsyncs cost")
)

type scenario struct {
	key    string // qos0, qos1
	title  string
	qos    byte
	n      int
	pubs   int
	target float64 // Apiary/Mosquitto ratio of medians to reach
}

type result struct {
	sent    int64         // publishes that paho accepted
	done    int64         // stored (Apiary) or received (Mosquitto)
	pubErrs int64         // publishes paho reported as failed
	elapsed time.Duration // first publish until the last message counted
	stalled bool          // gave up after -stall without progress
	err     error         // the run failed
}

func (r result) rate() float64 {
	if r.elapsed <= 0 || r.done == 0 {
		return 0
	}
	return float64(r.done) / r.elapsed.Seconds()
}

func main() {
	flag.Parse()
	if *flagRuns < 1 || *flagN < 1 || *flagQoS1N < 1 || *flagPubs < 1 {
		fatalf("-runs, -n, -qos1-n and -qos1-publishers must be positive")
	}
	bin := *flagMosquitto
	if bin == "" {
		var err error
		if bin, err = mosquitto.Binary(); err != nil {
			fatalf("mosquitto not found (apt-get install mosquitto, or build/bench-ingest.sh): %v", err)
		}
	}
	if cfg := appliance.DefaultConfig(); cfg.Store.Sync != "always" {
		fatalf("the default configuration has sync = %q; this benchmark measures sync = \"always\"", cfg.Store.Sync)
	}
	if cfg := appliance.DefaultConfig(); *flagSync != cfg.Store.Sync {
		cfg.Store.Sync = *flagSync
		if err := cfg.Validate(); err != nil {
			fatalf("-sync %q: %v", *flagSync, err)
		}
		progress("NOTE: Apiary runs with sync = %q, not the default \"always\"", *flagSync)
	}

	all := []scenario{
		{key: "qos0", title: fmt.Sprintf("QoS 0, 1 publisher, %d msgs", *flagN), qos: 0, n: *flagN, pubs: 1, target: 1.2},
		{key: "qos1", title: fmt.Sprintf("QoS 1, %d publishers waiting for PUBACK, %d msgs", *flagPubs, *flagQoS1N), qos: 1, n: *flagQoS1N, pubs: *flagPubs, target: 1.0},
	}
	var scenarios []scenario
	for _, sc := range all {
		if *flagOnly == "" || containsWord(*flagOnly, sc.key) {
			scenarios = append(scenarios, sc)
		}
	}
	if len(scenarios) == 0 {
		fatalf("-only %q names no scenario (qos0, qos1)", *flagOnly)
	}

	started := time.Now()
	results := map[string]map[string][]result{} // scenario key -> system -> runs
	for _, sc := range scenarios {
		results[sc.key] = map[string][]result{}
		for run := 1; run <= *flagRuns; run++ {
			order := []string{"Apiary", "Mosquitto"}
			if run%2 == 0 {
				order = []string{"Mosquitto", "Apiary"}
			}
			for _, sys := range order {
				runtime.GC()
				progress("%s run %d/%d: %s ...", sc.key, run, *flagRuns, sys)
				var r result
				if sys == "Apiary" {
					profile := ""
					if *flagCPUProfile != "" && run == 1 {
						profile = profileName(*flagCPUProfile, sc.key)
					}
					r = runApiary(sc, run, profile)
				} else {
					r = runMosquitto(sc, run, bin)
				}
				results[sc.key][sys] = append(results[sc.key][sys], r)
				if r.err != nil {
					progress("%s run %d: %s FAILED: %v", sc.key, run, sys, r.err)
				} else {
					progress("%s run %d: %s %s", sc.key, run, sys, describe(r))
				}
			}
		}
	}

	md := report(scenarios, results, bin, started)
	fmt.Print(md)
	if *flagOut != "" {
		if err := os.WriteFile(*flagOut, []byte(md), 0o644); err != nil {
			fatalf("write %s: %v", *flagOut, err)
		}
		progress("wrote %s", *flagOut)
	}
}

// ---------------------------------------------------------------- Apiary

func runApiary(sc scenario, run int, profile string) (res result) {
	dir, err := os.MkdirTemp(*flagDir, "apiary-bench-")
	if err != nil {
		return result{err: err}
	}
	defer os.RemoveAll(dir)

	cfg := appliance.DefaultConfig()
	cfg.DataDir = dir
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.MQTT.Broker = ""
	cfg.Store.Sync = *flagSync
	log := slog.New(quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
	app, err := appliance.Open(cfg, appliance.Build{Version: "bench"}, log)
	if err != nil {
		return result{err: err}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && res.err == nil {
			res.err = fmt.Errorf("apiary Run: %w", err)
		}
	}()
	if err := waitHealthy("http://" + app.HTTPAddr().String() + "/healthz"); err != nil {
		return result{err: err}
	}
	broker := "tcp://" + app.MQTTAddr().String()
	st := app.Store()

	pubs, err := connectPublishers(broker, fmt.Sprintf("apiary-%s-r%d", sc.key, run), sc.pubs)
	defer disconnectAll(pubs)
	if err != nil {
		return result{err: err}
	}
	base := st.Stats().ReadingsStored
	stored := func() int64 { return st.Stats().ReadingsStored - base }

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return result{err: err}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return result{err: err}
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
			progress("CPU profile of this run in %s", profile)
		}()
	}

	switch sc.qos {
	case 0:
		start := time.Now()
		var pubRes result
		pubDone := make(chan struct{})
		go func() {
			pubRes = publishQoS0(pubs[0], sc.n)
			close(pubDone)
		}()
		n, last, stalled := waitFor(stored, int64(sc.n), *flagPoll, pubDone)
		<-pubDone
		res = result{sent: pubRes.sent, pubErrs: pubRes.pubErrs, done: n, elapsed: last.Sub(start), stalled: stalled}
	default:
		start := time.Now()
		pubRes := publishQoS1(pubs, sc.n)
		end := time.Now()
		res = result{sent: pubRes.sent, pubErrs: pubRes.pubErrs, done: stored(), elapsed: end.Sub(start)}
		if res.done != res.sent-res.pubErrs {
			res.err = fmt.Errorf("%d messages acknowledged but %d stored", res.sent-res.pubErrs, res.done)
		}
	}
	return res
}

// waitHealthy polls the appliance's /healthz until it answers 200.
func waitHealthy(url string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				http.DefaultClient.CloseIdleConnections()
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("apiary did not become healthy")
}

// quietHandler drops the warning every start prints (no authentication
// configured) and mochi's warning for each client that disconnects: they say
// nothing about the benchmark.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "no authentication configured") {
		return nil
	}
	closed := false // mochi's note that a disconnected client's socket is closed
	r.Attrs(func(a slog.Attr) bool {
		closed = a.Key == "error" && strings.Contains(a.Value.String(), "use of closed network connection")
		return !closed
	})
	if closed {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

// ---------------------------------------------------------------- Mosquitto

func runMosquitto(sc scenario, run int, bin string) (res result) {
	dir, err := os.MkdirTemp(*flagDir, "mosquitto-bench-")
	if err != nil {
		return result{err: err}
	}
	defer os.RemoveAll(dir)
	b, err := mosquitto.Run(bin, dir)
	if err != nil {
		return result{err: err}
	}
	defer b.Stop()
	broker := "tcp://" + b.Addr

	// The subscriber does nothing but count, and note when the count moved.
	var received atomic.Int64
	var lastNano atomic.Int64
	sub, err := connect(broker, fmt.Sprintf("mosquitto-%s-r%d-sub", sc.key, run), func(o *paho.ClientOptions) {
		o.SetOrderMatters(true)
	})
	if err != nil {
		return result{err: fmt.Errorf("subscriber: %w", err)}
	}
	defer sub.Disconnect(250)
	tok := sub.Subscribe("#", sc.qos, func(paho.Client, paho.Message) {
		received.Add(1)
		lastNano.Store(time.Now().UnixNano())
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return result{err: fmt.Errorf("subscribe: %v", tok.Error())}
	}

	pubs, err := connectPublishers(broker, fmt.Sprintf("mosquitto-%s-r%d", sc.key, run), sc.pubs)
	defer disconnectAll(pubs)
	if err != nil {
		return result{err: err}
	}

	start := time.Now()
	var pubRes result
	pubDone := make(chan struct{})
	go func() {
		if sc.qos == 0 {
			pubRes = publishQoS0(pubs[0], sc.n)
		} else {
			pubRes = publishQoS1(pubs, sc.n)
		}
		close(pubDone)
	}()
	n, _, stalled := waitFor(received.Load, int64(sc.n), time.Millisecond, pubDone)
	<-pubDone
	last := time.Unix(0, lastNano.Load())
	res = result{sent: pubRes.sent, pubErrs: pubRes.pubErrs, done: n, elapsed: last.Sub(start), stalled: stalled}
	if sc.qos == 1 && n != pubRes.sent-pubRes.pubErrs {
		res.err = fmt.Errorf("QoS 1: %d messages acknowledged, %d received", pubRes.sent-pubRes.pubErrs, n)
	}
	return res
}

// ---------------------------------------------------------------- clients

func connect(broker, id string, edit func(*paho.ClientOptions)) (paho.Client, error) {
	o := paho.NewClientOptions().
		AddBroker(broker).
		SetClientID(id).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(60 * time.Second).
		SetConnectTimeout(10 * time.Second)
	if edit != nil {
		edit(o)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return nil, fmt.Errorf("connect %s: timeout", id)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect %s: %w", id, err)
	}
	return c, nil
}

func connectPublishers(broker, prefix string, n int) ([]paho.Client, error) {
	var cs []paho.Client
	for i := 1; i <= n; i++ {
		c, err := connect(broker, fmt.Sprintf("%s-pub-%d", prefix, i), nil)
		if err != nil {
			return cs, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func disconnectAll(cs []paho.Client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Disconnect(250)
		}()
	}
	wg.Wait()
}

func topic(node int) string {
	return fmt.Sprintf("hiveeyes/bench/site-1/node-%d/data.json", node)
}

// publishQoS0 publishes n messages as fast as paho takes them (QoS 0:
// nothing to wait for but the socket).
func publishQoS0(c paho.Client, n int) result {
	var r result
	t := topic(1)
	var tok paho.Token
	for i := 0; i < n; i++ {
		tok = c.Publish(t, 0, false, payload(nil, 1, i))
		r.sent++
		select {
		case <-tok.Done():
			if tok.Error() != nil {
				r.pubErrs++
			}
		default:
		}
	}
	if tok != nil {
		tok.WaitTimeout(30 * time.Second)
	}
	return r
}

// publishQoS1 publishes n messages from len(cs) publishers together, each
// waiting for its PUBACK before the next.
func publishQoS1(cs []paho.Client, n int) result {
	var sent, errs atomic.Int64
	var wg sync.WaitGroup
	for p, c := range cs {
		count := n / len(cs)
		if p < n%len(cs) {
			count++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := topic(p + 1)
			for i := 0; i < count; i++ {
				tok := c.Publish(t, 1, false, payload(nil, p+1, i))
				sent.Add(1)
				if !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return result{sent: sent.Load(), pubErrs: errs.Load()}
}

// payload is a 10-field hive reading whose values vary with node and seq.
func payload(b []byte, node, seq int) []byte {
	k := float64((seq*7919 + node*104729) % 10000) // 0..9999, scrambled
	f := func(name string, v float64, prec int) {
		if len(b) == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendFloat(b, v, 'f', prec, 64)
	}
	f("weight", 30+k/1000, 2)
	f("airtemperature", 10+k/500, 1)
	f("airhumidity", 40+k/250, 1)
	f("broodtemperature", 33+k/5000, 2)
	f("entrytemperature", 20+k/700, 1)
	f("battery_level", float64(50+seq%50), 0)
	f("voltage", 3.5+k/20000, 3)
	f("memory_free", float64(30000+seq%10000), 0)
	f("rssi", float64(-40-seq%50), 0)
	f("uptime", float64(100000+seq), 0)
	return append(b, '}')
}

// waitFor polls count until it reaches target, or until it has not moved
// for -stall (after the publisher finished, or -stall after that at most).
// It returns the count, the time it last moved and whether it stalled.
func waitFor(count func() int64, target int64, poll time.Duration, pubDone <-chan struct{}) (int64, time.Time, bool) {
	last := time.Now()
	lastN := count()
	lastReport := last
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for range tick.C {
		now := time.Now()
		n := count()
		if n != lastN {
			lastN, last = n, now
		}
		if n >= target {
			return n, last, false
		}
		if now.Sub(last) >= *flagStall {
			select {
			case <-pubDone:
				return n, last, true
			default: // the publisher is still blocked: keep waiting
			}
		}
		if now.Sub(lastReport) >= 5*time.Second {
			progress("  %d/%d", n, target)
			lastReport = now
		}
	}
	panic("unreachable")
}

// ---------------------------------------------------------------- report

func describe(r result) string {
	s := fmt.Sprintf("%s msg/s (%d of %d in %s", num(r.rate()), r.done, r.sent, r.elapsed.Round(time.Millisecond))
	if r.pubErrs > 0 {
		s += fmt.Sprintf(", %d publish errors", r.pubErrs)
	}
	if r.stalled {
		s += fmt.Sprintf(", stalled: %d lost", r.sent-r.done)
	}
	return s + ")"
}

type summary struct {
	med, min, max float64
	ok            int
}

func summarize(rs []result) summary {
	var rates []float64
	for _, r := range rs {
		if r.err == nil && r.done > 0 {
			rates = append(rates, r.rate())
		}
	}
	if len(rates) == 0 {
		return summary{}
	}
	sort.Float64s(rates)
	med := rates[len(rates)/2]
	if len(rates)%2 == 0 {
		med = (rates[len(rates)/2-1] + rates[len(rates)/2]) / 2
	}
	return summary{med: med, min: rates[0], max: rates[len(rates)-1], ok: len(rates)}
}

func report(scenarios []scenario, results map[string]map[string][]result, bin string, started time.Time) string {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	if *flagSync == "always" {
		w("## Ingest: Apiary vs Mosquitto\n\n")
	} else {
		w("## Ingest: Apiary vs Mosquitto, sync = %s\n\n", *flagSync)
	}
	if *flagSync == "always" {
		w("Messages per second that Apiary **stores** (embedded mochi-mqtt broker, Pebble store, default configuration: `sync = \"always\"`, a QoS 1 PUBACK only after the fsync) ")
	} else {
		w("Messages per second that Apiary **stores** (embedded mochi-mqtt broker, Pebble store, default configuration but **`sync = %q`**: no fsync per write) ", *flagSync)
	}
	w("against the messages per second a Debian Mosquitto **moves** from the same paho publishers to one paho subscriber on `#` that only counts. ")
	w("Payload: 10-field JSON hive readings (~200 bytes, values vary per message) on `hiveeyes/bench/site-1/node-<n>/data.json`. ")
	w("QoS 0: one publisher at full speed; Apiary until `Stats().ReadingsStored` reaches n, Mosquitto until the subscriber (QoS 0) has received n (or no progress for %s: then the rate is over what arrived). ", *flagStall)
	w("QoS 1: %d publishers (one client each), each waiting for its PUBACK before the next; Apiary until the last PUBACK, Mosquitto until the subscriber (QoS 1) has received all. ", *flagPubs)
	w("Apiary, the publishers and the subscriber run in one Go process, Mosquitto in its own; all on one machine. ")
	w("Mosquitto (`persistence true`, clean sessions) writes none of these messages to disk before passing them on. ")
	w("%d runs each, alternating (ABBA); median and min–max.\n\n", *flagRuns)

	w("| Scenario | Apiary msg/s, median (min–max) | Mosquitto msg/s, median (min–max) | Apiary ÷ Mosquitto | Target | Result |\n")
	w("|---|---:|---:|---:|---|---|\n")
	for _, sc := range scenarios {
		a, m := summarize(results[sc.key]["Apiary"]), summarize(results[sc.key]["Mosquitto"])
		ratio, verdict := "–", "n/a"
		if a.ok > 0 && m.ok > 0 && m.med > 0 {
			r := a.med / m.med
			ratio = fmt.Sprintf("%.2f×", r)
			verdict = "**FAIL**"
			if r >= sc.target {
				verdict = "pass"
			}
		}
		w("| %s | %s | %s | %s | ≥ %.1f× | %s |\n", sc.title, cell(a, *flagRuns), cell(m, *flagRuns), ratio, sc.target, verdict)
	}

	w("\nRuns:\n\n")
	w("| Scenario | Run | System | Sent | Stored / received | Lost | Elapsed | msg/s |\n")
	w("|---|---:|---|---:|---:|---:|---:|---:|\n")
	for _, sc := range scenarios {
		for _, sys := range []string{"Apiary", "Mosquitto"} {
			for i, r := range results[sc.key][sys] {
				if r.err != nil {
					w("| %s | %d | %s | %d | %d | – | – | failed: %s |\n", sc.key, i+1, sys, r.sent, r.done, mdEscape(r.err.Error()))
					continue
				}
				lost := r.sent - r.pubErrs - r.done
				w("| %s | %d | %s | %d | %d | %d | %s | %s |\n", sc.key, i+1, sys, r.sent, r.done, lost, r.elapsed.Round(time.Millisecond), num(r.rate()))
			}
		}
	}

	w("\nMachine: %s, %s/%s, %d CPUs (nproc %s), %s; %s. Date: %s (took %s).\n",
		benchenv.CPUModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), benchenv.NProc(), benchenv.MemTotal(), mosquittoVersion(bin),
		started.UTC().Format("2006-01-02 15:04 MST"), time.Since(started).Round(time.Second))
	w("Apiary: %s. Go: %s; %s.\n", benchenv.Revision(), runtime.Version(), benchenv.ModVersions(modules))
	if *flagCPUProfile != "" {
		w("CPU profiling was on for the first Apiary run of each scenario (a few per cent slower).\n")
	}
	if *flagVia != "" {
		w("\nCommand: `%s`, which runs `%s`\n", *flagVia, command())
	} else {
		w("\nCommand: `%s`\n", command())
	}
	return b.String()
}

func cell(s summary, runs int) string {
	if s.ok == 0 {
		return "failed"
	}
	c := fmt.Sprintf("%s (%s–%s)", num(s.med), num(s.min), num(s.max))
	if s.ok < runs {
		c += fmt.Sprintf(" [%d of %d runs]", s.ok, runs)
	}
	return c
}

// num formats a rate with thousands separators.
func num(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func command() string {
	args := []string{"go", "run", "./build/benchingest"}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "o" && f.Name != "via" { // where the report goes does not change it
			args = append(args, "-"+f.Name, f.Value.String())
		}
	})
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"$") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(args, " ")
}

func mosquittoVersion(bin string) string {
	out, _ := exec.Command(bin, "-h").CombinedOutput() // exits non-zero after printing the version
	first, _, _ := strings.Cut(string(out), "\n")
	if first = strings.TrimSpace(first); first == "" {
		return bin
	}
	return first
}

// ---------------------------------------------------------------- helpers

func profileName(file, key string) string {
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "." + key + ext
}

func containsWord(list, w string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == w {
			return true
		}
	}
	return false
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchingest: "+format+"\n", args...)
	os.Exit(1)
}

// modules are the dependencies whose versions the report names.
var modules = map[string]string{
	"github.com/mochi-mqtt/server/v2":     "mochi-mqtt",
	"github.com/cockroachdb/pebble/v2":    "pebble",
	"github.com/eclipse/paho.mqtt.golang": "paho",
}
