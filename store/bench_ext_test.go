package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/internal/hivegen"
	"github.com/apiary-hive/apiary/store"
)

// The store's write path (Write and Seal) and query paths (raw points of a
// day, a one-year chart from rollups), on data of internal/hivegen:
//
//	go test -run XXX -bench . -benchmem ./store
//
// BenchmarkDownsampleYear loads a year of data first (about half a
// minute) and BenchmarkLiveDiskWrites simulates three hours (about half
// a minute): -bench 'Chunk|Record|WriteSeal|PointsDay' skips them.

const benchFields = 10

// loadBench writes days of 1-minute readings of nodes × benchFields into a
// new store, in batches as the benchmark program sends them, and returns
// the store and the points written.
func loadBench(b *testing.B, nodes, days int, start time.Time) (*store.Store, int) {
	b.Helper()
	st, err := store.Open(store.Options{Dir: b.TempDir(), SyncInterval: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	gen := hivegen.New(hivegen.Options{Seed: 1, Nodes: nodes, Fields: benchFields, Start: start, Interval: time.Minute})
	batch := make([]store.Reading, 0, 5000)
	points := 0
	for range days * 24 * 60 {
		for _, r := range gen.Next() {
			batch = append(batch, r)
			points += len(r.Fields)
		}
		if len(batch) >= cap(batch)-nodes {
			if err := st.Write(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Write(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	return st, points
}

// BenchmarkWriteSeal is the store's write path for a day of 10 nodes:
// Write (records, durable) and Seal (chunks and rollups), in points/s.
func BenchmarkWriteSeal(b *testing.B) {
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var points int
	for range b.N {
		st, n := loadBench(b, 10, 1, start)
		if err := st.Seal(context.Background()); err != nil {
			b.Fatal(err)
		}
		points += n
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkPointsDay reads one field's raw points of a sealed day.
func BenchmarkPointsDay(b *testing.B) {
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	st, _ := loadBench(b, 1, 1, start)
	if err := st.Seal(context.Background()); err != nil {
		b.Fatal(err)
	}
	ch := st.Channels()[0].Channel
	field := st.Channels()[0].Fields[0].Name
	b.ResetTimer()
	for range b.N {
		pts, err := st.Points(context.Background(), ch, field, start, start.Add(24*time.Hour))
		if err != nil || len(pts) != 24*60 {
			b.Fatalf("%d points: %v", len(pts), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*24*60), "ns/point")
}

// BenchmarkDownsampleYear is the one-year chart of a node: its 10 fields
// from a year of 1-minute data, at most 2000 buckets each, in one call.
func BenchmarkDownsampleYear(b *testing.B) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	st, _ := loadBench(b, 1, 365, start)
	if err := st.Seal(context.Background()); err != nil {
		b.Fatal(err)
	}
	ch := st.Channels()[0].Channel
	var names []string
	for _, f := range st.Channels()[0].Fields {
		names = append(names, f.Name)
	}
	b.ResetTimer()
	for range b.N {
		out, _, err := st.DownsampleFields(context.Background(), ch, names, start, start.AddDate(1, 0, 0), 2000)
		if err != nil || len(out[names[0]]) == 0 || len(out[names[0]]) > 2000 {
			b.Fatalf("%d buckets: %v", len(out[names[0]]), err)
		}
	}
}

// BenchmarkLiveDiskWrites is the write amplification of live ingest: 100
// nodes × 20 fields a second (one Write per reading, sync = 1s, sealed
// every half minute as the background does), over three hours of
// simulated time (about half a minute here), reported as the bytes Pebble
// wrote per point: write-ahead log, memtable flushes and compactions. It
// does not see the pages an fsync writes again (build/bench-store.sh
// measures those, from /proc).
func BenchmarkLiveDiskWrites(b *testing.B) {
	const nodes, fields, hours = 100, 20, 3
	for range b.N {
		start := time.Date(2026, 5, 1, 10, 20, 0, 0, time.UTC)
		now := start
		st, err := store.Open(store.Options{Dir: b.TempDir(), Now: func() time.Time { return now }, SyncInterval: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		gen := hivegen.New(hivegen.Options{Seed: 1, Nodes: nodes, Fields: fields, Start: start, Interval: time.Second})
		points := 0
		for sec := range hours * 3600 {
			now = start.Add(time.Duration(sec) * time.Second)
			for _, r := range gen.Next() {
				if err := st.Write(context.Background(), []store.Reading{r}); err != nil {
					b.Fatal(err)
				}
				points += len(r.Fields)
			}
			if sec%30 == 0 {
				if err := st.Seal(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}
		m := st.PebbleMetrics()
		var flushed, compacted uint64
		for _, l := range m.Levels {
			flushed += l.TableBytesFlushed
			compacted += l.TableBytesCompacted
		}
		perPoint := func(n uint64) float64 { return float64(n) / float64(points) }
		b.ReportMetric(perPoint(m.WAL.BytesWritten), "WAL-B/point")
		b.ReportMetric(perPoint(flushed), "flush-B/point")
		b.ReportMetric(perPoint(compacted), "compact-B/point")
		b.ReportMetric(perPoint(m.WAL.BytesWritten+flushed+compacted), "B/point")
		st.Close()
	}
}
