package appliance

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// TestLimits: what is too big gets a clear answer and one error-log entry
// naming where it came from, and the appliance goes on.
func TestLimits(t *testing.T) {
	app := startAppliance(t, func(c *Config) {
		c.HTTP.MaxBody = 4 << 10
		c.MQTT.MaxPayload = 2 << 10
		c.Ingest.MaxFields = 50
	})
	resp, err := http.Post(baseURL(app)+"/api/hiveeyes/limits/site/node/data", "application/json",
		strings.NewReader(`{"x": "`+strings.Repeat("a", 8<<10)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", resp.StatusCode)
	}

	dev := mqttClient(t, app, "big-talker")
	publish(t, dev, "hiveeyes/limits/site/node/data.json", 1, `{"x": "`+strings.Repeat("a", 3<<10)+`"}`)
	var many strings.Builder
	many.WriteString("{")
	for i := 0; i < 60; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"f` + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `": 1`)
	}
	many.WriteString("}")
	publish(t, dev, "hiveeyes/limits/site/node/data.json", 1, many.String())
	publish(t, dev, "hiveeyes/limits/site/node/data.json", 1, `{"weight": 42}`) // still works
	waitPoints(t, app.Store(), store.Channel{Realm: "hiveeyes", Network: "limits", Gateway: "site", Node: "node"}, "weight", 1)

	entries := app.Store().Errors(store.ErrorFilter{Kind: "limit"})
	sources := map[string]bool{}
	for _, e := range entries {
		sources[e.Source] = true
	}
	if !sources["/api/hiveeyes/limits/site/node/data"] || !sources["hiveeyes/limits/site/node/data.json"] {
		t.Errorf("limit entries = %+v", entries)
	}
	// One entry per channel and kind: the two MQTT violations count up.
	for _, e := range entries {
		if e.Source == "hiveeyes/limits/site/node/data.json" && e.Count != 2 {
			t.Errorf("MQTT limit entry counted %d, want 2", e.Count)
		}
	}
}

// TestSlowClientIsCut: a client that sends its request headers slower
// than the read-header timeout (10 s) is disconnected, so that slow
// clients cannot hold the connection slots.
func TestSlowClientIsCut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 10 s header timeout")
	}
	t.Parallel()
	app := startAppliance(t, nil)
	c, err := net.Dial("tcp", app.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 256)
	for {
		// A header line every 2 s: never done, never idle long enough for
		// a per-read timeout.
		go func() { time.Sleep(2 * time.Second); c.Write([]byte("X-Slow: 1\r\n")) }()
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("a slow client held its connection for %s", took)
	}
}
