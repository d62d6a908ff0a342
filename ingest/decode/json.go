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
	payload = TrimBOM(payload)
	if len(payload) == 0 {
		return nil, errorf("empty", "empty payload")
	}
	if obj, ok := fastObject(payload); ok {
		return obj, nil
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

// TrimBOM trims white space and a UTF-8 byte order mark, which Windows
// tools write before a document and which is not part of it (Python's
// json.loads, Kotori's reader, skips it too).
func TrimBOM(b []byte) []byte {
	return bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\xef\xbb\xbf")))
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
// flattened with ".". A reading with no values at all is an error. It
// removes the time fields from obj.
func ReadingFromObject(obj map[string]any, opts Options, res *Result) (store.Reading, error) {
	opts = opts.withDefaults()
	r := store.Reading{Time: opts.Received}
	key, t, ok := findTime(obj, opts, res)
	if ok {
		r.Time = t
	}
	obj = withoutTimeFields(obj, key)
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

// withoutTimeFields drops, in place, the time field that was used (key)
// and empty time fields, which say nothing.
func withoutTimeFields(obj map[string]any, key string) map[string]any {
	for _, name := range TimeFields {
		if v, ok := obj[name]; ok && (name == key || v == "") {
			delete(obj, name)
		}
	}
	return obj
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
		if !CheckTime(t, fmt.Sprintf("field %q", name), opts, res) {
			return name, time.Time{}, false
		}
		return name, t, true
	}
	return "", time.Time{}, false
}

// CheckTime says whether a device's time is plausible: not before
// EarliestTime (a clock that was never set) and not more than MaxAhead
// after Received. When it is not, a note says so, naming the time as what.
func CheckTime(t time.Time, what string, opts Options, res *Result) bool {
	opts = opts.withDefaults()
	if t.Before(opts.EarliestTime) {
		res.note("clock", "%s is %s, before %s: device clock not set; using the time of arrival",
			what, t.Format(time.RFC3339Nano), opts.EarliestTime.Format("2006-01-02"))
		return false
	}
	if t.After(opts.Received.Add(opts.MaxAhead)) {
		res.note("clock", "%s is %s, more than %s ahead: device clock wrong; using the time of arrival",
			what, t.Format(time.RFC3339Nano), opts.MaxAhead)
		return false
	}
	return true
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

// decodeSingleValue handles data/<field> and measure/<field>: the payload
// is one number for one field, the name taken from the topic. As in Kotori,
// text that is no number is an error; "nan" and "None" (ESPHome, Homie for
// a sensor without a value) are no value, silently.
func decodeSingleValue(name string, payload []byte, opts Options, res *Result) error {
	s, err := singleText(name, payload, opts)
	if err != nil {
		return err
	}
	f, ok, nonFinite := NumericString(s)
	switch {
	case nonFinite || s == "None" || s == "null":
		return nil
	case !ok:
		return errorf("value", "could not convert %q to a number for field %q", clipName(s), clipName(name))
	}
	res.Readings = append(res.Readings, store.Reading{Time: opts.Received, Fields: map[string]float64{name: f}})
	return nil
}

// decodeLenientValue handles the plain-text values of Homie, ESPHome and
// Tasmota status topics: a number is a number, "true"/"false" and
// "ON"/"OFF" are 1 and 0, "nan" and "None" are no value, any other text is
// a text value ("Online"). A JSON object (a Home Assistant state topic, an
// ESPHome light) is a reading of its members, as on data.json.
func decodeLenientValue(name string, payload []byte, opts Options, res *Result) error {
	if b := TrimBOM(payload); len(b) > 0 && b[0] == '{' {
		return decodeJSONReadings(payload, opts, res)
	}
	s, err := singleText(name, payload, opts)
	if err != nil {
		return err
	}
	r := store.Reading{Time: opts.Received}
	f, ok, nonFinite := NumericString(s)
	switch strings.ToLower(s) {
	case "true", "on":
		f, ok = 1, true
	case "false", "off":
		f, ok = 0, true
	case "none", "null":
		return nil
	}
	switch {
	case nonFinite:
		return nil
	case ok:
		r.Fields = map[string]float64{name: f}
	default:
		r.Text = map[string]string{name: s}
	}
	res.Readings = append(res.Readings, r)
	return nil
}

func singleText(name string, payload []byte, opts Options) (string, error) {
	switch {
	case name == "" || strings.Contains(name, "/"):
		return "", errorf("slot", "no single field name in the topic after data/")
	case !utf8.ValidString(name):
		return "", errorf("slot", "field name %q in the topic is not UTF-8", clipName(name))
	case len(name) > opts.MaxNameLen:
		return "", errorf("limit", "field name %q in the topic is longer than %d bytes", clipName(name), opts.MaxNameLen)
	}
	s := strings.TrimSpace(string(payload))
	switch {
	case s == "":
		return "", errorf("empty", "empty payload")
	case !utf8.ValidString(s):
		return "", errorf("value", "payload is not UTF-8 text")
	case len(s) > 4096:
		return "", errorf("limit", "single value longer than 4096 bytes")
	}
	return s, nil
}

// decodeNDJSON handles data.ndjson: one JSON object per line, each a
// reading. A bad line is noted and skipped; the good ones are kept.
func decodeNDJSON(payload []byte, opts Options, res *Result) error {
	lines := bytes.Split(payload, []byte("\n"))
	bad := 0
	var firstErr error
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := ParseJSON(line)
		if err == nil {
			obj, ok := v.(map[string]any)
			if !ok {
				err = errorf("json", "line is a JSON %s, want an object", jsonType(v))
			} else {
				var r store.Reading
				if r, err = ReadingFromObject(obj, opts, res); err == nil {
					res.Readings = append(res.Readings, r)
				}
			}
		}
		if err != nil {
			bad++
			if firstErr == nil {
				firstErr = fmt.Errorf("line %d: %w", i+1, err)
			}
			res.note(Kind(err), "line %d: %v; skipped", i+1, err)
		}
	}
	if len(res.Readings) == 0 {
		if firstErr != nil {
			res.Notes = nil
			return firstErr
		}
		return errorf("empty", "no lines in the payload")
	}
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
	for k, v := range obj {
		switch k {
		case "title", "text", "tags", "time", "datetime", "Time", "dateTime", "timestamp":
			continue
		}
		if s, ok := scalarText(v); ok {
			if ev.Extra == nil {
				ev.Extra = map[string]string{}
			}
			ev.Extra[k] = s
		}
	}
	// Kotori stores any object as an event; one that says nothing at all
	// is not worth a mark on the chart.
	if ev.Title == "" && ev.Text == "" && len(ev.Tags) == 0 && len(ev.Extra) == 0 {
		return errorf("empty", "event has no title, text, tags or other fields")
	}
	res.Events = append(res.Events, ev)
	return nil
}
