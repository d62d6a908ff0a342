package store

import (
	"strings"
	"time"
)

// Channel addresses one sensor node: the Kotori WAN quadruple. The parts are
// kept exactly as the device sent them; sanitised names (Kotori's
// "realm_network" database) are derived only where an export needs them.
type Channel struct {
	Realm   string `json:"realm"`
	Network string `json:"network"`
	Gateway string `json:"gateway"`
	Node    string `json:"node"`
}

// String returns the channel as "realm/network/gateway/node".
func (c Channel) String() string {
	return c.Realm + "/" + c.Network + "/" + c.Gateway + "/" + c.Node
}

// Path returns the channel as "/realm/network/gateway/node", the form Kotori
// sends in its Channel-Id header.
func (c Channel) Path() string { return "/" + c.String() }

// IsZero reports whether no part of the channel is set.
func (c Channel) IsZero() bool { return c == Channel{} }

// Valid reports whether all four parts are set and none holds a NUL byte,
// which the key encoding reserves.
func (c Channel) Valid() bool {
	for _, p := range []string{c.Realm, c.Network, c.Gateway, c.Node} {
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return false
		}
	}
	return true
}

// Reading is what one message said about one channel at one time: numeric
// fields, text fields and tags (metadata such as geohash or sensor_id).
type Reading struct {
	Channel Channel
	Time    time.Time
	Fields  map[string]float64
	Text    map[string]string
	Tags    map[string]string
}

// Points is the number of values the reading stores: numbers, text and tags.
func (r Reading) Points() int { return len(r.Fields) + len(r.Text) + len(r.Tags) }

// Event is an annotation on a channel's timeline ("hive opened", "fed 2 kg").
type Event struct {
	Channel Channel   `json:"-"`
	Time    time.Time `json:"time"`
	Title   string    `json:"title"`
	Text    string    `json:"text"`
	Tags    []string  `json:"tags,omitempty"`
	// Extra holds any other text the event carried (a "reference", say).
	Extra map[string]string `json:"extra,omitempty"`
}

// ErrorEntry is one deduplicated row of the error log: the same kind of
// failure on the same channel (or, without a channel, from the same source)
// increments Count and moves Last instead of adding a row.
type ErrorEntry struct {
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int64     `json:"count"`
	Kind    string    `json:"kind"`
	Channel string    `json:"channel"`
	Source  string    `json:"source"`
	Client  string    `json:"client,omitempty"`
	Message string    `json:"message"`
	Excerpt string    `json:"excerpt"`
}

// Point is one numeric value of a series.
type Point struct {
	Time  time.Time
	Value float64
}

// TextPoint is one text value of a series.
type TextPoint struct {
	Time  time.Time
	Value string
}

// Bucket summarises the points of one series in [Start, Start+width).
type Bucket struct {
	Start       time.Time
	Min, Max    float64
	Sum         float64
	Count       int64
	First, Last float64
}

// Mean is the average of the bucket's points.
func (b Bucket) Mean() float64 {
	if b.Count == 0 {
		return 0
	}
	return b.Sum / float64(b.Count)
}

// FieldKind says whether a field holds numbers or text.
type FieldKind byte

const (
	// Numeric fields hold float64 values.
	Numeric FieldKind = 'n'
	// Text fields hold strings.
	Text FieldKind = 't'
)

// FieldInfo describes one series of a channel in the catalogue.
type FieldInfo struct {
	Name      string
	Kind      FieldKind
	First     time.Time
	Last      time.Time
	LastValue float64 // for Numeric fields
	LastText  string  // for Text fields
}

// ChannelInfo is one entry of the catalogue: a channel and its fields,
// sorted by name.
type ChannelInfo struct {
	Channel Channel
	Fields  []FieldInfo
	First   time.Time
	Last    time.Time
}

// Field returns the named field and whether the channel has it.
func (ci ChannelInfo) Field(name string) (FieldInfo, bool) {
	for _, f := range ci.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldInfo{}, false
}

// Stats are the store's counters since it was opened, and its size.
type Stats struct {
	ReadingsStored int64
	PointsStored   int64
	ErrorsRecorded int64
	Channels       int
	Series         int
	DiskBytes      uint64
	// LogSyncs are the fdatasyncs of the write-ahead log so far: each
	// rewrites at least a flash page of an SD card.
	LogSyncs int64
}
