package appliance

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != ":8080" || c.MQTT.Listen != ":1883" || c.DataDir != "./apiary-data" {
		t.Errorf("defaults = %q %q %q", c.HTTP.Listen, c.MQTT.Listen, c.DataDir)
	}
	if c.Store.Cache != 8<<20 || c.MQTT.MaxPayload != 256<<10 {
		t.Errorf("sizes = %d %d", c.Store.Cache, c.MQTT.MaxPayload)
	}
}

func TestLoadGoodConfig(t *testing.T) {
	c, err := LoadConfig("testdata/full.good.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MQTT.Listen != "" || c.Store.Cache != 16<<20 || time.Duration(c.Errors.MaxAge) != 168*time.Hour {
		t.Errorf("decoded %+v", c)
	}
	if d, _ := c.SyncInterval(); d != time.Second {
		t.Errorf("sync interval = %v", d)
	}
	if len(c.Realms) != 2 || c.Realms[1].Strategy != "lan" || len(c.Realms[0].AllowedNetworks) != 2 {
		t.Errorf("realms = %+v", c.Realms)
	}
	b, err := ParseBrokerURL(c.MQTT.Broker)
	if err != nil || b.Server != "ssl://broker.example.org:8883" || !b.TLS || b.Username != "apiary" || b.Password != "secret" {
		t.Errorf("broker = %+v, %v", b, err)
	}
	// What `apiary config` prints reads back to the same configuration.
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	back := DefaultConfig()
	if err := decodeConfig(&buf, &back); err != nil {
		t.Fatalf("printed config does not read back: %v\n%s", err, buf.String())
	}
	if back.Store.Cache != c.Store.Cache || back.Errors.MaxAge != c.Errors.MaxAge || back.MQTT.Broker != c.MQTT.Broker || len(back.Realms) != 2 {
		t.Errorf("round trip changed the config:\n%s", buf.String())
	}
}

func TestBadConfigs(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"testdata/unknown-key.bad.toml", []string{`unknown key "http.lisen"`}},
		{"testdata/unknown-table.bad.toml", []string{`"grafana.url"`}},
		{"testdata/integer-duration.bad.toml", []string{"max_age"}},
		{"testdata/bad-size.bad.toml", []string{"store.cache", "12 apples"}},
	}
	for _, tc := range cases {
		_, err := LoadConfig(tc.file)
		if err == nil {
			t.Errorf("%s: loaded without error", tc.file)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.file, err, w)
			}
		}
	}
	var unk *UnknownKeyError
	if _, err := LoadConfig("testdata/unknown-key.bad.toml"); !errors.As(err, &unk) {
		t.Errorf("unknown key error is %T", err)
	}

	c, err := LoadConfig("testdata/invalid.bad.toml")
	if err == nil {
		err = c.Validate()
	}
	if err == nil {
		t.Fatal("invalid config validated")
	}
	for _, w := range []string{"time_zone", "http.listen", "store.sync"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"4096": 4096, "1KiB": 1024, "8MiB": 8 << 20, "1GiB": 1 << 30, "2MB": 2 << 20, " 3 KiB ": 3072} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1TB", "lots", "1.5MiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestParseBrokerURL(t *testing.T) {
	good := map[string]string{
		"mqtt://localhost":          "tcp://localhost:1883",
		"tcp://10.0.0.2:1884":       "tcp://10.0.0.2:1884",
		"mqtts://broker.local":      "ssl://broker.local:8883",
		"ssl://[::1]:8883":          "ssl://[::1]:8883",
		"wss://example.org/mqtt":    "wss://example.org:443/mqtt",
		"mqtt://user:pw@host:11883": "tcp://host:11883",
	}
	for in, want := range good {
		if b, err := ParseBrokerURL(in); err != nil || b.Server != want {
			t.Errorf("ParseBrokerURL(%q) = %q, %v; want %q", in, b.Server, err, want)
		}
	}
	for _, in := range []string{"localhost:1883", "http://host", "mqtt://", "mqtt://host:99999", "::"} {
		if _, err := ParseBrokerURL(in); err == nil {
			t.Errorf("ParseBrokerURL(%q) accepted", in)
		}
	}
}
