package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// apiChannel is one element of GET /api/channels.
type apiChannel struct {
	Realm   string    `json:"realm"`
	Network string    `json:"network"`
	Gateway string    `json:"gateway"`
	Node    string    `json:"node"`
	Fields  []string  `json:"fields"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

func (u *UI) apiChannels(w http.ResponseWriter, r *http.Request) {
	chans := u.st.Channels()
	out := make([]apiChannel, 0, len(chans))
	for _, ci := range chans {
		c := apiChannel{
			Realm: ci.Channel.Realm, Network: ci.Channel.Network, Gateway: ci.Channel.Gateway, Node: ci.Channel.Node,
			Fields: make([]string, 0, len(ci.Fields)), First: ci.First.UTC(), Last: ci.Last.UTC(),
		}
		seen := map[string]bool{}
		for _, f := range ci.Fields {
			if !seen[f.Name] {
				c.Fields = append(c.Fields, f.Name)
				seen[f.Name] = true
			}
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiError is one element of GET /api/errors.
type apiError struct {
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int64     `json:"count"`
	Kind    string    `json:"kind"`
	Channel string    `json:"channel"`
	Source  string    `json:"source"`
	Client  string    `json:"client,omitempty"`
	Message string    `json:"message"`
	Excerpt string    `json:"excerpt"`
}

func (u *UI) apiErrors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	entries := u.st.Errors(store.ErrorFilter{Channel: q.Get("channel"), Kind: q.Get("kind")})
	out := make([]apiError, 0, len(entries))
	for _, e := range entries {
		out = append(out, apiError(e))
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// metrics serves the Prometheus text exposition format.
func (u *UI) metrics(w http.ResponseWriter, r *http.Request) {
	st := u.st.Stats()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	metric := func(name, kind, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, kind, name, v)
	}
	metric("apiary_readings_stored_total", "counter", "Readings stored since the appliance started.", st.ReadingsStored)
	metric("apiary_points_stored_total", "counter", "Values (points) stored since the appliance started.", st.PointsStored)
	metric("apiary_ingest_errors_total", "counter", "Problems with incoming messages recorded in the error log since the appliance started.", st.ErrorsRecorded)
	metric("apiary_channels", "gauge", "Channels (nodes) in the catalogue.", st.Channels)
	metric("apiary_series", "gauge", "Series (fields of channels) in the catalogue.", st.Series)
	metric("apiary_store_disk_bytes", "gauge", "Bytes the store uses on disk.", st.DiskBytes)
	metric("apiary_store_log_syncs_total", "counter", "Fsyncs of the store's write-ahead log since the appliance started (each rewrites a flash page of an SD card).", st.LogSyncs)
	metric("apiary_mqtt_clients_connected", "gauge", "MQTT clients connected to the embedded broker.", u.opts.MQTTClients())
	metric("apiary_ingest_rate", "gauge", "Readings stored per second since the previous scrape.", u.rate.sample(u.now(), st.ReadingsStored))
	metric("apiary_disk_free_bytes", "gauge", "Free bytes on the data directory's file system.", u.st.FreeDiskBytes())
	metric("apiary_uptime_seconds", "gauge", "Seconds since the appliance started.", int64(u.now().Sub(u.opts.Started).Seconds()))
	metric("apiary_go_heap_bytes", "gauge", "Bytes of allocated heap objects.", ms.HeapAlloc)
	metric("apiary_go_sys_bytes", "gauge", "Bytes of memory obtained from the OS by the Go runtime.", ms.Sys)
	metric("apiary_go_goroutines", "gauge", "Goroutines.", runtime.NumGoroutine())
}
