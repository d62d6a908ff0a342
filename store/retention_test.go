package store

import (
	"context"
	"testing"
	"time"
)

func TestRetentionAndDeletes(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	policy := func(realm string) Retention {
		if realm == "hiveeyes" {
			return Retention{Raw: 10 * 24 * time.Hour, Hourly: 20 * 24 * time.Hour}
		}
		return Retention{}
	}
	s := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }, Retention: policy})
	ctx := context.Background()
	other := Channel{"other", "n", "g", "node"}
	var rs []Reading
	for d := 30; d >= 1; d-- { // a reading every 6 hours for 30 days
		for h := 0; h < 24; h += 6 {
			tm := now.Add(-time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
			rs = append(rs, Reading{Channel: hive, Time: tm, Fields: map[string]float64{"weight": float64(d), "temp": 20}, Text: map[string]string{"note": "x"}},
				Reading{Channel: other, Time: tm, Fields: map[string]float64{"weight": float64(d)}})
		}
	}
	if err := s.Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	far := now.Add(-100 * 24 * time.Hour)
	pts, _ := s.Points(ctx, hive, "weight", far, now)
	if len(pts) != 40 || pts[0].Time.Before(now.Add(-10*24*time.Hour)) {
		t.Errorf("hiveeyes raw after retention: %d points from %v, want 40 from 10 days ago", len(pts), pts[0].Time)
	}
	if pts, _ := s.Points(ctx, other, "weight", far, now); len(pts) != 120 {
		t.Errorf("other realm lost data: %d points", len(pts))
	}
	// Hourly rollups go back 20 days (whole blocks), daily ones all the way.
	if bs, _ := s.readRollups(mustChanOf(t, s, hive), resHour, far, now, nil); len(bs[s.seriesIDFor(t, hive, "weight")]) > 4*23 {
		t.Errorf("hourly rollups kept %d buckets, more than 20 days plus a block", len(bs[s.seriesIDFor(t, hive, "weight")]))
	}
	days, _, _ := s.Downsample(ctx, hive, "weight", far, now, 100)
	if len(days) != 30 {
		t.Errorf("daily rollups after raw retention: %d days, want 30", len(days))
	}
	if ci, _ := s.ChannelInfo(hive); !ci.First.Equal(now.Add(-10 * 24 * time.Hour)) {
		t.Errorf("first after retention = %v", ci.First)
	}

	if err := s.DeleteField(hive, "temp"); err != nil {
		t.Fatal(err)
	}
	if pts, _ := s.Points(ctx, hive, "temp", far, now); len(pts) != 0 {
		t.Errorf("deleted field still has %d points", len(pts))
	}
	if pts, _ := s.Points(ctx, hive, "weight", far, now); len(pts) != 40 {
		t.Errorf("deleting temp touched weight: %d points", len(pts))
	}
	if err := s.DeleteField(hive, "nope"); err == nil {
		t.Error("deleting a missing field succeeded")
	}
	if err := s.DeleteChannel(other); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.ChannelInfo(other); ok {
		t.Error("deleted channel still listed")
	}
	// A reading after the delete starts afresh.
	s.Write(ctx, []Reading{{Channel: other, Time: now, Fields: map[string]float64{"weight": 5}}})
	if pts, _ := s.Points(ctx, other, "weight", far, now); len(pts) != 1 {
		t.Errorf("after delete and a new reading: %d points", len(pts))
	}
	s.Close()
	s = openTest(t, s.opts.Dir, Options{Now: func() time.Time { return now }})
	if len(s.Channels()) != 2 {
		t.Errorf("after reopen: %d channels", len(s.Channels()))
	}
	if ci, _ := s.ChannelInfo(hive); len(ci.Fields) != 2 {
		t.Errorf("after reopen hive has fields %+v", ci.Fields)
	}
}

func mustChanOf(t *testing.T, s *Store, ch Channel) uint32 {
	id, ok := s.cat.channelID(ch)
	if !ok {
		t.Fatal("no channel")
	}
	return id
}

func (s *Store) seriesIDFor(t *testing.T, ch Channel, name string) uint32 {
	id, ok := s.cat.seriesID(ch, name, Numeric)
	if !ok {
		t.Fatal("no series")
	}
	return id
}
