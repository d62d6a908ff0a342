package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Values are stored as decimals where they are decimals: a sensor's 42.17
// is the integer 4217 with two fraction digits, and a column of such values
// is a column of small integer residuals, which Rice coding (rice.go) packs
// into a few bits a point where float XOR (Gorilla) needs 5-8 bytes. A
// value that is no short decimal (1/3, 3.5555555555555554) is kept as its
// float64 bits.

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// maxExact is the largest integer a float64 holds exactly.
const maxExact = 1 << 53

// decimalDigits returns the fewest fraction digits (0..9) with which v is
// exactly m/10^e for an integer m below 2^53, or -1.
func decimalDigits(v float64) int {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return -1
	}
	for e := 0; e < len(pow10); e++ {
		m := math.Round(v * pow10[e])
		if math.Abs(m) >= maxExact {
			return -1
		}
		if m/pow10[e] == v {
			return e
		}
	}
	return -1
}

// mantissa is v·10^e as an integer; decimalDigits(v) <= e must hold.
func mantissa(v float64, e int) int64 { return int64(math.Round(v * pow10[e])) }

// fromMantissa is m/10^e.
func fromMantissa(m int64, e int) float64 { return float64(m) / pow10[e] }

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// reader decodes what appendX wrote; the first error sticks.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("store: truncated record")

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 { return unzigzag(r.uvarint()) }

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// A recent record holds one reading of a channel, keyed by channel and
// time. Records are most of what the store writes while data comes in
// (the write-ahead log, then the flushed tables), so they are tight: a
// marker byte 0, the number of values, then per value, in series order,
// one uvarint tag
//
//	zigzag(mantissa)<<5 | other<<4 | code
//
// where code 0-9 is a decimal's fraction digits (42.17 is 4217 with code
// 2), codeFloat is float64 bits (8 bytes after the tag) and codeText a
// string (uvarint length and bytes after the tag). other is set when the
// series id is not the previous one's plus one; the id's difference then
// follows the tag. A channel's fields get consecutive ids, so most values
// cost their tag alone: 2-3 bytes for a sensor's decimal.
//
// Records of format 1 (Apiary before this layout, still read) start with
// the number of values, never 0, and give each value its id difference,
// an encoding byte (encDecimal with the digits in the high nibble,
// encFloat, encText) and the value.
const (
	recordV2  byte = 0
	codeFloat      = 10
	codeText       = 11
	tagOther       = 1 << 4
)

// Value encodings of format 1 records.
const (
	encDecimal byte = 0
	encFloat   byte = 1
	encText    byte = 2
)

type recordValue struct {
	series uint32
	num    float64
	text   string
	isText bool
}

func appendRecord(b []byte, vals []recordValue) []byte {
	slices.SortFunc(vals, func(a, b recordValue) int { return cmp.Compare(a.series, b.series) })
	b = append(b, recordV2)
	b = binary.AppendUvarint(b, uint64(len(vals)))
	prev := uint32(0)
	for _, v := range vals {
		delta := v.series - prev
		prev = v.series
		var tag uint64
		if delta != 1 {
			tag = tagOther
		}
		e := -1
		switch {
		case v.isText:
			tag |= codeText
		default:
			if e = decimalDigits(v.num); e >= 0 {
				tag |= zigzag(mantissa(v.num, e))<<5 | uint64(e)
			} else {
				tag |= codeFloat
			}
		}
		b = binary.AppendUvarint(b, tag)
		if delta != 1 {
			b = binary.AppendUvarint(b, uint64(delta))
		}
		switch {
		case v.isText:
			b = binary.AppendUvarint(b, uint64(len(v.text)))
			b = append(b, v.text...)
		case e < 0:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.num))
		}
	}
	return b
}

func decodeRecord(b []byte, fn func(recordValue)) error {
	if len(b) > 0 && b[0] == recordV2 {
		return decodeRecordV2(b[1:], fn)
	}
	r := reader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return errShort
	}
	series := uint32(0)
	for i := uint64(0); i < n && r.err == nil; i++ {
		series += uint32(r.uvarint())
		enc := r.byte()
		v := recordValue{series: series}
		switch enc & 0x0f {
		case encDecimal:
			v.num = fromMantissa(r.varint(), int(enc>>4)%len(pow10))
		case encFloat:
			v.num = math.Float64frombits(r.u64())
		case encText:
			v.text, v.isText = string(r.bytes(int(r.uvarint()))), true
		default:
			return fmt.Errorf("store: unknown value encoding %d", enc)
		}
		if r.err == nil {
			fn(v)
		}
	}
	return r.err
}

func decodeRecordV2(b []byte, fn func(recordValue)) error {
	r := reader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return errShort
	}
	series := uint32(0)
	for i := uint64(0); i < n && r.err == nil; i++ {
		tag := r.uvarint()
		if tag&tagOther != 0 {
			series += uint32(r.uvarint())
		} else {
			series++
		}
		v := recordValue{series: series}
		switch code := tag & 0x0f; {
		case code < uint64(len(pow10)):
			v.num = fromMantissa(unzigzag(tag>>5), int(code))
		case code == codeFloat:
			v.num = math.Float64frombits(r.u64())
		case code == codeText:
			v.text, v.isText = string(r.bytes(int(r.uvarint()))), true
		default:
			return fmt.Errorf("store: unknown value code %d", code)
		}
		if r.err == nil {
			fn(v)
		}
	}
	return r.err
}

// Column encodings within a chunk or a rollup block.
const (
	colDelta byte = 0 // decimal mantissas, first then deltas (read only: written before Rice columns)
	colDoD   byte = 1 // decimal mantissas, first, first delta, then delta-of-deltas (read only)
	colFloat byte = 2 // float64 bits
	colText  byte = 3 // dictionary of strings, then indices
	colRice  byte = 4 // decimal mantissas, Rice-coded residuals (rice.go)
)

// appendNumbers encodes a column of numbers: decimals as a Rice column
// (rice.go), anything else as raw floats.
func appendNumbers(b []byte, vals []float64) []byte {
	// The fewest fraction digits that fit every value: a value that fits
	// e digits fits more, so e only grows.
	e := 0
	for _, v := range vals {
		for e >= 0 && !fitsDecimal(v, e) {
			if e++; e == len(pow10) {
				e = -1
			}
		}
		if e < 0 {
			break
		}
	}
	if e >= 0 {
		var buf scratchInts // an hour of 1-minute values stays on the stack
		ms := buf.slice(len(vals))
		ok := true
		for i, v := range vals {
			m := mantissa(v, e)
			if fromMantissa(m, e) != v || math.Abs(float64(m)) >= maxExact {
				ok = false
				break
			}
			ms[i] = m
		}
		if ok {
			return appendRice(b, ms, e)
		}
	}
	b = append(b, colFloat)
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// scratchInts is room for the integers of an hour's column on the caller's
// stack: slice hands out n of them, or a new slice when they do not fit.
type scratchInts [256]int64

func (buf *scratchInts) slice(n int) []int64 {
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]int64, n)
}

// fitsDecimal tells whether v is exactly m/10^e for an integer m below 2^53.
func fitsDecimal(v float64, e int) bool {
	m := math.Round(v * pow10[e])
	return math.Abs(m) < maxExact && m/pow10[e] == v
}

func appendInts(b []byte, ms []int64, dod bool) []byte {
	var prev, prevDelta int64
	for i, m := range ms {
		switch {
		case i == 0:
			b = binary.AppendUvarint(b, zigzag(m))
		case !dod || i == 1:
			b = binary.AppendUvarint(b, zigzag(m-prev))
			prevDelta = m - prev
		default:
			d := m - prev
			b = binary.AppendUvarint(b, zigzag(d-prevDelta))
			prevDelta = d
		}
		prev = m
	}
	return b
}

// readInts reads n integers as appendInts wrote them.
func readInts(r *reader, n int, dod bool) []int64 {
	out := make([]int64, 0, min(n, len(r.b)))
	var prev, prevDelta int64
	for i := 0; i < n && r.err == nil; i++ {
		var m int64
		switch {
		case i == 0:
			m = r.varint()
		case !dod || i == 1:
			prevDelta = r.varint()
			m = prev + prevDelta
		default:
			prevDelta += r.varint()
			m = prev + prevDelta
		}
		prev = m
		out = append(out, m)
	}
	return out
}

func readNumbers(r *reader, n int) []float64 {
	kind := r.byte()
	switch kind {
	case colDelta, colDoD:
		e := int(r.byte()) % len(pow10)
		return fromMantissas(readInts(r, n, kind == colDoD), e)
	case colRice:
		e := int(r.byte()) % len(pow10)
		return fromMantissas(readRice(r, n), e)
	case colFloat:
		out := make([]float64, 0, min(n, len(r.b)/8))
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, math.Float64frombits(r.u64()))
		}
		return out
	}
	r.err = fmt.Errorf("store: unknown column encoding %d", kind)
	return nil
}

// fromMantissas is ms as decimals with e fraction digits.
func fromMantissas(ms []int64, e int) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = fromMantissa(m, e)
	}
	return out
}

func appendTexts(b []byte, vals []string) []byte {
	b = append(b, colText)
	idx := map[string]int{}
	var dict []string
	for _, v := range vals {
		if _, ok := idx[v]; !ok {
			idx[v] = len(dict)
			dict = append(dict, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(dict)))
	for _, s := range dict {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, v := range vals {
		b = binary.AppendUvarint(b, uint64(idx[v]))
	}
	return b
}

func readTexts(r *reader, n int) []string {
	if r.byte() != colText {
		r.err = errors.New("store: not a text column")
		return nil
	}
	size := r.uvarint()
	if size > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	dict := make([]string, size)
	for i := range dict {
		dict[i] = string(r.bytes(int(r.uvarint())))
	}
	out := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		j := r.uvarint()
		if j >= uint64(len(dict)) {
			r.err = errors.New("store: text index out of range")
			return nil
		}
		out = append(out, dict[j])
	}
	return out
}

// timeUnit returns the coarsest of s, ms, µs and ns that divides every t.
func timeUnit(ts []int64) int64 {
	for _, unit := range []int64{1e9, 1e6, 1e3} {
		ok := true
		for _, t := range ts {
			if t%unit != 0 {
				ok = false
				break
			}
		}
		if ok {
			return unit
		}
	}
	return 1
}

// bitmap marks which of n rows a column has a value in.
type bitmap []byte

func newBitmap(n int) bitmap    { return make(bitmap, (n+7)/8) }
func (b bitmap) set(i int)      { b[i/8] |= 1 << (i % 8) }
func (b bitmap) has(i int) bool { return b[i/8]&(1<<(i%8)) != 0 }
func (b bitmap) full(n int) bool {
	for i := 0; i < n; i++ {
		if !b.has(i) {
			return false
		}
	}
	return true
}

// timeOf converts a stored nanosecond time.
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
