package decode

import (
	"encoding/json"
	"unicode/utf8"
)

// fastObject parses the payload almost every device sends, a flat JSON
// object of numbers (and strings, booleans, null, bare NaN/Infinity), in
// one pass without reflection. Anything else (nesting, arrays, escapes,
// anything odd) returns ok == false, and the general parser, which also
// gives the precise error, takes over.
func fastObject(b []byte) (map[string]any, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	obj := make(map[string]any, 16)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return obj, skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := fastString(b, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return nil, false
		}
		var v any
		switch c := b[i]; {
		case c == '"':
			s, next, ok := fastString(b, i)
			if !ok {
				return nil, false
			}
			v, i = s, next
		case c == '-' || c == '+' || (c >= '0' && c <= '9') || c == 'N' || c == 'I' || c == 'n' || c == 'i' || c == 't' || c == 'f':
			j := i
			for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
				j++
			}
			tok := string(b[i:j])
			switch tok {
			case "true":
				v = true
			case "false":
				v = false
			case "null", "NaN", "-NaN", "nan", "-nan", "Infinity", "-Infinity", "+Infinity", "inf", "-inf", "+inf", "infinity", "-infinity", "Inf", "-Inf":
				v = nil
			default:
				if !jsonNumber(tok) {
					return nil, false
				}
				v = json.Number(tok)
			}
			i = j
		default:
			return nil, false // nested objects, arrays: the general parser
		}
		obj[key] = v
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			return obj, skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return nil, false
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// fastString reads a JSON string of UTF-8 text without escapes or control
// characters. Invalid UTF-8 is left to the general parser, which replaces
// it with U+FFFD.
func fastString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			if !ascii && !utf8.Valid(b[i+1:j]) {
				return "", i, false
			}
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", i, false
}

// jsonNumber reports whether s is a number as JSON writes it.
func jsonNumber(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}
