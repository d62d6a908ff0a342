package address

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/apiary-hive/apiary/store"
)

// Route maps MQTT topics or HTTP paths that are not Kotori addresses (a
// Tasmota's tele/<device>/SENSOR, an ESPHome node's sensor states, a BEEP
// base's POST /api/sensors) to a channel and a slot, so that devices on
// their factory settings work without reflashing.
//
// Pattern segments: "{name}" captures one segment, "+" matches one, "#" at
// the end matches the rest (zero or more), anything else is a glob for one
// segment ("$*" matches Homie attributes). Templates name captures as
// {name}, request parts as {header:X-Sensor} or {query:db}, and values the
// decoder found as {key}, {device_id} or {tag:node}; "{a|b|=text}" takes the
// first of a and b that is set, else the literal text.
type Route struct {
	// Topic is the pattern of an MQTT route; Path of an HTTP route.
	Topic string `toml:"topic,omitempty"`
	Path  string `toml:"path,omitempty"`
	// Channel is the template "realm/network/gateway/node".
	Channel string `toml:"channel,omitempty"`
	// Slot is the template of the slot that picks the decoder.
	Slot string `toml:"slot,omitempty"`
	// Ignore drops matching messages without a word (status, commands,
	// discovery configs: traffic that is not telemetry).
	Ignore bool `toml:"ignore,omitempty"`
}

// Validate reports a route that can never work.
func (r Route) Validate() error {
	switch {
	case (r.Topic == "") == (r.Path == ""):
		return fmt.Errorf("route needs exactly one of topic or path")
	case r.Ignore:
		return nil
	case len(strings.Split(r.Channel, "/")) != 4:
		return fmt.Errorf("route %s: channel %q is not realm/network/gateway/node", r.pattern(), r.Channel)
	case r.Slot == "":
		return fmt.Errorf("route %s: no slot", r.pattern())
	}
	pat := strings.Split(strings.Trim(r.pattern(), "/"), "/")
	for i, seg := range pat {
		if seg == "#" && i != len(pat)-1 {
			return fmt.Errorf("route %s: # must be the last segment", r.pattern())
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("route %s: bad segment %q", r.pattern(), seg)
		}
	}
	return nil
}

func (r Route) pattern() string {
	if r.Topic != "" {
		return r.Topic
	}
	return r.Path
}

// match matches s against the route's pattern and returns the captures.
func (r Route) match(s string) (map[string]string, bool) {
	return matchSegments(strings.Split(r.pattern(), "/"), strings.Split(s, "/"))
}

func matchSegments(pat, parts []string) (map[string]string, bool) {
	// Every message is tried against the routes before Kotori's
	// addressing: fail fast, and allocate the captures only for a match.
	if n := len(pat); n == 0 || pat[n-1] != "#" && n != len(parts) || pat[n-1] == "#" && len(parts) < n-1 {
		return nil, false
	}
	captures := 0
	for i, seg := range pat {
		if seg == "#" {
			break
		}
		p := parts[i]
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			if p == "" {
				return nil, false
			}
			captures++
		case seg == "+":
			if p == "" {
				return nil, false
			}
		case !strings.ContainsAny(seg, "*?[\\"):
			if seg != p {
				return nil, false
			}
		default:
			if ok, _ := path.Match(seg, p); !ok {
				return nil, false
			}
		}
	}
	if captures == 0 {
		return nil, true
	}
	caps := make(map[string]string, captures)
	for i, seg := range pat {
		if seg == "#" {
			break
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			caps[seg[1:len(seg)-1]] = parts[i]
		}
	}
	return caps, true
}

// Vars supplies template values beyond the pattern's captures.
type Vars func(name string) string

// Expand fills a route's channel and slot templates.
func (r Route) Expand(caps map[string]string, vars Vars) (Address, error) {
	get := func(name string) string {
		if v, ok := caps[name]; ok {
			return v
		}
		if vars != nil {
			return vars(name)
		}
		return ""
	}
	ch, err := expand(r.Channel, get)
	if err != nil {
		return Address{}, err
	}
	slot, err := expand(r.Slot, get)
	if err != nil {
		return Address{}, err
	}
	parts := strings.Split(ch, "/")
	if len(parts) != 4 {
		return Address{}, fmt.Errorf("route %s: channel %q is not realm/network/gateway/node", r.pattern(), ch)
	}
	for _, p := range parts {
		if len(p) > MaxChannelPart {
			return Address{}, fmt.Errorf("route %s: channel part %q: %w", r.pattern(), clip(p), ErrPartTooLong)
		}
	}
	c := store.Channel{Realm: parts[0], Network: parts[1], Gateway: parts[2], Node: parts[3]}
	if !c.Valid() {
		return Address{}, fmt.Errorf("route %s: channel %q has an empty or invalid part", r.pattern(), ch)
	}
	return Address{Channel: c, Slot: slot}, nil
}

// TemplateTags are the tags a channel template names ({tag:node|tag:host}).
func TemplateTags(tmpl string) map[string]bool {
	out := map[string]bool{}
	for _, p := range templateParts(tmpl) {
		for _, alt := range p.alts {
			if name, ok := strings.CutPrefix(alt, "tag:"); ok {
				out[name] = true
			}
		}
	}
	return out
}

// templatePart is a template's literal text up to a placeholder, and the
// placeholder's alternatives ({a|b|=c}: a, b, =c); the last part has none.
type templatePart struct {
	literal  string
	alts     []string
	unclosed bool
}

// templateParts splits a template at its placeholders. The text from an
// unclosed "{" on is a last part marked unclosed.
func templateParts(tmpl string) (parts []templatePart) {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return append(parts, templatePart{literal: tmpl})
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return append(parts, templatePart{literal: tmpl, unclosed: true})
		}
		parts = append(parts, templatePart{literal: tmpl[:i], alts: strings.Split(tmpl[i+1:i+j], "|")})
		tmpl = tmpl[i+j+1:]
	}
}

// MaxChannelPart bounds a part of a channel a route makes from what a
// device sent (a Tasmota topic, an X-Sensor header, a BEEP key, a line
// protocol tag), as MaxSegment bounds a Kotori address's.
const MaxChannelPart = 256

// ErrPartTooLong is a route's channel part longer than MaxChannelPart.
var ErrPartTooLong = fmt.Errorf("longer than %d bytes", MaxChannelPart)

// ExpandErrorKind is the error-log kind of an Expand error: "limit" for a
// part that is too long, else "address".
func ExpandErrorKind(err error) string {
	if errors.Is(err, ErrPartTooLong) {
		return "limit"
	}
	return "address"
}

// expand replaces {…} in tmpl. A value may not add a "/", which would shift
// the channel's parts: it becomes "_".
func expand(tmpl string, get func(string) string) (string, error) {
	var b strings.Builder
	for _, p := range templateParts(tmpl) {
		if p.unclosed {
			return "", fmt.Errorf("template %q: unclosed {", tmpl)
		}
		b.WriteString(p.literal)
		if p.alts == nil {
			break
		}
		v := ""
		for _, alt := range p.alts {
			if strings.HasPrefix(alt, "=") {
				v = alt[1:]
				break
			}
			if v = get(alt); v != "" {
				break
			}
		}
		if v == "" {
			return "", fmt.Errorf("template %q: no value for {%s}", tmpl, strings.Join(p.alts, "|"))
		}
		b.WriteString(strings.ReplaceAll(v, "/", "_"))
	}
	return b.String(), nil
}

// Router holds the MQTT and HTTP routes in their order: the first match
// wins. Patterns are split once, here, not for every message.
type Router struct {
	routes []Route
	split  [][]string
}

// NewRouter checks the routes and returns a router.
func NewRouter(routes []Route) (*Router, error) {
	rt := &Router{routes: routes}
	for _, r := range routes {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		rt.split = append(rt.split, strings.Split(r.pattern(), "/"))
	}
	return rt, nil
}

// Topic returns the first MQTT route matching topic, with its captures.
func (rt *Router) Topic(topic string) (Route, map[string]string, bool) {
	return rt.find(topic, true)
}

// Path returns the first HTTP route matching path, with its captures.
func (rt *Router) Path(p string) (Route, map[string]string, bool) {
	return rt.find(p, false)
}

func (rt *Router) find(s string, topic bool) (Route, map[string]string, bool) {
	if rt == nil {
		return Route{}, nil, false
	}
	parts := strings.Split(s, "/")
	for i, r := range rt.routes {
		if (r.Topic != "") != topic {
			continue
		}
		if caps, ok := matchSegments(rt.split[i], parts); ok {
			return r, caps, true
		}
	}
	return Route{}, nil, false
}
