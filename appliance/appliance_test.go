package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// startAppliance runs a real appliance on free ports in a temp dir and
// stops it when the test ends.
func startAppliance(t *testing.T, edit func(*Config)) *Appliance {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.TimeZone = "UTC"
	if edit != nil {
		edit(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	app, err := Open(cfg, Build{Version: "test"}, log)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitHealthy(t, app)
	return app
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func waitHealthy(t *testing.T, app *Appliance) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(baseURL(app) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("appliance did not become healthy")
}

func baseURL(app *Appliance) string { return "http://" + app.HTTPAddr().String() }

func mqttClient(t *testing.T, app *Appliance, id string) paho.Client {
	t.Helper()
	opts := paho.NewClientOptions().
		AddBroker("tcp://" + app.MQTTAddr().String()).
		SetClientID(id).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c paho.Client, topic string, qos byte, payload string) {
	t.Helper()
	tok := c.Publish(topic, qos, false, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEndToEnd publishes with a real paho client to the embedded broker and
// finds the reading in the export API, the channel list and the dashboard.
func TestEndToEnd(t *testing.T) {
	app := startAppliance(t, nil)
	dev := mqttClient(t, app, "node-wifi-mqtt")
	publish(t, dev, "hiveeyes/testdrive/area-42/node-1/data.json", 1,
		`{"weight":42.17,"airtemperature":24.2,"airhumidity":61.5,"broodtemperature":34.8125,"battery_level":87,"time":"2026-05-01T10:00:00Z"}`)

	// QoS 1: the PUBACK came after the write, so the data is there now.
	status, body := get(t, baseURL(app)+"/api/hiveeyes/testdrive/area-42/node-1/data.csv?from=2026-05-01&to=2026-05-01")
	want := "time,airhumidity,airtemperature,battery_level,broodtemperature,weight\n" +
		"2026-05-01T10:00:00.000000Z,61.5,24.2,87.0,34.8125,42.17\n"
	if status != 200 || body != want {
		t.Errorf("export csv = %d\n%s\nwant\n%s", status, body, want)
	}
	status, body = get(t, baseURL(app)+"/api/hiveeyes/testdrive/area-42/node-1/data.json?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&include=weight")
	if status != 200 || body != `[{"time":"2026-05-01T10:00:00.000Z","weight":42.17}]` {
		t.Errorf("export json = %d %s", status, body)
	}

	status, body = get(t, baseURL(app)+"/api/channels")
	var chans []struct {
		Realm, Network, Gateway, Node string
		Fields                        []string
		Last                          time.Time
	}
	if err := json.Unmarshal([]byte(body), &chans); err != nil || status != 200 {
		t.Fatalf("channels: %d %v %s", status, err, body)
	}
	if len(chans) != 1 || chans[0].Node != "node-1" || len(chans[0].Fields) != 5 || !chans[0].Last.Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("channels = %+v", chans)
	}

	status, body = get(t, baseURL(app)+"/d/hiveeyes/testdrive/area-42/node-1?range=1y")
	if status != 200 {
		t.Fatalf("dashboard status %d", status)
	}
	for _, f := range []string{"weight", "airtemperature", "airhumidity", "broodtemperature", "battery_level"} {
		if !strings.Contains(body, `data-field="`+f+`"`) {
			t.Errorf("dashboard has no chart for %s", f)
		}
	}
	if !strings.Contains(body, "42.17") {
		t.Error("dashboard does not show the latest weight 42.17")
	}
	status, body = get(t, baseURL(app)+"/")
	if status != 200 || !strings.Contains(body, "node-1") || !strings.Contains(body, "42.17") {
		t.Errorf("overview = %d, missing node-1 or its weight", status)
	}
	status, body = get(t, baseURL(app)+"/metrics")
	if status != 200 || !strings.Contains(body, "apiary_readings_stored_total 1\n") || !strings.Contains(body, "apiary_points_stored_total 5\n") || !regexp.MustCompile(`\napiary_store_log_syncs_total [1-9]`).MatchString(body) {
		t.Errorf("metrics = %d\n%s", status, body)
	}
}

// TestBadInputIsLoggedNeverPublished sends malformed payloads and a short
// topic. Each becomes one deduplicated error-log entry, and a subscriber on
// "#" sees exactly what the devices published: nothing from the appliance.
func TestBadInputIsLoggedNeverPublished(t *testing.T) {
	app := startAppliance(t, nil)
	var mu sync.Mutex
	var seen []string
	sub := mqttClient(t, app, "spy")
	tok := sub.Subscribe("#", 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		seen = append(seen, m.Topic()+" "+string(m.Payload()))
		mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}

	dev := mqttClient(t, app, "bad-device")
	sent := []struct{ topic, payload string }{
		{"hiveeyes/testdrive/area-42/node-1/data.json", `{"weight": 42.42`},
		{"hiveeyes/testdrive/area-42/node-1/data.json", `{"weight": 42.42`},
		{"hiveeyes/testdrive/area-42/node-1/data.json", `not json at all`},
		{"hiveeyes/testdrive/area-42/node-2/data.json", `[1, 2, 3]`},
		{"hiveeyes/testdrive/area-42/node-2/data.json", `{}`},
		{"hiveeyes/short/data.json", `{"weight": 1}`},
		{"hiveeyes/short/data.json", `{"weight": 2}`},
		{"hiveeyes/testdrive/area-42/node-3/error.json", `{"weight": 3}`},
		{"hiveeyes/testdrive/area-42/node-1/data.json", `{"weight": 42.5}`},
	}
	for _, m := range sent {
		publish(t, dev, m.topic, 1, m.payload)
	}

	// The last message is valid: once it is stored, every earlier one was handled.
	status, body := get(t, baseURL(app)+"/api/hiveeyes/testdrive/area-42/node-1/data.csv?scalar=weight")
	if status != 200 || body != "42.5" {
		t.Fatalf("valid reading after bad ones: %d %q", status, body)
	}
	var entries []struct {
		Count   int64  `json:"count"`
		Kind    string `json:"kind"`
		Channel string `json:"channel"`
		Source  string `json:"source"`
		Excerpt string `json:"excerpt"`
	}
	status, body = get(t, baseURL(app)+"/api/errors")
	if err := json.Unmarshal([]byte(body), &entries); err != nil || status != 200 {
		t.Fatalf("errors: %d %v", status, err)
	}
	type key struct{ kind, channel, source string }
	got := map[key]int64{}
	for _, e := range entries {
		got[key{e.Kind, e.Channel, e.Source}] = e.Count
	}
	wantEntries := map[key]int64{
		{"json", "hiveeyes/testdrive/area-42/node-1", "hiveeyes/testdrive/area-42/node-1/data.json"}:  3,
		{"json", "hiveeyes/testdrive/area-42/node-2", "hiveeyes/testdrive/area-42/node-2/data.json"}:  1,
		{"empty", "hiveeyes/testdrive/area-42/node-2", "hiveeyes/testdrive/area-42/node-2/data.json"}: 1,
		{"address", "", "hiveeyes/short/data.json"}:                                                   2,
	}
	if fmt.Sprint(got) != fmt.Sprint(wantEntries) {
		t.Errorf("error log =\n%v\nwant\n%v", got, wantEntries)
	}

	// Give the broker time to deliver anything it would, then compare.
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(sent) {
		t.Errorf("subscriber on # saw %d messages, devices sent %d:\n%s", len(seen), len(sent), strings.Join(seen, "\n"))
	}
	for i, s := range seen {
		if i < len(sent) && s != sent[i].topic+" "+sent[i].payload {
			t.Errorf("message %d on the bus = %q, want what the device sent: %q", i, s, sent[i].topic+" "+sent[i].payload)
		}
	}
}

func TestHealthzDuringStop(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = ""
	app, err := Open(cfg, Build{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	check := func(when string, want int) {
		t.Helper()
		rec := httptest.NewRecorder()
		app.healthz(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", when, rec.Code, want)
		}
	}
	check("before Run", http.StatusServiceUnavailable)
	app.state.Store(stateReady)
	check("ready", http.StatusOK)
	app.state.Store(stateStopping)
	check("stopping", http.StatusServiceUnavailable)
}

func TestAdminDelete(t *testing.T) {
	app := startAppliance(t, nil)
	dev := mqttClient(t, app, "dev")
	publish(t, dev, "hiveeyes/del/site/a/data.json", 1, `{"weight": 1, "temp": 2}`)
	publish(t, dev, "hiveeyes/del/site/b/data.json", 1, `{"weight": 3}`)
	del := func(path string) int {
		req, _ := http.NewRequest("DELETE", baseURL(app)+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del("/api/admin/channel/hiveeyes/del/site/a/field/temp"); code != 200 {
		t.Errorf("delete field: %d", code)
	}
	if code := del("/api/admin/channel/hiveeyes/del/site/b"); code != 200 {
		t.Errorf("delete channel: %d", code)
	}
	if code := del("/api/admin/channel/hiveeyes/del/site/nope"); code != 404 {
		t.Errorf("delete missing channel: %d", code)
	}
	_, body := get(t, baseURL(app)+"/api/channels")
	if strings.Contains(body, `"b"`) || strings.Contains(body, "temp") || !strings.Contains(body, "weight") {
		t.Errorf("channels after deletes: %s", body)
	}
}
