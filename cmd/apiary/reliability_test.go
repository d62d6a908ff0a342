package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/apiary-hive/apiary/internal/mosquitto"
)

// memory reads a process's resident set and its peak (VmRSS, VmHWM) in
// bytes from /proc.
func memory(t *testing.T, pid int) (rss, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read memory of %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// exportRows returns the rows of a channel's JSON export.
func exportRows(t *testing.T, web, channel, include string) []map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + web + "/api/" + channel + "/data.json?from=2000-01-01&to=now%2B1d&include=" + include)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	var rows []map[string]any
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatalf("export of %s: %v: %.200s", channel, err, body)
	}
	return rows
}

// errorCount returns the number of entries in the error log.
func errorCount(t *testing.T, web string) int {
	t.Helper()
	resp, err := http.Get("http://" + web + "/api/errors")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		t.Fatalf("error log: %v", err)
	}
	return len(entries)
}

// badMessages are what broken, confused or hostile devices send: each
// makes an error-log entry or is ignored, and none may make Apiary say
// anything on the bus.
var badMessages = []struct{ topic, payload string }{
	{"hiveeyes/loop/site/node-%d/data.json", `{"weight": `},
	{"hiveeyes/loop/site/node-%d/data.json", `{"weight": "heavy"}`},
	{"hiveeyes/loop/site/node-%d/data.json", "\x00\xff\xfe binary"},
	{"hiveeyes/loop/site/node-%d/data.json", `[1, 2, 3]`},
	{"hiveeyes/loop/site/node-%d/error.json", `{"message": "Kotori used to publish this"}`},
	{"hiveeyes/loop/site/node-%d/foo.bar", `{"x": 1}`},
	{"hiveeyes/loop/site/node-%d/event.json", `[]`},
	{"hiveeyes/loop/node-%d", `{"x": 1}`},
	{"tele/node-%d/SENSOR", `not json`},
	{"homie/node-%d/$state", `ready`},
}

// TestLoopProof: two Apiary instances subscribe to the same Mosquitto in
// external-broker mode while devices send valid and error-inducing
// messages. A spy on "#" must see exactly what the devices sent, nothing
// more (Kotori's 2018 outage was its own error messages coming back), and
// the instances' memory stays flat.
func TestLoopProof(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two binaries against Mosquitto")
	}
	mq := mosquitto.Start(t)
	bin := buildBinary(t)
	var procs []*process
	for _, name := range []string{"a", "b"} {
		dir := t.TempDir()
		conf := filepath.Join(dir, "apiary.toml")
		os.WriteFile(conf, []byte(fmt.Sprintf("[mqtt]\nlisten = \"\"\nbroker = %q\nclient_id = \"apiary-loop-%s\"\n", mq.URL, name)), 0o644)
		procs = append(procs, runBinary(t, bin, "serve", "--config", conf, "--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0"))
	}

	var spied atomic.Int64
	var mu sync.Mutex
	seen := map[string]int{} // topic + payload -> times seen
	spy := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + mq.Addr).SetClientID("spy").SetAutoReconnect(false))
	if tok := spy.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("spy: %v", tok.Error())
	}
	defer spy.Disconnect(100)
	if tok := spy.Subscribe("#", 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		seen[m.Topic()+"\x00"+string(m.Payload())]++
		mu.Unlock()
		spied.Add(1)
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("spy subscribe: %v", tok.Error())
	}

	// Wait until both instances are subscribed: a probe reaches both.
	dev := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + mq.Addr).SetClientID("devices").SetAutoReconnect(false))
	if tok := dev.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("devices: %v", tok.Error())
	}
	defer dev.Disconnect(100)
	sent := map[string]int{}
	send := func(topic, payload string, qos byte) {
		sent[topic+"\x00"+payload]++
		if tok := dev.Publish(topic, qos, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for probe := 0; ; probe++ {
		send("hiveeyes/loop/site/probe/data.json", fmt.Sprintf(`{"probe": %d}`, probe), 1)
		time.Sleep(100 * time.Millisecond)
		if len(exportRows(t, procs[0].web, "hiveeyes/loop/site/probe", "probe")) > 0 && len(exportRows(t, procs[1].web, "hiveeyes/loop/site/probe", "probe")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instances did not subscribe")
		}
	}

	const rounds = 300
	valid := 0
	var warm [2]int64
	for i := 0; i < rounds; i++ {
		node := i % 7
		send(fmt.Sprintf("hiveeyes/loop/site/node-%d/data.json", node), fmt.Sprintf(`{"weight": %d.5, "seq": %d}`, 40+i%5, i), byte(i%2))
		valid++
		for _, bad := range badMessages {
			send(fmt.Sprintf(bad.topic, node), bad.payload, byte(i%2))
		}
		if i == rounds/4 {
			for j, p := range procs {
				warm[j], _ = memory(t, p.cmd.Process.Pid)
			}
		}
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	// Everything sent arrives at the spy; then nothing more comes.
	deadline = time.Now().Add(20 * time.Second)
	for spied.Load() < int64(total) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	for key, n := range seen {
		if sent[key] != n {
			topic, payload, _ := strings.Cut(key, "\x00")
			t.Errorf("on the bus %d times, sent by devices %d times: %s %q", n, sent[key], topic, payload)
		}
	}
	mu.Unlock()
	if got := spied.Load(); got != int64(total) {
		t.Errorf("the spy saw %d messages, the devices sent %d", got, total)
	}

	for j, p := range procs {
		stored := 0
		for node := 0; node < 7; node++ {
			for _, row := range exportRows(t, p.web, fmt.Sprintf("hiveeyes/loop/site/node-%d", node), "seq") {
				if row["seq"] != nil {
					stored++
				}
			}
		}
		rss, peak := memory(t, p.cmd.Process.Pid)
		errs := errorCount(t, p.web)
		t.Logf("instance %d: %d of %d valid readings stored, %d error-log entries, RSS %s after a quarter, %s at the end (peak %s)",
			j, stored, valid, errs, mib(warm[j]), mib(rss), mib(peak))
		if stored != valid {
			t.Errorf("instance %d stored %d valid readings, want %d", j, stored, valid)
		}
		if errs == 0 {
			t.Errorf("instance %d: the bad messages left no error-log entry", j)
		}
		if rss > warm[j]+32<<20 {
			t.Errorf("instance %d: memory grew from %s to %s", j, mib(warm[j]), mib(rss))
		}
	}
}

// TestFlood: 100,000 malformed messages at full speed from four clients,
// with 1,000 valid QoS 1 readings among them. Every valid reading is
// stored, the error log stays within its cap, peak memory stays bounded,
// and ingest goes on afterwards. APIARY_FLOOD changes the count.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a binary")
	}
	flood := 100_000
	if n, err := strconv.Atoi(os.Getenv("APIARY_FLOOD")); err == nil && n > 0 {
		flood = n
	}
	const validCount, maxEntries = 1000, 1000
	bin := buildBinary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "apiary.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("[errors]\nmax_entries = %d\n", maxEntries)), 0o644)
	p := runBinary(t, bin, "serve", "--config", conf, "--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
	_, startPeak := memory(t, p.cmd.Process.Pid)

	connect := func(id string) paho.Client {
		c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + p.mqtt).SetClientID(id).SetAutoReconnect(false).SetWriteTimeout(10 * time.Second))
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("%s: %v", id, tok.Error())
		}
		t.Cleanup(func() { c.Disconnect(100) })
		return c
	}
	start := time.Now()
	var wg sync.WaitGroup
	const flooders = 4
	for f := range flooders {
		c := connect(fmt.Sprintf("flooder-%d", f))
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(f), 1))
			var last paho.Token
			for i := f; i < flood; i += flooders {
				bad := badMessages[i%len(badMessages)]
				// Many nodes: more distinct problems than the log keeps.
				last = c.Publish(fmt.Sprintf(bad.topic, rng.IntN(3000)), 0, false, bad.payload)
			}
			last.WaitTimeout(60 * time.Second)
		})
	}
	good := connect("good-device")
	acked := 0
	for i := 0; i < validCount; i++ {
		tok := good.Publish("hiveeyes/flood/site/good/data.json", 1, false, fmt.Sprintf(`{"seq": %d, "weight": 42.5}`, i))
		if tok.WaitTimeout(30*time.Second) && tok.Error() == nil {
			acked++
		}
	}
	wg.Wait()
	floodTime := time.Since(start)

	// Ingest goes on: a reading after the flood is stored at once.
	after := connect("after-flood")
	if tok := after.Publish("hiveeyes/flood/site/after/data.json", 1, false, `{"weight": 1}`); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish after the flood: %v", tok.Error())
	}
	if rows := exportRows(t, p.web, "hiveeyes/flood/site/after", "weight"); len(rows) != 1 {
		t.Errorf("reading after the flood: %d rows", len(rows))
	}
	rows := exportRows(t, p.web, "hiveeyes/flood/site/good", "seq")
	entries := errorCount(t, p.web)
	rss, peak := memory(t, p.cmd.Process.Pid)
	t.Logf("%d malformed + %d valid QoS 1 messages in %s; %d acknowledged, %d stored; %d error-log entries (cap %d); RSS %s, peak %s (at start %s)",
		flood, validCount, floodTime.Round(time.Millisecond), acked, len(rows), entries, maxEntries, mib(rss), mib(peak), mib(startPeak))
	if acked != validCount || len(rows) != validCount {
		t.Errorf("valid readings: %d acknowledged, %d stored, want %d", acked, len(rows), validCount)
	}
	if entries > maxEntries || entries == 0 {
		t.Errorf("error log holds %d entries, want 1..%d", entries, maxEntries)
	}
	if peak > 256<<20 {
		t.Errorf("peak RSS %s under the flood (want at most 256 MiB)", mib(peak))
	}
}
