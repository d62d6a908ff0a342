// Command soak runs the real apiary binary under the traffic of a
// mixed apiary for a while and checks that it stored exactly what the
// devices sent, without error-log entries, and how much memory it needed.
//
//	build/soak.sh                                  # 50 nodes, 10 minutes, 10× speed
//	go run ./build/soak -nodes 50 -duration 1m -speed 10 -seed 1
//
// It builds ./cmd/apiary into a temp directory and starts it with a fresh
// data directory on free loopback ports (`apiary serve --data DIR --http
// 127.0.0.1:0 --mqtt 127.0.0.1:0`), waiting for "apiary ready" and a 200
// from /healthz. Then -nodes emulated devices, dealt round-robin to the
// kinds in kinds.go (Hiveeyes node-wifi-mqtt, BERadio gateway, Terkin over
// MQTT, Tasmota, ESPHome, Homie v4, Open Hive, TerkinData over GPRS, a
// GPRS backlog, Telegraf, TTN v3), report once per -interval of device
// time for -duration of wall time, their clocks running -speed times
// faster than the wall clock: a node reporting every 60 s reports every
// 6 s at 10×. Devices that send their own time start -duration×-speed
// in the past, so that their last reading is not in the future; the
// others get their time of arrival. -broken adds nodes that send only
// truncated JSON. Everything random (values, failed sensors, the nodes'
// phases) comes from -seed.
//
// After a drain (until the store's readings counter reaches what was
// sent, at most -drain), it compares, exactly:
//
//   - per kind, the rows and values of the JSON export of every channel
//     the kind wrote to against what the nodes sent (see ledger.go for what
//     a row is), and that no other channel appeared;
//   - in total, apiary_readings_stored_total (GET /metrics) against the
//     readings sent;
//   - the error log (GET /api/errors) against the entries the traffic
//     causes by design (BERadio's per-value topics, the broken nodes): any
//     other entry, or a different count, fails;
//
// and reports the peak RSS of the apiary process (VmHWM at the end, and
// the largest VmRSS sampled every second), its CPU time, the ingest rate,
// its log lines at level ERROR and WARN, and how long the graceful stop
// took. The report is Markdown on stdout (and -o FILE); progress goes to
// stderr. The exit status is 1 when anything differs.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apiary-hive/apiary/internal/benchenv"
)

var (
	flagNodes    = flag.Int("nodes", 50, "emulated nodes of the valid kinds, dealt round-robin")
	flagDuration = flag.Duration("duration", 10*time.Minute, "wall time the nodes report for")
	flagSpeed    = flag.Float64("speed", 10, "how much faster the devices' clocks run than the wall clock")
	flagInterval = flag.Duration("interval", time.Minute, "each node's reporting interval in device time")
	flagSeed     = flag.Uint64("seed", 1, "seed of everything random: values, failed sensors, the nodes' phases")
	flagBroken   = flag.Int("broken", 1, "extra nodes that send only truncated JSON (reported separately)")
	flagKinds    = flag.String("kinds", "", "only these kinds (comma-separated; default all)")
	flagDrain    = flag.Duration("drain", 30*time.Second, "after the run, wait at most this long for the store to catch up")
	flagApiary   = flag.String("apiary", "", "use this apiary binary instead of building ./cmd/apiary")
	flagDir      = flag.String("dir", "", "parent of the temp directory (binary, data, log); default $TMPDIR")
	flagKeep     = flag.Bool("keep", false, "keep the temp directory (it is kept anyway when the soak fails)")
	flagOut      = flag.String("o", "", "also write the report to this file")
	flagVia      = flag.String("via", "", "the script that runs this program, named in the report")
	flagList     = flag.Bool("list", false, "describe the node kinds and exit")
)

func main() {
	flag.Parse()
	if *flagList {
		for _, k := range kinds {
			fmt.Printf("%s (%s): %s.\n", k.name, k.transport, k.about)
			if k.note != "" {
				fmt.Printf("  Counting: %s.\n", k.note)
			}
		}
		return
	}
	if *flagNodes < 0 || *flagBroken < 0 || *flagNodes+*flagBroken == 0 || *flagDuration <= 0 || *flagSpeed <= 0 || *flagInterval <= 0 {
		fatalf("-nodes/-broken, -duration, -speed and -interval must be positive")
	}
	if *flagInterval < time.Duration(*flagSpeed*float64(time.Millisecond)) {
		fatalf("-interval / -speed is below a millisecond")
	}
	valid, err := selectKinds(*flagKinds)
	if err != nil {
		fatalf("%v", err)
	}
	os.Exit(run(valid))
}

func selectKinds(list string) ([]kindSpec, error) {
	var out []kindSpec
	if list == "" {
		for _, k := range kinds {
			if !k.broken {
				out = append(out, k)
			}
		}
		return out, nil
	}
	for _, name := range strings.Split(list, ",") {
		k, ok := kindByName(strings.TrimSpace(name))
		if !ok || k.broken {
			var names []string
			for _, k := range kinds {
				if !k.broken {
					names = append(names, k.name)
				}
			}
			return nil, fmt.Errorf("-kinds: unknown kind %q (have %s)", name, strings.Join(names, ", "))
		}
		out = append(out, k)
	}
	return out, nil
}

// run is the whole soak; it returns the exit status.
func run(valid []kindSpec) int {
	started := time.Now()
	tmp, err := os.MkdirTemp(*flagDir, "apiary-soak-")
	if err != nil {
		fatalf("%v", err)
	}
	failed := true
	defer func() {
		if failed || *flagKeep {
			progress("kept %s (binary, data, apiary.log)", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()

	bin := *flagApiary
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			fatalf("%v", err)
		}
		progress("building ./cmd/apiary ...")
		if bin, err = buildApiary(root, tmp); err != nil {
			os.RemoveAll(tmp)
			fatalf("%v", err)
		}
	}
	a, err := startApiary(bin, filepath.Join(tmp, "data"), filepath.Join(tmp, "apiary.log"))
	if err != nil {
		fatalf("%v", err)
	}
	defer func() {
		select {
		case <-a.exited:
		default:
			a.kill()
		}
	}()
	progress("apiary (pid %d) ready: web %s, mqtt %s", a.pid, a.web, a.mqtt)
	rssIdle, _ := benchenv.ProcStatus(a.pid)
	cpu0, _ := cpuSeconds(a.pid)
	rss := sampleRSS(a.pid)

	// Stop early (and still report) on Ctrl-C.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	l := newLedger()
	e := &env{web: a.web, mqtt: a.mqtt, ledger: l}
	var nodes []*node
	deal := func(k kindSpec, i int) {
		n := &node{idx: i, kind: k.name, env: e, rng: rand.New(rand.NewPCG(*flagSeed, uint64(i))),
			net: "soak", gw: fmt.Sprintf("site-%d", i%5), name: fmt.Sprintf("%s-%d", k.name, i)}
		nodes = append(nodes, n)
		l.addNode(k.name)
	}
	for i := 0; i < *flagNodes; i++ {
		deal(valid[i%len(valid)], i)
	}
	broken, _ := kindByName("broken")
	for i := 0; i < *flagBroken; i++ {
		deal(broken, *flagNodes+i)
	}

	wallInterval := time.Duration(float64(*flagInterval) / *flagSpeed)
	start := time.Now()
	deadline := start.Add(*flagDuration)
	// The device clocks: the run's device time ends at the start of the
	// run, so that no device time is in the future.
	deviceSpan := time.Duration(float64(*flagDuration) * *flagSpeed)
	t0 := start.Add(-deviceSpan - *flagInterval).Truncate(time.Second)
	progress("%d nodes (%d broken), %s at %g× (a report every %s of device time = %s wall), seed %d",
		len(nodes), *flagBroken, *flagDuration, *flagSpeed, *flagInterval, wallInterval, *flagSeed)

	var wg sync.WaitGroup
	for _, n := range nodes {
		k, _ := kindByName(n.kind)
		offset := time.Duration(n.rng.Int64N(int64(wallInterval)))
		wg.Go(func() { runNode(ctx, n, k.newDevice(n), start, deadline, offset, wallInterval, t0) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(30 * time.Second)
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			msgs, _, errs := l.totals()
			stored, _ := storedReadings(a.web)
			progress("%s: %d messages sent (%d send errors), store counter %d, peak RSS %s",
				time.Since(start).Round(time.Second), msgs, errs, stored, mib(rss.current()))
		}
	}
	tick.Stop()
	runTime := time.Since(start)
	interrupted := ctx.Err() != nil
	cancel()

	// Drain: QoS 0 and retained messages are stored asynchronously.
	l.mu.Lock()
	wantWrites := l.writes
	l.mu.Unlock()
	drainStart := time.Now()
	var stored int64
	for last, lastMove := int64(-1), time.Now(); ; time.Sleep(200 * time.Millisecond) {
		stored, err = storedReadings(a.web)
		if err != nil {
			progress("drain: %v", err)
		}
		if stored != last {
			last, lastMove = stored, time.Now()
		}
		if stored >= wantWrites || time.Since(drainStart) >= *flagDrain || time.Since(lastMove) >= 10*time.Second {
			break
		}
	}
	drained := time.Since(drainStart)
	time.Sleep(time.Second) // a write beyond what was sent would show now
	stored, _ = storedReadings(a.web)
	progress("drained in %s: store counter %d, readings sent %d", drained.Round(time.Millisecond), stored, wantWrites)
	cpu1, _ := cpuSeconds(a.pid)
	afterTraffic, _ := benchenv.ProcStatus(a.pid)

	r := verify(a, l)
	r.stored, r.wantWrites = stored, wantWrites
	r.runTime, r.drain, r.interrupted = runTime, drained, interrupted
	r.cpu0, r.cpu1 = cpu0, cpu1
	final, _ := benchenv.ProcStatus(a.pid)
	rss.finish()
	r.idle, r.afterTraffic, r.final, r.rss = rssIdle, afterTraffic, final, rss
	r.stopTook, r.stopErr = a.stop(3 * time.Minute)
	r.errorLines, r.warnLines = a.logLines("ERROR"), a.logLines("WARN")
	r.started = started

	md, ok := r.report()
	fmt.Print(md)
	if *flagOut != "" {
		if err := os.WriteFile(*flagOut, []byte(md), 0o644); err != nil {
			progress("write %s: %v", *flagOut, err)
		}
	}
	if !ok {
		return 1
	}
	failed = false
	return 0
}

// runNode connects the node at its phase offset and has it report once
// per wall interval until the deadline; k-th report's device time is
// t0 + offset×speed + k×interval.
func runNode(ctx context.Context, n *node, d device, start, deadline time.Time, offset, wallInterval time.Duration, t0 time.Time) {
	if !sleepUntil(ctx, start.Add(offset)) {
		return
	}
	if err := d.connect(); err != nil {
		n.env.ledger.failed(n.kind, err) // report() tries again
	}
	devStart := t0.Add(time.Duration(float64(offset) * *flagSpeed)).Truncate(time.Second)
	for k := 0; ; k++ {
		at := start.Add(offset + time.Duration(k)*wallInterval)
		if !at.Before(deadline) || !sleepUntil(ctx, at) {
			break
		}
		d.report(k, devStart.Add(time.Duration(k)**flagInterval))
	}
	d.close()
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// --------------------------------------------------------------- verify

// kindResult is what one kind sent and what the appliance holds of it.
type kindResult struct {
	name                 string
	wantRows, gotRows    int64
	wantValues, gotValue int64
	errs                 []string // export failures
}

type errResult struct {
	key        errKey
	owner, why string
	want, got  int64
	message    string
}

type result struct {
	l           *ledger
	kinds       []kindResult
	extraChans  []string // channels nobody sent to
	expected    []errResult
	unexpected  []apiError
	broken      []errResult
	apiErrCount int
	exports     int

	stored, wantWrites int64
	runTime, drain     time.Duration
	interrupted        bool
	cpu0, cpu1         float64
	idle, final        map[string]int64
	afterTraffic       map[string]int64
	rss                *rssSampler
	stopTook           time.Duration
	stopErr            error
	errorLines         []string
	warnLines          []string
	started            time.Time
	verifyErr          []string
}

func verify(a *apiary, l *ledger) *result {
	r := &result{l: l}
	order := []string{}
	for _, k := range kinds {
		order = append(order, k.name)
	}
	seen := map[string]bool{}
	for _, name := range l.kindNames(order) {
		kr := kindResult{name: name}
		for _, ch := range l.channelsOf(name) {
			seen[ch] = true
			l.mu.Lock()
			c := l.chans[ch]
			kr.wantRows += c.rows()
			kr.wantValues += c.values()
			l.mu.Unlock()
			rows, values, err := exportCount(a.web, ch)
			r.exports++
			if err != nil {
				kr.errs = append(kr.errs, err.Error())
			}
			kr.gotRows += rows
			kr.gotValue += values
		}
		r.kinds = append(r.kinds, kr)
	}
	chans, err := listChannels(a.web)
	if err != nil {
		r.verifyErr = append(r.verifyErr, err.Error())
	}
	for _, ch := range chans {
		if !seen[ch] {
			rows, _, _ := exportCount(a.web, ch)
			r.exports++
			r.extraChans = append(r.extraChans, fmt.Sprintf("%s (%d rows)", ch, rows))
		}
	}

	es, err := errorLog(a.web)
	if err != nil {
		r.verifyErr = append(r.verifyErr, err.Error())
	}
	r.apiErrCount = len(es)
	got := map[errKey]apiError{}
	for _, e := range es {
		got[e.key()] = e
	}
	l.mu.Lock()
	var keys []errKey
	for k := range l.errs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].kind+keys[i].channelOrSource < keys[j].kind+keys[j].channelOrSource
	})
	for _, k := range keys {
		x := l.errs[k]
		er := errResult{key: k, owner: x.owner, why: x.why, want: x.count}
		if e, ok := got[k]; ok {
			er.got, er.message = e.Count, e.Message
			delete(got, k)
		}
		if x.owner == "broken" {
			r.broken = append(r.broken, er)
		} else {
			r.expected = append(r.expected, er)
		}
	}
	l.mu.Unlock()
	for _, e := range es {
		if _, ok := got[e.key()]; ok {
			r.unexpected = append(r.unexpected, e)
		}
	}
	return r
}

// --------------------------------------------------------------- report

func (r *result) report() (string, bool) {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	ok := true
	check := func(good bool) string {
		if good {
			return "ok"
		}
		ok = false
		return "**DIFFERS**"
	}

	w("## Soak: %d nodes + %d broken, %s at %g× (%s device interval), seed %d\n\n", *flagNodes, *flagBroken, *flagDuration, *flagSpeed, *flagInterval, *flagSeed)
	if r.interrupted {
		ok = false
		w("**Interrupted** after %s.\n\n", r.runTime.Round(time.Second))
	}
	w("Sent vs stored, per kind. A reading is one timestamped row of a channel's JSON export; values are its non-null cells.\n\n")
	w("| kind | nodes | transport | messages | send errors | readings sent | rows expected | rows stored | values expected | values stored | result |\n")
	w("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	var tm, te, tw, twr, tgr, twv, tgv int64
	var notes []string
	var empties []string
	r.rss.mu.Lock()
	defer r.rss.mu.Unlock()
	for _, kr := range r.kinds {
		spec, _ := kindByName(kr.name)
		ks := r.kindStats(kr.name)
		good := kr.wantRows == kr.gotRows && kr.wantValues == kr.gotValue && ks.sendErrs == 0 && len(kr.errs) == 0
		if spec.broken {
			good = kr.gotRows == 0 && ks.sendErrs == 0
		}
		w("| %s | %d | %s | %d | %d | %d | %d | %d | %d | %d | %s |\n", kr.name, ks.nodes, spec.transport, ks.messages, ks.sendErrs,
			ks.writes, kr.wantRows, kr.gotRows, kr.wantValues, kr.gotValue, check(good))
		if ks.readings > ks.writes {
			empties = append(empties, fmt.Sprintf("%s: %d more readings had no value (a failed sensor's nan), nothing to store", kr.name, ks.readings-ks.writes))
		}
		if ks.sendErrs > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d send errors, the last: %s", kr.name, ks.sendErrs, ks.lastErr))
		}
		for _, e := range kr.errs {
			notes = append(notes, kr.name+": "+e)
		}
		if spec.broken {
			continue
		}
		tm += ks.messages
		te += ks.sendErrs
		tw += ks.writes
		twr += kr.wantRows
		tgr += kr.gotRows
		twv += kr.wantValues
		tgv += kr.gotValue
	}
	w("| **all valid** | %d | | %d | %d | %d | %d | %d | %d | %d | %s |\n\n", *flagNodes, tm, te, tw, twr, tgr, twv, tgv,
		check(twr == tgr && twv == tgv && te == 0))

	w("Store counter `apiary_readings_stored_total`: %d, readings sent (each with at least one value): %d — %s.\n",
		r.stored, r.wantWrites, check(r.stored == r.wantWrites))
	if len(r.extraChans) > 0 {
		w("Channels nobody sent to — %s: %s.\n", check(false), strings.Join(r.extraChans, ", "))
	}
	for _, e := range empties {
		w("%s.\n", e)
	}
	for _, n := range notes {
		w("%s.\n", n)
	}

	w("\nError log (`GET /api/errors`): %d entries. Entries the traffic causes by design, grouped (each entry's count must match):\n\n", r.apiErrCount)
	w("| cause | entry kind | entries | count expected | count | result |\n|---|---|---:|---:|---:|---|\n")
	type group struct {
		cause, kind   string
		entries       int
		want, got     int64
		good          bool
		firstMismatch string
	}
	var groups []*group
	byCause := map[string]*group{}
	for _, e := range append(append([]errResult(nil), r.expected...), r.broken...) {
		cause := e.owner + ": " + e.why
		g := byCause[cause+"\x00"+e.key.kind]
		if g == nil {
			g = &group{cause: cause, kind: e.key.kind, good: true}
			byCause[cause+"\x00"+e.key.kind] = g
			groups = append(groups, g)
		}
		g.entries++
		g.want += e.want
		g.got += e.got
		if e.want != e.got {
			if g.good {
				g.firstMismatch = fmt.Sprintf("%s: %d, want %d", e.key.channelOrSource, e.got, e.want)
			}
			g.good = false
		}
	}
	for _, g := range groups {
		res := check(g.good)
		if !g.good {
			res += " (" + mdEscape(g.firstMismatch) + ")"
		}
		w("| %s | %s | %d | %d | %d | %s |\n", mdEscape(g.cause), g.kind, g.entries, g.want, g.got, res)
	}
	for _, e := range r.unexpected {
		w("| **unexpected**: %s %s: %s (excerpt %.60q) | %s | 1 | 0 | %d | %s |\n", mdEscape(e.Channel), mdEscape(e.Source), mdEscape(e.Message), e.Excerpt, e.Kind, e.Count, check(false))
	}
	if len(groups)+len(r.unexpected) == 0 {
		w("| (none) | | 0 | 0 | 0 | ok |\n")
	}
	w("\nValid traffic: %d unexpected entries (%s); by design: %d entries; the deliberately broken nodes: %d entries.\n",
		len(r.unexpected), check(len(r.unexpected) == 0), len(r.expected), len(r.broken))

	w("\nAppliance process:\n\n")
	w("* Peak RSS: VmHWM %s after the traffic, %s at the end (after the verification's %d exports); VmRSS sampled every second: peak %s (after %s), mean %s, %d samples; %s when ready, %s at the end.\n",
		mib(r.afterTraffic["VmHWM"]), mib(r.final["VmHWM"]), r.exports, mib(r.rss.peak), r.rss.peakAt.Round(time.Second),
		mib(r.rss.sum/int64(max(r.rss.n, 1))), r.rss.n, mib(r.idle["VmRSS"]), mib(r.final["VmRSS"]))
	secs := r.runTime.Seconds()
	w("* Ingest: %.1f readings/s stored on average over the %s run (%d readings, %d messages and requests: %.1f/s).\n",
		float64(r.stored)/secs, r.runTime.Round(time.Second), r.stored, tm+r.kindStats("broken").messages, float64(tm+r.kindStats("broken").messages)/secs)
	w("* CPU: %.1f s of user+system time during the run and the drain (%.1f%% of one core).\n",
		r.cpu1-r.cpu0, 100*(r.cpu1-r.cpu0)/(secs+r.drain.Seconds()))
	w("* Drain after the last report: %s. Graceful stop (SIGTERM): %s, %s.\n", r.drain.Round(time.Millisecond), r.stopTook.Round(time.Millisecond),
		map[bool]string{true: "exit status 0", false: fmt.Sprintf("**%v**", r.stopErr)}[r.stopErr == nil])
	if r.stopErr != nil {
		ok = false
	}
	w("* Log: %d lines at level ERROR (%s), %d at WARN%s.\n", len(r.errorLines), check(len(r.errorLines) == 0), len(r.warnLines), warnSummary(r.warnLines))
	for i, line := range r.errorLines {
		if i == 5 {
			w("  * ... %d more\n", len(r.errorLines)-5)
			break
		}
		w("  * `%s`\n", strings.ReplaceAll(line, "`", "'"))
	}
	for _, e := range r.verifyErr {
		w("* Verification failed: %s (%s).\n", e, check(false))
	}

	var counting []string
	for _, k := range kinds {
		if k.note != "" && r.kindStats(k.name).nodes > 0 {
			counting = append(counting, fmt.Sprintf("* %s: %s.\n", k.name, k.note))
		}
	}
	if len(counting) > 0 {
		w("\nCounting (see build/soak/kinds.go for each kind's wire behaviour):\n\n%s", strings.Join(counting, ""))
	}
	w("\nMachine: %s, %s/%s, %d CPUs, %s. Date: %s (took %s). Apiary: %s. Go: %s.\n",
		benchenv.CPUModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), benchenv.MemTotal(),
		r.started.UTC().Format("2006-01-02 15:04 MST"), time.Since(r.started).Round(time.Second), benchenv.Revision(), runtime.Version())
	if *flagVia != "" {
		w("Command: `%s`, which runs `%s`\n", *flagVia, command())
	} else {
		w("Command: `%s`\n", command())
	}
	verdict := "**PASS**: everything sent is stored, nothing else is, and the error log holds only what the traffic causes by design."
	if !ok {
		verdict = "**FAIL**: see the rows marked DIFFERS."
	}
	w("\nResult: %s\n", verdict)
	return b.String(), ok
}

// kindStats returns a copy of what the nodes of kind sent.
func (r *result) kindStats(name string) kindStats {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if k, ok := r.l.kinds[name]; ok {
		return *k
	}
	return kindStats{}
}

// warnSummary names the distinct messages of WARN lines with counts.
func warnSummary(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	counts := map[string]int{}
	for _, line := range lines {
		msg := line
		if _, m, ok := strings.Cut(line, "msg="); ok {
			msg = m
			if strings.HasPrefix(msg, `"`) {
				if end := strings.Index(msg[1:], `"`); end >= 0 {
					msg = msg[1 : end+1]
				}
			} else if f := strings.Fields(msg); len(f) > 0 {
				msg = f[0]
			}
		}
		counts[msg]++
	}
	var parts []string
	for m, n := range counts {
		parts = append(parts, fmt.Sprintf("%q ×%d", m, n))
	}
	sort.Strings(parts)
	return ": " + strings.Join(parts, ", ")
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func command() string {
	args := []string{"go", "run", "./build/soak"}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "o" && f.Name != "via" && f.Name != "keep" {
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

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s soak: "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	os.Exit(1)
}
