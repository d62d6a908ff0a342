package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/internal/hivegen"
	"github.com/apiary-hive/apiary/store"
)

// BenchmarkNodeDashboardYear renders a node's dashboard for one year of
// 1-minute data of 20 fields (10.5 million points, sealed with rollups),
// and reports the HTML size:
//
//	go test -run XXX -bench NodeDashboardYear -benchtime 20x ./ui
func BenchmarkNodeDashboardYear(b *testing.B) {
	st, err := store.Open(store.Options{Dir: b.TempDir(), SyncInterval: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	end := time.Now().Truncate(time.Hour)
	gen := hivegen.New(hivegen.Options{Seed: 1, Nodes: 1, Fields: 20, Start: end.Add(-365 * 24 * time.Hour), Interval: time.Minute})
	batch := make([]store.Reading, 0, 10000)
	for range 365 * 24 * 60 {
		batch = append(batch, gen.Next()...)
		if len(batch) == cap(batch) {
			if err := st.Write(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	st.Write(ctx, batch)
	if err := st.Seal(ctx); err != nil {
		b.Fatal(err)
	}
	fams := []Family{
		{Name: "Weight", Unit: "kg", Match: []string{"weight"}},
		{Name: "Temperature inside", Unit: "°C", Match: []string{"temp"}, Require: []string{"inside", "brood", "-h"}},
		{Name: "Temperature outside", Unit: "°C", Match: []string{"temp"}, Require: []string{"outside"}},
		{Name: "Humidity", Unit: "%", Match: []string{"hum"}},
		{Name: "Battery", Unit: "V", Match: []string{"volt"}},
		{Name: "Signal", Unit: "dBm", Match: []string{"rssi"}},
		{Name: "Sound", Match: []string{"sound"}},
	}
	srv := httptest.NewServer(New(Options{Store: st, Zone: time.UTC, Families: fams}))
	defer srv.Close()
	url := srv.URL + "/d/hiveeyes/bench/apiary-1/hive-01?range=1y"
	var size int
	b.ResetTimer()
	for range b.N {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		size = int(n)
	}
	b.ReportMetric(float64(size), "html-bytes")
}
