package decode

import "bytes"

// nonFiniteTokens are the bare words that real serializers write for
// non-finite floats: ArduinoJson 5 and CPython write NaN/Infinity,
// MicroPython nan/inf. None of them is JSON.
var nonFiniteTokens = [][]byte{
	[]byte("-Infinity"), []byte("+Infinity"), []byte("Infinity"),
	[]byte("-infinity"), []byte("infinity"),
	[]byte("-NaN"), []byte("NaN"), []byte("-nan"), []byte("nan"),
	[]byte("-inf"), []byte("+inf"), []byte("inf"), []byte("-Inf"), []byte("Inf"),
}

// Lenient rewrites bare NaN, Infinity, nan and inf tokens outside strings to
// null, so that a strict JSON parser accepts what ArduinoJson 5, CPython and
// MicroPython write, and the non-finite field is dropped like any null. The
// input is returned unchanged (not copied) when there is nothing to rewrite.
func Lenient(b []byte) []byte {
	if !mayHaveNonFinite(b) {
		return b
	}
	var out []byte
	inString, escaped := false, false
	last := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if c != 'N' && c != 'n' && c != 'I' && c != 'i' && c != '-' && c != '+' {
			continue
		}
		if i > 0 && isWordByte(b[i-1]) {
			continue
		}
		for _, tok := range nonFiniteTokens {
			end := i + len(tok)
			if bytes.HasPrefix(b[i:], tok) && (end == len(b) || !isWordByte(b[end])) {
				out = append(out, b[last:i]...)
				out = append(out, "null"...)
				last = end
				i = end - 1
				break
			}
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

func mayHaveNonFinite(b []byte) bool {
	return bytes.Contains(b, []byte("NaN")) || bytes.Contains(b, []byte("nan")) ||
		bytes.Contains(b, []byte("nf"))
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
