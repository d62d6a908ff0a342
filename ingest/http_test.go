package ingest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/ingest/address"
	"github.com/apiary-hive/apiary/store"
)

const testMaxBody = 4 << 10

// httpSite is an Ingester on a real store behind a real HTTP server that
// hands it the POSTs and the GETs it accepts, as the appliance does.
type httpSite struct {
	st  *store.Store
	in  *Ingester
	url string
}

func newHTTPSite(t *testing.T) *httpSite {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	routes, err := address.NewRouter([]address.Route{
		{Path: "/write", Channel: "influx/{db|=default}/{measurement}/{tag:node|tag:host|=default}", Slot: "lineproto"},
		{Path: "/honig/beescale/add_line2.php", Channel: "hiveeyes/mois/yun/beescale", Slot: "data"},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := New(st, Options{Resolver: address.Resolver{Routes: routes}})
	h := in.HTTPHandler(testMaxBody)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !in.AcceptsGET(r) {
			http.Error(w, "the web interface", http.StatusTeapot)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &httpSite{st: st, in: in, url: srv.URL}
}

func (s *httpSite) do(t *testing.T, method, path string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
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

func (s *httpSite) points(t *testing.T, ch, field string) []store.Point {
	t.Helper()
	parts := strings.Split(ch, "/")
	c := store.Channel{Realm: parts[0], Network: parts[1], Gateway: parts[2], Node: parts[3]}
	pts, err := s.st.Points(context.Background(), c, field, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

func (s *httpSite) errorKinds(t *testing.T) map[string]store.ErrorEntry {
	t.Helper()
	out := map[string]store.ErrorEntry{}
	for _, e := range s.st.Errors(store.ErrorFilter{}) {
		out[e.Kind+" "+e.Source] = e
	}
	return out
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func deflated(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestCompressedBodies: Telegraf gzips by default; deflate is read too; a
// body that grows past the limit when decompressed (a zip bomb) is 413, an
// unknown encoding 415, and both leave an error-log entry.
func TestCompressedBodies(t *testing.T) {
	s := newHTTPSite(t)
	line := []byte("hx711,host=hive-1 weight=42.17 1700000000000000000\n")
	bomb := gzipped(t, bytes.Repeat([]byte("a"), 64*testMaxBody))
	if len(bomb) > testMaxBody {
		t.Fatalf("the bomb is %d bytes compressed, not under the limit", len(bomb))
	}
	for _, c := range []struct {
		name     string
		encoding string
		body     []byte
		status   int
		kind     string
	}{
		{"gzip", "gzip", gzipped(t, line), 204, ""},
		{"deflate", "deflate", deflated(t, line), 204, ""},
		{"identity", "", line, 204, ""},
		{"bomb", "gzip", bomb, 413, "limit"},
		{"not gzip", "gzip", line, 415, "content-encoding"},
		{"brotli", "br", line, 415, "content-encoding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"text/plain"}}
			if c.encoding != "" {
				h.Set("Content-Encoding", c.encoding)
			}
			status, body := s.do(t, "POST", "/write?db=telegraf", h, c.body)
			if status != c.status {
				t.Fatalf("status %d %s, want %d", status, body, c.status)
			}
			if c.kind != "" {
				if _, ok := s.errorKinds(t)[c.kind+" /write"]; !ok {
					t.Errorf("no %q entry for /write: %v", c.kind, s.errorKinds(t))
				}
			}
		})
	}
	if pts := s.points(t, "influx/telegraf/hx711/hive-1", "weight"); len(pts) != 1 || pts[0].Value != 42.17 {
		t.Errorf("weight points %v, want the one reading (three times the same)", pts)
	}
}

// TestLineProtocolTags: tags the channel does not name keep series apart
// (Telegraf's cpu plugin writes one line per core, all at one time), and a
// line's time goes through the same plausibility check as a JSON time.
func TestLineProtocolTags(t *testing.T) {
	s := newHTTPSite(t)
	body := "cpu,cpu=cpu0,host=pi usage_idle=99.1 1716200000000000000\n" +
		"cpu,cpu=cpu1,host=pi usage_idle=80 1716200000000000000\n" +
		"cpu,host=pi,cpu=cpu-total usage_idle=89.5 1716200000000000000\n" +
		"disk,host=pi,path=/boot,device=mmcblk0p1 used_percent=12.5 1716200000000000000\n" +
		"hx711,host=pi weight=42.1 1716200000\n" + // seconds without precision=s: 1970
		"docker,host=pi,image=" + strings.Repeat("i", 200) + ",label=" + strings.Repeat("l", 100) + " usage=7 1716200000000000000\n"
	before := time.Now()
	if status, answer := s.do(t, "POST", "/write?db=telegraf", http.Header{"Content-Type": {"text/plain"}}, []byte(body)); status != 204 {
		t.Fatalf("status %d %s", status, answer)
	}
	for _, c := range []struct {
		channel, field string
		want           float64
	}{
		{"influx/telegraf/cpu/pi", "usage_idle.cpu=cpu0", 99.1},
		{"influx/telegraf/cpu/pi", "usage_idle.cpu=cpu1", 80},
		{"influx/telegraf/cpu/pi", "usage_idle.cpu=cpu-total", 89.5},
		{"influx/telegraf/disk/pi", "used_percent.device=mmcblk0p1.path=/boot", 12.5},
	} {
		pts := s.points(t, c.channel, c.field)
		if len(pts) != 1 || pts[0].Value != c.want || !pts[0].Time.Equal(time.Unix(0, 1716200000000000000)) {
			t.Errorf("%s %s: %v, want %v at the line's time", c.channel, c.field, pts, c.want)
		}
	}
	var docker []string
	for _, ci := range s.st.Channels() {
		if ci.Channel.String() == "influx/telegraf/docker/pi" {
			for _, f := range ci.Fields {
				docker = append(docker, f.Name)
			}
		}
	}
	if len(docker) != 1 || !strings.HasPrefix(docker[0], "usage.tags#") || len(docker[0]) != len("usage.tags#")+8 {
		t.Errorf("docker fields %v, want usage with the hash of its long tags", docker)
	}
	pts := s.points(t, "influx/telegraf/hx711/pi", "weight")
	if len(pts) != 1 || pts[0].Time.Before(before.Add(-time.Second)) {
		t.Errorf("weight with a 1970 time: %v, want it at the time of arrival", pts)
	}
	if _, ok := s.errorKinds(t)["clock /write"]; !ok {
		t.Errorf("no clock entry for the 1970 line: %v", s.errorKinds(t))
	}
}

// TestCSVHeaderAnswer: Kotori answers a CSV header with its field names,
// a time column called "time" whatever the file called it.
func TestCSVHeaderAnswer(t *testing.T) {
	s := newHTTPSite(t)
	for _, c := range []struct{ body, want string }{
		{"Date/Time,Weight,Outside Temp\n2016/08/14 22:02:06,58.7,19.6", `Received header fields ['time', 'Weight', 'Outside Temp']`},
		{"## timestamp, weight\n1583810982, 42.1", `Received header fields ['time', 'weight']`},
		{"Datum,Uhrzeit,Gewicht\n2020/03/10,03:29:42,42.1", `Received header fields ['Datum', 'Uhrzeit', 'Gewicht']`},
	} {
		status, body := s.do(t, "POST", "/api/hiveeyes/testdrive/openhive/hive-2/data", http.Header{"Content-Type": {"text/csv"}}, []byte(c.body))
		if status != 200 || !strings.Contains(body, c.want) {
			t.Errorf("%q: %d %s, want %s", c.body, status, body, c.want)
		}
	}
}

// TestRouteNamesAreBounded: a channel part that a route takes from the
// request (a header, a tag) is bounded like a Kotori address's segment: a
// 4xx with a plain message and a "limit" entry, nothing stored.
func TestRouteNamesAreBounded(t *testing.T) {
	s := newHTTPSite(t)
	long := strings.Repeat("n", 300)
	status, body := s.do(t, "POST", "/write?db=telegraf", http.Header{"Content-Type": {"text/plain"}}, []byte("hx711,node="+long+" weight=42.1\n"))
	if status != 400 || !strings.Contains(body, "longer than 256 bytes") {
		t.Errorf("a 300-byte node tag: %d %s, want 400 naming the limit", status, body)
	}
	if len(s.st.Channels()) != 0 {
		t.Errorf("stored: %v", s.st.Channels())
	}
	if _, ok := s.errorKinds(t)["lineproto /write"]; !ok {
		t.Errorf("no entry for /write: %v", s.errorKinds(t))
	}
}

// TestBatchWithoutTimes: the readings of one body without their own time
// are all stored, a microsecond apart in their order, not one over the
// other at the time of arrival; the next message's reading comes after
// them.
func TestBatchWithoutTimes(t *testing.T) {
	s := newHTTPSite(t)
	for _, c := range []struct{ ctype, body string }{
		{"application/json", `[{"w": 1}, {"w": 2}, {"w": 3}]`},
		{"text/csv", "## w\n1\n2\n3"},
	} {
		node := strings.ReplaceAll(c.ctype, "/", "-")
		status, body := s.do(t, "POST", "/api/hiveeyes/batch/test/"+node+"/data", http.Header{"Content-Type": {c.ctype}}, []byte(c.body))
		if status != 200 || !strings.Contains(body, "Received #3 readings") {
			t.Fatalf("%s: %d %s", c.ctype, status, body)
		}
		if status, body := s.do(t, "POST", "/api/hiveeyes/batch/test/"+node+"/data", http.Header{"Content-Type": {"application/json"}}, []byte(`{"w": 9}`)); status != 200 {
			t.Fatalf("next reading: %d %s", status, body)
		}
		pts := s.points(t, "hiveeyes/batch/test/"+node, "w")
		if len(pts) != 4 || pts[0].Value != 1 || pts[2].Value != 3 || pts[3].Value != 9 || pts[1].Time.Sub(pts[0].Time) != time.Microsecond {
			t.Errorf("%s: %v, want 1, 2, 3 a microsecond apart, then 9", c.ctype, pts)
		}
	}
}

// TestMQTTSlotsOverHTTP: the path below /api/ is an address like an MQTT
// topic, so a body posted to any slot is read as that topic's payload;
// newline-delimited JSON is also read on .../data by its Content-Type.
func TestMQTTSlotsOverHTTP(t *testing.T) {
	s := newHTTPSite(t)
	for _, c := range []struct {
		path, ctype, body string
		status            int
		field             string
		values            int
	}{
		{"hive-1/data.ndjson", "application/x-ndjson", "{\"w\": 1, \"time\": 1583810982}\n{\"w\": 2, \"time\": 1583810983}\n", 200, "w", 2},
		{"hive-2/data", "application/x-ndjson", "{\"w\": 1, \"time\": 1583810982}\n{\"w\": 2, \"time\": 1583810983}\n", 200, "w", 2},
		{"hive-3/data.lpp", "application/octet-stream", "AGcBvw==", 200, "temperature_0", 1},
		{"hive-4/data/weight", "text/plain", "42.5", 200, "weight", 1},
		{"hive-5/nonsense", "application/json", `{"w": 1}`, 404, "w", 0},
		{"hive-6/error.json", "application/json", `{"w": 1}`, 404, "w", 0}, // ignored on MQTT: stores nothing
	} {
		status, body := s.do(t, "POST", "/api/hiveeyes/slots/test/"+c.path, http.Header{"Content-Type": {c.ctype}}, []byte(c.body))
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, status, body, c.status)
		}
		node, _, _ := strings.Cut(c.path, "/")
		if pts := s.points(t, "hiveeyes/slots/test/"+node, c.field); len(pts) != c.values {
			t.Errorf("%s: %s = %v, want %d values", c.path, c.field, pts, c.values)
		}
	}
}

// TestOneEntryForOneProblem: a reading whose only field has a name over
// the limit is a 400 and one error-log entry naming the field, not a
// second one for the message left empty.
func TestOneEntryForOneProblem(t *testing.T) {
	s := newHTTPSite(t)
	long := strings.Repeat("f", 300)
	status, body := s.do(t, "POST", "/api/hiveeyes/limit/test/hive/data", http.Header{"Content-Type": {"application/json"}}, []byte(`{"`+long+`": 1}`))
	if status != 400 {
		t.Errorf("%d %s, want 400", status, body)
	}
	entries := s.st.Errors(store.ErrorFilter{})
	if len(entries) != 1 || entries[0].Kind != "field" || !strings.Contains(entries[0].Message, "longer than 256 bytes") {
		t.Errorf("entries %+v, want one naming the field", entries)
	}
}

// TestAcceptsGET: which GETs are readings. Everything else is the web
// interface's, the export API's first.
func TestAcceptsGET(t *testing.T) {
	s := newHTTPSite(t)
	for _, c := range []struct {
		target string
		want   bool
	}{
		{"/api/hiveeyes/mois/yun/beescale/data?weight1=42.1", true},
		{"/api-notls/hiveeyes/testdrive/a/b/data?dataset=timestamp-by-server,42", true},
		{"/api/hiveeyes/testdrive/a/b/data?weight=1&token=s3cret", true},
		{"/honig/beescale/add_line2.php?weight1=42.1", true},
		{"/api/hiveeyes/testdrive/a/b/data.json?from=now-1d", false},
		{"/api/hiveeyes/testdrive/a/b/data?from=now-1d&to=now&token=x", false},
		{"/api/hiveeyes/testdrive/a/b/data", false},
		{"/api/hiveeyes/testdrive/a/b/event?title=x", false},
		{"/honig/beescale/add_line2.php", false},
		{"/write?db=telegraf", false},
		{"/?weight=1", false},
	} {
		r := httptest.NewRequest("GET", c.target, nil)
		if got := s.in.AcceptsGET(r); got != c.want {
			t.Errorf("AcceptsGET(%s) = %v, want %v", c.target, got, c.want)
		}
		if r := httptest.NewRequest("POST", c.target, nil); s.in.AcceptsGET(r) {
			t.Errorf("AcceptsGET(POST %s) = true", c.target)
		}
	}
}

// TestGETReadings: beescale-yun's query string is a reading (the token is
// not a field); Open Hive's positional dataset needs the channel's CSV
// header first and is refused with Kotori's CSV message until then.
func TestGETReadings(t *testing.T) {
	s := newHTTPSite(t)
	if status, body := s.do(t, "GET", "/honig/beescale/add_line2.php?weight1=42.123&temp1=12.50&lux=1234&token=x", nil, nil); status != 200 {
		t.Fatalf("beescale-yun: %d %s", status, body)
	}
	if pts := s.points(t, "hiveeyes/mois/yun/beescale", "weight1"); len(pts) != 1 || pts[0].Value != 42.123 {
		t.Errorf("weight1 %v", pts)
	}
	if pts := s.points(t, "hiveeyes/mois/yun/beescale", "token"); len(pts) != 0 {
		t.Errorf("the token became a field: %v", pts)
	}

	path := "/api-notls/hiveeyes/testdrive/openhive/hive-1/data?dataset="
	if status, body := s.do(t, "GET", path+url.QueryEscape("timestamp-by-server,42.5,21.5"), nil, nil); status != 400 || !strings.Contains(body, "CSV header") {
		t.Errorf("dataset without a header: %d %s", status, body)
	}
	if status, body := s.do(t, "POST", "/api/hiveeyes/testdrive/openhive/hive-1/data", http.Header{"Content-Type": {"text/csv"}},
		[]byte("## Date/Time,weight,temperature\n")); status != 200 {
		t.Fatalf("header: %d %s", status, body)
	}
	before := time.Now()
	// dtostrf's padding spaces, sent as "+".
	if status, body := s.do(t, "GET", path+"timestamp-by-server,++42.500,+21.5", nil, nil); status != 200 {
		t.Fatalf("dataset: %d %s", status, body)
	}
	pts := s.points(t, "hiveeyes/testdrive/openhive/hive-1", "weight")
	if len(pts) != 1 || pts[0].Value != 42.5 || pts[0].Time.Before(before.Add(-time.Millisecond)) {
		t.Errorf("weight %v, want 42.5 at its time of arrival", pts)
	}
}

// TestJSONLabelledAsForm: curl -d '{"weight": 42.17}' without -H sends
// JSON as a form; it is read as JSON, and the answer says so.
func TestJSONLabelledAsForm(t *testing.T) {
	s := newHTTPSite(t)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	status, body := s.do(t, "POST", "/api/hiveeyes/testdrive/a/b/data", form, []byte(`{"weight": 42.17}`))
	if status != 200 || !strings.Contains(body, "read as JSON") {
		t.Fatalf("%d %s", status, body)
	}
	if pts := s.points(t, "hiveeyes/testdrive/a/b", "weight"); len(pts) != 1 || pts[0].Value != 42.17 {
		t.Errorf("weight %v", pts)
	}
	// A real form still is one.
	if status, body := s.do(t, "POST", "/api/hiveeyes/testdrive/a/b/data", form, []byte(`weight=42.19`)); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if pts := s.points(t, "hiveeyes/testdrive/a/b", "weight"); len(pts) != 2 {
		t.Errorf("weight %v", pts)
	}
}

// TestNoEndpointIsLogged: a POST where nothing listens is 404 and an
// error-log entry, whose excerpt keeps no secret of the form.
func TestNoEndpointIsLogged(t *testing.T) {
	s := newHTTPSite(t)
	status, _ := s.do(t, "POST", "/data/report/", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		[]byte("PASSKEY=B950C4D1&tempf=48.4&token=abc&humidity=80"))
	if status != 404 {
		t.Fatalf("status %d", status)
	}
	e, ok := s.errorKinds(t)["address /data/report/"]
	if !ok {
		t.Fatalf("no entry: %v", s.errorKinds(t))
	}
	if strings.Contains(e.Excerpt, "B950C4D1") || strings.Contains(e.Excerpt, "abc") || !strings.Contains(e.Excerpt, "tempf=48.4") {
		t.Errorf("excerpt %q", e.Excerpt)
	}
}

// TestInfluxQuery: Telegraf's CREATE DATABASE at start is answered as
// InfluxDB would; other InfluxQL is refused and logged.
func TestInfluxQuery(t *testing.T) {
	s := newHTTPSite(t)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if status, body := s.do(t, "POST", "/query", form, []byte(`q=CREATE+DATABASE+%22telegraf%22`)); status != 200 || !strings.Contains(body, `"results"`) {
		t.Errorf("create database: %d %s", status, body)
	}
	if len(s.errorKinds(t)) != 0 {
		t.Errorf("entries after CREATE DATABASE: %v", s.errorKinds(t))
	}
	if status, body := s.do(t, "POST", "/query?q=SELECT+*+FROM+cpu", form, nil); status != 400 || !strings.Contains(body, `"error"`) {
		t.Errorf("select: %d %s", status, body)
	}
	if _, ok := s.errorKinds(t)["lineproto /query"]; !ok {
		t.Errorf("no entry for the query: %v", s.errorKinds(t))
	}
}

// TestRedeliveryWindow: an identical QoS 1 message keeps its first time of
// arrival when it is flagged DUP (up to the memory's age), or relayed by an
// external broker (which drops the flag) within relayedWindow; otherwise
// it is a new reading.
// TestRedeliveredBatch: a QoS 1 batch without times sent again with DUP
// keeps its first arrival, so its readings land on the same times and
// overwrite their first copies: three points, not six.
func TestRedeliveredBatch(t *testing.T) {
	s := newHTTPSite(t)
	t0 := time.Now().Add(-time.Minute)
	for i, dup := range []bool{false, true} {
		m := Message{Transport: "mqtt", Source: "hiveeyes/dup/test/hive/data.json", Payload: []byte(`[{"w": 1}, {"w": 2}, {"w": 3}]`),
			QoS: 1, Duplicate: dup, Received: t0.Add(time.Duration(i) * time.Second)}
		if _, err := s.in.HandleTopic(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if pts := s.points(t, "hiveeyes/dup/test/hive", "w"); len(pts) != 3 || pts[0].Value != 1 || !pts[0].Time.Equal(t0.Truncate(time.Millisecond)) {
		t.Errorf("%v, want 1, 2, 3 once, the first at the first arrival", pts)
	}
}

func TestRedeliveryWindow(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name         string
		after        time.Duration
		dup, relayed bool
		same         bool
	}{
		{"dup at once", time.Second, true, false, true},
		{"dup after 50 minutes", 50 * time.Minute, true, false, true},
		{"not dup, embedded", time.Second, false, false, false},
		{"relayed within the window", relayedWindow - time.Second, false, true, true},
		{"relayed after the window", relayedWindow + time.Second, false, true, false},
	} {
		r := newRecentMessages(16, time.Hour)
		r.arrival("a/b/c/d/data.json", []byte(`{"w":1}`), t0, false, c.relayed)
		got := r.arrival("a/b/c/d/data.json", []byte(`{"w":1}`), t0.Add(c.after), c.dup, c.relayed)
		if got.Equal(t0) != c.same {
			t.Errorf("%s: arrival %v, first %v", c.name, got, t0)
		}
		if other := r.arrival("a/b/c/d/data.json", []byte(`{"w":2}`), t0.Add(c.after), c.dup, c.relayed); other.Equal(t0) {
			t.Errorf("%s: another payload took the first time", c.name)
		}
	}
}
