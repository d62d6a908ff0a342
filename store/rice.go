package store

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// Rice-coded columns. A sensor's noise makes the deltas of its decimals
// small integers of a bell-shaped spread: ±0.1 °C at two decimals is a
// delta within ±20, humidity's ±1 % at one decimal within about ±30. As
// uvarints such deltas take one or two whole bytes each, and zstd over the
// column cannot find their few bits of entropy in them (0.82 bytes a point
// for hive data). A Rice code writes each residual u as u>>k in unary and
// its k low bits as they are, which is within a few percent of the entropy
// of such a spread for the best k (FLAC codes audio residuals so): 0.66.
//
// A column is
//
//	colRice, fraction digits, a byte predictor<<6 | k, the predictor's
//	start values as zigzag uvarints, then the residuals of the other
//	values as Rice codes, least significant bit first, padded to a byte
//
// where the predictor is one of
//
//	riceLevel:  residual = value - base (the column's mean, its start
//	            value): noise around a level (RSSI, sound)
//	riceDelta:  residual = value - previous (start: the first value):
//	            noise on a drifting signal (temperatures, weight)
//	riceDoD:    residual = delta - previous delta (start: the first value
//	            and the first delta): counters, regular clocks
//
// and residuals are zigzagged. k = riceAllZero writes no residuals: every
// one is 0 (an uptime counter, a constant). A quotient u>>k of riceEscape
// or more (a swarm leaving the scale, a sensor's glitch) is written as
// riceEscape ones, the bit length of u in 7 bits, and u.

const (
	riceLevel byte = 0
	riceDelta byte = 1
	riceDoD   byte = 2

	riceAllZero = 63 // the k of a column whose residuals are all 0
	riceMaxK    = 62
	riceEscape  = 24
)

var errCorruptColumn = errors.New("store: corrupt column")

// riceStarts is how many of the values a predictor states as they are,
// before the residuals of the others.
func riceStarts(pred byte) int {
	switch pred {
	case riceLevel:
		return 0 // it states its base instead
	case riceDelta:
		return 1
	default:
		return 2
	}
}

// ricePrediction is what pred predicts for value i of ms (i at least the
// predictor's starts); the encoder codes ms[i] less it, the decoder adds it
// back.
func ricePrediction(ms []int64, i int, pred byte, base int64) int64 {
	switch pred {
	case riceLevel:
		return base
	case riceDelta:
		return ms[i-1]
	default:
		return 2*ms[i-1] - ms[i-2]
	}
}

// riceResidual is the zigzagged residual of value i under pred.
func riceResidual(ms []int64, i int, pred byte, base int64) uint64 {
	return zigzag(ms[i] - ricePrediction(ms, i, pred, base))
}

// riceBits is the length of u's Rice code with parameter k.
func riceBits(u uint64, k uint) int {
	if q := u >> k; q < riceEscape {
		return int(q) + 1 + int(k)
	}
	return riceEscape + 7 + bits.Len64(u)
}

// ricePlan is a column's predictor and parameter.
type ricePlan struct {
	pred byte
	k    int
	base int64
}

// planRice picks the predictor whose residuals are smallest on average,
// and for it the k, next to the one their mean suggests, of the shortest
// code.
func planRice(ms []int64) ricePlan {
	var sum float64 // in floats: 2^53 a value times many would overflow
	for _, m := range ms {
		sum += float64(m)
	}
	base := int64(math.Round(sum / float64(max(1, len(ms)))))
	// The sums of the three predictors' residuals, in one pass; a residual
	// counts at most 2^32, so that no sum of up to 2^32 of them overflows.
	const clamp = 1 << 32
	// (ricePrediction's three cases, unrolled: a switch per residual and
	// predictor made the encoder 15% slower.)
	var sums [3]uint64
	for i := range ms {
		sums[riceLevel] += min(zigzag(ms[i]-base), clamp)
		if i >= 1 {
			sums[riceDelta] += min(zigzag(ms[i]-ms[i-1]), clamp)
		}
		if i >= 2 {
			sums[riceDoD] += min(zigzag(ms[i]-2*ms[i-1]+ms[i-2]), clamp)
		}
	}
	p := ricePlan{pred: riceLevel, base: base}
	for _, pred := range []byte{riceDelta, riceDoD} {
		if riceStarts(pred) <= len(ms) && sums[pred] < sums[p.pred] {
			p.pred = pred
		}
	}
	n := len(ms) - riceStarts(p.pred)
	if sums[p.pred] == 0 || n == 0 {
		p.k = riceAllZero
		return p
	}
	// For geometric residuals of mean μ the best k is about log2(μ·ln 2);
	// the sizes for it and its neighbours, in one pass.
	guess := max(1, bits.Len64(sums[p.pred]/uint64(n)*7/10)-1)
	var sizes [3]int
	for i := riceStarts(p.pred); i < len(ms); i++ {
		u := riceResidual(ms, i, p.pred, base)
		for j := range sizes {
			sizes[j] += riceBits(u, uint(guess-1+j))
		}
	}
	best := 0
	for j := range sizes {
		if sizes[j] < sizes[best] {
			best = j
		}
	}
	p.k = min(riceMaxK, guess-1+best)
	return p
}

// appendRice writes ms (mantissas with e fraction digits) as a Rice column.
func appendRice(b []byte, ms []int64, e int) []byte {
	p := planRice(ms)
	b = append(b, colRice, byte(e), p.pred<<6|byte(p.k))
	switch p.pred {
	case riceLevel:
		b = appendVarint(b, p.base)
	case riceDelta:
		b = appendVarint(b, ms[0])
	case riceDoD:
		b = appendVarint(appendVarint(b, ms[0]), ms[1]-ms[0])
	}
	if p.k == riceAllZero {
		return b
	}
	w := bitWriter{b: b}
	k := uint(p.k)
	for i := riceStarts(p.pred); i < len(ms); i++ {
		u := riceResidual(ms, i, p.pred, p.base)
		if q := u >> k; q < riceEscape {
			w.write(1<<q-1, uint(q)+1) // q ones, a zero
			w.write(u, k)
			continue
		}
		w.write(1<<riceEscape-1, riceEscape)
		w.write(uint64(bits.Len64(u)), 7)
		w.write(u, uint(bits.Len64(u)))
	}
	return w.flush()
}

func appendVarint(b []byte, v int64) []byte {
	return binary.AppendUvarint(b, zigzag(v))
}

// readRice reads the n mantissas of a Rice column after its kind and
// fraction digits.
func readRice(r *reader, n int) []int64 {
	head := r.byte()
	pred, k := head>>6, uint(head&63)
	if r.err != nil {
		return nil
	}
	if pred > riceDoD {
		r.err = errCorruptColumn
		return nil
	}
	// Every value costs at least a bit, unless all residuals are 0; a
	// corrupt count makes no larger slice than the bytes there are.
	size := min(n, 8*len(r.b)+2)
	if k == riceAllZero {
		size = n
	}
	out := make([]int64, 0, size)
	var base int64
	switch {
	case pred == riceLevel:
		base = r.varint()
	case n > 0:
		out = append(out, r.varint())
		if pred == riceDoD && n > 1 {
			out = append(out, out[0]+r.varint())
		}
	}
	if r.err != nil {
		return nil
	}
	br := bitReader{b: r.b}
	for i := len(out); i < n && br.err == nil; i++ {
		var u uint64
		if k != riceAllZero {
			u = br.rice(k)
		}
		out = append(out, ricePrediction(out, i, pred, base)+unzigzag(u))
	}
	if br.err != nil {
		r.err = br.err
		return nil
	}
	r.b = r.b[br.consumed():]
	return out
}

// bitWriter appends bits to b, least significant first.
type bitWriter struct {
	b   []byte
	acc uint64
	n   uint // bits in acc, below 8 between writes
}

// write appends the low n bits of v (n ≤ 64).
func (w *bitWriter) write(v uint64, n uint) {
	if n > 32 {
		w.write(v, 32)
		v, n = v>>32, n-32
	}
	w.acc |= (v & (1<<n - 1)) << w.n
	w.n += n
	for w.n >= 8 {
		w.b = append(w.b, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// flush pads the last byte with zeros and returns the bytes.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.b = append(w.b, byte(w.acc))
		w.acc, w.n = 0, 0
	}
	return w.b
}

// bitReader reads what bitWriter wrote. The bits of acc above its n are
// always 0.
type bitReader struct {
	b   []byte
	pos int    // bytes of b moved into acc
	acc uint64 // unread bits, least significant first
	n   uint   // bits in acc
	err error
}

func (r *bitReader) fill() {
	for r.n <= 56 && r.pos < len(r.b) {
		r.acc |= uint64(r.b[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
}

// read returns the next n bits (n ≤ 64).
func (r *bitReader) read(n uint) uint64 {
	if n > 32 {
		lo := r.read(32)
		return lo | r.read(n-32)<<32
	}
	if r.n < n {
		r.fill()
		if r.n < n {
			r.err = errShort
			return 0
		}
	}
	v := r.acc & (1<<n - 1)
	r.acc >>= n
	r.n -= n
	return v
}

// rice reads one Rice code with parameter k.
func (r *bitReader) rice(k uint) uint64 {
	if r.n <= 56 {
		r.fill()
	}
	q := uint(bits.TrailingZeros64(^r.acc)) // the ones before the first zero
	if q < riceEscape && q+1+k <= r.n {     // all of it in acc: most codes
		v := uint64(q)<<k | (r.acc>>(q+1))&(1<<k-1)
		r.acc >>= q + 1 + k
		r.n -= q + 1 + k
		return v
	}
	if q >= riceEscape {
		r.read(riceEscape)
		n := uint(r.read(7))
		if n > 64 {
			r.err = errCorruptColumn
			return 0
		}
		return r.read(n)
	}
	if q >= r.n {
		r.err = errShort
		return 0
	}
	r.acc >>= q + 1
	r.n -= q + 1
	return uint64(q)<<k | r.read(k)
}

// consumed is the number of bytes read, the last one perhaps in part.
func (r *bitReader) consumed() int { return r.pos - int(r.n/8) }
