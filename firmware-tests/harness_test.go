package firmwaretests

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/internal/mosquitto"
)

// transport is a way a device reaches the appliance.
type transport struct {
	name string
	// start returns the appliance's web base URL and the MQTT broker
	// address devices publish to ("" for HTTP-only).
	start func(t *testing.T) (web, broker string)
}

// transports are the embedded broker, a real Mosquitto with Apiary in
// external-broker mode, and HTTP.
var mqttTransports = []transport{
	{"embedded", func(t *testing.T) (string, string) {
		app := run(t, func(c *appliance.Config) {})
		return "http://" + app.HTTPAddr().String(), app.MQTTAddr().String()
	}},
	{"mosquitto", func(t *testing.T) (string, string) {
		mq := mosquitto.Start(t)
		app := run(t, func(c *appliance.Config) {
			c.MQTT.Listen = ""
			c.MQTT.Broker = mq.URL
			c.MQTT.ClientID = "apiary-firmware-tests"
		})
		deadline := time.Now().Add(10 * time.Second)
		for !subscribed(app) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		return "http://" + app.HTTPAddr().String(), mq.Addr
	}},
}

func subscribed(app *appliance.Appliance) bool {
	resp, err := http.Get("http://" + app.HTTPAddr().String() + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200 && app.ExternalConnected()
}

func run(t *testing.T, edit func(*appliance.Config)) *appliance.Appliance {
	t.Helper()
	cfg := appliance.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.TimeZone = "Europe/Berlin"
	edit(&cfg)
	app, err := appliance.Open(cfg, appliance.Build{Version: "firmware-tests"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return app
}

// device is a paho client set up the way a firmware sets up its MQTT.
func device(t *testing.T, broker string, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	c := paho.NewClient(opts.AddBroker("tcp://" + broker).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("device connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// exported waits until the channel's export has want rows and returns
// them as the beekeeper's JSON export gives them.
func exported(t *testing.T, web, channel string, rows int) []map[string]any {
	t.Helper()
	u := web + "/api/" + channel + "/data.json?from=2000-01-01&to=now%2B1h"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got []map[string]any
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("export: %v: %s", err, body)
			}
		}
		if len(got) >= rows || time.Now().After(deadline) {
			if len(got) != rows {
				t.Fatalf("export of %s has %d rows, want %d (status %d: %.200s)", channel, len(got), rows, resp.StatusCode, body)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t *testing.T, u, ctype, body string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
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
