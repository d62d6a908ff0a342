package firmwaretests

// Emulations of the Hiveeyes Arduino firmwares (hiveeyes/arduino), the mois
// box datalogger (hiveeyes/ds18b20-datalogger) and the BERadio gateway
// (hiveeyes/beradio). Each one behaves on the wire like its firmware: the
// sources are cited at each emulation; the payloads come from
// testdata/hiveeyes/vectors.json (the evidence corpus) or follow the
// firmware's serializer where a test needs more of them.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// nodeWifiMQTT is hiveeyes/arduino backdoor/node-wifi-mqtt: an ESP8266
// with Adafruit_MQTT, which connects with an empty client id (the broker
// assigns one), a clean session and a keepalive of 300 s, and publishes
// ArduinoJson 5's compact JSON at QoS 0, not retained, without a time.
func nodeWifiMQTT(t *testing.T, broker string) paho.Client {
	return device(t, broker, nodeWifiMQTTOptions())
}

func nodeWifiMQTTOptions() *paho.ClientOptions {
	return paho.NewClientOptions().SetClientID("").SetCleanSession(true).
		SetKeepAlive(300 * time.Second).SetProtocolVersion(4)
}

const nodeWifiMQTTTopic = "hiveeyes/testdrive/area-42/node-1/data.json"

// nodeWifiMQTTReading is the firmware's transmit_readings(): the keys in
// its order, ArduinoJson 5 floats (NaN written bare).
func nodeWifiMQTTReading(weight, air, hum, brood string, battery, memfree int) string {
	return fmt.Sprintf(`{"weight":%s,"airtemperature":%s,"airhumidity":%s,"broodtemperature":%s,"battery_level":%d,"memory_free":%d}`,
		weight, air, hum, brood, battery, memfree)
}

// TestNodeWifiMQTT: the readings of a day of a node-wifi-mqtt hive (12
// cycles, the clock accelerated), among them the corpus's payloads of a
// healthy node, one whose HX711 failed (bare NaN from ArduinoJson 5) and
// one on USB power with its DS18B20 unplugged (-127, battery 218 %). The
// beekeeper sees every reading at its time of arrival, the NaN weight
// missing and the rest of that reading kept, -127 as sent, each field in
// the right chart, no error-log entry, and nothing published by Apiary.
func TestNodeWifiMQTT(t *testing.T) {
	vectors := []firmwareVector{
		vector(t, "hiveeyes-node-wifi-mqtt-basic"),
		vector(t, "hiveeyes-node-wifi-mqtt-sensor-faults"),
		vector(t, "arduinojson5-nan-bare"),
	}
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			dev := nodeWifiMQTT(t, s.broker)
			start := time.Now()
			var want []map[string]any
			for _, v := range vectors {
				publish(t, dev, v.TopicOrPath, *v.QoS, *v.Retain, v.Payload)
				want = append(want, v.meaning(t))
			}
			for i, weight := range []float64{42.3, 42.31, 42.32, 42.33, 42.34, 42.35, 42.36, 42.37, 42.38} {
				publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading(
					strconv.FormatFloat(weight, 'f', 2, 64), "24.20", "61.50", "34.8125", 86, 38000+i))
				want = append(want, map[string]any{"weight": weight, "airtemperature": 24.2, "broodtemperature": 34.8125, "memory_free": float64(38000 + i)})
			}
			channel := "hiveeyes/testdrive/area-42/node-1"
			rows := exportedSettled(t, s.web, channel, len(want))
			checkRows(t, rows, want)
			arrivalTimes(t, rows, start)
			checkDashboard(t, s.web, channel, map[string]string{
				"weight":           "Weight",
				"airtemperature":   "Temperature outside",
				"airhumidity":      "Humidity",
				"broodtemperature": "Temperature inside",
				"battery_level":    "Battery level",
				"memory_free":      "Other",
			})
			noErrors(t, s.web, channel)
		})
	}
}

// TestNodeWifiMQTTDummy is node-wifi-mqtt built with SENSOR_DUMMY=true
// (no sensors: the values the Hiveeyes docs use everywhere).
func TestNodeWifiMQTTDummy(t *testing.T) {
	v := vector(t, "hiveeyes-node-wifi-mqtt-dummy")
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			dev := nodeWifiMQTT(t, s.broker)
			publish(t, dev, v.TopicOrPath, *v.QoS, *v.Retain, v.Payload)
			rows := exported(t, s.web, "hiveeyes/testdrive/area-42/node-1", 1)
			checkRow(t, rows[0], v.meaning(t))
		})
	}
}

// homieBasic is hiveeyes/arduino homie/node-homie-basic on Homie-esp8266
// v2.0 and AsyncMqttClient: client id "<brand>-<device id>", clean
// session, keepalive 15 s, a will "$online" = "false" (retained, QoS 1),
// every message QoS 1. On connecting it announces the device ($homie,
// $online, $name, ... retained) and its nodes; every sendInterval (60 s)
// it publishes the properties as String(float) text (battery/volt
// retained, the others not) and the JSON container data/__json__.
type homieBasic struct {
	t    *testing.T
	c    paho.Client
	base string // base_topic + device id + "/"
}

func newHomieBasic(t *testing.T, broker, baseTopic, deviceID string) *homieBasic {
	t.Helper()
	base := baseTopic + deviceID + "/"
	c := device(t, broker, paho.NewClientOptions().SetClientID("Homie-"+deviceID).
		SetCleanSession(true).SetKeepAlive(15*time.Second).SetProtocolVersion(4).
		SetBinaryWill(base+"$online", []byte("false"), 1, true))
	h := &homieBasic{t: t, c: c, base: base}
	for _, a := range [][2]string{
		{"$homie", "2.0.0"}, {"$mac", "5C:CF:7F:0A:1B:2C"}, {"$name", deviceID},
		{"$localip", "192.168.178.42"}, {"$stats/interval", "300"},
		{"$fw/name", "node-wifi-mqtt-homie"}, {"$fw/version", "0.10.0"}, {"$fw/checksum", "8f2a1c9e0b7d4e5f6a7b8c9d0e1f2a3b"},
		{"$implementation", "esp8266"}, {"$implementation/version", "2.0.0"}, {"$implementation/ota/enabled", "true"},
		{"temperature0/$type", "temperature"}, {"temperature0/$properties", "unit,degrees"},
		{"temperature1/$type", "temperature"}, {"temperature1/$properties", "unit,degrees"},
		{"weight/$type", "weight"}, {"weight/$properties", "unit,kilogram"},
		{"battery/$type", "battery"}, {"battery/$properties", "unit,volt"},
		{"data/$type", "__json__"}, {"data/$properties", ""},
		{"$online", "true"},
	} {
		publish(t, c, base+a[0], 1, true, a[1])
	}
	if tok := c.Subscribe(base+"+/+/set", 1, func(paho.Client, paho.Message) {}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("homie subscribe: %v", tok.Error())
	}
	// setupHandler(): the units (retained, the default).
	for _, u := range [][2]string{{"temperature0/unit", "C"}, {"temperature1/unit", "C"}, {"weight/unit", "kg"}, {"battery/unit", "V"}} {
		publish(t, c, base+u[0], 1, true, u[1])
	}
	return h
}

// send is loopHandler(): Arduino's String(float) has two decimals; the
// JSON goes through round2two() (truncating to two decimals) and
// ArduinoJson 5.
func (h *homieBasic) send(temp0, temp1, weight, volt float64) {
	h.t.Helper()
	str := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	publish(h.t, h.c, h.base+"temperature0/degrees", 1, false, str(temp0))
	publish(h.t, h.c, h.base+"temperature1/degrees", 1, false, str(temp1))
	publish(h.t, h.c, h.base+"weight/kilogram", 1, false, str(weight))
	publish(h.t, h.c, h.base+"battery/volt", 1, true, str(volt))
	publish(h.t, h.c, h.base+"data/__json__", 1, false,
		fmt.Sprintf(`{"Weight":%s,"Temp1":%s,"Temp2":%s}`, round2two(weight), round2two(temp0), round2two(temp1)))
}

func round2two(f float64) string {
	return strconv.FormatFloat(float64(int(f*100))/100, 'f', -1, 64)
}

// TestNodeHomieBasic: the hive's weight and temperatures arrive from the
// data/__json__ container; the Homie attributes and the single
// properties under the Kotori address are not readings (Kotori ignored
// them), so the dashboard shows Weight, Temp1 and Temp2 only, and the
// error log says once per node, counting up, that those topics are not a
// slot Apiary knows (README: "unknown slot").
func TestNodeHomieBasic(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			start := time.Now()
			h := newHomieBasic(t, s.broker, "hiveeyes/beekeeper-1/apiary-a/", "hive1")
			h.send(21.5, 19.25, 42.178, 3.87)
			h.send(21.75, 19.5, 42.191, 3.86)
			h.send(22.0, -127, 42.203, 3.86) // second DS18B20 lost
			channel := "hiveeyes/beekeeper-1/apiary-a/hive1"
			rows := exportedSettled(t, s.web, channel, 3)
			checkRows(t, rows, []map[string]any{
				{"Weight": 42.17, "Temp1": 21.5, "Temp2": 19.25},
				{"Weight": 42.19, "Temp1": 21.75, "Temp2": 19.5},
				{"Weight": 42.2, "Temp1": 22.0, "Temp2": -127.0},
			})
			arrivalTimes(t, rows, start)
			checkDashboard(t, s.web, channel, map[string]string{"Weight": "Weight", "Temp1": "Temperature", "Temp2": "Temperature"})
			var slot bool
			for _, e := range errorLog(t, s.web, url.Values{"channel": {channel}}) {
				if !strings.HasPrefix(e.Source, h.base) {
					t.Errorf("error-log entry names %q, want a topic of the device", e.Source)
				}
				slot = slot || e.Kind == "slot" && e.Count > 1
			}
			if !slot {
				t.Errorf("no counted-up \"slot\" entry for the Homie topics: %+v", errorLog(t, s.web, nil))
			}
			errorsPageShows(t, s.web, channel)
		})
	}
}

// TestNodeHomieBasicAttributes: the Homie attributes of node-homie-basic
// are not readings and, like its other Homie topics, belong in the one
// "unknown slot" entry of the node.
func TestNodeHomieBasicAttributes(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			h := newHomieBasic(t, s.broker, "hiveeyes/beekeeper-1/apiary-a/", "hive1")
			h.send(21.5, 19.25, 42.178, 3.87)
			channel := "hiveeyes/beekeeper-1/apiary-a/hive1"
			exportedSettled(t, s.web, channel, 1)
			if es := errorLog(t, s.web, url.Values{"channel": {channel}}); len(es) != 1 || es[0].Kind != "slot" {
				t.Errorf("error log of %s: %+v, want only the \"slot\" entry", channel, es)
			}
		})
	}
}

// bienenwaage is hiveeyes/arduino ringlabs/bienenwaage-5.0 (TTGO T-Call
// ESP32): it wakes from deep sleep, connects with Adafruit_MQTT as client
// "random-123" with a user name (clean session, keepalive 300 s),
// publishes one ArduinoJson 6 reading at QoS 0, waits a second, switches
// the SIM800 radio (or WiFi) off without an MQTT DISCONNECT and sleeps for
// 15 minutes. Signal is the GSM CSQ (0..31) in GSM builds and the WiFi
// RSSI in dBm in WiFi builds.
func bienenwaageWakeUp(t *testing.T, broker, payload string) {
	t.Helper()
	link := newGPRSLink(t, broker)
	dev := device(t, link.addr(), paho.NewClientOptions().SetClientID("random-123").
		SetUsername("DeinLoginName").SetPassword("DeinKennwort").
		SetCleanSession(true).SetKeepAlive(300*time.Second).SetProtocolVersion(4))
	publish(t, dev, "hiveeyes/testdrive/spielwiese/node-1/data.json", 0, false, payload)
	time.Sleep(20 * time.Millisecond) // delay(1000), accelerated
	link.cut()                        // gsm_disconnect(): radio off, then deep sleep
}

// TestBienenwaage: three wake-ups of a GSM and of a WiFi build. Each
// reading is stored although the modem drops the connection right after
// its QoS 0 publish; Waage1/2 are the scales' grams (a long), the
// disconnected second DS18B20 says -127.
func TestBienenwaage(t *testing.T) {
	v := vector(t, "hiveeyes-bienenwaage-5-gsm-mqtt")
	builds := []struct {
		name   string
		signal []int
	}{
		{"gsm", []int{17, 14, 19}},
		{"wifi", []int{-67, -71, -66}},
	}
	for _, tr := range mqttTransports {
		for _, b := range builds {
			t.Run(tr.name+"/"+b.name, func(t *testing.T) {
				s := tr.open(t, nil)
				watchBus(t, s.broker)
				want := []map[string]any{v.meaning(t)}
				bienenwaageWakeUp(t, s.broker, v.Payload)
				for i, sig := range b.signal {
					bienenwaageWakeUp(t, s.broker, fmt.Sprintf(`{"Temp1":%s,"Temp2":-127,"Waage1":%d,"Waage2":%d,"Signal":%d,"power":0,"volt_level":%d,"voltage":%s}`,
						[]string{"21.5625", "20.875", "19.0625"}[i], 42350-i*15, 38100-i*10, sig, 85-i, []string{"4.02", "4.011", "3.998"}[i]))
					want = append(want, map[string]any{"Waage1": float64(42350 - i*15), "Signal": float64(sig), "Temp2": -127.0})
				}
				channel := "hiveeyes/testdrive/spielwiese/node-1"
				checkRows(t, exportedSettled(t, s.web, channel, len(want)), want)
				checkDashboard(t, s.web, channel, map[string]string{
					"Waage1": "Weight", "Waage2": "Weight", "Temp1": "Temperature", "Temp2": "Temperature",
					"Signal": "Signal", "voltage": "Battery", "volt_level": "Other", "power": "Other",
				})
				noErrors(t, s.web, channel)
			})
		}
	}
}

// moisBox is hiveeyes/ds18b20-datalogger ("mois box"), a Raspberry Pi
// with 30 DS18B20 in a 5x6 matrix, run by cron: paho-mqtt (Python) as
// client "ds18b20-datalogger:<pid>", clean session, keepalive 60 s,
// connect, one QoS 0 publish of json.dumps() (", " and ": "), disconnect.
// A sensor that fails its CRC three times says -99.0; a missing one null.
func moisBoxRun(t *testing.T, broker string, pid int, payload string) {
	t.Helper()
	dev := device(t, broker, paho.NewClientOptions().SetClientID(fmt.Sprintf("ds18b20-datalogger:%d", pid)).
		SetCleanSession(true).SetKeepAlive(60*time.Second).SetProtocolVersion(4))
	publish(t, dev, "hiveeyes/testdrive/area-42/array-one/data.json", 0, false, payload)
	dev.Disconnect(50)
}

// moisBoxPayload is json.dumps of the 30 readings in the order of the
// firmware's loop (rows 1..6, columns 1..5); value(row, col) is the
// number as Python writes it, or "null".
func moisBoxPayload(value func(row, col int) string) string {
	var b strings.Builder
	b.WriteString("{")
	for row := 1; row <= 6; row++ {
		for col := 1; col <= 5; col++ {
			if b.Len() > 1 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `"temp-ir-%d-%d": %s`, row, col, value(row, col))
		}
	}
	b.WriteString("}")
	return b.String()
}

// TestMoisBox: three cron runs, the corpus's one with a defunct sensor
// (-99.0) and a missing one (null) among them. Both are left out of that
// reading by the default configuration (its [[mask]] for the mois box's
// -99.0) without an error-log entry; all 30 sensors are charts in the
// Temperature family.
func TestMoisBox(t *testing.T) {
	v := vector(t, "hiveeyes-ds18b20-datalogger-matrix-defunct")
	healthy := func(base float64) string {
		return moisBoxPayload(func(row, col int) string {
			return strconv.FormatFloat(base+float64(row)+float64(col)/10, 'f', -1, 64)
		})
	}
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			moisBoxRun(t, s.broker, 4711, healthy(30))
			moisBoxRun(t, s.broker, 4802, v.Payload)
			moisBoxRun(t, s.broker, 4893, healthy(31))
			channel := "hiveeyes/testdrive/area-42/array-one"
			rows := exportedSettled(t, s.web, channel, 3)
			checkRows(t, rows, []map[string]any{
				{"temp-ir-1-1": 31.1, "temp-ir-2-1": 32.1, "temp-ir-6-5": 36.5},
				v.meaning(t),
				{"temp-ir-1-1": 32.1, "temp-ir-2-4": 33.4, "temp-ir-6-5": 37.5},
			})
			want := map[string]string{}
			for row := 1; row <= 6; row++ {
				for col := 1; col <= 5; col++ {
					want[fmt.Sprintf("temp-ir-%d-%d", row, col)] = "Temperature"
				}
			}
			checkDashboard(t, s.web, channel, want)
			noErrors(t, s.web, channel)
		})
	}
}

// beradioGateway is hiveeyes/beradio's "beradio forward" on a Raspberry
// Pi (beradio/mqtt.py): paho-mqtt (Python) as client "<realm>:<pid>",
// clean session, keepalive 60 s, QoS 0. On connecting it says
// "hello world" on "<realm>/helo"; for each radio message it publishes
// every value to its own topic <realm>/<network>/<gateway>/<node>/<name>
// and then all of them as json.dumps() to .../data.json with the
// gateway's clock in nanoseconds as "time"; every 300 s a retained
// heartbeat .../gateway/status.json.
type beradioGateway struct {
	t                       *testing.T
	c                       paho.Client
	realm, network, gateway string
}

func newBERadioGateway(t *testing.T, broker string) *beradioGateway {
	t.Helper()
	g := &beradioGateway{t: t, realm: "hiveeyes", network: "696e4192-707f-4e8e-9246-78f6b41a280f", gateway: "tug22"}
	g.c = device(t, broker, paho.NewClientOptions().SetClientID("hiveeyes:2342").
		SetCleanSession(true).SetKeepAlive(60*time.Second).SetProtocolVersion(4))
	publish(t, g.c, g.realm+"/helo", 0, false, "hello world")
	return g
}

// relay forwards one node's readings (names and Python float reprs, in
// the order the gateway's dict gives them) with the gateway clock tns.
func (g *beradioGateway) relay(node string, fields [][2]string, tns int64) {
	g.t.Helper()
	base := g.realm + "/" + g.network + "/" + g.gateway + "/" + node + "/"
	var js []string
	for _, f := range fields {
		publish(g.t, g.c, base+f[0], 0, false, f[1])
		js = append(js, fmt.Sprintf(`"%s": %s`, f[0], f[1]))
	}
	js = append(js, fmt.Sprintf(`"time": %d`, tns))
	publish(g.t, g.c, base+"data.json", 0, false, "{"+strings.Join(js, ", ")+"}")
}

func (g *beradioGateway) heartbeat(payload string) {
	g.t.Helper()
	publish(g.t, g.c, g.realm+"/"+g.network+"/"+g.gateway+"/gateway/status.json", 0, true, payload)
}

// TestBERadioGateway: the corpus's relayed reading with its 19-digit
// nanosecond time (decoded to the millisecond, the last digits being the
// gateway's float noise) and the retained heartbeat. The single-value
// topics and "hello world" are not readings: Kotori ignored them, Apiary
// says so in the error log (one "slot" entry for the node, counting up,
// and an "address" entry naming "hiveeyes/helo").
func TestBERadioGateway(t *testing.T) {
	data := vector(t, "beradio-gateway-data-json-ns-time")
	status := vector(t, "beradio-gateway-status-retained")
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			g := newBERadioGateway(t, s.broker)
			g.heartbeat(status.Payload)
			// The corpus payload, preceded by its single values as the
			// gateway sends them.
			base := "hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/999/"
			for _, f := range [][2]string{{"hum1", "488.0"}, {"hum2", "572.0"}, {"temp1", "21.63"}, {"temp2", "19.25"}, {"temp3", "10.92"}, {"temp4", "13.54"}, {"wght1", "106.77"}} {
				publish(t, g.c, base+f[0], 0, false, f[1])
			}
			publish(t, g.c, data.TopicOrPath, *data.QoS, *data.Retain, data.Payload)

			node := "hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/999"
			rows := exportedSettled(t, s.web, node, 1)
			checkRow(t, rows[0], data.meaning(t))
			if got := rows[0]["time"]; got != "2016-02-15T09:13:50.507Z" {
				t.Errorf("time %v, want 2016-02-15T09:13:50.507Z (1455527630507803904 ns)", got)
			}
			checkDashboard(t, s.web, node, map[string]string{
				"hum1": "Humidity", "hum2": "Humidity", "wght1": "Weight",
				"temp1": "Temperature", "temp2": "Temperature", "temp3": "Temperature", "temp4": "Temperature",
			})
			gw := "hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/gateway"
			checkRow(t, exported(t, s.web, gw, 1)[0], map[string]any{"status": "online", "program": "beradio 0.14.0"})

			if es := errorLog(t, s.web, url.Values{"channel": {node}}); len(es) != 1 || es[0].Kind != "slot" || es[0].Count != 7 {
				t.Errorf("error log of the node: %+v, want one \"slot\" entry counted 7 times", es)
			}
			helo := waitError(t, s.web, "address", "hiveeyes/helo")
			if helo.Excerpt != "hello world" {
				t.Errorf("helo entry excerpt %q", helo.Excerpt)
			}
			noErrors(t, s.web, gw)
		})
	}
}

// openHiveESP32 is hiveeyes/arduino openhive/openhive-esp32 (TTGO T-Call
// with SIM800 for GSM, or any ESP32 on WiFi) set up for swarm.hiveeyes.org
// ("isPost"): ArduinoHttpClient POSTs the readings form-encoded to
// /api-notls/... (GPRS cannot do TLS), each value dtostrf()-padded and the
// padding spaces turned into "+". No time: "timestamp-by-server".
type openHiveESP32 struct {
	temperatureArray bool // isTemperatureArray: five DS18B20 in the brood
}

const openHivePath = "/api-notls/hiveeyes/testdrive/beekeeper-name/hive-number/data"

// dtostrf is avr-libc's dtostrf(value, width, prec): right-aligned,
// padded with spaces.
func dtostrf(v float64, width, prec int) string {
	return fmt.Sprintf("%*.*f", width, prec, v)
}

// dataset is the firmware's datasetWithVar with spaces replaced by "+".
func (o openHiveESP32) dataset(weight, temp, hum, pressure float64, brood []float64, battery float64) string {
	s := "weight=" + dtostrf(weight, 8, 3)
	s += "&temperature-1=" + dtostrf(temp, 5, 1) + "&humidity-1=" + dtostrf(hum, 5, 1) + "&pressure-1=" + dtostrf(pressure, 7, 1)
	if o.temperatureArray {
		for i, b := range brood {
			s += fmt.Sprintf("&temp-arr-%d=%s", i+1, dtostrf(b, 5, 1))
		}
	}
	s += "&battery-voltage=" + dtostrf(battery, 5, 2)
	return strings.ReplaceAll(s, " ", "+")
}

// post is uploadDataToServer(): ArduinoHttpClient's request, byte for
// byte (HTTP/1.1, its User-Agent, Connection: close).
func (o openHiveESP32) post(t *testing.T, web, body string) (int, string) {
	t.Helper()
	host := strings.TrimPrefix(web, "http://")
	return rawHTTP(t, web, "POST "+openHivePath+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: Arduino/2.2.0\r\nConnection: close\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// TestOpenHive: the GSM build (weight, BME280, battery) and the WiFi build
// with the brood temperature array, three readings each. The padded
// values ("++42.123", "+-3.5") are numbers, a disconnected DS18B20 is
// -127 as sent, every reading gets its time of arrival, and each field is
// in its chart.
func TestOpenHive(t *testing.T) {
	for _, b := range []struct {
		name string
		o    openHiveESP32
	}{{"gsm", openHiveESP32{}}, {"wifi", openHiveESP32{temperatureArray: true}}} {
		t.Run(b.name, func(t *testing.T) {
			s := openHTTP(t, nil)
			start := time.Now()
			var want []map[string]any
			for i, temp := range []float64{21.5, 8.2, -3.5} {
				weight := []float64{42.123, 42.087, 9.5}[i]
				brood := []float64{34.8, 35.1, 35.3, -127, 34.9}
				status, body := b.o.post(t, s.web, b.o.dataset(weight, temp, 61.5, 1013.2, brood, 4.12))
				if status != 200 || !strings.Contains(body, "Received #1 readings") {
					t.Fatalf("answer %d %s", status, body)
				}
				w := map[string]any{"weight": weight, "temperature-1": temp, "humidity-1": 61.5, "pressure-1": 1013.2, "battery-voltage": 4.12}
				if b.o.temperatureArray {
					w["temp-arr-1"], w["temp-arr-4"] = 34.8, -127.0
				}
				want = append(want, w)
			}
			channel := "hiveeyes/testdrive/beekeeper-name/hive-number"
			rows := exportedSettled(t, s.web, channel, 3)
			checkRows(t, rows, want)
			arrivalTimes(t, rows, start)
			dash := map[string]string{"weight": "Weight", "temperature-1": "Temperature", "humidity-1": "Humidity", "pressure-1": "Pressure", "battery-voltage": "Battery"}
			if b.o.temperatureArray {
				for i := 1; i <= 5; i++ {
					dash[fmt.Sprintf("temp-arr-%d", i)] = "Temperature"
				}
			}
			checkDashboard(t, s.web, channel, dash)
			noErrors(t, s.web, channel)
		})
	}
}

// TestOpenHiveGET is the same firmware built with "isGet", as the older
// Open Hive GSM box (Seeeduino Stalker + GPRSbee, openhive-gsm-wifi) sends
// by default: the positional CSV dataset in the query string of a GET,
// with uploadPath pointed at the appliance. A beekeeper cannot make it
// send anything else without changing the firmware, but names its columns
// once, with Kotori's CSV header, as README says. Before that, a dataset
// is refused with Kotori's CSV message and an error-log entry; after it,
// "timestamp-by-server" is the time of arrival and the RTC's time is the
// reading's.
func TestOpenHiveGET(t *testing.T) {
	s := openHTTP(t, nil)
	host := strings.TrimPrefix(s.web, "http://")
	get := func(at string, weight float64) (int, string) {
		dataset := strings.ReplaceAll(at+","+dtostrf(weight, 8, 3)+","+dtostrf(21.5, 5, 1)+","+dtostrf(61.5, 5, 1)+","+dtostrf(4.12, 5, 2), " ", "+")
		return rawHTTP(t, s.web, "GET "+openHivePath+"?dataset="+dataset+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: Arduino/2.2.0\r\nConnection: close\r\n\r\n")
	}
	channel := "hiveeyes/testdrive/beekeeper-name/hive-number"
	if status, body := get("timestamp-by-server", 41.5); status != 400 || !strings.Contains(body, "CSV header") {
		t.Errorf("a dataset before the header: %d %s, want 400 asking for the CSV header", status, body)
	}
	if es := errorLog(t, s.web, url.Values{"channel": {channel}}); len(es) != 1 {
		t.Errorf("error log of %s: %+v, want the entry of the refused dataset", channel, es)
	}
	// curl -H 'Content-Type: text/csv' -d '## Date/Time,weight,...' http://<pi>:8080/api/.../data
	hdr, err := http.Post(s.web+"/api/hiveeyes/testdrive/beekeeper-name/hive-number/data", "text/csv",
		strings.NewReader("## Date/Time,weight,temperature,humidity,voltage\n"))
	if err != nil || hdr.StatusCode != 200 {
		t.Fatalf("header: %v %v", hdr, err)
	}
	hdr.Body.Close()
	start := time.Now()
	if status, body := get("timestamp-by-server", 42.123); status != 200 {
		t.Fatalf("answer %d %s", status, body)
	}
	// The RTC's local time, in the site's zone (Europe/Berlin here).
	if status, body := get("2026/05/01+10:00:00", 42.5); status != 200 {
		t.Fatalf("answer %d %s", status, body)
	}
	rows := exportedSettled(t, s.web, channel, 2)
	checkRows(t, rows, []map[string]any{
		{"time": "2026-05-01T08:00:00.000Z", "weight": 42.5, "temperature": 21.5, "humidity": 61.5, "voltage": 4.12},
		{"weight": 42.123, "temperature": 21.5, "humidity": 61.5, "voltage": 4.12},
	})
	arrivalTimes(t, rows[1:], start)
}

// TestBeescaleYun is hiveeyes/arduino moislabs/beescale-yun (Arduino Yun):
// every two minutes the Yun's Bridge HttpClient GETs add_line2.php with
// the readings in the query (weights dtostrf(6,3), the rest Arduino
// String(float) with two decimals), pointed at the appliance.
func TestBeescaleYun(t *testing.T) {
	s := openHTTP(t, nil)
	host := strings.TrimPrefix(s.web, "http://")
	q := "weight1=42.123&weight2=38.456&temp1=12.50&temp2=31.25&h1=61.20&t1=21.30&h2=58.70&t2=20.90&lux=1234"
	status, body := rawHTTP(t, s.web, "GET /api/hiveeyes/mois/yun/beescale/data?"+q+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: curl/7.29.0\r\nAccept: */*\r\n\r\n")
	if status != 200 {
		t.Fatalf("answer %d %s", status, body)
	}
	checkRow(t, exported(t, s.web, "hiveeyes/mois/yun/beescale", 1)[0], map[string]any{"weight1": 42.123, "temp2": 31.25, "lux": 1234.0})
}
