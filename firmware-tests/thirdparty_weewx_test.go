package firmwaretests

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// weewxUpload is one record of WeeWX's weewx-mqtt uploader
// (matthewwall/weewx-mqtt bin/user/mqtt.py MQTTThread.process_record): a
// new paho-python client per record, client id weewx_<8 hex digits>,
// clean session, keepalive 60 s, MQTT 3.1.1; with the default aggregation
// "individual,aggregate" first <topic>/loop with the whole record as
// json.dumps writes it (every value a string, "dateTime" in epoch
// seconds), then one plain-text message per observation on
// <topic>/<name>; QoS 0, not retained; then DISCONNECT.
func weewxUpload(t *testing.T, bus *tpBus, broker, topic, loop string) {
	t.Helper()
	d := tpConnect(t, bus, broker, paho.NewClientOptions().
		SetClientID(fmt.Sprintf("weewx_%08x", rand.Uint32())).SetCleanSession(true).SetKeepAlive(60*time.Second))
	d.publish(topic+"/loop", 0, false, loop)
	var record map[string]string
	if err := json.Unmarshal([]byte(loop), &record); err != nil {
		t.Fatal(err)
	}
	for name, v := range record {
		d.publish(topic+"/"+name, 0, false, v)
	}
	d.c.Disconnect(50)
}

// TestWeeWX is a Davis Vantage Pro 2 behind WeeWX with weewx-mqtt on its
// defaults (topic "weather"), two archive records five minutes apart (the
// captured Kotori test record, its time moved to today). The beekeeper
// sees the loop record at its dateTime with every value as a number in
// weewx/default/default/weather, the individual values at their times of
// arrival, no error-log entry, and nothing published by Apiary.
func TestWeeWX(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			web, broker := tr.start(t)
			bus := tpWatch(t, broker)
			start := time.Now()
			base := time.Now().Truncate(5 * time.Minute).Add(-10 * time.Minute)
			captured := tpFixture(t, "weewx-loop.json")
			for i := 0; i < 2; i++ {
				at := base.Add(time.Duration(i) * 5 * time.Minute)
				loop := strings.Replace(captured, `"dateTime": "1492467300.0"`, fmt.Sprintf(`"dateTime": "%d.0"`, at.Unix()), 1)
				loop = strings.Replace(loop, `"outTemp_C": "3.55555555556"`, fmt.Sprintf(`"outTemp_C": "%.11f"`, 3.55555555556+float64(i)), 1)
				if loop == captured {
					t.Fatal("fixture changed: dateTime not found")
				}
				weewxUpload(t, bus, broker, "weather", loop)
			}
			channel := "weewx/default/default/weather"
			rows := tpRowsUntil(t, web, channel, "both records and their single values", func(rows []map[string]any) bool {
				return tpRow(rows, "time", tpExportTime(base.Add(5*time.Minute))) != nil && tpRow(rows, "outTemp_C", 4.55555555556) != nil &&
					len(rows) >= 2+2*69
			})
			for i := 0; i < 2; i++ {
				at := tpExportTime(base.Add(time.Duration(i) * 5 * time.Minute))
				r := tpRow(rows, "time", at)
				tpCheckRow(t, "loop record at "+at, r, map[string]any{
					"outTemp_C": 3.55555555556 + float64(i), "outHumidity": 90.0, "barometer_mbar": 1018.35464712,
					"windSpeed10_kph": 5.78725803977, "consBatteryVoltage_volt": 4.72, "usUnits": 16.0,
					"dateTime": nil, // the record's time, not a value
				})
				values := 0
				for k, v := range r {
					if v != nil && k != "time" {
						values++
					}
				}
				if values != 68 {
					t.Errorf("loop record at %s has %d values, want the 68 observations", at, values)
				}
			}
			// The single values of weather/<name>: at their arrival, one per row.
			singles := 0
			for _, r := range rows {
				if r["time"] == tpExportTime(base) || r["time"] == tpExportTime(base.Add(5*time.Minute)) {
					continue
				}
				arrivalTimes(t, []map[string]any{r}, start)
				singles++
			}
			if singles < 2*69 {
				t.Errorf("%d rows of single values, want one per observation (2×69)", singles)
			}
			fields := dashboardFields(t, web, channel)
			for f, fam := range map[string]string{"outTemp_C": "Temperature outside", "inTemp_C": "Temperature",
				"outHumidity": "Humidity", "barometer_mbar": "Pressure", "consBatteryVoltage_volt": "Battery"} {
				if fields[f] != fam {
					t.Errorf("dashboard: %s in %q, want %q", f, fields[f], fam)
				}
			}
			tpOnlyErrors(t, web)
		})
	}
}
