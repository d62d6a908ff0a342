// Package address maps an MQTT topic or an HTTP path to a channel and a
// slot, following Kotori's SensorWAN addressing: the WAN quadruple
// realm/network/gateway/node/<slot>, the direct forms realm/device/<id>/<slot>
// and realm/channel/<network-gateway-node>/<slot>, and the LAN form
// realm/node/<slot> for realms configured so.
//
// It never guesses: a topic that names no channel, or a network a realm
// does not allow, is an error that says so.
package address

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apiary-hive/apiary/store"
)

// Realm is a realm's addressing policy.
type Realm struct {
	Name string
	// LAN realms address nodes as realm/node/<slot>; network and gateway
	// are "default".
	LAN bool
	// AllowedNetworks, when set, is the list of networks the direct
	// channel/<network-gateway-node> form may address.
	AllowedNetworks []string
}

// Resolver resolves topics. Its zero value accepts any realm as a WAN realm
// with the default limits.
type Resolver struct {
	// Realms, when not empty, are the only realms accepted.
	Realms map[string]Realm
	// MaxLen bounds a topic in bytes (default 1024).
	MaxLen int
	// MaxDepth bounds the number of segments (default 32).
	MaxDepth int
	// MaxSegment bounds one channel segment in bytes (default 256).
	MaxSegment int
	// Routes map topics of factory-default devices; they are tried before
	// Kotori addressing.
	Routes *Router
}

// ErrIgnored is returned for topics a route says to ignore: traffic on the
// same broker that is not telemetry.
var ErrIgnored = errors.New("ignored topic")

// Address is where a message was sent.
type Address struct {
	Channel store.Channel
	Slot    string
}

// Error is a topic that addresses no channel. Kind is "address" (malformed),
// "access" (a realm or network that is not allowed) or "limit".
type Error struct {
	Kind  string
	Topic string
	Msg   string
}

func (e *Error) Error() string { return fmt.Sprintf("topic %q: %s", clip(e.Topic), e.Msg) }

// ErrorKind names the class of failure for the error log.
func (e *Error) ErrorKind() string { return e.Kind }

func clip(s string) string {
	if len(s) <= 200 {
		return s
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Resolve maps a topic (or an HTTP path below /api/) to an address.
func (r Resolver) Resolve(topic string) (Address, error) {
	maxLen, maxDepth, maxSeg := r.MaxLen, r.MaxDepth, r.MaxSegment
	if maxLen <= 0 {
		maxLen = 1024
	}
	if maxDepth <= 0 {
		maxDepth = 32
	}
	if maxSeg <= 0 {
		maxSeg = 256
	}
	fail := func(kind, format string, args ...any) (Address, error) {
		return Address{}, &Error{Kind: kind, Topic: topic, Msg: fmt.Sprintf(format, args...)}
	}
	if len(topic) > maxLen {
		return fail("limit", "longer than %d bytes", maxLen)
	}
	if !utf8.ValidString(topic) || strings.ContainsRune(topic, 0) {
		return fail("address", "not valid UTF-8 text")
	}
	parts := strings.Split(topic, "/")
	if len(parts) > maxDepth {
		return fail("limit", "more than %d segments", maxDepth)
	}
	if rt, caps, ok := r.Routes.Topic(topic); ok {
		if rt.Ignore {
			return Address{}, ErrIgnored
		}
		a, err := rt.Expand(caps, nil)
		if err != nil {
			return fail(ExpandErrorKind(err), "%v", err)
		}
		return a, nil
	}
	realmName := parts[0]
	if realmName == "" {
		return fail("address", "no realm (the topic starts with /)")
	}
	realm, known := r.Realms[realmName]
	if len(r.Realms) > 0 && !known {
		return fail("access", "realm %q is not configured", realmName)
	}
	realm.Name = realmName

	var a Address
	var rest []string
	switch {
	case realm.LAN:
		if len(parts) < 3 {
			return fail("address", "too few segments for LAN realm %q: want realm/node/<slot>", realmName)
		}
		a.Channel = store.Channel{Realm: realmName, Network: "default", Gateway: "default", Node: parts[1]}
		rest = parts[2:]
	case len(parts) >= 2 && parts[1] == "device":
		if len(parts) < 4 {
			return fail("address", "too few segments: want %s/device/<id>/<slot>", realmName)
		}
		a.Channel = store.Channel{Realm: realmName, Network: "devices", Gateway: "default", Node: parts[2]}
		rest = parts[3:]
	case len(parts) >= 2 && parts[1] == "channel":
		if len(parts) < 4 {
			return fail("address", "too few segments: want %s/channel/<network-gateway-node>/<slot>", realmName)
		}
		a.Channel = splitDashed(realmName, parts[2])
		rest = parts[3:]
	default:
		if len(parts) < 5 {
			return fail("address", "too few segments: want realm/network/gateway/node/<slot>, got %d segment(s)", len(parts))
		}
		a.Channel = store.Channel{Realm: realmName, Network: parts[1], Gateway: parts[2], Node: parts[3]}
		rest = parts[4:]
	}
	// Kotori's direct_channel_allowed_networks guards the channel/ form,
	// whose network the device chooses; device/ always means "devices".
	if !realm.LAN && parts[1] == "channel" && len(realm.AllowedNetworks) > 0 && !contains(realm.AllowedNetworks, a.Channel.Network) {
		return fail("access", "rejected access to SensorWAN network: %s", a.Channel.Network)
	}
	for _, p := range []string{a.Channel.Network, a.Channel.Gateway, a.Channel.Node} {
		if p == "" {
			return fail("address", "empty segment in the channel address")
		}
		if len(p) > maxSeg {
			return fail("limit", "a channel segment is longer than %d bytes", maxSeg)
		}
	}
	if len(realmName) > maxSeg {
		return fail("limit", "the realm is longer than %d bytes", maxSeg)
	}
	a.Slot = strings.Join(rest, "/")
	if a.Slot == "" {
		return fail("address", "no slot after the channel (e.g. /data.json)")
	}
	return a, nil
}

// splitDashed reads Kotori's dashed channel id network-gateway-node: too
// few parts are padded at the front with "default", then a first part equal
// to the realm is dropped (and the parts padded again), and parts beyond
// the third are joined back into the node.
func splitDashed(realm, id string) store.Channel {
	parts := strings.Split(id, "-")
	pad := func() {
		for len(parts) < 3 {
			parts = append([]string{"default"}, parts...)
		}
	}
	pad()
	if parts[0] == realm {
		parts = parts[1:]
		pad()
	}
	return store.Channel{Realm: realm, Network: parts[0], Gateway: parts[1], Node: strings.Join(parts[2:], "-")}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
