package decode

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/apiary-hive/apiary/store"
)

// CayenneLPP frames are a sequence of records: one channel byte, one type
// byte, then a fixed number of big-endian data bytes that depend on the type.
//
// The type table follows the Electronic Cats CayenneLPP library
// (github.com/ElectronicCats/CayenneLPP, src/CayenneLPP.h and
// src/CayenneLPP.cpp: type ids, sizes, multipliers and getTypeSigned), the
// reference for the "extended" IPSO types beyond LPPv1. Type 122 (load,
// IPSO 3322) is not in that library: it comes from pycayennelpp
// (github.com/smlng/pycayennelpp, cayennelpp/lpp_type.py: 3 bytes, /1000,
// signed), which Hiveeyes Terkin uses to send the weight in kg, and from
// Terkin's own TTN decoder (hiveeyes/terkin-datalogger client/TTN/decoder_v3.js).
//
// Field names are "<name>_<channel>" as The Things Stack v3 forms them: the
// lowercase LPP_* constant name (lorawan-stack
// pkg/messageprocessors/cayennelpp/keys.go, and the TTS docs: "LPP_TEMPERATURE
// on channel 0 becomes temperature_0"). Multi-value types are flattened with
// "." (accelerometer_6.x, gps_1.latitude, colour_2.r). The Terkin vectors use
// exactly these names; where Terkin's decoder_v3.js differs (it says
// "illuminance", "generic" and "time" for types 101, 100 and 133) we keep
// the TTS names luminosity, generic_sensor and unixtime.
//
// Where the sources disagree, the table sides with Electronic Cats:
//   - TTN's go-cayenne-lib (which lorawan-stack's built-in formatter uses,
//     and which knows only the LPPv1 types, so it rejects Terkin's frames
//     with voltage and load) reads barometric pressure (115) as signed and,
//     in one version, relative humidity (104) as int8; both are unsigned here.
//   - another go-cayenne-lib version read voltage and current as signed /100,
//     frequency as 2 bytes /100 and energy as 3 bytes /100; here voltage is
//     unsigned /100, current unsigned /1000, frequency 4 bytes /1, energy
//     4 bytes /1000.
//   - go-cayenne-lib does not sign-extend the 24-bit GPS values; here
//     latitude, longitude and altitude are signed.
//   - Electronic Cats' own decoder.js once gave direction (132) 1 byte; its
//     header and encoder use 2.
//   - one Electronic Cats release numbered concentration and colour 143
//     ("ppm") and 144 ("rgb"); later releases use 125 and 135, as here.
var lppTypes = map[byte]lppType{
	0:   {"digital_in", lppOne(1, 1, false)},
	1:   {"digital_out", lppOne(1, 1, false)},
	2:   {"analog_in", lppOne(2, 100, true)},
	3:   {"analog_out", lppOne(2, 100, true)},
	100: {"generic_sensor", lppOne(4, 1, false)},
	101: {"luminosity", lppOne(2, 1, false)},
	102: {"presence", lppOne(1, 1, false)},
	103: {"temperature", lppOne(2, 10, true)},
	104: {"relative_humidity", lppOne(1, 2, false)},
	113: {"accelerometer", lppXYZ(2, 1000, true)},
	115: {"barometric_pressure", lppOne(2, 10, false)},
	116: {"voltage", lppOne(2, 100, false)},
	117: {"current", lppOne(2, 1000, false)},
	118: {"frequency", lppOne(4, 1, false)},
	120: {"percentage", lppOne(1, 1, false)},
	121: {"altitude", lppOne(2, 1, true)},
	122: {"load", lppOne(3, 1000, true)},
	125: {"concentration", lppOne(2, 1, false)},
	128: {"power", lppOne(2, 1, false)},
	130: {"distance", lppOne(4, 1000, false)},
	131: {"energy", lppOne(4, 1000, false)},
	132: {"direction", lppOne(2, 1, false)},
	133: {"unixtime", lppOne(4, 1, false)},
	134: {"gyrometer", lppXYZ(2, 100, true)},
	135: {"colour", []lppValue{{".r", 1, 1, false}, {".g", 1, 1, false}, {".b", 1, 1, false}}},
	136: {"gps", []lppValue{{".latitude", 3, 10000, true}, {".longitude", 3, 10000, true}, {".altitude", 3, 100, true}}},
	142: {"switch", lppOne(1, 1, false)},
}

// lppType is one CayenneLPP data type: its field name and the values that
// follow the type byte, in order.
type lppType struct {
	name   string
	values []lppValue
}

// lppValue is one big-endian integer of a record, divided by div.
type lppValue struct {
	suffix string // appended to "<name>_<channel>", "" for one-value types
	size   int    // bytes
	div    int
	signed bool
}

func lppOne(size, div int, signed bool) []lppValue {
	return []lppValue{{"", size, div, signed}}
}

func lppXYZ(size, div int, signed bool) []lppValue {
	return []lppValue{{".x", size, div, signed}, {".y", size, div, signed}, {".z", size, div, signed}}
}

// size is the number of data bytes after the type byte.
func (t lppType) size() int {
	n := 0
	for _, v := range t.values {
		n += v.size
	}
	return n
}

// DecodeLPP decodes a CayenneLPP frame, given as raw bytes or as base64 text
// (standard or URL alphabet, with or without padding, surrounding whitespace
// allowed), into one reading.
//
// The reading has the time of arrival and one field per value, named
// "<type>_<channel>" the way The Things Stack names them (temperature_0,
// load_5, gps_1.latitude). A payload that reads as base64 and whose decoded
// bytes are a valid frame is taken as base64; otherwise the bytes themselves
// are the frame (raw frames may start or end with bytes that look like
// whitespace: channel 10 is '\n'). A truncated frame or an unknown type fails
// the whole message with an error of kind "lpp" that names the byte offset.
func DecodeLPP(payload []byte, opts Options, res *Result) error {
	opts = opts.withDefaults()
	if len(bytes.TrimSpace(payload)) == 0 {
		return errorf("empty", "empty payload")
	}
	f, err := lppParse(payload, opts.MaxFields)
	if err != nil {
		return err
	}
	res.Notes = append(res.Notes, f.notes...)
	res.Readings = append(res.Readings, store.Reading{Time: opts.Received, Fields: f.fields})
	return nil
}

// lppParse picks the reading of payload: the base64-decoded frame when the
// payload is valid base64 text and that frame is good, else the payload
// itself as a raw frame. A raw frame can look like base64: channel 10 is
// '\n', trimmed as whitespace, and "\nhx" (humidity 60 % on channel 10)
// leaves "hx", valid unpadded base64 of a 1-byte, truncated frame.
func lppParse(payload []byte, maxFields int) (lppFrame, error) {
	var f lppFrame
	b64, b64Err := lppBase64(payload)
	if b64 != nil {
		b64FrameErr := f.parse(b64, maxFields)
		if b64FrameErr == nil {
			return f, nil
		}
		if f.parse(payload, maxFields) == nil {
			return f, nil
		}
		return f, lppError(b64FrameErr, "in the base64-decoded frame")
	}
	if err := f.parse(payload, maxFields); err != nil {
		if b64Err != nil {
			return f, lppError(err, fmt.Sprintf("(and the payload is not base64 text: %v)", b64Err))
		}
		return f, lppError(err, "")
	}
	return f, nil
}

// lppError wraps a frame error in an *Error of the frame error's kind.
func lppError(err *lppFrameError, context string) error {
	if context == "" {
		return errorf(err.kind, "%s", err.msg)
	}
	return errorf(err.kind, "%s %s", err.msg, context)
}

// lppBase64 decodes payload as base64 text if it looks like it: only base64
// characters once surrounding whitespace is trimmed, one alphabet ("+/" or
// "-_"), "=" padding only at the end. It returns nil and no error when the
// payload does not look like base64 at all, and nil and an error when it
// looks like base64 but is not valid.
func lppBase64(payload []byte) ([]byte, error) {
	s := bytes.TrimSpace(payload)
	std, url, pad := false, false, 0
	for i, c := range s {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		case c == '=':
			if i == 0 {
				return nil, nil
			}
			pad++
		default:
			return nil, nil
		}
		if pad > 0 && c != '=' {
			return nil, nil
		}
	}
	if len(s) == 0 || (std && url) || pad > 2 {
		return nil, nil
	}
	// Padding is optional, and a wrong count of "=" is forgiven: decode
	// the characters before it without padding.
	s = s[:len(s)-pad]
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %v", err)
	}
	if n == 0 {
		return nil, nil
	}
	return out[:n], nil
}

// lppFrame is the result of parsing one frame, kept apart from the Result
// until the frame is known to be good.
type lppFrame struct {
	fields map[string]float64
	notes  []Note
}

// lppFrameError is a failure to parse a frame; kind is the Error kind.
type lppFrameError struct {
	kind, msg string
}

// lppKey names one value of a frame without building its name: the type,
// the channel and the index of the value within the record.
type lppKey struct {
	id, channel, index byte
}

func (k lppKey) name() string {
	t := lppTypes[k.id]
	return t.name + "_" + strconv.Itoa(int(k.channel)) + t.values[k.index].suffix
}

// parse reads the records of frame. Memory is linear in the number of
// distinct fields (at most len(frame)/3 and maxFields), not in the number of
// records: a field that repeats is overwritten (the last value wins, as in
// TTN's decoders) and one note sums up the repeats.
func (f *lppFrame) parse(frame []byte, maxFields int) *lppFrameError {
	f.fields, f.notes = nil, nil
	if len(frame) == 0 {
		return &lppFrameError{"empty", "empty CayenneLPP frame"}
	}
	values := make(map[lppKey]float64, min(len(frame)/3, maxFields))
	repeats, firstRepeat, firstRepeatAt := 0, lppKey{}, 0
	for off := 0; off < len(frame); {
		if len(frame)-off < 2 {
			return &lppFrameError{"lpp", fmt.Sprintf(
				"truncated CayenneLPP frame: channel %d at byte %d has no type byte (frame is %d bytes)",
				frame[off], off, len(frame))}
		}
		channel, id := frame[off], frame[off+1]
		t, ok := lppTypes[id]
		if !ok {
			return &lppFrameError{"lpp", fmt.Sprintf(
				"unknown CayenneLPP type %d (0x%02x) at byte %d (channel %d)", id, id, off+1, channel)}
		}
		data := off + 2
		if need := t.size(); len(frame)-data < need {
			return &lppFrameError{"lpp", fmt.Sprintf(
				"truncated CayenneLPP frame: %s (type %d, channel %d) at byte %d needs %d data bytes from byte %d, %d left",
				t.name, id, channel, off, need, data, len(frame)-data)}
		}
		for i, v := range t.values {
			k := lppKey{id, channel, byte(i)}
			if _, dup := values[k]; dup {
				if repeats == 0 {
					firstRepeat, firstRepeatAt = k, off
				}
				repeats++
			} else if len(values) >= maxFields {
				return &lppFrameError{"limit", fmt.Sprintf("more than %d values in one message", maxFields)}
			}
			values[k] = v.decode(frame[data : data+v.size])
			data += v.size
		}
		off = data
	}
	f.fields = make(map[string]float64, len(values))
	for k, v := range values {
		f.fields[k.name()] = v
	}
	if repeats > 0 {
		f.notes = append(f.notes, Note{"field", fmt.Sprintf(
			"%d values in the CayenneLPP frame repeat a field (first %q at byte %d); the last value of each field wins",
			repeats, firstRepeat.name(), firstRepeatAt)})
	}
	return nil
}

// decode reads b as a big-endian integer, sign-extends it if the value is
// signed, and divides it: float64(int)/divisor, so 420/100 is 4.2 exactly
// as a person reads it.
func (v lppValue) decode(b []byte) float64 {
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	n := int64(u)
	if bits := uint(len(b) * 8); v.signed && bits < 64 && u&(1<<(bits-1)) != 0 {
		n -= 1 << bits
	}
	if v.div == 1 {
		return float64(n)
	}
	return float64(n) / float64(v.div)
}
