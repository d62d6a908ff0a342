package ui

import (
	"math"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// dayChange is one day's weight change: what the hive gained (nectar flow,
// feeding) or lost (consumption, a swarm), last reading against the last
// reading of the day before.
type dayChange struct {
	Day    time.Time // local midnight
	Change float64   // kg
}

// dailyChanges computes day-by-day weight changes from daily buckets
// (sorted by start): each day's last value against the previous day's last.
func dailyChanges(days []store.Bucket) []dayChange {
	var out []dayChange
	for i := 1; i < len(days); i++ {
		out = append(out, dayChange{Day: days[i].Start, Change: roundFloat(days[i].Last - days[i-1].Last)})
	}
	return out
}

// swarm is a sudden weight drop that a swarm leaving the hive would cause.
type swarm struct {
	At   time.Time
	Drop float64 // kg, positive
}

// Swarm detection: a drop of at least minDrop kg within window, that has
// not come back an hour later (a beekeeper lifting a super and putting it
// back has). A swarm takes half the colony, 1.5 to 3 kg, in minutes.
const (
	swarmMinDrop = 1.0
	swarmWindow  = 30 * time.Minute
	swarmHold    = time.Hour
)

func detectSwarms(pts []store.Point) []swarm {
	var out []swarm
	for i := 1; i < len(pts); i++ {
		// The largest drop from a point in the window before pts[i].
		peak := pts[i-1].Value
		for j := i - 1; j >= 0 && pts[i].Time.Sub(pts[j].Time) <= swarmWindow; j-- {
			peak = math.Max(peak, pts[j].Value)
		}
		drop := peak - pts[i].Value
		if drop < swarmMinDrop {
			continue
		}
		// Still down an hour later?
		later := -1
		for k := i + 1; k < len(pts); k++ {
			if pts[k].Time.Sub(pts[i].Time) >= swarmHold {
				later = k
				break
			}
		}
		if later < 0 || peak-pts[later].Value < 0.7*drop {
			continue
		}
		// The same event seen from later points: keep when it began, and
		// the whole drop.
		if n := len(out); n > 0 && pts[i].Time.Sub(out[n-1].At) < 2*swarmHold {
			out[n-1].Drop = math.Max(out[n-1].Drop, roundFloat(drop))
			continue
		}
		out = append(out, swarm{At: pts[i].Time, Drop: roundFloat(drop)})
	}
	return out
}

// localMidnight is the start of t's day in zone.
func localMidnight(t time.Time, zone *time.Location) time.Time {
	y, m, d := t.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}
