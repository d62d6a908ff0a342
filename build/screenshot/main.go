// Command screenshot fills an appliance with generated hive data and takes
// screenshots of its pages with headless Chromium, for the README:
//
//	go run ./build/screenshot -out docs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/internal/hivegen"
	"github.com/apiary-hive/apiary/store"
)

func main() {
	out := flag.String("out", "docs", "directory for the PNG files")
	days := flag.Int("days", 45, "days of 5-minute data")
	hives := flag.Int("hives", 3, "hives")
	flag.Parse()
	if err := run(*out, *days, *hives); err != nil {
		log.Fatal(err)
	}
}

func run(out string, days, hives int) error {
	chromium, err := findChromium()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "apiary-screenshot")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := appliance.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = ""
	cfg.TimeZone = "Europe/Berlin"
	cfg.Store.Sync = "10s"
	app, err := appliance.Open(cfg, appliance.Build{Version: "screenshot"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()

	interval := 5 * time.Minute
	steps := days * 24 * 12
	start := time.Now().Add(-time.Duration(steps) * interval)
	gen := hivegen.New(hivegen.Options{Seed: 42, Nodes: hives, Fields: 10, Start: start, Interval: interval,
		Realm: "hiveeyes", Network: "demo", Gateway: "waldrand"})
	st := app.Store()
	var batch []store.Reading
	for range steps {
		batch = append(batch, gen.Next()...)
		if len(batch) >= 4096 {
			if err := st.Write(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := st.Write(ctx, batch); err != nil {
		return err
	}
	hive := store.Channel{Realm: "hiveeyes", Network: "demo", Gateway: "waldrand", Node: "hive-01"}
	st.WriteEvents(ctx, []store.Event{
		{Channel: hive, Time: time.Now().Add(-9 * 24 * time.Hour), Title: "Fed 2 kg", Text: "sugar syrup 3:2"},
		{Channel: hive, Time: time.Now().Add(-3 * 24 * time.Hour), Title: "Inspection", Text: "queen seen, 7 frames brood"},
	})
	base := "http://" + app.HTTPAddr().String()
	http.Post(base+"/api/hiveeyes/demo/waldrand/hive-02/data", "application/json", strings.NewReader(`{"weight": 42.`))

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	shots := []struct{ file, path, size string }{
		{"overview.png", "/", "1280,900"},
		{"dashboard-1280.png", "/d/hiveeyes/demo/waldrand/hive-01?range=30d", "1280,2200"},
		{"dashboard-360.png", "/d/hiveeyes/demo/waldrand/hive-01?range=7d", "360,2400"},
		{"errors.png", "/errors", "1280,700"},
		{"status.png", "/status", "1280,700"},
	}
	for _, s := range shots {
		file := filepath.Join(out, s.file)
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
			"--user-data-dir="+filepath.Join(dir, "chromium"), "--window-size="+s.size,
			"--virtual-time-budget=5000", "--screenshot="+file, base+s.path)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("chromium %s: %v\n%s", s.path, err, b)
		}
		fmt.Println("wrote", file)
	}
	cancel()
	return <-done
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium: apt-get install chromium")
}
