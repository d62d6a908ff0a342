package ui

import (
	"testing"
	"time"

	"github.com/apiary-hive/apiary/store"
)

func TestDetectSwarms(t *testing.T) {
	t0 := time.Date(2026, 5, 20, 8, 0, 0, 0, time.UTC)
	weights := func(vals func(i int) float64, n int) []store.Point {
		var pts []store.Point
		for i := 0; i < n; i++ {
			pts = append(pts, store.Point{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Value: vals(i)})
		}
		return pts
	}
	// A swarm at 11:00: 2.1 kg gone in ten minutes, and it stays gone.
	swarmDay := weights(func(i int) float64 {
		switch {
		case i < 36:
			return 42 + float64(i)*0.01
		case i == 36:
			return 41.2
		default:
			return 40.25
		}
	}, 100)
	got := detectSwarms(swarmDay)
	if len(got) != 1 || got[0].Drop < 2 || got[0].At.Before(t0.Add(3*time.Hour)) || got[0].At.After(t0.Add(3*time.Hour+10*time.Minute)) {
		t.Errorf("swarm day: %+v", got)
	}
	// A beekeeper lifts a super off for 20 minutes: down and back up.
	inspection := weights(func(i int) float64 {
		if i >= 36 && i < 40 {
			return 30
		}
		return 42
	}, 100)
	if got := detectSwarms(inspection); len(got) != 0 {
		t.Errorf("inspection taken for a swarm: %+v", got)
	}
	// Slow consumption is no swarm.
	if got := detectSwarms(weights(func(i int) float64 { return 42 - float64(i)*0.02 }, 200)); len(got) != 0 {
		t.Errorf("slow loss taken for a swarm: %+v", got)
	}
}

func TestDailyChanges(t *testing.T) {
	d := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	days := []store.Bucket{{Start: d, Last: 40}, {Start: d.Add(24 * time.Hour), Last: 41.5}, {Start: d.Add(48 * time.Hour), Last: 39.25}}
	got := dailyChanges(days)
	if len(got) != 2 || got[0].Change != 1.5 || got[1].Change != -2.25 || !got[1].Day.Equal(d.Add(48*time.Hour)) {
		t.Errorf("changes = %+v", got)
	}
}
