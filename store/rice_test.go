package store

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// riceColumns are columns of the shapes sensors send, and the edges.
func riceColumns() []struct {
	name string
	vals []float64
	pred byte // the predictor planRice should pick; 255: any
} {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(n int, f func(i int) float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	r2 := func(v float64) float64 { return math.Round(v*100) / 100 }
	return []struct {
		name string
		vals []float64
		pred byte
	}{
		{"empty", nil, 255},
		{"one value", []float64{42.17}, 255},
		{"two values", []float64{42.17, 42.19}, 255},
		{"three values", []float64{1, 2, 4}, 255},
		{"constant", gen(60, func(int) float64 { return 4.123 }), 255},
		{"uptime counter", gen(60, func(i int) float64 { return float64(86400 + 60*i) }), riceDoD},
		{"temperature drifting with ±0.1 noise", gen(60, func(i int) float64 { return r2(20 + float64(i)*0.05 + rng.Float64()*0.2 - 0.1) }), riceDelta},
		{"RSSI around a level", gen(3600, func(int) float64 { return math.Round(-70 + rng.NormFloat64()*3) }), riceLevel},
		{"weight with a swarm leaving", gen(60, func(i int) float64 {
			if i >= 30 {
				return r2(40.5 - 2.37 + rng.NormFloat64()*0.01)
			}
			return r2(40.5 + rng.NormFloat64()*0.01)
		}), 255},
		{"sensor glitches (-127, 85)", gen(60, func(i int) float64 {
			switch i {
			case 10:
				return -127
			case 40:
				return 85
			}
			return r2(34.8 + rng.Float64()*0.2 - 0.1)
		}), 255},
		{"extremes of 2^53", []float64{1<<53 - 1, -(1<<53 - 1), 0, 1<<53 - 1, -(1<<53 - 1)}, 255},
		{"nine fraction digits", []float64{0.123456789, -0.987654321, 0.5}, 255},
		{"nanosecond clock", gen(100, func(i int) float64 {
			return float64(1_700_000_000_000_000 + int64(i)*1_000_000_000 + int64(rng.IntN(20_000_000)))
		}), 255},
	}
}

func TestRiceColumnsRoundTrip(t *testing.T) {
	for _, tc := range riceColumns() {
		t.Run(tc.name, func(t *testing.T) {
			b := appendNumbers(nil, tc.vals)
			if len(tc.vals) > 0 && b[0] != colRice {
				t.Fatalf("encoded as kind %d, want a Rice column", b[0])
			}
			if tc.pred != 255 {
				if got := b[2] >> 6; got != tc.pred {
					t.Errorf("predictor %d, want %d", got, tc.pred)
				}
			}
			// Something after the column must be left for the next reader.
			r := reader{b: append(b, 0xAB)}
			got := readNumbers(&r, len(tc.vals))
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(got) != len(tc.vals) {
				t.Fatalf("%d values back, want %d", len(got), len(tc.vals))
			}
			for i := range got {
				if got[i] != tc.vals[i] {
					t.Fatalf("value %d: %v, want %v", i, got[i], tc.vals[i])
				}
			}
			if len(r.b) != 1 || r.b[0] != 0xAB {
				t.Errorf("the reader left %x after the column, want ab", r.b)
			}
			// Every shorter prefix fails cleanly, without a panic.
			for n := 0; n < len(b); n++ {
				r := reader{b: b[:n]}
				if got := readNumbers(&r, len(tc.vals)); r.err == nil && len(got) == len(tc.vals) && len(tc.vals) > 0 {
					t.Fatalf("the first %d of %d bytes decoded without an error", n, len(b))
				}
			}
		})
	}
}

// TestRiceBeatsUvarints: a column of noisy decimals, as sensors send them,
// takes fewer bytes as Rice codes than as the uvarint deltas written before.
func TestRiceBeatsUvarints(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name   string
		digits int
		noise  float64
		most   float64 // Rice bytes at most this share of the uvarints'
	}{
		{"temperature ±0.1 at 2 digits", 2, 0.1, 0.8},
		{"humidity σ 1 at 1 digit", 1, 1, 0.9},
		{"weight σ 0.01 at 2 digits", 2, 0.01, 0.55},
	} {
		ms := make([]int64, 60)
		p := math.Pow(10, float64(tc.digits))
		for i := range ms {
			ms[i] = int64(math.Round((30 + float64(i)*0.01 + rng.NormFloat64()*tc.noise) * p))
		}
		rice := len(appendRice(nil, ms, tc.digits))
		uvarints := len(appendInts(nil, ms, false)) + 2
		if float64(rice) > tc.most*float64(uvarints) {
			t.Errorf("%s: %d bytes as Rice codes, %d as uvarints; want at most %.0f%%", tc.name, rice, uvarints, 100*tc.most)
		}
	}
}

func TestRiceRejectsCorruptHeaders(t *testing.T) {
	for _, b := range [][]byte{
		{colRice, 2, 3<<6 | 1, 0},                                 // no fourth predictor
		{colRice, 2, riceDelta<<6 | 1, 0, 0xff, 0xff, 0xff, 0xff}, // an escape with a length over 64
	} {
		r := reader{b: b}
		if got := readNumbers(&r, 5); r.err == nil {
			t.Errorf("% x: decoded %v without an error", b, got)
		}
	}
}

func FuzzRiceRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 250, 0, 7}, uint8(2))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0x80}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, shift uint8) {
		ms := make([]int64, 0, len(data)/2)
		for i := 0; i+1 < len(data); i += 2 {
			// Spreads from a few bits to the whole 53 of a mantissa.
			ms = append(ms, int64(int16(data[i])<<8|int16(data[i+1]))<<(shift%38))
		}
		b := appendRice(nil, ms, 0)
		r := reader{b: b}
		kind, _ := r.byte(), r.byte()
		got := readRice(&r, len(ms))
		if kind != colRice || r.err != nil || len(got) != len(ms) || len(r.b) != 0 {
			t.Fatalf("%v: kind %d, %d values back, %d bytes left, err %v", ms, kind, len(got), len(r.b), r.err)
		}
		for i := range ms {
			if got[i] != ms[i] {
				t.Fatalf("%v: value %d is %d", ms, i, got[i])
			}
		}
	})
}

// TestConstantHourRoundTrips: an hour of a 1-second clock whose fields are
// constant or counters codes to a few dozen bytes for 3600 rows, and
// reads back (a check that rows cost at least a bit refused it).
func TestConstantHourRoundTrips(t *testing.T) {
	var c codec
	h := hourData{}
	for i := range 3600 {
		ts := int64(1_764_000_000+i) * 1e9
		h.put(1, ts, cell{num: 4.2})
		h.put(2, ts, cell{num: float64(86400 + i)})
	}
	raw := c.encodeChunk(h)
	if len(raw)*8 >= 3600 {
		t.Fatalf("a chunk of %d bytes: the test wants rows that cost less than a bit", len(raw))
	}
	back := hourData{}
	if err := c.decodeChunk(raw, nil, back.put); err != nil {
		t.Fatalf("a %d-byte chunk of 3600 rows: %v", len(raw), err)
	}
	if back[1].len() != 3600 || back[2].len() != 3600 || back[2].nums[3599] != 86400+3599 {
		t.Errorf("%d and %d values back", back[1].len(), back[2].len())
	}
}

// TestChunkDecodeIsBounded: a chunk that claims more values than a seal
// can write is refused at once, before any column is decoded.
func TestChunkDecodeIsBounded(t *testing.T) {
	var c codec
	// Version 2, 2^24 rows, unit ns, an all-zero time column, then 64
	// all-zero columns: 2^30 values from a few hundred bytes.
	b := binary.AppendUvarint([]byte{chunkVersion}, maxChunkRows)
	b = append(b, 0, colRice, 0, riceDoD<<6|riceAllZero, 0, 0)
	b = binary.AppendUvarint(b, 64)
	for s := range 64 {
		b = append(b, byte(s+1), 5, 0, colRice, 0, riceLevel<<6|riceAllZero, 0)
	}
	decoded := 0
	if err := c.decodeChunk(b, nil, func(uint32, int64, cell) { decoded++ }); err == nil || decoded > 0 {
		t.Errorf("a chunk of %d bytes claiming 2^30 values: %d decoded, error %v", len(b), decoded, err)
	}
}
