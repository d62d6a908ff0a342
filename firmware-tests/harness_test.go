package firmwaretests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/internal/mosquitto"
)

// transport is a way a device reaches the appliance.
type transport struct {
	name string
	// start returns the appliance's web base URL and the MQTT broker
	// address devices publish to ("" for HTTP-only).
	start func(t *testing.T) (web, broker string)
	// open is start with a configuration edit, returning the whole site
	// (for restarts and for configuration such as [[mask]]).
	open func(t *testing.T, edit func(*appliance.Config)) *site
}

// mqttTransports are the embedded broker and a real Mosquitto with Apiary
// in external-broker mode.
var mqttTransports = []transport{
	{name: "embedded", start: startWith(openEmbedded), open: openEmbedded},
	{name: "mosquitto", start: startWith(openMosquitto), open: openMosquitto},
}

func startWith(open func(*testing.T, func(*appliance.Config)) *site) func(*testing.T) (string, string) {
	return func(t *testing.T) (string, string) {
		s := open(t, nil)
		return s.web, s.broker
	}
}

// site is one running appliance and the broker its devices publish to.
type site struct {
	web    string // http://host:port of the appliance
	broker string // host:port devices publish to; "" for HTTP only
	app    *appliance.Appliance
	mq     *mosquitto.Broker // nil with the embedded broker
	cfg    appliance.Config  // as opened, with the ports actually bound
	stop   func()            // stops the appliance (idempotent)
}

// openEmbedded runs an appliance whose embedded broker devices publish to.
func openEmbedded(t *testing.T, edit func(*appliance.Config)) *site {
	t.Helper()
	cfg := testConfig(t, edit)
	s := &site{cfg: cfg}
	s.launch(t)
	return s
}

// openMosquitto starts a real Mosquitto and an appliance that subscribes
// to it (embedded broker off); devices publish to Mosquitto.
func openMosquitto(t *testing.T, edit func(*appliance.Config)) *site {
	t.Helper()
	return mosquittoSite(t, mosquitto.Start(t), edit)
}

// mosquittoSite runs an appliance subscribed to a running Mosquitto (for
// devices that published before the appliance started).
func mosquittoSite(t *testing.T, mq *mosquitto.Broker, edit func(*appliance.Config)) *site {
	t.Helper()
	cfg := testConfig(t, func(c *appliance.Config) {
		c.MQTT.Listen = ""
		c.MQTT.Broker = mq.URL
		c.MQTT.ClientID = "apiary-firmware-tests"
		if edit != nil {
			edit(c)
		}
	})
	s := &site{cfg: cfg, mq: mq, broker: mq.Addr}
	s.launch(t)
	return s
}

// openHTTP runs an appliance for devices that speak HTTP.
func openHTTP(t *testing.T, edit func(*appliance.Config)) *site {
	t.Helper()
	s := openEmbedded(t, edit)
	s.broker = ""
	return s
}

func testConfig(t *testing.T, edit func(*appliance.Config)) appliance.Config {
	cfg := appliance.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.TimeZone = "Europe/Berlin"
	if edit != nil {
		edit(&cfg)
	}
	return cfg
}

// launch opens and runs the site's appliance on s.cfg and waits until it
// is ready for devices: healthy, and subscribed at Mosquitto.
func (s *site) launch(t *testing.T) {
	t.Helper()
	var app *appliance.Appliance
	var stop func()
	var err error
	// After a restart the old ports are free again almost at once; allow
	// the kernel a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		app, stop, err = launch(t, s.cfg)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	s.app, s.stop = app, stop
	s.web = "http://" + app.HTTPAddr().String()
	s.cfg.HTTP.Listen = app.HTTPAddr().String()
	if a := app.MQTTAddr(); a != nil {
		s.cfg.MQTT.Listen = a.String()
		s.broker = a.String()
	}
	ready := func() bool {
		resp, err := http.Get(s.web + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200 && (s.mq == nil || app.ExternalConnected())
	}
	for deadline := time.Now().Add(10 * time.Second); !ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("appliance not ready after 10s")
		}
	}
}

// restart stops the appliance and starts a new one on the same data
// directory and ports (and Mosquitto session), as after an upgrade or a
// power cut.
func (s *site) restart(t *testing.T) {
	t.Helper()
	s.stop()
	s.launch(t)
}

func run(t *testing.T, edit func(*appliance.Config)) *appliance.Appliance {
	t.Helper()
	app, _, err := launch(t, testConfig(t, edit))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// launch opens and runs an appliance; stop (also run at the end of the
// test) stops it gracefully and waits until it has.
func launch(t *testing.T, cfg appliance.Config) (*appliance.Appliance, func(), error) {
	t.Helper()
	app, err := appliance.Open(cfg, appliance.Build{Version: "firmware-tests"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("appliance stopped with: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return app, stop, nil
}

// device is a paho client set up the way a firmware sets up its MQTT. It
// connects once, without reconnecting by itself, and records what it
// publishes (for watchBus).
func device(t *testing.T, broker string, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	return dialDevice(t, broker, opts.SetAutoReconnect(false))
}

// reconnectingDevice is device for firmware that reconnects by itself
// when the broker goes away; opts says how (SetAutoReconnect,
// SetMaxReconnectInterval: a firmware's seconds become milliseconds here).
func reconnectingDevice(t *testing.T, broker string, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	return dialDevice(t, broker, opts.SetAutoReconnect(true))
}

func dialDevice(t *testing.T, broker string, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	opts.AddBroker("tcp://" + broker).SetConnectTimeout(5 * time.Second)
	if opts.WillEnabled {
		recordWill(broker, opts.WillTopic, opts.WillPayload)
	}
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("device connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return recordingClient{Client: c, broker: broker}
}

// recordingClient is a device's paho client that notes what it publishes.
type recordingClient struct {
	paho.Client
	broker string
}

func (c recordingClient) Publish(topic string, qos byte, retained bool, payload any) paho.Token {
	switch p := payload.(type) {
	case string:
		recordPublish(c.broker, topic, []byte(p))
	case []byte:
		recordPublish(c.broker, topic, p)
	}
	return c.Client.Publish(topic, qos, retained, payload)
}

// publish sends one message the way a firmware waits for it: QoS 0 is
// written to the connection, QoS 1 is acknowledged.
func publish(t *testing.T, c paho.Client, topic string, qos byte, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, qos, retained, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish to %s: %v", topic, tok.Error())
	}
}

// busMessage is a message as seen on a broker.
type busMessage struct {
	topic   string
	payload string
}

// sentMessage is a message a device sent, or (will) one the broker may
// publish for it when its connection breaks.
type sentMessage struct {
	busMessage
	will bool
}

// devicePublishes records, per broker address, every message the
// emulated devices published (for watchBus).
var devicePublishes = struct {
	sync.Mutex
	m map[string][]sentMessage
}{m: map[string][]sentMessage{}}

// recordPublish notes a message a device sent to broker (the paho devices
// of this package do it by themselves; raw clients call it).
func recordPublish(broker, topic string, payload []byte) {
	record(broker, sentMessage{busMessage{topic, string(payload)}, false})
}

// recordWill notes a device's will: the broker publishes it if the
// device's connection breaks.
func recordWill(broker, topic string, payload []byte) {
	record(broker, sentMessage{busMessage{topic, string(payload)}, true})
}

func record(broker string, m sentMessage) {
	if target, ok := linkTargets.Load(broker); ok {
		broker = target.(string)
	}
	devicePublishes.Lock()
	defer devicePublishes.Unlock()
	devicePublishes.m[broker] = append(devicePublishes.m[broker], m)
}

// devicesSent returns what the devices sent to broker: all, and those
// that the broker must pass on (not the wills).
func devicesSent(broker string) (all, published []busMessage) {
	devicePublishes.Lock()
	defer devicePublishes.Unlock()
	for _, m := range devicePublishes.m[broker] {
		all = append(all, m.busMessage)
		if !m.will {
			published = append(published, m.busMessage)
		}
	}
	return all, published
}

// busSpy is a client subscribed to "#" on the devices' broker.
type busSpy struct {
	mu   sync.Mutex
	seen []busMessage
}

// watchBus subscribes a spy to "#" on broker. At the end of the test it
// checks that every message on the bus was sent by a device (Apiary
// publishes nothing, ever: no error replies, no echoes) and that the spy
// saw every device message sent after it subscribed (so that it can fail).
func watchBus(t *testing.T, broker string) *busSpy {
	t.Helper()
	spy := &busSpy{}
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker).
		SetClientID(fmt.Sprintf("bus-spy-%d", spyCount.Add(1))).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("spy connect: %v", tok.Error())
	}
	_, before := devicesSent(broker)
	from := len(before)
	tok := c.Subscribe("#", 1, func(_ paho.Client, m paho.Message) {
		spy.mu.Lock()
		spy.seen = append(spy.seen, busMessage{m.Topic(), string(m.Payload())})
		spy.mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("spy subscribe: %v", tok.Error())
	}
	t.Cleanup(func() {
		defer c.Disconnect(50)
		all, sent := devicesSent(broker)
		missing := func() []busMessage {
			spy.mu.Lock()
			defer spy.mu.Unlock()
			return notIn(sent[from:], spy.seen)
		}
		for deadline := time.Now().Add(3 * time.Second); len(missing()) > 0 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // anything Apiary might say afterwards
		if m := missing(); len(m) > 0 {
			t.Errorf("bus spy missed %d device messages, e.g. %s %.80q: the spy does not work", len(m), m[0].topic, m[0].payload)
		}
		spy.mu.Lock()
		defer spy.mu.Unlock()
		if len(spy.seen) == 0 {
			t.Errorf("bus spy saw nothing")
		}
		for _, m := range notIn(spy.seen, all) {
			t.Errorf("a message no device sent appeared on the bus: %s %.200q", m.topic, m.payload)
		}
	})
	return spy
}

var spyCount atomic.Int64

// notIn returns the messages of a that are not in b.
func notIn(a, b []busMessage) []busMessage {
	have := map[busMessage]bool{}
	for _, m := range b {
		have[m] = true
	}
	var out []busMessage
	for _, m := range a {
		if !have[m] {
			out = append(out, m)
		}
	}
	return out
}

// exported waits until the channel's export has want rows and returns
// them as the beekeeper's JSON export gives them.
func exported(t *testing.T, web, channel string, rows int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, status, body := exportRows(t, web, channel)
		if len(got) >= rows || time.Now().After(deadline) {
			if len(got) != rows {
				t.Fatalf("export of %s has %d rows, want %d (status %d: %.300s)", channel, len(got), rows, status, body)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exportedSettled is exported, then checks that no further row arrives
// (a duplicate stored late), and returns the rows as they are then. The
// external-broker client stores messages concurrently, and the catalogue
// learns of a new field just after its first values become readable: an
// export taken while the last messages are being stored may lack a field
// for an instant.
func exportedSettled(t *testing.T, web, channel string, rows int) []map[string]any {
	t.Helper()
	exported(t, web, channel, rows)
	time.Sleep(300 * time.Millisecond)
	again, _, _ := exportRows(t, web, channel)
	if len(again) != rows {
		t.Fatalf("export of %s grew from %d to %d rows", channel, rows, len(again))
	}
	return again
}

func exportRows(t *testing.T, web, channel string) ([]map[string]any, int, []byte) {
	t.Helper()
	resp, err := http.Get(web + "/api/" + channel + "/data.json?from=2000-01-01&to=now%2B1h")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got []map[string]any
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("export: %v: %s", err, body)
		}
	}
	return got, resp.StatusCode, body
}

// rowTime is the time of an exported row.
func rowTime(t *testing.T, row map[string]any) time.Time {
	t.Helper()
	s, _ := row["time"].(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("row time %q: %v", row["time"], err)
	}
	return tm
}

// rowWhere returns the exported row whose field has value v.
func rowWhere(t *testing.T, rows []map[string]any, field string, v any) map[string]any {
	t.Helper()
	for _, r := range rows {
		if r[field] == v {
			return r
		}
	}
	t.Fatalf("no exported row with %s = %v", field, v)
	return nil
}

// checkRow compares the fields of an exported row with want: a nil value
// in want means the field must be absent (a null, NaN or masked value).
func checkRow(t *testing.T, row map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := row[k]
		switch {
		case w == nil && ok && got != nil:
			t.Errorf("%s = %v, want no value", k, got)
		case w != nil && got != w:
			t.Errorf("%s = %v (%T), want %v (%T)", k, got, got, w, w)
		}
	}
}

// arrivalTimes checks that every row carries a time of arrival between
// from and now (the device sent no time of its own).
func arrivalTimes(t *testing.T, rows []map[string]any, from time.Time) {
	t.Helper()
	to := time.Now().Add(time.Second)
	from = from.Add(-time.Millisecond).Truncate(time.Millisecond)
	for _, r := range rows {
		if tm := rowTime(t, r); tm.Before(from) || tm.After(to) {
			t.Errorf("row time %v is not the time of arrival (%v .. %v)", tm, from, to)
		}
	}
}

// dashboardFields returns the fields on a node's dashboard (all of its
// time), each with the chart (family) it is drawn in, or "text" for text
// values.
func dashboardFields(t *testing.T, web, channel string) map[string]string {
	t.Helper()
	resp, err := http.Get(web + "/d/" + channel + "?range=all")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("dashboard of %s: %d %.200s", channel, resp.StatusCode, body)
	}
	fields := map[string]string{}
	for _, fig := range strings.Split(string(body), `<figure class="chart-box" data-family="`)[1:] {
		family, rest, _ := strings.Cut(fig, `"`)
		// A field is named in the chart's list, and by its latest value
		// (the list is left out when the family's one field has its name).
		for _, m := range dataField.FindAllStringSubmatch(rest, -1) {
			fields[html.UnescapeString(m[1])] = html.UnescapeString(family)
		}
		for _, m := range latestField.FindAllStringSubmatch(rest, -1) {
			fields[html.UnescapeString(m[1])] = html.UnescapeString(family)
		}
	}
	if _, text, ok := strings.Cut(string(body), `<dl class="values">`); ok {
		for _, m := range textField.FindAllStringSubmatch(text, -1) {
			fields[html.UnescapeString(m[1])] = "text"
		}
	}
	return fields
}

var (
	dataField   = regexp.MustCompile(`data-field="([^"]*)"`)
	latestField = regexp.MustCompile(`<span title="([^"]*)">`)
	textField   = regexp.MustCompile(`<dt>([^<]*)</dt>`)
)

// checkDashboard checks that the node's dashboard shows each field in
// the chart of want (a family name, or "text"), and no field beyond want.
func checkDashboard(t *testing.T, web, channel string, want map[string]string) {
	t.Helper()
	got := dashboardFields(t, web, channel)
	for f, fam := range want {
		if got[f] != fam {
			t.Errorf("dashboard of %s: field %q in %q, want %q", channel, f, got[f], fam)
		}
	}
	for f, fam := range got {
		if _, ok := want[f]; !ok {
			t.Errorf("dashboard of %s shows unexpected field %q (%s)", channel, f, fam)
		}
	}
}

// errorEntry is an entry of the error log as GET /api/errors gives it.
type errorEntry struct {
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int64     `json:"count"`
	Kind    string    `json:"kind"`
	Channel string    `json:"channel"`
	Source  string    `json:"source"`
	Client  string    `json:"client"`
	Message string    `json:"message"`
	Excerpt string    `json:"excerpt"`
}

// errorLog returns the error log, optionally filtered (?channel=, ?kind=).
func errorLog(t *testing.T, web string, filter url.Values) []errorEntry {
	t.Helper()
	resp, err := http.Get(web + "/api/errors?" + filter.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var es []errorEntry
	if err := json.NewDecoder(resp.Body).Decode(&es); resp.StatusCode != 200 || err != nil {
		t.Fatalf("/api/errors: %d %v", resp.StatusCode, err)
	}
	return es
}

// waitError waits for an error-log entry of kind for source (a topic or
// path) and returns it.
func waitError(t *testing.T, web, kind, source string) errorEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es := errorLog(t, web, url.Values{"kind": {kind}})
		for _, e := range es {
			if e.Source == source {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q error-log entry for %s; the log has %+v", kind, source, errorLog(t, web, nil))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errorsPageShows checks that the /errors page a beekeeper opens shows
// each text (HTML-escaped as the page escapes it).
func errorsPageShows(t *testing.T, web string, texts ...string) {
	t.Helper()
	resp, err := http.Get(web + "/errors")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, s := range texts {
		if !strings.Contains(string(body), html.EscapeString(s)) {
			t.Errorf("the /errors page does not show %q", s)
		}
	}
}

// noErrors checks that the error log has no entry for channel.
func noErrors(t *testing.T, web, channel string) {
	t.Helper()
	for _, e := range errorLog(t, web, url.Values{"channel": {channel}}) {
		t.Errorf("unexpected error-log entry: %s %s %s (%q)", e.Kind, e.Source, e.Message, e.Excerpt)
	}
}

func post(t *testing.T, u, ctype, body string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// gprsLink is a TCP relay between a device and its broker that behaves
// like a GPRS link: it can lose the broker's next PUBACK and drop the
// connection with it, or be cut at any moment (a modem switched off).
type gprsLink struct {
	ln       net.Listener
	target   string
	losePub  atomic.Bool
	accepted atomic.Int64
	lost     chan struct{}
	mu       sync.Mutex
	conns    []net.Conn
}

func newGPRSLink(t *testing.T, target string) *gprsLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &gprsLink{ln: ln, target: target, lost: make(chan struct{}, 16)}
	linkTargets.Store(l.addr(), target)
	go l.serve()
	t.Cleanup(func() {
		ln.Close()
		l.cut()
	})
	return l
}

// linkTargets maps a gprsLink's address to the broker behind it, so that
// what a device sends through the link counts as sent to that broker.
var linkTargets sync.Map

func (l *gprsLink) addr() string { return l.ln.Addr().String() }

// losePuback makes the link swallow the broker's next PUBACK and drop
// the connection, as a modem does that loses its carrier right then.
func (l *gprsLink) losePuback() { l.losePub.Store(true) }

// cut drops every connection without a word (no MQTT DISCONNECT).
func (l *gprsLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func (l *gprsLink) serve() {
	for {
		dev, err := l.ln.Accept()
		if err != nil {
			return
		}
		brk, err := net.Dial("tcp", l.target)
		if err != nil {
			dev.Close()
			continue
		}
		l.accepted.Add(1)
		l.mu.Lock()
		l.conns = append(l.conns, dev, brk)
		l.mu.Unlock()
		go func() {
			io.Copy(brk, dev)
			brk.Close()
			dev.Close()
		}()
		go l.down(brk, dev)
	}
}

// down relays broker-to-device packet by packet, so that it can lose one.
func (l *gprsLink) down(brk, dev net.Conn) {
	defer dev.Close()
	defer brk.Close()
	r := bufio.NewReader(brk)
	for {
		first, err := r.ReadByte()
		if err != nil {
			return
		}
		pk := []byte{first}
		n, mult := 0, 1
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			pk = append(pk, b)
			n += int(b&127) * mult
			mult *= 128
			if b&128 == 0 {
				break
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if first>>4 == 4 && l.losePub.CompareAndSwap(true, false) { // PUBACK
			l.lost <- struct{}{}
			return
		}
		if _, err := dev.Write(append(pk, body...)); err != nil {
			return
		}
	}
}

// firmwareVector is one entry of testdata/hiveeyes/vectors.json: what a
// real device sends, byte for byte, and what it means.
type firmwareVector struct {
	ID          string            `json:"id"`
	Device      string            `json:"device"`
	Source      string            `json:"source"`
	Transport   string            `json:"transport"`
	TopicOrPath string            `json:"topic_or_path"`
	ContentType string            `json:"content_type"`
	Payload     string            `json:"payload"`
	Meaning     json.RawMessage   `json:"meaning"`
	Method      string            `json:"method"`
	Headers     map[string]string `json:"headers"`
	QoS         *byte             `json:"qos"`
	Retain      *bool             `json:"retain"`
}

// vector returns the corpus entry id.
func vector(t *testing.T, id string) firmwareVector {
	t.Helper()
	b, err := os.ReadFile("testdata/hiveeyes/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []firmwareVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("no vector %q in testdata/hiveeyes/vectors.json", id)
	return firmwareVector{}
}

// meaning is what the device meant by the vector's payload, as the export
// gives it: numbers as float64, null for "no value", the time removed.
func (v firmwareVector) meaning(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(v.Meaning, &m); err != nil {
		t.Fatalf("vector %s: meaning: %v", v.ID, err)
	}
	delete(m, "time")
	return m
}

// checkRows checks that rows are exactly the readings of want, in any
// order (a clock-less device's readings through a broker may be stamped
// in an order other than they were sent): each want matches one row,
// field for field (nil: the field is absent).
func checkRows(t *testing.T, rows []map[string]any, want []map[string]any) {
	t.Helper()
	if len(rows) != len(want) {
		t.Errorf("%d rows exported, want %d", len(rows), len(want))
	}
	matches := func(row, w map[string]any) bool {
		for k, v := range w {
			got, ok := row[k]
			if v == nil && ok && got != nil || v != nil && got != v {
				return false
			}
		}
		return true
	}
	// A want may match several rows ({"temperature_0": 44.7} matches every
	// row that has it): find an assignment of rows to wants (augmenting
	// paths), not the first greedy one.
	owner := make([]int, len(rows)) // want index + 1 that owns row i, 0: none
	var assign func(w int, seen []bool) bool
	assign = func(w int, seen []bool) bool {
		for i, r := range rows {
			if seen[i] || !matches(r, want[w]) {
				continue
			}
			seen[i] = true
			if owner[i] == 0 || assign(owner[i]-1, seen) {
				owner[i] = w + 1
				return true
			}
		}
		return false
	}
	for w := range want {
		if !assign(w, make([]bool, len(rows))) {
			t.Errorf("no exported row matches %v; rows: %v", want[w], rows)
		}
	}
}

// rawHTTP sends a request with exactly the request line, headers and body
// a device writes (an Arduino HTTP client, MicroPython's urequests, a
// SIM800 modem), and returns the status and body of the answer.
func rawHTTP(t *testing.T, web, request string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(web, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("answer to %.60q: %v", request, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
