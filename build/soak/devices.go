package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// env is what a node needs to reach the appliance and to account for
// what it sent.
type env struct {
	web    string // http://host:port
	mqtt   string // host:port
	ledger *ledger
}

// node is one emulated device (or gateway) of a kind.
type node struct {
	idx  int
	kind string
	rng  *rand.Rand
	env  *env
	// net and gw are the Kotori network and gateway of the node's
	// channel(s), name its node or device name.
	net, gw, name string
}

// device is the behaviour of a node: it connects (or not, over HTTP),
// then reports once per device interval until the soak ends.
type device interface {
	// connect opens the device's connection and sends what the firmware
	// sends on connecting.
	connect() error
	// report sends the k-th report (from 0); at is the device's clock
	// (accelerated), for firmwares that send their own time.
	report(k int, at time.Time)
	// close ends the connection the way the firmware does at a shutdown.
	close()
}

// --------------------------------------------------------------- MQTT

// mqttDevice is a paho client set up the way a firmware sets up its MQTT.
type mqttDevice struct {
	n    *node
	opts *paho.ClientOptions
	c    paho.Client
}

func newMQTTDevice(n *node, opts *paho.ClientOptions) *mqttDevice {
	opts.AddBroker("tcp://" + n.env.mqtt).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second)
	return &mqttDevice{n: n, opts: opts}
}

func (d *mqttDevice) dial() error {
	d.c = paho.NewClient(d.opts)
	tok := d.c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return errors.New("MQTT connect: timeout")
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("MQTT connect: %w", err)
	}
	return nil
}

// up reconnects a device whose connection was lost (firmwares reconnect
// before their next cycle); it reports whether the device is connected.
func (d *mqttDevice) up(reconnect func() error) bool {
	if d.c != nil && d.c.IsConnectionOpen() {
		return true
	}
	if err := reconnect(); err != nil {
		d.n.env.ledger.failed(d.n.kind, err)
		return false
	}
	return true
}

// pub publishes and waits for what the QoS promises (QoS 0: written to
// the connection; QoS 1: the PUBACK). It counts the message as sent, or
// as a send error.
func (d *mqttDevice) pub(topic string, qos byte, retain bool, payload string) bool {
	tok := d.c.Publish(topic, qos, retain, payload)
	var err error
	if !tok.WaitTimeout(30 * time.Second) {
		err = fmt.Errorf("publish %s: no acknowledgement within 30s", topic)
	} else if tok.Error() != nil {
		err = fmt.Errorf("publish %s: %w", topic, tok.Error())
	}
	if err != nil {
		d.n.env.ledger.failed(d.n.kind, err)
		return false
	}
	d.n.env.ledger.message(d.n.kind)
	return true
}

func (d *mqttDevice) disconnect() {
	if d.c != nil && d.c.IsConnectionOpen() {
		d.c.Disconnect(250)
	}
}

// --------------------------------------------------------------- HTTP

var receivedN = regexp.MustCompile(`Received #(\d+) readings`)

// rawPOST sends a request exactly as a device's HTTP stack writes it (an
// Arduino HTTP client, a SIM800 modem, MicroPython's urequests) on a new
// connection, and checks the answer: 200 and, when want >= 0, Kotori's
// "Received #want readings". It counts the request as sent or failed.
func (n *node) rawPOST(request string, want int) bool {
	err := func() error {
		host := strings.TrimPrefix(n.env.web, "http://")
		conn, err := net.DialTimeout("tcp", host, 10*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := io.WriteString(conn, request); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return checkAnswer(resp.StatusCode, string(body), http.StatusOK, want)
	}()
	if err != nil {
		n.env.ledger.failed(n.kind, fmt.Errorf("POST: %w", err))
		return false
	}
	n.env.ledger.message(n.kind)
	return true
}

func checkAnswer(status int, body string, wantStatus, want int) error {
	if status != wantStatus {
		return fmt.Errorf("answer %d, want %d: %.200s", status, wantStatus, body)
	}
	if want < 0 {
		return nil
	}
	m := receivedN.FindStringSubmatch(body)
	if m == nil || m[1] != strconv.Itoa(want) {
		return fmt.Errorf("answer %.200q, want \"Received #%d readings\"", body, want)
	}
	return nil
}

// sim800POST is the request a SIM800 modem's HTTP client writes for
// AT+HTTPPARA="CONTENT" and AT+HTTPACTION=1: HTTP/1.1, its User-Agent,
// no TLS (hence /api-notls/).
func (n *node) sim800POST(path, ctype, body string, want int) bool {
	host := strings.TrimPrefix(n.env.web, "http://")
	return n.rawPOST("POST "+path+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: SIMCOM_MODULE\r\n"+
		"Content-Type: "+ctype+"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body, want)
}

// arduinoPOST is ArduinoHttpClient's request: HTTP/1.1, its User-Agent,
// Connection: close.
func (n *node) arduinoPOST(path, ctype, body string, want int) bool {
	host := strings.TrimPrefix(n.env.web, "http://")
	return n.rawPOST("POST "+path+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: Arduino/2.2.0\r\nConnection: close\r\n"+
		"Content-Type: "+ctype+"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body, want)
}

// goPOST sends with Go's net/http (Telegraf is a Go program; The Things
// Stack too), keeping its connection like they do, and checks the status.
func (n *node) goPOST(c *http.Client, u string, header http.Header, body []byte, wantStatus int) bool {
	err := func() error {
		req, err := http.NewRequest("POST", u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header = header
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return checkAnswer(resp.StatusCode, string(b), wantStatus, -1)
	}()
	if err != nil {
		n.env.ledger.failed(n.kind, fmt.Errorf("POST %s: %w", u, err))
		return false
	}
	n.env.ledger.message(n.kind)
	return true
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// --------------------------------------------------------------- values

// fixed formats a float with prec decimals, as C's printf and Arduino's
// String(float, prec) do.
func fixed(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// pyFloat formats a float as Python's repr() does (json.dumps, str())
// for the magnitudes of sensor values: the shortest form that reads back,
// always with a decimal point.
func pyFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// round rounds v to prec decimals (a sensor's resolution).
func round(v float64, prec int) float64 {
	p := math.Pow(10, float64(prec))
	return math.Round(v*p) / p
}

// hive is a plausible hive for a node: values that drift with the report
// number k and jitter with the node's random source.
type hive struct {
	rng *rand.Rand
	w0  float64
}

func newHive(rng *rand.Rand) hive { return hive{rng: rng, w0: 30 + rng.Float64()*40} }

func (h hive) weight(k int) float64 { return h.w0 + float64(k%240)*0.004 + h.rng.Float64()*0.02 }
func (h hive) brood() float64       { return 34.2 + h.rng.Float64()*1.4 }
func (h hive) air() float64         { return 8 + h.rng.Float64()*16 }
func (h hive) humidity() float64    { return 45 + h.rng.Float64()*40 }
func (h hive) pressure() float64    { return 990 + h.rng.Float64()*30 }
func (h hive) volts() float64       { return 3.6 + h.rng.Float64()*0.5 }

// fails reports, with probability p, that a sensor failed this cycle.
func (h hive) fails(p float64) bool { return h.rng.Float64() < p }
