package store

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// TestDirectSealMergesWhatIsThere: a bulk write into a closed hour that
// already has a chunk and records seals them all into one chunk, the bulk
// values winning at equal times and the other fields kept.
func TestDirectSealMergesWhatIsThere(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openTest(t, dir, Options{Now: clock})
	ctx := context.Background()
	h := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return h.Add(time.Duration(m) * time.Minute) }
	write := func(rs ...Reading) {
		t.Helper()
		if err := s.Write(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	for m := range 5 { // too few for a direct seal: records
		write(Reading{Channel: hive, Time: at(m), Fields: map[string]float64{"weight": 1, "temp": 20 + float64(m)}})
	}
	if n := len(s.dueHours(now)); n != 1 {
		t.Fatalf("%d hours with records after 5 readings, want 1", n)
	}
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	write(Reading{Channel: hive, Time: at(1), Fields: map[string]float64{"weight": 7}}) // late, over the chunk
	write(Reading{Channel: hive, Time: at(5), Fields: map[string]float64{"weight": 2}})
	var bulk []Reading
	for m := range 60 {
		bulk = append(bulk, Reading{Channel: hive, Time: at(m), Fields: map[string]float64{"weight": 100 + float64(m)}})
	}
	write(bulk...)
	if n := len(s.dueHours(now)); n != 0 {
		t.Fatalf("%d hours with records after the direct seal, want 0", n)
	}
	check := func(stage string) {
		t.Helper()
		w, err := s.Points(ctx, hive, "weight", h, h.Add(time.Hour-1))
		if err != nil || len(w) != 60 {
			t.Fatalf("%s: %d weight points, %v", stage, len(w), err)
		}
		for m, p := range w {
			if !p.Time.Equal(at(m)) || p.Value != 100+float64(m) {
				t.Fatalf("%s: weight point %d = %v, want %v at %s", stage, m, p, 100+float64(m), at(m))
			}
		}
		temp, _ := s.Points(ctx, hive, "temp", h, h.Add(time.Hour-1))
		if len(temp) != 5 || temp[4].Value != 24 {
			t.Fatalf("%s: temp %v, want the 5 values sealed before", stage, temp)
		}
		ci, _ := s.ChannelInfo(hive)
		if f, _ := ci.Field("weight"); f.LastValue != 159 || !f.Last.Equal(at(59)) {
			t.Fatalf("%s: catalogue %+v", stage, f)
		}
		bs, _, err := s.Downsample(ctx, hive, "weight", h, h.Add(time.Hour-1), 1)
		if err != nil || len(bs) != 1 || bs[0].Count != 60 || bs[0].Min != 100 || bs[0].Max != 159 || bs[0].Sum != 60*100+59*60/2 {
			t.Fatalf("%s: hourly bucket %+v, %v", stage, bs, err)
		}
	}
	check("written")
	if got := s.Stats().ReadingsStored; got != 5+2+60 {
		t.Errorf("%d readings counted, want 67", got)
	}
	s.Close()
	s = openTest(t, dir, Options{Now: clock})
	check("reopened")
}

// TestDirectSealBesideRecords runs bulk writes of closed hours (sealed
// directly) and single writes into the same hours and fields (records) at
// the same time, with an fsync per commit: nothing is lost, every point
// holds one of the values written at its time, and after the seal and a
// reopen the hours have no records left.
func TestDirectSealBesideRecords(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openTest(t, dir, Options{Now: clock})
	ctx := context.Background()
	h0 := time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC)
	const hours = 6
	other := Channel{"hiveeyes", "testdrive", "area-42", "node-2"}
	at := func(m int) time.Time { return h0.Add(time.Duration(m) * time.Minute) }
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() { // bulk: an hour of weights per write, two channels
		defer wg.Done()
		for i := range hours {
			var rs []Reading
			for m := i * 60; m < (i+1)*60; m++ {
				rs = append(rs, Reading{Channel: hive, Time: at(m), Fields: map[string]float64{"weight": float64(m)}},
					Reading{Channel: other, Time: at(m), Fields: map[string]float64{"weight": float64(m)}})
			}
			if err := s.Write(ctx, rs); err != nil {
				errs <- err
				return
			}
		}
	}()
	for w := range 2 { // singles, one reading per write: the same weights negated, and temperatures
		go func() {
			defer wg.Done()
			for m := range hours * 60 {
				f := map[string]float64{"temp": float64(m)}
				if w == 0 {
					f = map[string]float64{"weight": -float64(m)}
				}
				if err := s.Write(ctx, []Reading{{Channel: hive, Time: at(m), Fields: f}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		end := h0.Add(hours*time.Hour - 1)
		for _, c := range []struct {
			ch    Channel
			field string
			ok    func(m int, v float64) bool
		}{
			{hive, "weight", func(m int, v float64) bool { return v == float64(m) || v == -float64(m) }},
			{other, "weight", func(m int, v float64) bool { return v == float64(m) }},
			{hive, "temp", func(m int, v float64) bool { return v == float64(m) }},
		} {
			pts, err := s.Points(ctx, c.ch, c.field, h0, end)
			if err != nil || len(pts) != hours*60 {
				t.Fatalf("%s: %s %s: %d points, want %d (%v)", stage, c.ch.Node, c.field, len(pts), hours*60, err)
			}
			for m, p := range pts {
				if !p.Time.Equal(at(m)) || !c.ok(m, p.Value) {
					t.Fatalf("%s: %s %s point %d = %v", stage, c.ch.Node, c.field, m, p)
				}
			}
		}
	}
	check("written")
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(s.dueHours(now)); n != 0 {
		t.Fatalf("%d hours left with records", n)
	}
	check("sealed")
	s.Close()
	s = openTest(t, dir, Options{Now: clock})
	check("reopened")
}

// TestDirectSealIntoChunk: a second bulk write into an hour sealed
// directly before (no records in between: the path beside other writes)
// replaces the values at its times and keeps the rest.
func TestDirectSealIntoChunk(t *testing.T) {
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	s := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	h := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return h.Add(time.Duration(m) * time.Minute) }
	var first, second []Reading
	for m := range 40 {
		first = append(first, Reading{Channel: hive, Time: at(m), Fields: map[string]float64{"weight": 1, "temp": 20}})
	}
	for m := 20; m < 60; m++ {
		second = append(second, Reading{Channel: hive, Time: at(m), Fields: map[string]float64{"weight": 2}})
	}
	for _, rs := range [][]Reading{first, second} {
		if err := s.Write(ctx, rs); err != nil {
			t.Fatal(err)
		}
		if n := len(s.dueHours(now)); n != 0 {
			t.Fatalf("%d hours with records after a bulk write, want 0", n)
		}
	}
	w, _ := s.Points(ctx, hive, "weight", h, h.Add(time.Hour-1))
	temp, _ := s.Points(ctx, hive, "temp", h, h.Add(time.Hour-1))
	if len(w) != 60 || len(temp) != 40 {
		t.Fatalf("%d weights, %d temperatures, want 60 and 40", len(w), len(temp))
	}
	for m, p := range w {
		if want := map[bool]float64{true: 1, false: 2}[m < 20]; p.Value != want {
			t.Fatalf("weight at minute %d = %v, want %v", m, p.Value, want)
		}
	}
	bs, _, err := s.Downsample(ctx, hive, "weight", h, h.Add(time.Hour-1), 1)
	if err != nil || len(bs) != 1 || bs[0].Count != 60 || bs[0].Sum != 20*1+40*2 {
		t.Fatalf("hourly bucket %+v, %v", bs, err)
	}
}

// TestDirectSealAcrossBlocks: one write of four days of 1-second readings
// (more values than a seal batch holds, across a boundary of the 3-day
// hourly rollup blocks) is sealed directly with every point and bucket.
func TestDirectSealAcrossBlocks(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	s := openTest(t, dir, Options{Now: func() time.Time { return now }, SyncInterval: time.Minute})
	ctx := context.Background()
	start := resHour.blockStart(time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)).Add(-48 * time.Hour) // 2 days in each block
	const step = 10 * time.Second
	n := int(4 * 24 * time.Hour / step)
	var rs []Reading
	daySums := make([]float64, 4)
	for i := range n {
		f := map[string]float64{}
		for k := range 10 {
			f[fmt.Sprintf("f%d", k)] = float64(i%100) / 10
		}
		rs = append(rs, Reading{Channel: hive, Time: start.Add(time.Duration(i) * step), Fields: f})
		daySums[i/8640] += float64(i%100) / 10
	}
	if n*10 <= sealBatchCells {
		t.Fatalf("%d values fit one seal batch of %d", n*10, sealBatchCells)
	}
	if err := s.Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if got := len(s.dueHours(now)); got != 0 {
		t.Fatalf("%d hours with records", got)
	}
	end := start.Add(4*24*time.Hour - 1)
	pts, err := s.Points(ctx, hive, "f3", start, end)
	if err != nil || len(pts) != n {
		t.Fatalf("%d points, want %d (%v)", len(pts), n, err)
	}
	hours, _, err := s.Downsample(ctx, hive, "f3", start, end, 96)
	if err != nil || len(hours) != 96 {
		t.Fatalf("%d hourly buckets, want 96 (%v)", len(hours), err)
	}
	for _, b := range hours {
		if b.Count != 360 || b.Min != 0 || b.Max != 9.9 {
			t.Fatalf("hourly bucket %+v", b)
		}
	}
	days, _, err := s.Downsample(ctx, hive, "f3", start, end, 4)
	if err != nil || len(days) != 4 {
		t.Fatalf("%d daily buckets, want 4 (%v)", len(days), err)
	}
	for d, b := range days {
		if b.Count != 8640 || math.Abs(b.Sum-daySums[d]) > 1e-6 {
			t.Fatalf("daily bucket %+v, want sum %v", b, daySums[d])
		}
	}
}

// TestDirectSealFallsBackToRecords: when the hour's chunk cannot be read,
// a bulk write is still stored, as records for the background seal.
func TestDirectSealFallsBackToRecords(t *testing.T) {
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	s := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	h := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	one := Reading{Channel: hive, Time: h, Fields: map[string]float64{"weight": 1}}
	if err := s.Write(ctx, []Reading{one}); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(pointKey(prefixChunk, mustChan(t, s), h), []byte("not a chunk"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	var bulk []Reading
	for m := 1; m < 30; m++ {
		bulk = append(bulk, Reading{Channel: hive, Time: h.Add(time.Duration(m) * time.Minute), Fields: map[string]float64{"weight": float64(m)}})
	}
	if err := s.Write(ctx, bulk); err != nil {
		t.Fatalf("bulk write into an hour with a corrupt chunk: %v", err)
	}
	if n := len(s.dueHours(now)); n != 1 {
		t.Fatalf("%d hours with records, want the one with the corrupt chunk", n)
	}
	if got := s.Stats().ReadingsStored; got != 30 {
		t.Errorf("%d readings counted, want 30", got)
	}
}

// TestDirectSealDropsDeletedFields: a field deleted between a commit's
// taking its id and the direct seal is not written into the chunk.
func TestDirectSealDropsDeletedFields(t *testing.T) {
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	s := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	h := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := s.Write(ctx, []Reading{{Channel: hive, Time: h, Fields: map[string]float64{"weight": 1, "temp": 2}}}); err != nil {
		t.Fatal(err)
	}
	chanID := mustChan(t, s)
	temp := s.seriesIDFor(t, hive, "temp")
	weight := s.seriesIDFor(t, hive, "weight")
	if err := s.DeleteField(hive, "temp"); err != nil {
		t.Fatal(err)
	}
	fresh := hourData{}
	fresh.put(weight, h.Add(time.Minute).UnixNano(), cell{num: 5})
	fresh.put(temp, h.Add(time.Minute).UnixNano(), cell{num: 6})
	if err := s.sealDirect(map[chanHour]hourData{{chanID, h}: fresh}); err != nil {
		t.Fatal(err)
	}
	v, closer, err := s.db.Get(pointKey(prefixChunk, chanID, h))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	back := hourData{}
	if err := s.codec.decodeChunk(v, nil, back.put); err != nil {
		t.Fatal(err)
	}
	if back[temp] != nil || back[weight].len() != 2 {
		t.Errorf("chunk holds %d series (temp %v), want weight alone with 2 values", len(back), back[temp] != nil)
	}
}

// TestRollupCacheFollowsDeletes: the rollup blocks that bulk writes keep
// decoded for their next batch are dropped when a deletion or retention
// rewrites blocks on disk, so that the next bulk write does not bring a
// deleted field's or an expired hour's buckets back.
func TestRollupCacheFollowsDeletes(t *testing.T) {
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	var keepHourly time.Duration
	s := openTest(t, t.TempDir(), Options{
		Now:       func() time.Time { return now },
		Retention: func(string) Retention { return Retention{Hourly: keepHourly} },
	})
	ctx := context.Background()
	bulk := func(h time.Time, fields ...string) {
		t.Helper()
		var rs []Reading
		for m := range 60 {
			r := Reading{Channel: hive, Time: h.Add(time.Duration(m) * time.Minute), Fields: map[string]float64{}}
			for _, f := range fields {
				r.Fields[f] = float64(m)
			}
			rs = append(rs, r)
		}
		if err := s.Write(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) // the first day of an hourly block
	chanHourly := func() rollupBlock {
		t.Helper()
		blk, err := s.loadRollup(mustChan(t, s), resHour, day)
		if err != nil {
			t.Fatal(err)
		}
		return blk
	}

	bulk(day.Add(10*time.Hour), "weight", "temp")
	if len(s.rollups.blocks) == 0 {
		t.Fatal("a bulk write kept no rollup block for its next batch")
	}
	temp := s.seriesIDFor(t, hive, "temp")
	if err := s.DeleteField(hive, "temp"); err != nil {
		t.Fatal(err)
	}
	bulk(day.Add(11*time.Hour), "weight")
	if blk := chanHourly(); blk[temp] != nil {
		t.Errorf("the deleted field's buckets are back in the hourly block after the next bulk write")
	}

	// Retention drops the hourly block (it ends more than 6 days ago); the
	// next bulk write into it must start it afresh.
	keepHourly = 6 * 24 * time.Hour
	if err := s.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if blk := chanHourly(); len(blk) != 0 {
		t.Fatalf("retention left the hourly block: %d series", len(blk))
	}
	keepHourly = 0
	bulk(day.Add(12*time.Hour), "weight")
	weight := s.seriesIDFor(t, hive, "weight")
	var hours []int
	for i, bk := range chanHourly()[weight] {
		if bk.Count > 0 {
			hours = append(hours, i)
		}
	}
	if len(hours) != 1 || hours[0] != 12 {
		t.Errorf("hourly buckets at slots %v after retention and a bulk write, want [12]", hours)
	}
}
