package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/internal/mosquitto"
	"github.com/apiary-hive/apiary/store"
)

func pahoClient(t *testing.T, addr, id string, clean bool) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).
		SetCleanSession(clean).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s to %s: %v", id, addr, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// runExternal runs an appliance that only subscribes to the external
// broker (embedded broker off) until stop is called.
func runExternal(t *testing.T, dir, brokerURL string) (app *Appliance, stop func()) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = ""
	cfg.MQTT.Broker = brokerURL
	cfg.MQTT.ClientID = "apiary-test"
	app, err := Open(cfg, Build{Version: "test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	deadline := time.Now().Add(15 * time.Second)
	for !app.sub.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("appliance did not subscribe at the external broker")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return app, stop
}

// waitPoints waits until the channel's field holds n points.
func waitPoints(t *testing.T, st *store.Store, ch store.Channel, field string, n int) []store.Point {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		pts, err := st.Points(context.Background(), ch, field, time.Unix(0, 0), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) >= n || time.Now().After(deadline) {
			if len(pts) != n {
				t.Fatalf("%s %s: %d points, want %d", ch, field, len(pts), n)
			}
			return pts
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExternalBroker subscribes to a real Mosquitto: readings published
// while Apiary is down arrive after it restarts (persistent session, QoS 1,
// stable client id), and Apiary publishes nothing on the broker.
func TestExternalBroker(t *testing.T) {
	mq := mosquitto.Start(t)
	var mu sync.Mutex
	var onBus []string
	spy := pahoClient(t, mq.Addr, "spy", true)
	spy.Subscribe("#", 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		onBus = append(onBus, m.Topic())
		mu.Unlock()
	}).Wait()

	dir := t.TempDir()
	app, stop := runExternal(t, dir, mq.URL)
	dev := pahoClient(t, mq.Addr, "node-wifi-mqtt", true)
	ch := store.Channel{Realm: "hiveeyes", Network: "testdrive", Gateway: "area-42", Node: "node-1"}
	topic := "hiveeyes/testdrive/area-42/node-1/data.json"
	publish(t, dev, topic, 1, `{"weight": 42.0, "time": 1780000000}`)
	waitPoints(t, app.Store(), ch, "weight", 1)
	publish(t, dev, "hiveeyes/short/data.json", 1, `{"weight": 1}`) // a bad message: logged, not echoed
	stop()

	// Apiary is down: the broker keeps these for its persistent session.
	for i := 1; i <= 20; i++ {
		publish(t, dev, topic, 1, fmt.Sprintf(`{"weight": %d, "time": %d}`, 42+i, 1780000000+i*60))
	}
	app, _ = runExternal(t, dir, mq.URL)
	pts := waitPoints(t, app.Store(), ch, "weight", 21)
	if pts[20].Value != 62 {
		t.Errorf("last point %v", pts[20])
	}
	if es := app.Store().Errors(store.ErrorFilter{Kind: "address"}); len(es) != 1 || es[0].Source != "hiveeyes/short/data.json" {
		t.Errorf("error log = %+v", es)
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for _, tp := range onBus {
		if tp != topic && tp != "hiveeyes/short/data.json" {
			t.Errorf("a message on %q appeared on the bus: only devices publish", tp)
		}
	}
	if len(onBus) != 22 {
		t.Errorf("%d messages on the bus, the device sent 22", len(onBus))
	}
}

// TestRetainedReplayIsNotANewReading: ESPHome keeps its states retained;
// the broker replays them to every new subscription. A replay of the value
// already stored adds no point.
func TestRetainedReplayIsNotANewReading(t *testing.T) {
	mq := mosquitto.Start(t)
	dev := pahoClient(t, mq.Addr, "beehive-scale", true)
	tok := dev.Publish("beehive-scale/sensor/hive_weight/state", 1, true, "42.37")
	tok.Wait()

	dir := t.TempDir()
	app, stop := runExternal(t, dir, mq.URL)
	ch := store.Channel{Realm: "esphome", Network: "default", Gateway: "default", Node: "beehive-scale"}
	waitPoints(t, app.Store(), ch, "hive_weight", 1)
	stop()

	// A fresh session (as after a broker restart without persistence)
	// subscribes anew and gets the retained message again.
	cleanup := pahoClient(t, mq.Addr, "apiary-test", true) // drops the old session
	cleanup.Disconnect(50)
	app, _ = runExternal(t, dir, mq.URL)
	time.Sleep(500 * time.Millisecond)
	if pts := waitPoints(t, app.Store(), ch, "hive_weight", 1); pts[0].Value != 42.37 {
		t.Errorf("points = %v", pts)
	}
	if log := mq.Log(); !strings.Contains(log, "apiary-test") {
		t.Errorf("mosquitto never saw the appliance:\n%s", log)
	}
}

// TestExternalBrokerWithPassword: a broker that refuses anonymous clients
// takes the user and password from the broker URL.
func TestExternalBrokerWithPassword(t *testing.T) {
	mq := mosquitto.StartWithUser(t, "apiary", "s3cret hive")
	app, _ := runExternal(t, t.TempDir(), "mqtt://apiary:s3cret%20hive@"+mq.Addr)
	dev := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + mq.Addr).SetClientID("dev").
		SetUsername("apiary").SetPassword("s3cret hive"))
	if tok := dev.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer dev.Disconnect(50)
	publish(t, dev, "hiveeyes/pw/site/node/data.json", 1, `{"weight": 7}`)
	waitPoints(t, app.Store(), store.Channel{Realm: "hiveeyes", Network: "pw", Gateway: "site", Node: "node"}, "weight", 1)
}
