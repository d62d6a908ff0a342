package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/store"
)

func TestArrivalClock(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	c := newArrivalClock()
	for i, step := range []struct {
		source string
		now    time.Time
		want   time.Time
	}{
		{"a", t0.Add(123456789), t0.Add(123 * ms)},                    // to the millisecond
		{"a", t0.Add(123999999), t0.Add(123*ms + time.Microsecond)},   // same millisecond: a µs later
		{"a", t0.Add(123000001), t0.Add(123*ms + 2*time.Microsecond)}, // and again
		{"b", t0.Add(123500000), t0.Add(123 * ms)},                    // another source is not held back
		{"a", t0.Add(124000000), t0.Add(124 * ms)},                    // the next millisecond
		{"a", t0.Add(100 * ms), t0.Add(124*ms + time.Microsecond)},    // a clock stepping back: still later
	} {
		if got := c.stamp(step.source, step.now); !got.Equal(step.want) {
			t.Errorf("step %d: %s, want %s", i, got.Format(time.RFC3339Nano), step.want.Format(time.RFC3339Nano))
		}
	}
	// Bounded: sources not heard from for a second are forgotten.
	for i := range 3 * maxArrivalSources {
		c.stamp(fmt.Sprint("flood-", i), t0.Add(time.Duration(i)*ms))
	}
	if len(c.last) > maxArrivalSources {
		t.Errorf("%d sources remembered, want at most %d", len(c.last), maxArrivalSources)
	}
}

// TestArrivalClockForgetsSafely: when more sources than it remembers were
// all heard from within the last second, the clock forgets them all, and
// a forgotten source is still stamped after its last time.
func TestArrivalClockForgetsSafely(t *testing.T) {
	c := newArrivalClock()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	first := c.stamp("node-0", now)
	var last time.Time
	for i := 1; i <= maxArrivalSources; i++ {
		last = c.stamp(fmt.Sprint("node-", i), now)
	}
	if len(c.last) > maxArrivalSources {
		t.Fatalf("%d sources remembered, want at most %d", len(c.last), maxArrivalSources)
	}
	if _, ok := c.last["node-0"]; ok {
		t.Fatal("the flood did not make the clock forget")
	}
	if again := c.stamp("node-0", now); !again.After(first) || !again.After(last) {
		t.Errorf("node-0 again at %s, after %s and %s the first time", again, first, last)
	}
}

// sendWithinAMillisecond hands the messages (topic and payload) to the
// ingester at QoS 1, 100 µs apart from now, and returns the points of the
// node's field w, which the test's messages write.
func sendWithinAMillisecond(t *testing.T, now time.Time, msgs [][2]string) []store.Point {
	t.Helper()
	s := newHTTPSite(t)
	for i, m := range msgs {
		msg := Message{Transport: "mqtt", Source: m[0], Payload: []byte(m[1]), QoS: 1,
			Received: now.Add(time.Duration(i) * 100 * time.Microsecond)}
		if _, err := s.in.HandleTopic(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	return s.points(t, "hiveeyes/ms/test/hive", "w")
}

// TestBatchAfterSingleInOneMillisecond: a batch without times right after
// a single reading of the same node keeps all three values; the next
// message comes after the batch.
func TestBatchAfterSingleInOneMillisecond(t *testing.T) {
	const topic = "hiveeyes/ms/test/hive/data.json"
	pts := sendWithinAMillisecond(t, time.Now().Truncate(time.Millisecond),
		[][2]string{{topic, `{"w": 1}`}, {topic, `[{"w": 2}, {"w": 3}]`}, {topic, `{"w": 4}`}})
	if len(pts) != 4 {
		t.Fatalf("%v, want 4 points", pts)
	}
	for i, p := range pts {
		if p.Value != float64(i+1) {
			t.Errorf("point %d: %v, want %d (in the order sent)", i, p, i+1)
		}
	}
}

// TestMessagesInOneMillisecondKeepTheirReadings: messages of one node
// without times, arriving within a millisecond, are a point each, also
// when they come on different topics of the channel (WeeWX sends a record
// as a whole and value by value).
func TestMessagesInOneMillisecondKeepTheirReadings(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	pts := sendWithinAMillisecond(t, now, [][2]string{
		{"hiveeyes/ms/test/hive/data.json", `{"w": 1}`},
		{"hiveeyes/ms/test/hive/data.json", `{"w": 2}`},
		{"hiveeyes/ms/test/hive/data/w", `3`},
	})
	if len(pts) != 3 {
		t.Fatalf("%v, want 3 points", pts)
	}
	for i, p := range pts {
		if p.Value != float64(i+1) || !p.Time.Equal(now.Add(time.Duration(i)*time.Microsecond)) {
			t.Errorf("point %d: %v, want %d at %s", i, p, i+1, now.Add(time.Duration(i)*time.Microsecond))
		}
	}
}
