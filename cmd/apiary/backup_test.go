package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestBackupAndRestore: `apiary backup` while the appliance runs (as a
// .tar.gz and as a directory), `apiary restore` refused while it runs and
// done once it stopped, and the data is back after the restart.
func TestBackupAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "apiary")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	web := freeAddr(t)
	conf := filepath.Join(dir, "apiary.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("data_dir = %q\n[http]\nlisten = %q\n[mqtt]\nlisten = \"\"\n", filepath.Join(dir, "data"), web)), 0o644)
	cmd, _, _ := startServe(t, bin, conf)
	post := func(body string) {
		resp, err := http.Post("http://"+web+"/api/hiveeyes/backup/site/hive/data", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	post(`{"weight": 42.5, "time": "2026-05-01T10:00:00Z"}`)

	var out, errOut bytes.Buffer
	archive := filepath.Join(dir, "b.tar.gz")
	if code := run(context.Background(), []string{"backup", "--config", conf, archive}, &out, &errOut); code != 0 {
		t.Fatalf("backup while running: %d %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"backup", "--config", conf, filepath.Join(dir, "b-dir")}, &out, &errOut); code != 0 {
		t.Fatalf("backup into a directory while running: %d %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"backup", "--config", conf, archive}, &out, &errOut); code == 0 {
		t.Error("backup overwrote an existing file")
	}
	post(`{"weight": 99, "time": "2026-05-01T11:00:00Z"}`) // after the backup: gone after the restore
	errOut.Reset()
	if code := run(context.Background(), []string{"restore", "--config", conf, archive}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "stop it first") {
		t.Errorf("restore while running: %d %q", code, errOut.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	errOut.Reset()
	if code := run(context.Background(), []string{"restore", "--config", conf, archive}, &out, &errOut); code != 0 {
		t.Fatalf("restore: %d %s", code, errOut.String())
	}
	startServe(t, bin, conf)
	resp, err := http.Get("http://" + web + "/api/hiveeyes/backup/site/hive/data.csv?from=2026-05-01&to=2026-05-01")
	if err != nil {
		t.Fatal(err)
	}
	body := new(bytes.Buffer)
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if want := "time,weight\n2026-05-01T10:00:00.000000Z,42.5\n"; body.String() != want {
		t.Errorf("after restore: %q, want %q", body.String(), want)
	}
}

func startServe(t *testing.T, bin, conf string) (*exec.Cmd, string, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	data, _ := os.ReadFile(conf)
	var web string
	fmt.Sscanf(strings.Split(string(data), "listen = ")[1], "%q", &web)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + web + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, web, ""
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("appliance did not come up")
	return nil, "", ""
}
