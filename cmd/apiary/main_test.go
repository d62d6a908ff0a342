package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad.toml")
	os.WriteFile(badKey, []byte("[mqtt]\nlisten = \":1883\"\nbrokr = \"x\"\n"), 0o644)
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("[http]\nlisten = \":9999\"\n"), 0o644)

	cases := []struct {
		name        string
		args        []string
		code        int
		out, errOut string // substrings
	}{
		{"version", []string{"version"}, 0, "apiary dev (commit none, go", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--colour"}, 2, "", "-colour"},
		{"unknown flag without command", []string{"--colour"}, 2, "", "-colour"},
		{"unknown key", []string{"config", "--config", badKey}, 2, "", `unknown key "mqtt.brokr"`},
		{"missing file", []string{"config", "--config", filepath.Join(dir, "nope.toml")}, 2, "", "nope.toml"},
		{"bad broker url", []string{"config", "--mqtt-broker", "http://x"}, 2, "", "mqtt.broker"},
		{"config defaults", []string{"config"}, 0, `listen = ":8080"`, ""},
		{"import without files", []string{"import"}, 2, "", "no files"},
		{"import unknown format", []string{"import", "--format", "xlsx", "a.xlsx"}, 2, "", `unknown format "xlsx"`},
		{"import missing file", []string{"import", "--data", filepath.Join(dir, "data"), filepath.Join(dir, "nope.txt")}, 1, "", "nope.txt"},
		{"flags override file", []string{"config", "--config", good, "--http", ":7070", "--mqtt", "", "--data", "/srv/hives"}, 0, `listen = ":7070"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.out)
			}
			if !strings.Contains(errOut.String(), tc.errOut) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.errOut)
			}
		})
	}

	var out bytes.Buffer
	run(context.Background(), []string{"config", "--config", good, "--mqtt", "", "--data", "/srv/hives"}, &out, io.Discard)
	for _, want := range []string{`data_dir = "/srv/hives"`, "[mqtt]\n  listen = \"\"", `listen = ":9999"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("effective config lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBinary builds the real binary with a stamped version, runs it on
// free ports, and stops it with SIGTERM: it must exit 0 after a graceful stop.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "apiary")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version=1.2.3 -X main.commit=abc123", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "apiary 1.2.3 (commit abc123, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if string(out) != want {
		t.Errorf("version = %q, want %q", out, want)
	}

	cmd := exec.Command(bin, "serve", "--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := make(chan string, 1)
	logs := make(chan string, 1000)
	go func() {
		re := regexp.MustCompile(`web interface listening" addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(logs)
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("binary did not report its web address")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("binary did not stop after SIGTERM")
	}
	var all []string
	for l := range logs {
		all = append(all, l)
	}
	joined := strings.Join(all, "\n")
	for _, want := range []string{"part=\"mqtt broker\"", "part=store", "msg=stopped", `msg="Go runtime memory limit" limit=28MiB`} {
		if !strings.Contains(joined, want) {
			t.Errorf("log lacks %q:\n%s", want, joined)
		}
	}
}

// TestPasswd: `apiary passwd` turns a password on stdin into a bcrypt
// hash that the [auth] configuration accepts, and refuses short ones.
func TestPasswd(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runIO(context.Background(), []string{"passwd"}, strings.NewReader("honey-pot-1\n"), &out, &errOut); code != 0 {
		t.Fatalf("passwd: %d %s", code, errOut.String())
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("honey-pot-1")); err != nil {
		t.Errorf("hash %q does not match: %v", hash, err)
	}
	out.Reset()
	if code := runIO(context.Background(), []string{"passwd"}, strings.NewReader("short\n"), &out, &errOut); code == 0 || out.Len() > 0 {
		t.Errorf("a short password got a hash: %q", out.String())
	}
}
