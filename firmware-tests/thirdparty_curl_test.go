package firmwaretests

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The headers curl 8 and HTTPie 3 send of their own.
var (
	curlHeaders  = http.Header{"User-Agent": {"curl/8.5.0"}, "Accept": {"*/*"}}
	httpieHeader = http.Header{"User-Agent": {"HTTPie/3.2.2"}, "Accept": {"application/json, */*;q=0.5"},
		"Accept-Encoding": {"gzip, deflate"}, "Connection": {"keep-alive"}}
)

func withHeader(h http.Header, k, v string) http.Header {
	out := http.Header{}
	for key, vals := range h {
		out[key] = vals
	}
	out[k] = []string{v}
	return out
}

// TestCurlKotoriAPI is a beekeeper with a shell and the Kotori/Hiveeyes
// documentation: curl and HTTPie posting JSON, a form, a CSV backlog
// (header first, then value lines only) and a JSON batch to
// /api/<channel>/data, an annotation to /event, then reading the data
// back with curl as CSV. Each answer is Kotori's; the export has every
// reading at its time (or at arrival), the event is listed.
func TestCurlKotoriAPI(t *testing.T) {
	web, _ := tpHTTP(t)
	start := time.Now()
	api := web + "/api/hiveeyes/testdrive/area-42/"
	posts := []struct {
		name, path string
		header     http.Header
		body       string
		answer     string // in the answer body
	}{
		// curl -H 'Content-Type: application/json' -d '{...}' .../data
		{"curl json", "node-1/data", withHeader(curlHeaders, "Content-Type", "application/json"),
			`{"weight": 42.17, "temperature": 21.5, "humidity": 61.5}`, `"Received #1 readings"`},
		// echo '{...}' | http POST .../data  (HTTPie keeps echo's newline)
		{"httpie json", "node-1/data", withHeader(httpieHeader, "Content-Type", "application/json"),
			"{\"temperature\": 42.84, \"humidity\": 83}\n", `"Received #1 readings"`},
		// curl -d 'weight=42.31&temperature=21.7' .../data  (curl's default type)
		{"curl form", "node-1/data", withHeader(curlHeaders, "Content-Type", "application/x-www-form-urlencoded"),
			"weight=42.31&temperature=21.7", `"Received #1 readings"`},
		// curl -H 'Content-Type: text/csv' --data-binary @backlog.csv .../data
		{"curl csv header", "node-2/data", withHeader(curlHeaders, "Content-Type", "text/csv"),
			"## time, weight, temperature, humidity, voltage\n2016-08-14T22:02:06Z, 58.697, 19.6, 56.1, 4.13\n2016-08-14T22:22:06Z, 58.663, 19.4, 58.3, 4.13\n2016-08-14T22:42:06Z, 58.601, 19.1, 57.7, 4.12\n",
			`"Received #3 readings"`},
		// the next day's lines, without the header: it is remembered
		{"curl csv lines", "node-2/data", withHeader(curlHeaders, "Content-Type", "text/csv"),
			"2016-08-15T22:02:06Z, 58.412, 18.2, 60.0, 4.11\n", `"Received #1 readings"`},
		// curl -H 'Content-Type: application/json' --data-binary @sd-card.json .../data
		{"curl json batch", "node-3/data", withHeader(curlHeaders, "Content-Type", "application/json"),
			`[{"time": "2024-05-01T06:00:00Z", "weight": 40.1}, {"time": "2024-05-01T07:00:00Z", "weight": 40.3}, {"time": "2024-05-01T08:00:00Z", "weight": 40.2}]`,
			`"Received #3 readings"`},
		// curl -H 'Content-Type: application/json' -d '{"title": ...}' .../event
		{"curl event", "node-1/event", withHeader(curlHeaders, "Content-Type", "application/json"),
			`{"title": "Hive opened", "text": "Added a honey super", "tags": "inspection,super"}`, `"Received #1 readings"`},
	}
	for _, p := range posts {
		status, answer, resp := tpRequest(t, "POST", api+p.path, p.header, p.body)
		if status != 200 || !strings.Contains(answer, p.answer) || resp.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %q", p.name, status, answer, resp.Get("Content-Type"))
		}
	}
	node1 := tpRowsUntil(t, web, "hiveeyes/testdrive/area-42/node-1", "three readings", func(rows []map[string]any) bool { return len(rows) == 3 })
	for _, r := range node1 {
		arrivalTimes(t, []map[string]any{r}, start)
	}
	tpCheckRow(t, "curl json", tpRow(node1, "weight", 42.17), map[string]any{"temperature": 21.5, "humidity": 61.5})
	tpCheckRow(t, "httpie json", tpRow(node1, "temperature", 42.84), map[string]any{"humidity": 83.0, "weight": nil})
	tpCheckRow(t, "curl form", tpRow(node1, "weight", 42.31), map[string]any{"temperature": 21.7})
	node2 := tpRowsUntil(t, web, "hiveeyes/testdrive/area-42/node-2", "four readings", func(rows []map[string]any) bool { return len(rows) == 4 })
	tpCheckRow(t, "csv", tpRow(node2, "time", "2016-08-14T22:22:06.000Z"), map[string]any{"weight": 58.663, "temperature": 19.4, "humidity": 58.3, "voltage": 4.13})
	tpCheckRow(t, "csv without header", tpRow(node2, "time", "2016-08-15T22:02:06.000Z"), map[string]any{"weight": 58.412, "voltage": 4.11})
	node3 := tpRowsUntil(t, web, "hiveeyes/testdrive/area-42/node-3", "the batch", func(rows []map[string]any) bool { return len(rows) == 3 })
	tpCheckRow(t, "batch", node3[1], map[string]any{"time": "2024-05-01T07:00:00.000Z", "weight": 40.3})

	// curl http://<pi>:8080/api/hiveeyes/testdrive/area-42/node-2/data.csv?from=2016-08-14&to=2016-08-15
	status, csv := tpGet(t, api+"node-2/data.csv?from=2016-08-14&to=2016-08-15")
	if status != 200 || !strings.Contains(csv, "2016-08-14T22:02:06") || !strings.Contains(csv, "58.697") || !strings.Contains(csv, "58.412") {
		t.Errorf("CSV export: %d %s", status, csv)
	}
	status, events := tpGet(t, api+"node-1/event.json?from=now-1h")
	if status != 200 || !strings.Contains(events, "Hive opened") || !strings.Contains(events, "Added a honey super") {
		t.Errorf("events: %d %s", status, events)
	}
	tpDashboardShows(t, web, "hiveeyes/testdrive/area-42/node-1", "<strong>Hive opened</strong>")
	tpOnlyErrors(t, web)
}

// TestCurlMistakes are the mistakes of a beekeeper typing curl: JSON cut
// short (Kotori's own error-signalling example), no Content-Type, an
// unsupported Content-Type, an empty body, CSV values before any header,
// and JSON sent without -H (curl then labels it a form). Each gets
// Kotori's answer and an error-log entry naming the path; nothing
// half-understood is stored.
func TestCurlMistakes(t *testing.T) {
	path := "/api/hiveeyes/testdrive/area-42/node-1/data"
	cases := []struct {
		name        string
		contentType string // "" for none
		body        string
		status      int
		kind        string
	}{
		{"truncated json", "application/json", `{"value": 42.42`, 400, "json"},
		{"no content type", "", `{"weight": 42.17}`, 415, "content-type"},
		{"unknown content type", "text/plain", `{"weight": 42.17}`, 415, "content-type"},
		{"empty body", "application/json", "", 400, "empty"},
		{"csv without header", "text/csv", "2016-08-14T22:02:06Z, 58.697, 19.6\n", 400, "csv"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			web, _ := tpHTTP(t)
			h := curlHeaders
			if c.contentType != "" {
				h = withHeader(curlHeaders, "Content-Type", c.contentType)
			}
			status, answer, _ := tpRequest(t, "POST", web+path, h, c.body)
			if status != c.status {
				t.Errorf("status %d %q, want %d", status, answer, c.status)
			}
			e := tpLoggedError(t, web, path, c.kind)
			if e.Channel != "hiveeyes/testdrive/area-42/node-1" || e.Client != "127.0.0.1" {
				t.Errorf("entry: %+v", e)
			}
			if _, st, _ := exportRows(t, web, "hiveeyes/testdrive/area-42/node-1"); st != 404 {
				t.Errorf("something was stored (export status %d)", st)
			}
		})
	}

}

// TestCurlJSONAsForm: the commonest curl mistake, JSON sent with -d but
// without -H 'Content-Type: application/json': curl labels it
// application/x-www-form-urlencoded. Apiary must either understand the
// JSON or refuse it (4xx and an error-log entry naming the path); it must
// not answer 200 "Received #1 readings" and store nothing the beekeeper
// sent.
func TestCurlJSONAsForm(t *testing.T) {
	web, _ := tpHTTP(t)
	path := "/api/hiveeyes/testdrive/area-42/node-1/data"
	status, answer, _ := tpRequest(t, "POST", web+path, withHeader(curlHeaders, "Content-Type", "application/x-www-form-urlencoded"), `{"weight": 42.17}`)
	rows, _, _ := exportRows(t, web, "hiveeyes/testdrive/area-42/node-1")
	switch {
	case status == 200 && len(rows) == 1 && rows[0]["weight"] == 42.17:
		// understood
	case status >= 400 && status < 500:
		logged := false
		for _, e := range errorLog(t, web, nil) {
			logged = logged || e.Source == path
		}
		if !logged {
			t.Errorf("refused with %d, but no error-log entry names %s", status, path)
		}
		if len(rows) != 0 {
			t.Errorf("refused, yet stored: %v", rows)
		}
	case status == 200 && len(rows) == 1 && rows[0][`{"weight": 42.17}`] == "":
		t.Errorf("curl -d JSON without -H was stored as a text field named after the JSON: %s", strings.Join(strings.Fields(answer), " "))
	default:
		t.Errorf("%d %s; stored %v", status, answer, rows)
	}
}
