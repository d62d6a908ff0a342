package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// process is a running apiary binary.
type process struct {
	cmd       *exec.Cmd
	web, mqtt string
	mu        sync.Mutex
	errors    []string // log lines at level ERROR
}

func (p *process) errorLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// runBinary starts the built binary and waits until it is ready and has
// reported its web (and MQTT) addresses.
func runBinary(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...)}
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	webRe := regexp.MustCompile(`web interface listening" addr=(\S+)`)
	mqttRe := regexp.MustCompile(`mqtt broker listening" addr=(\S+)`)
	found := make(chan [2]string, 1)
	go func() {
		var w, m string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "level=ERROR") {
				p.mu.Lock()
				p.errors = append(p.errors, line)
				p.mu.Unlock()
			}
			if x := webRe.FindStringSubmatch(line); x != nil {
				w = x[1]
			}
			if x := mqttRe.FindStringSubmatch(line); x != nil {
				m = x[1]
			}
			// "apiary ready" follows the listeners (MQTT only when the
			// embedded broker is on).
			if w != "" && strings.Contains(line, `msg="apiary ready"`) {
				found <- [2]string{w, m}
				w, m = "", ""
			}
		}
	}()
	select {
	case a := <-found:
		p.web, p.mqtt = a[0], a[1]
		return p
	case <-time.After(20 * time.Second):
		t.Fatal("binary did not report its addresses (did the store open?)")
	}
	return nil
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "apiary")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// acks records the readings a device saw acknowledged: node -> seqs.
type acks struct {
	mu   sync.Mutex
	seqs map[string][]int
}

func (a *acks) add(node string, seq int) {
	a.mu.Lock()
	a.seqs[node] = append(a.seqs[node], seq)
	a.mu.Unlock()
}

func (a *acks) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range a.seqs {
		n += len(s)
	}
	return n
}

// TestCrashRounds: devices publish at QoS 1 (each waiting for its PUBACK)
// and post over HTTP (each waiting for its 200) while the process is
// killed with SIGKILL at a random moment, twenty times over on the same
// data directory. After each restart the store opens cleanly, logs no
// error, and every reading acknowledged in any round so far is there.
//
// APIARY_CRASH_ROUNDS changes the number of rounds; APIARY_CRASH_SEED
// replays the kill moments of a run (it is logged).
func TestCrashRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it twenty times")
	}
	rounds := 20
	if n, err := strconv.Atoi(os.Getenv("APIARY_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("APIARY_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("APIARY_CRASH_SEED=%d APIARY_CRASH_ROUNDS=%d", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0))

	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"serve", "--data", data, "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"}
	got := &acks{seqs: map[string][]int{}}
	const mqttDevices, httpDevices = 8, 4
	for round := 0; round < rounds; round++ {
		p := runBinary(t, bin, args...)
		if round > 0 {
			verify(t, p.web, got, round)
			if errs := p.errorLines(); len(errs) > 0 {
				t.Fatalf("round %d: the reopened store logged errors:\n%s", round, strings.Join(errs, "\n"))
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for d := range mqttDevices {
			wg.Go(func() { mqttDevice(p.mqtt, fmt.Sprintf("mqtt-%d", d), round, got, stop) })
		}
		for d := range httpDevices {
			wg.Go(func() { httpDevice(p.web, fmt.Sprintf("http-%d", d), round, got, stop) })
		}
		before := got.total()
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		close(stop)
		wg.Wait()
		if got.total()-before < 20 {
			t.Fatalf("round %d: only %d readings acknowledged before the kill: the round proves nothing", round, got.total()-before)
		}
	}
	p := runBinary(t, bin, args...)
	verify(t, p.web, got, rounds)
	t.Logf("%d rounds, %d readings acknowledged (QoS 1 PUBACK or HTTP 200), all stored after every restart", rounds, got.total())
}

// seqTime gives each reading its own second: rounds a day apart.
func seqTime(round, seq int) int64 { return 1780000000 + int64(round)*86400 + int64(seq) }

func mqttDevice(addr, node string, round int, got *acks, stop chan struct{}) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(node).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(3*time.Second) || tok.Error() != nil {
		return
	}
	defer c.Disconnect(0)
	for seq := 1; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		payload := fmt.Sprintf(`{"seq": %d, "round": %d, "time": %d}`, seq, round, seqTime(round, seq))
		tok := c.Publish("hiveeyes/crash/site/"+node+"/data.json", 1, false, payload)
		if !tok.WaitTimeout(3*time.Second) || tok.Error() != nil || !c.IsConnectionOpen() {
			return
		}
		got.add(node, round*1_000_000+seq)
	}
}

func httpDevice(web, node string, round int, got *acks, stop chan struct{}) {
	client := &http.Client{Timeout: 3 * time.Second}
	for seq := 1; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		body := fmt.Sprintf(`{"seq": %d, "round": %d, "time": %d}`, seq, round, seqTime(round, seq))
		resp, err := client.Post("http://"+web+"/api/hiveeyes/crash/site/"+node+"/data", "application/json", strings.NewReader(body))
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return
		}
		got.add(node, round*1_000_000+seq)
	}
}

// verify checks that every acknowledged reading is in the export.
func verify(t *testing.T, web string, got *acks, round int) {
	t.Helper()
	got.mu.Lock()
	defer got.mu.Unlock()
	for node, seqs := range got.seqs {
		resp, err := http.Get("http://" + web + "/api/hiveeyes/crash/site/" + node + "/data.json?from=2026-01-01&to=2028-01-01&include=seq,round")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var rows []struct{ Seq, Round float64 }
		if err := json.Unmarshal(body, &rows); err != nil {
			t.Fatalf("after round %d: export of %s: %v: %.200s", round, node, err, body)
		}
		stored := map[int]bool{}
		for _, r := range rows {
			stored[int(r.Round)*1_000_000+int(r.Seq)] = true
		}
		missing := 0
		for _, s := range seqs {
			if !stored[s] {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("after round %d: %s lost %d of %d acknowledged readings", round, node, missing, len(seqs))
		}
	}
}
