package store

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The encoders and decoders of records and chunks (the write path and the
// query paths are in bench_ext_test.go). Each reports per point:
//
//	go test -run XXX -bench . -benchmem ./store

const benchFields = 10

// benchHour is one node's hour of hive-like data, 1-minute readings of
// benchFields fields: weights (2 decimals, slow drift), temperatures (2
// decimals, ±0.1 noise), humidity (1 decimal), a voltage (3 decimals) and
// an uptime counter, as internal/hivegen makes them (which this package's
// own tests cannot import).
func benchHour(b *testing.B) (hourData, int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	round := func(v float64, digits int) float64 {
		p := math.Pow(10, float64(digits))
		return math.Round(v*p) / p
	}
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	h := hourData{}
	points := 0
	for i := range 60 {
		t := start.Add(time.Duration(i) * time.Minute).UnixNano()
		vals := []float64{
			round(42.5+float64(i)*0.002+rng.NormFloat64()*0.005, 2),
			round(38.1+float64(i)*0.001+rng.NormFloat64()*0.005, 2),
			round(34.8+rng.Float64()*0.2-0.1, 2),
			round(35.1+rng.Float64()*0.2-0.1, 2),
			round(14.2+float64(i)*0.01+rng.Float64()*0.2-0.1, 2),
			round(61.5+rng.Float64()*0.4, 1),
			round(72.3+rng.Float64()*0.4, 1),
			round(4.123-float64(i)*0.0001, 3),
			float64(3600*24*3 + 60*i),
			round(-67+rng.Float64()*4, 0),
		}
		for j, v := range vals[:benchFields] {
			h.put(uint32(j+1), t, cell{num: v})
			points++
		}
	}
	return h, points
}

func BenchmarkChunkEncode(b *testing.B) {
	h, points := benchHour(b)
	var c codec
	var size int
	b.ResetTimer()
	for range b.N {
		size = len(c.encodeChunk(h))
	}
	b.ReportMetric(float64(size)/float64(points), "bytes/point")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*points), "ns/point")
}

func BenchmarkChunkDecode(b *testing.B) {
	h, points := benchHour(b)
	var c codec
	raw := c.encodeChunk(h)
	b.ResetTimer()
	for range b.N {
		n := 0
		if err := c.decodeChunk(raw, nil, func(uint32, int64, cell) { n++ }); err != nil || n != points {
			b.Fatalf("decoded %d of %d points: %v", n, points, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*points), "ns/point")
}

func BenchmarkRecordEncode(b *testing.B) {
	vals := make([]recordValue, benchFields)
	for i := range vals {
		vals[i] = recordValue{series: uint32(i + 1), num: 21.37 + float64(i)}
	}
	var buf []byte
	b.ResetTimer()
	for range b.N {
		buf = appendRecord(buf[:0], vals)
	}
	b.ReportMetric(float64(len(buf))/benchFields, "bytes/point")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFields), "ns/point")
}

func BenchmarkRecordDecode(b *testing.B) {
	vals := make([]recordValue, benchFields)
	for i := range vals {
		vals[i] = recordValue{series: uint32(i + 1), num: 21.37 + float64(i)}
	}
	rec := appendRecord(nil, vals)
	b.ResetTimer()
	for range b.N {
		n := 0
		if err := decodeRecord(rec, func(recordValue) { n++ }); err != nil || n != benchFields {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFields), "ns/point")
}
