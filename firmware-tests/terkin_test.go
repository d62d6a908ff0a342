package firmwaretests

// Emulations of the TerkinData C++ serializer (hiveeyes/arduino
// libraries/TerkinData) and of the Terkin datalogger (MicroPython,
// hiveeyes/terkin-datalogger) over MQTT, HTTP, HTTP over GPRS and
// LoRaWAN/TTN.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// sim800POST is the request a SIM800 modem's own HTTP client writes for
// AT+HTTPPARA="CONTENT",<ctype> and AT+HTTPACTION=1 (the GPRSbee of
// Hiveeyes' TerkinTelemetry, Terkin's GPRS transport): HTTP/1.1, the
// modem's User-Agent, no TLS (hence /api-notls/).
func sim800POST(t *testing.T, web, path, ctype, body string) (int, string) {
	t.Helper()
	host := strings.TrimPrefix(web, "http://")
	return rawHTTP(t, web, "POST "+path+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: SIMCOM_MODULE\r\n"+
		"Content-Type: "+ctype+"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// urequestsPOST is MicroPython's urequests.post(url, data=..., headers=
// {'Content-Type': ...}): HTTP/1.0, Host, the given header, Content-Length,
// no User-Agent.
func urequestsPOST(t *testing.T, web, path, ctype, body string) (int, string) {
	t.Helper()
	host := strings.TrimPrefix(web, "http://")
	return rawHTTP(t, web, "POST "+path+" HTTP/1.0\r\nHost: "+host+"\r\nContent-Type: "+ctype+"\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// terkinDataJSON is TerkinData's json_data(): ArduinoJson compact, the
// time string first, float_precision 2; missing sensors are left out.
func terkinDataJSON(tm string, weight, tempOut, humOut, tempIn, volt string) string {
	parts := []string{`"time":"` + tm + `"`}
	for _, kv := range [][2]string{{"weight", weight}, {"temperature-outside", tempOut}, {"humidity-outside", humOut}, {"temperature-inside", tempIn}, {"voltage", volt}} {
		if kv[1] != "" {
			parts = append(parts, `"`+kv[0]+`":`+kv[1])
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// terkinDataForm is TerkinData's urlencode_data(): every character but
// letters and digits percent-encoded, "-" and "." too.
func terkinDataForm(tm, weight, tempOut, humOut, tempIn, volt string) string {
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	parts := []string{"time=" + enc(tm)}
	for _, kv := range [][2]string{{"weight", weight}, {"temperature-outside", tempOut}, {"humidity-outside", humOut}, {"temperature-inside", tempIn}, {"voltage", volt}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+enc(kv[1]))
		}
	}
	return strings.Join(parts, "&")
}

const terkinDataHeader = "## time,weight,temperature-outside,humidity-outside,temperature-inside,voltage"

// TestTerkinDataHTTP: a GPRS node serialising with TerkinData posts its
// readings through the SIM800 in each of the library's formats. The
// times are the node's RTC (a minute apart); missing sensors are missing
// values, positionally in CSV (an empty cell) and by absence in JSON and
// form; the CSV header, sent once, is remembered across a restart of the
// appliance; the over-encoded form values ("85%2E00") are numbers.
func TestTerkinDataHTTP(t *testing.T) {
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	at := func(i int) string { return t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05Z") }
	csvVector := vector(t, "terkindata-csv-with-empty-fields")
	formVector := vector(t, "terkindata-urlencoded-overencoded")
	full := map[string]any{"weight": 85.0, "temperature-outside": 42.42, "humidity-outside": 84.84, "temperature-inside": 33.33, "voltage": 3.84}
	partial := map[string]any{"weight": nil, "temperature-outside": 42.42, "humidity-outside": 84.84, "temperature-inside": nil, "voltage": 3.84}
	type post struct {
		body    string
		want    map[string]any // nil: the body is a header, no reading
		restart bool           // restart the appliance before this post
	}
	for _, f := range []struct {
		name, ctype string
		posts       []post
	}{
		{"json", "application/json", []post{
			{body: terkinDataJSON(at(0), "85.00", "42.42", "84.84", "33.33", "3.84"), want: full},
			{body: terkinDataJSON(at(1), "", "42.42", "84.84", "", "3.84"), want: partial},
			{body: terkinDataJSON(at(2), "85.00", "42.42", "84.84", "33.33", "3.84"), want: full},
		}},
		{"csv", "text/csv", []post{
			{body: terkinDataHeader + "\n" + at(0) + ",85.000,42.420,84.840,33.330,3.843", want: map[string]any{"weight": 85.0, "temperature-inside": 33.33, "voltage": 3.843}},
			{body: strings.Replace(csvVector.Payload, "2017-03-17T02:48:15Z", at(1), 1), want: csvVector.meaning(t)},
			{body: at(2) + ",,42.420,84.840,,3.843", want: csvVector.meaning(t)},
			{body: at(3) + ",85.100,42.420,84.840,33.330,3.843", want: map[string]any{"weight": 85.1, "temperature-inside": 33.33}, restart: true},
		}},
		{"form", "application/x-www-form-urlencoded", []post{
			{body: strings.Replace(formVector.Payload, "2017%2D03%2D17T03%3A03%3A57Z", terkinDataForm(at(0), "", "", "", "", "")[len("time="):], 1), want: formVector.meaning(t)},
			{body: terkinDataForm(at(1), "", "42.42", "84.84", "", "3.84"), want: partial},
			{body: terkinDataForm(at(2), "85.00", "42.42", "84.84", "33.33", "3.84"), want: full},
		}},
	} {
		t.Run(f.name, func(t *testing.T) {
			s := openHTTP(t, nil)
			path := "/api-notls/hiveeyes/testdrive/area-42/terkindata-" + f.name + "/data"
			channel := "hiveeyes/testdrive/area-42/terkindata-" + f.name
			var want []map[string]any
			for i, p := range f.posts {
				if p.restart {
					s.restart(t)
				}
				status, body := sim800POST(t, s.web, path, f.ctype, p.body)
				if status != 200 || !strings.Contains(body, "Received #1 readings") {
					t.Fatalf("post %d: %d %s", i, status, body)
				}
				want = append(want, p.want)
			}
			rows := exportedSettled(t, s.web, channel, len(want))
			for i, r := range rows {
				if got, w := rowTime(t, r), t0.Add(time.Duration(i)*time.Minute); !got.Equal(w) {
					t.Errorf("row %d at %v, want the node's time %v", i, got, w)
				}
				checkRow(t, r, want[i])
			}
			checkDashboard(t, s.web, channel, map[string]string{"weight": "Weight", "temperature-outside": "Temperature outside",
				"humidity-outside": "Humidity", "temperature-inside": "Temperature inside", "voltage": "Battery"})
			noErrors(t, s.web, channel)
		})
	}
}

// TestTerkinDataMQTT: the same JSON published by an ESP8266 with
// Adafruit_MQTT (as node-wifi-mqtt connects) to data.json.
func TestTerkinDataMQTT(t *testing.T) {
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			dev := nodeWifiMQTT(t, s.broker)
			for i := 0; i < 3; i++ {
				tm := t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05Z")
				publish(t, dev, "hiveeyes/testdrive/area-42/terkindata/data.json", 0, false, terkinDataJSON(tm, "85.00", "42.42", "84.84", "", "3.84"))
			}
			rows := exportedSettled(t, s.web, "hiveeyes/testdrive/area-42/terkindata", 3)
			for i, r := range rows {
				if got := rowTime(t, r); !got.Equal(t0.Add(time.Duration(i) * time.Minute)) {
					t.Errorf("row %d at %v", i, got)
				}
				checkRow(t, r, map[string]any{"weight": 85.0, "temperature-inside": nil, "voltage": 3.84})
			}
		})
	}
}

// terkinMQTT is the Terkin datalogger's MQTT transport (telemetry/core.py
// TelemetryTransportMQTT, MQTTAdapter): umqtt as client
// "terkin.<device id>", clean session, no keepalive (0), every message
// QoS 1 and not retained, to {realm}/{network}/{gateway}/{node}/data.{format}
// (topology "mqttkit").
func terkinMQTT(t *testing.T, broker string) paho.Client {
	return device(t, broker, paho.NewClientOptions().SetClientID("terkin.30aea4c5e5a4").
		SetCleanSession(true).SetKeepAlive(0).SetProtocolVersion(4))
}

// terkinJSON is MicroPython's json.dumps of Terkin's data frame: ", " and
// ": " separators, a failed float as the bare token nan.
func terkinJSON(memfree int, tempBME, weight string, uptime int) string {
	return fmt.Sprintf(`{"system.memfree": %d, "system.temperature": 44.7053182608696, "system.voltage.battery": 3.912, "system.wifi.rssi": -85.3, `+
		`"system.time": 1551478192, "system.uptime": %d, "system.runtime": 3, `+
		`"temperature.0x77.i2c:0": %s, "humidity.0x77.i2c:0": 77.5, "pressure.0x77.i2c:0": 1055.1, `+
		`"temperature.28ff641d8fc3944f.onewire:0": 35.25, "weight.0": %s}`, memfree, uptime, tempBME, weight)
}

// TestTerkinMQTT: a Terkin datalogger on WiFi sends JSON and, as a second
// target, CayenneLPP (base64, format "lpp-hiveeyes"). Its "system.time" is
// a value like any other (the device clock, never the reading's time),
// the failed BME280 (nan) is missing from that reading, and every field of
// Terkin's sensor-path names is in its chart.
func TestTerkinMQTT(t *testing.T) {
	lpp := vector(t, "terkin-mqtt-cayennelpp-base64")
	ttn := vector(t, "ttn-v3-webhook-terkin-cayennelpp")
	// Terkin's full frame as it goes to TTN, without the 00 01 00 "not
	// paused" flag that only the LoRa transport appends.
	frame, err := base64.StdEncoding.DecodeString("AGcBvwB0AaQFegAPBQpnAeELZwHhBWcAlwVzKTcFaJsAAQA=")
	if err != nil {
		t.Fatal(err)
	}
	fullLPP := base64.StdEncoding.EncodeToString(frame[:len(frame)-3])
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			start := time.Now()
			dev := terkinMQTT(t, s.broker)
			json := "workbench/testdrive/area-42/node-01-mqtt-json/data.json"
			publish(t, dev, json, 1, false, terkinJSON(1000000, "15.1", "3.845", 12))
			publish(t, dev, json, 1, false, terkinJSON(999872, "nan", "3.851", 72))
			publish(t, dev, lpp.TopicOrPath, *lpp.QoS, *lpp.Retain, lpp.Payload)
			publish(t, dev, lpp.TopicOrPath, 1, false, fullLPP)

			rows := exportedSettled(t, s.web, "workbench/testdrive/area-42/node-01-mqtt-json", 2)
			checkRows(t, rows, []map[string]any{
				{"weight.0": 3.845, "temperature.0x77.i2c:0": 15.1, "system.time": 1551478192.0, "system.uptime": 12.0},
				{"weight.0": 3.851, "temperature.0x77.i2c:0": nil, "humidity.0x77.i2c:0": 77.5, "system.uptime": 72.0},
			})
			arrivalTimes(t, rows, start)
			checkDashboard(t, s.web, "workbench/testdrive/area-42/node-01-mqtt-json", map[string]string{
				"weight.0": "Weight", "temperature.0x77.i2c:0": "Temperature", "humidity.0x77.i2c:0": "Humidity",
				"pressure.0x77.i2c:0": "Pressure", "temperature.28ff641d8fc3944f.onewire:0": "Temperature",
				"system.temperature": "Temperature", "system.voltage.battery": "Battery", "system.wifi.rssi": "Signal",
				"system.memfree": "Other", "system.time": "Other", "system.uptime": "Other", "system.runtime": "Other",
			})

			want := ttn.meaning(t)
			for _, k := range []string{"counter", "sf", "bw", "freq", "gtw_count", "gw_apiary-gw-1_rssi", "gw_apiary-gw-1_snr", "digital_out_0"} {
				delete(want, k) // the TTN envelope's, or the LoRa-only flag
			}
			checkRows(t, exportedSettled(t, s.web, "workbench/testdrive/area-42/node-01-mqtt-lpp", 2), []map[string]any{lpp.meaning(t), want})
		})
	}
}

// TestTerkinHTTP: a Terkin datalogger posting to /api-notls/ (its default
// for HTTP and for GPRS, whose modem cannot do TLS) with urequests on WiFi
// and with the SIM800 over GPRS, as JSON and urlencoded (Python's
// urlencode: ":" as %3A). It expects a 200 or 201.
func TestTerkinHTTP(t *testing.T) {
	v := vector(t, "terkin-http-json-wifi")
	form := "system.memfree=1000000&system.temperature=44.7053182608696&system.time=1551478192&system.uptime=12.345" +
		"&system.runtime=3&system.wifi.rssi=-85.3&weight.0=42.5&temperature.0x77.i2c%3A0=15.1"
	for _, c := range []struct {
		name, ctype, body string
		send              func(*testing.T, string, string, string, string) (int, string)
		want              map[string]any
	}{
		{"wifi-json", "application/json", v.Payload, urequestsPOST, v.meaning(t)},
		{"wifi-urlencoded", "application/x-www-form-urlencoded", form, urequestsPOST, map[string]any{"weight.0": 42.5, "temperature.0x77.i2c:0": 15.1, "system.time": 1551478192.0}},
		{"gprs-json", "application/json", v.Payload, sim800POST, v.meaning(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openHTTP(t, nil)
			start := time.Now()
			status, body := c.send(t, s.web, "/api-notls/workbench/testdrive/area-42/node-01-http-json/data", c.ctype, c.body)
			if status != 200 && status != 201 {
				t.Fatalf("status %d: %s", status, body)
			}
			rows := exportedSettled(t, s.web, "workbench/testdrive/area-42/node-01-http-json", 1)
			checkRow(t, rows[0], c.want)
			arrivalTimes(t, rows, start)
		})
	}
}

// TestTerkinTTN: a Terkin datalogger on a LoPy4 sends CayenneLPP over
// LoRaWAN; The Things Stack decodes it (Terkin's decoder_v3.js) and its
// webhook posts the uplink to the appliance, either to a Kotori address
// (base URL http://<pi>:8080/api/<realm>/<network>/<gateway>/<node>/data,
// as Hiveeyes configured its TTN application) or to the appliance's TTN
// route (base URL http://<pi>:8080/ttn, path /uplink). The reading's time
// is the network's received_at; a webhook the stack sends again (a retry)
// is the same reading, not a second one.
func TestTerkinTTN(t *testing.T) {
	v := vector(t, "ttn-v3-webhook-terkin-cayennelpp")
	header := http.Header{}
	for k, val := range v.Headers {
		header.Set(k, val)
	}
	for _, c := range []struct{ name, path, channel string }{
		{"kotori-address", v.TopicOrPath, "hiveeyes/user/location/nameofhive"},
		{"ttn-route", "/ttn/uplink", "ttn/hiveeyes/default/hiveeyes-user-location-nameofhive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openHTTP(t, nil)
			for try := 0; try < 2; try++ {
				if status, body := post(t, s.web+c.path, "application/json", v.Payload, header); status != 200 {
					t.Fatalf("webhook %d: %d %s", try, status, body)
				}
			}
			rows := exportedSettled(t, s.web, c.channel, 1)
			checkRow(t, rows[0], v.meaning(t))
			if got := rows[0]["time"]; got != "2022-06-01T10:15:02.123Z" {
				t.Errorf("time %v, want received_at 2022-06-01T10:15:02.123Z", got)
			}
			dash := dashboardFields(t, s.web, c.channel)
			for f, fam := range map[string]string{"load_5": "Weight", "temperature_10": "Temperature", "relative_humidity_5": "Humidity",
				"barometric_pressure_5": "Pressure", "voltage_0": "Battery", "gw_apiary-gw-1_rssi": "Signal"} {
				if dash[f] != fam {
					t.Errorf("dashboard: %s in %q, want %q", f, dash[f], fam)
				}
			}
			noErrors(t, s.web, c.channel)
		})
	}
}
