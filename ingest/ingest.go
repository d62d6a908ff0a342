// Package ingest turns messages from the wire into stored readings: it
// resolves the address, decodes the payload, writes the result, and puts
// every problem into the store's error log.
//
// ingest never answers on the MQTT bus: Kotori's 2018 outage was its own
// error messages, published back onto the bus it consumed. A bad message
// becomes one deduplicated error-log entry; a failed write is reported to
// the transport so that the device is not acknowledged and sends again.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apiary-hive/apiary/ingest/address"
	"github.com/apiary-hive/apiary/ingest/decode"
	"github.com/apiary-hive/apiary/ingest/mqtt"
	"github.com/apiary-hive/apiary/store"
)

// Store is what ingest needs of the store.
type Store interface {
	Write(ctx context.Context, readings []store.Reading) error
	WriteAsync(readings []store.Reading, onErr func(error))
	WriteEvents(ctx context.Context, events []store.Event) error
	RecordError(e store.ErrorEntry)
	ChannelInfo(ch store.Channel) (store.ChannelInfo, bool)
	Property(ch store.Channel, name string) (string, bool, error)
	SetProperty(ch store.Channel, name, value string) error
}

// Options configure an Ingester.
type Options struct {
	Resolver address.Resolver
	// Decode holds the zone for times without one and the per-message limits.
	Decode decode.Options
	// Zones are the per-realm zones for device times without one; realms
	// not listed use Decode.Zone.
	Zones map[string]*time.Location
	// Masks drop values that mean "sensor missing" for some firmware.
	Masks []Mask
	// MaxPayload bounds a payload in bytes (default 256 KiB).
	MaxPayload int
	Logger     *slog.Logger
	// AuthorizeHTTP says whether an HTTP request may write to a channel
	// (nil: any may). It is asked before the body is decoded wherever the
	// address names the channel.
	AuthorizeHTTP func(r *http.Request, ch store.Channel) bool
}

// Mask drops the listed values of the fields whose name matches Field (a
// glob, as in path.Match), in one realm or, with Realm empty, in all: a
// DS18B20 that says -127 when unplugged, a mois box that says -99.
type Mask struct {
	Realm  string    `toml:"realm,omitempty"`
	Field  string    `toml:"field"`
	Values []float64 `toml:"values"`
}

// masksFor returns the masks whose realm and field pattern match: glob
// matching once per realm and field name, not once per value.
func (in *Ingester) masksFor(realm, field string) []Mask {
	key := realm + "\x00" + field
	in.maskMu.Lock()
	defer in.maskMu.Unlock()
	if ms, ok := in.maskCache[key]; ok {
		return ms
	}
	var ms []Mask
	for _, m := range in.opts.Masks {
		if ok, _ := path.Match(m.Field, field); ok && (m.Realm == "" || m.Realm == realm) {
			ms = append(ms, m)
		}
	}
	if len(in.maskCache) < 10000 { // field names are few; a flood of odd ones is not cached
		in.maskCache[key] = ms
	}
	return ms
}

func (m Mask) matches(realm, field string, v float64) bool {
	if m.Realm != "" && m.Realm != realm {
		return false
	}
	if ok, _ := path.Match(m.Field, field); !ok {
		return false
	}
	for _, mv := range m.Values {
		if v == mv {
			return true
		}
	}
	return false
}

// Ingester is the ingest pipeline shared by every transport.
type Ingester struct {
	store  Store
	opts   Options
	log    *slog.Logger
	recent *recentMessages
	clock  *arrivalClock

	maskMu    sync.Mutex
	maskCache map[string][]Mask
}

// New returns an Ingester writing to st.
func New(st Store, opts Options) *Ingester {
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = 256 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Ingester{store: st, opts: opts, log: opts.Logger, recent: newRecentMessages(8192, time.Hour), clock: newArrivalClock(), maskCache: map[string][]Mask{}}
}

// ErrNotStored wraps a failure to store a message that was understood. The
// transport must not acknowledge it (no PUBACK; HTTP 503).
var ErrNotStored = errors.New("not stored")

// Outcome is what handling a message did.
type Outcome struct {
	Channel  store.Channel
	Readings int
	Events   int
	Ignored  bool
	// Info are messages for the HTTP answer ("Received header fields ...").
	Info []string
	// noContent answers an HTTP request 204 instead of Kotori's 200 body
	// (InfluxDB's /write).
	noContent bool
}

// Message is a message from any transport.
type Message struct {
	Transport string // "mqtt" or "http"
	Source    string // the topic or path exactly as received
	Client    string // MQTT client id or HTTP remote address
	Payload   []byte
	Received  time.Time
	// QoS and Duplicate (MQTT): a QoS 1/2 message flagged DUP that was seen
	// before keeps its first time of arrival, so that the redelivery
	// overwrites the first copy instead of adding a second point.
	QoS       byte
	Duplicate bool
	// Relayed (external broker): the message came through a broker, which
	// does not pass the DUP flag on; an identical QoS 1/2 message shortly
	// after is taken for a redelivery too.
	Relayed bool
	// Replayed (external broker): a retained message replayed on
	// subscription; it is stored only when it differs from what is stored.
	Replayed bool

	// arrivalKey is what the arrival clock stamped Received for (see
	// stampArrival); empty when it did not.
	arrivalKey string
}

// stampArrival sets m's time of arrival by the arrival clock, for key: the
// channel, or the path of an HTTP route whose body names the channel.
// A message stamped for key already keeps its time.
func (in *Ingester) stampArrival(m *Message, key string) {
	if m.arrivalKey == key {
		return
	}
	m.Received = in.clock.stamp(key, m.Received)
	m.arrivalKey = key
}

// HandleMQTT is the embedded broker's handler: it returns an error only
// when the message must not be acknowledged.
func (in *Ingester) HandleMQTT(ctx context.Context, m mqtt.Message) error {
	_, err := in.HandleTopic(ctx, Message{
		Transport: "mqtt", Source: m.Topic, Client: m.Client, Payload: m.Payload, Received: m.Received,
		QoS: m.QoS, Duplicate: m.Duplicate, Relayed: m.Relayed, Replayed: m.Retained,
	})
	if errors.Is(err, ErrNotStored) {
		return err
	}
	return nil
}

// HandleTopic handles a message addressed by an MQTT-style topic. Errors
// other than ErrNotStored are problems with the message; they are in the
// error log already when HandleTopic returns.
func (in *Ingester) HandleTopic(ctx context.Context, m Message) (Outcome, error) {
	if m.Received.IsZero() {
		m.Received = time.Now()
	}
	if decode.IsIgnoredTopic(m.Source) {
		return Outcome{Ignored: true}, nil
	}
	if len(m.Payload) == 0 {
		// An empty publish is how MQTT deletes a retained message (Homie
		// and Home Assistant remove a property or entity so); a broker
		// passes it on to the subscribers. It holds no reading.
		return Outcome{Ignored: true}, nil
	}
	addr, err := in.opts.Resolver.Resolve(m.Source)
	if errors.Is(err, address.ErrIgnored) {
		return Outcome{Ignored: true}, nil
	}
	if err != nil {
		in.fail(m, store.Channel{}, err)
		return Outcome{}, err
	}
	if len(m.Payload) > in.opts.MaxPayload {
		err := &decode.Error{Kind: "limit", Err: fmt.Errorf("payload of %d bytes is over the limit of %d", len(m.Payload), in.opts.MaxPayload)}
		in.fail(m, addr.Channel, err)
		return Outcome{Channel: addr.Channel}, err
	}
	in.stampArrival(&m, addr.Channel.String())
	if m.QoS > 0 {
		m.Received = in.recent.arrival(m.Source, m.Payload, m.Received, m.Duplicate, m.Relayed)
	}
	res, err := decode.Decode(addr.Slot, m.Payload, in.decodeOptions(m.Received, addr.Channel.Realm))
	if errors.Is(err, decode.ErrIgnored) {
		return Outcome{Channel: addr.Channel, Ignored: true}, nil
	}
	return in.Store(ctx, m, addr.Channel, res, err)
}

func (in *Ingester) decodeOptions(received time.Time, realm string) decode.Options {
	o := in.opts.Decode
	o.Received = received
	if z := in.opts.Zones[realm]; z != nil {
		o.Zone = z
	}
	return o
}

// mask drops masked values; a reading left without values is dropped.
func (in *Ingester) mask(ch store.Channel, readings []store.Reading) []store.Reading {
	if len(in.opts.Masks) == 0 {
		return readings
	}
	kept := readings[:0]
	for _, r := range readings {
		for name, v := range r.Fields {
			for _, m := range in.masksFor(ch.Realm, name) {
				if m.matches(ch.Realm, name, v) {
					delete(r.Fields, name)
					break
				}
			}
		}
		if r.Points() > 0 {
			kept = append(kept, r)
		}
	}
	return kept
}

// Store writes a decoded result for channel ch, or logs the decode error.
// It is the common tail of every transport.
func (in *Ingester) Store(ctx context.Context, m Message, ch store.Channel, res decode.Result, decodeErr error) (Outcome, error) {
	out := Outcome{Channel: ch, Info: res.Info}
	for _, n := range res.Notes {
		in.fail(m, ch, &decode.Error{Kind: n.Kind, Err: errors.New(n.Message)})
	}
	if decodeErr != nil {
		// A message left with no values because its fields were dropped
		// is one problem, which the notes above have named.
		if !(ErrorKind(decodeErr) == "empty" && len(res.Notes) > 0) {
			in.fail(m, ch, decodeErr)
		}
		return out, decodeErr
	}
	if last := spreadArrivals(res.Readings, m.Received); m.arrivalKey != "" {
		in.clock.advance(m.arrivalKey, last)
	}
	res.Readings = in.mask(ch, res.Readings)
	if m.Replayed {
		res.Readings = in.dropStale(ch, m.Received, res.Readings)
	}
	for i := range res.Readings {
		res.Readings[i].Channel = ch
	}
	for i := range res.Events {
		res.Events[i].Channel = ch
	}
	if len(res.Readings) > 0 && m.Transport == "mqtt" && m.QoS == 0 {
		// Nobody waits for an acknowledgement of a QoS 0 message: queue it
		// for the next commit and let the device's connection go on.
		in.store.WriteAsync(res.Readings, func(err error) {
			in.fail(m, ch, &decode.Error{Kind: "store", Err: fmt.Errorf("%w: %w", ErrNotStored, err)})
		})
	} else if len(res.Readings) > 0 {
		if err := in.store.Write(ctx, res.Readings); err != nil {
			err = fmt.Errorf("%w: %w", ErrNotStored, err)
			in.fail(m, ch, &decode.Error{Kind: "store", Err: err})
			return out, err
		}
	}
	if len(res.Events) > 0 {
		if err := in.store.WriteEvents(ctx, res.Events); err != nil {
			err = fmt.Errorf("%w: %w", ErrNotStored, err)
			in.fail(m, ch, &decode.Error{Kind: "store", Err: err})
			return out, err
		}
	}
	out.Readings, out.Events = len(res.Readings), len(res.Events)
	return out, nil
}

// spreadArrivals gives the readings of one message that took its time of
// arrival (a JSON batch or CSV lines without times) times a microsecond
// apart, in their order, the first at the time of arrival: at one time they
// would overwrite each other, and "Received #3 readings" would be true of
// one. It returns the last time it gave, which the arrival clock then
// stamps the next message of the channel after. A redelivery keeps its
// first arrival, so it gets the same times and overwrites, as it should.
func spreadArrivals(readings []store.Reading, arrival time.Time) time.Time {
	n := 0
	for i := range readings {
		if readings[i].Time.Equal(arrival) {
			readings[i].Time = arrival.Add(time.Duration(n) * time.Microsecond)
			n++
		}
	}
	return arrival.Add(time.Duration(max(0, n-1)) * time.Microsecond)
}

// fail records a problem with a message in the error log.
func (in *Ingester) fail(m Message, ch store.Channel, err error) {
	e := store.ErrorEntry{
		Kind:    ErrorKind(err),
		Source:  m.Source,
		Client:  m.Client,
		Message: err.Error(),
		Excerpt: Excerpt(m.Payload, 200),
		Last:    m.Received.UTC(),
	}
	if m.Transport == "http" {
		e.Excerpt = Excerpt(redactForm(m.Payload), 200)
	}
	if !ch.IsZero() {
		e.Channel = ch.String()
	}
	in.store.RecordError(e)
	in.log.Debug("message problem", "transport", m.Transport, "source", m.Source, "kind", e.Kind, "err", err)
}

// ErrorKind names the class of a failure for the error log.
func ErrorKind(err error) string {
	var k interface{ ErrorKind() string }
	if errors.As(err, &k) {
		return k.ErrorKind()
	}
	return decode.Kind(err)
}

// Excerpt returns at most n bytes of a payload as printable text: valid
// UTF-8 is kept, control characters and invalid bytes are escaped.
func Excerpt(p []byte, n int) string {
	var b strings.Builder
	i := 0
	for i < len(p) && b.Len() < n {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, p[i])
		case r < 0x20 && r != '\n' && r != '\t' || r == 0x7f:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	if i < len(p) {
		b.WriteString("…")
	}
	return b.String()
}

// secretParams are the form keys whose values the error log does not
// keep: an Ecowitt's PASSKEY, passwords, tokens.
var secretParams = regexp.MustCompile(`(?i)pass|token|secret|^key$|apikey|api_key`)

// redactForm returns a form-encoded body with the values of secretParams
// replaced by "redacted" (a copy), and any other body unchanged.
func redactForm(p []byte) []byte {
	q := bytes.TrimSpace(p)
	if !bytes.ContainsRune(q, '=') || bytes.ContainsAny(q, "{[\n") {
		return p
	}
	parts := bytes.Split(q, []byte("&"))
	changed := false
	for i, part := range parts {
		k, _, ok := bytes.Cut(part, []byte("="))
		if name, err := url.QueryUnescape(string(k)); ok && err == nil && secretParams.MatchString(name) {
			parts[i] = append(append([]byte{}, k...), "=redacted"...)
			changed = true
		}
	}
	if !changed {
		return p
	}
	return bytes.Join(parts, []byte("&"))
}
