package main

import (
	"sort"
	"sync"
	"time"
)

// ledger records what the emulated nodes sent, and from it what the
// appliance must hold afterwards. It is written only after a transport
// accepted a message (QoS 0: written to the socket; QoS 1: PUBACK; HTTP:
// a 2xx answer), so that a message that failed to go out is counted as a
// send error and not as a reading.
//
// Three numbers are predicted exactly:
//
//   - rows: the export's rows of each channel. The store keeps one row per
//     channel and time; a reading at a time that channel already has (a
//     Tasmota's SENSOR and STATE of one TelePeriod) joins that row. So a
//     channel's rows are its distinct device times plus one per reading
//     stamped with its time of arrival (each message arrives at its own
//     nanosecond).
//   - values: the non-null cells of those rows (the fields stored; a NaN or
//     null a firmware sends for a failed sensor is no value).
//   - writes: what the store's readings counter (apiary_readings_stored_total)
//     counts: every reading with at least one value, also one that joins
//     an existing row.
type ledger struct {
	mu     sync.Mutex
	kinds  map[string]*kindStats
	chans  map[string]*chanStats
	errs   map[errKey]*errExpect
	writes int64
}

// kindStats is what the nodes of one kind sent.
type kindStats struct {
	nodes    int
	messages int64 // MQTT messages and HTTP requests the transport accepted
	readings int64 // readings sent (one timestamped reading each; an array of N is N)
	writes   int64 // of which with at least one value
	sendErrs int64
	lastErr  string
	channels map[string]bool
}

// chanStats is what one channel must hold.
type chanStats struct {
	kind     string
	device   map[int64]map[string]bool // device time (ns) -> fields stored at it
	arrivals int64                     // readings stamped with their time of arrival
	arrVals  int64                     // their values
}

func (c *chanStats) rows() int64 { return int64(len(c.device)) + c.arrivals }

func (c *chanStats) values() int64 {
	n := c.arrVals
	for _, fs := range c.device {
		n += int64(len(fs))
	}
	return n
}

// errKey identifies an error-log entry the way the store deduplicates
// them: kind and channel, or kind and source when there is no channel.
type errKey struct{ kind, channelOrSource string }

// errExpect is an error-log entry that the traffic causes by design.
type errExpect struct {
	owner string // the node kind whose traffic causes it
	why   string
	count int64
}

func newLedger() *ledger {
	return &ledger{kinds: map[string]*kindStats{}, chans: map[string]*chanStats{}, errs: map[errKey]*errExpect{}}
}

func (l *ledger) kind(name string) *kindStats {
	k := l.kinds[name]
	if k == nil {
		k = &kindStats{channels: map[string]bool{}}
		l.kinds[name] = k
	}
	return k
}

func (l *ledger) channel(kind, ch string) *chanStats {
	c := l.chans[ch]
	if c == nil {
		c = &chanStats{kind: kind, device: map[int64]map[string]bool{}}
		l.chans[ch] = c
		l.kind(kind).channels[ch] = true
	}
	return c
}

// addNode counts a node of kind.
func (l *ledger) addNode(kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kind(kind).nodes++
}

// message counts a message (or request) that the transport accepted.
func (l *ledger) message(kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kind(kind).messages++
}

// failed counts a message that did not go out (or whose answer was wrong).
func (l *ledger) failed(kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kind(kind)
	k.sendErrs++
	k.lastErr = err.Error()
}

// atDevice records a reading of channel ch at the device's time t with
// the fields that will be stored (failed sensors left out).
func (l *ledger) atDevice(kind, ch string, t time.Time, fields ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kind(kind)
	k.readings++
	c := l.channel(kind, ch)
	if len(fields) == 0 {
		return
	}
	k.writes++
	l.writes++
	fs := c.device[t.UnixNano()]
	if fs == nil {
		fs = map[string]bool{}
		c.device[t.UnixNano()] = fs
	}
	for _, f := range fields {
		fs[f] = true
	}
}

// atArrival records a reading of channel ch that carries no time of its
// own: it is stored at its time of arrival, a row of its own.
func (l *ledger) atArrival(kind, ch string, fields ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kind(kind)
	k.readings++
	c := l.channel(kind, ch)
	if len(fields) == 0 {
		return
	}
	k.writes++
	l.writes++
	c.arrivals++
	c.arrVals += int64(len(fields))
}

// expectError records one more occurrence of an error-log entry that
// kind's traffic causes by design (see the kinds' notes).
func (l *ledger) expectError(kind, errKind, channelOrSource, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := errKey{errKind, channelOrSource}
	e := l.errs[key]
	if e == nil {
		e = &errExpect{owner: kind, why: why}
		l.errs[key] = e
	}
	e.count++
}

// kindNames returns the kinds in the order of the kinds table.
func (l *ledger) kindNames(order []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, n := range order {
		if _, ok := l.kinds[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// channelsOf returns the channels of kind, sorted.
func (l *ledger) channelsOf(kind string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for ch := range l.kind(kind).channels {
		out = append(out, ch)
	}
	sort.Strings(out)
	return out
}

// totals returns messages, readings and send errors of all kinds.
func (l *ledger) totals() (messages, readings, sendErrs int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.kinds {
		messages += k.messages
		readings += k.readings
		sendErrs += k.sendErrs
	}
	return
}
