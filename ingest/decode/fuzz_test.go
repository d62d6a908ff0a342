package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apiary-hive/apiary/internal/testvectors"
)

// The fuzz targets of the decoders. Each checks, on any input, what every
// decoder promises (checkResult) and what its own decoder promises beyond
// that. The seeds are the payloads of appliance/testdata/vectors; the
// corpus the fuzzer found is in testdata/fuzz/<target>, and plain `go test`
// runs it. docs/FUZZING.md says how to run them.

// jsonSlots are the slots whose payload is JSON.
var jsonSlots = []string{
	"data.json", "data/__json__", "message-json", "loop", "status.json",
	"tele/SENSOR", "tele/STATE", "airrohr.json", "event.json", "data.ndjson",
}

// vectorPayloads returns the payloads of the vectors that match keep.
func vectorPayloads(f *testing.F, keep func(testvectors.Vector) bool) [][]byte {
	var out [][]byte
	for _, v := range testvectors.Load(f) {
		if v.Payload != nil && keep(v) {
			out = append(out, v.Body())
		}
	}
	if len(out) == 0 {
		f.Fatal("no vector seeds")
	}
	return out
}

func isJSONVector(v testvectors.Vector) bool {
	return strings.Contains(v.Type(), "json") || json.Valid(v.Body())
}

// checkResult asserts what any decode returns, whatever the input: an
// error is a decode error with a kind (or an unknown or ignored slot);
// readings have a plausible time, at least one and at most MaxFields
// values, finite numbers, and field names that are non-empty UTF-8 of at
// most MaxNameLen bytes; text, tags and events are UTF-8; events have a
// title or a text; notes have a kind.
func checkResult(t *testing.T, what string, o Options, res Result, err error) {
	t.Helper()
	o = o.withDefaults()
	if err != nil {
		var de *Error
		switch {
		case errors.As(err, &de):
			if de.Kind == "" || de.Err == nil {
				t.Fatalf("%s: decode error without kind or cause: %#v", what, de)
			}
		case errors.Is(err, ErrUnknownSlot), errors.Is(err, ErrIgnored):
		default:
			t.Fatalf("%s: error %T %q is no decode error", what, err, err)
		}
		if err.Error() == "" || Kind(err) == "" {
			t.Fatalf("%s: error without message or kind: %#v", what, err)
		}
	}
	name := func(k string) {
		t.Helper()
		if k == "" || len(k) > o.MaxNameLen || !utf8.ValidString(k) {
			t.Fatalf("%s: bad field name %q", what, k)
		}
	}
	for _, r := range res.Readings {
		if !r.Time.Equal(o.Received) && (r.Time.Before(o.EarliestTime) || r.Time.After(o.Received.Add(o.MaxAhead))) {
			t.Fatalf("%s: implausible time %v in %+v", what, r.Time, r)
		}
		if n := len(r.Fields) + len(r.Text); n == 0 || n > o.MaxFields {
			t.Fatalf("%s: reading with %d values: %+v", what, n, r)
		}
		for k, v := range r.Fields {
			name(k)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: field %q = %v", what, k, v)
			}
		}
		for k, v := range r.Text {
			name(k)
			if !utf8.ValidString(v) {
				t.Fatalf("%s: text %q = %q is not UTF-8", what, k, v)
			}
		}
		for k, v := range r.Tags {
			if !TagNames[k] || !utf8.ValidString(v) {
				t.Fatalf("%s: tag %q = %q", what, k, v)
			}
		}
	}
	for _, ev := range res.Events {
		if ev.Time.IsZero() || ev.Title == "" && ev.Text == "" && len(ev.Tags) == 0 && len(ev.Extra) == 0 {
			t.Fatalf("%s: event %+v", what, ev)
		}
		all := append([]string{ev.Title, ev.Text}, ev.Tags...)
		for k, v := range ev.Extra {
			all = append(all, k, v)
		}
		for _, s := range all {
			if !utf8.ValidString(s) {
				t.Fatalf("%s: event string %q is not UTF-8", what, s)
			}
		}
	}
	for _, n := range res.Notes {
		if n.Kind == "" || n.Message == "" {
			t.Fatalf("%s: note %+v", what, n)
		}
	}
}

// FuzzDecodeJSON feeds one payload to every JSON slot: plain readings and
// batches (with the fast path for flat objects and lenient NaN), WeeWX loop,
// Tasmota SENSOR and STATE, Sensor.Community, TTN v3 in data.json, events
// and NDJSON. A decode that does not fail decoded something.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[{"time":1583810982,"a":"1"}]`, `{"a":NaN,"b":{"c":[1,2,{"d":nan}]}}`, `{"Time":"2017-10-05T22:39:45","X":{"Y":{"Type":"a","Address":"b","T":1}}}`, `{"uplink_message":{"decoded_payload":{"t":1}}}`} {
		f.Add(s)
	}
	for _, p := range vectorPayloads(f, isJSONVector) {
		f.Add(string(p))
	}
	f.Fuzz(func(t *testing.T, payload string) {
		for _, slot := range jsonSlots {
			res, err := Decode(slot, []byte(payload), opts())
			checkResult(t, slot, opts(), res, err)
			if err == nil && len(res.Readings) == 0 && len(res.Events) == 0 {
				t.Errorf("%s: no error and nothing decoded from %q", slot, payload)
			}
		}
	})
}

// FuzzFastObject: the one-pass parser of flat objects either declines or
// gives exactly what the general parser gives.
func FuzzFastObject(f *testing.F) {
	for _, s := range []string{
		`{"weight":42.17,"t":-1.5e3,"s":"ok","b":true,"n":null,"x":NaN,"y":-Infinity,"z":0}`,
		` { "a" : 1 , "b" : "two" } `, `{}`, `{"a":01}`, `{"a":"x\u00df"}`, `{"a":1,"a":2}`,
	} {
		f.Add([]byte(s))
	}
	for _, p := range vectorPayloads(f, isJSONVector) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		fast, ok := fastObject(payload)
		if !ok {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(Lenient(payload)))
		dec.UseNumber()
		var general any
		if err := dec.Decode(&general); err != nil {
			t.Fatalf("fast path accepted %q, the general parser says %v", payload, err)
		}
		if _, err := dec.Token(); err == nil {
			t.Fatalf("fast path accepted %q with data after the object", payload)
		}
		if !reflect.DeepEqual(any(fast), general) {
			t.Fatalf("%q: fast %#v, general %#v", payload, fast, general)
		}
	})
}

// FuzzLenient: valid JSON passes unchanged; rewriting twice changes nothing
// more; what the general parser reads after the rewrite holds no
// non-finite number.
func FuzzLenient(f *testing.F) {
	for _, s := range []string{`{"a":NaN,"b":1}`, `{"a": -Infinity, "b": Infinity}`, `{"s": "a \" NaN \\", "v": NaN}`, `{"nano": 1, "info": 2}`, `[NaN,1]`, `{"a":[inf,-inf,+inf,nan,-nan]}`} {
		f.Add([]byte(s))
	}
	for _, p := range vectorPayloads(f, isJSONVector) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		in := bytes.Clone(payload)
		out := Lenient(payload)
		if !bytes.Equal(in, payload) {
			t.Fatalf("Lenient modified its input %q", in)
		}
		if json.Valid(payload) && !bytes.Equal(out, payload) {
			t.Fatalf("Lenient changed valid JSON %q to %q", payload, out)
		}
		if again := Lenient(out); !bytes.Equal(again, out) {
			t.Fatalf("Lenient(%q) = %q, again %q", payload, out, again)
		}
		v, err := ParseJSON(payload)
		if err != nil {
			if Kind(err) != "json" && Kind(err) != "empty" {
				t.Fatalf("ParseJSON(%q): kind %q: %v", payload, Kind(err), err)
			}
			return
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if !utf8.ValidString(k) {
						t.Fatalf("ParseJSON(%q): key %q is not UTF-8", payload, k)
					}
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			case json.Number:
				if _, err := v.Float64(); err != nil && !strings.Contains(err.Error(), "range") {
					t.Fatalf("ParseJSON(%q): number %q: %v", payload, v, err)
				}
			case string:
				if !utf8.ValidString(v) {
					t.Fatalf("ParseJSON(%q): string %q is not UTF-8", payload, v)
				}
			case bool, nil:
			default:
				t.Fatalf("ParseJSON(%q): %T", payload, v)
			}
		}
		walk(v)
	})
}

// FuzzSingleValue covers the data/<field>, measure/<field> and
// value/<field> slots: at most one reading, of the field the topic names;
// data/ and measure/ take numbers only.
func FuzzSingleValue(f *testing.F) {
	for _, s := range [][2]string{{"humidity", "83.1"}, {"weight", " 55.435\n"}, {"temp", "nan"}, {"status", "Online"}, {"door", "ON"}, {"t", "None"}, {"x", "1e400"}, {"a/b", "1"}} {
		f.Add(s[0], s[1])
	}
	for _, v := range testvectors.Load(f) {
		if v.Payload != nil && strings.HasPrefix(v.Type(), "text/plain") {
			f.Add(v.Slot(), *v.Payload)
		}
	}
	f.Fuzz(func(t *testing.T, name, payload string) {
		for _, prefix := range []string{"data/", "measure/", "value/"} {
			slot := prefix + name
			res, err := Decode(slot, []byte(payload), opts())
			checkResult(t, slot, opts(), res, err)
		}
		// The decoders themselves (Decode gives some names, such as
		// data/__json__, to other decoders).
		o := opts().withDefaults()
		for _, lenient := range []bool{false, true} {
			var res Result
			var err error
			if lenient {
				err = decodeLenientValue(name, []byte(payload), o, &res)
			} else {
				err = decodeSingleValue(name, []byte(payload), o, &res)
			}
			checkResult(t, name, o, res, err)
			if len(res.Readings) > 1 || len(res.Events)+len(res.Notes) > 0 || err != nil && len(res.Readings) > 0 {
				t.Fatalf("%s: %+v, %v", name, res, err)
			}
			if len(res.Readings) == 0 {
				continue
			}
			r := res.Readings[0]
			_, num := r.Fields[name]
			_, text := r.Text[name]
			if len(r.Fields)+len(r.Text) != 1 || !num && !text || !r.Time.Equal(o.Received) {
				t.Fatalf("%s: reading %+v is not of field %q", name, r, name)
			}
			if !lenient && text {
				t.Fatalf("%s: text %+v from a numeric slot", name, r.Text)
			}
		}
	})
}

// FuzzTTN feeds one JSON payload to the webhook decoders: TTN v3, TTN v2
// and BEEP (which also takes both TTN forms).
func FuzzTTN(f *testing.F) {
	f.Add(`{"uplink_message":{"decoded_payload":{"t":1},"f_cnt":3,"settings":{"data_rate":{"lora":{"spreading_factor":7,"bandwidth":125000}},"frequency":"868100000"},"rx_metadata":[{"gateway_ids":{"gateway_id":"gw"},"rssi":-50,"snr":9}]},"end_device_ids":{"device_id":"d","dev_eui":"00"},"received_at":"2026-05-01T10:00:00Z"}`)
	f.Add(`{"payload_fields":{"t":1},"metadata":{"time":"2026-05-01T10:00:00Z","gateways":[{"rssi":-50,"snr":9}]},"hardware_serial":"00"}`)
	f.Add(`{"key":"abc","t":18.4,"data":"t:18.4|h:58","time":1583810982}`)
	for _, p := range vectorPayloads(f, func(v testvectors.Vector) bool {
		return isJSONVector(v) && (v.Transport == "ttn-webhook" || strings.Contains(v.TopicOrPath, "sensors") || bytes.Contains(v.Body(), []byte("uplink")))
	}) {
		f.Add(string(p))
	}
	f.Fuzz(func(t *testing.T, payload string) {
		v, err := ParseJSON([]byte(payload))
		if err != nil {
			return
		}
		if _, ok := v.(map[string]any); !ok {
			return
		}
		// A fresh map for each decoder: they remove the time fields.
		copyObj := func() map[string]any {
			v, _ := ParseJSON([]byte(payload))
			return v.(map[string]any)
		}
		var res Result
		err = TTNReading(copyObj(), opts(), &res)
		checkResult(t, "TTN v3", opts(), res, err)
		res = Result{}
		_, err = TTNv2Reading(copyObj(), opts(), &res)
		checkResult(t, "TTN v2", opts(), res, err)
		res = Result{}
		_, err = BEEPReading(copyObj(), opts(), &res)
		checkResult(t, "BEEP", opts(), res, err)
	})
}

// FuzzForm covers form and query bodies (Kotori's urlencoded data and
// event, BEEP's form posts, Ecowitt): FormFields keeps the first value of a
// key as UTF-8 and drops PASSKEY; the readings, events and BEEP readings made of
// them keep the promises of checkResult.
func FuzzForm(f *testing.F) {
	f.Add("temperature=42.84&humidity=83.1&PASSKEY=x&temperature=1")
	f.Add("key=abc&data=t:18.4|h:58&time=1583810982")
	f.Add("title=Fed&text=2+kg&tags=a,b")
	f.Add("a=%zz")
	for _, p := range vectorPayloads(f, func(v testvectors.Vector) bool {
		return strings.Contains(v.Type(), "urlencoded")
	}) {
		f.Add(string(p))
	}
	f.Fuzz(func(t *testing.T, body string) {
		values, err := url.ParseQuery(strings.TrimSpace(body))
		if err != nil {
			return
		}
		fields := FormFields(values)
		if _, ok := fields["PASSKEY"]; ok {
			t.Fatalf("PASSKEY kept from %q", body)
		}
		for k, vs := range values {
			if k == "PASSKEY" || len(vs) == 0 {
				continue
			}
			want := strings.ToValidUTF8(vs[0], "\uFFFD")
			if s, ok := fields[strings.ToValidUTF8(k, "\uFFFD")].(string); !ok || !utf8.ValidString(s) || s != want && strings.ToValidUTF8(k, "\uFFFD") == k {
				t.Fatalf("field %q = %#v, want the first value %q as UTF-8", k, fields[k], vs[0])
			}
		}
		clone := func() map[string]any { return FormFields(values) }
		var res Result
		r, err := ReadingFromObject(clone(), opts(), &res)
		if err == nil {
			res.Readings = append(res.Readings, r)
		}
		checkResult(t, "form data", opts(), res, err)
		res = Result{}
		checkResult(t, "form event", opts(), res, EventFromFields(clone(), opts(), &res))
		res = Result{}
		_, err = BEEPReading(clone(), opts(), &res)
		checkResult(t, "BEEP form", opts(), res, err)
	})
}

// FuzzCSV: CSV bodies with and without a remembered header. The header in
// effect has no trailing empty cell, a body without any header fails with
// ErrNoCSVHeader, and readings keep the promises of checkResult.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"## time,a\n2020-01-01T00:00:00Z,1", "Datum,Uhrzeit,G\n2016-08-14,21:02:06,42", "a;b;Date;Time;\n1;2;21/09/21;07:21:55;", "1,2,3",
		"sensor_id;sensor_type;location;lat;lon;timestamp;P1;P2\n140;SDS011;83;48.8;9.1;2017-01-01T00:02:02;57.2;30.1"} {
		f.Add(s)
	}
	for _, p := range vectorPayloads(f, func(v testvectors.Vector) bool { return strings.Contains(v.Type(), "csv") }) {
		f.Add(string(p))
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, remembered := range [][]string{nil, {"time", "a"}} {
			var res Result
			h, announced, err := DecodeCSV([]byte(body), remembered, opts(), &res)
			checkResult(t, "csv", opts(), res, err)
			if len(h) > 0 && h[len(h)-1] == "" {
				t.Fatalf("header %q ends in an empty cell", h)
			}
			if !announced && !reflect.DeepEqual(h, remembered) {
				t.Fatalf("header changed to %q without being announced", h)
			}
			if errors.Is(err, ErrNoCSVHeader) && len(h) != 0 {
				t.Fatalf("no-header error with header %q", h)
			}
		}
	})
}
