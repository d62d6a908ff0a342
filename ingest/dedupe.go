package ingest

import (
	"hash/fnv"
	"sync"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// recentMessages remembers when QoS 1/2 messages first arrived, keyed by
// topic and payload, so that a redelivery (DUP set, after a lost PUBACK)
// gets the same time and overwrites its first copy. It holds at most max
// entries, none older than maxAge: memory stays bounded under any flood.
type recentMessages struct {
	mu     sync.Mutex
	max    int
	maxAge time.Duration
	seen   map[uint64]time.Time
	order  []uint64 // insertion order, for eviction
}

func newRecentMessages(max int, maxAge time.Duration) *recentMessages {
	return &recentMessages{max: max, maxAge: maxAge, seen: make(map[uint64]time.Time, max)}
}

// relayedWindow is how long after its first arrival an identical QoS 1
// message from an external broker is taken for a redelivery. A broker
// passes a device's redelivered PUBLISH on as a new message, without the
// DUP flag (MQTT 3.1.1 §3.3.1.1), so only topic and payload tell; a
// device resends within seconds of reconnecting, and a clock-less device
// sending the same payload twice within this window loses nothing but a
// repeated point.
const relayedWindow = 30 * time.Second

// arrival returns the time to use for a message: the first arrival of a
// duplicate seen before, else now (which it remembers). A message flagged
// DUP is a duplicate of an identical one up to maxAge ago; one relayed by
// an external broker (which drops the flag) up to relayedWindow ago.
func (r *recentMessages) arrival(topic string, payload []byte, now time.Time, dup, relayed bool) time.Time {
	h := fnv.New64a()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	h.Write(payload)
	key := h.Sum64()
	r.mu.Lock()
	defer r.mu.Unlock()
	if first, ok := r.seen[key]; ok && (dup && now.Sub(first) < r.maxAge || relayed && now.Sub(first) < relayedWindow) {
		return first
	}
	if _, ok := r.seen[key]; !ok {
		r.order = append(r.order, key)
	}
	r.seen[key] = now
	for len(r.order) > r.max || (len(r.order) > 0 && now.Sub(r.seen[r.order[0]]) > r.maxAge) {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	return now
}

// dropStale drops readings of a replayed retained message whose values
// equal what the channel already has stored: a broker replays retained
// messages on every subscription, and the same old value is not a new
// reading.
func (in *Ingester) dropStale(ch store.Channel, received time.Time, readings []store.Reading) []store.Reading {
	ci, ok := in.store.ChannelInfo(ch)
	if !ok {
		return readings
	}
	kept := readings[:0]
	for _, r := range readings {
		if !r.Time.Equal(received) || !sameAsLatest(ci, r) {
			kept = append(kept, r)
		}
	}
	return kept
}

func sameAsLatest(ci store.ChannelInfo, r store.Reading) bool {
	for name, v := range r.Fields {
		f, ok := ci.Field(name)
		if !ok || f.Kind != store.Numeric || f.LastValue != v {
			return false
		}
	}
	for name, v := range r.Text {
		f, ok := ci.Field(name)
		if !ok || f.Kind != store.Text || f.LastText != v {
			return false
		}
	}
	return true
}
