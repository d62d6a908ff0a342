// Command smoke runs a release binary (under qemu-user-static for ARM) the
// way a beekeeper's Pi would: `apiary version`, then the appliance on free
// ports, one reading published with paho, read back through the export
// API, and a graceful stop.
//
//	go run ./build/smoke -bin dist/stage/apiary_0.1.0_linux_armv6/apiary -qemu qemu-arm-static
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func main() {
	bin := flag.String("bin", "", "the apiary binary")
	qemu := flag.String("qemu", "", "run it under this emulator (qemu-arm-static, qemu-aarch64-static)")
	flag.Parse()
	if err := run(*bin, *qemu); err != nil {
		log.Fatalf("smoke %s: %v", *bin, err)
	}
}

func command(qemu, bin string, args ...string) *exec.Cmd {
	if qemu == "" {
		return exec.Command(bin, args...)
	}
	return exec.Command(qemu, append([]string{bin}, args...)...)
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func run(bin, qemu string) error {
	out, err := command(qemu, bin, "version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("version: %v: %s", err, out)
	}
	fmt.Print(string(out))
	dir, err := os.MkdirTemp("", "apiary-smoke")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	web, broker := freeAddr(), freeAddr()
	cmd := command(qemu, bin, "serve", "--data", dir+"/data", "--http", web, "--mqtt", broker)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + web + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after 90 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("smoke").SetConnectTimeout(30 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return fmt.Errorf("mqtt connect: %v", tok.Error())
	}
	tok := c.Publish("hiveeyes/smoke/site/hive/data.json", 1, false, `{"weight": 42.17, "time": "2026-05-01T10:00:00Z"}`)
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publish: %v", tok.Error())
	}
	c.Disconnect(100)
	resp, err := http.Get("http://" + web + "/api/hiveeyes/smoke/site/hive/data.csv?from=2026-05-01&to=2026-05-01")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "time,weight\n2026-05-01T10:00:00.000000Z,42.17\n"; string(body) != want {
		return fmt.Errorf("export = %q, want %q", body, want)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("stop: %v", err)
		}
	case <-time.After(60 * time.Second):
		return fmt.Errorf("did not stop after SIGTERM")
	}
	fmt.Println("smoke ok:", strings.TrimSpace(string(out)))
	return nil
}
