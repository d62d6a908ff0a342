package store_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// testdata/store-format3.tar.gz is a data directory of store format 3,
// written before Rice-coded columns (chunk version 1, uvarint columns),
// with compatReadings sealed into chunks and rollups. It was made by
// running this test with APIARY_COMPAT_FIXTURE_OUT set, on that code
// (commit 39bbdd0), without the file's LOCK:
//
//	APIARY_COMPAT_FIXTURE_OUT=/tmp/fx go test -run TestReadsFormat3Store ./store
//	tar -C /tmp/fx --exclude=LOCK -czf store/testdata/store-format3.tar.gz .

var compatNow = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)

// compatReadings are three hours of two nodes with the kinds of columns a
// chunk holds: decimals that drift and jitter, a counter, floats that are
// no short decimal, integers near 2^53, a sparse field, text, times in
// milliseconds that jitter and times on the second.
func compatReadings() []store.Reading {
	var out []store.Reading
	start := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	one := store.Channel{Realm: "hiveeyes", Network: "compat", Gateway: "apiary-1", Node: "hive-1"}
	for i := 0; i < 3*3600/37; i++ {
		r := store.Reading{
			Channel: one,
			Time:    start.Add(time.Duration(i)*37*time.Second + time.Duration(i*7919%1000)*time.Millisecond),
			Fields: map[string]float64{
				"weight":      math.Round((42.17+float64(i)*0.003+float64(i*31%7-3)*0.01)*100) / 100,
				"temperature": math.Round((34.8+float64(i*17%21-10)*0.01)*100) / 100,
				"uptime":      float64(i * 37),
				"ratio":       1 / float64(i+3),
				"big":         float64(int64(1<<53-1) - int64(i)),
				"cold":        math.Round((-273.15+float64(i%5)*0.001)*1000) / 1000,
			},
		}
		if i%3 == 0 {
			r.Fields["sparse"] = float64(i) / 4
		}
		if i%10 == 0 {
			r.Text = map[string]string{"state": fmt.Sprintf("state-%d", i/20)}
		}
		out = append(out, r)
	}
	two := store.Channel{Realm: "hiveeyes", Network: "compat", Gateway: "apiary-1", Node: "hive-2"}
	for i := 0; i < 3600; i++ {
		out = append(out, store.Reading{
			Channel: two,
			Time:    start.Add(time.Duration(i) * time.Second),
			Fields: map[string]float64{
				"humidity": math.Round((60+float64(i*13%9-4)*0.1)*10) / 10,
				"rssi":     float64(-70 + i*7%5),
			},
		})
	}
	return out
}

func TestReadsFormat3Store(t *testing.T) {
	ctx := context.Background()
	if out := os.Getenv("APIARY_COMPAT_FIXTURE_OUT"); out != "" {
		s, err := store.Open(store.Options{Dir: out, BallastBytes: -1, Now: func() time.Time { return compatNow }})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, compatReadings()); err != nil {
			t.Fatal(err)
		}
		if err := s.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Skip("wrote the fixture to", out)
	}

	dir := t.TempDir()
	untarGz(t, filepath.Join("testdata", "store-format3.tar.gz"), dir)
	s, err := store.Open(store.Options{Dir: dir, BallastBytes: -1, Now: func() time.Time { return compatNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	readings := compatReadings()
	checkCompatReadings(t, s, readings)

	// New hours beside the old ones: sealed in the new format, both read.
	later := compatReadings()
	for i := range later {
		later[i].Time = later[i].Time.Add(3 * time.Hour)
	}
	if err := s.Write(ctx, later); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	checkCompatReadings(t, s, append(readings, later...))
}

// checkCompatReadings compares every series' points, and its hourly
// rollups, with what was written.
func checkCompatReadings(t *testing.T, s *store.Store, readings []store.Reading) {
	t.Helper()
	ctx := context.Background()
	type key struct {
		ch    store.Channel
		field string
	}
	nums := map[key][]store.Point{}
	texts := map[key][]store.TextPoint{}
	from, to := readings[0].Time, readings[0].Time
	for _, r := range readings {
		for f, v := range r.Fields {
			k := key{r.Channel, f}
			nums[k] = append(nums[k], store.Point{Time: r.Time, Value: v})
		}
		for f, v := range r.Text {
			k := key{r.Channel, f}
			texts[k] = append(texts[k], store.TextPoint{Time: r.Time, Value: v})
		}
		from, to = minTime(from, r.Time), maxTime(to, r.Time)
	}
	from, to = from.Truncate(time.Hour), to.Truncate(time.Hour).Add(time.Hour)
	for k, want := range nums {
		got, err := s.Points(ctx, k.ch, k.field, from, to)
		if err != nil {
			t.Fatalf("%s %s: %v", k.ch.Node, k.field, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s %s: %d points, want %d", k.ch.Node, k.field, len(got), len(want))
		}
		for i := range want {
			if !got[i].Time.Equal(want[i].Time) || got[i].Value != want[i].Value {
				t.Fatalf("%s %s point %d: %v %v, want %v %v", k.ch.Node, k.field, i, got[i].Time, got[i].Value, want[i].Time, want[i].Value)
			}
		}
		hours := int(to.Sub(from) / time.Hour)
		buckets, width, err := s.Downsample(ctx, k.ch, k.field, from, to, hours)
		if err != nil || width != time.Hour {
			t.Fatalf("%s %s: buckets of %s: %v", k.ch.Node, k.field, width, err)
		}
		byHour := map[time.Time][]store.Point{}
		for _, p := range want {
			byHour[p.Time.Truncate(time.Hour)] = append(byHour[p.Time.Truncate(time.Hour)], p)
		}
		if len(buckets) != len(byHour) {
			t.Fatalf("%s %s: %d hourly buckets, want %d", k.ch.Node, k.field, len(buckets), len(byHour))
		}
		for _, b := range buckets {
			ps := byHour[b.Start]
			lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
			for _, p := range ps {
				lo, hi, sum = math.Min(lo, p.Value), math.Max(hi, p.Value), sum+p.Value
			}
			if b.Count != int64(len(ps)) || b.Min != lo || b.Max != hi || b.First != ps[0].Value || b.Last != ps[len(ps)-1].Value ||
				math.Abs(b.Sum-sum) > 1e-9*math.Max(1, math.Abs(sum)) {
				t.Fatalf("%s %s hour %s: %+v, want count %d min %v max %v sum %v", k.ch.Node, k.field, b.Start, b, len(ps), lo, hi, sum)
			}
		}
	}
	for k, want := range texts {
		got, err := s.TextPoints(ctx, k.ch, k.field, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s %s: %d texts, want %d", k.ch.Node, k.field, len(got), len(want))
		}
		for i := range want {
			if !got[i].Time.Equal(want[i].Time) || got[i].Value != want[i].Value {
				t.Fatalf("%s %s text %d: %v %q, want %v %q", k.ch.Node, k.field, i, got[i].Time, got[i].Value, want[i].Time, want[i].Value)
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// untarGz unpacks the regular files of a .tar.gz into dir.
func untarGz(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.Create(filepath.Join(dir, filepath.Base(h.Name)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
}
