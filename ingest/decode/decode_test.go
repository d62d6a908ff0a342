package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	arrival = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	berlin  *time.Location
)

func init() {
	berlin, _ = time.LoadLocation("Europe/Berlin")
}

func opts() Options { return Options{Zone: berlin, Received: arrival} }

// flat renders a result's readings as "time field=value ..." lines, fields
// sorted, for compact comparisons.
func flat(res Result) string {
	var lines []string
	for _, r := range res.Readings {
		var parts []string
		for k, v := range r.Fields {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
		for k, v := range r.Text {
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		}
		for k, v := range r.Tags {
			parts = append(parts, fmt.Sprintf("#%s=%s", k, v))
		}
		sort.Strings(parts)
		when := r.Time.UTC().Format(time.RFC3339Nano)
		if r.Time.Equal(arrival) {
			when = "arrival"
		}
		lines = append(lines, when+" "+strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

func TestLenient(t *testing.T) {
	cases := map[string]string{
		`{"a":NaN,"b":1}`:                 `{"a":null,"b":1}`,
		`{"a": -Infinity, "b": Infinity}`: `{"a": null, "b": null}`,
		`{"a": nan, "b": inf, "c": -inf}`: `{"a": null, "b": null, "c": null}`,
		`{"NaN": "NaN", "x": "inf"}`:      `{"NaN": "NaN", "x": "inf"}`,
		`{"s": "a \" NaN \\", "v": NaN}`:  `{"s": "a \" NaN \\", "v": null}`,
		`{"nano": 1, "info": 2}`:          `{"nano": 1, "info": 2}`,
		`[NaN,1]`:                         `[null,1]`,
	}
	for in, want := range cases {
		if got := string(Lenient([]byte(in))); got != want {
			t.Errorf("Lenient(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestJSONRules(t *testing.T) {
	cases := []struct {
		name, payload, want string
	}{
		{"numbers, numeric strings, booleans, null", `{"a": 21.5, "b": " +0.0", "c": "7", "d": true, "e": false, "f": null, "g": "abc"}`,
			`arrival a=21.5 b=0 c=7 d=1 e=0 g="abc"`},
		{"NaN dropped", `{"weight":NaN,"t":24.2}`, `arrival t=24.2`},
		{"nan string dropped", `{"weight":"nan","t":"inf","u":1}`, `arrival u=1`},
		{"names kept verbatim", `{"Pressure[hpa]": 1013.2, "temperature.0x77.i2c:0": 21, "außen": 3}`,
			`arrival Pressure[hpa]=1013.2 außen=3 temperature.0x77.i2c:0=21`},
		{"nested objects and arrays flattened", `{"BME280": {"T": 1, "H": {"x": 2}}, "frame": [1, 2]}`,
			`arrival BME280.H.x=2 BME280.T=1 frame.0=1 frame.1=2`},
		{"tags", `{"t": 1, "geohash": "u0wt", "sensor_id": 140, "latitude": 42.5}`,
			`arrival #geohash=u0wt #sensor_id=140 latitude=42.5 t=1`},
		{"time epoch seconds", `{"time": 1583810982, "t": 1}`, `2020-03-10T03:29:42Z t=1`},
		{"time ns exact", `{"time": 1455527630507803904, "t": 1}`, `2016-02-15T09:13:50.507803904Z t=1`},
		{"time string Berlin", `{"Time": "2019-06-02T22:13:07", "t": 1}`, `2019-06-02T20:13:07Z t=1`},
		{"time candidates in order", `{"timestamp": 1583810982, "datetime": "2020-01-01T00:00:00Z", "t": 1}`,
			`2020-01-01T00:00:00Z t=1 timestamp=1.583810982e+09`},
		{"empty time candidate skipped", `{"time": "", "dateTime": "1492467300.0", "t": "1"}`, `2017-04-17T22:15:00Z t=1`},
		{"unreadable time: arrival", `{"time": "soon", "t": 1}`, `arrival t=1`},
		{"1970 time: arrival", `{"Time": "1970-01-01T00:00:03", "t": 1}`, `arrival t=1`},
		{"far future: arrival", `{"time": "2099-01-01T00:00:00Z", "t": 1}`, `arrival t=1`},
		{"batch", `[{"time": 1583810982, "t": 1}, {"time": 1583810983, "t": 2}]`,
			"2020-03-10T03:29:42Z t=1\n2020-03-10T03:29:43Z t=2"},
		{"trailing newline", "{\"temperature\": 42.84, \"humidity\": 83}\n", `arrival humidity=83 temperature=42.84`},
		{"byte order mark", "\ufeff{\"temperature\": 42.84}", `arrival temperature=42.84`},
		{"byte order mark before a batch", "\ufeff [{\"t\": 1}]", `arrival t=1`},
		{"big numbers", `{"raw": 8388607, "abs": -2147483648, "c": 4294967295, "e": 1.7976931348623157e308, "huge": 1e400}`,
			`arrival abs=-2.147483648e+09 c=4.294967295e+09 e=1.7976931348623157e+308 raw=8.388607e+06`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Decode("data.json", []byte(tc.payload), opts())
			if err != nil {
				t.Fatal(err)
			}
			if got := flat(res); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestNotesForDroppedThings(t *testing.T) {
	res, err := Decode("data.json", []byte(`{"Time": "1970-01-01T00:00:03", "t": 1, "huge": 1e400}`), opts())
	if err != nil {
		t.Fatal(err)
	}
	kinds := ""
	for _, n := range res.Notes {
		kinds += n.Kind + " "
	}
	if kinds != "clock value " && kinds != "value clock " {
		t.Errorf("notes = %+v", res.Notes)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		slot, payload, kind string
	}{
		{"data.json", `{"weight": 42.42`, "json"},
		{"data.json", `foobar`, "json"},
		{"data.json", ``, "empty"},
		{"data.json", `{}`, "empty"},
		{"data.json", `{"time": 1583810982}`, "empty"},
		{"data.json", `[1, 2]`, "json"},
		{"data.json", `42`, "json"},
		{"data.json", `{"a": 1} {"b": 2}`, "json"},
		{"data.json", `{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41), "limit"},
		{"data/load_connection", `connect`, "value"},
		{"event.json", `{"title": "", "text": "", "tags": ""}`, "empty"},
		{"tele/SENSOR", `[]`, "json"},
		{"custom/airrohr.json", `{"esp8266id": 1}`, "json"},
		{"status.txt", `x`, "slot"},
	}
	for _, tc := range cases {
		_, err := Decode(tc.slot, []byte(tc.payload), opts())
		if err == nil {
			t.Errorf("Decode(%s, %.40q) succeeded", tc.slot, tc.payload)
			continue
		}
		if k := Kind(err); k != tc.kind {
			t.Errorf("Decode(%s, %.40q): kind %q (%v), want %q", tc.slot, tc.payload, k, err, tc.kind)
		}
	}
	if _, err := Decode("error.json", []byte(`{}`), opts()); !errors.Is(err, ErrIgnored) {
		t.Errorf("error.json: %v", err)
	}
	o := opts()
	o.MaxFields = 3
	if _, err := Decode("data.json", []byte(`{"a":1,"b":2,"c":3,"d":4}`), o); Kind(err) != "limit" {
		t.Errorf("too many fields: %v", err)
	}
	// A batch is bounded by its distinct names, not by its values: a
	// backlog of many readings of the same fields is one device's history.
	batches := []struct {
		slot, payload, kind string
	}{
		{"data.json", `[{"a":1,"b":2,"c":3},{"a":4,"b":5,"c":6},{"a":7,"b":8,"c":9}]`, ""},
		{"data.json", `[{"a":1,"b":2},{"c":3,"d":4}]`, "limit"},
		{"data.ndjson", "{\"a\":1,\"b\":2}\n{\"c\":3,\"d\":4}\n", "limit"},
		{"data.ndjson", "{\"a\":1,\"b\":2,\"s\":\"x\"}\n{\"a\":3,\"b\":4,\"s\":\"y\"}\n", ""},
	}
	for _, tc := range batches {
		_, err := Decode(tc.slot, []byte(tc.payload), o)
		kind := ""
		if err != nil {
			kind = Kind(err)
		}
		if kind != tc.kind {
			t.Errorf("Decode(%s, %q) with max 3 fields: kind %q (%v), want %q", tc.slot, tc.payload, kind, err, tc.kind)
		}
	}
}

func TestSlots(t *testing.T) {
	cases := []struct {
		slot, payload, want string
	}{
		{"data/humidity", "83.1", "arrival humidity=83.1"},
		{"measure/weight", " 55.435\n", "arrival weight=55.435"},
		{"data/temp", "nan", ""},
		{"data/__json__", `{"Weight": 1}`, "arrival Weight=1"},
		{"message-json", `{"t": 1}`, "arrival t=1"},
		{"loop", `{"outTemp_C": "3.5", "dateTime": "1492467300.0"}`, "2017-04-17T22:15:00Z outTemp_C=3.5"},
		{"value/status", "Online", `arrival status="Online"`},
		{"value/door", "ON", `arrival door=1`},
		{"value/t", "None", ``},
		{"data.ndjson", "{\"t\": 1}\n\n{\"t\": 2, \"time\": 1583810982}\nnot json\n", "arrival t=1\n2020-03-10T03:29:42Z t=2"},
		{"tele/SENSOR", `{"Time": "2017-10-05T22:39:45", "DS18x20": {"DS1": {"Type": "DS18B20", "Address": "28FF", "Temperature": 25.37}}, "DHT22": {"Temperature": 33.2, "Humidity": 30}, "TempUnit": "C"}`,
			"2017-10-05T20:39:45Z DHT22.Humidity=30 DHT22.Temperature=33.2 DS18x20.DS1.Temperature=25.37"},
		{"tele/SENSOR", `{"Time": "2024-05-12T14:05:00", "Epoch": 1715515500, "HX711": {"Weight": 41.862}}`,
			"2024-05-12T12:05:00Z HX711.Weight=41.862"},
		{"tele/STATE", `{"Time": "2019-06-02T22:13:07", "Uptime": "1T18:10:35", "Vcc": 3.182, "Sleep": 50, "LoadAvg": 19, "Wifi": {"AP": 1, "SSId": "x", "Channel": 1, "RSSI": 100, "LinkCount": 1}}`,
			"2019-06-02T20:13:07Z Device.LoadAvg=19 Device.Sleep=50 Device.Vcc=3.182 Device.Wifi.Channel=1 Device.Wifi.LinkCount=1 Device.Wifi.RSSI=100"},
		// Current firmware adds Wifi.Signal (dBm), kept beside Kotori's six, and text members, not kept.
		{"tele/STATE", `{"Time": "2024-01-09T10:00:00", "Vcc": 3.1, "Sleep": 50, "LoadAvg": 19, "Wifi": {"Channel": 6, "RSSI": 62, "Signal": -69, "LinkCount": 1, "Mode": "11n"}}`,
			"2024-01-09T09:00:00Z Device.LoadAvg=19 Device.Sleep=50 Device.Vcc=3.1 Device.Wifi.Channel=6 Device.Wifi.LinkCount=1 Device.Wifi.RSSI=62 Device.Wifi.Signal=-69"},
		{"custom/airrohr.json", `{"esp8266id": "1", "software_version": "x", "sensordatavalues": [{"value_type": "SDS_P1", "value": "35.67"}, {"value_type": "signal", "value": "-66"}]}`,
			"arrival SDS_P1=35.67 signal=-66"},
		{"data.json", `{"uplink_message": {"decoded_payload": {"temperature_1": 53.3, "voltage_4": 3.3}}}`,
			"arrival temperature_1=53.3 voltage_4=3.3"},
		// received_at is Kotori's "timestamp": the last choice, so the
		// payload's own time wins and is not kept as a field.
		{"data.json", `{"end_device_ids": {"device_id": "hive-1"}, "received_at": "2022-01-19T19:02:34Z", "uplink_message": {"decoded_payload": {"t": 1, "timestamp": 1583810982}}}`,
			`2020-03-10T03:29:42Z device_id="hive-1" t=1`},
		{"data.json", `{"end_device_ids": {"device_id": "hive-1"}, "received_at": "2022-01-19T19:02:34Z", "uplink_message": {"decoded_payload": {"t": 1, "Time": "2020-03-10T03:29:42Z", "device_id": "scale"}}}`,
			`2020-03-10T03:29:42Z device_id="scale" t=1 timestamp="2022-01-19T19:02:34Z"`}, // only the time field used is removed
		{"data.json", `{"received_at": "2022-01-19T19:02:34Z", "uplink_message": {"decoded_payload": {"t": 1}, "f_cnt": 7}}`,
			"2022-01-19T19:02:34Z counter=7 t=1"},
		// A device time that cannot be right (no RTC): received_at, not the arrival.
		{"data.json", `{"received_at": "2022-01-19T19:02:34Z", "uplink_message": {"decoded_payload": {"t": 1, "time": 0}}}`,
			`2022-01-19T19:02:34Z t=1 timestamp="2022-01-19T19:02:34Z"`},
		// No payload formatter: the CayenneLPP frame itself (temperature 44.7 on channel 0).
		{"data.json", `{"received_at": "2022-01-19T19:02:34Z", "uplink_message": {"f_port": 2, "frm_payload": "AGcBvw=="}}`,
			"2022-01-19T19:02:34Z temperature_0=44.7"},
		{"data.json", `{"received_at": "2022-01-19T19:02:34Z", "uplink_message": {"decoded_payload": {"bytes": [0, 103, 1, 191]}}}`,
			"2022-01-19T19:02:34Z temperature_0=44.7"},
	}
	for _, tc := range cases {
		res, err := Decode(tc.slot, []byte(tc.payload), opts())
		if err != nil {
			t.Errorf("Decode(%s): %v", tc.slot, err)
			continue
		}
		if got := flat(res); got != tc.want {
			t.Errorf("Decode(%s) =\n%s\nwant\n%s", tc.slot, got, tc.want)
		}
	}
}

func TestCSV(t *testing.T) {
	cases := []struct {
		name, body string
		header     []string
		want       string
		wantHeader string
	}{
		{"announced header, spaces", "## time, weight, temperature\n2016-08-14T22:02:06Z, 58.697, 19.6\n2016-08-14T22:22:06Z, 58.663, 19.4\n", nil,
			"2016-08-14T22:02:06Z temperature=19.6 weight=58.697\n2016-08-14T22:22:06Z temperature=19.4 weight=58.663", "time|weight|temperature"},
		{"remembered header", "2016-08-14T22:02:06Z,58.7,19.6", []string{"time", "weight", "temperature"},
			"2016-08-14T22:02:06Z temperature=19.6 weight=58.7", "time|weight|temperature"},
		{"empty cells stay positional", "## time,weight,temperature-outside,humidity-outside,temperature-inside,voltage\n2017-03-17T02:48:15Z,,42.420,84.840,,3.843", nil,
			"2017-03-17T02:48:15Z humidity-outside=84.84 temperature-outside=42.42 voltage=3.843", ""},
		{"empty time is arrival", "## time,weight\n,42", nil, "arrival weight=42", ""},
		{"semicolons", "## time;weight\n2016-08-14T22:02:06Z;42", nil, "2016-08-14T22:02:06Z weight=42", ""},
		{"Open Hive", "Datum/Zeit,Gewicht,Temp\n2016/08/14 21:02:06,42.1,20", nil, "2016-08-14T19:02:06Z Gewicht=42.1 Temp=20", "Datum/Zeit|Gewicht|Temp"},
		{"Open Hive server time", "Date/Time,Weight\ntimestamp-by-server,42.1", nil, "arrival Weight=42.1", ""},
		{"Beelogger fuses Datum and Uhrzeit, UTC", "Datum,Uhrzeit,Gewicht\n2016-08-14,21:02:06,42", nil, "2016-08-14T21:02:06Z Gewicht=42", ""},
		{"Variometer", "Runtime;BatVolt;Date;Time;VAR[m/s];Envelope Temp[Deg];\n05;4.0;21/09/21;07:21:55; +0.0;17.03;\n", nil,
			"2021-09-21T07:21:55Z BatVolt=4 Envelope Temp[Deg]=17.03 Runtime=5 VAR[m/s]=0", "Runtime|BatVolt|Date|Time|VAR[m/s]|Envelope Temp[Deg]"},
		{"Terkin header without ##", "datetime.ISO8601,weight.0,temperature.0x77.i2c:0\n2019-03-01T22:10:00,42.5,21.1", nil,
			"2019-03-01T21:10:00Z temperature.0x77.i2c:0=21.1 weight.0=42.5", ""},
		{"Sensor.Community archive", "sensor_id;sensor_type;location;lat;lon;timestamp;P1;P2\n140;SDS011;83;48.8;9.1;2017-01-01T00:02:02;57.2;30.1", nil,
			"2017-01-01T00:02:02Z #location=83 #sensor_id=140 #sensor_type=SDS011 P1=57.2 P2=30.1 lat=48.8 lon=9.1", ""},
		{"header only", "## time,weight\n", nil, "", "time|weight"},
		{"text value", "## time,state\n2020-01-01T00:00:00Z,swarming", nil, `2020-01-01T00:00:00Z state="swarming"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res Result
			o := opts()
			if strings.Contains(tc.name, "archive") {
				o.Zone = time.UTC
			}
			h, _, err := DecodeCSV([]byte(tc.body), tc.header, o, &res)
			if err != nil {
				t.Fatal(err)
			}
			if got := flat(res); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if tc.wantHeader != "" && strings.Join(h, "|") != tc.wantHeader {
				t.Errorf("header %q, want %q", strings.Join(h, "|"), tc.wantHeader)
			}
		})
	}
	var res Result
	if _, _, err := DecodeCSV([]byte("1,2,3"), nil, opts(), &res); !errors.Is(err, ErrNoCSVHeader) {
		t.Errorf("no header: %v", err)
	}
}

func TestEvent(t *testing.T) {
	res, err := Decode("event.json", []byte(`{"title": "Fed", "text": "<b>2 kg</b>", "tags": "feeding, sugar", "reference": "abc", "time": "2026-05-01T10:00:00Z"}`), opts())
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	ev := res.Events[0]
	if ev.Title != "Fed" || ev.Text != "<b>2 kg</b>" || strings.Join(ev.Tags, "|") != "feeding|sugar" || ev.Extra["reference"] != "abc" || ev.Time.Format(time.RFC3339) != "2026-05-01T10:00:00Z" {
		t.Errorf("event = %+v", ev)
	}
	// Kotori stores any object: tags alone make an event; nothing at all does not.
	res, err = Decode("event.json", []byte(`{"tags": "swarm", "reference": "r"}`), opts())
	if err != nil || len(res.Events) != 1 || res.Events[0].Tags[0] != "swarm" {
		t.Errorf("event of tags only: %+v %v", res, err)
	}
	if _, err := Decode("event.json", []byte(`{"time": "2026-05-01T10:00:00Z"}`), opts()); err == nil {
		t.Error("an event of nothing but its time was accepted")
	}
}

// TestFastPathAgrees: the one-pass parser of flat objects gives what the
// general parser gives, and declines what it cannot read.
func TestFastPathAgrees(t *testing.T) {
	for _, in := range []string{
		`{"weight":42.17,"t":-1.5e3,"s":"ok","b":true,"n":null,"x":NaN,"y":-Infinity,"z":0}`,
		` { "a" : 1 , "b" : "two" } `,
		`{}`,
		`{"time": 1455527630507803904, "v": 8388607}`,
	} {
		fast, ok := fastObject([]byte(strings.TrimSpace(in)))
		if !ok {
			t.Errorf("fast path declined %s", in)
			continue
		}
		var general any
		dec := json.NewDecoder(strings.NewReader(string(Lenient([]byte(in)))))
		dec.UseNumber()
		if err := dec.Decode(&general); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(fast) != fmt.Sprint(general) {
			t.Errorf("%s: fast %v, general %v", in, fast, general)
		}
	}
	for _, in := range []string{`{"a":{"b":1}}`, `{"a":[1]}`, `{"a\"b":1}`, `{"a":01}`, `{"a":1,}`, `{"a":1} x`, `{"a":.5}`, `{"a":1`, `{"a":"x\u00df"}`, `{"a":tru}`} {
		if _, ok := fastObject([]byte(in)); ok {
			t.Errorf("fast path accepted %s", in)
		}
	}
}
