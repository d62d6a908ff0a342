package appliance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/apiary-hive/apiary/internal/hivegen"
	"github.com/apiary-hive/apiary/store"
)

// chromium finds Debian's chromium; without it the browser tests skip
// loudly, unless APIARY_REQUIRE_CHROMIUM=1 (CI installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("APIARY_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is required (APIARY_REQUIRE_CHROMIUM=1) but not installed: apt-get install chromium")
	}
	t.Skip("!!! SKIPPED: chromium not installed; the browser tests need Debian's chromium (apt-get install chromium)")
	return ""
}

const evil = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`

// TestPagesInABrowser opens every page in headless Chromium, on a phone
// and on a desktop, with a season of hive data and device strings that try
// to run script. The charts must draw, the console stay quiet, every
// request go to the appliance, and no device string run.
func TestPagesInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	bin := chromium(t)
	app := startAppliance(t, func(c *Config) { c.MQTT.Listen = "" })
	ctx := context.Background()
	now := time.Now()
	gen := hivegen.New(hivegen.Options{Seed: 3, Nodes: 2, Fields: 10, Start: now.Add(-60 * 24 * time.Hour), Interval: 15 * time.Minute,
		Realm: "hiveeyes", Network: "season", Gateway: "garden"})
	var batch []store.Reading
	for range 60 * 24 * 4 {
		batch = append(batch, gen.Next()...)
	}
	if err := app.Store().Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	app.Store().Seal(ctx)
	hive := store.Channel{Realm: "hiveeyes", Network: "season", Gateway: "garden", Node: "hive-01"}
	app.Store().WriteEvents(ctx, []store.Event{{Channel: hive, Time: now.Add(-3 * 24 * time.Hour), Title: "Fed " + evil, Text: evil}})
	base := baseURL(app)
	// A device that sends markup as names and values, over HTTP.
	body := fmt.Sprintf(`{"weight%s": 1, "status": %q}`, strings.ReplaceAll(evil, `"`, `\"`), evil)
	resp, err := http.Post(base+"/api/hiveeyes/evil/garden/"+url.PathEscape("node")+"/data", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("evil post: %v %v", resp, err)
	}
	http.Post(base+"/api/hiveeyes/evil/garden/node/data", "application/json", strings.NewReader(`{"x": `+evil))

	dir := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir))
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var problems, requests []string
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console "+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			problems = append(problems, "exception: "+msg)
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	pages := []string{
		"/",
		"/n/hiveeyes/season",
		"/d/hiveeyes/season/garden/hive-01?range=30d",
		"/d/hiveeyes/season/garden/hive-01?range=1y",
		"/d/hiveeyes/season/garden/hive-01?range=1h",
		"/d/hiveeyes/evil/garden/node",
		"/errors",
		"/status",
	}
	type canvasInfo struct {
		Charts   int `json:"charts"`
		Drawn    int `json:"drawn"`
		NonBlank int `json:"nonBlank"`
		Pwned    any `json:"pwned"`
	}
	// Wait until every chart has a canvas, then count the canvases with
	// painted pixels.
	const probe = `(async () => {
	  const charts = Array.from(document.querySelectorAll(".chart[data-option]"));
	  for (let i = 0; i < 100 && charts.some(c => !c.querySelector("canvas")); i++) await new Promise(r => setTimeout(r, 50));
	  let nonBlank = 0;
	  for (const c of document.querySelectorAll(".chart canvas")) {
	    const o = document.createElement("canvas"); o.width = c.width; o.height = c.height;
	    const g = o.getContext("2d"); g.drawImage(c, 0, 0);
	    const d = g.getImageData(0, 0, o.width, o.height).data;
	    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) { nonBlank++; break; }
	  }
	  return {charts: charts.length, drawn: charts.filter(c => c.querySelector("canvas")).length, nonBlank, pwned: window.__pwned ?? null};
	})()`
	for _, vp := range [][2]int64{{360, 800}, {1280, 900}} {
		for _, p := range pages {
			tctx, tcancel := context.WithTimeout(bctx, 30*time.Second)
			err := chromedp.Do(tctx, chromedp.EmulateViewport(vp[0], vp[1]), chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("main")))
			if err != nil {
				tcancel()
				t.Fatalf("%s at %d px: %v", p, vp[0], err)
			}
			info, err := chromedp.Run(tctx, chromedp.Evaluate[canvasInfo](probe, chromedp.EvalAwaitPromise))
			tcancel()
			if err != nil {
				t.Fatalf("%s at %d px: probe: %v", p, vp[0], err)
			}
			if info.Pwned != nil {
				t.Errorf("%s: a device string ran as script (window.__pwned=%v)", p, info.Pwned)
			}
			if info.Drawn != info.Charts || info.NonBlank != info.Charts {
				t.Errorf("%s at %d px: %d charts, %d drawn, %d with pixels", p, vp[0], info.Charts, info.Drawn, info.NonBlank)
			}
			if strings.HasPrefix(p, "/d/hiveeyes/season") && info.Charts < 8 {
				t.Errorf("%s: only %d charts", p, info.Charts)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, pr := range problems {
		t.Errorf("browser: %s", pr)
	}
	for _, r := range requests {
		if !strings.HasPrefix(r, base+"/") && !strings.HasPrefix(r, "data:") {
			t.Errorf("a request left the appliance: %s", r)
		}
	}
	if len(requests) < len(pages)*2 {
		t.Errorf("only %d requests seen: the listener is not working", len(requests))
	}
}
