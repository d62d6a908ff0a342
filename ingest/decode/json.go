package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apiary-hive/apiary/internal/timeparse"
	"github.com/apiary-hive/apiary/store"
)

// TagNames are metadata of a reading (Kotori stores them as InfluxDB tags),
// kept as text tags and never as numeric fields.
var TagNames = map[string]bool{
	"geohash": true, "location": true, "location_id": true,
	"location_name": true, "sensor_id": true, "sensor_type": true,
}

// ParseJSON reads one JSON document leniently (bare NaN and Infinity become
// null, numbers stay exact json.Number text) and refuses trailing data.
func ParseJSON(payload []byte) (any, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return nil, errorf("empty", "empty payload")
	}
	dec := json.NewDecoder(bytes.NewReader(Lenient(payload)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf("json", "invalid JSON: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf("json", "invalid JSON: data after the end of the document")
	}
	return v, nil
}

func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input (truncated?)"
	}
	return err.Error()
}

// decodeJSONReadings handles an object (one reading) or an array of objects
// (a batch, each item with its own time).
func decodeJSONReadings(payload []byte, opts Options, res *Result) error {
	v, err := ParseJSON(payload)
	if err != nil {
		return err
	}
	return ReadingsFromJSON(v, opts, res)
}

// ReadingsFromJSON turns a parsed JSON object or array of objects into
// readings.
func ReadingsFromJSON(v any, opts Options, res *Result) error {
	opts = opts.withDefaults()
	switch v := v.(type) {
	case map[string]any:
		r, err := ReadingFromObject(v, opts, res)
		if err != nil {
			return err
		}
		res.Readings = append(res.Readings, r)
		return nil
	case []any:
		if len(v) == 0 {
			return errorf("empty", "empty JSON array")
		}
		for i, item := range v {
			obj, ok := item.(map[string]any)
			if !ok {
				return errorf("json", "JSON array item %d is %s, want an object of readings", i, jsonType(item))
			}
			r, err := ReadingFromObject(obj, opts, res)
			if err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
			res.Readings = append(res.Readings, r)
		}
		return nil
	default:
		return errorf("json", "payload is a JSON %s, want an object of readings", jsonType(v))
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// ReadingFromObject applies Kotori's rules to one JSON object: the time
// field, tags, numbers and numeric strings as float64, booleans as 0/1,
// null and NaN dropped, other strings as text, nested objects and arrays
// flattened with ".". A reading with no values at all is an error.
func ReadingFromObject(obj map[string]any, opts Options, res *Result) (store.Reading, error) {
	opts = opts.withDefaults()
	r := store.Reading{Time: opts.Received}
	if key, t, ok := findTime(obj, opts, res); ok {
		r.Time = t
		obj = without(obj, key)
	} else if key != "" {
		obj = without(obj, key)
	}
	b := builder{opts: opts, res: res, r: &r}
	for k, v := range obj {
		if TagNames[k] {
			if s, ok := scalarText(v); ok {
				if r.Tags == nil {
					r.Tags = make(map[string]string)
				}
				r.Tags[k] = s
			}
			continue
		}
		if err := b.add(k, v, 0); err != nil {
			return r, err
		}
	}
	if len(r.Fields)+len(r.Text) == 0 {
		return r, errorf("empty", "no values in message")
	}
	return r, nil
}

func without(obj map[string]any, key string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// findTime returns the first present and non-empty time field. When it
// cannot be read or is implausible (before EarliestTime, far in the
// future), ok is false, a note says so, and key still names the field so
// it is not stored as a value.
func findTime(obj map[string]any, opts Options, res *Result) (key string, t time.Time, ok bool) {
	for _, name := range TimeFields {
		v, present := obj[name]
		if !present || v == nil || v == "" {
			continue
		}
		t, err := TimeValue(v, opts.Zone)
		if err != nil {
			res.note("time", "field %q: %v; using the time of arrival", name, err)
			return name, time.Time{}, false
		}
		if t.Before(opts.EarliestTime) {
			res.note("clock", "field %q is %s, before %s: device clock not set; using the time of arrival",
				name, t.Format(time.RFC3339Nano), opts.EarliestTime.Format("2006-01-02"))
			return name, time.Time{}, false
		}
		if t.After(opts.Received.Add(opts.MaxAhead)) {
			res.note("clock", "field %q is %s, more than %s ahead: device clock wrong; using the time of arrival",
				name, t.Format(time.RFC3339Nano), opts.MaxAhead)
			return name, time.Time{}, false
		}
		return name, t, true
	}
	return "", time.Time{}, false
}

// TimeFields are the names that carry a reading's time, in the order Kotori
// tries them: the first present and non-empty one wins and is removed from
// the fields.
var TimeFields = []string{"time", "datetime", "Time", "dateTime", "timestamp"}

// TimeValue reads a JSON time value: an epoch number or a time string.
func TimeValue(v any, zone *time.Location) (time.Time, error) {
	switch v := v.(type) {
	case json.Number:
		return timeparse.Epoch(v.String())
	case string:
		return timeparse.String(v, zone)
	case float64:
		return timeparse.Epoch(strconv.FormatFloat(v, 'f', -1, 64))
	}
	return time.Time{}, fmt.Errorf("a time cannot be a JSON %s", jsonType(v))
}

type builder struct {
	opts Options
	res  *Result
	r    *store.Reading
}

func (b *builder) count() int { return len(b.r.Fields) + len(b.r.Text) }

func (b *builder) add(name string, v any, depth int) error {
	if depth > b.opts.MaxDepth {
		return errorf("limit", "field %q nested deeper than %d levels", clipName(name), b.opts.MaxDepth)
	}
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if err := b.add(name+"."+k, sub, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, sub := range v {
			if err := b.add(name+"."+strconv.Itoa(i), sub, depth+1); err != nil {
				return err
			}
		}
		return nil
	case nil:
		return nil
	}
	if name == "" || len(name) > b.opts.MaxNameLen || !utf8.ValidString(name) {
		b.res.note("field", "field name %q is empty, longer than %d bytes or not UTF-8; dropped", clipName(name), b.opts.MaxNameLen)
		return nil
	}
	if b.count() >= b.opts.MaxFields {
		return errorf("limit", "more than %d values in one message", b.opts.MaxFields)
	}
	switch v := v.(type) {
	case bool:
		b.setNum(name, boolFloat(v))
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil || math.IsInf(f, 0) {
			b.res.note("value", "field %q: number %s out of range; dropped", name, clipName(v.String()))
			return nil
		}
		b.setNum(name, f)
	case float64:
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			b.setNum(name, v)
		}
	case string:
		b.setString(name, v)
	}
	return nil
}

func (b *builder) setNum(name string, f float64) {
	if b.r.Fields == nil {
		b.r.Fields = make(map[string]float64)
	}
	b.r.Fields[name] = f
}

// setString stores a numeric string as a number (Kotori: float(value)),
// drops a "nan"/"inf" string like the float it means, and keeps any other
// string as text.
func (b *builder) setString(name, s string) {
	if f, ok, nonFinite := NumericString(s); ok {
		b.setNum(name, f)
		return
	} else if nonFinite {
		return
	}
	if b.r.Text == nil {
		b.r.Text = make(map[string]string)
	}
	b.r.Text[name] = strings.ToValidUTF8(s, "\uFFFD")
}

// NumericString reports whether s reads as a number the way Python's
// float() reads it (surrounding space, a sign, a fraction, an exponent), and
// whether it names a non-finite value ("nan", "inf", "-Infinity"), which is
// dropped.
func NumericString(s string) (f float64, ok, nonFinite bool) {
	t := strings.TrimSpace(s)
	if timeparse.LooksNumeric(t) {
		f, err := strconv.ParseFloat(t, 64)
		if err == nil && !math.IsInf(f, 0) {
			return f, true, false
		}
		return 0, false, err != nil && math.IsInf(f, 0)
	}
	switch strings.ToLower(strings.TrimLeft(t, "+-")) {
	case "nan", "inf", "infinity":
		return 0, false, true
	}
	return 0, false, false
}

func boolFloat(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func clipName(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

// decodeSingleValue handles data/<field> and measure/<field>: the payload is
// one value for one field, the name taken from the topic.
func decodeSingleValue(name string, payload []byte, opts Options, res *Result) error {
	if name == "" {
		return errorf("slot", "no field name after data/")
	}
	s := strings.TrimSpace(string(payload))
	if s == "" {
		return errorf("empty", "empty payload")
	}
	if !utf8.ValidString(s) {
		return errorf("value", "payload is not UTF-8 text")
	}
	r := store.Reading{Time: opts.Received}
	b := builder{opts: opts, res: res, r: &r}
	if err := b.add(name, s, 0); err != nil {
		return err
	}
	if r.Points() == 0 {
		return errorf("empty", "no value in %q", clipName(s))
	}
	res.Readings = append(res.Readings, r)
	return nil
}

// decodeEvent handles event.json: title, text, tags (comma-separated text
// or a list) and an optional time.
func decodeEvent(payload []byte, opts Options, res *Result) error {
	v, err := ParseJSON(payload)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errorf("json", "event is a JSON %s, want an object", jsonType(v))
	}
	return EventFromFields(obj, opts, res)
}

// EventFromFields builds an event from title, text, tags and time.
func EventFromFields(obj map[string]any, opts Options, res *Result) error {
	opts = opts.withDefaults()
	ev := store.Event{Time: opts.Received}
	if _, t, ok := findTime(obj, opts, res); ok {
		ev.Time = t
	}
	ev.Title, _ = scalarText(obj["title"])
	ev.Text, _ = scalarText(obj["text"])
	switch tags := obj["tags"].(type) {
	case string:
		for _, t := range strings.Split(tags, ",") {
			if t = strings.TrimSpace(t); t != "" {
				ev.Tags = append(ev.Tags, t)
			}
		}
	case []any:
		for _, t := range tags {
			if s, ok := scalarText(t); ok && strings.TrimSpace(s) != "" {
				ev.Tags = append(ev.Tags, strings.TrimSpace(s))
			}
		}
	}
	if ev.Title == "" && ev.Text == "" {
		return errorf("empty", "event has neither title nor text")
	}
	res.Events = append(res.Events, ev)
	return nil
}
