package firmwaretests

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBEEP is each kind of client of BEEP's POST /api/sensors
// (beepnl/BEEP MeasurementController storeMeasurementData) pointed at the
// appliance: the device is its "key" (or a TTN message's DevEUI), the node
// beep/default/default/<key>. The beekeeper sees the values with BEEP's
// short names at their time of arrival, or at "time" (epoch seconds)
// where the client sends one, and the right dashboard charts.
func TestBEEP(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name, query, body string
		header            http.Header
		key               string
		at                string // "" for the time of arrival
		want              map[string]any
		dashboard         map[string]string
	}{
		{"api-json", "", `{"key":"your_beep_device_key","t":18.4,"t_i":34.5,"weight_kg":57.348,"h":58,"bv":3.54}`,
			http.Header{"Content-Type": {"application/json"}, "User-Agent": {"BEEP-base/1.5.1"}}, "your_beep_device_key", "",
			map[string]any{"t": 18.4, "t_i": 34.5, "weight_kg": 57.348, "h": 58.0, "bv": 3.54},
			map[string]string{"t": "Temperature outside", "t_i": "Temperature inside", "weight_kg": "Weight", "h": "Humidity", "bv": "Battery"}},
		// The docblock's query format: POST with no body and no Content-Type.
		{"api-query", "?key=your_beep_device_key&t=18.4&t_i=34.5&weight_kg=57.348&h=58&bv=3.54", "",
			http.Header{"User-Agent": {"curl/8.5.0"}, "Accept": {"*/*"}}, "your_beep_device_key", "",
			map[string]any{"t": 18.4, "t_i": 34.5, "weight_kg": 57.348, "h": 58.0, "bv": 3.54},
			map[string]string{"t": "Temperature outside", "t_i": "Temperature inside", "weight_kg": "Weight", "h": "Humidity", "bv": "Battery"}},
		// BEEP measurement system firmware v1-3: a form with the legacy data string.
		{"legacy-fw", "", "key=your_beep_device_key&data=t%3A18.4%7Ch%3A58%7Cw_v%3A1234%7Ct_i%3A34.5%7Cbv%3A3.54",
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "your_beep_device_key", "",
			map[string]any{"t": 18.4, "h": 58.0, "w_v": 1234.0, "t_i": 34.5, "bv": 3.54},
			map[string]string{"t": "Temperature outside", "t_i": "Temperature inside", "w_v": "Other", "h": "Humidity", "bv": "Battery"}},
		// A client sending its own time: BEEP's "time", epoch seconds.
		{"api-json-time", "", `{"key":"your_beep_device_key","t":18.4,"weight_kg":57.348,"time":1717243200}`,
			jsonHeader, "your_beep_device_key", "2024-06-01T12:00:00.000Z",
			map[string]any{"t": 18.4, "weight_kg": 57.348},
			map[string]string{"t": "Temperature outside", "weight_kg": "Weight"}},
		// Hiverize FiPy: MicroPython urequests.post(json=data): json.dumps
		// spacing, the key last, no User-Agent.
		{"hiverize-fipy", "", `{"t_i_1": 23.1875, "t_i_2": 23.125, "t": 22.66734, "p": 1002.334, "h": 52.41612, "weight_kg": 10.0, "key": "YOUR-BOB-KEY"}`,
			jsonHeader, "YOUR-BOB-KEY", "",
			map[string]any{"t_i_1": 23.1875, "t_i_2": 23.125, "t": 22.66734, "p": 1002.334, "h": 52.41612, "weight_kg": 10.0},
			map[string]string{"t_i_1": "Temperature inside", "t_i_2": "Temperature inside", "t": "Temperature outside", "p": "Pressure", "h": "Humidity", "weight_kg": "Weight"}},
		// TTN v2 HTTP integration pointed at /api/sensors, as BEEP still parses it.
		{"ttn-v2", "", "", jsonHeader, "70B3D57ED0041234", "2020-05-01T08:00:00.123Z",
			map[string]any{"load_5": 3.845, "temperature_0": 44.7, "voltage_0": 4.2, "relative_humidity_5": 77.5, "rssi": -97.0, "snr": 8.25},
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			web, _ := tpHTTP(t)
			start := time.Now()
			body := c.body
			if c.name == "ttn-v2" {
				body = tpFixture(t, "ttn-v2-integration.json")
			}
			status, answer, resp := tpRequest(t, "POST", web+"/api/sensors"+c.query, c.header, body)
			channel := "beep/default/default/" + c.key
			if status != 200 || resp.Get("Channel-Id") != "/"+channel {
				t.Fatalf("%d %s (Channel-Id %q)", status, answer, resp.Get("Channel-Id"))
			}
			rows := tpRowsUntil(t, web, channel, "the reading", func(rows []map[string]any) bool { return len(rows) == 1 })
			tpCheckRow(t, "reading", rows[0], c.want)
			if _, ok := rows[0]["key"]; ok {
				t.Errorf("the device key is stored as a field: %v", rows[0])
			}
			if c.at == "" {
				arrivalTimes(t, []map[string]any{rows[0]}, start)
			} else if rows[0]["time"] != c.at {
				t.Errorf("time %v, want %s", rows[0]["time"], c.at)
			}
			if c.dashboard != nil {
				checkDashboard(t, web, channel, c.dashboard)
			}
			tpOnlyErrors(t, web)
		})
	}
}

// TestBEEPGarbage: BEEP's own API documentation shows broken JSON
// (t_i":34.5), and a client may forget its key. Each is a 4xx answer and
// an error-log entry naming /api/sensors; nothing is stored.
func TestBEEPGarbage(t *testing.T) {
	web, _ := tpHTTP(t)
	status, _, _ := tpRequest(t, "POST", web+"/api/sensors", http.Header{"Content-Type": {"application/json"}},
		`{"key":"your_beep_device_key", "t":18.4, t_i":34.5, "weight_kg":57.348, "h":58, "bv":3.54}`)
	if status != 400 {
		t.Errorf("broken JSON: status %d, want 400", status)
	}
	e := tpLoggedError(t, web, "/api/sensors", "json")
	if !strings.Contains(e.Excerpt, `t_i":34.5`) {
		t.Errorf("entry: %+v", e)
	}
	status, _, _ = tpRequest(t, "POST", web+"/api/sensors", http.Header{"Content-Type": {"application/json"}}, `{"t":18.4,"weight_kg":57.348}`)
	if status != 400 {
		t.Errorf("no key: status %d, want 400", status)
	}
	e = tpLoggedError(t, web, "/api/sensors", "address")
	if !strings.Contains(e.Message, "key") {
		t.Errorf("entry: %+v", e)
	}
	_, body := tpGet(t, web+"/api/channels")
	if strings.Contains(body, `"beep"`) {
		t.Errorf("garbage stored: %s", body)
	}
}
