// Package mosquitto starts a real Mosquitto broker (Debian's mosquitto) for
// tests of Apiary's external-broker mode, on a free port in a temp dir.
package mosquitto

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Broker is a running Mosquitto.
type Broker struct {
	// URL is mqtt://127.0.0.1:<port>.
	URL  string
	Addr string
	cmd  *exec.Cmd
	dir  string
	port int
	log  *os.File
}

// Start runs Mosquitto for the test and stops it at the end. Without a
// mosquitto binary the test is skipped with a loud message, unless
// APIARY_REQUIRE_MOSQUITTO=1 (CI installs it) makes that a failure.
// Mosquitto is configured without its default max_queued_messages limit,
// which would drop QoS 1 messages for a slow subscriber.
func Start(t testing.TB) *Broker {
	t.Helper()
	return StartWithUser(t, "", "")
}

// StartWithUser is Start with anonymous access off and one user.
func StartWithUser(t testing.TB, user, password string) *Broker {
	t.Helper()
	return start(t, user, password, "")
}

// StartWithConf is Start with extra lines for mosquitto.conf
// ("queue_qos0_messages true").
func StartWithConf(t testing.TB, extra string) *Broker {
	t.Helper()
	return start(t, "", "", extra)
}

func start(t testing.TB, user, password, extra string) *Broker {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("APIARY_REQUIRE_MOSQUITTO") == "1" {
			t.Fatal("mosquitto is required (APIARY_REQUIRE_MOSQUITTO=1) but not installed: apt-get install mosquitto")
		}
		t.Skip("!!! SKIPPED: mosquitto not installed; the external-broker tests need Debian's mosquitto (apt-get install mosquitto)")
	}
	b, err := run(bin, t.TempDir(), user, password, extra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}

// Binary finds the mosquitto executable.
func Binary() (string, error) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
			if _, err2 := os.Stat(p); err2 == nil {
				bin, err = p, nil
			}
		}
	}
	return bin, err
}

// Run starts mosquitto with its state in dir; the caller stops it.
func Run(bin, dir string) (*Broker, error) { return RunWithUser(bin, dir, "", "") }

// RunWithUser is Run with anonymous clients refused and one user allowed.
func RunWithUser(bin, dir, user, password string) (*Broker, error) {
	return run(bin, dir, user, password, "")
}

func run(bin, dir, user, password, extra string) (*Broker, error) {
	b := &Broker{dir: dir}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b.port = port
	b.Addr = fmt.Sprintf("127.0.0.1:%d", b.port)
	b.URL = "mqtt://" + b.Addr
	conf := filepath.Join(b.dir, "mosquitto.conf")
	auth := "allow_anonymous true\n"
	if os.Geteuid() == 0 {
		// Run as root (CI, containers), mosquitto would drop to the user
		// "mosquitto", which cannot read the test's private temp dir.
		auth += "user root\n"
	}
	if user != "" {
		pwfile := filepath.Join(dir, "passwd")
		if out, err := exec.Command("mosquitto_passwd", "-c", "-b", pwfile, user, password).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mosquitto_passwd: %v %s", err, out)
		}
		auth = strings.Replace(auth, "allow_anonymous true", "allow_anonymous false\npassword_file "+pwfile, 1)
	}
	os.WriteFile(conf, []byte(fmt.Sprintf(`listener %d 127.0.0.1
%spersistence true
persistence_location %s/
max_queued_messages 0
max_inflight_messages 0
log_dest stderr
%s
`, b.port, auth, b.dir, extra)), 0o644)
	b.log, _ = os.Create(filepath.Join(b.dir, "mosquitto.log"))
	b.cmd = exec.Command(bin, "-c", conf)
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mosquitto: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", b.Addr); err == nil {
			c.Close()
			return b, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Stop()
	return nil, fmt.Errorf("mosquitto did not start listening on %s:\n%s", b.Addr, b.Log())
}

// PID is the broker's process id (to read its RSS).
func (b *Broker) PID() int {
	if b.cmd == nil || b.cmd.Process == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// Stop stops the broker (idempotent).
func (b *Broker) Stop() {
	if b.cmd != nil && b.cmd.Process != nil {
		b.cmd.Process.Kill()
		b.cmd.Wait()
		b.cmd = nil
	}
	if b.log != nil {
		b.log.Close()
		b.log = nil
	}
}

// Log returns what Mosquitto logged.
func (b *Broker) Log() string {
	data, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
	return strings.TrimSpace(string(data))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
