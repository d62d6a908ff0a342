package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// SubscriberOptions configure the client that subscribes to an external
// broker (a Mosquitto the site already runs, say).
type SubscriberOptions struct {
	// Server is what paho dials: tcp://host:1883, ssl://host:8883, ws://...
	Server   string
	Username string
	Password string
	// TLS enables TLS; CAFile adds a CA to the system roots.
	TLS    bool
	CAFile string
	// ClientID must stay the same across restarts: the broker keeps the
	// persistent session, and the messages that arrive meanwhile, under it.
	ClientID string
	// Topics to subscribe to at QoS 1 (default "#").
	Topics  []string
	Handler Handler
	Logger  *slog.Logger
}

// Subscriber receives from an external broker on a persistent session
// (clean session off) with QoS 1, and acknowledges a message only after
// the handler stored it: a message that was not stored stays with the
// broker and comes again after the next reconnect. It never publishes.
type Subscriber struct {
	opts      SubscriberOptions
	client    paho.Client
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelFunc
	connected atomic.Bool
	// handling is held (read) by every message being handled; Close takes
	// it to wait for them, so that a message stored is also acknowledged
	// before the connection goes: else the broker delivers it again after
	// the restart, and a clock-less reading would be stored twice.
	handling sync.RWMutex
	closing  bool // under handling
}

// NewSubscriber prepares a subscriber; Start connects.
func NewSubscriber(opts SubscriberOptions) (*Subscriber, error) {
	if opts.Handler == nil || opts.Server == "" || opts.ClientID == "" {
		return nil, errors.New("mqtt: subscriber needs a server, a client id and a handler")
	}
	if len(opts.Topics) == 0 {
		opts.Topics = []string{"#"}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Subscriber{opts: opts, log: opts.Logger.With("component", "mqtt-client", "broker", opts.Server)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	co := paho.NewClientOptions().
		AddBroker(opts.Server).
		SetClientID(opts.ClientID).
		SetCleanSession(false).
		SetResumeSubs(true).
		SetOrderMatters(false).
		SetAutoAckDisabled(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(5 * time.Second).
		SetMaxReconnectInterval(2 * time.Minute).
		SetKeepAlive(30 * time.Second).
		SetDefaultPublishHandler(s.receive).
		SetOnConnectHandler(s.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			s.connected.Store(false)
			s.log.Warn("connection to the external broker lost; reconnecting", "err", err)
		}).
		SetReconnectingHandler(func(paho.Client, *paho.ClientOptions) {
			s.log.Info("reconnecting to the external broker")
		})
	if opts.Username != "" {
		co.SetUsername(opts.Username).SetPassword(opts.Password)
	}
	if opts.TLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.CAFile != "" {
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return nil, fmt.Errorf("mqtt: CA file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("mqtt: CA file %s holds no PEM certificate", opts.CAFile)
			}
			cfg.RootCAs = pool
		}
		co.SetTLSConfig(cfg)
	}
	s.client = paho.NewClient(co)
	return s, nil
}

// Start connects in the background; paho keeps retrying with backoff while
// the broker is away.
func (s *Subscriber) Start() {
	s.client.Connect()
}

// Connected reports whether the subscriber is connected now.
func (s *Subscriber) Connected() bool { return s.connected.Load() }

// Close waits (up to closeWait) for the messages being handled to be
// stored and acknowledged, then disconnects. Messages not yet acknowledged
// stay with the broker.
func (s *Subscriber) Close() error {
	drained := make(chan struct{})
	go func() {
		s.handling.Lock()
		s.closing = true
		s.handling.Unlock()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(closeWait):
		s.log.Warn("messages still being stored at close; the broker delivers them again", "waited", closeWait)
	}
	s.cancel()
	s.client.Disconnect(250)
	s.connected.Store(false)
	return nil
}

// closeWait bounds how long Close waits for messages being stored.
const closeWait = 10 * time.Second

func (s *Subscriber) onConnect(c paho.Client) {
	// The broker keeps the subscriptions of a persistent session, but a
	// new broker or a purged session needs them again.
	filters := make(map[string]byte, len(s.opts.Topics))
	for _, t := range s.opts.Topics {
		filters[t] = 1
	}
	tok := c.SubscribeMultiple(filters, s.receive)
	go func() {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			s.log.Error("subscribe at the external broker failed", "topics", s.opts.Topics, "err", tok.Error())
			return
		}
		s.connected.Store(true)
		s.log.Info("subscribed at the external broker", "topics", s.opts.Topics, "client_id", s.opts.ClientID)
	}()
}

// receive runs for each message in its own goroutine (order does not
// matter: each reading carries its own time).
func (s *Subscriber) receive(_ paho.Client, m paho.Message) {
	s.handling.RLock()
	defer s.handling.RUnlock()
	if s.closing {
		return // not acknowledged: the broker keeps it for the next start
	}
	err := s.opts.Handler(s.ctx, Message{
		Topic:     m.Topic(),
		Client:    "external:" + s.opts.ClientID,
		Payload:   m.Payload(),
		QoS:       m.Qos(),
		Retained:  m.Retained(),
		Duplicate: m.Duplicate(),
		Relayed:   true,
		Received:  time.Now(),
	})
	if err != nil {
		s.log.Warn("message not acknowledged: not stored; the broker delivers it again after a reconnect", "topic", m.Topic(), "err", err)
		return
	}
	m.Ack()
}
