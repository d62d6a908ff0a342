package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/store"
)

var (
	itest = store.Channel{Realm: "mqttkit-1", Network: "itest", Gateway: "foo", Node: "bar"}
	day   = time.Date(2020, 3, 10, 0, 0, 0, 0, time.UTC)
)

// newServer serves the UI over real HTTP from a real store in a temp dir.
func newServer(t *testing.T, readings []store.Reading, events []store.Event) (*httptest.Server, *store.Store) {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if len(readings) > 0 {
		if err := st.Write(ctx, readings); err != nil {
			t.Fatal(err)
		}
	}
	if len(events) > 0 {
		if err := st.WriteEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return day.Add(20 * time.Hour) }
	srv := httptest.NewServer(New(Options{Store: st, Version: "test", Zone: time.UTC, Now: now}))
	t.Cleanup(srv.Close)
	return srv, st
}

func fetch(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// kotoriExportData is the data of Kotori's export tests: two readings on
// 2020-03-10.
func kotoriExportData() []store.Reading {
	return []store.Reading{
		{Channel: itest, Time: day.Add(3*time.Hour + 29*time.Minute + 42*time.Second), Fields: map[string]float64{"temperature": 25.26, "humidity": 51.8}},
		{Channel: itest, Time: day.Add(4*time.Hour + 29*time.Minute + 42*time.Second), Fields: map[string]float64{"temperature": 32.26, "humidity": 64.8}},
	}
}

func TestExportKotoriCompatible(t *testing.T) {
	srv, _ := newServer(t, kotoriExportData(), nil)
	base := srv.URL + "/api/mqttkit-1/itest/foo/bar/"
	rng := "from=2020-03-10T00:00:00.000Z&to=2020-03-10T23:59:59.000Z"
	cases := []struct {
		path, ctype, body string
	}{
		{"data.csv?" + rng, "text/csv; charset=utf-8",
			"time,humidity,temperature\n2020-03-10T03:29:42.000000Z,51.8,25.26\n2020-03-10T04:29:42.000000Z,64.8,32.26\n"},
		{"data.txt?" + rng, "text/plain; charset=utf-8",
			"time,humidity,temperature\n2020-03-10T03:29:42.000000Z,51.8,25.26\n2020-03-10T04:29:42.000000Z,64.8,32.26\n"},
		{"data.tsv?" + rng, "text/tab-separated-values; charset=utf-8",
			"time\thumidity\ttemperature\n2020-03-10T03:29:42.000000Z\t51.8\t25.26\n2020-03-10T04:29:42.000000Z\t64.8\t32.26\n"},
		{"data.json?" + rng, "application/json; charset=utf-8",
			`[{"time":"2020-03-10T03:29:42.000Z","humidity":51.8,"temperature":25.26},{"time":"2020-03-10T04:29:42.000Z","humidity":64.8,"temperature":32.26}]`},
		{"data.json?" + rng + "&include=temperature", "",
			`[{"time":"2020-03-10T03:29:42.000Z","temperature":25.26},{"time":"2020-03-10T04:29:42.000Z","temperature":32.26}]`},
		{"data.json?" + rng + "&exclude=time,humidity&sort=temperature&direction=descending", "",
			`[{"temperature":32.26},{"temperature":25.26}]`},
		{"data.json?" + rng + "&exclude=time,humidity&sort=temperature&direction=descending&limit=1", "",
			`[{"temperature":32.26}]`},
		{"data.txt?" + rng + "&sort=temperature&direction=descending&scalar=temperature", "text/plain; charset=utf-8", "32.26"},
		{"data.csv?from=20200310&to=20200310", "", "time,humidity,temperature\n2020-03-10T03:29:42.000000Z,51.8,25.26\n2020-03-10T04:29:42.000000Z,64.8,32.26\n"},
		{"data.csv?from=now-20h&to=now-16h", "", "time,humidity,temperature\n2020-03-10T03:29:42.000000Z,51.8,25.26\n"},
		{"data.csv", "", "time,humidity,temperature\n2020-03-10T03:29:42.000000Z,51.8,25.26\n2020-03-10T04:29:42.000000Z,64.8,32.26\n"},
		{"data.csv?" + rng + "&include=temperature,humidity", "", "time,temperature,humidity\n2020-03-10T03:29:42.000000Z,25.26,51.8\n2020-03-10T04:29:42.000000Z,32.26,64.8\n"},
	}
	for _, tc := range cases {
		resp, body := fetch(t, base+tc.path)
		if resp.StatusCode != 200 || body != tc.body {
			t.Errorf("GET %s = %d\n%s\nwant\n%s", tc.path, resp.StatusCode, body, tc.body)
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
	}
	resp, _ := fetch(t, base+"data.csv?"+rng)
	if cd := resp.Header.Get("Content-Disposition"); cd != `inline; filename=itest_foo_bar_20200310T000000_20200310T235959.csv` {
		t.Errorf("Content-Disposition = %q", cd)
	}

	resp, _ = fetch(t, base+"data.CSV?"+rng) // Kotori lowercases the format
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("data.CSV = %d %q, want the CSV", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	resp, body := fetch(t, base+"data.xlsx?"+rng)
	if resp.StatusCode != 400 || !strings.Contains(body, `"xlsx"`) {
		t.Errorf("unknown format = %d %q, want 400 naming it", resp.StatusCode, body)
	}
	resp, body = fetch(t, base+"data.csv?from=2019-01-01&to=2019-01-02")
	if resp.StatusCode != 404 || !strings.Contains(body, "now-4h") {
		t.Errorf("no data = %d %q, want 404 with help", resp.StatusCode, body)
	}
	resp, _ = fetch(t, base+"data.csv?from=yesterday")
	if resp.StatusCode != 400 {
		t.Errorf("bad from = %d, want 400", resp.StatusCode)
	}
}

func TestExportGapsFilled(t *testing.T) {
	ch := itest
	rs := []store.Reading{
		{Channel: ch, Time: day.Add(1 * time.Hour), Fields: map[string]float64{"a": 1, "b": 10}},
		{Channel: ch, Time: day.Add(2 * time.Hour), Fields: map[string]float64{"b": 20}},
		{Channel: ch, Time: day.Add(3 * time.Hour), Fields: map[string]float64{"b": 30}},
		{Channel: ch, Time: day.Add(4 * time.Hour), Fields: map[string]float64{"a": 4, "b": 40}},
		{Channel: ch, Time: day.Add(5 * time.Hour), Fields: map[string]float64{"b": 50}},
	}
	srv, _ := newServer(t, rs, nil)
	base := srv.URL + "/api/mqttkit-1/itest/foo/bar/data.csv?from=20200310&to=20200310&exclude=time,b"
	for q, want := range map[string]string{
		"":                  "a\n1.0\n\n\n4.0\n\n",
		"&pad=true":         "a\n1.0\n1.0\n1.0\n4.0\n4.0\n",
		"&backfill=true":    "a\n1.0\n4.0\n4.0\n4.0\n\n",
		"&interpolate=true": "a\n1.0\n2.0\n3.0\n4.0\n4.0\n",
	} {
		if _, body := fetch(t, base+q); body != want {
			t.Errorf("%s: got\n%q\nwant\n%q", q, body, want)
		}
	}
}

func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{80: "80.0", 25.26: "25.26", 0.00001: "1e-05", 1e16: "1e+16", -127: "-127.0", 0: "0.0", 4294967295: "4294967295.0", 0.1: "0.1"} {
		if got := pyFloat(v); got != want {
			t.Errorf("pyFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestDeviceStringsAreEscaped stores field names, text values and event
// titles that hold markup, and checks that no page carries them unescaped.
func TestDeviceStringsAreEscaped(t *testing.T) {
	evil := `<script>alert(1)</script>`
	ch := store.Channel{Realm: "hiveeyes", Network: "net" + evil, Gateway: "gw", Node: `n"><img src=x onerror=alert(2)>`}
	rs := []store.Reading{{Channel: ch, Time: day.Add(19 * time.Hour),
		Fields: map[string]float64{"weight" + evil: 42},
		Text:   map[string]string{"status": evil}}}
	evs := []store.Event{{Channel: ch, Time: day.Add(19 * time.Hour), Title: evil, Text: "</div>" + evil}}
	srv, st := newServer(t, rs, evs)
	st.RecordError(store.ErrorEntry{Kind: "json", Channel: ch.String(), Source: "x/" + evil, Message: evil, Excerpt: evil})
	pages := []string{
		"/",
		"/errors",
		"/d/" + url.PathEscape(ch.Realm) + "/" + url.PathEscape(ch.Network) + "/" + url.PathEscape(ch.Gateway) + "/" + url.PathEscape(ch.Node),
		"/api/hiveeyes/" + url.PathEscape(ch.Network) + "/gw/" + url.PathEscape(ch.Node) + "/data.html?from=20200310&to=20200311",
	}
	for _, p := range pages {
		resp, body := fetch(t, srv.URL+p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", p, resp.StatusCode)
			continue
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s carries device markup unescaped", p)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(body, `\u003cscript\u003e`) {
			t.Errorf("%s does not show the escaped device string at all", p)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); p != pages[3] && !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
}

func TestAPIChannelsAndErrors(t *testing.T) {
	srv, st := newServer(t, kotoriExportData(), nil)
	st.RecordError(store.ErrorEntry{Kind: "json", Channel: itest.String(), Source: "mqttkit-1/itest/foo/bar/data.json", Message: "bad", Excerpt: "{"})
	st.RecordError(store.ErrorEntry{Kind: "json", Channel: itest.String(), Source: "mqttkit-1/itest/foo/bar/data.json", Message: "bad", Excerpt: "{"})
	_, body := fetch(t, srv.URL+"/api/channels")
	var chans []map[string]any
	if err := json.Unmarshal([]byte(body), &chans); err != nil {
		t.Fatal(err)
	}
	if len(chans) != 1 || chans[0]["node"] != "bar" || chans[0]["last"] != "2020-03-10T04:29:42Z" {
		t.Errorf("channels = %v", chans)
	}
	if fields := chans[0]["fields"].([]any); len(fields) != 2 || fields[0] != "humidity" {
		t.Errorf("fields = %v", fields)
	}
	_, body = fetch(t, srv.URL+"/api/errors")
	var errs []map[string]any
	if err := json.Unmarshal([]byte(body), &errs); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0]["count"] != 2.0 || errs[0]["source"] != "mqttkit-1/itest/foo/bar/data.json" {
		t.Errorf("errors = %v", errs)
	}
	for _, k := range []string{"first", "last", "count", "kind", "channel", "source", "message", "excerpt"} {
		if _, ok := errs[0][k]; !ok {
			t.Errorf("error entry lacks %q", k)
		}
	}
}

func TestStaticAssetsAreEmbeddedAndHashed(t *testing.T) {
	srv, _ := newServer(t, kotoriExportData(), nil)
	_, page := fetch(t, srv.URL+"/d/mqttkit-1/itest/foo/bar?range=24h")
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("dashboard refers to an external URL")
	}
	for _, name := range []string{"echarts.min.js", "apiary.js", "apiary.css"} {
		if !strings.Contains(page, "/static/"+name+"?v=") {
			t.Errorf("dashboard does not load %s by its hashed URL", name)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/static/echarts.min.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("echarts: %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}
