package firmwaretests

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// telegrafWrites are three flushes (flush_interval 10 s, accelerated) of
// a Telegraf on the hive's Raspberry Pi: inputs.cpu and inputs.temp, and
// an inputs.exec reading the HX711 that tags its metric node=hive-1.
// Line protocol as Telegraf's influx serializer writes it: integers with
// "i", nanosecond timestamps.
func telegrafWrites(base time.Time) []string {
	var out []string
	for i := 0; i < 3; i++ {
		ns := base.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		out = append(out, fmt.Sprintf("cpu,cpu=cpu-total,host=hivepi usage_idle=97.%d,usage_user=1.5 %d\n"+
			"temp,host=hivepi,sensor=cpu_thermal temp=48.%d %d\n"+
			"hx711,host=hivepi,node=hive-1 weight=42.1%d,raw=8421234i %d\n", i, ns, i, ns, i, ns))
	}
	return out
}

// telegrafPost is outputs.influxdb writing to urls = ["http://<pi>:8080"],
// database "telegraf": POST /write?db=telegraf, text/plain, its User-Agent,
// the body gzip-compressed when content_encoding is "gzip" (the default
// of current Telegraf releases) or as it is ("identity").
func telegrafPost(t *testing.T, web, encoding, body string) (int, string) {
	t.Helper()
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "User-Agent": {"Telegraf/1.30.1 Go/1.22.1"}}
	if encoding == "gzip" {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(body))
		zw.Close()
		body = b.String()
		h["Content-Encoding"] = []string{"gzip"}
	}
	status, answer, _ := tpRequest(t, "POST", web+"/write?db=telegraf", h, body)
	return status, answer
}

// TestTelegraf is Telegraf's InfluxDB v1 output pointed at the appliance.
// At start it asks for CREATE DATABASE (POST /query), which may fail
// (Telegraf goes on writing); then every flush is a write that InfluxDB
// answers 204. The beekeeper sees influx/telegraf/<measurement>/<node or
// host> with each metric at its own time, the other tags in the field's
// name (usage_idle.cpu=cpu-total).
func TestTelegraf(t *testing.T) {
	for _, encoding := range []string{"identity", "gzip"} {
		t.Run(encoding, func(t *testing.T) {
			web, _ := tpHTTP(t)
			tpRequest(t, "POST", web+"/query", http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
				"User-Agent": {"Telegraf/1.30.1 Go/1.22.1"}}, `q=CREATE+DATABASE+%22telegraf%22`)
			base := time.Now().Truncate(10 * time.Second).Add(-time.Minute)
			for i, body := range telegrafWrites(base) {
				status, answer := telegrafPost(t, web, encoding, body)
				if status != 204 {
					t.Fatalf("flush %d: %d %s, want 204", i, status, answer)
				}
			}
			hx := tpRowsUntil(t, web, "influx/telegraf/hx711/hive-1", "three flushes", func(rows []map[string]any) bool { return len(rows) == 3 })
			for i, r := range hx {
				tpCheckRow(t, fmt.Sprint("flush ", i), r, map[string]any{
					"time": tpExportTime(base.Add(time.Duration(i) * 10 * time.Second)), "weight": []float64{42.10, 42.11, 42.12}[i], "raw": 8421234.0})
			}
			cpu := tpRowsUntil(t, web, "influx/telegraf/cpu/hivepi", "three flushes", func(rows []map[string]any) bool { return len(rows) == 3 })
			tpCheckRow(t, "cpu", cpu[2], map[string]any{"usage_idle.cpu=cpu-total": 97.2, "usage_user.cpu=cpu-total": 1.5})
			temp := tpRowsUntil(t, web, "influx/telegraf/temp/hivepi", "three flushes", func(rows []map[string]any) bool { return len(rows) == 3 })
			tpCheckRow(t, "temp", temp[0], map[string]any{"temp.sensor=cpu_thermal": 48.0})
			checkDashboard(t, web, "influx/telegraf/hx711/hive-1", map[string]string{"weight": "Weight", "raw": "Other"})
			tpOnlyErrors(t, web)
		})
	}
}

// TestTelegrafBadLine: a line Telegraf's serializer would never write but
// a hand-made exec script might; InfluxDB stores the good lines and
// answers 400 "partial write"; the error log names /write.
func TestTelegrafBadLine(t *testing.T) {
	web, _ := tpHTTP(t)
	ns := time.Now().Add(-time.Minute).UnixNano()
	body := fmt.Sprintf("hx711,host=hivepi,node=hive-1 weight=42.17 %d\nhx711,host=hivepi,node=hive-1 weight= %d\n", ns, ns+1)
	status, answer := telegrafPost(t, web, "identity", body)
	if status != 400 || !strings.Contains(answer, "partial write") {
		t.Errorf("%d %s, want 400 partial write", status, answer)
	}
	tpRowsUntil(t, web, "influx/telegraf/hx711/hive-1", "the good line", tpHasRow("weight", 42.17))
	e := tpLoggedError(t, web, "/write", "lineproto")
	if e.Channel != "influx/telegraf/hx711/hive-1" {
		t.Errorf("entry: %+v", e)
	}
}

// TestTelegrafInfluxDBv2 is Telegraf's outputs.influxdb_v2 pointed at the
// appliance (urls = ["http://<pi>:8080"], organization and bucket set, a
// token): POST /api/v2/write?org=...&bucket=..., gzip-compressed line
// protocol, answered 204. The bucket is the database of the channel.
func TestTelegrafInfluxDBv2(t *testing.T) {
	web, _ := tpHTTP(t)
	ns := time.Now().Truncate(time.Second).Add(-time.Minute).UnixNano()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	fmt.Fprintf(zw, "hx711,host=hivepi,node=hive-1 weight=42.17,raw=8421234i %d\n", ns)
	zw.Close()
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Encoding": {"gzip"},
		"Authorization": {"Token my-token"}, "User-Agent": {"Telegraf/1.30.1 Go/1.22.1"}}
	status, answer, _ := tpRequest(t, "POST", web+"/api/v2/write?org=apiary&bucket=telegraf&precision=ns", h, b.String())
	if status != 204 {
		t.Fatalf("v2 write: %d %s, want 204", status, answer)
	}
	tpRowsUntil(t, web, "influx/telegraf/hx711/hive-1", "the v2 write", tpHasRow("weight", 42.17))
	tpOnlyErrors(t, web)
}
