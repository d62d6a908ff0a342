package store

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestDecimalDigits(t *testing.T) {
	cases := map[float64]int{0: 0, 42: 0, 42.17: 2, -127: 0, 34.8125: 4, 3.843: 3, 0.001: 3, 1e15: 0,
		1.0 / 3: -1, 3.5555555555555554: -1, 1e300: -1, math.NaN(): -1, 8388607: 0, -2147483648: 0, 100535.97: 2}
	for v, want := range cases {
		if got := decimalDigits(v); got != want {
			t.Errorf("decimalDigits(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestRecordRoundTripAndMerge(t *testing.T) {
	vals := []recordValue{{series: 9, num: 42.17}, {series: 2, num: 1.0 / 3}, {series: 5, text: "ok", isText: true}, {series: 7, num: -127}}
	rec := appendRecord(nil, vals)
	got := map[uint32]recordValue{}
	if err := decodeRecord(rec, func(v recordValue) { got[v.series] = v }); err != nil {
		t.Fatal(err)
	}
	if got[9].num != 42.17 || got[2].num != 1.0/3 || got[5].text != "ok" || got[7].num != -127 || len(got) != 4 {
		t.Errorf("decoded %v", got)
	}
	for _, bad := range [][]byte{{}, {5}, {1, 1, 0x0f}, rec[:len(rec)-1]} {
		if err := decodeRecord(bad, func(recordValue) {}); err == nil {
			t.Errorf("decodeRecord(%v) accepted", bad)
		}
	}
	m, _ := recordMerger.Merge(nil, appendRecord(nil, []recordValue{{series: 1, num: 1}, {series: 2, num: 2}}))
	m.MergeNewer(appendRecord(nil, []recordValue{{series: 2, num: 20}, {series: 3, num: 30}}))
	merged, _, err := m.Finish(true)
	if err != nil {
		t.Fatal(err)
	}
	got = map[uint32]recordValue{}
	decodeRecord(merged, func(v recordValue) { got[v.series] = v })
	if got[1].num != 1 || got[2].num != 20 || got[3].num != 30 {
		t.Errorf("merged %v", got)
	}
}

// TestRecordValues: every kind of value comes back exactly from a record,
// and records of format 1 (written before format 2) are still read.
func TestRecordValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals []recordValue
	}{
		{"consecutive decimals", []recordValue{{series: 1, num: 42.17}, {series: 2, num: 35.1}, {series: 3, num: 4.123}, {series: 4, num: -67}}},
		{"gaps in ids", []recordValue{{series: 7, num: 0}, {series: 300, num: 1e-9}, {series: 1 << 31, num: -0.5}}},
		{"largest exact integers", []recordValue{{series: 1, num: maxExact - 1}, {series: 2, num: -(maxExact - 1)}}},
		{"floats", []recordValue{{series: 1, num: 1.0 / 3}, {series: 2, num: maxExact}, {series: 3, num: math.MaxFloat64}, {series: 4, num: math.SmallestNonzeroFloat64}}},
		{"text", []recordValue{{series: 1, text: "", isText: true}, {series: 2, text: "Offline", isText: true}, {series: 9, num: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[uint32]recordValue{}
			for _, v := range tc.vals {
				want[v.series] = v
			}
			got := map[uint32]recordValue{}
			if err := decodeRecord(appendRecord(nil, slices.Clone(tc.vals)), func(v recordValue) { got[v.series] = v }); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("decoded %v, want %v", got, want)
			}
		})
	}
	// A format 1 record of 42.17, -67, 1/3 and "ok" (series 3, 4, 9, 12).
	v1 := []byte{0x4, 0x3, 0x20, 0xf2, 0x41, 0x1, 0x0, 0x85, 0x1, 0x5, 0x1, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5, 0x3f, 0x3, 0x2, 0x2, 0x6f, 0x6b}
	got := map[uint32]recordValue{}
	if err := decodeRecord(v1, func(v recordValue) { got[v.series] = v }); err != nil {
		t.Fatal(err)
	}
	want := map[uint32]recordValue{3: {series: 3, num: 42.17}, 4: {series: 4, num: -67}, 9: {series: 9, num: 1.0 / 3}, 12: {series: 12, text: "ok", isText: true}}
	if !maps.Equal(got, want) {
		t.Errorf("format 1 record decoded as %v, want %v", got, want)
	}
	hive := appendRecord(nil, []recordValue{{series: 1, num: 42.17}, {series: 2, num: 35.12}, {series: 3, num: 61.5}, {series: 4, num: 4.123}})
	if len(hive) > 2+4*3 {
		t.Errorf("a record of 4 sensor decimals takes %d bytes, want at most 14", len(hive))
	}
}

func TestChunkRoundTrip(t *testing.T) {
	var c codec
	h := hourData{}
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 60; i++ {
		t0 := base + int64(i)*int64(time.Minute) + int64(rng.IntN(1000))*int64(time.Millisecond)
		h.put(1, t0, cell{num: math.Round((42+rng.Float64())*100) / 100})
		if i%3 != 0 {
			h.put(2, t0, cell{num: float64(i) * 60}) // a counter, with gaps
		}
		h.put(3, t0, cell{num: 1.0 / float64(i+3)}) // no short decimal
		if i%10 == 0 {
			h.put(4, t0, cell{text: fmt.Sprintf("state-%d", i/20), isText: true})
		}
	}
	raw := c.encodeChunk(h)
	back := hourData{}
	if err := c.decodeChunk(raw, nil, back.put); err != nil {
		t.Fatal(err)
	}
	for s, vals := range h {
		for i, tm := range vals.times {
			if got, ok := back[s].at(tm); !ok || got != vals.cell(i) {
				t.Fatalf("series %d at %d: %v, want %v", s, tm, got, vals.cell(i))
			}
		}
		if back[s].len() != vals.len() {
			t.Errorf("series %d: %d values back, want %d", s, back[s].len(), vals.len())
		}
	}
	only := hourData{}
	c.decodeChunk(raw, map[uint32]bool{2: true}, only.put)
	if len(only) != 1 || only[2].len() != 40 {
		t.Errorf("decoding one column gave %d series", len(only))
	}
	if _, err := c.decompress(append(slices.Clip(zstdMagic), "not zstd"...)); err == nil {
		t.Error("a corrupt zstd frame decompressed")
	}
	if err := c.decodeChunk([]byte("not a chunk"), nil, back.put); err == nil {
		t.Error("garbage decoded as a chunk")
	}
	// Blocks zstd cannot shrink are kept as they are, and read back.
	for _, b := range [][]byte{{chunkVersion, 1, 2, 3}, append(slices.Clip(zstdMagic), 1, 2, 3)} {
		back, err := c.decompress(c.compress(b))
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("% x came back as % x, %v", b, back, err)
		}
	}
}

// TestSealKeepsEverything writes three hours, seals them, writes late
// data into one, and checks that points, latest values and rollups agree
// with what was written, before and after sealing and after a reopen: once
// written while the hours are open (records, sealed later) and once after
// they closed (sealed directly by the write, see directSealMin).
func TestSealKeepsEverything(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writeAt time.Time
		due     int // hours with records before the seal
	}{
		{"records", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), 3},
		{"direct", time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), 1}, // the one vcc record
	} {
		t.Run(tc.name, func(t *testing.T) { testSealKeepsEverything(t, tc.writeAt, tc.due) })
	}
}

func testSealKeepsEverything(t *testing.T, writeAt time.Time, due int) {
	dir := t.TempDir()
	now := writeAt
	clock := func() time.Time { return now }
	s := openTest(t, dir, Options{Now: clock})
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var want []Point
	var rs []Reading
	for i := 0; i < 180; i++ { // three hours of minutes
		tm := t0.Add(time.Duration(i) * time.Minute)
		v := math.Round((40+float64(i)/100+math.Sin(float64(i)))*100) / 100
		want = append(want, Point{tm, v})
		rs = append(rs, Reading{Channel: hive, Time: tm, Fields: map[string]float64{"weight": v}, Text: map[string]string{"state": "ok"}})
	}
	if err := s.Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// Same channel and time, another field: both stay (Tasmota SENSOR + STATE).
	s.Write(ctx, []Reading{{Channel: hive, Time: t0, Fields: map[string]float64{"vcc": 3.182}}})
	check := func(stage string) {
		t.Helper()
		got, err := s.Points(ctx, hive, "weight", t0, t0.Add(3*time.Hour))
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: %d points, %v", stage, len(got), err)
		}
		for i := range want {
			if !got[i].Time.Equal(want[i].Time) || got[i].Value != want[i].Value {
				t.Fatalf("%s: point %d = %v, want %v", stage, i, got[i], want[i])
			}
		}
		vcc, _ := s.Points(ctx, hive, "vcc", t0, t0)
		w0, _ := s.Points(ctx, hive, "weight", t0, t0)
		if len(vcc) != 1 || len(w0) != 1 {
			t.Fatalf("%s: merged record lost a field: vcc %v weight %v", stage, vcc, w0)
		}
		ci, _ := s.ChannelInfo(hive)
		if f, _ := ci.Field("weight"); f.LastValue != want[len(want)-1].Value || !f.Last.Equal(want[len(want)-1].Time) || !f.First.Equal(t0) {
			t.Fatalf("%s: catalogue %+v", stage, f)
		}
		hours, _, err := s.Downsample(ctx, hive, "weight", t0, t0.Add(3*time.Hour-time.Nanosecond), 3)
		if err != nil || len(hours) != 3 {
			t.Fatalf("%s: hourly buckets %v %v", stage, hours, err)
		}
		var second []float64
		for _, p := range want {
			if !p.Time.Before(t0.Add(time.Hour)) && p.Time.Before(t0.Add(2*time.Hour)) {
				second = append(second, p.Value)
			}
		}
		raw := bucketOf(t0, second)
		if b := hours[1]; b.Count != raw.Count || b.Min != raw.Min || b.Max != raw.Max || math.Abs(b.Sum-raw.Sum) > 1e-9 || b.First != raw.First || b.Last != raw.Last {
			t.Fatalf("%s: hour bucket %+v, want %+v", stage, b, raw)
		}
	}
	check("unsealed")
	now = time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	if n := len(s.dueHours(now)); n != due {
		t.Fatalf("%d hours with records, want %d", n, due)
	}
	if err := s.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.dueHours(now)) != 0 {
		t.Fatal("hours left unsealed")
	}
	check("sealed")

	// Late data for a sealed hour: a record again, then resealed.
	late := t0.Add(90*time.Minute + 30*time.Second)
	s.Write(ctx, []Reading{{Channel: hive, Time: late, Fields: map[string]float64{"weight": 99.99}}})
	want = append(want[:91], append([]Point{{late, 99.99}}, want[91:]...)...)
	check("late, unsealed")
	s.Seal(ctx)
	check("late, resealed")
	s.Close()
	s = openTest(t, dir, Options{Now: clock})
	check("reopened")

	day, _, err := s.Downsample(ctx, hive, "weight", t0.Add(-10*time.Hour), t0.Add(14*time.Hour-time.Nanosecond), 1)
	if err != nil || len(day) != 1 || day[0].Count != int64(len(want)) {
		t.Fatalf("daily bucket %v %v", day, err)
	}
}

func TestUnsealedRecordsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	s := openTest(t, dir, Options{})
	ctx := context.Background()
	s.Write(ctx, []Reading{{Channel: hive, Time: now, Fields: map[string]float64{"weight": 41.5}}})
	s.Close() // the current hour stays unsealed
	s = openTest(t, dir, Options{})
	ci, ok := s.ChannelInfo(hive)
	if f, _ := ci.Field("weight"); !ok || f.LastValue != 41.5 {
		t.Errorf("after reopen: %+v", ci)
	}
	if len(s.dirtyHours(mustChan(t, s), hourOf(now), now)) != 1 {
		t.Error("the unsealed hour is not waiting for its seal")
	}
}

func mustChan(t *testing.T, s *Store) uint32 {
	id, ok := s.cat.channelID(hive)
	if !ok {
		t.Fatal("no channel")
	}
	return id
}

// FuzzDecoders: corrupt records, chunks and rollup blocks are errors,
// never panics.
func FuzzDecoders(f *testing.F) {
	var c codec
	h := hourData{}
	h.put(1, 1e9, cell{num: 42.17})
	h.put(2, 2e9, cell{text: "ok", isText: true})
	chunk, _ := c.decompress(c.encodeChunk(h))
	f.Add(appendRecord(nil, []recordValue{{series: 3, num: 1.5}, {series: 4, text: "x", isText: true}}))
	f.Add(chunk)
	blk := rollupBlock{1: make([]Bucket, resHour.slots)}
	blk[1][0] = Bucket{Min: 1, Max: 2, Sum: 3, Count: 2, First: 1, Last: 2}
	rollup, _ := c.decompress(c.encodeRollup(blk, resHour))
	f.Add(rollup)
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeRecord(b, func(recordValue) {})
		c.decodeChunk(c.compress(b), nil, func(uint32, int64, cell) {})
		c.decodeRollup(c.compress(b), resHour, time.Unix(0, 0), nil)
	})
}

func TestChunksInReadsOnlyItsHours(t *testing.T) {
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	s := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for d := range 30 {
		var rs []Reading
		for h := range 24 {
			for m := range 20 {
				rs = append(rs, Reading{Channel: hive, Time: start.Add(time.Duration(d*24+h)*time.Hour + time.Duration(m)*time.Minute), Fields: map[string]float64{"w": float64(m)}})
			}
		}
		if err := s.Write(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	first, last := start, start.Add(30*24*time.Hour-time.Hour)
	chunks, err := s.chunksIn(mustChan(t, s), []time.Time{last, first})
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 || chunks[first.UnixNano()] == nil || chunks[last.UnixNano()] == nil {
		t.Errorf("the chunks of 2 hours 30 days apart: %d read, want those 2", len(chunks))
	}
}
