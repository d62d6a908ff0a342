package firmwaretests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// esphome emulates an ESPHome node with the mqtt: component on its
// defaults (esphome/esphome components/mqtt): client id <name>-<mac>,
// clean_session false, keepalive 15 s, will <name>/status "offline" and
// birth "online" (QoS 0, retained), Home Assistant discovery configs
// (retained), and every state as plain text with accuracy_decimals on
// <name>/<component>/<object_id>/state, QoS 0, retained; a failed read
// is "nan".
type esphome struct {
	*tpDevice
	node, mac string
}

func startESPHome(t *testing.T, bus *tpBus, broker, node, mac string) *esphome {
	t.Helper()
	d := &esphome{node: node, mac: mac}
	d.tpDevice = tpConnect(t, bus, broker, paho.NewClientOptions().
		SetClientID(node+"-"+mac).SetCleanSession(false).SetKeepAlive(15*time.Second).
		SetWill(node+"/status", "offline", 0, true))
	d.publish(node+"/status", 0, true, "online")
	return d
}

// discovery publishes the Home Assistant discovery config of a sensor
// (MQTTSensorComponent::send_discovery, abbreviated keys).
func (d *esphome) discovery(component, objectID, name, unit string) {
	d.t.Helper()
	unitJSON := ""
	if unit != "" {
		unitJSON = `"unit_of_measurement":"` + unit + `",`
	}
	d.publish("homeassistant/"+component+"/"+d.node+"/"+objectID+"/config", 0, true,
		fmt.Sprintf(`{%s"name":"%s","stat_t":"%s/%s/%s/state","avty_t":"%s/status","uniq_id":"ESP%s%s","dev":{"ids":"%s","name":"%s","sw":"esphome v2025.4.0","mdl":"esp32dev","mf":"espressif"}}`,
			unitJSON, name, d.node, component, objectID, d.node, component, objectID, d.mac, d.node))
}

func (d *esphome) state(component, objectID, value string) {
	d.t.Helper()
	d.publish(d.node+"/"+component+"/"+objectID+"/state", 0, true, value)
}

// TestESPHomeHiveScale is an ESPHome hive scale (HX711, DS18B20 in the
// brood nest, BME280 outside, battery, lid switch, firmware version) with
// its update_interval of 60 s accelerated: five rounds of states, the
// DS18B20 failing ("nan") in one, and a power cut at the end. The
// beekeeper sees each value at its time of arrival in the node
// esphome/default/default/<name>, "nan" as no value (not an error), ON/OFF
// as 1/0, the version and status as text, the node offline after the cut,
// no error-log entry, and nothing published by Apiary.
func TestESPHomeHiveScale(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			start := time.Now()
			dev := startESPHome(t, bus, broker, "beehive-scale", "a4cf12d3e4f5")
			channel := "esphome/default/default/beehive-scale"
			dev.discovery("sensor", "hive_weight", "Hive Weight", "kg")
			dev.discovery("sensor", "brood_temperature", "Brood Temperature", "°C")
			dev.discovery("sensor", "outside_humidity", "Outside Humidity", "%")
			dev.discovery("sensor", "battery_voltage", "Battery Voltage", "V")
			dev.discovery("binary_sensor", "lid_open", "Lid Open", "")
			dev.discovery("text_sensor", "esphome_version", "ESPHome Version", "")
			dev.state("text_sensor", "esphome_version", "2025.4.0 Apr 10 2025, 10:00:00")

			weights := []string{"42.37", "42.38", "42.36", "42.41", "42.40"}
			for i, w := range weights {
				brood := fmt.Sprintf("%.1f", 34.6+float64(i)/10)
				if i == 2 {
					brood = "nan"
				}
				dev.state("sensor", "hive_weight", w)
				dev.state("sensor", "brood_temperature", brood)
				dev.state("sensor", "outside_humidity", fmt.Sprintf("%d", 71+i))
				dev.state("sensor", "battery_voltage", "3.98")
				lid := "OFF"
				if i == 3 {
					lid = "ON"
				}
				dev.state("binary_sensor", "lid_open", lid)
				time.Sleep(2 * time.Millisecond) // distinct times of arrival
			}

			rows := tpRowsUntil(t, web, channel, "every value", tpAll(tpHasValues("hive_weight", 5),
				tpHasValues("brood_temperature", 4), tpHasValues("lid_open", 5), tpHasValues("esphome_version", 1), tpHasValues("status", 1)))
			var got []any
			for _, r := range rows {
				if v, ok := r["hive_weight"]; ok && v != nil {
					got = append(got, v)
				}
				arrivalTimes(t, []map[string]any{r}, start)
			}
			if fmt.Sprint(got) != "[42.37 42.38 42.36 42.41 42.4]" {
				t.Errorf("weights in the export: %v", got)
			}
			var brood, lid []any
			for _, r := range rows {
				if v := r["brood_temperature"]; v != nil {
					brood = append(brood, v)
				}
				if v := r["lid_open"]; v != nil {
					lid = append(lid, v)
				}
			}
			if fmt.Sprint(brood) != "[34.6 34.7 34.9 35]" {
				t.Errorf("brood temperatures %v, want four (the nan is no value)", brood)
			}
			if fmt.Sprint(lid) != "[0 0 0 1 0]" {
				t.Errorf("lid states %v, want OFF=0 and ON=1", lid)
			}
			if tpRow(rows, "esphome_version", "2025.4.0 Apr 10 2025, 10:00:00") == nil || tpRow(rows, "status", "online") == nil {
				t.Errorf("version or status missing: %v", rows)
			}
			checkDashboard(t, web, channel, map[string]string{
				"hive_weight": "Weight", "brood_temperature": "Temperature inside", "outside_humidity": "Humidity",
				"battery_voltage": "Battery", "lid_open": "Other", "esphome_version": "text", "status": "text",
			})
			tpOnlyErrors(t, web)

			// Power cut: the broker publishes the will, <name>/status "offline".
			dev.drop()
			tpWillStored(t, tr, web, channel, "status", "offline")
			tpDashboardShows(t, web, channel, `<dt>status</dt><dd><span class="v">offline</span>`)
		})
	}
}

// TestESPHomeDefaultTopics: besides its states, an ESPHome node on its
// defaults publishes its device info to esphome/discover/<name> (QoS 2,
// retained; discover_ip defaults to true, MQTTClientComponent::
// send_device_info_) and every DEBUG log line to <name>/debug (log_topic
// defaults to <topic_prefix>/debug, QoS 0, retained; the line keeps its
// ANSI colours). Neither is telemetry: Apiary must store neither and keep
// the error log clean.
func TestESPHomeDefaultTopics(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			dev := startESPHome(t, bus, broker, "beehive-scale", "a4cf12d3e4f5")
			dev.publish("esphome/discover/beehive-scale", 2, true,
				`{"ip":"192.168.1.57","name":"beehive-scale","friendly_name":"Beehive scale","version":"2025.4.0","mac":"a4cf12d3e4f5","platform":"ESP32","board":"esp32dev","network":"wifi"}`)
			dev.publish("beehive-scale/debug", 0, true,
				"\x1b[0;36m[D][sensor:094]: 'Hive Weight': Sending state 42.37000 kg with 2 decimals of accuracy\x1b[0m")
			dev.state("sensor", "hive_weight", "42.37")
			tpRowsUntil(t, web, "esphome/default/default/beehive-scale", "the weight", tpHasRow("hive_weight", 42.37))
			time.Sleep(100 * time.Millisecond)
			var bugs []string
			for _, e := range errorLog(t, web, nil) {
				if e.Source == "esphome/discover/beehive-scale" || e.Source == "beehive-scale/debug" {
					bugs = append(bugs, fmt.Sprintf("%s (%s: %s)", e.Source, e.Kind, e.Message))
				}
			}
			if len(bugs) > 0 {
				t.Errorf("an ESPHome node on its defaults fills the error log with its device info and log lines: %s", strings.Join(bugs, "; "))
			}
			tpOnlyErrors(t, web)
			status, body := tpGet(t, web+"/api/channels")
			if status != 200 || strings.Contains(body, `"discover"`) || strings.Contains(body, `"debug"`) {
				t.Errorf("device info or log stored as data: %s", body)
			}
		})
	}
}

// TestESPHomeOtherComponents: besides sensors, an ESPHome node publishes
// the state of its switches, numbers, selects, covers and climates on
// <node>/<component>/<object_id>/state (a climate on .../<value>/state),
// and Home Assistant sends commands to .../command. A hive's heater switch
// and tare offset are readings (ON as 1); commands are not, and nothing of
// it fills the error log. A Home Assistant state topic under
// homeassistant/ (its MQTT documentation's example) is a JSON object of
// readings.
func TestESPHomeOtherComponents(t *testing.T) {
	web, broker := mqttTransports[0].start(t)
	bus := tpWatch(t, broker)
	dev := startESPHome(t, bus, broker, "beehive-scale", "a4cf12d3e4f5")
	dev.state("switch", "heater", "ON")
	dev.state("number", "tare_offset", "12.5")
	dev.state("select", "mode", "winter")
	dev.state("cover", "entrance", "open")
	dev.publish("beehive-scale/climate/brood/current_temperature/state", 0, true, "34.6")
	dev.publish("beehive-scale/switch/heater/command", 0, false, "OFF")
	dev.publish("beehive-scale/climate/brood/target_temperature/command", 0, false, "35")
	dev.publish("beehive-scale/cover/entrance/position/state", 0, true, "0.5")
	dev.publish("homeassistant/sensor/hive-7/state", 0, false, `{ "temperature": 23.20, "humidity": 43.70 }`)
	dev.publish("homeassistant/binary_sensor/garden/state", 0, false, "ON")
	dev.publish("homeassistant/sensor/outside/state", 0, false, "21.5") // MQTT Statestream
	tpRowsUntil(t, web, "esphome/default/default/beehive-scale", "the states", func(rows []map[string]any) bool {
		return tpRow(rows, "brood.current_temperature", 34.6) != nil && tpRow(rows, "heater", 1.0) != nil &&
			tpRow(rows, "tare_offset", 12.5) != nil && tpRow(rows, "mode", "winter") != nil && tpRow(rows, "entrance", "open") != nil &&
			tpRow(rows, "entrance.position", 0.5) != nil
	})
	tpRowsUntil(t, web, "homeassistant/default/default/hive-7", "the Home Assistant state", tpHasRow("temperature", 23.2))
	tpRowsUntil(t, web, "homeassistant/default/default/garden", "the binary sensor's state", tpHasRow("garden", 1.0))
	tpRowsUntil(t, web, "homeassistant/default/default/outside", "the Statestream value", tpHasRow("outside", 21.5))
	// Published before the Home Assistant states, the commands have been
	// handled by now.
	if rows, _, _ := exportRows(t, web, "esphome/default/default/beehive-scale"); tpRow(rows, "heater", 0.0) != nil {
		t.Errorf("a command was stored as the switch's state: %v", rows)
	}
	tpOnlyErrors(t, web)
}

// TestESPHomeRetainedReplay: ESPHome retains every state, so Mosquitto
// replays the last ones each time Apiary subscribes again (after an
// upgrade or a power cut of the Pi). A replay is not a new reading: after
// the restart the node has exactly the rows it had, while a value sent
// after the restart is stored.
func TestESPHomeRetainedReplay(t *testing.T) {
	cfg := tpConfig(t)
	mq := tpMosquitto(t)
	cfg.MQTT.Listen = ""
	cfg.MQTT.Broker = mq.URL
	cfg.MQTT.ClientID = "apiary-retained-replay"
	app := tpStart(t, cfg)
	bus := tpWatch(t, mq.Addr)
	dev := startESPHome(t, bus, mq.Addr, "beehive-scale", "a4cf12d3e4f5")
	channel := "esphome/default/default/beehive-scale"
	dev.state("sensor", "hive_weight", "42.37")
	dev.state("sensor", "brood_temperature", "34.8")
	dev.state("text_sensor", "esphome_version", "2025.4.0")
	before := tpRowsUntil(t, app.web(), channel, "three values and the status", func(rows []map[string]any) bool { return len(rows) == 4 })

	app.stop()
	app.start(t) // subscribes again: Mosquitto replays the retained states
	other := startESPHome(t, bus, mq.Addr, "beehive-door", "a4cf12aabbcc")
	other.state("binary_sensor", "door", "ON")
	tpRowsUntil(t, app.web(), "esphome/default/default/beehive-door", "the other node", tpHasRow("door", 1.0))
	time.Sleep(200 * time.Millisecond)
	after, _, _ := exportRows(t, app.web(), channel)
	if len(after) != len(before) {
		t.Errorf("after the restart the node has %d rows, before %d: the replayed retained states were stored again: %v", len(after), len(before), after)
	}
	dev.state("sensor", "hive_weight", "42.39")
	tpRowsUntil(t, app.web(), channel, "the new weight", tpHasRow("hive_weight", 42.39))
	tpOnlyErrors(t, app.web())
}
