package auth

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// validFilter reports whether f is an MQTT topic filter: "+" fills a
// whole level, "#" only the last.
func validFilter(f string) bool {
	if f == "" {
		return false
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && len(l) != 1 {
			return false
		}
		if l == "#" && i != len(levels)-1 {
			return false
		}
	}
	return true
}

// MatchTopic reports whether topic matches the MQTT filter. As in MQTT,
// "#" and "+" at the first level do not match topics starting with "$".
func MatchTopic(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	f := strings.Split(filter, "/")
	t := strings.Split(topic, "/")
	for i, l := range f {
		if l == "#" {
			return true // also matches the parent level: "a/#" matches "a"
		}
		if i >= len(t) {
			return false
		}
		if l != "+" && l != t[i] {
			return false
		}
	}
	return len(f) == len(t)
}

// filterCovers reports whether every topic that sub matches is matched
// by allowed too.
func filterCovers(allowed, sub string) bool {
	a := strings.Split(allowed, "/")
	s := strings.Split(sub, "/")
	for i, l := range a {
		if l == "#" {
			return true
		}
		if i >= len(s) {
			return false
		}
		switch {
		case l == "+":
			if s[i] == "#" {
				return false
			}
		case l != s[i]:
			return false
		}
	}
	return len(a) == len(s)
}

func randomString() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
