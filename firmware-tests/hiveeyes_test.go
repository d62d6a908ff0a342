package firmwaretests

import (
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/appliance"
)

// TestNodeWifiMQTT is hiveeyes/arduino node-wifi-mqtt: ESP8266 with
// Adafruit_MQTT, QoS 0, not retained, clean session, ArduinoJson 5 compact
// serialisation, no timestamp, every 5 minutes (here: 12 messages with the
// clock accelerated), one of them with a bare NaN from a failed HX711 and
// one with -127 from an unplugged DS18B20.
func TestNodeWifiMQTT(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			dev := device(t, broker, paho.NewClientOptions().SetClientID("ESP8266-3c71bf0a").
				SetCleanSession(true).SetKeepAlive(300*time.Second))
			for i := 0; i < 12; i++ {
				weight := fmt.Sprintf("%.2f", 42.17+float64(i)/100)
				brood := "34.8125"
				switch i {
				case 3:
					weight = "NaN"
				case 5:
					brood = "-127"
				}
				payload := fmt.Sprintf(`{"weight":%s,"airtemperature":24.2,"airhumidity":61.5,"broodtemperature":%s,"battery_level":87,"memory_free":38712}`, weight, brood)
				tok := dev.Publish("hiveeyes/testdrive/area-42/node-1/data.json", 0, false, payload)
				tok.Wait()
				time.Sleep(5 * time.Millisecond) // distinct arrival times
			}
			rows := exported(t, web, "hiveeyes/testdrive/area-42/node-1", 12)
			if rows[3]["weight"] != nil || rows[3]["airtemperature"] != 24.2 {
				t.Errorf("reading with NaN weight: %v (want no weight, the rest kept)", rows[3])
			}
			if rows[5]["broodtemperature"] != -127.0 {
				t.Errorf("unplugged DS18B20: %v (want -127 stored as sent)", rows[5]["broodtemperature"])
			}
			if rows[11]["weight"] != 42.28 {
				t.Errorf("last weight %v", rows[11]["weight"])
			}
		})
	}
}

// TestTerkinHTTP is the Terkin datalogger posting JSON over HTTP, on the
// /api-notls prefix GPRS modems need, expecting a 200 or 201.
func TestTerkinHTTP(t *testing.T) {
	app := run(t, func(c *appliance.Config) {})
	web := "http://" + app.HTTPAddr().String()
	status, body := post(t, web+"/api-notls/workbench/testdrive/area-42/node-01-http-json/data", "application/json",
		`{"system.memfree": 1000000, "system.temperature": 44.7053182608696, "system.time": 1551478192, "weight.0": 42.5}`, nil)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	rows := exported(t, web, "workbench/testdrive/area-42/node-01-http-json", 1)
	if rows[0]["weight.0"] != 42.5 || rows[0]["system.time"] != 1551478192.0 {
		t.Errorf("export row %v", rows[0])
	}
}
