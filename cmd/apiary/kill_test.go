package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// runBinary starts the built binary and returns its web and MQTT addresses.
func runBinary(t *testing.T, bin string, args ...string) (cmd *exec.Cmd, web, mqttAddr string) {
	t.Helper()
	cmd = exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	webRe := regexp.MustCompile(`web interface listening" addr=(\S+)`)
	mqttRe := regexp.MustCompile(`mqtt broker listening" addr=(\S+)`)
	found := make(chan [2]string, 1)
	go func() {
		var w, m string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if x := webRe.FindStringSubmatch(sc.Text()); x != nil {
				w = x[1]
			}
			if x := mqttRe.FindStringSubmatch(sc.Text()); x != nil {
				m = x[1]
			}
			if w != "" && m != "" {
				found <- [2]string{w, m}
				w, m = "", ""
			}
		}
	}()
	select {
	case a := <-found:
		return cmd, a[0], a[1]
	case <-time.After(20 * time.Second):
		t.Fatal("binary did not report its addresses")
	}
	return
}

// TestAcknowledgedSurvivesSIGKILL: sixteen devices publish at QoS 1, each
// waiting for its PUBACK; the process is killed with SIGKILL in the middle.
// After a restart every acknowledged reading is there.
func TestAcknowledgedSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "apiary")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	args := []string{"serve", "--data", data, "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"}
	cmd, _, mqttAddr := runBinary(t, bin, args...)

	var mu sync.Mutex
	acked := map[string]bool{} // "node/seq"
	var wg sync.WaitGroup
	for d := 0; d < 16; d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + mqttAddr).
				SetClientID(fmt.Sprintf("dev-%d", d)).SetAutoReconnect(false))
			if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				return
			}
			for seq := 1; ; seq++ {
				payload := fmt.Sprintf(`{"seq": %d, "time": %d}`, seq, 1780000000+seq)
				tok := c.Publish(fmt.Sprintf("hiveeyes/kill/site/dev-%d/data.json", d), 1, false, payload)
				if !tok.WaitTimeout(3*time.Second) || tok.Error() != nil || !c.IsConnectionOpen() {
					return
				}
				mu.Lock()
				acked[fmt.Sprintf("dev-%d/%d", d, seq)] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	wg.Wait()
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n < 50 {
		t.Fatalf("only %d acknowledged before the kill: the test proves nothing", n)
	}

	_, web, _ := runBinary(t, bin, args...)
	missing := 0
	for d := 0; d < 16; d++ {
		resp, err := http.Get(fmt.Sprintf("http://%s/api/hiveeyes/kill/site/dev-%d/data.json?from=2026-01-01&to=2027-01-01&include=seq", web, d))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var rows []struct{ Seq float64 }
		json.Unmarshal(body, &rows)
		stored := map[int]bool{}
		for _, r := range rows {
			stored[int(r.Seq)] = true
		}
		for key := range acked {
			var dev, seq int
			fmt.Sscanf(key, "dev-%d/%d", &dev, &seq)
			if dev == d && !stored[seq] {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged readings lost after SIGKILL", missing, n)
	}
	t.Logf("%d readings acknowledged before SIGKILL, all stored after the restart", n)
}
