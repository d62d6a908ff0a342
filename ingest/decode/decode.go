// Package decode turns payloads into Readings and Events: Kotori's JSON
// slots, single values, events, and the formats of common firmware. It knows
// nothing of transports or storage: it gets a slot and bytes, and returns
// what they mean, or an error that says why they mean nothing.
//
// Decoders never fail a whole message because one field is odd: a null, a
// NaN or an over-long name drops that field and adds a Note. They fail the
// message when the payload as a whole cannot be read.
package decode

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// Options tell a decoder what it cannot know from the payload.
type Options struct {
	// Zone is where a time without a zone was read (default UTC).
	Zone *time.Location
	// Received is the time of arrival, the time of readings that carry none.
	Received time.Time
	// MaxFields bounds the values of one reading and the distinct field
	// names of one message (default 1024).
	MaxFields int
	// MaxNameLen bounds a field name in bytes (default 256).
	MaxNameLen int
	// MaxDepth bounds the nesting of JSON objects and arrays (default 16).
	MaxDepth int
	// EarliestTime: device times before it are taken for an unset clock
	// (a Tasmota before NTP sends 1970) and replaced by Received
	// (default 2000-01-01).
	EarliestTime time.Time
	// MaxAhead: device times further than this after Received are replaced
	// by Received (default 24h).
	MaxAhead time.Duration
}

// NameLimit is the longest field name these options allow.
func (o Options) NameLimit() int { return o.withDefaults().MaxNameLen }

func (o Options) withDefaults() Options {
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.Received.IsZero() {
		o.Received = time.Now()
	}
	if o.MaxFields <= 0 {
		o.MaxFields = 1024
	}
	if o.MaxNameLen <= 0 {
		o.MaxNameLen = 256
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 16
	}
	if o.EarliestTime.IsZero() {
		o.EarliestTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.MaxAhead <= 0 {
		o.MaxAhead = 24 * time.Hour
	}
	return o
}

// Result is what a payload means. Readings carry no Channel yet: the
// caller knows where the message was sent.
type Result struct {
	Readings []store.Reading
	Events   []store.Event
	// Notes are problems that did not stop the message: a dropped field,
	// a device time replaced by the time of arrival.
	Notes []Note
	// Info are messages for the sender ("Received header fields ...").
	Info []string
}

// Note is a non-fatal problem with a message.
type Note struct {
	Kind    string
	Message string
}

func (r *Result) note(kind, format string, args ...any) {
	r.Notes = append(r.Notes, Note{kind, fmt.Sprintf(format, args...)})
}

// Error is a failure to decode a message; Kind names the class of failure
// for the error log ("json", "limit", "empty", "slot", ...).
type Error struct {
	Kind string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrorKind names the class of failure for the error log.
func (e *Error) ErrorKind() string { return e.Kind }

func errorf(kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// ErrUnknownSlot is returned for a slot that no decoder handles.
var ErrUnknownSlot = errors.New("unknown slot")

// ErrIgnored is returned for slots that are ignored on purpose
// (error.json: what Kotori published about its own errors).
var ErrIgnored = errors.New("ignored slot")

// Kind returns the error-log kind of a decode error.
func Kind(err error) string {
	var de *Error
	switch {
	case errors.As(err, &de):
		return de.Kind
	case errors.Is(err, ErrUnknownSlot):
		return "slot"
	default:
		return "decode"
	}
}

// IsIgnoredTopic reports whether a topic or path ends in error.json, which
// Apiary never ingests (the lesson of Kotori's 2018 message loop).
func IsIgnoredTopic(topic string) bool { return strings.HasSuffix(topic, "error.json") }

// Decode decodes the payload of a message sent to slot.
func Decode(slot string, payload []byte, opts Options) (Result, error) {
	opts = opts.withDefaults()
	var res Result
	var err error
	is := func(name string) bool { return slot == name || strings.HasSuffix(slot, "/"+name) }
	switch {
	case IsIgnoredTopic(slot):
		return res, ErrIgnored
	case is("data.json"):
		if IsTTN(payload) {
			var obj map[string]any
			if obj, err = parseObject(payload, "TTN uplink"); err == nil {
				err = TTNReading(obj, opts, &res)
			}
			break
		}
		err = decodeJSONReadings(payload, opts, &res)
	case is("data/__json__") || is("message-json") || is("loop") || is("status.json"):
		err = decodeJSONReadings(payload, opts, &res)
	case is("data.ndjson"):
		err = decodeNDJSON(payload, opts, &res)
	case is("data.lpp") || strings.HasSuffix(slot, "data.lpp-hiveeyes"):
		err = DecodeLPP(payload, opts, &res)
	case is("event.json") || is("event/__json__"):
		err = decodeEvent(payload, opts, &res)
	case strings.HasSuffix(slot, "SENSOR"):
		err = decodeTasmotaSensor(payload, opts, &res)
	case strings.HasSuffix(slot, "STATE"):
		err = decodeTasmotaState(payload, opts, &res)
	case is("airrohr.json") || is("custom/airrohr"):
		err = decodeAirrohr(payload, opts, &res)
	case strings.HasPrefix(slot, "data/$"):
		// A Homie attribute of node-homie-basic's node "data" ($type,
		// $properties): like its other Homie topics, no slot of Kotori's.
		return res, fmt.Errorf("%w %q", ErrUnknownSlot, slot)
	case strings.HasPrefix(slot, "data/") || strings.HasPrefix(slot, "measure/"):
		_, name, _ := strings.Cut(slot, "/")
		err = decodeSingleValue(name, payload, opts, &res)
	case strings.HasPrefix(slot, "value/"):
		err = decodeLenientValue(strings.TrimPrefix(slot, "value/"), payload, opts, &res)
	default:
		return res, fmt.Errorf("%w %q", ErrUnknownSlot, slot)
	}
	if err == nil {
		err = checkDistinctFields(res.Readings, opts.MaxFields)
	}
	return res, err
}

// checkDistinctFields bounds the field names of a message: each reading is
// bounded as it is read, and a batch of readings (a device's backlog) may
// hold more values than that in all, but not more distinct names, each of
// which would be a series.
func checkDistinctFields(readings []store.Reading, max int) error {
	if len(readings) < 2 {
		return nil
	}
	names := make(map[string]struct{}, min(max+1, 64))
	for _, r := range readings {
		for k := range r.Fields {
			names[k] = struct{}{}
		}
		for k := range r.Text {
			names[k] = struct{}{}
		}
		if len(names) > max {
			return errorf("limit", "more than %d distinct fields in one message", max)
		}
	}
	return nil
}
