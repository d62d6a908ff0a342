package appliance

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/apiary-hive/apiary/ingest"
	"github.com/apiary-hive/apiary/ingest/address"
	"github.com/apiary-hive/apiary/internal/auth"
	"github.com/apiary-hive/apiary/store"
	"github.com/apiary-hive/apiary/ui"
)

//go:embed default.toml
var defaultTOML string

// DefaultTOML is the documented default configuration.
func DefaultTOML() string { return defaultTOML }

// Config is the appliance's configuration. Every key has a default
// (default.toml); LoadConfig decodes a user's file on top of it.
type Config struct {
	DataDir  string `toml:"data_dir"`
	TimeZone string `toml:"time_zone"`
	// MemoryLimit is the Go runtime's soft memory limit (0: none).
	MemoryLimit Size            `toml:"memory_limit"`
	HTTP        HTTPConfig      `toml:"http"`
	MQTT        MQTTConfig      `toml:"mqtt"`
	Store       StoreConfig     `toml:"store"`
	Retention   RetentionConfig `toml:"retention"`
	Errors      ErrorConfig     `toml:"errors"`
	Ingest      IngestConfig    `toml:"ingest"`
	Realms      []RealmConfig   `toml:"realm"`
	Masks       []ingest.Mask   `toml:"mask"`
	Families    []ui.Family     `toml:"family"`
	Routes      []address.Route `toml:"route"`
	Auth        AuthConfig      `toml:"auth"`
}

// AuthConfig says who may publish, post and administer. Empty, the
// appliance is open, as on a LAN, and says so at startup.
type AuthConfig struct {
	MQTTUsers  []auth.User  `toml:"mqtt_user"`
	Tokens     []auth.Token `toml:"token"`
	WebUsers   []auth.User  `toml:"web_user"`
	LoginAdmin bool         `toml:"login_admin"`
	LoginRead  bool         `toml:"login_read"`
}

func (a AuthConfig) auth() auth.Config {
	return auth.Config{MQTTUsers: a.MQTTUsers, Tokens: a.Tokens, WebUsers: a.WebUsers, LoginAdmin: a.LoginAdmin, LoginRead: a.LoginRead}
}

// HTTPConfig configures the web server.
type HTTPConfig struct {
	Listen         string `toml:"listen"`
	MaxBody        Size   `toml:"max_body"`
	MaxConnections int    `toml:"max_connections"`
	TLSCertFile    string `toml:"tls_cert_file"`
	TLSKeyFile     string `toml:"tls_key_file"`
}

// MQTTConfig configures the embedded broker and the external broker client.
type MQTTConfig struct {
	Listen       string   `toml:"listen"`
	Broker       string   `toml:"broker"`
	ClientID     string   `toml:"client_id"`
	BrokerTopics []string `toml:"broker_topics"`
	BrokerCAFile string   `toml:"broker_ca_file"`
	MaxPayload   Size     `toml:"max_payload"`
	TLSListen    string   `toml:"tls_listen"`
	TLSCertFile  string   `toml:"tls_cert_file"`
	TLSKeyFile   string   `toml:"tls_key_file"`
}

// StoreConfig configures the store's memory and durability.
type StoreConfig struct {
	Cache    Size   `toml:"cache"`
	Memtable Size   `toml:"memtable"`
	Sync     string `toml:"sync"`
	MinFree  Size   `toml:"min_free"`
	Ballast  Size   `toml:"ballast"`
}

// RetentionConfig says how long data is kept (0: forever).
type RetentionConfig struct {
	Raw    Duration `toml:"raw"`
	Hourly Duration `toml:"hourly"`
	Daily  Duration `toml:"daily"`
}

// ErrorConfig bounds the error log.
type ErrorConfig struct {
	MaxEntries int      `toml:"max_entries"`
	MaxAge     Duration `toml:"max_age"`
}

// IngestConfig holds the limits on what comes from outside.
type IngestConfig struct {
	MaxFields    int       `toml:"max_fields"`
	MaxTopic     int       `toml:"max_topic"`
	EarliestTime time.Time `toml:"earliest_time"`
	MaxAhead     Duration  `toml:"max_ahead"`
}

// RealmConfig is one [[realm]] table. With none configured, any realm is
// accepted as a WAN realm.
type RealmConfig struct {
	Name            string   `toml:"name"`
	Strategy        string   `toml:"strategy"`
	AllowedNetworks []string `toml:"allowed_networks"`
	// TimeZone overrides the appliance's time_zone for this realm.
	TimeZone string `toml:"time_zone,omitempty"`
	// Masks apply to this realm only (Realm need not be set).
	Masks []ingest.Mask `toml:"mask,omitempty"`
	// Retention overrides [retention] for this realm where set.
	RawRetention    Duration `toml:"raw_retention,omitempty"`
	HourlyRetention Duration `toml:"hourly_retention,omitempty"`
	DailyRetention  Duration `toml:"daily_retention,omitempty"`
}

// RetentionOf returns the retention of a realm.
func (c Config) RetentionOf(realm string) store.Retention {
	r := store.Retention{Raw: time.Duration(c.Retention.Raw), Hourly: time.Duration(c.Retention.Hourly), Daily: time.Duration(c.Retention.Daily)}
	for _, rc := range c.Realms {
		if rc.Name != realm {
			continue
		}
		if rc.RawRetention > 0 {
			r.Raw = time.Duration(rc.RawRetention)
		}
		if rc.HourlyRetention > 0 {
			r.Hourly = time.Duration(rc.HourlyRetention)
		}
		if rc.DailyRetention > 0 {
			r.Daily = time.Duration(rc.DailyRetention)
		}
	}
	return r
}

// DefaultConfig returns the configuration of default.toml.
func DefaultConfig() Config {
	var c Config
	if _, err := toml.Decode(defaultTOML, &c); err != nil {
		panic("appliance: default.toml does not decode: " + err.Error())
	}
	return c
}

// LoadConfig returns the defaults with the file at path decoded on top
// ("" means no file). An unknown key is an error that names it.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	if err := decodeConfig(f, &c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func decodeConfig(r io.Reader, c *Config) error {
	md, err := toml.NewDecoder(r).Decode(c)
	if err != nil {
		return err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return &UnknownKeyError{Keys: keys}
	}
	return nil
}

// UnknownKeyError names configuration keys Apiary does not know.
type UnknownKeyError struct{ Keys []string }

func (e *UnknownKeyError) Error() string {
	if len(e.Keys) == 1 {
		return fmt.Sprintf("unknown key %q", e.Keys[0])
	}
	return fmt.Sprintf("unknown keys %s", quoteAll(e.Keys))
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// WriteTOML writes the configuration as TOML.
func (c Config) WriteTOML(w io.Writer) error {
	return toml.NewEncoder(w).Encode(c)
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DataDir == "" {
		add("data_dir: must not be empty")
	}
	if _, err := c.Location(); err != nil {
		add("time_zone: %v", err)
	}
	if err := checkListen(c.HTTP.Listen); err != nil || c.HTTP.Listen == "" {
		add("http.listen: %q is not a listen address (like \":8080\")", c.HTTP.Listen)
	}
	if c.MQTT.Listen != "" {
		if err := checkListen(c.MQTT.Listen); err != nil {
			add("mqtt.listen: %q is not a listen address (like \":1883\")", c.MQTT.Listen)
		}
	}
	if c.MQTT.Broker != "" {
		if _, err := ParseBrokerURL(c.MQTT.Broker); err != nil {
			add("mqtt.broker: %v", err)
		}
		if c.MQTT.ClientID == "" {
			add("mqtt.client_id: must not be empty when mqtt.broker is set")
		}
		if len(c.MQTT.BrokerTopics) == 0 {
			add("mqtt.broker_topics: must name at least one topic filter (\"#\" for all)")
		}
	}
	if (c.HTTP.TLSCertFile == "") != (c.HTTP.TLSKeyFile == "") {
		add("http: tls_cert_file and tls_key_file go together")
	}
	if c.HTTP.MaxConnections < 1 {
		add("http.max_connections: must be at least 1")
	}
	if (c.MQTT.TLSCertFile == "") != (c.MQTT.TLSKeyFile == "") {
		add("mqtt: tls_cert_file and tls_key_file go together")
	}
	if c.MQTT.TLSCertFile != "" {
		if err := checkListen(c.MQTT.TLSListen); err != nil || c.MQTT.TLSListen == "" {
			add("mqtt.tls_listen: %q is not a listen address (like \":8883\")", c.MQTT.TLSListen)
		}
	}
	if err := c.Auth.auth().Validate(); err != nil {
		add("%v", err)
	}
	if c.HTTP.MaxBody < 1024 {
		add("http.max_body: %s is too small (at least 1KiB)", c.HTTP.MaxBody)
	}
	if c.MQTT.MaxPayload < 1024 {
		add("mqtt.max_payload: %s is too small (at least 1KiB)", c.MQTT.MaxPayload)
	}
	if c.Store.Cache < 1<<20 {
		add("store.cache: %s is too small (at least 1MiB)", c.Store.Cache)
	}
	if c.Store.Memtable < 1<<20 {
		add("store.memtable: %s is too small (at least 1MiB)", c.Store.Memtable)
	}
	if _, err := c.SyncInterval(); err != nil {
		add("store.sync: %v", err)
	}
	if c.Errors.MaxEntries < 1 {
		add("errors.max_entries: must be at least 1")
	}
	if c.Retention.Raw < 0 || c.Retention.Hourly < 0 || c.Retention.Daily < 0 {
		add("retention: durations must not be negative")
	}
	if c.Errors.MaxAge <= 0 {
		add("errors.max_age: must be positive")
	}
	if c.Ingest.MaxFields < 1 {
		add("ingest.max_fields: must be at least 1")
	}
	if c.Ingest.MaxTopic < 16 {
		add("ingest.max_topic: must be at least 16")
	}
	if c.Ingest.MaxAhead <= 0 {
		add("ingest.max_ahead: must be positive")
	}
	seen := map[string]bool{}
	for i, r := range c.Realms {
		switch {
		case r.Name == "" || strings.ContainsAny(r.Name, "/+#"):
			add("realm[%d].name: %q is not a realm name", i, r.Name)
		case seen[r.Name]:
			add("realm[%d].name: realm %q is configured twice", i, r.Name)
		}
		seen[r.Name] = true
		switch r.Strategy {
		case "", "wan", "lan":
		default:
			add("realm %q: strategy %q is neither \"wan\" nor \"lan\"", r.Name, r.Strategy)
		}
		if r.TimeZone != "" {
			if _, err := time.LoadLocation(r.TimeZone); err != nil {
				add("realm %q: time_zone: %v", r.Name, err)
			}
		}
		for _, m := range r.Masks {
			if err := checkMask(m); err != nil {
				add("realm %q: mask: %v", r.Name, err)
			}
		}
	}
	for i, f := range c.Families {
		if f.Name == "" || len(f.Match) == 0 {
			add("family[%d]: needs a name and match patterns", i)
		}
	}
	for i, m := range c.Masks {
		if err := checkMask(m); err != nil {
			add("mask[%d]: %v", i, err)
		}
	}
	for i, r := range c.Routes {
		if err := r.Validate(); err != nil {
			add("route[%d]: %v", i, err)
		}
	}
	return errors.Join(errs...)
}

func checkMask(m ingest.Mask) error {
	if m.Field == "" || len(m.Values) == 0 {
		return fmt.Errorf("needs a field pattern and values")
	}
	if _, err := path.Match(m.Field, ""); err != nil {
		return fmt.Errorf("field pattern %q: %v", m.Field, err)
	}
	return nil
}

func checkListen(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// Location is the zone for device times without one.
func (c Config) Location() (*time.Location, error) {
	switch c.TimeZone {
	case "", "Local", "local":
		return time.Local, nil
	case "UTC":
		return time.UTC, nil
	}
	return time.LoadLocation(c.TimeZone)
}

// SyncInterval is 0 for sync = "always", else the interval.
func (c Config) SyncInterval() (time.Duration, error) {
	if c.Store.Sync == "always" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.Store.Sync)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is neither \"always\" nor a positive duration like \"1s\"", c.Store.Sync)
	}
	return d, nil
}

// BrokerURL is a parsed external broker address.
type BrokerURL struct {
	// Server is what paho dials: tcp://host:port, ssl://host:port or ws(s)://...
	Server   string
	TLS      bool
	Username string
	Password string
}

// ParseBrokerURL reads mqtt://[user[:pass]@]host[:port] (also tcp://),
// mqtts:// (also ssl://, tls://), ws:// and wss://. Default ports are 1883
// and 8883.
func ParseBrokerURL(s string) (BrokerURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return BrokerURL{}, fmt.Errorf("broker URL %q: %w", s, err)
	}
	var b BrokerURL
	scheme, port := "", ""
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		scheme, port = "tcp", "1883"
	case "mqtts", "ssl", "tls":
		scheme, port, b.TLS = "ssl", "8883", true
	case "ws":
		scheme, port = "ws", "80"
	case "wss":
		scheme, port, b.TLS = "wss", "443", true
	default:
		return BrokerURL{}, fmt.Errorf("broker URL %q: scheme must be mqtt, mqtts, tcp, ssl, tls, ws or wss", s)
	}
	if u.Hostname() == "" {
		return BrokerURL{}, fmt.Errorf("broker URL %q: no host", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return BrokerURL{}, fmt.Errorf("broker URL %q: bad port %q", s, p)
		}
		port = p
	}
	host := net.JoinHostPort(u.Hostname(), port)
	b.Server = scheme + "://" + host
	if scheme == "ws" || scheme == "wss" {
		b.Server += u.EscapedPath()
	}
	if u.User != nil {
		b.Username = u.User.Username()
		b.Password, _ = u.User.Password()
	}
	return b, nil
}

// Size is a byte count written as "256KiB", "8MiB", "1GiB" or plain bytes.
type Size int64

// UnmarshalText reads a size.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText writes the size in the largest unit that divides it.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Size) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.n == 0 {
			return strconv.FormatInt(int64(s)/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// ParseSize reads "256KiB", "8MiB", "1GiB", "1MB" (taken as MiB) or "4096".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"kB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.n
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size like \"256KiB\" or \"8MiB\"", s)
	}
	return Size(n * mult), nil
}

// Duration is a time.Duration written as text ("30s", "720h"): a bare TOML
// integer would be read as nanoseconds.
type Duration time.Duration

// UnmarshalText reads a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"30s\" or \"720h\"", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
