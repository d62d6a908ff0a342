package firmwaretests

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ttsHeaders are the headers of a The Things Stack v3 webhook (header
// names from TheThingsNetwork/lorawan-stack pkg/applicationserver/io/web).
func ttsHeaders() http.Header {
	down := "https://eu1.cloud.thethings.network/api/v3/as/applications/hiveeyes/webhooks/apiary/devices/hiveeyes-user-location-nameofhive/down/"
	return http.Header{
		"Content-Type":       {"application/json"},
		"User-Agent":         {"TheThingsStack/3.x (linux/amd64)"},
		"X-Downlink-Apikey":  {"NNSXS.XXXX"},
		"X-Downlink-Push":    {down + "push"},
		"X-Downlink-Replace": {down + "replace"},
		"X-Tts-Domain":       {"eu1.cloud.thethings.network"},
	}
}

// ttnUplink is the captured uplink with its counter, times and weight
// moved on by n uplinks of a Terkin datalogger sending every 10 minutes.
func ttnUplink(t *testing.T, n int) string {
	t.Helper()
	s := tpFixture(t, "ttn-v3-uplink.json")
	at := time.Date(2022, 6, 1, 10, 15, 2, 123456789, time.UTC).Add(time.Duration(n) * 10 * time.Minute)
	r := strings.NewReplacer(
		`"received_at": "2022-06-01T10:15:02.123456789Z"`, `"received_at": "`+at.Format(time.RFC3339Nano)+`"`,
		`"f_cnt": 1041`, fmt.Sprintf(`"f_cnt": %d`, 1041+n),
		`"load_5": 3.845`, fmt.Sprintf(`"load_5": %.3f`, 3.845+float64(n)/100),
	)
	out := r.Replace(s)
	if n > 0 && out == s {
		t.Fatal("fixture changed")
	}
	return out
}

// TestTTNWebhook is The Things Stack v3 with a webhook whose base URL is
// http://<pi>:8080/ttn and uplink path /uplink, the full uplink message of
// a Terkin datalogger behind decoder_v3.js, every 10 minutes (accelerated:
// four uplinks), one of them retried by TTS (the same body twice). The
// beekeeper sees ttn/<application>/default/<device> with the decoded
// payload and the radio metadata at received_at, the retry as no extra
// row, an uplink without decoded payload (no payload formatter) read from
// its CayenneLPP frame, one whose frame is not CayenneLPP either as a
// "ttn" entry naming the path, and nothing on the bus.
func TestTTNWebhook(t *testing.T) {
	web, _ := tpHTTP(t)
	for n := 0; n < 4; n++ {
		body := ttnUplink(t, n)
		for try := 0; try < 1+btoi(n == 2); try++ {
			status, answer, _ := tpRequest(t, "POST", web+"/ttn/uplink", ttsHeaders(), body)
			if status != 200 {
				t.Fatalf("uplink %d: %d %s", n, status, answer)
			}
		}
	}
	channel := "ttn/hiveeyes/default/hiveeyes-user-location-nameofhive"
	rows := tpRowsUntil(t, web, channel, "four uplinks", func(rows []map[string]any) bool { return len(rows) >= 4 })
	time.Sleep(100 * time.Millisecond)
	if rows, _, _ = exportRows(t, web, channel); len(rows) != 4 {
		t.Errorf("%d rows, want 4 (a retried webhook is the same reading): %v", len(rows), rows)
	}
	tpCheckRow(t, "first uplink", tpRow(rows, "time", "2022-06-01T10:15:02.123Z"), map[string]any{
		"temperature_0": 44.7, "voltage_0": 4.2, "load_5": 3.845, "temperature_10": 48.1, "temperature_11": 48.1,
		"temperature_5": 15.1, "barometric_pressure_5": 1055.1, "relative_humidity_5": 77.5, "digital_out_0": 0.0,
		"counter": 1041.0, "sf": 9.0, "bw": 125.0, "freq": 867.3, "gtw_count": 1.0,
		"gw_apiary-gw-1_rssi": -97.0, "gw_apiary-gw-1_snr": 8.25, "device_id": "hiveeyes-user-location-nameofhive",
	})
	tpCheckRow(t, "last uplink", tpRow(rows, "time", "2022-06-01T10:45:02.123Z"), map[string]any{"load_5": 3.875, "counter": 1044.0})
	fields := dashboardFields(t, web, channel)
	for f, fam := range map[string]string{"load_5": "Weight", "voltage_0": "Battery", "relative_humidity_5": "Humidity",
		"barometric_pressure_5": "Pressure", "gw_apiary-gw-1_rssi": "Signal", "device_id": "text"} {
		if fields[f] != fam {
			t.Errorf("dashboard: %s in %q, want %q", f, fields[f], fam)
		}
	}

	// The application has no payload formatter: no decoded_payload, and
	// the frame is Terkin's CayenneLPP, which Apiary reads itself.
	raw := strings.Replace(ttnUplink(t, 4), `"decoded_payload"`, `"decoded_payload_removed"`, 1)
	if status, answer, _ := tpRequest(t, "POST", web+"/ttn/uplink", ttsHeaders(), raw); status != 200 {
		t.Errorf("uplink without decoded payload: %d %s, want 200 (the frame is CayenneLPP)", status, answer)
	}
	rows = tpRowsUntil(t, web, channel, "the uplink without decoded payload", tpHasRow("time", "2022-06-01T10:55:02.123Z"))
	tpCheckRow(t, "uplink read from its frame", tpRow(rows, "time", "2022-06-01T10:55:02.123Z"), map[string]any{
		"temperature_0": 44.7, "voltage_0": 4.2, "temperature_5": 15.1, "counter": 1045.0})

	// Neither a formatter nor a CayenneLPP frame: a "ttn" entry, 400.
	raw = strings.Replace(raw, `"frm_payload": "AGcBvwB0AaQFegAPBQpnAeELZwHhBWcAlwVzKTcFaJsAAQA="`, `"frm_payload": "/w=="`, 1)
	status, answer, _ := tpRequest(t, "POST", web+"/ttn/uplink", ttsHeaders(), raw)
	if status != 400 {
		t.Errorf("uplink without decoded payload or CayenneLPP: %d %s, want 400", status, answer)
	}
	e := tpLoggedError(t, web, "/ttn/uplink", "ttn")
	if e.Channel != channel || !strings.Contains(e.Message, "payload formatter") {
		t.Errorf("entry: %+v", e)
	}
	tpOnlyErrors(t, web, "/ttn/uplink")
}

// TestTTNWebhookFiltered: with "Filter event data" the webhook sends only
// {"uplink_message":{"decoded_payload":{...}}}, no device ids; the base
// URL http://<pi>:8080/ttn/{appID}/{devID} names them instead.
func TestTTNWebhookFiltered(t *testing.T) {
	web, _ := tpHTTP(t)
	status, answer, _ := tpRequest(t, "POST", web+"/ttn/hiveeyes/hiveeyes-user-location-nameofhive/uplink", ttsHeaders(),
		`{"uplink_message":{"decoded_payload":{"temperature_0":44.7,"load_5":3.845}}}`)
	if status != 200 {
		t.Fatalf("filtered uplink: %d %s", status, answer)
	}
	tpRowsUntil(t, web, "ttn/hiveeyes/default/hiveeyes-user-location-nameofhive", "the filtered uplink", tpHasRow("load_5", 3.845))
	tpOnlyErrors(t, web)
}

// TestTTNWebhookKotori is the same webhook set up as the Hiveeyes
// documentation says for Kotori: the base URL is the channel's data URL
// (device hiveeyes-user-location-nameofhive → .../api/hiveeyes/user/
// location/nameofhive/data), either with the full message or with "Filter
// event data" = up.uplink_message.decoded_payload, which leaves only
// {"uplink_message":{"decoded_payload":{...}}} (then the time is the time
// of arrival).
func TestTTNWebhookKotori(t *testing.T) {
	web, _ := tpHTTP(t)
	start := time.Now()
	path := "/api/hiveeyes/user/location/nameofhive/data"
	status, answer, _ := tpRequest(t, "POST", web+path, ttsHeaders(), ttnUplink(t, 0))
	if status != 200 {
		t.Fatalf("full uplink: %d %s", status, answer)
	}
	minimal := `{"uplink_message":{"decoded_payload":{"temperature_0":44.9,"voltage_0":4.18,"load_5":3.851,"digital_out_0":0}}}`
	status, answer, _ = tpRequest(t, "POST", web+path, ttsHeaders(), minimal)
	if status != 200 {
		t.Fatalf("filtered uplink: %d %s", status, answer)
	}
	rows := tpRowsUntil(t, web, "hiveeyes/user/location/nameofhive", "both uplinks", func(rows []map[string]any) bool { return len(rows) == 2 })
	tpCheckRow(t, "full uplink", tpRow(rows, "time", "2022-06-01T10:15:02.123Z"), map[string]any{"load_5": 3.845, "counter": 1041.0, "gw_apiary-gw-1_snr": 8.25})
	filtered := tpRow(rows, "load_5", 3.851)
	tpCheckRow(t, "filtered uplink", filtered, map[string]any{"temperature_0": 44.9, "voltage_0": 4.18, "digital_out_0": 0.0, "counter": nil})
	if filtered != nil {
		arrivalTimes(t, []map[string]any{filtered}, start)
	}
	tpOnlyErrors(t, web)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
