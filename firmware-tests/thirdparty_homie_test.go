package firmwaretests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// homieVersion is what differs between Homie conventions v3 and v4 on the
// wire (homieiot/convention): v3 devices (homie-esp8266 3.x) announce
// $localip, $mac, $fw/*, $implementation/* and $stats/*; v4 dropped them
// and added $extensions. Both: $homie, $name, $state (init, ready, lost
// as the will), $nodes, node $name/$type/$properties, property
// $name/$datatype/$unit/$settable, values as plain UTF-8 strings, all
// retained at QoS 1.
type homieVersion struct {
	name     string
	homie    string
	clientID string
	attrs    map[string]string // device attributes besides the common ones
}

var homieVersions = []homieVersion{
	{"v3", "3.0.1", "Homie-a4cf12d3e4f5", map[string]string{
		"$localip": "192.168.1.61", "$mac": "A4:CF:12:D3:E4:F5",
		"$fw/name": "beehive-homie", "$fw/version": "1.2.0", "$fw/checksum": "8f2b1c0e6a9d4b7e3f5a1c2d4e6f8a0b",
		"$implementation": "esp8266", "$implementation/version": "3.0.1", "$implementation/ota/enabled": "true",
		"$implementation/config": `{"name":"Beehive 1","device_id":"beehive-1","wifi":{"ssid":"apiary"},"mqtt":{"host":"apiary.local","port":1883},"ota":{"enabled":true}}`,
		"$stats/interval":        "60", "$stats/uptime": "42", "$stats/signal": "64",
	}},
	{"v4", "4.0.0", "beehive-1", map[string]string{
		"$extensions": "org.homie.legacy-stats:0.1.1:[4.x],org.homie.legacy-firmware:0.1.1:[4.x]",
	}},
}

// homieDevice is a Homie device "beehive-1" with the nodes "scale"
// (weight kg, tare settable) and "climate" (temperature °C, humidity %,
// lid enum).
type homieDevice struct {
	*tpDevice
	base string
}

func startHomie(t *testing.T, bus *tpBus, broker string, v homieVersion) *homieDevice {
	t.Helper()
	base := "homie/beehive-1/"
	d := &homieDevice{base: base}
	d.tpDevice = tpConnect(t, bus, broker, paho.NewClientOptions().
		SetClientID(v.clientID).SetCleanSession(true).SetKeepAlive(15*time.Second).
		SetWill(base+"$state", "lost", 1, true))
	attr := func(topic, value string) { d.publish(base+topic, 1, true, value) }
	attr("$state", "init")
	attr("$homie", v.homie)
	attr("$name", "Beehive 1")
	for k, val := range v.attrs {
		attr(k, val)
	}
	attr("$nodes", "scale,climate")
	attr("scale/$name", "Scale")
	attr("scale/$type", "HX711")
	attr("scale/$properties", "weight,tare")
	attr("scale/weight/$name", "Weight")
	attr("scale/weight/$datatype", "float")
	attr("scale/weight/$unit", "kg")
	attr("scale/tare/$name", "Tare")
	attr("scale/tare/$datatype", "boolean")
	attr("scale/tare/$settable", "true")
	attr("climate/$name", "Hive climate")
	attr("climate/$type", "BME280")
	attr("climate/$properties", "temperature,humidity,lid")
	attr("climate/temperature/$datatype", "float")
	attr("climate/temperature/$unit", "°C")
	attr("climate/humidity/$datatype", "float")
	attr("climate/humidity/$unit", "%")
	attr("climate/lid/$datatype", "enum")
	attr("climate/lid/$format", "open,closed")
	attr("$state", "ready")
	return d
}

// TestHomie is a Homie device of each convention, publishing every 60 s
// with the clock accelerated (four rounds). Each node becomes a channel
// homie/default/<device>/<node>; the beekeeper sees the values at their
// times of arrival, the enum and booleans as text or 0/1, none of the
// $-attributes as data, no error-log entry, and nothing published by
// Apiary.
func TestHomie(t *testing.T) {
	for _, v := range homieVersions {
		for _, tr := range mqttTransports {
			t.Run(v.name+"/"+tr.name, func(t *testing.T) {
				web, broker := tr.start(t)
				bus := tpWatch(t, broker)
				start := time.Now()
				dev := startHomie(t, bus, broker, v)
				weights := []string{"42.37", "42.41", "42.40", "42.45"}
				for i, w := range weights {
					dev.publish(dev.base+"scale/weight", 1, true, w)
					dev.publish(dev.base+"scale/tare", 1, true, "false")
					dev.publish(dev.base+"climate/temperature", 1, true, fmt.Sprintf("%.2f", 34.5+float64(i)/4))
					dev.publish(dev.base+"climate/humidity", 1, true, "61.20")
					lid := "closed"
					if i == 2 {
						lid = "open"
					}
					dev.publish(dev.base+"climate/lid", 1, true, lid)
					if v.name == "v3" {
						dev.publish(dev.base+"$stats/uptime", 1, true, fmt.Sprint(60*(i+1)))
					}
				}
				// The tare property is removed: Homie clears its retained
				// value with an empty publish, which is no reading.
				dev.publish(dev.base+"scale/tare", 1, true, "")
				scale := tpRowsUntil(t, web, "homie/default/beehive-1/scale", "four weights", tpHasValues("weight", 4))
				var got []any
				for _, r := range scale {
					arrivalTimes(t, []map[string]any{r}, start)
					if w := r["weight"]; w != nil {
						got = append(got, w)
					}
				}
				if fmt.Sprint(got) != "[42.37 42.41 42.4 42.45]" {
					t.Errorf("weights %v", got)
				}
				climate := tpRowsUntil(t, web, "homie/default/beehive-1/climate", "four rounds",
					tpAll(tpHasValues("temperature", 4), tpHasRow("lid", "closed"), tpHasRow("lid", "open"), tpHasRow("humidity", 61.2)))
				if tpRow(climate, "lid", "open") == nil || tpRow(climate, "humidity", 61.2) == nil {
					t.Errorf("climate rows: %v", climate)
				}
				checkDashboard(t, web, "homie/default/beehive-1/scale", map[string]string{"weight": "Weight", "tare": "Other"})
				checkDashboard(t, web, "homie/default/beehive-1/climate", map[string]string{
					"temperature": "Temperature", "humidity": "Humidity", "lid": "text"})
				status, body := tpGet(t, web+"/api/channels")
				if status != 200 || len(body) == 0 {
					t.Fatalf("/api/channels: %d", status)
				}
				for _, attr := range []string{`"$state"`, `"$homie"`, `"$stats"`, `"$name"`, `"$unit"`} {
					if strings.Contains(body, attr) {
						t.Errorf("a Homie attribute became data: %s in %s", attr, body)
					}
				}
				tpOnlyErrors(t, web)
			})
		}
	}
}
