package firmwaretests

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ecowittForm is the body of an Ecowitt gateway's "Customized" upload in
// the Ecowitt protocol (field order and values of daq-tools/kotori
// test/test_ecowitt.py): a form, imperial units, every value a string,
// "dateutc" in UTC with a space and no zone, the station's PASSKEY.
func ecowittForm(dateutc time.Time, tempf float64) string {
	pairs := [][2]string{
		{"PASSKEY", "B950C4D1E5F6A7B8C9D0E1F2A3B4C5D6"}, {"stationtype", "EasyWeatherPro_V5.0.6"}, {"runtime", "456128"},
		{"dateutc", dateutc.UTC().Format("2006-01-02 15:04:05")}, {"tempinf", "69.8"}, {"humidityin", "47"},
		{"baromrelin", "29.713"}, {"baromabsin", "29.713"}, {"tempf", fmt.Sprintf("%.1f", tempf)}, {"humidity", "80"},
		{"winddir", "108"}, {"windspeedmph", "1.12"}, {"windgustmph", "4.92"}, {"maxdailygust", "12.97"},
		{"solarradiation", "1.89"}, {"uv", "0"}, {"rainratein", "0.000"}, {"eventrainin", "0.000"},
		{"hourlyrainin", "0.000"}, {"dailyrainin", "0.028"}, {"weeklyrainin", "0.098"}, {"monthlyrainin", "0.909"},
		{"yearlyrainin", "0.909"}, {"temp1f", "45.0"}, {"humidity1", "90"}, {"soilmoisture1", "46"}, {"soilmoisture2", "53"},
		{"tf_ch1", "41.9"}, {"rrain_piezo", "0.000"}, {"erain_piezo", "0.000"}, {"hrain_piezo", "0.000"},
		{"drain_piezo", "0.028"}, {"wrain_piezo", "0.043"}, {"mrain_piezo", "0.492"}, {"yrain_piezo", "0.492"},
		{"wh65batt", "0"}, {"wh25batt", "0"}, {"batt1", "0"}, {"soilbatt1", "1.6"}, {"soilbatt2", "1.6"},
		{"tf_batt1", "1.60"}, {"wh90batt", "3.04"}, {"freq", "868M"}, {"model", "HP1000SE-PRO_Pro_V1.8.5"},
	}
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

// ecowittHeaders: the gateway's HTTP client sends no User-Agent and closes
// the connection.
var ecowittHeaders = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Connection": {"Close"}}

// TestEcowitt is an Ecowitt gateway (GW2000 with a WS90 array) uploading
// every 60 s (accelerated: three uploads) to the path Kotori's
// documentation gives it, the channel's data URL. The beekeeper sees the
// imperial values as numbers at their time of arrival, model and freq as
// text, and the PASSKEY nowhere: not in the export, not on the
// dashboard, not in the error log.
func TestEcowitt(t *testing.T) {
	web, _ := tpHTTP(t)
	start := time.Now()
	path := "/api/hiveeyes/testdrive/area-42/weather/data"
	for i := 0; i < 3; i++ {
		status, body, _ := tpRequest(t, "POST", web+path, ecowittHeaders, ecowittForm(time.Now().Add(time.Duration(i)*time.Minute), 48.4+float64(i)))
		if status != 200 || body != "[\n    {\n        \"type\": \"info\",\n        \"message\": \"Received #1 readings\"\n    }\n]" {
			t.Fatalf("upload %d: %d %q", i, status, body)
		}
	}
	channel := "hiveeyes/testdrive/area-42/weather"
	rows := tpRowsUntil(t, web, channel, "three uploads", func(rows []map[string]any) bool { return len(rows) == 3 })
	for i, r := range rows {
		arrivalTimes(t, []map[string]any{r}, start)
		tpCheckRow(t, fmt.Sprint("upload ", i), r, map[string]any{
			"tempf": 48.4 + float64(i), "humidity": 80.0, "baromrelin": 29.713, "windspeedmph": 1.12, "dailyrainin": 0.028,
			"wh90batt": 3.04, "model": "HP1000SE-PRO_Pro_V1.8.5", "freq": "868M", "stationtype": "EasyWeatherPro_V5.0.6",
		})
		if _, ok := r["PASSKEY"]; ok {
			t.Errorf("the PASSKEY is in the export: %v", r)
		}
	}
	fields := dashboardFields(t, web, channel)
	if _, ok := fields["PASSKEY"]; ok {
		t.Errorf("the PASSKEY is on the dashboard")
	}
	// dateutc is not one of Kotori's time fields: a text value; the
	// reading's time is its arrival (the gateway's clock is NTP-set).
	for f, fam := range map[string]string{"tempf": "Temperature", "humidity": "Humidity", "model": "text", "freq": "text", "dateutc": "text"} {
		if fields[f] != fam {
			t.Errorf("dashboard: %s in %q, want %q", f, fields[f], fam)
		}
	}
	_, csv := tpGet(t, web+"/api/"+channel+"/data.csv?from=2000-01-01")
	_, page := tpGet(t, web+"/d/"+channel+"?range=all")
	if strings.Contains(csv+page, "B950C4D1") {
		t.Errorf("the PASSKEY's value is shown")
	}
	tpOnlyErrors(t, web)
}

// TestEcowittDefaultPath: an Ecowitt gateway's customized upload posts to
// /data/report/ until the user changes the path. Nothing can be stored
// there, but the beekeeper must be able to see why the station does not
// show up: an error-log entry naming the path.
func TestEcowittDefaultPath(t *testing.T) {
	web, _ := tpHTTP(t)
	status, body, _ := tpRequest(t, "POST", web+"/data/report/", ecowittHeaders, ecowittForm(time.Now(), 48.4))
	if status != 404 {
		t.Errorf("status %d %s, want 404", status, body)
	}
	time.Sleep(50 * time.Millisecond)
	for _, e := range errorLog(t, web, nil) {
		if e.Source == "/data/report/" {
			if strings.Contains(e.Excerpt, "B950C4D1") {
				t.Errorf("the error log keeps the PASSKEY: %+v", e)
			}
			return
		}
	}
	t.Errorf("a POST to a path with no ingest endpoint (answered %d %q) left no error-log entry", status, body)
}
