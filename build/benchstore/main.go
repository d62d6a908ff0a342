// Command benchstore measures Apiary's store side by side with InfluxDB 1.x
// (Debian's influxdb, run here as a child process with its own temp
// config, data and WAL directories on free ports) on the figures of the
// store issue.
//
// Figure 1, bytes on disk per point: -nodes x -fields x -readings hivegen
// readings at a 1-minute interval (seed fixed), written in batches of
// -batch readings by -writers parallel writers. Apiary: store.Write, then
// store.Seal, a graceful Close, and the size of the data directory (and,
// for information, after a full Pebble compaction that the benchmark runs
// on the closed directory itself: the store has no method for it).
// InfluxDB: HTTP /write in line protocol (Kotori's layout: database
// realm_network, measurement gateway_node_sensors), then the size of that
// database's data and WAL directories once its shards are compacted (cold
// durations shortened, see -influx-cold) and influxd is stopped.
//
// Figure 2, write throughput of the same writes: Apiary's Write calls plus
// the Seal; InfluxDB's HTTP writes until the last 204.
//
// Figure 3, a 1-year chart of one node: -year-readings 1-minute readings
// of -fields fields in a store and a database of their own;
// store.DownsampleFields over every field at -max-points against InfluxDB's
// SELECT mean(*) ... GROUP BY time(width) via HTTP /query; median of -reps
// after a warm-up.
//
// Figure 4, RSS: the appliance (go build ./cmd/apiary, its own process,
// default configuration) under -live-nodes paho QoS 1 (-live-qos) clients publishing
// -live-fields fields each second while the dashboard (/ and
// /d/<node>?range=24h) is fetched every -dash-every; VmRSS sampled every
// second. InfluxDB under the same load as line protocol over HTTP, one
// line per node and second, and the equivalent queries.
//
// Figure 5, disk writes per stored point: /proc/<pid>/io write_bytes over
// the -duration window of figure 4's run divided by the points stored in it.
//
//	go run ./build/benchstore            # everything, ~40 minutes
//	go run ./build/benchstore -short     # a quick run of the same code
//
// Progress goes to stderr; the markdown section to stdout (and -o FILE).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/internal/benchenv"
	"github.com/apiary-hive/apiary/internal/hivegen"
	"github.com/apiary-hive/apiary/store"
)

var (
	flagNodes     = flag.Int("nodes", 10, "figures 1-2: nodes")
	flagFields    = flag.Int("fields", 10, "figures 1-2 and 3: numeric fields per reading")
	flagReadings  = flag.Int("readings", 50000, "figures 1-2: readings per node at a 1-minute interval")
	flagBatch     = flag.Int("batch", 5000, "readings (= line-protocol lines) per write batch, figures 1-3")
	flagWriters   = flag.Int("writers", 4, "parallel writers, figures 1-3 (both systems)")
	flagRuns      = flag.Int("runs", 3, "runs of figures 1-2 on each system, alternating (ABBA)")
	flagSeed      = flag.Uint64("seed", 1, "hivegen seed")
	flagYear      = flag.Int("year-readings", 525600, "figure 3: 1-minute readings of the one node (525600 = 1 year)")
	flagReps      = flag.Int("reps", 5, "figure 3: timed repetitions of the query on each system, after one warm-up")
	flagMaxPoints = flag.Int("max-points", 2000, "figure 3: buckets per series of the chart")
	flagLiveNodes = flag.Int("live-nodes", 100, "figures 4-5: nodes (one MQTT client each; one HTTP writer each for InfluxDB)")
	flagLiveFlds  = flag.Int("live-fields", 20, "figures 4-5: fields per reading")
	flagDuration  = flag.Duration("duration", 10*time.Minute, "figures 4-5: measured window of steady ingest, per system")
	flagWarmup    = flag.Duration("warmup", 30*time.Second, "figures 4-5: load before the window starts")
	flagDashEvery = flag.Duration("dash-every", 5*time.Second, "figures 4-5: how often the dashboard is fetched")
	flagLiveRuns  = flag.String("live-runs", "apiary,apiary-sync,influxdb", "figures 4-5: which of the live runs to make (comma-separated: apiary (the default config), apiary-sync (with -live-sync), influxdb); e.g. -only live -live-runs apiary-sync -duration 40m for the disk writes of the interval sync over a seal")
	flagLiveQoS   = flag.Int("live-qos", 1, "figures 4-5: the MQTT QoS the Apiary runs' clients publish at: 1 (each waits for its PUBACK, which waits for the fsync with sync = \"always\") or 0 (as most Hiveeyes firmware and Tasmota publish: no acknowledgement, synced within a second)")
	flagLiveSync  = flag.String("live-sync", "1s", "figures 4-5: also run Apiary with this store.sync (an interval: fsync that often instead of per write), for information; \"\" for no such run")
	flagInfCold   = flag.Duration("influx-cold", 15*time.Second, "figures 1-3: InfluxDB's compact-full-write-cold-duration (its cache-snapshot-write-cold-duration is a third of it); the defaults are 4h and 10m")
	flagSettle    = flag.Duration("settle", 10*time.Second, "figures 1-3: InfluxDB counts as compacted once its files have not changed for this long, after the cold duration")
	flagQuietWait = flag.Duration("quiet-wait", 5*time.Minute, "before each part, wait at most this long for the other processes on the machine to use less than a quarter of a core")
	flagOnly      = flag.String("only", "", "run only these parts (comma-separated: write (figures 1-2), query (3), live (4-5))")
	flagShort     = flag.Bool("short", false, "a quick run to test the benchmark: -readings 3000 -year-readings 20000 -runs 1 -reps 3 -duration 30s -warmup 5s, unless given")
	flagInfluxd   = flag.String("influxd", "", "influxd binary (default: found on PATH or in /usr/bin)")
	flagApiary    = flag.String("apiary", "", "apiary binary for figures 4-5 (default: go build ./cmd/apiary into a temp dir)")
	flagDir       = flag.String("dir", "", "parent directory of the temp directories (default: $TMPDIR); put it on the disk you want to measure")
	flagOut       = flag.String("o", "", "also write the markdown section to this file")
	flagVia       = flag.String("via", "", "the script that runs this program, named next to the command in the report")
)

const heading = "## Store: Apiary vs InfluxDB"

// The store's record merger: the benchmark opens a closed store's directory
// with Pebble itself for a full compaction, and Pebble refuses a directory
// written with a merger of another name.
const recordMergerName = "apiary.record.v1"

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: go run ./build/benchstore [flags]\n\nApiary's store against InfluxDB 1.x: disk bytes per point, write throughput, a 1-year chart query, RSS and disk writes under live load.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *flagShort {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		short := map[string]string{"readings": "3000", "year-readings": "20000", "runs": "1", "reps": "3", "duration": "30s", "warmup": "5s"}
		for k, v := range short {
			if !set[k] {
				flag.Set(k, v)
			}
		}
	}
	if *flagNodes < 1 || *flagFields < 1 || *flagReadings < 1 || *flagBatch < 1 || *flagWriters < 1 || *flagRuns < 1 ||
		*flagYear < 2 || *flagReps < 1 || *flagMaxPoints < 1 || *flagLiveNodes < 1 || *flagLiveFlds < 1 || *flagDuration <= 0 {
		fatalf("sizes, counts and durations must be positive")
	}
	parts := map[string]bool{"write": true, "query": true, "live": true}
	if *flagOnly != "" {
		parts = map[string]bool{}
		for _, p := range strings.Split(*flagOnly, ",") {
			p = strings.TrimSpace(p)
			if p != "write" && p != "query" && p != "live" {
				fatalf("-only: unknown part %q (write, query, live)", p)
			}
			parts[p] = true
		}
	}
	influxd := *flagInfluxd
	if influxd == "" {
		influxd = findInfluxd()
	}
	if influxd == "" {
		progress("WARNING: influxd not found (apt-get install influxdb): Apiary's figures only")
	}

	go func() { // stop the children on ^C
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		<-c
		progress("interrupted: stopping child processes")
		killChildren()
		os.Exit(1)
	}()

	started := time.Now()
	rep := &report{influxd: influxd, parts: parts, timings: map[string]time.Duration{}, revision: benchenv.Revision()}
	var apiaryBin string
	if parts["live"] {
		apiaryBin = *flagApiary
		if apiaryBin == "" {
			t := time.Now()
			var err error
			apiaryBin, err = buildApiary()
			if err != nil {
				fatalf("go build ./cmd/apiary: %v", err)
			}
			defer os.RemoveAll(filepath.Dir(apiaryBin))
			progress("built %s in %s", apiaryBin, time.Since(t).Round(time.Second))
		}
	}
	if parts["write"] {
		waitQuiet("write")
		t := time.Now()
		c0 := readCPU()
		rep.loads = append(rep.loads, "write "+benchenv.LoadAvg())
		rep.write = runWrite(influxd)
		rep.timings["write"] = time.Since(t)
		rep.others = append(rep.others, fmt.Sprintf("write %.2f", readCPU().othersSince(c0)))
	}
	if parts["query"] {
		waitQuiet("query")
		t := time.Now()
		c0 := readCPU()
		rep.loads = append(rep.loads, "query "+benchenv.LoadAvg())
		rep.query = runQuery(influxd)
		rep.timings["query"] = time.Since(t)
		rep.others = append(rep.others, fmt.Sprintf("query %.2f", readCPU().othersSince(c0)))
	}
	if parts["live"] {
		waitQuiet("live")
		t := time.Now()
		c0 := readCPU()
		rep.loads = append(rep.loads, "live "+benchenv.LoadAvg())
		rep.live = runLive(apiaryBin, influxd)
		rep.timings["live"] = time.Since(t)
		rep.others = append(rep.others, fmt.Sprintf("live %.2f", readCPU().othersSince(c0)))
	}
	rep.started = started
	md := rep.markdown()
	fmt.Print(md)
	if *flagOut != "" {
		if err := os.WriteFile(*flagOut, []byte(md), 0o644); err != nil {
			fatalf("write %s: %v", *flagOut, err)
		}
		progress("wrote %s", *flagOut)
	}
}

// ================================================================ data

var start1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // figures 1-2
var startYear = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func fieldNames(n int) []string {
	g := hivegen.New(hivegen.Options{Nodes: 1, Fields: n})
	r := g.Next()[0]
	names := make([]string, 0, n)
	for _, f := range hivegen.BaseFields {
		if _, ok := r.Fields[f]; ok {
			names = append(names, f)
		}
	}
	for i := 1; len(names) < n; i++ {
		names = append(names, fmt.Sprintf("temperature-h%d", i))
	}
	return names
}

// kotoriName is Kotori's sanitised name part: lower case, [a-z0-9_].
func kotoriName(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func database(ch store.Channel) string { return kotoriName(ch.Realm) + "_" + kotoriName(ch.Network) }
func measurement(ch store.Channel) string {
	return kotoriName(ch.Gateway) + "_" + kotoriName(ch.Node) + "_sensors"
}

// appendLine appends r as one line of line protocol; ts false leaves the
// time to the server.
func appendLine(b []byte, r store.Reading, names []string, ts bool) []byte {
	b = append(b, measurement(r.Channel)...)
	sep := byte(' ')
	for _, f := range names {
		v, ok := r.Fields[f]
		if !ok {
			continue
		}
		b = append(b, sep)
		sep = ','
		b = append(b, f...)
		b = append(b, '=')
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	if ts {
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.Time.Unix(), 10)
	}
	return append(b, '\n')
}

// batches generates steps x nodes readings and cuts them into batches of
// -batch readings; with lp it also renders each batch as line protocol.
type dataset struct {
	readings [][]store.Reading
	lines    [][]byte
	points   int64
	db       string        // InfluxDB database
	first    store.Channel // for the check after the compaction
}

func generate(opts hivegen.Options, steps int, lp bool, each func(rs []store.Reading, lines []byte) error) (int64, error) {
	g := hivegen.New(opts)
	names := fieldNames(opts.Fields)
	var batch []store.Reading
	var points int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var lines []byte
		if lp {
			lines = make([]byte, 0, len(batch)*(40+16*opts.Fields))
			for _, r := range batch {
				lines = appendLine(lines, r, names, true)
			}
		}
		err := each(batch, lines)
		batch = nil
		return err
	}
	for i := 0; i < steps; i++ {
		for _, r := range g.Next() {
			batch = append(batch, r)
			points += int64(len(r.Fields))
			if len(batch) >= *flagBatch {
				if err := flush(); err != nil {
					return points, err
				}
			}
		}
	}
	return points, flush()
}

// ================================================================ figures 1-2

type writeRun struct {
	sys      string
	run      int
	points   int64
	elapsed  time.Duration // writes (+ seal)
	seal     time.Duration // Apiary: the Seal call
	disk     dirSize       // after graceful close (Apiary) / compaction and stop (InfluxDB)
	compact  dirSize       // Apiary: after a full Pebble compaction of the closed directory
	compErr  error
	spaces   map[string]int64 // Apiary: key and value bytes by key space after the compaction
	settle   time.Duration    // InfluxDB: from the last write until its files settled
	settled  bool
	closeDur time.Duration // Apiary: the Close call
	err      error
}

func (r writeRun) rate() float64 { return float64(r.points) / r.elapsed.Seconds() }

type writeResult struct {
	runs   []writeRun
	points int64
}

func runWrite(influxd string) *writeResult {
	progress("figures 1-2: generating %d nodes x %d fields x %d readings ...", *flagNodes, *flagFields, *flagReadings)
	ds := &dataset{}
	opts := hivegen.Options{Seed: *flagSeed, Nodes: *flagNodes, Fields: *flagFields, Start: start1, Interval: time.Minute}
	pts, _ := generate(opts, *flagReadings, influxd != "", func(rs []store.Reading, lines []byte) error {
		ds.readings = append(ds.readings, rs)
		ds.lines = append(ds.lines, lines)
		return nil
	})
	ds.points = pts
	ds.first = ds.readings[0][0].Channel
	ds.db = database(ds.first)
	progress("figures 1-2: %d points in %d batches", pts, len(ds.readings))
	res := &writeResult{points: pts}
	for run := 1; run <= *flagRuns; run++ {
		order := []string{"Apiary", "InfluxDB"}
		if run%2 == 0 {
			order = []string{"InfluxDB", "Apiary"}
		}
		for _, sys := range order {
			if sys == "InfluxDB" && influxd == "" {
				continue
			}
			runtime.GC()
			progress("figures 1-2 run %d/%d: %s ...", run, *flagRuns, sys)
			var r writeRun
			if sys == "Apiary" {
				r = apiaryWrite(ds)
			} else {
				r = influxWrite(influxd, ds)
			}
			r.sys, r.run, r.points = sys, run, pts
			if r.err != nil {
				progress("  %s FAILED: %v", sys, r.err)
			} else {
				progress("  %s: %s points/s (%s), %s on disk = %.3f B/point", sys, num(r.rate()), r.elapsed.Round(time.Millisecond), kibBytes(r.disk.alloc), float64(r.disk.alloc)/float64(pts))
			}
			res.runs = append(res.runs, r)
		}
	}
	return res
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func apiaryWrite(ds *dataset) (res writeRun) {
	dir, err := os.MkdirTemp(*flagDir, "benchstore-apiary-")
	if err != nil {
		return writeRun{err: err}
	}
	defer os.RemoveAll(dir)
	// The appliance's defaults: 8 MiB cache, 4 MiB memtable, sync = always.
	st, err := store.Open(store.Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		return writeRun{err: err}
	}
	ctx := context.Background()
	t0 := time.Now()
	err = parallel(len(ds.readings), func(i int) error { return st.Write(ctx, ds.readings[i]) })
	t1 := time.Now()
	if err == nil {
		err = st.Seal(ctx)
	}
	t2 := time.Now()
	res.elapsed, res.seal = t2.Sub(t0), t2.Sub(t1)
	if st.Stats().PointsStored != ds.points && err == nil {
		err = fmt.Errorf("%d points written, %d stored", ds.points, st.Stats().PointsStored)
	}
	t3 := time.Now()
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	res.closeDur = time.Since(t3)
	if err != nil {
		return writeRun{err: err}
	}
	res.disk = sizeOf(dir)
	res.spaces, res.compErr = compactPebble(dir)
	res.compact = sizeOf(dir)
	// Check that the data is still all there after the compaction.
	if res.compErr == nil {
		st, err := store.Open(store.Options{Dir: dir, Logger: quietLogger()})
		if err != nil {
			res.compErr = fmt.Errorf("reopen after compaction: %w", err)
		} else {
			pts, err := st.Points(ctx, ds.first, "weight", start1, start1.Add(time.Duration(*flagReadings)*time.Minute))
			if err == nil && len(pts) != *flagReadings {
				err = fmt.Errorf("%d weight points of %s after compaction, want %d", len(pts), ds.first.Node, *flagReadings)
			}
			if err != nil {
				res.compErr = err
			}
			st.Close()
		}
	}
	return res
}

// parallel runs fn(0..n-1) on -writers goroutines and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range *flagWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// compactPebble opens a closed store's directory with Pebble itself,
// compacts the whole keyspace (the store has no method for it) and returns
// the bytes of keys and values by key space.
func compactPebble(dir string) (map[string]int64, error) {
	db, err := pebble.Open(dir, &pebble.Options{
		Logger: pebbleQuiet{},
		Merger: &pebble.Merger{Name: recordMergerName, Merge: func(key, value []byte) (pebble.ValueMerger, error) {
			return &newestMerge{v: bytes.Clone(value)}, nil
		}},
	})
	if err != nil {
		return nil, err
	}
	err = db.Compact(context.Background(), []byte{0x00}, bytes.Repeat([]byte{0xff}, 16), true)
	spaces := map[string]int64{}
	if err == nil {
		var it *pebble.Iterator
		if it, err = db.NewIter(nil); err == nil {
			for it.First(); it.Valid(); it.Next() {
				spaces[keySpace(it.Key()[0])] += int64(len(it.Key()) + len(it.Value()))
			}
			err = it.Close()
		}
	}
	return spaces, errors.Join(err, db.Close())
}

// keySpace names the store's key spaces by their first byte (store/keys.go).
func keySpace(b byte) string {
	names := []string{"meta", "channels", "series", "records", "chunks", "events", "errors", "props", "rollups", "summaries"}
	if int(b) < len(names) {
		return names[b]
	}
	return fmt.Sprintf("0x%02x", b)
}

// newestMerge keeps the newest operand. Used only for the compaction of a
// sealed benchmark store, where every record is under a seal's range
// deletion and no merge is ever read.
type newestMerge struct{ v []byte }

func (m *newestMerge) MergeNewer(v []byte) error              { m.v = bytes.Clone(v); return nil }
func (m *newestMerge) MergeOlder(v []byte) error              { return nil }
func (m *newestMerge) Finish(bool) ([]byte, io.Closer, error) { return m.v, nil, nil }

type pebbleQuiet struct{}

func (pebbleQuiet) Infof(format string, args ...any)  {}
func (pebbleQuiet) Errorf(format string, args ...any) { progress("pebble: "+format, args...) }
func (pebbleQuiet) Fatalf(format string, args ...any) { fatalf("pebble: "+format, args...) }

func influxWrite(bin string, ds *dataset) (res writeRun) {
	inf, err := startInflux(bin, *flagInfCold)
	if err != nil {
		return writeRun{err: err}
	}
	defer inf.remove()
	if err := inf.createDB(ds.db); err != nil {
		return writeRun{err: err}
	}
	t0 := time.Now()
	err = parallel(len(ds.lines), func(i int) error { return inf.write(ds.db, "s", ds.lines[i]) })
	res.elapsed = time.Since(t0)
	if err != nil {
		return writeRun{err: err}
	}
	last := time.Now()
	res.settled = inf.settle(ds.db, last, *flagInfCold)
	res.settle = time.Since(last)
	if err := inf.stop(); err != nil {
		return writeRun{err: err}
	}
	res.disk = sizeOf(filepath.Join(inf.dir, "data", ds.db), filepath.Join(inf.dir, "wal", ds.db))
	return res
}

// ================================================================ figure 3

type queryResult struct {
	points        int64
	from, to      time.Time
	width         time.Duration
	apiary        []time.Duration
	influx        []time.Duration
	apiaryBuckets []int // per field
	influxBuckets int   // non-empty rows
	influxSeries  int   // columns with data
	apiaryErr     error
	influxErr     error
	influxQuery   string
	influxSettled bool
	apiaryLoad    time.Duration
	influxLoad    time.Duration
}

func runQuery(influxd string) *queryResult {
	res := &queryResult{from: startYear, to: startYear.Add(time.Duration(*flagYear) * time.Minute)}
	res.width = res.to.Sub(res.from) / time.Duration(*flagMaxPoints)
	opts := hivegen.Options{Seed: *flagSeed, Nodes: 1, Fields: *flagFields, Start: startYear, Interval: time.Minute, Network: "year", Realm: "hiveeyes", Gateway: "apiary-1"}
	ch := hivegen.New(opts).Next()[0].Channel
	names := fieldNames(*flagFields)
	ctx := context.Background()

	// Apiary: write, seal, close; reopen as a running appliance would.
	progress("figure 3: Apiary: writing %d readings of one node ...", *flagYear)
	res.apiaryErr = func() error {
		dir, err := os.MkdirTemp(*flagDir, "benchstore-year-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		st, err := store.Open(store.Options{Dir: dir, Logger: quietLogger()})
		if err != nil {
			return err
		}
		t := time.Now()
		pts, err := generate(opts, *flagYear, false, func(rs []store.Reading, _ []byte) error { return st.Write(ctx, rs) })
		if err == nil {
			err = st.Seal(ctx)
		}
		res.points = pts
		res.apiaryLoad = time.Since(t)
		if err = errors.Join(err, st.Close()); err != nil {
			return err
		}
		st, err = store.Open(store.Options{Dir: dir, Logger: quietLogger()})
		if err != nil {
			return err
		}
		defer st.Close()
		chart := func() ([]int, error) {
			// One call for the node's fields, as the node dashboard asks.
			byField, _, err := st.DownsampleFields(ctx, ch, names, res.from, res.to, *flagMaxPoints)
			if err != nil {
				return nil, err
			}
			var counts []int
			for _, f := range names {
				counts = append(counts, len(byField[f]))
			}
			return counts, nil
		}
		if _, err := chart(); err != nil { // warm-up
			return err
		}
		for range *flagReps {
			t := time.Now()
			counts, err := chart()
			if err != nil {
				return err
			}
			res.apiary = append(res.apiary, time.Since(t))
			res.apiaryBuckets = counts
		}
		return nil
	}()
	if res.apiaryErr != nil {
		progress("  Apiary FAILED: %v", res.apiaryErr)
	} else {
		progress("  Apiary: median %s", fmtMS(median(res.apiary)))
	}
	if influxd == "" {
		return res
	}

	progress("figure 3: InfluxDB: writing %d readings of one node ...", *flagYear)
	res.influxErr = func() error {
		inf, err := startInflux(influxd, *flagInfCold)
		if err != nil {
			return err
		}
		defer inf.remove()
		db := database(ch)
		if err := inf.createDB(db); err != nil {
			return err
		}
		t := time.Now()
		var batches [][]byte
		pts, _ := generate(opts, *flagYear, true, func(_ []store.Reading, lines []byte) error {
			batches = append(batches, lines)
			return nil
		})
		res.points = pts
		if err := parallel(len(batches), func(i int) error { return inf.write(db, "s", batches[i]) }); err != nil {
			return err
		}
		batches = nil
		res.influxSettled = inf.settle(db, time.Now(), *flagInfCold)
		res.influxLoad = time.Since(t)
		w := int64(res.width / time.Second)
		if w < 1 {
			w = 1
		}
		offset := ((res.from.Unix() % w) + w) % w
		res.influxQuery = fmt.Sprintf(`SELECT mean(*) FROM %q WHERE time >= '%s' AND time < '%s' GROUP BY time(%ds, %ds)`,
			measurement(ch), res.from.Format(time.RFC3339), res.to.Format(time.RFC3339), w, offset)
		if _, err := inf.query(db, res.influxQuery); err != nil { // warm-up
			return err
		}
		for range *flagReps {
			t := time.Now()
			body, err := inf.query(db, res.influxQuery)
			if err != nil {
				return err
			}
			res.influx = append(res.influx, time.Since(t))
			res.influxBuckets, res.influxSeries, err = countRows(body)
			if err != nil {
				return err
			}
		}
		return nil
	}()
	if res.influxErr != nil {
		progress("  InfluxDB FAILED: %v", res.influxErr)
	} else {
		progress("  InfluxDB: median %s", fmtMS(median(res.influx)))
	}
	return res
}

// countRows counts the rows of an InfluxDB /query answer that hold at least
// one value, and the columns (besides time) that hold any.
func countRows(body []byte) (rows, cols int, err error) {
	var ans struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, 0, err
	}
	if ans.Error != "" {
		return 0, 0, errors.New(ans.Error)
	}
	for _, r := range ans.Results {
		if r.Error != "" {
			return 0, 0, errors.New(r.Error)
		}
		for _, s := range r.Series {
			used := make([]bool, len(s.Columns))
			for _, row := range s.Values {
				any := false
				for i, v := range row {
					if i > 0 && v != nil {
						any, used[i] = true, true
					}
				}
				if any {
					rows++
				}
			}
			for _, u := range used[1:] {
				if u {
					cols++
				}
			}
		}
	}
	return rows, cols, nil
}

// ================================================================ figures 4-5

type liveRun struct {
	sys         string
	rss         []int64 // kB, one a second from the first publish to the end of the window
	idleRSS     int64   // kB before the load
	writeBytes  int64   // write_bytes over the window
	points      int64   // points stored (Apiary: /metrics) or acknowledged (InfluxDB) in the window
	sent        int64   // messages (lines) sent in the window
	failed      int64   // publishes or writes that failed (whole run)
	skipped     int64   // readings not sent because the client was still busy
	dash        []time.Duration
	dashErrs    int64
	window      time.Duration
	sealedHours bool // an hour boundary (+ grace) fell in the window
	err         error
	note        string
}

type liveResult struct{ apiary, apiarySync, influx *liveRun }

func runLive(apiaryBin, influxd string) *liveResult {
	res := &liveResult{}
	runs := strings.Split(*flagLiveRuns, ",")
	if slices.Contains(runs, "apiary") {
		progress("figures 4-5: Apiary under %d nodes x %d fields at 1 reading/s: %s warm-up + %s ...", *flagLiveNodes, *flagLiveFlds, *flagWarmup, *flagDuration)
		res.apiary = liveApiary(apiaryBin, "")
		res.apiary.sys = "Apiary"
		logLive(res.apiary)
	}
	if *flagLiveSync != "" && slices.Contains(runs, "apiary-sync") {
		runtime.GC()
		progress("figures 4-5: Apiary with sync = %q under the same load: %s warm-up + %s ...", *flagLiveSync, *flagWarmup, *flagDuration)
		res.apiarySync = liveApiary(apiaryBin, *flagLiveSync)
		res.apiarySync.sys = fmt.Sprintf("Apiary, sync = %s", *flagLiveSync)
		logLive(res.apiarySync)
	}
	if influxd != "" && slices.Contains(runs, "influxdb") {
		runtime.GC()
		progress("figures 4-5: InfluxDB under the same load: %s warm-up + %s ...", *flagWarmup, *flagDuration)
		res.influx = liveInflux(influxd)
		res.influx.sys = "InfluxDB"
		logLive(res.influx)
	}
	return res
}

func logLive(r *liveRun) {
	if r.err != nil {
		progress("  %s FAILED: %v", r.sys, r.err)
		return
	}
	peak, med := rssStats(r.rss)
	progress("  %s: RSS peak %s, median %s; %d bytes written for %d points = %.1f B/point; %d dashboard fetches (median %s)",
		r.sys, kib(peak), kib(med), r.writeBytes, r.points, float64(r.writeBytes)/math.Max(1, float64(r.points)), len(r.dash), fmtMS(median(r.dash)))
}

// liveLoad is the clock of the live load: every second, the next reading of
// every node, handed to that node's sender, which sends it at its own
// offset within the second (devices are not synchronised).
type liveLoad struct {
	names   []string
	chans   []chan store.Reading
	skipped atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newLiveLoad() *liveLoad {
	l := &liveLoad{names: fieldNames(*flagLiveFlds), stop: make(chan struct{})}
	for range *flagLiveNodes {
		l.chans = append(l.chans, make(chan store.Reading, 1))
	}
	return l
}

// run starts the clock and one sender per node; send must not keep a
// reading longer than a second or the next is skipped.
func (l *liveLoad) run(send func(node int, r store.Reading)) {
	g := hivegen.New(hivegen.Options{Seed: *flagSeed, Nodes: *flagLiveNodes, Fields: *flagLiveFlds, Interval: time.Second, Start: time.Now()})
	for i := range l.chans {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			offset := time.Duration(i) * time.Second / time.Duration(len(l.chans))
			for {
				select {
				case <-l.stop:
					return
				case r := <-l.chans[i]:
					if d := time.Until(r.Time.Add(offset)); d > 0 {
						select {
						case <-l.stop:
							return
						case <-time.After(d):
						}
					}
					send(i, r)
				}
			}
		}()
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case now := <-tick.C:
				for i, r := range g.Next() {
					r.Time = now
					select {
					case l.chans[i] <- r:
					default:
						l.skipped.Add(1)
					}
				}
			}
		}
	}()
}

func (l *liveLoad) halt() {
	close(l.stop)
	l.wg.Wait()
}

func jsonPayload(r store.Reading, names []string) []byte {
	b := []byte{'{'}
	for i, f := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f)
		b = append(b, ':')
		b = strconv.AppendFloat(b, r.Fields[f], 'f', -1, 64)
	}
	return append(b, '}')
}

// sampler reads VmRSS of pid every second.
type sampler struct {
	pid  int
	mu   sync.Mutex
	kb   []int64
	stop chan struct{}
	done chan struct{}
}

func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if kb, err := vmRSS(pid); err == nil {
				s.mu.Lock()
				s.kb = append(s.kb, kb)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) halt() []int64 {
	close(s.stop)
	<-s.done
	return s.kb
}

func vmRSS(pid int) (int64, error) {
	st, err := benchenv.ProcStatus(pid)
	if err != nil {
		return 0, err
	}
	kb, ok := st["VmRSS"]
	if !ok {
		return 0, errors.New("no VmRSS")
	}
	return kb, nil
}

func writeBytes(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "write_bytes:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("no write_bytes")
}

// dashboard fetches fn every -dash-every until stop, timing each.
func dashboard(stop <-chan struct{}, fn func(i int) error) (wait func() ([]time.Duration, int64)) {
	var ds []time.Duration
	var errs int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(*flagDashEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			t := time.Now()
			if err := fn(i); err != nil {
				errs++
				if errs <= 3 {
					progress("  dashboard: %v", err)
				}
				continue
			}
			ds = append(ds, time.Since(t))
		}
	}()
	return func() ([]time.Duration, int64) {
		<-done
		return ds, errs
	}
}

// window runs the warm-up, then measures write_bytes and count over
// -duration; it returns the differences.
func window(pid int, count func() (int64, error)) (wb, n int64, d time.Duration, crossed bool, err error) {
	time.Sleep(*flagWarmup)
	wb0, err := writeBytes(pid)
	if err != nil {
		return 0, 0, 0, false, err
	}
	n0, err := count()
	if err != nil {
		return 0, 0, 0, false, err
	}
	t0 := time.Now()
	deadline := t0.Add(*flagDuration)
	for time.Now().Before(deadline) {
		time.Sleep(min(10*time.Second, time.Until(deadline)))
		progress("  %s of %s", time.Since(t0).Round(time.Second), *flagDuration)
	}
	wb1, err := writeBytes(pid)
	if err != nil {
		return 0, 0, 0, false, err
	}
	n1, err := count()
	if err != nil {
		return 0, 0, 0, false, err
	}
	t1 := time.Now()
	// The store seals an hour 2 minutes after it closes, checking every 30s.
	crossed = hourStart(t1.Add(-2 * time.Minute)).After(t0.Add(-2*time.Minute - 30*time.Second))
	return wb1 - wb0, n1 - n0, t1.Sub(t0), crossed, nil
}

func hourStart(t time.Time) time.Time { return t.Truncate(time.Hour) }

func liveApiary(bin, syncMode string) (res *liveRun) {
	res = &liveRun{}
	dir, err := os.MkdirTemp(*flagDir, "benchstore-live-")
	if err != nil {
		res.err = err
		return res
	}
	defer os.RemoveAll(dir)
	httpPort, err1 := freePort()
	mqttPort, err2 := freePort()
	if err := errors.Join(err1, err2); err != nil {
		res.err = err
		return res
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	args := []string{"serve", "--data", filepath.Join(dir, "data"), "--http", httpAddr, "--mqtt", fmt.Sprintf("127.0.0.1:%d", mqttPort)}
	if syncMode != "" {
		cfg := filepath.Join(dir, "apiary.toml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("[store]\nsync = %q\n", syncMode)), 0o644); err != nil {
			res.err = err
			return res
		}
		args = append(args, "--config", cfg)
	}
	p, err := startChild("apiary", bin, args...)
	if err != nil {
		res.err = err
		return res
	}
	defer func() {
		if err := p.stop(); err != nil && res.err == nil {
			res.err = fmt.Errorf("apiary stop: %w", err)
		}
	}()
	base := "http://" + httpAddr
	if err := waitHTTP(base+"/healthz", p); err != nil {
		res.err = err
		return res
	}
	res.idleRSS, _ = vmRSS(p.pid())

	l := newLiveLoad()
	clients := make([]paho.Client, *flagLiveNodes)
	var failed atomic.Int64
	var wg sync.WaitGroup
	var connErr error
	var connMu sync.Mutex
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := mqttConnect(fmt.Sprintf("tcp://127.0.0.1:%d", mqttPort), fmt.Sprintf("benchstore-node-%d", i+1))
			if err != nil {
				connMu.Lock()
				connErr = err
				connMu.Unlock()
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Disconnect(100)
			}
		}
	}()
	if connErr != nil {
		res.err = connErr
		return res
	}
	smp := startSampler(p.pid())
	l.run(func(i int, r store.Reading) {
		t := r.Channel.String() + "/data.json"
		tok := clients[i].Publish(t, byte(*flagLiveQoS), false, jsonPayload(r, l.names))
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			failed.Add(1)
		}
	})
	stopDash := make(chan struct{})
	client := &http.Client{Timeout: 60 * time.Second}
	nodes := hivegen.New(hivegen.Options{Seed: *flagSeed, Nodes: *flagLiveNodes, Fields: 1}).Next()
	waitDash := dashboard(stopDash, func(i int) error {
		ch := nodes[i%len(nodes)].Channel
		for _, path := range []string{"/", "/d/" + ch.String() + "?range=24h"} {
			if err := get(client, base+path); err != nil {
				return err
			}
		}
		return nil
	})
	points := func() (int64, error) { return metric(client, base+"/metrics", "apiary_points_stored_total") }
	wb, n, d, crossed, err := window(p.pid(), points)
	close(stopDash)
	l.halt()
	res.rss = smp.halt()
	res.dash, res.dashErrs = waitDash()
	res.writeBytes, res.points, res.window, res.sealedHours, res.err = wb, n, d, crossed, err
	res.failed, res.skipped = failed.Load(), l.skipped.Load()
	res.sent = int64(float64(*flagLiveNodes) * d.Seconds())
	if res.err == nil && !p.alive() {
		res.err = fmt.Errorf("apiary exited: %s", p.tail())
	}
	return res
}

func mqttConnect(broker, id string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(true).SetKeepAlive(60 * time.Second).SetConnectTimeout(10 * time.Second)
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

func get(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

func metric(c *http.Client, u, name string) (int64, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", u, name)
}

func liveInflux(bin string) (res *liveRun) {
	res = &liveRun{}
	inf, err := startInflux(bin, 0) // the default cold durations: a running server
	if err != nil {
		res.err = err
		return res
	}
	defer func() {
		if err := inf.stop(); err != nil && res.err == nil {
			res.err = fmt.Errorf("influxd stop: %w", err)
		}
		inf.remove()
	}()
	l := newLiveLoad()
	g := hivegen.New(hivegen.Options{Seed: *flagSeed, Nodes: *flagLiveNodes, Fields: *flagLiveFlds})
	first := g.Next()
	db := database(first[0].Channel)
	if err := inf.createDB(db); err != nil {
		res.err = err
		return res
	}
	res.idleRSS, _ = vmRSS(inf.p.pid())
	var acked, failed atomic.Int64
	smp := startSampler(inf.p.pid())
	l.run(func(i int, r store.Reading) {
		if err := inf.write(db, "", appendLine(nil, r, l.names, false)); err != nil {
			if failed.Add(1) <= 3 {
				progress("  influx write: %v", err)
			}
			return
		}
		acked.Add(int64(len(r.Fields)))
	})
	stopDash := make(chan struct{})
	w := 24 * time.Hour / 1500 // the UI's MaxChartPoints for a 24h chart
	waitDash := dashboard(stopDash, func(i int) error {
		ch := first[i%len(first)].Channel
		qs := []string{
			fmt.Sprintf(`SELECT last(*) FROM /^%s_.*_sensors$/ WHERE time > now() - 1h`, kotoriName(ch.Gateway)),
			fmt.Sprintf(`SELECT mean(*) FROM %q WHERE time > now() - 24h GROUP BY time(%dms)`, measurement(ch), w.Milliseconds()),
		}
		for _, q := range qs {
			body, err := inf.query(db, q)
			if err != nil {
				return err
			}
			if _, _, err := countRows(body); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	wb, n, d, _, err := window(inf.p.pid(), func() (int64, error) { return acked.Load(), nil })
	close(stopDash)
	l.halt()
	res.rss = smp.halt()
	res.dash, res.dashErrs = waitDash()
	res.writeBytes, res.points, res.window, res.err = wb, n, d, err
	res.failed, res.skipped = failed.Load(), l.skipped.Load()
	res.sent = int64(float64(*flagLiveNodes) * d.Seconds())
	if res.err == nil && !inf.p.alive() {
		res.err = fmt.Errorf("influxd exited: %s", inf.p.tail())
	}
	return res
}

// ================================================================ InfluxDB

type influx struct {
	p       *child
	dir     string
	base    string
	client  *http.Client
	stopped bool
}

func findInfluxd() string {
	if p, err := exec.LookPath("influxd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/influxd", "/usr/local/bin/influxd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// startInflux runs influxd with its own config, data and WAL in a temp dir
// on free ports. cold > 0 shortens the cold durations after which a shard's
// cache is written to TSM (cold/3) and the shard fully compacted (cold).
func startInflux(bin string, cold time.Duration) (*influx, error) {
	dir, err := os.MkdirTemp(*flagDir, "benchstore-influx-")
	if err != nil {
		return nil, err
	}
	httpPort, err1 := freePort()
	rpcPort, err2 := freePort()
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	coldCfg := ""
	if cold > 0 {
		coldCfg = fmt.Sprintf("  cache-snapshot-write-cold-duration = %q\n  compact-full-write-cold-duration = %q\n", (cold / 3).String(), cold.String())
	}
	cfg := fmt.Sprintf(`bind-address = "127.0.0.1:%d"
reporting-disabled = true

[meta]
  dir = %q
  logging-enabled = false

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
%s
[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), coldCfg, httpPort)
	cfgFile := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	p, err := startChild("influxd", bin, "run", "-config", cfgFile)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	inf := &influx{p: p, dir: dir, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		client: &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := inf.client.Get(inf.base + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return inf, nil
			}
		}
		if !p.alive() || time.Now().After(deadline) {
			inf.remove()
			return nil, fmt.Errorf("influxd did not start: %s", p.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends influxd gracefully (SIGTERM); its directory stays, to be
// measured. Later calls do nothing.
func (inf *influx) stop() error {
	if inf.stopped {
		return nil
	}
	inf.stopped = true
	return inf.p.stop()
}

// remove stops influxd if it runs and removes its directory.
func (inf *influx) remove() {
	inf.stop()
	os.RemoveAll(inf.dir)
}

func (inf *influx) createDB(db string) error {
	_, err := inf.post("/query", "application/x-www-form-urlencoded", []byte(url.Values{"q": {fmt.Sprintf("CREATE DATABASE %q", db)}}.Encode()), http.StatusOK)
	return err
}

func (inf *influx) write(db, precision string, lines []byte) error {
	q := url.Values{"db": {db}}
	if precision != "" {
		q.Set("precision", precision)
	}
	_, err := inf.post("/write?"+q.Encode(), "text/plain; charset=utf-8", lines, http.StatusNoContent)
	return err
}

func (inf *influx) post(path, ctype string, body []byte, want int) ([]byte, error) {
	resp, err := inf.client.Post(inf.base+path, ctype, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("influxdb %s: %s: %s", strings.SplitN(path, "?", 2)[0], resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// query runs q via GET /query and returns the body, read in full.
func (inf *influx) query(db, q string) ([]byte, error) {
	u := inf.base + "/query?" + url.Values{"db": {db}, "q": {q}, "epoch": {"s"}}.Encode()
	resp, err := inf.client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("influxdb query: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// settle waits until the database's shards are compacted: at least the cold
// duration (plus the settle time) after the last write, no WAL segment with
// data, no compaction temp file, and no file changed for -settle. It gives
// up after 10 minutes and reports whether it settled.
func (inf *influx) settle(db string, lastWrite time.Time, cold time.Duration) bool {
	data, wal := filepath.Join(inf.dir, "data", db), filepath.Join(inf.dir, "wal", db)
	var prev string
	stable := time.Now()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		var b strings.Builder
		busy := false
		for _, root := range []string{data, wal} {
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return nil
				}
				if strings.HasSuffix(p, ".tmp") || (strings.HasSuffix(p, ".wal") && info.Size() > 0) {
					busy = true
				}
				fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
				return nil
			})
		}
		if s := b.String(); s != prev || busy {
			prev, stable = s, time.Now()
			continue
		}
		if time.Since(stable) >= *flagSettle && time.Since(lastWrite) >= cold+*flagSettle {
			return true
		}
	}
	return false
}

// ================================================================ processes

type child struct {
	name string
	cmd  *exec.Cmd
	out  *ring
	done chan struct{}
	err  error
}

var (
	childrenMu sync.Mutex
	children   = map[*child]bool{}
)

// startChild runs bin with its output in memory (never on the measured disk).
func startChild(name, bin string, args ...string) (*child, error) {
	c := &child{name: name, cmd: exec.Command(bin, args...), out: &ring{max: 64 << 10}, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	childrenMu.Lock()
	children[c] = true
	childrenMu.Unlock()
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits (SIGKILL after a minute).
func (c *child) stop() error {
	defer func() {
		childrenMu.Lock()
		delete(children, c)
		childrenMu.Unlock()
	}()
	if !c.alive() {
		return fmt.Errorf("%s had exited: %v: %s", c.name, c.err, c.tail())
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		if c.err != nil {
			return fmt.Errorf("%s: %v: %s", c.name, c.err, c.tail())
		}
		return nil
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within a minute of SIGTERM", c.name)
	}
}

func (c *child) tail() string {
	s := strings.TrimSpace(c.out.String())
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

func killChildren() {
	childrenMu.Lock()
	defer childrenMu.Unlock()
	for c := range children {
		c.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// ring keeps the last max bytes written to it.
type ring struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b = append(r.b, p...)
	if len(r.b) > r.max {
		r.b = append(r.b[:0], r.b[len(r.b)-r.max:]...)
	}
	return len(p), nil
}

func (r *ring) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.b)
}

func waitHTTP(u string, p *child) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !p.alive() {
			return fmt.Errorf("%s exited: %s", p.name, p.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become healthy: %s", p.name, p.tail())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func buildApiary() (string, error) {
	dir, err := os.MkdirTemp("", "benchstore-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "apiary")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/apiary")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return bin, nil
}

// ================================================================ sizes

// dirSize is what du counts (allocated blocks) and the files' apparent
// size, in total and by kind of file.
type dirSize struct {
	alloc, apparent int64
	kinds           map[string]int64 // allocated bytes by kind
}

func sizeOf(roots ...string) dirSize {
	s := dirSize{kinds: map[string]int64{}}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			var blocks int64
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				blocks = st.Blocks * 512
			}
			s.alloc += blocks
			s.apparent += info.Size()
			s.kinds[fileKind(p)] += blocks
			return nil
		})
	}
	return s
}

func fileKind(p string) string {
	base := filepath.Base(p)
	switch {
	case strings.HasSuffix(base, ".sst"):
		return "sst"
	case strings.HasSuffix(base, ".log"):
		return "WAL"
	case strings.HasSuffix(base, ".tsm"):
		return "tsm"
	case strings.HasSuffix(base, ".wal"):
		return "WAL"
	case strings.Contains(p, string(filepath.Separator)+"_series"+string(filepath.Separator)):
		return "series file"
	case base == "ballast":
		return "ballast"
	case strings.HasPrefix(base, "MANIFEST") || strings.HasPrefix(base, "OPTIONS") || strings.HasPrefix(base, "marker"):
		return "manifest/options"
	}
	return "other"
}

func (s dirSize) breakdown() string {
	var keys []string
	for k, v := range s.kinds {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return s.kinds[keys[i]] > s.kinds[keys[j]] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s", k, kibBytes(s.kinds[k])))
	}
	return strings.Join(parts, ", ")
}

// ================================================================ report

type report struct {
	influxd  string
	parts    map[string]bool
	write    *writeResult
	query    *queryResult
	live     *liveResult
	started  time.Time
	timings  map[string]time.Duration
	loads    []string // load average when each part started
	revision string   // of the tree when the run started (go run built it then)
	others   []string // CPU used by other processes during each part, in cores
}

type row struct {
	fig, what, how, apiary, influx, ratio, target, result string
}

func (rep *report) markdown() string {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n\n", heading)
	w("Apiary's store (package `store` on Pebble, the appliance's defaults: 8 MiB block cache, 4 MiB memtable, `sync = \"always\"`) against InfluxDB %s (Debian's package, run by the benchmark as its own process with its own config, data and WAL directories; `wal-fsync-delay = 0s`, its default: every write fsynced, as Apiary's). ", influxVersion(rep.influxd))
	w("Data from `internal/hivegen` (seed %d): weights, temperatures, humidity, voltage, RSSI, uptime, sound; InfluxDB in Kotori's layout (database `realm_network`, measurement `gateway_node_sensors`, one float field per field, no tags). A *point* is one value of one field at one time (InfluxDB calls the %d-field line a point). Everything runs on this one machine, one system at a time.\n\n", *flagSeed, *flagFields)

	var rows []row
	var notes []string
	if wr := rep.write; wr != nil {
		rows = append(rows, rep.writeRows(wr, &notes)...)
	}
	if q := rep.query; q != nil {
		rows = append(rows, rep.queryRows(q, &notes)...)
	}
	if l := rep.live; l != nil {
		rows = append(rows, rep.liveRows(l, &notes)...)
	}
	w("| # | Figure | How | Apiary | InfluxDB | Ratio | Target | Result |\n")
	w("|---|---|---|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.fig, r.what, r.how, r.apiary, r.influx, r.ratio, r.target, r.result)
	}

	if wr := rep.write; wr != nil && len(wr.runs) > 0 {
		w("\nRuns of figures 1-2 (%s points each):\n\n", num(float64(wr.points)))
		w("| Run | System | Write time | of which Seal | points/s | On disk (du) | B/point | Files | After full compaction | B/point |\n")
		w("|---:|---|---:|---:|---:|---:|---:|---|---:|---:|\n")
		for _, r := range wr.runs {
			if r.err != nil {
				w("| %d | %s | failed: %s | | | | | | | |\n", r.run, r.sys, mdEscape(r.err.Error()))
				continue
			}
			seal, comp, compPP := "–", "–", "–"
			if r.sys == "Apiary" {
				seal = r.seal.Round(time.Millisecond).String()
				if r.compErr != nil {
					comp = "failed: " + mdEscape(r.compErr.Error())
				} else {
					comp = kibBytes(r.compact.alloc) + ": " + r.compact.breakdown()
					compPP = fmt.Sprintf("%.3f", float64(r.compact.alloc)/float64(r.points))
				}
			}
			w("| %d | %s | %s | %s | %s | %s | %.3f | %s | %s | %s |\n", r.run, r.sys, r.elapsed.Round(time.Millisecond), seal, num(r.rate()),
				kibBytes(r.disk.alloc), float64(r.disk.alloc)/float64(r.points), r.disk.breakdown(), comp, compPP)
		}
	}
	if l := rep.live; l != nil {
		w("\nRuns of figures 4-5:\n\n")
		w("| System | Idle RSS | RSS peak | RSS median | Window | Points stored in it | write_bytes in it | B/point | Failed sends | Skipped | Dashboard fetches (median) |\n")
		w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range []*liveRun{l.apiary, l.apiarySync, l.influx} {
			if r == nil {
				continue
			}
			if r.err != nil {
				w("| %s | failed: %s | | | | | | | | | |\n", r.sys, mdEscape(r.err.Error()))
				continue
			}
			peak, med := rssStats(r.rss)
			w("| %s | %s | %s | %s | %s | %s | %s | %.1f | %d | %d | %d (%s), %d failed |\n", r.sys, kib(r.idleRSS), kib(peak), kib(med), r.window.Round(time.Second),
				num(float64(r.points)), kibBytes(r.writeBytes), float64(r.writeBytes)/math.Max(1, float64(r.points)), r.failed, r.skipped, len(r.dash), fmtMS(median(r.dash)), r.dashErrs)
		}
	}

	if len(notes) > 0 {
		w("\nNotes:\n\n")
		for _, n := range notes {
			w("- %s\n", n)
		}
	}
	var took []string
	for _, k := range []string{"write", "query", "live"} {
		if d, ok := rep.timings[k]; ok {
			took = append(took, fmt.Sprintf("%s %s", k, d.Round(time.Second)))
		}
	}
	w("\nMachine: %s, %s/%s, %d CPUs (nproc %s), %s, data on %s. Date: %s (took %s: %s).\n",
		benchenv.CPUModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), benchenv.NProc(), benchenv.MemTotal(), fsType(*flagDir),
		rep.started.UTC().Format("2006-01-02 15:04 MST"), time.Since(rep.started).Round(time.Second), strings.Join(took, ", "))
	w("The machine is shared: other processes used on average %s cores (of %d) during the parts (each part waits first, up to %s, until they use less than %.2f); the 1-minute load average was %s when the parts started.\n",
		strings.Join(rep.others, ", "), runtime.NumCPU(), *flagQuietWait, quietCores, strings.Join(rep.loads, ", "))
	rev := rep.revision
	if now := benchenv.Revision(); now != rev {
		rev += fmt.Sprintf(" when the run started (%s at its end)", strings.TrimPrefix(now, "commit "))
	}
	w("Apiary: %s. Go: %s; %s. InfluxDB: %s.\n", rev, runtime.Version(), benchenv.ModVersions(modules), influxVersion(rep.influxd))
	if *flagVia != "" {
		w("\nCommand: `%s`, which runs `%s`\n", *flagVia, command())
	} else {
		w("\nCommand: `%s`\n", command())
	}
	return b.String()
}

func (rep *report) writeRows(wr *writeResult, notes *[]string) []row {
	var a, ac, ad, i []float64 // bytes per point
	var ar, ir []float64       // points per second
	settled := true
	var spaces map[string]int64
	for _, r := range wr.runs {
		if r.err != nil {
			continue
		}
		pp := float64(r.disk.alloc) / float64(r.points)
		if r.sys == "Apiary" {
			a = append(a, pp)
			ar = append(ar, r.rate())
			if r.compErr == nil {
				ac = append(ac, float64(r.compact.alloc)/float64(r.points))
				ad = append(ad, float64(r.compact.kinds["sst"])/float64(r.points))
				if spaces == nil {
					spaces = r.spaces
				}
			}
		} else {
			i = append(i, pp)
			ir = append(ir, r.rate())
			settled = settled && r.settled
		}
	}
	data := fmt.Sprintf("%d nodes × %d fields × %s readings at 1 min (%s points)", *flagNodes, *flagFields, num(float64(*flagReadings)), num(float64(wr.points)))
	runs := fmt.Sprintf("median of %d runs", *flagRuns)
	// Figure 1: the target is ≤ 1.0 B/point and ≤ 1/12 of InfluxDB.
	sizeRow := func(fig, what, how string, ap []float64, info bool) row {
		r := row{fig: fig, what: what, how: how, apiary: fmtBPP(ap), influx: fmtBPP(i), ratio: "–", result: "n/a",
			target: "≤ 1.0 B/point and ≤ 1/12 of InfluxDB"}
		if len(ap) == 0 {
			return r
		}
		am := medianF(ap)
		abs := am <= 1.0
		if len(i) == 0 {
			r.result = passFail(abs) + " (absolute only)"
		} else {
			im := medianF(i)
			r.ratio = sizeRatio(am, im)
			rel := am <= im/12
			switch {
			case abs && rel:
				r.result = "pass"
			case !abs && !rel:
				r.result = "**FAIL**"
			case abs:
				r.result = "**FAIL** (≤ 1.0 B met, 1/12 not)"
			default:
				r.result = "**FAIL** (1/12 met, ≤ 1.0 B not)"
			}
		}
		if info {
			r.target = "(information)"
			r.result = strings.ReplaceAll(r.result, "**", "") + " (information)"
		}
		return r
	}
	rows := []row{
		sizeRow("1", "Bytes on disk per point, rollups included",
			data+"; Apiary: `store.Write` + `Seal`, graceful `Close`, du of the whole data dir; InfluxDB: HTTP `/write`, shards compacted when cold, influxd stopped, du of `data/<db>` + `wal/<db>`; "+runs, a, false),
		sizeRow("1b", "… Apiary after a full Pebble compaction of the whole keyspace",
			"the closed data dir opened with Pebble by the benchmark, `Compact` of the whole keyspace, du of the whole dir again", ac, true),
		sizeRow("1c", "… of that, Pebble's tables alone",
			"1b less the WAL, the store's 8 MiB ballast file and Pebble's manifest: what grows with the data", ad, true),
	}
	// Figure 2.
	r2 := row{fig: "2", what: "Write throughput, points/s",
		how:    fmt.Sprintf("the writes of figure 1: %d parallel writers, batches of %d readings (lines); Apiary: the `Write` calls plus the `Seal`, in process; InfluxDB: HTTP `/write?precision=s` from a Go client until the last 204; %s", *flagWriters, *flagBatch, runs),
		apiary: num(medianF(ar)), influx: num(medianF(ir)), target: "≥ 2× InfluxDB", ratio: "–", result: "n/a"}
	if len(ar) == 0 {
		r2.apiary = "failed"
	}
	if len(ir) == 0 {
		r2.influx = "–"
	}
	if len(ar) > 0 && len(ir) > 0 {
		x := medianF(ar) / medianF(ir)
		r2.ratio = fmt.Sprintf("%.2f×", x)
		r2.result = passFail(x >= 2)
	}
	rows = append(rows, r2)
	*notes = append(*notes, fmt.Sprintf("Figure 1: row 1 is the whole data directory after `Seal` and a graceful `Close`, which flushes the memtable, compacts the sealed hours' records away (their range deletions), and leaves neither the store's 8 MiB ballast file (its reserve for a full disk, made again by the next `Open`) nor obsolete WAL files. Row 1b: the benchmark opens the closed directory with Pebble itself (with a merger of the store's merger name, %q), compacts the whole keyspace, closes it, measures, then reopens the store and checks that a field still has all its points. InfluxDB was made to compact by configuration instead of a restart or the 4 h wait: `cache-snapshot-write-cold-duration = %s`, `compact-full-write-cold-duration = %s` (defaults 10m and 4h); after the last write the benchmark waited until no WAL segment held data, no `.tmp` file existed and no file had changed for %s (and at least that plus the cold duration after the last write), then stopped influxd with SIGTERM and measured. du counts allocated blocks; the runs table splits them by kind of file.", recordMergerName, *flagInfCold/3, *flagInfCold, *flagSettle))
	if spaces != nil {
		var keys []string
		for k := range spaces {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(x, y int) bool { return spaces[keys[x]] > spaces[keys[y]] })
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %s (%.3f B/point)", k, kibBytes(spaces[k]), float64(spaces[k])/float64(wr.points)))
		}
		*notes = append(*notes, "Figure 1b: keys and values after the full compaction, by key space of the store (store/keys.go), before Pebble's block compression: "+strings.Join(parts, ", ")+".")
	}
	if !settled {
		*notes = append(*notes, "Figure 1: InfluxDB's files did not settle within 10 minutes in at least one run: its size is from before its compaction ended.")
	}
	*notes = append(*notes, "Figure 2: Apiary's time includes `Seal`, which turns every closed hour's records into the columnar chunks and rollups; InfluxDB's does not include the TSM snapshot and compactions that it runs in the background after the writes (see figure 1). Apiary is called in process, InfluxDB through HTTP on loopback: the protocol's cost is InfluxDB's, as it is for any client of it. The store's background seal (every 30 s) runs during the writes as it would in the appliance.")
	return rows
}

// sizeRatio is Apiary ÷ InfluxDB, also as a fraction when below 1.
func sizeRatio(a, i float64) string {
	if i <= 0 {
		return "–"
	}
	x := a / i
	if x < 1 && x > 0 {
		return fmt.Sprintf("%.3f (1/%.1f)", x, 1/x)
	}
	return fmt.Sprintf("%.2f×", x)
}

func (rep *report) queryRows(q *queryResult, notes *[]string) []row {
	r := row{fig: "3", what: fmt.Sprintf("1-year chart of one node, %d fields, ≤ %d points a series, ms", *flagFields, *flagMaxPoints),
		how: fmt.Sprintf("%s 1-min readings of one node (%s points) in a store/database of its own; Apiary: one `store.DownsampleFields` for the %d fields, width %s; InfluxDB: one `SELECT mean(*) … GROUP BY time(%ds)` via HTTP `/query`; median of %d after a warm-up",
			num(float64(*flagYear)), num(float64(q.points)), *flagFields, q.width, int64(q.width/time.Second), *flagReps),
		target: "≥ 10× faster", ratio: "–", result: "n/a"}
	if q.apiaryErr != nil {
		r.apiary = "failed: " + mdEscape(q.apiaryErr.Error())
	} else {
		r.apiary = fmtMS(median(q.apiary))
	}
	if rep.influxd == "" {
		r.influx = "–"
	} else if q.influxErr != nil {
		r.influx = "failed: " + mdEscape(q.influxErr.Error())
	} else {
		r.influx = fmtMS(median(q.influx))
	}
	if q.apiaryErr == nil && q.influxErr == nil && len(q.influx) > 0 && len(q.apiary) > 0 {
		x := float64(median(q.influx)) / float64(median(q.apiary))
		r.ratio = fmt.Sprintf("%.1f× faster", x)
		if x < 1 {
			r.ratio = fmt.Sprintf("%.1f× slower", 1/x)
		}
		r.result = passFail(x >= 10)
	}
	var as, is []string
	for _, d := range q.apiary {
		as = append(as, fmtMS(d))
	}
	for _, d := range q.influx {
		is = append(is, fmtMS(d))
	}
	n := fmt.Sprintf("Figure 3: the range is %s to %s; Apiary answered %v buckets per field (it reads hourly rollups for buckets ≥ 1 h, daily ones for buckets ≥ 1 day, else points) in %s ms; InfluxDB answered %d non-empty rows over %d fields in %s ms, to `%s`. InfluxDB's query runs after its shards were compacted (as in figure 1); Apiary's store was closed and reopened after loading. Loading took %s (Apiary: `Write` + `Seal`) and %s (InfluxDB: writes + compaction).",
		q.from.Format("2006-01-02"), q.to.Format("2006-01-02 15:04"), q.apiaryBuckets, strings.Join(as, ", "), q.influxBuckets, q.influxSeries, strings.Join(is, ", "), q.influxQuery,
		q.apiaryLoad.Round(time.Second), q.influxLoad.Round(time.Second))
	*notes = append(*notes, n)
	return []row{r}
}

func (rep *report) liveRows(l *liveResult, notes *[]string) []row {
	load := fmt.Sprintf("%d nodes × %d fields at 1 reading/s (%s points/s)", *flagLiveNodes, *flagLiveFlds, num(float64(*flagLiveNodes**flagLiveFlds)))
	r4 := row{fig: "4", what: "RSS of the whole appliance under live load, MiB: peak (median)",
		how:    load + fmt.Sprintf("; Apiary: `apiary serve` (default config) fed by %d paho QoS %d clients, `/` and `/d/<node>?range=24h` fetched every %s; InfluxDB: one HTTP `/write` line per node and second, a 24 h `mean(*)` chart and a `last(*)` overview query every %s; VmRSS every second over warm-up + window", *flagLiveNodes, *flagLiveQoS, *flagDashEvery, *flagDashEvery),
		target: "≤ 64 MiB", ratio: "–", result: "n/a"}
	r5 := row{fig: "5", what: "Disk writes per stored point, bytes",
		how:    fmt.Sprintf("`/proc/<pid>/io` write_bytes over the %s window of run 4 ÷ points stored in it (Apiary: its `/metrics`; InfluxDB: acknowledged)", *flagDuration),
		target: "≤ 10 B", ratio: "–", result: "n/a"}
	var aPeak, iPeak int64
	var aBPP, iBPP float64
	if a := l.apiary; a != nil && a.err == nil {
		peak, med := rssStats(a.rss)
		aPeak = peak
		r4.apiary = fmt.Sprintf("%.1f (%.1f)", float64(peak)/1024, float64(med)/1024)
		r4.result = passFail(float64(peak)/1024 <= 64)
		aBPP = float64(a.writeBytes) / math.Max(1, float64(a.points))
		r5.apiary = fmt.Sprintf("%.1f", aBPP)
		r5.result = passFail(aBPP <= 10)
	} else if a != nil {
		r4.apiary, r5.apiary = "failed", "failed"
	}
	if i := l.influx; i != nil && i.err == nil {
		peak, med := rssStats(i.rss)
		iPeak = peak
		r4.influx = fmt.Sprintf("%.1f (%.1f)", float64(peak)/1024, float64(med)/1024)
		iBPP = float64(i.writeBytes) / math.Max(1, float64(i.points))
		r5.influx = fmt.Sprintf("%.1f", iBPP)
	} else if i != nil {
		r4.influx, r5.influx = "failed", "failed"
	} else {
		r4.influx, r5.influx = "–", "–"
	}
	if aPeak > 0 && iPeak > 0 {
		r4.ratio = fmt.Sprintf("%.2f", float64(aPeak)/float64(iPeak))
	}
	if aBPP > 0 && iBPP > 0 {
		r5.ratio = fmt.Sprintf("%.2f", aBPP/iBPP)
	}
	rows := []row{r4, r5}
	if a := l.apiarySync; a != nil {
		r4b := row{fig: "4b", what: fmt.Sprintf("… Apiary with `sync = %q`", *flagLiveSync), how: "as 4, with a config file that sets only `[store] sync`", influx: r4.influx, target: "(information)", ratio: "–", result: "n/a"}
		r5b := row{fig: "5b", what: fmt.Sprintf("… Apiary with `sync = %q`", *flagLiveSync), how: "as 5, same run as 4b", influx: r5.influx, target: "(information)", ratio: "–", result: "n/a"}
		if a.err == nil {
			peak, med := rssStats(a.rss)
			r4b.apiary = fmt.Sprintf("%.1f (%.1f)", float64(peak)/1024, float64(med)/1024)
			r4b.result = passFail(float64(peak)/1024 <= 64) + " (information)"
			bpp := float64(a.writeBytes) / math.Max(1, float64(a.points))
			r5b.apiary = fmt.Sprintf("%.1f", bpp)
			r5b.result = passFail(bpp <= 10) + " (information)"
			if iPeak > 0 {
				r4b.ratio = fmt.Sprintf("%.2f", float64(peak)/float64(iPeak))
			}
			if iBPP > 0 {
				r5b.ratio = fmt.Sprintf("%.2f", bpp/iBPP)
			}
		} else {
			r4b.apiary, r5b.apiary = "failed", "failed"
		}
		r4b.result = strings.ReplaceAll(r4b.result, "**", "")
		r5b.result = strings.ReplaceAll(r5b.result, "**", "")
		rows = append(rows, r4b, r5b)
		*notes = append(*notes, fmt.Sprintf("Figures 4b-5b: the default `sync = \"always\"` fsyncs every commit (concurrent writers share one), and each fsync writes at least the WAL's last page again; `sync = %q` makes a write return once it is in the OS and syncs the WAL that often (a power cut can lose that much; a crash of the process loses nothing). InfluxDB's column is its default (`wal-fsync-delay = 0s`: an fsync per write) in both rows.", *flagLiveSync))
	}
	for _, a := range []*liveRun{l.apiary, l.apiarySync} {
		if a != nil && a.err == nil && a.sealedHours {
			*notes = append(*notes, fmt.Sprintf("Figures 4-5: an hour closed during the window of %q, so its write_bytes include sealing that hour.", a.sys))
		}
	}
	*notes = append(*notes, fmt.Sprintf("Figures 4-5: each system ran alone for %s warm-up + %s window with its own process; their output went to a pipe of the benchmark, not to disk. The load clients run in the benchmark process (not in the RSS). InfluxDB ran with its defaults but `[monitor] store-enabled = false` (no `_internal` database), HTTP and query logging off, inmem index (its 1.6 default). Apiary's points are counted from `apiary_points_stored_total`, InfluxDB's from the 204s. Ratio = Apiary ÷ InfluxDB.", *flagWarmup, *flagDuration))
	return rows
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "**FAIL**"
}

func fmtBPP(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", medianF(v))
}

func rssStats(kb []int64) (peak, med int64) {
	if len(kb) == 0 {
		return 0, 0
	}
	s := append([]int64(nil), kb...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)-1], s[len(s)/2]
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func fmtMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.2f", ms)
}

func kib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func kibBytes(b int64) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 10<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// num formats a number with thousands separators.
func num(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func mdEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func command() string {
	args := []string{"go", "run", "./build/benchstore"}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "o" && f.Name != "via" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"$") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(args, " ")
}

func influxVersion(bin string) string {
	if bin == "" {
		return "not installed"
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return bin
	}
	s := strings.TrimSpace(string(out))
	s = strings.TrimPrefix(s, "InfluxDB ")
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	return "1.x " + s
}

func fsType(dir string) string {
	if dir == "" {
		dir = os.TempDir()
	}
	out, err := exec.Command("df", "-T", dir).Output()
	if err != nil {
		return dir
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if f := strings.Fields(lines[len(lines)-1]); len(f) >= 2 {
		return fmt.Sprintf("%s (%s)", dir, f[1])
	}
	return dir
}

// cpuSample is the machine's busy CPU time and this process's own (with
// its waited-for children), in clock ticks.
type cpuSample struct {
	at         time.Time
	busy, self int64
}

func readCPU() cpuSample {
	c := cpuSample{at: time.Now()}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(data), "\n", 2)[0]) // cpu user nice system idle iowait irq softirq steal
		for i, v := range f[1:] {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && i != 3 && i != 4 && i < 8 {
				c.busy += n
			}
		}
	}
	if data, err := os.ReadFile("/proc/self/stat"); err == nil {
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // from field 3 (state) on
		for _, i := range []int{11, 12, 13, 14} {                // utime stime cutime cstime
			if i < len(f) {
				n, _ := strconv.ParseInt(f[i], 10, 64)
				c.self += n
			}
		}
	}
	return c
}

// othersSince is the CPU that other processes (not this one, nor its
// children that ended) used since c0, in cores. Children still running are
// counted as others: each part ends its children before it is measured.
func (c cpuSample) othersSince(c0 cpuSample) float64 {
	secs := c.at.Sub(c0.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return math.Max(0, float64((c.busy-c0.busy)-(c.self-c0.self))/100/secs) // USER_HZ is 100 on Linux
}

const quietCores = 0.25

// waitQuiet waits until the other processes on the machine use less than
// quietCores over 5 s, or -quiet-wait has passed.
func waitQuiet(part string) {
	deadline := time.Now().Add(*flagQuietWait)
	for {
		c0 := readCPU()
		time.Sleep(5 * time.Second)
		others := readCPU().othersSince(c0)
		if others < quietCores {
			return
		}
		if time.Now().After(deadline) {
			progress("%s: the machine is still busy (other processes use %.2f cores): measuring anyway", part, others)
			return
		}
		progress("%s: waiting for a quiet machine (other processes use %.2f cores)", part, others)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchstore: "+format+"\n", args...)
	killChildren()
	os.Exit(1)
}

// modules are the dependencies whose versions the report names.
var modules = map[string]string{
	"github.com/mochi-mqtt/server/v2":     "mochi-mqtt",
	"github.com/cockroachdb/pebble/v2":    "pebble",
	"github.com/eclipse/paho.mqtt.golang": "paho",
	"github.com/klauspost/compress":       "klauspost/compress",
}
