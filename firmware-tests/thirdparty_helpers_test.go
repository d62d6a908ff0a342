package firmwaretests

// Helpers of the third-party device emulations (Tasmota, ESPHome, Homie,
// WeeWX, Sensor.Community, TTN, BEEP, Ecowitt, Telegraf, curl): MQTT
// devices whose connection can drop the way a device's does, a spy on the
// bus, HTTP requests with exactly a device's headers, and waiting for what
// the beekeeper sees (export, dashboard, error log). Names start with "tp"
// to stay clear of harness_test.go; of the harness they use only run,
// device, exported, post and mqttTransports.

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/internal/mosquitto"
)

// tpFixture reads a payload copied from ../shared (see
// testdata/thirdparty/README.md).
func tpFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "thirdparty", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tpMsg is one PUBLISH as seen on the bus.
type tpMsg struct{ topic, payload string }

// tpBus is one test's bus: what its devices sent (publishes, and the wills
// of devices that dropped), and what a spy subscribed to "#" saw on it.
type tpBus struct {
	mu   sync.Mutex
	sent map[tpMsg]bool
	seen map[tpMsg]bool
}

func (b *tpBus) device(m tpMsg) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent[m] = true
}

// tpWatch subscribes a spy to "#" at the broker the devices use. At the
// end of the test it checks that the spy saw every device message (so
// that the check can fail) and that nothing else was on the bus: Apiary
// never publishes (Kotori published its errors back onto the bus it
// consumed, and republished HTTP bodies to MQTT).
func tpWatch(t *testing.T, broker string) *tpBus {
	t.Helper()
	b := &tpBus{sent: map[tpMsg]bool{}, seen: map[tpMsg]bool{}}
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker).
		SetClientID(fmt.Sprintf("tp-spy-%d", time.Now().UnixNano())).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("spy connect: %v", tok.Error())
	}
	tok := c.Subscribe("#", 2, func(_ paho.Client, m paho.Message) {
		b.mu.Lock()
		b.seen[tpMsg{m.Topic(), string(m.Payload())}] = true
		b.mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("spy subscribe: %v", tok.Error())
	}
	t.Cleanup(func() {
		defer c.Disconnect(50)
		if t.Skipped() {
			return
		}
		missing := func() []tpMsg {
			b.mu.Lock()
			defer b.mu.Unlock()
			var out []tpMsg
			for m := range b.sent {
				if !b.seen[m] {
					out = append(out, m)
				}
			}
			return out
		}
		for deadline := time.Now().Add(5 * time.Second); len(missing()) > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // anything Apiary might say afterwards
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.seen) == 0 {
			t.Errorf("the bus spy saw nothing")
		}
		for m := range b.sent {
			if !b.seen[m] {
				t.Errorf("the bus spy missed the device message %s %.80q: it does not work", m.topic, m.payload)
			}
		}
		for m := range b.seen {
			if !b.sent[m] {
				t.Errorf("a message no device sent appeared on the bus (Apiary must never publish): %s %.200q", m.topic, m.payload)
			}
		}
	})
	return b
}

// tpDevice is an emulated MQTT device: a paho client with the device's
// options, whose TCP connection the test can cut (power loss, WiFi gone),
// which makes the broker publish the device's will.
type tpDevice struct {
	t    *testing.T
	c    paho.Client
	bus  *tpBus
	will *tpMsg

	mu   sync.Mutex
	conn net.Conn
}

// tpConnect connects a device (MQTT 3.1.1, as PubSubClient,
// AsyncMqttClient, esp-mqtt and paho-python speak it); opts carry its
// client id, session, keepalive and will.
func tpConnect(t *testing.T, bus *tpBus, broker string, opts *paho.ClientOptions) *tpDevice {
	t.Helper()
	d := &tpDevice{t: t, bus: bus}
	opts.SetProtocolVersion(4)
	opts.SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		d.mu.Lock()
		d.conn = c
		d.mu.Unlock()
		return c, err
	})
	if opts.WillEnabled {
		d.will = &tpMsg{opts.WillTopic, string(opts.WillPayload)}
	}
	d.c = device(t, broker, opts)
	return d
}

// publish sends the way the firmware does and waits for what QoS 1 and 2
// acknowledge (QoS 0: until it is written).
func (d *tpDevice) publish(topic string, qos byte, retain bool, payload string) {
	d.t.Helper()
	if d.bus != nil {
		d.bus.device(tpMsg{topic, payload})
	}
	tok := d.c.Publish(topic, qos, retain, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		d.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// drop cuts the TCP connection without DISCONNECT: the broker publishes
// the device's will.
func (d *tpDevice) drop() {
	if d.will != nil && d.bus != nil {
		d.bus.device(*d.will)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.Close()
	}
}

// tpRowsUntil polls the channel's JSON export until ok accepts its rows,
// and fails the test with the last rows when it never does.
func tpRowsUntil(t *testing.T, web, channel string, what string, ok func([]map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, status, body := exportRows(t, web, channel)
		if ok(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("export of %s never showed %s (status %d): %.1500s", channel, what, status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tpRow returns the first row whose field equals v, or nil.
func tpRow(rows []map[string]any, field string, v any) map[string]any {
	for _, r := range rows {
		if r[field] == v {
			return r
		}
	}
	return nil
}

// tpHasRow is tpRow as a condition for tpRowsUntil.
func tpHasRow(field string, v any) func([]map[string]any) bool {
	return func(rows []map[string]any) bool { return tpRow(rows, field, v) != nil }
}

// tpHasValues is a condition for tpRowsUntil: the field has a value in at
// least n rows. Apiary stores the messages of an external broker
// concurrently, so the last value sent may be stored before earlier ones:
// a test waits for everything it checks.
func tpHasValues(field string, n int) func([]map[string]any) bool {
	return func(rows []map[string]any) bool {
		got := 0
		for _, r := range rows {
			if r[field] != nil {
				got++
			}
		}
		return got >= n
	}
}

// tpAll is a condition for tpRowsUntil that holds when all of conds hold.
func tpAll(conds ...func([]map[string]any) bool) func([]map[string]any) bool {
	return func(rows []map[string]any) bool {
		for _, c := range conds {
			if !c(rows) {
				return false
			}
		}
		return true
	}
}

// tpCheckRow compares fields of a row: a nil in want means no value.
func tpCheckRow(t *testing.T, what string, row map[string]any, want map[string]any) {
	t.Helper()
	if row == nil {
		t.Errorf("%s: no such row", what)
		return
	}
	for k, w := range want {
		if got := row[k]; got != w {
			t.Errorf("%s: %s = %v (%T), want %v (%T)", what, k, got, got, w, w)
		}
	}
}

func tpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// tpDashboardShows waits until the node's dashboard HTML contains s (the
// catalogue behind it follows a write by a moment).
func tpDashboardShows(t *testing.T, web, channel, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, page := tpGet(t, web+"/d/"+channel+"?range=all")
		if strings.Contains(page, s) {
			return
		}
		if time.Now().After(deadline) {
			_, values, _ := strings.Cut(page, `<div class="charts">`)
			t.Fatalf("the dashboard of %s does not show %s: %.2000s", channel, s, values)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tpWillStored waits until the will of a dropped device is stored as the
// text value field = v.
func tpWillStored(t *testing.T, tr transport, web, channel, field, v string) {
	t.Helper()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		rows, _, _ := exportRows(t, web, channel)
		if tpRow(rows, field, v) != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the will %s = %q of %s was never stored: %v", field, v, channel, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tpClient is the client an error-log entry names: the device's client id
// at the embedded broker, Apiary's own subscription at Mosquitto.
func tpClient(tr transport, deviceID string) string {
	if tr.name == "mosquitto" {
		return "external:apiary-firmware-tests"
	}
	return deviceID
}

// tpLoggedError waits for the error-log entry of kind about source (the
// topic or path exactly as the device sent it), checks that the /errors
// page shows it, and returns it.
func tpLoggedError(t *testing.T, web, source, kind string) errorEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es := errorLog(t, web, nil)
		for _, e := range es {
			if e.Source == source && e.Kind == kind {
				_, page := tpGet(t, web+"/errors")
				for _, s := range []string{source, e.Message} {
					if !strings.Contains(page, html.EscapeString(s)) {
						t.Errorf("the /errors page does not show %q", s)
					}
				}
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q error-log entry for %q; the log has %+v", kind, source, es)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tpOnlyErrors fails on error-log entries whose source is not one of
// sources: a device on its factory settings must not fill the log.
func tpOnlyErrors(t *testing.T, web string, sources ...string) {
	t.Helper()
	for _, e := range errorLog(t, web, nil) {
		ok := false
		for _, s := range sources {
			ok = ok || e.Source == s
		}
		if !ok {
			t.Errorf("unexpected error-log entry: %s %s: %s (excerpt %.80q)", e.Kind, e.Source, e.Message, e.Excerpt)
		}
	}
}

// tpRequest sends an HTTP request with exactly the given headers (without
// a User-Agent in header it sends none, as an Arduino or MicroPython client
// does) and returns the status, body and headers of the answer.
func tpRequest(t *testing.T, method, u string, header http.Header, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// tpHTTP runs an appliance for HTTP devices, with a spy on its embedded
// broker: HTTP ingest must not be republished to MQTT (Kotori did).
func tpHTTP(t *testing.T) (web string, bus *tpBus) {
	t.Helper()
	app := run(t, func(*appliance.Config) {})
	bus = tpWatch(t, app.MQTTAddr().String())
	// An MQTT device on the same broker, so that the spy is proved live.
	d := tpConnect(t, bus, app.MQTTAddr().String(), paho.NewClientOptions().SetClientID("tp-http-neighbour"))
	d.publish("hiveeyes/testdrive/area-42/neighbour/data.json", 1, false, `{"weight":1}`)
	return "http://" + app.HTTPAddr().String(), bus
}

// tpAppliance is an appliance the test can stop and start again on the
// same data directory (and the same external-broker session).
type tpAppliance struct {
	cfg  appliance.Config
	app  *appliance.Appliance
	stop func()
}

func tpStart(t *testing.T, cfg appliance.Config) *tpAppliance {
	t.Helper()
	a := &tpAppliance{cfg: cfg}
	a.start(t)
	return a
}

func (a *tpAppliance) start(t *testing.T) {
	t.Helper()
	app, err := appliance.Open(a.cfg, appliance.Build{Version: "firmware-tests"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	var once sync.Once
	a.app = app
	a.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("appliance stopped with: %v", err)
			}
		})
	}
	t.Cleanup(a.stop)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(a.web() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && (a.cfg.MQTT.Broker == "" || app.ExternalConnected()) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("appliance not ready after 10s")
		}
	}
}

func (a *tpAppliance) web() string { return "http://" + a.app.HTTPAddr().String() }

// tpMosquitto starts a real Mosquitto for the test (skips loudly without
// one, fails with APIARY_REQUIRE_MOSQUITTO=1).
func tpMosquitto(t *testing.T) *mosquitto.Broker { return mosquitto.Start(t) }

// tpConfig is the harness's configuration: a temp data dir, free ports,
// the Europe/Berlin zone for device times without one.
func tpConfig(t *testing.T) appliance.Config {
	cfg := appliance.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.TimeZone = "Europe/Berlin"
	return cfg
}

// tpLocal formats t the way a device without a zone writes its clock (in
// the zone the harness configures).
func tpLocal(t time.Time) string {
	return t.In(tpBerlin).Format("2006-01-02T15:04:05")
}

// tpExportTime is how the JSON export writes a time.
func tpExportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

var tpBerlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()
