package appliance

import (
	"context"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/ingest"
	"github.com/apiary-hive/apiary/store"
)

// TestRealmZoneAndMasks: a realm's own time zone reads its devices' local
// times, and its masks drop its sensors' "missing" values only there.
func TestRealmZoneAndMasks(t *testing.T) {
	app := startAppliance(t, func(c *Config) {
		c.TimeZone = "UTC"
		c.Store.Sync = "1s"
		c.Realms = []RealmConfig{
			{Name: "hiveeyes", TimeZone: "Europe/Berlin", Masks: []ingest.Mask{{Field: "brood*", Values: []float64{-127, 85}}}},
			{Name: "other"},
		}
	})
	ctx := context.Background()
	send := func(topic, payload string) {
		if _, err := app.ingest.HandleTopic(ctx, ingest.Message{Transport: "mqtt", Source: topic, Payload: []byte(payload), QoS: 1}); err != nil {
			t.Fatal(err)
		}
	}
	send("hiveeyes/a/b/c/data.json", `{"time": "2026-07-01T12:00:00", "broodtemperature": -127, "weight": 40}`)
	send("other/a/b/c/data.json", `{"time": "2026-07-01T12:00:00", "broodtemperature": -127, "weight": 40}`)
	if _, err := app.ingest.HandleTopic(ctx, ingest.Message{Source: "elsewhere/a/b/c/data.json", Payload: []byte(`{"w": 1}`)}); err == nil {
		t.Error("a realm that is not configured was accepted")
	}

	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	hive := store.Channel{Realm: "hiveeyes", Network: "a", Gateway: "b", Node: "c"}
	pts, _ := app.Store().Points(ctx, hive, "weight", time.Unix(0, 0), far)
	if len(pts) != 1 || !pts[0].Time.Equal(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("hiveeyes (Berlin) weight = %v, want at 10:00 UTC", pts)
	}
	if pts, _ := app.Store().Points(ctx, hive, "broodtemperature", time.Unix(0, 0), far); len(pts) != 0 {
		t.Errorf("masked -127 stored: %v", pts)
	}
	other := store.Channel{Realm: "other", Network: "a", Gateway: "b", Node: "c"}
	pts, _ = app.Store().Points(ctx, other, "broodtemperature", time.Unix(0, 0), far)
	if len(pts) != 1 || pts[0].Value != -127 || !pts[0].Time.Equal(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("other realm (UTC, no mask) = %v", pts)
	}
}
