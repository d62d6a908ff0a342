package address

import (
	"errors"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/apiary-hive/apiary/internal/testvectors"
)

// defaultRoutes are the MQTT routes of appliance/default.toml, read from
// the file, so that the fuzzing follows the routes the appliance ships.
func defaultRoutes(tb testing.TB) []Route {
	tb.Helper()
	var cfg struct {
		Route []Route `toml:"route"`
	}
	if _, err := toml.DecodeFile("../../appliance/default.toml", &cfg); err != nil {
		tb.Fatal(err)
	}
	var out []Route
	for _, r := range cfg.Route {
		if r.Topic != "" {
			out = append(out, r)
		}
	}
	if len(out) < 20 {
		tb.Fatalf("only %d MQTT routes in appliance/default.toml", len(out))
	}
	return out
}

// FuzzResolve resolves any topic with the default routes, with configured
// realms (LAN, allow-list) and with none. An error is an *Error of kind
// address, access or limit, or ErrIgnored. An address has a valid channel
// whose parts hold no "/" and respect MaxSegment, and a slot; a Kotori WAN
// topic is exactly its channel and slot.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"hiveeyes/a/b/c/data.json", "r/channel/a-b-c-d-e/data.json", "r/device/x/y", "basic/n/data.json", "tele/x/SENSOR", "homie/a/$b", "////", "a/b/c/d/e/f/g",
		"r/channel/r-x/data.json", "basic/node/data/weight", "homie/dev/node/prop", "esp/sensor/t/state"} {
		f.Add(s)
	}
	for _, v := range testvectors.Load(f) {
		if v.Transport == "mqtt" || v.Transport == "strategy-unit" {
			f.Add(v.TopicOrPath)
		}
	}
	rt, err := NewRouter(defaultRoutes(f))
	if err != nil {
		f.Fatal(err)
	}
	configured := Resolver{Routes: rt, Realms: map[string]Realm{"basic": {LAN: true}, "hiveeyes": {}, "r": {AllowedNetworks: []string{"a"}}, "tele": {}, "mqttkit-1": {}}, MaxSegment: 64}
	open := Resolver{}
	f.Fuzz(func(t *testing.T, topic string) {
		for _, res := range []Resolver{configured, open} {
			a, err := res.Resolve(topic)
			if err != nil {
				var ae *Error
				switch {
				case errors.Is(err, ErrIgnored):
				case !errors.As(err, &ae):
					t.Fatalf("Resolve(%q): error %T %v", topic, err, err)
				case ae.Kind != "address" && ae.Kind != "access" && ae.Kind != "limit", ae.Msg == "", ae.Topic != topic:
					t.Fatalf("Resolve(%q): %#v", topic, ae)
				}
				continue
			}
			maxSeg := res.MaxSegment
			if maxSeg == 0 {
				maxSeg = 256
			}
			if !a.Channel.Valid() || a.Slot == "" {
				t.Fatalf("Resolve(%q) = %+v without error", topic, a)
			}
			for _, p := range []string{a.Channel.Realm, a.Channel.Network, a.Channel.Gateway, a.Channel.Node} {
				if strings.Contains(p, "/") || len(p) > maxSeg {
					t.Fatalf("Resolve(%q) = %+v: channel part %q", topic, a, p)
				}
			}
			parts := strings.Split(topic, "/")
			if _, _, routed := rt.Topic(topic); res.Routes == nil || !routed {
				if len(parts) > 1 && parts[1] != "device" && parts[1] != "channel" && !res.Realms[parts[0]].LAN &&
					a.Channel.String()+"/"+a.Slot != topic {
					t.Fatalf("Resolve(%q) = %s + %s", topic, a.Channel, a.Slot)
				}
			}
		}
	})
}

// FuzzRoute builds a router of one route from a fuzzed pattern and
// templates and matches a fuzzed topic: a route that validates never
// panics, captures are non-empty segments, a pattern of literal segments
// matches itself, and an expanded channel is valid (four non-empty parts
// without "/" or NUL: the store refuses anything else, and a refused QoS 1
// message would be redelivered for ever).
func FuzzRoute(f *testing.F) {
	for _, r := range defaultRoutes(f) {
		f.Add(r.Topic, r.Channel, r.Slot, strings.NewReplacer("{", "", "}", "", "+", "x", "#", "a/b", "$*", "$x").Replace(r.Topic))
	}
	f.Add("/api/{a}/{b}", "x/{a|b|=d}/{header:X}/{b}", "s/{a}", "/api/1/2")
	f.Fuzz(func(t *testing.T, pattern, channel, slot, topic string) {
		r := Route{Topic: pattern, Channel: channel, Slot: slot}
		rt, err := NewRouter([]Route{r})
		if err != nil {
			return
		}
		if !strings.ContainsAny(pattern, "{}+#*?[]\\") {
			if _, _, ok := rt.Topic(pattern); !ok {
				t.Fatalf("literal pattern %q does not match itself", pattern)
			}
		}
		got, caps, ok := rt.Topic(topic)
		if !ok {
			return
		}
		if got != r {
			t.Fatalf("matched %+v, want %+v", got, r)
		}
		for k, v := range caps {
			if v == "" || strings.Contains(v, "/") {
				t.Fatalf("capture %s = %q from %q by %q", k, v, topic, pattern)
			}
		}
		a, err := r.Expand(caps, func(name string) string { return name })
		if err != nil {
			return
		}
		if !a.Channel.Valid() {
			t.Fatalf("expanded %q with %v: invalid channel %q", channel, caps, a.Channel)
		}
		for _, p := range []string{a.Channel.Realm, a.Channel.Network, a.Channel.Gateway, a.Channel.Node} {
			if strings.Contains(p, "/") {
				t.Fatalf("expanded %q with %v: channel part %q", channel, caps, p)
			}
		}
	})
}
