package ingest

import (
	"sync"
	"time"
)

// arrivalClock stamps messages with their time of arrival, which is the
// time of the readings that carry none (most Hiveeyes firmware sends
// none). Arrival is kept to the millisecond: a clock read to the
// nanosecond stores the network's jitter, about 3 bytes a reading in a
// sealed chunk, and under one on the millisecond (a 5-field node at 1
// minute with 20 ms of jitter: 1.44 bytes a point against 0.93). A
// message is stamped strictly later than the previous one of the same
// channel, a microsecond later within the same millisecond, so that two
// messages of a node never share a time: one would overwrite the other's
// values (WeeWX publishes each record twice, as a whole and value by
// value), and messages of a value each (ESPHome, Homie) would make one
// row instead of one each.
type arrivalClock struct {
	mu   sync.Mutex
	last map[string]time.Time
	// floor is the latest time of the sources forgotten all at once: a
	// source the clock does not know is stamped after it, since it may be
	// one of them.
	floor time.Time
}

// maxArrivalSources bounds the channels (or, for HTTP routes whose body
// names the channel, paths) the clock remembers; past it, those not heard
// from in the last second are forgotten (they cannot collide with a new
// message any more), and if every one was, all are.
const maxArrivalSources = 8192

func newArrivalClock() *arrivalClock {
	return &arrivalClock{last: map[string]time.Time{}}
}

// stamp returns the time of arrival at now of a message for source (a
// channel, or a path).
func (c *arrivalClock) stamp(source string, now time.Time) time.Time {
	t := now.Truncate(time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	last, ok := c.last[source]
	if !ok {
		last = c.floor
		if len(c.last) >= maxArrivalSources {
			c.forget(now)
		}
	}
	if !t.After(last) {
		t = last.Add(time.Microsecond)
	}
	c.last[source] = t
	return t
}

// advance notes that a message for source used times up to t (a batch
// whose readings took its time of arrival, a microsecond apart), so that
// the next message is stamped after them.
func (c *arrivalClock) advance(source string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.last[source]; ok && t.After(last) {
		c.last[source] = t
	}
}

// forget drops the sources not heard from in the last second (no new
// message can come before their times any more), or, if every one was,
// all of them, remembering the latest of their times as the floor.
func (c *arrivalClock) forget(now time.Time) {
	for s, last := range c.last {
		if now.Sub(last) > time.Second {
			delete(c.last, s)
		}
	}
	if len(c.last) < maxArrivalSources {
		return
	}
	for _, last := range c.last {
		if last.After(c.floor) {
			c.floor = last
		}
	}
	clear(c.last)
}
