package firmwaretests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// tasmota emulates a Tasmota (arendst/Tasmota, PubSubClient) on its
// factory settings: client id DVES_<chip id>, topic tasmota_<chip id>,
// FullTopic %prefix%/%topic%/, MQTT 3.1.1, clean session, keepalive 30 s,
// will tele/<topic>/LWT "Offline" QoS 1 retained; every publish QoS 0 (the
// only QoS PubSubClient publishes with); LWT "Online" retained on connect,
// INFO1..3 after it, then SENSOR and STATE every TelePeriod (300 s), not
// retained (SensorRetain and StateRetain off). JSON as Tasmota's
// Response_P builds it: compact, "Time" in local time without a zone.
type tasmota struct {
	*tpDevice
	topic string
	full  func(prefix, suffix string) string
}

func startTasmota(t *testing.T, bus *tpBus, broker, chipID, fullTopic string) *tasmota {
	t.Helper()
	topic := "tasmota_" + chipID
	full := func(prefix, suffix string) string {
		s := strings.NewReplacer("%prefix%", prefix, "%topic%", topic).Replace(fullTopic)
		return s + suffix
	}
	d := &tasmota{topic: topic, full: full}
	d.tpDevice = tpConnect(t, bus, broker, paho.NewClientOptions().
		SetClientID("DVES_"+chipID).SetCleanSession(true).SetKeepAlive(30*time.Second).
		SetWill(full("tele", "LWT"), "Offline", 1, true))
	d.publish(full("tele", "LWT"), 0, true, "Online")
	d.publish(full("tele", "INFO1"), 0, false, `{"Info1":{"Module":"Generic","Version":"13.4.0(release-tasmota)","FallbackTopic":"cmnd/DVES_`+chipID+`_fb/","GroupTopic":"cmnd/tasmotas/"}}`)
	d.publish(full("tele", "INFO2"), 0, false, `{"Info2":{"WebServerMode":"Admin","Hostname":"tasmota-`+chipID+`-7226","IPAddress":"192.168.1.42"}}`)
	d.publish(full("tele", "INFO3"), 0, false, `{"Info3":{"RestartReason":"Power On","BootCount":12}}`)
	return d
}

// hiveScaleSensor is the SENSOR of a hive scale: HX711 (xsns_34 HxShow),
// a DS18B20 in the brood nest, a BME280 and an AM2301 outside; a failed
// AM2301 reports nulls. PressureUnit and TempUnit follow, as
// MqttShowSensor appends them.
func hiveScaleSensor(clock string, weight float64, brood float64, am2301ok bool) string {
	am := `{"Temperature":null,"Humidity":null,"DewPoint":null}`
	if am2301ok {
		am = `{"Temperature":17.3,"Humidity":71.2,"DewPoint":12.0}`
	}
	return fmt.Sprintf(`{"Time":%s,"HX711":{"Weight":%.3f,"WeightRaw":%d,"AbsRaw":-1734221},"DS18B20":{"Id":"3C01D607D5A5","Temperature":%.1f},"BME280":{"Temperature":16.6,"Humidity":63.9,"DewPoint":9.8,"Pressure":1001.8},"AM2301":%s,"PressureUnit":"hPa","TempUnit":"C"}`,
		clock, weight, int(weight*1000), brood, am)
}

func tasmotaState(clock string, uptime int) string {
	return fmt.Sprintf(`{"Time":%s,"Uptime":"0T%02d:%02d:%02d","UptimeSec":%d,"Heap":25,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"Wifi":{"AP":1,"SSId":"apiary","BSSId":"A0:F3:C1:12:34:56","Channel":6,"Mode":"11n","RSSI":62,"Signal":-69,"LinkCount":1,"Downtime":"0T00:00:03"}}`,
		clock, uptime/3600, uptime/60%60, uptime%60, uptime)
}

// TestTasmotaHiveScale is a Tasmota hive scale on its factory settings,
// with its clock accelerated: six TelePeriods of SENSOR and STATE whose
// local "Time" advances 300 s each, a first SENSOR sent before NTP (1970),
// a failed AM2301 (nulls), a truncated SENSOR, and a power cut at the end.
// The beekeeper sees each reading at the device's time, the STATE values
// in the same row, the 1970 reading at its arrival with a "clock" note,
// the garbage as a "json" entry naming the topic, no other error-log
// entry for LWT and INFO traffic, and nothing published by Apiary.
func TestTasmotaHiveScale(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			start := time.Now()
			dev := startTasmota(t, bus, broker, "4B5C3A", "%prefix%/%topic%/")
			sensorTopic := dev.full("tele", "SENSOR")
			channel := "tasmota/default/default/" + dev.topic

			// Right after boot, before NTP: uptime since the epoch.
			dev.publish(sensorTopic, 0, false, hiveScaleSensor(`"1970-01-01T00:00:03"`, 40.001, 34.1, true))

			base := time.Now().Truncate(time.Second).Add(-30 * time.Minute)
			weights := []float64{41.862, 41.873, 41.851, 41.902, 41.917, 41.93}
			for i, w := range weights {
				at := base.Add(time.Duration(i) * 300 * time.Second)
				clock := `"` + tpLocal(at) + `"`
				dev.publish(sensorTopic, 0, false, hiveScaleSensor(clock, w, 34.5+float64(i)/10, i != 2))
				dev.publish(dev.full("tele", "STATE"), 0, false, tasmotaState(clock, 3+300*i))
			}
			// A SENSOR cut off mid-way (a buffer too small for all sensors).
			truncated := hiveScaleSensor(`"`+tpLocal(base)+`"`, 41.9, 34.5, true)[:70]
			dev.publish(sensorTopic, 0, false, truncated)

			rows := tpRowsUntil(t, web, channel, "every TelePeriod",
				tpAll(tpHasValues("HX711.Weight", len(weights)+1), tpHasValues("Device.LoadAvg", len(weights))))
			for i, w := range weights {
				at := tpExportTime(base.Add(time.Duration(i) * 300 * time.Second))
				r := tpRow(rows, "time", at)
				if r == nil {
					t.Errorf("no row at the device time %s (local %s)", at, tpLocal(base.Add(time.Duration(i)*300*time.Second)))
					continue
				}
				if r["HX711.Weight"] != w || r["HX711.WeightRaw"] != float64(int(w*1000)) || r["BME280.Pressure"] != 1001.8 {
					t.Errorf("row at %s: %v", at, r)
				}
				if r["Device.Wifi.RSSI"] != 62.0 || r["Device.Wifi.Signal"] != -69.0 || r["Device.LoadAvg"] != 19.0 {
					t.Errorf("row at %s lacks the STATE of the same TelePeriod: %v", at, r)
				}
				if _, ok := r["TempUnit"]; ok {
					t.Errorf("unit member stored as a field: %v", r)
				}
				wantAM := any(17.3)
				if i == 2 {
					wantAM = nil // the failed AM2301 sent null: no value, not 0
				}
				if r["AM2301.Temperature"] != wantAM {
					t.Errorf("row at %s: AM2301.Temperature %v, want %v", at, r["AM2301.Temperature"], wantAM)
				}
			}
			early := tpRow(rows, "HX711.Weight", 40.001)
			if early == nil {
				t.Fatalf("the reading sent before NTP is missing: %v", rows)
			}
			if at, _ := time.Parse(time.RFC3339, early["time"].(string)); at.Before(start.Add(-time.Second)) || at.After(time.Now()) {
				t.Errorf("the reading sent before NTP is at %v, want its time of arrival", early["time"])
			}
			clock := tpLoggedError(t, web, sensorTopic, "clock")
			if !strings.Contains(clock.Message, "device clock not set") || clock.Channel != channel {
				t.Errorf("clock entry: %+v", clock)
			}
			garbage := tpLoggedError(t, web, sensorTopic, "json")
			if garbage.Channel != channel || garbage.Excerpt != truncated || garbage.Client != tpClient(tr, "DVES_4B5C3A") {
				t.Errorf("entry for the truncated SENSOR: %+v", garbage)
			}
			tpOnlyErrors(t, web, sensorTopic)

			checkDashboard(t, web, channel, map[string]string{
				"HX711.Weight": "Weight", "HX711.WeightRaw": "Other", "HX711.AbsRaw": "Other",
				"DS18B20.Temperature": "Temperature", "DS18B20.Id": "text",
				"BME280.Temperature": "Temperature", "BME280.Humidity": "Humidity", "BME280.DewPoint": "Other", "BME280.Pressure": "Pressure",
				"AM2301.Temperature": "Temperature", "AM2301.Humidity": "Humidity", "AM2301.DewPoint": "Other",
				"Device.LoadAvg": "Other", "Device.Sleep": "Other", "Device.Wifi.Channel": "Other", "Device.Wifi.LinkCount": "Other",
				"Device.Wifi.RSSI": "Signal", "Device.Wifi.Signal": "Signal",
				"LWT": "text",
			})
		})
	}
}

// TestTasmotaOfflineWill is the same Tasmota losing power: the broker
// publishes its will, tele/<topic>/LWT "Offline" (QoS 1, retained), and the
// beekeeper's dashboard must say Offline, not Online forever.
func TestTasmotaOfflineWill(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			dev := startTasmota(t, bus, broker, "4B5C3A", "%prefix%/%topic%/")
			channel := "tasmota/default/default/" + dev.topic
			tpRowsUntil(t, web, channel, `LWT "Online"`, tpHasRow("LWT", "Online"))
			time.Sleep(5 * time.Millisecond) // the will arrives later than the birth
			dev.drop()
			tpWillStored(t, tr, web, channel, "LWT", "Offline")
			tpDashboardShows(t, web, channel, `<dt>LWT</dt><dd><span class="v">Offline</span>`)
			tpOnlyErrors(t, web)
		})
	}
}

// TestTasmotaDiscovery: a Tasmota since 9.3.1.2 on its factory settings
// (SetOption19 0) publishes its own discovery, retained, about ten seconds
// after connecting: tasmota/discovery/<MAC>/config (device description) and
// tasmota/discovery/<MAC>/sensors ({"sn":<SENSOR>,"ver":1}), see
// arendst/Tasmota xdrv_12_discovery.ino TasDiscovery. This is discovery
// traffic: Apiary must neither store it nor fill the error log with it.
func TestTasmotaDiscovery(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			dev := startTasmota(t, bus, broker, "4B5C3A", "%prefix%/%topic%/")
			clock := `"` + tpLocal(time.Now()) + `"`
			dev.publish("tasmota/discovery/A4CF124B5C3A/config", 0, true,
				`{"ip":"192.168.1.42","dn":"Hive scale","fn":["Tasmota",null,null,null,null,null,null,null],"hn":"tasmota-4B5C3A-7226","mac":"A4CF124B5C3A","md":"Generic","ty":0,"if":0,"ofln":"Offline","onln":"Online","state":["OFF","ON","TOGGLE","HOLD"],"sw":"13.4.0","t":"tasmota_4B5C3A","ft":"%prefix%/%topic%/","tp":["cmnd","stat","tele"],"rl":[0,0,0,0,0,0,0,0],"swc":[-1,-1,-1,-1,-1,-1,-1,-1],"swn":[null,null,null,null,null,null,null,null],"btn":[0,0,0,0,0,0,0,0],"so":{"4":0,"11":0,"13":0,"17":0,"20":0,"30":0,"68":0,"73":0,"82":0,"114":0,"117":0},"lk":0,"lt_st":0,"bat":0,"dslp":0,"sho":[],"sht":[],"ver":1}`)
			dev.publish("tasmota/discovery/A4CF124B5C3A/sensors", 0, true,
				`{"sn":`+hiveScaleSensor(clock, 41.9, 34.5, true)+`,"ver":1}`)
			// A reading after the discovery: once it is stored, the discovery was handled.
			dev.publish(dev.full("tele", "SENSOR"), 0, false, hiveScaleSensor(clock, 41.95, 34.5, true))
			tpRowsUntil(t, web, "tasmota/default/default/"+dev.topic, "the reading", tpHasRow("HX711.Weight", 41.95))
			time.Sleep(100 * time.Millisecond)
			for _, e := range errorLog(t, web, nil) {
				if strings.HasPrefix(e.Source, "tasmota/discovery/") {
					t.Errorf("Tasmota's own discovery fills the error log: %s %s: %s", e.Kind, e.Source, e.Message)
				}
			}
			tpOnlyErrors(t, web)
			status, body := tpGet(t, web+"/api/channels")
			if status != 200 || strings.Contains(body, `"discovery"`) {
				t.Errorf("discovery stored as a node: %s", body)
			}
		})
	}
}

// TestTasmotaKotoriFullTopic is a Tasmota set up the way Kotori's
// documentation says: FullTopic <realm>/<network>/<gateway>/%topic%/%prefix%/,
// so that SENSOR and STATE arrive under a Kotori channel (verbatim payloads
// of Kotori's own Tasmota tests: the 2017 DS18x20 layout with Type and
// Address, and a STATE).
func TestTasmotaKotoriFullTopic(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			dev := startTasmota(t, bus, broker, "0A1B2C", "hiveeyes/testdrive/area-42/%topic%/%prefix%/")
			channel := "hiveeyes/testdrive/area-42/" + dev.topic
			dev.publish(dev.full("tele", "SENSOR"), 0, false, tpFixture(t, "tasmota-ds18x20-multi-legacy.json"))
			dev.publish(dev.full("tele", "STATE"), 0, false, tpFixture(t, "tasmota-state.json"))

			rows := tpRowsUntil(t, web, channel, "the STATE", tpHasRow("time", "2019-06-02T20:13:07.000Z"))
			want := map[string]map[string]any{
				"2017-10-05T20:39:45.000Z": {"DHT22.Temperature": 33.2, "DHT22.Humidity": 30.0,
					"DS18x20.DS1.Temperature": 25.37, "DS18x20.DS2.Temperature": 30.44, "DS18x20.DS3.Temperature": 25.81},
				"2019-06-02T20:13:07.000Z": {"Device.Vcc": 3.182, "Device.Sleep": 50.0, "Device.LoadAvg": 19.0,
					"Device.Wifi.Channel": 1.0, "Device.Wifi.RSSI": 100.0, "Device.Wifi.LinkCount": 1.0},
			}
			rows = tpRowsUntil(t, web, channel, "both readings", func(rows []map[string]any) bool { return len(rows) >= 2 })
			for at, fields := range want {
				r := tpRow(rows, "time", at)
				if r == nil {
					t.Errorf("no row at %s: %v", at, rows)
					continue
				}
				for k, v := range fields {
					if r[k] != v {
						t.Errorf("row at %s: %s = %v, want %v", at, k, r[k], v)
					}
				}
				for k := range r {
					if strings.HasSuffix(k, ".Type") || strings.HasSuffix(k, ".Address") || k == "TempUnit" {
						t.Errorf("row at %s has %s", at, k)
					}
				}
			}
			checkDashboard(t, web, channel, map[string]string{
				"DHT22.Temperature": "Temperature", "DHT22.Humidity": "Humidity",
				"DS18x20.DS1.Temperature": "Temperature", "DS18x20.DS2.Temperature": "Temperature", "DS18x20.DS3.Temperature": "Temperature",
				"Device.Vcc": "Battery", "Device.LoadAvg": "Other", "Device.Sleep": "Other",
				"Device.Wifi.Channel": "Other", "Device.Wifi.LinkCount": "Other", "Device.Wifi.RSSI": "Signal",
			})
			// LWT and INFO1..3 under a Kotori channel are slots Kotori ignored
			// silently; Apiary notes them in one deduplicated "unknown slot"
			// entry (KOTORI.md), and nothing else.
			es := errorLog(t, web, nil)
			if len(es) != 1 || es[0].Kind != "slot" || es[0].Channel != channel || es[0].Count != 4 {
				t.Errorf("error log: %+v, want one \"slot\" entry counting LWT and INFO1..3", es)
			}
		})
	}
}
