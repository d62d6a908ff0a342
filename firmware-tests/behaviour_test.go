package firmwaretests

// Device behaviours beyond single payloads: a steady reporting rhythm, lost
// acknowledgements, appliance restarts, retained messages, backlogs,
// missing or unset clocks, failed sensors and garbage on the wire.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/ingest"
	"github.com/apiary-hive/apiary/internal/mosquitto"
)

// TestEveryMinute: a BERadio gateway relays a hive's radio node once a
// minute for an hour, its clock accelerated (each message carries the
// gateway's time, one minute after the last, in nanoseconds); over HTTP a
// TerkinData node on GPRS does the same with its RTC's ISO time. The
// export has each reading at the device's minute, to the millisecond,
// with its own values.
func TestEveryMinute(t *testing.T) {
	t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	weight := func(i int) float64 { return 50 + float64(i)/100 } // an hour of nectar flow
	check := func(t *testing.T, web, channel, field string, offset time.Duration) {
		t.Helper()
		rows := exportedSettled(t, web, channel, 60)
		for i, r := range rows {
			if got, want := rowTime(t, r), t0.Add(time.Duration(i)*time.Minute+offset).Truncate(time.Millisecond); !got.Equal(want) {
				t.Errorf("row %d at %v, want %v", i, got, want)
			}
			if r[field] != weight(i) {
				t.Errorf("row %d: %s = %v, want %v", i, field, r[field], weight(i))
			}
		}
	}
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			g := newBERadioGateway(t, s.broker)
			// The gateway's nanoseconds come from a float: sub-millisecond noise.
			noise := 507803904 * time.Nanosecond
			for i := 0; i < 60; i++ {
				tns := t0.Add(time.Duration(i)*time.Minute + noise).UnixNano()
				g.relay("999", [][2]string{{"temp1", "21.63"}, {"wght1", strconv.FormatFloat(weight(i), 'f', -1, 64)}}, tns)
			}
			check(t, s.web, "hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/999", "wght1", noise)
		})
	}
	t.Run("http", func(t *testing.T) {
		s := openHTTP(t, nil)
		for i := 0; i < 60; i++ {
			tm := t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05Z")
			body := terkinDataJSON(tm, strconv.FormatFloat(weight(i), 'f', 2, 64), "12.50", "80.00", "34.90", "3.84")
			if status, answer := sim800POST(t, s.web, "/api-notls/hiveeyes/testdrive/area-42/gprs-node/data", "application/json", body); status != 200 {
				t.Fatalf("post %d: %d %s", i, status, answer)
			}
		}
		check(t, s.web, "hiveeyes/testdrive/area-42/gprs-node", "weight", 0)
	})
}

// TestRedeliveryAfterLostPuback: a device whose MQTT client keeps its
// session and its unacknowledged messages (paho with clean session off
// and a store, as paho-mqtt on the mois box or a BERadio gateway can be
// set up) publishes at QoS 1 over a GPRS link. The link loses the
// broker's PUBACK of the second reading and drops the connection; the
// device reconnects and sends that message again with DUP set and the
// same packet id. The clock-less reading is stored exactly once.
func TestRedeliveryAfterLostPuback(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			link := newGPRSLink(t, s.broker)
			var connects atomic.Int64
			dev := reconnectingDevice(t, link.addr(), paho.NewClientOptions().SetClientID("gsm-node-7").
				SetCleanSession(false).SetStore(paho.NewMemoryStore()).SetKeepAlive(60*time.Second).
				SetProtocolVersion(4).SetMaxReconnectInterval(50*time.Millisecond).
				SetOnConnectHandler(func(paho.Client) { connects.Add(1) }))
			topic := "hiveeyes/testdrive/area-42/gsm-node-7/data.json"
			publish(t, dev, topic, 1, false, `{"weight":42.17,"temperature":21.5}`)
			link.losePuback()
			dev.Publish(topic, 1, false, `{"weight":42.19,"temperature":21.6}`) // the token waits for the PUBACK
			select {
			case <-link.lost:
			case <-time.After(5 * time.Second):
				t.Fatal("the broker never acknowledged the second reading")
			}
			for deadline := time.Now().Add(5 * time.Second); connects.Load() < 2; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the device did not reconnect")
				}
			}
			publish(t, dev, topic, 1, false, `{"weight":42.21,"temperature":21.7}`)
			rows := exportedSettled(t, s.web, "hiveeyes/testdrive/area-42/gsm-node-7", 3)
			checkRows(t, rows, []map[string]any{{"weight": 42.17}, {"weight": 42.19}, {"weight": 42.21}})
			if n := link.accepted.Load(); n != 2 {
				t.Errorf("the device connected %d times through the link, want 2", n)
			}
		})
	}
}

// TestReconnectAfterRestart: the appliance restarts (an upgrade, a power
// cut) on the same data directory and ports while devices keep reporting.
//
// With the embedded broker, a node-wifi-mqtt loses its connection; like
// the firmware's MQTT_connect() it retries until the broker is back
// before it reads and sends the next cycle. Every reading, before and
// after, is in the export.
//
// Behind Mosquitto the devices stay connected to Mosquitto; the Terkin
// datalogger's QoS 1 readings sent while the appliance is away wait in
// the appliance's persistent session and arrive after the restart.
func TestReconnectAfterRestart(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		s := openEmbedded(t, nil)
		var connects atomic.Int64
		dev := reconnectingDevice(t, s.broker, nodeWifiMQTTOptions().SetMaxReconnectInterval(50*time.Millisecond).
			SetOnConnectHandler(func(paho.Client) { connects.Add(1) }))
		var want []map[string]any
		for i := 0; i < 10; i++ {
			if i == 5 {
				// A node reports every five minutes: what it sent is stored
				// by the time the appliance restarts.
				exported(t, s.web, "hiveeyes/testdrive/area-42/node-1", 5)
				s.restart(t)
				for deadline := time.Now().Add(10 * time.Second); connects.Load() < 2; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("the device did not reconnect to the restarted appliance")
					}
				}
			}
			publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading("42.17", "24.20", "61.50", "34.8125", 87, 38700+i))
			want = append(want, map[string]any{"memory_free": float64(38700 + i)})
		}
		checkRows(t, exportedSettled(t, s.web, "hiveeyes/testdrive/area-42/node-1", 10), want)
	})
	t.Run("mosquitto", func(t *testing.T) {
		s := openMosquitto(t, nil)
		watchBus(t, s.broker)
		dev := terkinMQTT(t, s.broker)
		topic := "workbench/testdrive/area-42/node-01-mqtt-json/data.json"
		for i := 0; i < 9; i++ {
			if i == 3 {
				s.stop()
			}
			if i == 6 {
				s.launch(t)
			}
			publish(t, dev, topic, 1, false, terkinJSON(1000000-i, "15.1", "3.845", 60*i))
		}
		rows := exportedSettled(t, s.web, "workbench/testdrive/area-42/node-01-mqtt-json", 9)
		for i := 0; i < 9; i++ {
			rowWhere(t, rows, "system.memfree", float64(1000000-i))
		}
	})
}

// TestRestartQoS0BehindMosquitto: a node-wifi-mqtt (QoS 0) reporting to
// the site's Mosquitto while the appliance restarts. On Debian's defaults
// Mosquitto drops QoS 0 messages for a disconnected session: the three
// readings sent while the appliance is away are lost, as README says. With
// "queue_qos0_messages true", which README recommends, all nine arrive.
func TestRestartQoS0BehindMosquitto(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		want       int
	}{{"defaults", "", 6}, {"queue_qos0_messages", "queue_qos0_messages true", 9}} {
		t.Run(c.name, func(t *testing.T) {
			mq := mosquitto.StartWithConf(t, c.conf)
			s := mosquittoSite(t, mq, nil)
			dev := nodeWifiMQTT(t, s.broker)
			for i := 0; i < 9; i++ {
				if i == 3 {
					exported(t, s.web, "hiveeyes/testdrive/area-42/node-1", 3)
					s.stop()
				}
				if i == 6 {
					s.launch(t)
				}
				publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading("42.17", "24.20", "61.50", "34.8125", 87, 38700+i))
			}
			rows := exportedSettled(t, s.web, "hiveeyes/testdrive/area-42/node-1", c.want)
			if c.want == 6 {
				for _, r := range rows {
					if m := r["memory_free"]; m == 38703.0 || m == 38704.0 || m == 38705.0 {
						t.Errorf("a reading sent while the appliance was away arrived: %v", r)
					}
				}
			}
		})
	}
}

// TestRetainedReplay: a BERadio gateway keeps its heartbeat retained
// (status.json, every 300 s, "date" the gateway's clock). Mosquitto
// replays the retained heartbeat each time the appliance subscribes:
// README says a replay is stored only when it differs from what is
// stored. So the heartbeat sent before the appliance first subscribed is
// stored, its replay after a restart is not, and a heartbeat sent while
// the appliance was away (QoS 0: not queued, but retained) is stored at
// the next replay. With the embedded broker a retained publish is news,
// stored once, and a restart replays nothing.
func TestRetainedReplay(t *testing.T) {
	status := vector(t, "beradio-gateway-status-retained")
	beat := func(date string) string {
		return strings.Replace(status.Payload, "2016-02-15T09:13:50.507804", date, 1)
	}
	gw := "hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/gateway"
	t.Run("mosquitto", func(t *testing.T) {
		mq := mosquitto.Start(t)
		g := newBERadioGateway(t, mq.Addr)
		g.heartbeat(beat("2026-05-01T10:00:00.000001"))
		s := mosquittoSite(t, mq, nil)
		watchBus(t, s.broker)
		checkRow(t, exportedSettled(t, s.web, gw, 1)[0], map[string]any{"status": "online", "date": "2026-05-01T10:00:00.000001"})
		s.restart(t)
		exportedSettled(t, s.web, gw, 1)
		s.stop()
		g.heartbeat(beat("2026-05-01T10:05:00.000002"))
		s.launch(t)
		rows := exportedSettled(t, s.web, gw, 2)
		rowWhere(t, rows, "date", "2026-05-01T10:05:00.000002")
		s.restart(t)
		exportedSettled(t, s.web, gw, 2)
	})
	t.Run("embedded", func(t *testing.T) {
		s := openEmbedded(t, nil)
		watchBus(t, s.broker)
		g := newBERadioGateway(t, s.broker)
		g.heartbeat(beat("2026-05-01T10:00:00.000001"))
		g.heartbeat(beat("2026-05-01T10:05:00.000002"))
		exportedSettled(t, s.web, gw, 2)
		s.restart(t)
		exportedSettled(t, s.web, gw, 2)
	})
}

// TestBacklog: a GPRS node that was out of coverage for an hour sends
// what it stored as one JSON array, each reading with its own time: the
// Terkin datalogger through its SIM800 (HTTP, ISO times) and a GSM scale
// over MQTT (epoch seconds). Every reading is in the export at its own
// time, and the HTTP answer counts them.
func TestBacklog(t *testing.T) {
	t0 := time.Now().UTC().Add(-75 * time.Minute).Truncate(time.Minute)
	items := func(stamp func(time.Time) string) string {
		var parts []string
		for i := 0; i < 12; i++ {
			parts = append(parts, fmt.Sprintf(`{"time": %s, "weight.0": %.3f, "temperature.28ff641d8fc3944f.onewire:0": 35.25}`,
				stamp(t0.Add(time.Duration(i)*5*time.Minute)), 48+float64(i)/1000))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	check := func(t *testing.T, web, channel string) {
		t.Helper()
		rows := exportedSettled(t, web, channel, 12)
		for i, r := range rows {
			if got := rowTime(t, r); !got.Equal(t0.Add(time.Duration(i) * 5 * time.Minute)) {
				t.Errorf("row %d at %v", i, got)
			}
			checkRow(t, r, map[string]any{"weight.0": 48 + float64(i)/1000})
		}
	}
	t.Run("http", func(t *testing.T) {
		s := openHTTP(t, nil)
		body := items(func(tm time.Time) string { return `"` + tm.Format("2006-01-02T15:04:05Z") + `"` })
		status, answer := sim800POST(t, s.web, "/api-notls/hiveeyes/testdrive/area-42/gprs-backlog/data", "application/json", body)
		if status != 200 || !strings.Contains(answer, "Received #12 readings") {
			t.Fatalf("answer %d %s", status, answer)
		}
		check(t, s.web, "hiveeyes/testdrive/area-42/gprs-backlog")
	})
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			dev := nodeWifiMQTT(t, s.broker)
			body := strings.ReplaceAll(strings.ReplaceAll(items(func(tm time.Time) string { return strconv.FormatInt(tm.Unix(), 10) }), ": ", ":"), ", ", ",")
			publish(t, dev, "hiveeyes/testdrive/area-42/gprs-backlog/data.json", 0, false, body)
			check(t, s.web, "hiveeyes/testdrive/area-42/gprs-backlog")
		})
	}
}

// TestClocklessDevice: node-wifi-mqtt (MQTT) and Open Hive (HTTP) send no
// time: each reading is stamped with its time of arrival, and the
// dashboard says the node was seen just now.
func TestClocklessDevice(t *testing.T) {
	type sent struct {
		at     time.Time
		weight float64
	}
	check := func(t *testing.T, web, channel string, field string, sends []sent) {
		t.Helper()
		rows := exportedSettled(t, web, channel, len(sends))
		for _, sn := range sends {
			got := rowTime(t, rowWhere(t, rows, field, sn.weight))
			if got.Before(sn.at.Truncate(time.Millisecond)) || got.After(sn.at.Add(2*time.Second)) {
				t.Errorf("reading sent at %v stored at %v", sn.at, got)
			}
		}
	}
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			dev := nodeWifiMQTT(t, s.broker)
			var sends []sent
			for i, w := range []float64{42.17, 42.18, 42.19} {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				sends = append(sends, sent{time.Now(), w})
				publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading(strconv.FormatFloat(w, 'f', 2, 64), "24.20", "61.50", "34.8125", 87, 38712))
			}
			check(t, s.web, "hiveeyes/testdrive/area-42/node-1", "weight", sends)
			dashboardSeenNow(t, s.web, "hiveeyes/testdrive/area-42/node-1")
		})
	}
	t.Run("http", func(t *testing.T) {
		s := openHTTP(t, nil)
		o := openHiveESP32{}
		var sends []sent
		for i, w := range []float64{42.17, 42.18, 42.19} {
			if i > 0 {
				time.Sleep(50 * time.Millisecond)
			}
			sends = append(sends, sent{time.Now(), w})
			if status, body := o.post(t, s.web, o.dataset(w, 21.5, 61.5, 1013.2, nil, 4.12)); status != 200 {
				t.Fatalf("answer %d %s", status, body)
			}
		}
		check(t, s.web, "hiveeyes/testdrive/beekeeper-name/hive-number", "weight", sends)
		dashboardSeenNow(t, s.web, "hiveeyes/testdrive/beekeeper-name/hive-number")
	})
}

func dashboardSeenNow(t *testing.T, web, channel string) {
	t.Helper()
	resp, err := http.Get(web + "/d/" + channel)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "last seen seconds ago") {
		t.Errorf("dashboard of %s does not say the node was seen seconds ago", channel)
	}
}

// TestUnsetClock: devices whose clock is not set yet send 1970: the BERadio
// gateway on a Raspberry Pi (no RTC) before NTP, a TerkinData node whose
// RTC lost its battery. Each reading is stored at its time of arrival, and
// the error log notes, for the topic or path, that the device time was
// replaced.
func TestUnsetClock(t *testing.T) {
	check := func(t *testing.T, web, channel, source, kind, says string, start time.Time) {
		t.Helper()
		rows := exportedSettled(t, web, channel, 1)
		arrivalTimes(t, rows, start)
		e := waitError(t, web, kind, source)
		if e.Channel != channel || !strings.Contains(e.Message, says) || !strings.Contains(e.Message, "using the time of arrival") {
			t.Errorf("%s entry %+v", kind, e)
		}
		errorsPageShows(t, web, source, e.Message)
	}
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			start := time.Now()
			g := newBERadioGateway(t, s.broker)
			// 95 s after boot, in nanoseconds: read by magnitude (Kotori's
			// rule) as seconds, the year 5000 is out of range.
			g.relay("999", [][2]string{{"temp1", "21.63"}, {"wght1", "106.77"}}, 95*int64(time.Second)+412000000)
			check(t, s.web, "hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/999",
				"hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/999/data.json", "time", "95412000000", start)
		})
	}
	for _, f := range []struct{ ctype, body string }{
		{"application/json", terkinDataJSON("1970-01-01T00:00:07Z", "85.00", "42.42", "84.84", "33.33", "3.84")},
		{"text/csv", terkinDataHeader + "\n1970-01-01T00:00:07Z,85.000,42.420,84.840,33.330,3.843"},
		{"application/x-www-form-urlencoded", terkinDataForm("1970-01-01T00:00:07Z", "85.00", "42.42", "84.84", "33.33", "3.84")},
	} {
		t.Run(f.ctype, func(t *testing.T) {
			s := openHTTP(t, nil)
			start := time.Now()
			path := "/api-notls/hiveeyes/testdrive/area-42/rtc-node/data"
			if status, body := sim800POST(t, s.web, path, f.ctype, f.body); status != 200 {
				t.Fatalf("answer %d %s", status, body)
			}
			check(t, s.web, "hiveeyes/testdrive/area-42/rtc-node", path, "clock", "1970-01-01T00:00:07Z", start)
		})
	}
}

// TestSensorFailure: a node-wifi-mqtt built with ArduinoJson 6 (which
// writes a failed DHT's NaN as null) with an unplugged DS18B20 (-127), and
// an Open Hive whose brood DS18B20 fell off. By default the null is left
// out of that reading and -127 is stored as sent; with a [[mask]] for the
// field, -127 is left out too and the rest stays.
func TestSensorFailure(t *testing.T) {
	masks := []ingest.Mask{{Field: "broodtemperature", Values: []float64{-127, 85}}, {Field: "temp-arr-*", Values: []float64{-127, 85}}}
	for _, masked := range []bool{false, true} {
		edit := func(c *appliance.Config) {
			if masked {
				c.Masks = append(c.Masks, masks...)
			}
		}
		brood := any(-127.0)
		if masked {
			brood = nil
		}
		name := map[bool]string{false: "default", true: "masked"}[masked]
		for _, tr := range mqttTransports {
			t.Run(name+"/"+tr.name, func(t *testing.T) {
				s := tr.open(t, edit)
				dev := nodeWifiMQTT(t, s.broker)
				publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading("42.17", "24.2", "61.5", "34.8125", 87, 38712))
				publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading("42.18", "null", "null", "-127", 87, 38700))
				rows := exportedSettled(t, s.web, "hiveeyes/testdrive/area-42/node-1", 2)
				checkRows(t, rows, []map[string]any{
					{"weight": 42.17, "airtemperature": 24.2, "broodtemperature": 34.8125},
					{"weight": 42.18, "airtemperature": nil, "airhumidity": nil, "broodtemperature": brood, "memory_free": 38700.0},
				})
				noErrors(t, s.web, "hiveeyes/testdrive/area-42/node-1")
			})
		}
		t.Run(name+"/http", func(t *testing.T) {
			s := openHTTP(t, edit)
			o := openHiveESP32{temperatureArray: true}
			if status, body := o.post(t, s.web, o.dataset(42.1, 21.5, 61.5, 1013.2, []float64{34.8, 35.1, -127, 35.3, 34.9}, 4.12)); status != 200 {
				t.Fatalf("answer %d %s", status, body)
			}
			rows := exportedSettled(t, s.web, "hiveeyes/testdrive/beekeeper-name/hive-number", 1)
			checkRow(t, rows[0], map[string]any{"weight": 42.1, "temp-arr-2": 35.1, "temp-arr-3": brood, "temp-arr-4": 35.3})
		})
	}
}

// TestGarbage: what a device sends that is not a reading. A node-wifi-mqtt
// whose StaticJsonBuffer overflowed sends truncated JSON; a GPRS modem
// puts line noise on the wire; a TerkinData node posts a cut-off body.
// The error log names the topic or path exactly as sent, shows the
// payload, the /errors page shows it, the device's next good reading is
// stored, and Apiary publishes nothing in answer (Kotori's error replies
// once looped on its own bus).
func TestGarbage(t *testing.T) {
	for _, tr := range mqttTransports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.open(t, nil)
			watchBus(t, s.broker)
			dev := nodeWifiMQTT(t, s.broker)
			truncated := nodeWifiMQTTReading("42.17", "24.20", "61.50", "34.8125", 87, 38712)[:40]
			publish(t, dev, nodeWifiMQTTTopic, 0, false, truncated)
			e := waitError(t, s.web, "json", nodeWifiMQTTTopic)
			if e.Channel != "hiveeyes/testdrive/area-42/node-1" || e.Excerpt != truncated {
				t.Errorf("entry %+v", e)
			}
			noise := "hiveeyes/testdrive/area-42/node-2/data.json"
			publish(t, dev, noise, 0, false, "\x00\xff+CME ERROR: 3\r\n\x1a{\"weight\"")
			waitError(t, s.web, "json", noise)
			errorsPageShows(t, s.web, nodeWifiMQTTTopic, noise, e.Message)
			publish(t, dev, nodeWifiMQTTTopic, 0, false, nodeWifiMQTTReading("42.18", "24.20", "61.50", "34.8125", 87, 38711))
			checkRow(t, exportedSettled(t, s.web, "hiveeyes/testdrive/area-42/node-1", 1)[0], map[string]any{"weight": 42.18})
		})
	}
	t.Run("http", func(t *testing.T) {
		s := openHTTP(t, nil)
		path := "/api-notls/hiveeyes/testdrive/area-42/gprs-node/data"
		body := terkinDataJSON("2026-05-01T10:00:00Z", "85.00", "42.42", "84.84", "33.33", "3.84")[:30]
		if status, answer := sim800POST(t, s.web, path, "application/json", body); status != 400 {
			t.Errorf("answer %d %s, want 400", status, answer)
		}
		e := waitError(t, s.web, "json", path)
		if e.Excerpt != body {
			t.Errorf("entry %+v", e)
		}
		errorsPageShows(t, s.web, path, e.Message)
		if got := errorLog(t, s.web, url.Values{"channel": {"hiveeyes/testdrive/area-42/gprs-node"}}); len(got) != 1 {
			t.Errorf("error log %+v", got)
		}
	})
}
