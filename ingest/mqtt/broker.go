// Package mqtt is Apiary's MQTT transport: the embedded broker
// (mochi-mqtt) that devices publish to, and (in a later step) the client
// that subscribes to an external broker.
//
// The broker hands every PUBLISH to a Handler inside the process, in the
// publishing client's own packet loop and before the broker acknowledges it.
// That is what makes the PUBACK mean "stored", and it holds up only that
// client. This package never publishes a message of its own.
package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Message is one PUBLISH as a device sent it.
type Message struct {
	Topic   string
	Client  string
	Payload []byte
	QoS     byte
	// Retained: for the embedded broker, the device asked the broker to
	// keep the message; for the external subscriber, the broker replays a
	// kept message to a new subscription.
	Retained bool
	// Duplicate is MQTT's DUP flag: the sender may have sent it before.
	Duplicate bool
	// Relayed: the message came from an external broker, which does not
	// pass a device's DUP flag on.
	Relayed  bool
	Received time.Time
}

// Handler processes a message before it is acknowledged. A non-nil error
// means the message was not stored: the broker then sends no PUBACK, so the
// device sends it again. Failures that a retry cannot fix (bad payloads) are
// the handler's to log; it returns nil for them.
type Handler func(ctx context.Context, m Message) error

// Problem reports a failure the handler never saw, such as a packet over
// the size limit, for the error log.
type Problem func(kind, client, msg string)

// BrokerOptions configure the embedded broker.
type BrokerOptions struct {
	// Listen is the TCP address, e.g. ":1883".
	Listen string
	// MaxPacket bounds an MQTT packet in bytes; a larger one closes the
	// connection before it is read into memory (default 320 KiB).
	MaxPacket int
	Handler   Handler
	Problem   Problem
	Logger    *slog.Logger
	// Auth decides who may connect, publish and subscribe (nil: anyone).
	Auth Auth
	// TLSListen and TLS serve MQTT over TLS as well (e.g. ":8883").
	TLSListen string
	TLS       *tls.Config
}

// Auth is what the broker asks before it lets a client in, and before
// it takes a PUBLISH or a SUBSCRIBE.
type Auth interface {
	MQTTLogin(user, password []byte) bool
	MayPublish(user, topic string) bool
	MaySubscribe(user, filter string) bool
}

// Broker is the embedded MQTT broker.
type Broker struct {
	srv     *mochi.Server
	ln      net.Listener
	tlsLn   net.Listener
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	serving atomic.Bool
}

// NewBroker binds the listen address and prepares the broker; Start serves.
func NewBroker(opts BrokerOptions) (*Broker, error) {
	if opts.Handler == nil {
		return nil, errors.New("mqtt: broker needs a handler")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxPacket <= 0 {
		opts.MaxPacket = 320 << 10
	}
	if opts.Problem == nil {
		opts.Problem = func(string, string, string) {}
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("mqtt: listen on %s: %w", opts.Listen, err)
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(opts.MaxPacket)
	// Sessions of clients that went away are kept for a day, not forever.
	caps.MaximumSessionExpiryInterval = 24 * 60 * 60
	caps.MaximumClientWritesPending = 1024
	srv := mochi.New(&mochi.Options{
		Capabilities:           caps,
		Logger:                 opts.Logger.With("component", "mqtt-broker"),
		SysTopicResendInterval: 60,
	})
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{srv: srv, ln: ln, log: opts.Logger, ctx: ctx, cancel: cancel}
	if err := srv.AddHook(&ingestHook{handler: opts.Handler, problem: opts.Problem, auth: opts.Auth, ctx: ctx, log: opts.Logger}, nil); err != nil {
		ln.Close()
		cancel()
		return nil, fmt.Errorf("mqtt: add hook: %w", err)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		cancel()
		return nil, fmt.Errorf("mqtt: add listener: %w", err)
	}
	if opts.TLS != nil {
		tl, err := net.Listen("tcp", opts.TLSListen)
		if err != nil {
			ln.Close()
			cancel()
			return nil, fmt.Errorf("mqtt: listen on %s (TLS): %w", opts.TLSListen, err)
		}
		b.tlsLn = tls.NewListener(tl, opts.TLS)
		if err := srv.AddListener(listeners.NewNet("tls", b.tlsLn)); err != nil {
			ln.Close()
			b.tlsLn.Close()
			cancel()
			return nil, fmt.Errorf("mqtt: add TLS listener: %w", err)
		}
	}
	return b, nil
}

// TLSAddr is the address of the TLS listener, or nil.
func (b *Broker) TLSAddr() net.Addr {
	if b.tlsLn == nil {
		return nil
	}
	return b.tlsLn.Addr()
}

// Addr is the address the broker listens on (useful with port 0).
func (b *Broker) Addr() net.Addr { return b.ln.Addr() }

// Start serves clients in the background.
func (b *Broker) Start() error {
	if err := b.srv.Serve(); err != nil {
		return fmt.Errorf("mqtt: serve: %w", err)
	}
	b.serving.Store(true)
	return nil
}

// Serving reports whether the broker accepts clients.
func (b *Broker) Serving() bool { return b.serving.Load() }

// Clients is the number of connected clients.
func (b *Broker) Clients() int64 { return atomic.LoadInt64(&b.srv.Info.ClientsConnected) }

// Close disconnects every client and stops listening. Handlers that are
// running see their context cancelled.
func (b *Broker) Close() error {
	b.serving.Store(false)
	err := b.srv.Close()
	b.cancel()
	return err
}

// ingestHook gives each PUBLISH to the handler before the broker
// acknowledges it, and asks Auth who may connect, publish and subscribe.
type ingestHook struct {
	mochi.HookBase
	handler Handler
	problem Problem
	auth    Auth
	ctx     context.Context
	log     *slog.Logger
}

func (h *ingestHook) ID() string { return "apiary-ingest" }

func (h *ingestHook) Provides(b byte) bool {
	switch b {
	case mochi.OnConnectAuthenticate, mochi.OnACLCheck, mochi.OnPublish, mochi.OnWillSent, mochi.OnDisconnect:
		return true
	}
	return false
}

// OnConnectAuthenticate refuses a client whose user name and password do
// not match (CONNACK "bad user name or password").
func (h *ingestHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	if h.auth == nil || h.auth.MQTTLogin(pk.Connect.Username, pk.Connect.Password) {
		return true
	}
	h.problem("auth", cl.ID, fmt.Sprintf("MQTT login refused: client %q, user %q, from %s", cl.ID, pk.Connect.Username, remoteHost(cl)))
	return false
}

// OnACLCheck lets a user publish and subscribe only where its filters
// allow. mochi drops a refused QoS 0 PUBLISH, and disconnects an MQTT 3
// client that sends a refused QoS 1 one (it has no other way to say no).
func (h *ingestHook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	if h.auth == nil {
		return true
	}
	user := string(cl.Properties.Username)
	if write && h.auth.MayPublish(user, topic) || !write && h.auth.MaySubscribe(user, topic) {
		return true
	}
	what := "subscribe to"
	if write {
		what = "publish to"
	}
	h.problem("auth", cl.ID, fmt.Sprintf("MQTT user %q (client %q) may not %s %q", user, cl.ID, what, topic))
	return false
}

func remoteHost(cl *mochi.Client) string {
	host, _, err := net.SplitHostPort(cl.Net.Remote)
	if err != nil {
		return cl.Net.Remote
	}
	return host
}

func (h *ingestHook) OnDisconnect(cl *mochi.Client, err error, expire bool) {
	if errors.Is(err, packets.ErrPacketTooLarge) {
		h.problem("limit", cl.ID, fmt.Sprintf("MQTT packet larger than the limit; connection of %s (%s) closed", cl.ID, cl.Net.Remote))
	}
}

// OnPublish runs in the publishing client's packet loop. Returning
// ErrRejectPacket makes mochi send no acknowledgement: the device keeps the
// message and sends it again, which is what a failed write needs.
func (h *ingestHook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	m := Message{
		Topic:     pk.TopicName,
		Client:    cl.ID,
		Payload:   pk.Payload,
		QoS:       pk.FixedHeader.Qos,
		Retained:  false, // a device's publish is news, whatever its retain flag
		Duplicate: pk.FixedHeader.Dup,
		Received:  time.Now(),
	}
	if err := h.handler(h.ctx, m); err != nil {
		h.log.Warn("publish not acknowledged: not stored", "topic", pk.TopicName, "client", cl.ID, "err", err)
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// OnWillSent hands a will to ingest once the broker has published it:
// mochi publishes a will to the subscribers without OnPublish, and a
// Tasmota's tele/<topic>/LWT "Offline" or an ESPHome's <node>/status
// "offline" is what tells the beekeeper the device died. Nobody waits
// for its acknowledgement, so a failure is only logged (and in the
// error log, by the handler).
func (h *ingestHook) OnWillSent(cl *mochi.Client, pk packets.Packet) {
	if cl.Net.Inline {
		return
	}
	m := Message{
		Topic:    pk.TopicName,
		Client:   cl.ID,
		Payload:  pk.Payload,
		QoS:      pk.FixedHeader.Qos,
		Received: time.Now(),
	}
	if err := h.handler(h.ctx, m); err != nil {
		h.log.Warn("will not stored", "topic", pk.TopicName, "client", cl.ID, "err", err)
	}
}
