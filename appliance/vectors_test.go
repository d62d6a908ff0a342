package appliance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/ingest"
	"github.com/apiary-hive/apiary/store"
)

// vector is one case of testdata/vectors: Kotori's tests (kotori.json) and
// real firmware captures (firmware.json).
type vector struct {
	ID              any               `json:"id"`
	Transport       string            `json:"transport"`
	Method          string            `json:"method"`
	TopicOrPath     string            `json:"topic_or_path"`
	ContentType     *string           `json:"content_type"`
	Headers         map[string]string `json:"headers"`
	Payload         *string           `json:"payload"`
	PayloadEncoding string            `json:"payload_encoding"`
	Retain          *bool             `json:"retain"`
	ExpectedFields  json.RawMessage   `json:"expected_fields"`
	ExpectedTime    json.RawMessage   `json:"expected_time"`
	ExpectedTags    map[string]string `json:"expected_tags"`
	ExpectedError   json.RawMessage   `json:"expected_error"`
	ExpectedHTTP    *struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	} `json:"expected_http_response"`
	ChannelSettings map[string]string `json:"channel_settings"`
	Meaning         json.RawMessage   `json:"meaning"`
	Apiary          *struct {
		Skip           string          `json:"skip"`
		ExpectedError  string          `json:"expected_error"`
		ExpectedFields json.RawMessage `json:"expected_fields"`
		ExpectedTime   json.RawMessage `json:"expected_time"`
	} `json:"apiary"`
}

func (v vector) name() string { return fmt.Sprint(v.ID) }

func loadVectors(t *testing.T, file string) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// received is the time of arrival of MQTT vectors.
var received = time.Now()

// vectorAppliance opens an appliance (without serving) with the realms that
// Kotori's test configuration has.
func vectorAppliance(t *testing.T, settings map[string]string) (*Appliance, http.Handler) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = ""
	cfg.TimeZone = "Europe/Berlin" // the zone Kotori assumed and its expectations use
	cfg.Realms = []RealmConfig{
		{Name: "mqttkit-1", AllowedNetworks: []string{"itest", "testdrive"}},
		{Name: "basic", Strategy: "lan"},
		{Name: "hiveeyes"}, {Name: "solar"}, {Name: "workbench"}, {Name: "universe"}, {Name: "myrealm"},
		{Name: "tasmota"}, {Name: "esphome"}, {Name: "homie"}, {Name: "weewx"},
		{Name: "sensor-community"}, {Name: "beep"}, {Name: "ttn"}, {Name: "influx"},
	}
	if nets := settings["direct_channel_allowed_networks"]; nets != "" {
		var list []string
		for _, n := range strings.Split(nets, ",") {
			list = append(list, strings.TrimSpace(n))
		}
		for i := range cfg.Realms {
			cfg.Realms[i].AllowedNetworks = list
		}
	}
	app, err := Open(cfg, Build{Version: "test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app, app.web.Handler
}

// stored is what the store holds after a vector: per reading time, the
// fields (numbers as float64, text as string).
type stored map[time.Time]map[string]any

func readStore(t *testing.T, st *store.Store) (stored, []store.Channel) {
	t.Helper()
	out := stored{}
	var chans []store.Channel
	ctx := context.Background()
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, ci := range st.Channels() {
		chans = append(chans, ci.Channel)
		for _, f := range ci.Fields {
			add := func(tm time.Time, v any) {
				tm = tm.Round(time.Microsecond)
				if out[tm] == nil {
					out[tm] = map[string]any{}
				}
				out[tm][f.Name] = v
			}
			if f.Kind == store.Text {
				pts, _ := st.TextPoints(ctx, ci.Channel, f.Name, time.Unix(0, 0), far)
				for _, p := range pts {
					add(p.Time, p.Value)
				}
				continue
			}
			pts, _ := st.Points(ctx, ci.Channel, f.Name, time.Unix(0, 0), far)
			for _, p := range pts {
				add(p.Time, p.Value)
			}
		}
	}
	return out, chans
}

// send delivers a vector the way its device does: MQTT through the
// ingest pipeline the broker calls, HTTP through the real handler.
func send(t *testing.T, app *Appliance, h http.Handler, v vector) (status int, body string) {
	t.Helper()
	payload := ""
	if v.Payload != nil {
		payload = *v.Payload
	}
	switch v.Transport {
	case "mqtt":
		p := []byte(payload)
		if v.PayloadEncoding == "base64-raw" {
			p, _ = base64.StdEncoding.DecodeString(payload)
		}
		_, err := app.ingest.HandleTopic(context.Background(), ingest.Message{Transport: "mqtt", Source: v.TopicOrPath, Client: "vector", Payload: p, Received: received, QoS: 1})
		if err != nil {
			return 0, err.Error()
		}
		return 0, ""
	default:
		target := strings.TrimPrefix(v.TopicOrPath, "POST ")
		if u, err := url.Parse(target); err == nil && u.Host != "" {
			target = u.RequestURI()
		}
		req, _ := http.NewRequest("POST", "http://apiary"+target, strings.NewReader(payload))
		if v.ContentType != nil {
			req.Header.Set("Content-Type", *v.ContentType)
		}
		for k, val := range v.Headers {
			req.Header.Set(k, val)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
}

// expectation is what a vector says must be stored.
type expectation struct {
	readings []map[string]any // nil value: the field must be absent
	times    []*time.Time     // per reading; nil: any time (arrival)
}

func parseExpectation(t *testing.T, fields json.RawMessage, tm json.RawMessage) (expectation, bool) {
	var e expectation
	if len(fields) == 0 || string(fields) == "null" {
		return e, false
	}
	var list []map[string]any
	if fields[0] == '[' {
		if err := json.Unmarshal(fields, &list); err != nil {
			t.Fatal(err)
		}
	} else {
		var one map[string]any
		if err := json.Unmarshal(fields, &one); err != nil {
			t.Fatal(err)
		}
		list = []map[string]any{one}
	}
	var times []any
	if len(tm) > 0 && string(tm) != "null" {
		if tm[0] == '[' {
			json.Unmarshal(tm, &times)
		} else {
			var one any
			json.Unmarshal(tm, &one)
			times = []any{one}
		}
	}
	for i, r := range list {
		var when *time.Time
		if i < len(times) {
			when = parseWhen(times[i])
		}
		if tv, ok := r["time"]; ok {
			delete(r, "time")
			when = parseWhen(tv)
		}
		e.readings = append(e.readings, r)
		e.times = append(e.times, when)
	}
	return e, true
}

func parseWhen(v any) *time.Time {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil // "(device local)" and other descriptions
	}
	tm = tm.Round(time.Microsecond)
	return &tm
}

func (e expectation) check(t *testing.T, got stored) {
	t.Helper()
	var times []time.Time
	for tm := range got {
		times = append(times, tm)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	if len(times) != len(e.readings) {
		t.Errorf("stored %d readings, want %d: %v", len(times), len(e.readings), got)
		return
	}
	for i, want := range e.readings {
		tm := times[i]
		if e.times[i] != nil && !tm.Equal(*e.times[i]) {
			t.Errorf("reading %d at %s, want %s", i, tm.Format(time.RFC3339Nano), e.times[i].Format(time.RFC3339Nano))
		}
		have := got[tm]
		for k, wv := range want {
			hv, present := have[k]
			switch {
			case wv == nil && present:
				t.Errorf("field %q stored as %v, want it absent", k, hv)
			case wv == nil:
			case wv == anyValue{} && present:
			case !present:
				t.Errorf("field %q missing (stored %v)", k, have)
			default:
				if !sameValue(hv, wv) {
					t.Errorf("field %q = %#v, want %#v", k, hv, wv)
				}
			}
		}
		for k := range have {
			if _, ok := want[k]; !ok {
				t.Errorf("extra field %q = %v stored", k, have[k])
			}
		}
	}
}

// anyValue in an expectation accepts whatever value was stored.
type anyValue struct{}

func sameValue(have, want any) bool {
	switch w := want.(type) {
	case float64:
		h, ok := have.(float64)
		return ok && (h == w || math.Abs(h-w) <= 1e-9*math.Abs(w))
	case bool:
		h, ok := have.(float64)
		return ok && h == map[bool]float64{true: 1, false: 0}[w]
	}
	return fmt.Sprint(have) == fmt.Sprint(want)
}

func errorKinds(st *store.Store) []string {
	var kinds []string
	for _, e := range st.Errors(store.ErrorFilter{}) {
		kinds = append(kinds, e.Kind+": "+e.Message)
	}
	return kinds
}

// TestKotoriVectors runs every MQTT and HTTP case of Kotori's test suite.
func TestKotoriVectors(t *testing.T) {
	for _, v := range loadVectors(t, "kotori.json") {
		if v.Transport != "mqtt" && v.Transport != "http" {
			continue // export, strategy and decoder units are tested in their packages
		}
		t.Run(v.name(), func(t *testing.T) {
			if v.Apiary != nil && v.Apiary.Skip != "" {
				t.Skip(v.Apiary.Skip)
			}
			app, h := vectorAppliance(t, v.ChannelSettings)
			fields, tm := v.ExpectedFields, v.ExpectedTime
			switch v.name() {
			case "79":
				// Precondition: the header registered and a number stored.
				// Kotori then failed on the text with a type conflict; Apiary
				// keeps the text in a text series of its own.
				pre := v
				setup := "## time,value\n2017-05-01 22:38:09,42.5\n"
				pre.Payload = &setup
				if status, body := send(t, app, h, pre); status != 200 {
					t.Fatalf("setup: %d %s", status, body)
				}
				fields = json.RawMessage(`[{"value": 42.5}, {"value": "invalid"}]`)
				tm = json.RawMessage(`["2017-05-01T20:38:09Z", "2017-05-01T20:39:09Z"]`)
			case "95":
				// Kotori 0.20 failed here on an unreachable Grafana and
				// looped; Apiary stores the loop packet and publishes nothing.
				fields = json.RawMessage(`{"outTemp_C": 3.5}`)
			}
			if v.Apiary != nil && len(v.Apiary.ExpectedFields) > 0 {
				fields, tm = v.Apiary.ExpectedFields, v.Apiary.ExpectedTime
			}
			status, body := send(t, app, h, v)
			if v.ExpectedHTTP != nil {
				if status != v.ExpectedHTTP.Status {
					t.Errorf("HTTP status %d, want %d (%s)", status, v.ExpectedHTTP.Status, body)
				}
				if v.ExpectedHTTP.Status == 200 && strings.HasPrefix(v.ExpectedHTTP.Body, "[") && body != v.ExpectedHTTP.Body {
					t.Errorf("HTTP body\n%s\nwant\n%s", body, v.ExpectedHTTP.Body)
				}
			}
			if strings.Contains(v.TopicOrPath, "event") {
				checkEvent(t, app.store, fields)
				return
			}
			got, chans := readStore(t, app.store)
			exp, ok := parseExpectation(t, fields, tm)
			if !ok {
				if len(got) != 0 {
					t.Errorf("stored %v on %v, want nothing", got, chans)
				}
				if len(errorKinds(app.store)) == 0 && v.ExpectedHTTP == nil {
					t.Errorf("nothing stored and no error-log entry")
				}
				return
			}
			for k := range v.ExpectedTags {
				for i := range exp.readings {
					if _, ok := exp.readings[i][k]; !ok {
						exp.readings[i][k] = anyValue{}
					}
				}
			}
			exp.check(t, got)
			for k, want := range v.ExpectedTags {
				found := false
				for _, r := range got {
					if s, ok := r[k].(string); ok && (s == want || want == "<same>") {
						found = true
					}
				}
				if !found {
					t.Errorf("tag %s not stored", k)
				}
			}
		})
	}
}

func checkEvent(t *testing.T, st *store.Store, fields json.RawMessage) {
	t.Helper()
	var want map[string]string
	json.Unmarshal(fields, &want)
	chans := st.Channels()
	var evs []store.Event
	for _, ch := range []store.Channel{{Realm: "mqttkit-1", Network: "itest", Gateway: "foo", Node: "bar"}, {Realm: "mqttkit-1", Network: "testdrive", Gateway: "area-42", Node: "node-1"}} {
		e, _ := st.Events(context.Background(), ch, time.Unix(0, 0), received.Add(time.Hour))
		evs = append(evs, e...)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events stored (channels %v), want 1; errors %v", len(evs), chans, errorKinds(st))
	}
	ev := evs[0]
	got := map[string]string{"title": ev.Title, "text": ev.Text, "tags": strings.Join(ev.Tags, ",")}
	for k, v := range ev.Extra {
		got[k] = v
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("event = %v, want %v", got, want)
	}
}

// TestFirmwareVectors sends what real firmware sends and checks that the
// appliance stored what the device meant.
func TestFirmwareVectors(t *testing.T) {
	for _, v := range loadVectors(t, "firmware.json") {
		t.Run(v.name(), func(t *testing.T) {
			if v.Apiary != nil && v.Apiary.Skip != "" {
				t.Skip(v.Apiary.Skip)
			}
			app, h := vectorAppliance(t, nil)
			status, body := send(t, app, h, v)
			if v.Transport != "mqtt" && (status < 200 || status > 299) {
				t.Errorf("HTTP %d: %s", status, body)
			}
			if strings.HasSuffix(v.TopicOrPath, "event.json") {
				checkEvent(t, app.store, v.Meaning)
				return
			}
			got, chans := readStore(t, app.store)
			if v.Apiary != nil && v.Apiary.ExpectedError != "" {
				if len(got) != 0 {
					t.Errorf("stored %v, want nothing", got)
				}
				kinds := strings.Join(errorKinds(app.store), "\n")
				if !strings.Contains(kinds, v.Apiary.ExpectedError) {
					t.Errorf("error log %q lacks %q", kinds, v.Apiary.ExpectedError)
				}
				return
			}
			meaning := v.Meaning
			if v.ID == "airrohr-influxdb-line-protocol" {
				// measurement and node are where the reading went, not fields.
				var m map[string]any
				json.Unmarshal(meaning, &m)
				if len(chans) != 1 || chans[0].Gateway != m["measurement"] || chans[0].Node != m["node"] {
					t.Errorf("channels %v, want .../%v/%v", chans, m["measurement"], m["node"])
				}
				delete(m, "measurement")
				delete(m, "node")
				meaning, _ = json.Marshal(m)
				if got := countFields(got); got < 10 {
					t.Errorf("%d fields stored, want all 10 of the line", got)
				}
				lenient := expectation{readings: []map[string]any{m}, times: []*time.Time{nil}}
				lenient.checkSubset(t, got)
				return
			}
			exp, ok := parseExpectation(t, meaning, nil)
			subset := false
			if ok {
				// Members the capture's meaning leaves out but the payload has.
				for _, k := range firmwareExtras[v.name()] {
					exp.readings[0][k] = anyValue{}
				}
				if _, elided := exp.readings[0]["..."]; elided {
					delete(exp.readings[0], "...")
					subset = true
				}
			}
			if !ok || len(exp.readings) == 1 && len(exp.readings[0]) == 0 {
				if len(got) != 0 {
					t.Errorf("stored %v on %v, want nothing", got, chans)
				}
				if kinds := errorKinds(app.store); len(kinds) != 0 {
					t.Errorf("non-telemetry traffic logged as errors: %v", kinds)
				}
				return
			}
			allNull := true
			for _, val := range exp.readings[0] {
				if val != nil {
					allNull = false
				}
			}
			if allNull {
				if len(got) != 0 {
					t.Errorf("stored %v, want nothing (no valid value)", got)
				}
				return
			}
			if subset {
				exp.checkSubset(t, got)
				return
			}
			exp.check(t, got)
		})
	}
}

// firmwareExtras are payload members a capture's meaning does not list.
var firmwareExtras = map[string][]string{
	"beradio-gateway-status-retained":  {"program", "date"},
	"ttn-v3-webhook-terkin-cayennelpp": {"device_id"},
}

func countFields(s stored) int {
	n := 0
	for _, r := range s {
		n += len(r)
	}
	return n
}

// checkSubset is check without the complaint about extra fields.
func (e expectation) checkSubset(t *testing.T, got stored) {
	t.Helper()
	for _, r := range got {
		for k, want := range e.readings[0] {
			if !sameValue(r[k], want) {
				t.Errorf("field %q = %v, want %v", k, r[k], want)
			}
		}
	}
}
