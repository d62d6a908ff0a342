package store

import (
	"context"
	"sync"
	"testing"
	"time"
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
// directly) and single writes into the same hours (records) at the same
// time: nothing is lost, and the records are sealed afterwards.
func TestDirectSealBesideRecords(t *testing.T) {
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	s := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }, SyncInterval: time.Minute})
	ctx := context.Background()
	h0 := time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC)
	const hours = 6
	other := Channel{"hiveeyes", "testdrive", "area-42", "node-2"}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(3)
	go func() { // bulk: an hour of weights per write, two channels
		defer wg.Done()
		for i := range hours {
			var rs []Reading
			for m := range 60 {
				tm := h0.Add(time.Duration(i)*time.Hour + time.Duration(m)*time.Minute)
				rs = append(rs, Reading{Channel: hive, Time: tm, Fields: map[string]float64{"weight": float64(m)}},
					Reading{Channel: other, Time: tm, Fields: map[string]float64{"weight": float64(m)}})
			}
			if err := s.Write(ctx, rs); err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 2 { // singles: a temperature a minute, one reading per write
		go func() {
			defer wg.Done()
			for m := range hours * 60 {
				r := Reading{Channel: hive, Time: h0.Add(time.Duration(m) * time.Minute), Fields: map[string]float64{"temp": float64(m)}}
				if err := s.Write(ctx, []Reading{r}); err != nil {
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
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(s.dueHours(now)); n != 0 {
		t.Fatalf("%d hours left with records", n)
	}
	end := h0.Add(hours*time.Hour - 1)
	for _, c := range []struct {
		ch    Channel
		field string
	}{{hive, "weight"}, {other, "weight"}, {hive, "temp"}} {
		pts, err := s.Points(ctx, c.ch, c.field, h0, end)
		if err != nil || len(pts) != hours*60 {
			t.Errorf("%s %s: %d points, want %d (%v)", c.ch.Node, c.field, len(pts), hours*60, err)
		}
	}
}
