package appliance

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/apiary-hive/apiary/store"
)

// rawMQTT speaks MQTT 3.1.1 byte by byte, to send what paho will not: a
// redelivery with the DUP flag, as a device sends after a lost PUBACK.
type rawMQTT struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr, clientID string) *rawMQTT {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawMQTT{t: t, conn: conn, r: bufio.NewReader(conn)}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: clientID}}
	c.send(pk, (*packets.Packet).ConnectEncode)
	if typ := c.read(); typ != packets.Connack {
		t.Fatalf("got packet type %d, want CONNACK", typ)
	}
	return c
}

func (c *rawMQTT) send(pk packets.Packet, enc func(*packets.Packet, *bytes.Buffer) error) {
	c.t.Helper()
	var b bytes.Buffer
	if err := enc(&pk, &b); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(b.Bytes()); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawMQTT) publish(topic, payload string, id uint16, dup bool) {
	c.t.Helper()
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Dup: dup},
		TopicName: topic, PacketID: id, Payload: []byte(payload), ProtocolVersion: 4}
	c.send(pk, (*packets.Packet).PublishEncode)
}

// read returns the type of the next packet, or 0 after a timeout.
func (c *rawMQTT) read() byte {
	c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, err := c.r.ReadByte()
	if err != nil {
		return 0
	}
	n, mult := 0, 1
	for {
		l, err := c.r.ReadByte()
		if err != nil {
			return 0
		}
		n += int(l&127) * mult
		mult *= 128
		if l&128 == 0 {
			break
		}
	}
	buf := make([]byte, n)
	if _, err := bufio.NewReader(c.r).Read(buf); err != nil && n > 0 {
		return 0
	}
	return b >> 4
}

// TestRedeliveryDoesNotAddAPoint: a clock-less device's QoS 1 message sent
// again with DUP after a lost PUBACK overwrites the first copy.
func TestRedeliveryDoesNotAddAPoint(t *testing.T) {
	app := startAppliance(t, nil)
	dev := dialRaw(t, app.MQTTAddr().String(), "clockless")
	topic := "hiveeyes/testdrive/area-42/node-9/data.json"
	dev.publish(topic, `{"weight": 41.5}`, 7, false)
	if typ := dev.read(); typ != packets.Puback {
		t.Fatalf("got %d, want PUBACK", typ)
	}
	time.Sleep(20 * time.Millisecond) // a later arrival time for the copy
	dev.publish(topic, `{"weight": 41.5}`, 7, true)
	if typ := dev.read(); typ != packets.Puback {
		t.Fatalf("redelivery: got %d, want PUBACK", typ)
	}
	// The same payload again without DUP is a new reading (a scale that did not move).
	dev.publish(topic, `{"weight": 41.5}`, 8, false)
	if typ := dev.read(); typ != packets.Puback {
		t.Fatalf("got %d, want PUBACK", typ)
	}
	ch := store.Channel{Realm: "hiveeyes", Network: "testdrive", Gateway: "area-42", Node: "node-9"}
	waitPoints(t, app.Store(), ch, "weight", 2)
}

// TestNoAckWhenNotStored: when the store cannot write, the device gets no
// PUBACK (so it keeps the message) and HTTP answers 503.
func TestNoAckWhenNotStored(t *testing.T) {
	app := startAppliance(t, nil)
	dev := dialRaw(t, app.MQTTAddr().String(), "unlucky")
	app.Store().Close() // the store is gone: every write fails
	dev.publish("hiveeyes/testdrive/area-42/node-1/data.json", `{"weight": 1}`, 1, false)
	if typ := dev.read(); typ != 0 {
		t.Errorf("got packet type %d after a failed write, want no PUBACK", typ)
	}
	resp, err := http.Post(baseURL(app)+"/api/hiveeyes/testdrive/area-42/node-1/data", "application/json", strings.NewReader(`{"weight": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("HTTP status %d after a failed write, want 503", resp.StatusCode)
	}
}
