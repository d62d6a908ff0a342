package decode

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/internal/testvectors"
	"github.com/apiary-hive/apiary/store"
)

// lppReceived is the time of arrival in the LPP tests.
var lppReceived = time.Date(2022, 6, 1, 10, 15, 2, 123456789, time.UTC)

func lppOpts() Options { return Options{Received: lppReceived} }

// lppHex turns "00 67 01bf" into bytes.
func lppHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// lppVector is the part of a firmware vector (testdata/lpp_*.json, copied
// from the shared firmware vectors) that the LPP tests read.
type lppVector struct {
	ID              string                 `json:"id"`
	Payload         string                 `json:"payload"`
	PayloadEncoding string                 `json:"payload_encoding"`
	Meaning         map[string]json.Number `json:"-"`
	RawMeaning      map[string]any         `json:"meaning"`
}

func loadLPPVector(t *testing.T, name string) lppVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v lppVector
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	v.Meaning = make(map[string]json.Number)
	for k, x := range v.RawMeaning {
		if n, ok := x.(json.Number); ok {
			v.Meaning[k] = n
		}
	}
	return v
}

// checkLPPFields compares fields with the meaning of a vector exactly: the
// float64 must be the one the decimal text reads as (44.7, not
// 44.699999999999996).
func checkLPPFields(t *testing.T, got map[string]float64, want map[string]json.Number) {
	t.Helper()
	for k, n := range want {
		w, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			t.Fatalf("meaning %s: %v", k, err)
		}
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("field %s missing, want %s", k, n)
		case g != w:
			t.Errorf("field %s = %s, want %s", k, strconv.FormatFloat(g, 'g', -1, 64), n)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s = %v", k, g)
		}
	}
}

// ttnEnvelopeKeys are the parts of the TTN vector's meaning that come from
// the webhook envelope (time, frame counter, radio metadata), not from the
// CayenneLPP frame; the webhook decoder adds them, DecodeLPP does not.
var ttnEnvelopeKeys = map[string]bool{
	"time": true, "counter": true, "sf": true, "bw": true, "freq": true, "gtw_count": true,
}

func TestDecodeLPPVectors(t *testing.T) {
	// The names in both vectors' meaning are the TTS names DecodeLPP uses
	// (temperature_0, voltage_0, load_5, barometric_pressure_5,
	// relative_humidity_5, digital_out_0): no name needs a vector-specific
	// exception.
	t.Run("terkin-mqtt-cayennelpp-base64", func(t *testing.T) {
		v := loadLPPVector(t, "lpp_terkin_mqtt_base64.json")
		if v.ID != "terkin-mqtt-cayennelpp-base64" || !strings.HasPrefix(v.PayloadEncoding, "base64") {
			t.Fatalf("unexpected vector %q (%s)", v.ID, v.PayloadEncoding)
		}
		var res Result
		if err := DecodeLPP([]byte(v.Payload), lppOpts(), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Readings) != 1 || len(res.Notes) != 0 {
			t.Fatalf("got %d readings, notes %v; want 1 reading, no notes", len(res.Readings), res.Notes)
		}
		if !res.Readings[0].Time.Equal(lppReceived) {
			t.Errorf("time %v, want the time of arrival %v", res.Readings[0].Time, lppReceived)
		}
		checkLPPFields(t, res.Readings[0].Fields, v.Meaning)
	})

	t.Run("ttn-v3-webhook-terkin-cayennelpp", func(t *testing.T) {
		v := loadLPPVector(t, "lpp_ttn_v3_webhook_terkin.json")
		if v.ID != "ttn-v3-webhook-terkin-cayennelpp" {
			t.Fatalf("unexpected vector %q", v.ID)
		}
		var env struct {
			Uplink struct {
				FRMPayload string                 `json:"frm_payload"`
				Decoded    map[string]json.Number `json:"decoded_payload"`
			} `json:"uplink_message"`
		}
		if err := json.Unmarshal([]byte(v.Payload), &env); err != nil {
			t.Fatal(err)
		}
		want := make(map[string]json.Number)
		for k, n := range v.Meaning {
			if !ttnEnvelopeKeys[k] && !strings.HasPrefix(k, "gw_") {
				want[k] = n
			}
		}
		raw, err := base64.StdEncoding.DecodeString(env.Uplink.FRMPayload)
		if err != nil {
			t.Fatal(err)
		}
		for name, payload := range map[string][]byte{
			"frm_payload base64": []byte(env.Uplink.FRMPayload),
			"frm_payload raw":    raw,
		} {
			t.Run(name, func(t *testing.T) {
				var res Result
				if err := DecodeLPP(payload, lppOpts(), &res); err != nil {
					t.Fatal(err)
				}
				if len(res.Readings) != 1 || len(res.Notes) != 0 {
					t.Fatalf("got %d readings, notes %v; want 1 reading, no notes", len(res.Readings), res.Notes)
				}
				checkLPPFields(t, res.Readings[0].Fields, want)
				// What Terkin's decoder_v3.js gave TTN must agree too.
				checkLPPFields(t, res.Readings[0].Fields, env.Uplink.Decoded)
			})
		}
	})
}

func TestDecodeLPP(t *testing.T) {
	gpsFrame := "01 88 06765f f2960a 0003e8" // the Cayenne docs' GPS example
	gps := map[string]float64{"gps_1.latitude": 42.3519, "gps_1.longitude": -87.9094, "gps_1.altitude": 10}
	tests := []struct {
		name    string
		payload []byte
		want    map[string]float64
		notes   int
	}{
		{"digital in", lppHex(t, "03 00 01"), map[string]float64{"digital_in_3": 1}, 0},
		{"digital out", lppHex(t, "00 01 00"), map[string]float64{"digital_out_0": 0}, 0},
		{"analog in", lppHex(t, "01 02 014a"), map[string]float64{"analog_in_1": 3.3}, 0},
		{"analog in negative", lppHex(t, "01 02 ff9c"), map[string]float64{"analog_in_1": -1}, 0},
		{"analog out", lppHex(t, "02 03 8000"), map[string]float64{"analog_out_2": -327.68}, 0},
		{"generic sensor", lppHex(t, "07 64 ffffffff"), map[string]float64{"generic_sensor_7": 4294967295}, 0},
		{"luminosity", lppHex(t, "04 65 ffff"), map[string]float64{"luminosity_4": 65535}, 0},
		{"presence", lppHex(t, "01 66 01"), map[string]float64{"presence_1": 1}, 0},
		{"temperature", lppHex(t, "00 67 01bf"), map[string]float64{"temperature_0": 44.7}, 0},
		{"temperature negative", lppHex(t, "00 67 ff38"), map[string]float64{"temperature_0": -20}, 0},
		{"temperature -0.1", lppHex(t, "00 67 ffff"), map[string]float64{"temperature_0": -0.1}, 0},
		{"humidity", lppHex(t, "05 68 9b"), map[string]float64{"relative_humidity_5": 77.5}, 0},
		{"humidity is unsigned", lppHex(t, "05 68 ff"), map[string]float64{"relative_humidity_5": 127.5}, 0},
		{"accelerometer", lppHex(t, "06 71 04d2 fb2e 0000"),
			map[string]float64{"accelerometer_6.x": 1.234, "accelerometer_6.y": -1.234, "accelerometer_6.z": 0}, 0},
		{"barometric pressure", lppHex(t, "05 73 2937"), map[string]float64{"barometric_pressure_5": 1055.1}, 0},
		{"barometric pressure is unsigned", lppHex(t, "05 73 ffff"), map[string]float64{"barometric_pressure_5": 6553.5}, 0},
		{"voltage", lppHex(t, "00 74 014a"), map[string]float64{"voltage_0": 3.3}, 0},
		{"current", lppHex(t, "01 75 0001"), map[string]float64{"current_1": 0.001}, 0},
		{"frequency", lppHex(t, "02 76 000001f4"), map[string]float64{"frequency_2": 500}, 0},
		{"percentage", lppHex(t, "03 78 64"), map[string]float64{"percentage_3": 100}, 0},
		{"altitude", lppHex(t, "04 79 ffff"), map[string]float64{"altitude_4": -1}, 0},
		{"load", lppHex(t, "05 7a 000f05"), map[string]float64{"load_5": 3.845}, 0},
		{"load negative", lppHex(t, "05 7a fff0bd"), map[string]float64{"load_5": -3.907}, 0},
		{"concentration", lppHex(t, "06 7d 01f4"), map[string]float64{"concentration_6": 500}, 0},
		{"power", lppHex(t, "07 80 ffff"), map[string]float64{"power_7": 65535}, 0},
		{"distance", lppHex(t, "08 82 00003039"), map[string]float64{"distance_8": 12.345}, 0},
		{"energy", lppHex(t, "09 83 ffffffff"), map[string]float64{"energy_9": 4294967.295}, 0},
		{"direction", lppHex(t, "0a 84 0168"), map[string]float64{"direction_10": 360}, 0},
		{"unixtime", lppHex(t, "0b 85 62973a36"), map[string]float64{"unixtime_11": 1654078006}, 0},
		{"gyrometer", lppHex(t, "0c 86 0001 ffff 7fff"),
			map[string]float64{"gyrometer_12.x": 0.01, "gyrometer_12.y": -0.01, "gyrometer_12.z": 327.67}, 0},
		{"colour", lppHex(t, "0d 87 ff8000"), map[string]float64{"colour_13.r": 255, "colour_13.g": 128, "colour_13.b": 0}, 0},
		{"gps", lppHex(t, gpsFrame), gps, 0},
		{"gps negative altitude", lppHex(t, "01 88 000000 000000 ffff9c"),
			map[string]float64{"gps_1.latitude": 0, "gps_1.longitude": 0, "gps_1.altitude": -1}, 0},
		{"switch", lppHex(t, "0e 8e 01"), map[string]float64{"switch_14": 1}, 0},
		{"channel 255", lppHex(t, "ff 67 0001"), map[string]float64{"temperature_255": 0.1}, 0},
		{"two channels (TTS docs example)", lppHex(t, "03 67 0110 05 67 00ff"),
			map[string]float64{"temperature_3": 27.2, "temperature_5": 25.5}, 0},
		{"repeated field: the last value wins, with a note", lppHex(t, "00 67 0001 00 67 0002 00 67 0003"),
			map[string]float64{"temperature_0": 0.3}, 1},

		// base64 text, as Terkin sends it over MQTT and TTN puts it in frm_payload.
		{"base64 padded", []byte("AGcBvw=="), map[string]float64{"temperature_0": 44.7}, 0},
		{"base64 unpadded", []byte("AGcBvw"), map[string]float64{"temperature_0": 44.7}, 0},
		{"base64 one '=' short", []byte("AGcBvw="), map[string]float64{"temperature_0": 44.7}, 0},
		{"base64 with surrounding whitespace", []byte(" \r\n\tAGcBvw==\n"), map[string]float64{"temperature_0": 44.7}, 0},
		{"base64 standard alphabet", []byte("AYgGdl/ylgoAA+g="), gps, 0},
		{"base64 URL alphabet", []byte("AYgGdl_ylgoAA-g="), gps, 0},
		{"base64 URL alphabet unpadded", []byte("\nAYgGdl_ylgoAA-g\n"), gps, 0},

		// Raw frames whose bytes look like text.
		{"raw frame starting with channel 10 ('\\n')", lppHex(t, "0a 67 01e1"), map[string]float64{"temperature_10": 48.1}, 0},
		{"raw frame ending in 0x20 (' ')", lppHex(t, "20 67 0020"), map[string]float64{"temperature_32": 3.2}, 0},
		// "\nhx" trims to "hx", valid base64 of one byte: not a frame, so
		// the bytes are read as they are.
		{"raw frame that looks like base64", []byte("\nhx"), map[string]float64{"relative_humidity_10": 60}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res Result
			if err := DecodeLPP(tt.payload, lppOpts(), &res); err != nil {
				t.Fatalf("DecodeLPP(% x): %v", tt.payload, err)
			}
			if len(res.Readings) != 1 {
				t.Fatalf("got %d readings, want 1", len(res.Readings))
			}
			r := res.Readings[0]
			if !r.Time.Equal(lppReceived) {
				t.Errorf("time %v, want %v", r.Time, lppReceived)
			}
			if !reflect.DeepEqual(r.Fields, tt.want) {
				t.Errorf("fields\n got %v\nwant %v", r.Fields, tt.want)
			}
			if len(r.Text)+len(r.Tags) != 0 {
				t.Errorf("unexpected text %v or tags %v", r.Text, r.Tags)
			}
			if len(res.Notes) != tt.notes {
				t.Errorf("notes %v, want %d", res.Notes, tt.notes)
			}
		})
	}
}

// TestDecodeLPPTable checks every type of the table decodes from a frame of
// its size, so a size slip in the table shows up as a test failure.
func TestDecodeLPPTable(t *testing.T) {
	for id, typ := range lppTypes {
		frame := append([]byte{1, id}, make([]byte, typ.size())...)
		var res Result
		if err := DecodeLPP(frame, lppOpts(), &res); err != nil {
			t.Errorf("type %d (%s): %v", id, typ.name, err)
			continue
		}
		if got := len(res.Readings[0].Fields); got != len(typ.values) {
			t.Errorf("type %d (%s): %d fields, want %d", id, typ.name, got, len(typ.values))
		}
		frame = frame[:len(frame)-1]
		if err := DecodeLPP(frame, lppOpts(), &res); Kind(err) != "lpp" {
			t.Errorf("type %d (%s) one byte short: error %v, want kind lpp", id, typ.name, err)
		}
	}
}

func TestDecodeLPPErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		opts    Options
		kind    string
		want    []string // substrings of the message
	}{
		{"nil", nil, Options{}, "empty", []string{"empty payload"}},
		{"empty", []byte{}, Options{}, "empty", []string{"empty payload"}},
		{"whitespace", []byte(" \r\n\t "), Options{}, "empty", []string{"empty payload"}},
		{"channel without type", lppHex(t, "00"), Options{}, "lpp",
			[]string{"truncated", "channel 0", "byte 0", "no type byte"}},
		{"channel without type after a record", lppHex(t, "00 67 01bf 05"), Options{}, "lpp",
			[]string{"truncated", "channel 5", "byte 4"}},
		{"truncated value", lppHex(t, "00 67 01"), Options{}, "lpp",
			[]string{"truncated", "temperature", "type 103", "byte 0", "needs 2 data bytes", "1 left"}},
		{"truncated gps", lppHex(t, "00 67 01bf 01 88 06765f f2960a 0003"), Options{}, "lpp",
			[]string{"truncated", "gps", "type 136", "channel 1", "byte 4", "needs 9", "8 left"}},
		{"unknown type", lppHex(t, "00 07 00"), Options{}, "lpp",
			[]string{"unknown CayenneLPP type 7", "byte 1", "channel 0"}},
		{"unknown type after a record", lppHex(t, "00 67 01bf 02 ff 00"), Options{}, "lpp",
			[]string{"unknown CayenneLPP type 255 (0xff)", "byte 5", "channel 2"}},
		{"base64 of a truncated frame", []byte("AGcB"), Options{}, "lpp",
			[]string{"base64-decoded frame", "truncated", "temperature", "byte 0"}},
		{"base64 of an unknown type", []byte(base64.StdEncoding.EncodeToString(lppHex(t, "00 67 01bf 00 63 00"))), Options{}, "lpp",
			[]string{"base64-decoded frame", "unknown CayenneLPP type 99", "byte 5"}},
		{"invalid base64", []byte("AGcBv"), Options{}, "lpp",
			[]string{"not base64", "unknown CayenneLPP type 71"}},
		{"JSON is not a frame", []byte(`{"temperature": 21.5}`), Options{}, "lpp",
			[]string{"unknown CayenneLPP type 34", "byte 1"}},
		{"too many values", lppHex(t, "00 67 0001 01 67 0001 02 67 0001"), Options{MaxFields: 2}, "limit",
			[]string{"more than 2 values"}},
		{"too many values in one record", lppHex(t, "00 71 0001 0002 0003"), Options{MaxFields: 2}, "limit",
			[]string{"more than 2 values"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Received = lppReceived
			res := Result{Readings: nil, Notes: nil}
			err := DecodeLPP(tt.payload, opts, &res)
			if err == nil {
				t.Fatalf("DecodeLPP(% x) = nil error, fields %v", tt.payload, res.Readings)
			}
			var de *Error
			if !errors.As(err, &de) || de.Kind != tt.kind || Kind(err) != tt.kind {
				t.Errorf("error %v (%T), want kind %q", err, err, tt.kind)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if len(res.Readings)+len(res.Notes)+len(res.Events) != 0 {
				t.Errorf("a failed decode left %v", res)
			}
		})
	}
}

func TestDecodeLPPAppends(t *testing.T) {
	res := Result{Readings: make([]store.Reading, 1), Notes: []Note{{"x", "earlier"}}}
	if err := DecodeLPP(lppHex(t, "00 67 01bf"), Options{}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Readings) != 2 || len(res.Notes) != 1 {
		t.Fatalf("got %d readings, %d notes; want the new reading appended", len(res.Readings), len(res.Notes))
	}
	if ts := res.Readings[1].Time; ts.IsZero() || time.Since(ts) > time.Minute {
		t.Errorf("time %v, want the default time of arrival (now)", ts)
	}
}

// TestDecodeLPPLarge decodes a large frame of one repeated record: time and
// memory stay linear and one note sums up the repeats.
func TestDecodeLPPLarge(t *testing.T) {
	frame := bytes.Repeat(lppHex(t, "00 67 01bf"), 1<<16)
	var res Result
	if err := DecodeLPP(frame, lppOpts(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Readings[0].Fields) != 1 || len(res.Notes) != 1 {
		t.Errorf("got %d fields, notes %v; want 1 field and 1 note", len(res.Readings[0].Fields), res.Notes)
	}
	allocs := testing.AllocsPerRun(3, func() {
		var res Result
		_ = DecodeLPP(frame, lppOpts(), &res)
	})
	if allocs > 100 {
		t.Errorf("%v allocations for a frame of one repeated record, want a few", allocs)
	}
}

// FuzzLPP checks that no payload panics, that a decode either appends one
// reading of finite values (at most one per payload byte) or fails with an
// "lpp", "empty" or "limit" error and leaves the result alone, and that the
// base64 text of a good raw frame decodes to the same fields.
func FuzzLPP(f *testing.F) {
	for _, s := range []string{
		"AGcBvw==",
		"AGcBvwB0AaQFegAPBQpnAeELZwHhBWcAlwVzKTcFaJsAAQA=",
		"\nhx",
		"AYgGdl_ylgoAA-g",
	} {
		f.Add([]byte(s))
	}
	for _, p := range vectorPayloads(f, func(v testvectors.Vector) bool { return strings.Contains(v.TopicOrPath, "lpp") }) {
		f.Add(p)
		if raw, err := base64.StdEncoding.DecodeString(string(p)); err == nil {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		opts := Options{Received: lppReceived, MaxFields: 64}
		var res Result
		err := DecodeLPP(payload, opts, &res)
		if err != nil {
			switch Kind(err) {
			case "lpp", "empty", "limit":
			default:
				t.Fatalf("error kind %q: %v", Kind(err), err)
			}
			if Kind(err) == "lpp" && !strings.Contains(err.Error(), "byte ") {
				t.Fatalf("error %q names no byte offset", err)
			}
			if err.Error() == "" || len(res.Readings)+len(res.Notes) != 0 {
				t.Fatalf("error %q left %v", err, res)
			}
			return
		}
		if len(res.Readings) != 1 {
			t.Fatalf("%d readings", len(res.Readings))
		}
		r := res.Readings[0]
		if !r.Time.Equal(lppReceived) || len(r.Fields) == 0 || len(r.Fields) > len(payload) || len(r.Fields) > 64 {
			t.Fatalf("reading %v from %d bytes", r, len(payload))
		}
		for k, v := range r.Fields {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxUint32 {
				t.Fatalf("field %s = %v", k, v)
			}
		}

		// The raw reading of payload, if it has one, survives base64.
		var raw lppFrame
		if raw.parse(payload, opts.MaxFields) != nil {
			return
		}
		for _, text := range []string{
			base64.StdEncoding.EncodeToString(payload),
			"\r\n " + base64.RawURLEncoding.EncodeToString(payload) + "\n",
		} {
			var res Result
			if err := DecodeLPP([]byte(text), opts, &res); err != nil {
				t.Fatalf("base64 %q of a good frame: %v", text, err)
			}
			if !reflect.DeepEqual(res.Readings[0].Fields, raw.fields) {
				t.Fatalf("base64 %q: fields %v, raw frame %v", text, res.Readings[0].Fields, raw.fields)
			}
		}
	})
}
