package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"
)

// Rollups are kept per channel as blocks of buckets: hourly buckets in
// blocks of three days, daily buckets in blocks of 64 days, each bucket
// with min, max, sum, count, first and last of every numeric series. They
// are computed when an hour is sealed (again when late data reseals it),
// so that a year's chart reads a few hundred daily buckets instead of half
// a million points.
type resolution struct {
	code  byte
	width time.Duration
	slots int
}

var (
	resHour = resolution{1, time.Hour, 72}
	resDay  = resolution{2, 24 * time.Hour, 64}
)

// blockStart is the start of the block that holds the bucket at t.
func (r resolution) blockStart(t time.Time) time.Time {
	span := r.width * time.Duration(r.slots)
	return time.Unix(0, floorDiv(t.UnixNano(), int64(span))*int64(span)).UTC()
}

func (r resolution) slot(t time.Time) int {
	return int((t.UnixNano() - r.blockStart(t).UnixNano()) / int64(r.width))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func rollupKey(chanID uint32, r resolution, blockStart time.Time) []byte {
	k := make([]byte, 14)
	k[0] = prefixRollup
	binary.BigEndian.PutUint32(k[1:5], chanID)
	k[5] = r.code
	binary.BigEndian.PutUint64(k[6:14], encodeTime(blockStart))
	return k
}

// rollupBlock is series -> the block's slots, in order; a slot whose
// Count is zero is empty (every real bucket holds at least one point).
type rollupBlock map[uint32][]Bucket

// slots returns the series' slots, made on first use.
func (blk rollupBlock) slots(series uint32, r resolution) []Bucket {
	sl := blk[series]
	if sl == nil {
		sl = make([]Bucket, r.slots)
		blk[series] = sl
	}
	return sl
}

const rollupVersion = 1

func (c *codec) encodeRollup(blk rollupBlock, r resolution) []byte {
	series := make([]uint32, 0, len(blk))
	for s, slots := range blk {
		for _, bk := range slots {
			if bk.Count > 0 {
				series = append(series, s)
				break
			}
		}
	}
	sort.Slice(series, func(i, j int) bool { return series[i] < series[j] })
	b := []byte{rollupVersion}
	b = binary.AppendUvarint(b, uint64(len(series)))
	counts := make([]int64, 0, r.slots)
	cols := [5][]float64{}
	for _, s := range series {
		occupied := newBitmap(r.slots)
		counts = counts[:0]
		for k := range cols {
			cols[k] = cols[k][:0]
		}
		for i, bk := range blk[s] {
			if bk.Count <= 0 || i >= r.slots {
				continue
			}
			occupied.set(i)
			counts = append(counts, bk.Count)
			cols[0] = append(cols[0], bk.Min)
			cols[1] = append(cols[1], bk.Max)
			cols[2] = append(cols[2], bk.Sum)
			cols[3] = append(cols[3], bk.First)
			cols[4] = append(cols[4], bk.Last)
		}
		b = binary.AppendUvarint(b, uint64(s))
		b = append(b, occupied...)
		b = appendInts(b, counts, false)
		for _, col := range cols {
			b = appendNumbers(b, col)
		}
	}
	return c.compress(b)
}

// decodeRollup reads a block that starts at start, keeping only the
// wanted series (all when want is nil).
func (c *codec) decodeRollup(raw []byte, r resolution, start time.Time, want map[uint32]bool) (rollupBlock, error) {
	b, err := c.decompress(raw)
	if err != nil {
		return nil, err
	}
	rd := reader{b: b}
	if v := rd.byte(); v != rollupVersion {
		return nil, fmt.Errorf("store: rollup version %d", v)
	}
	blk := rollupBlock{}
	n := rd.uvarint()
	idx := make([]int, 0, r.slots)
	for i := uint64(0); i < n && rd.err == nil; i++ {
		s := uint32(rd.uvarint())
		occupied := bitmap(rd.bytes((r.slots + 7) / 8))
		if rd.err != nil {
			break
		}
		idx = idx[:0]
		for j := 0; j < r.slots; j++ {
			if occupied.has(j) {
				idx = append(idx, j)
			}
		}
		counts := readInts(&rd, len(idx), false)
		var cols [5][]float64
		for k := range cols {
			cols[k] = readNumbers(&rd, len(idx))
		}
		if rd.err != nil {
			break
		}
		if want != nil && !want[s] {
			continue
		}
		if len(counts) < len(idx) || len(cols[4]) < len(idx) {
			return nil, errShort
		}
		slots := make([]Bucket, r.slots)
		for j, i := range idx {
			if counts[j] <= 0 {
				return nil, fmt.Errorf("store: rollup bucket with count %d", counts[j])
			}
			slots[i] = Bucket{
				Start: start.Add(time.Duration(i) * r.width),
				Min:   cols[0][j], Max: cols[1][j], Sum: cols[2][j], Count: counts[j],
				First: cols[3][j], Last: cols[4][j],
			}
		}
		blk[s] = slots
	}
	return blk, rd.err
}

// bucketOf summarises values (in time order) as one bucket. The sum is
// rounded to the decimals of the values, so that it stays a short decimal.
func bucketOf(start time.Time, vals []float64) Bucket {
	b := Bucket{Start: start, Min: math.Inf(1), Max: math.Inf(-1)}
	digits := 0
	for i, v := range vals {
		if i == 0 {
			b.First = v
		}
		b.Last = v
		b.Min = math.Min(b.Min, v)
		b.Max = math.Max(b.Max, v)
		b.Sum += v
		b.Count++
		if d := decimalDigits(v); d < 0 || digits < 0 {
			digits = -1
		} else {
			digits = max(digits, d)
		}
	}
	if digits >= 0 {
		if r := math.Round(b.Sum*pow10[digits]) / pow10[digits]; math.Abs(r) < maxExact {
			b.Sum = r
		}
	}
	return b
}

// merge combines buckets of one series in time order into one.
func mergeBuckets(start time.Time, bs []Bucket) Bucket {
	out := Bucket{Start: start, Min: math.Inf(1), Max: math.Inf(-1)}
	for i, b := range bs {
		if i == 0 {
			out.First = b.First
		}
		out.Last = b.Last
		out.Min = math.Min(out.Min, b.Min)
		out.Max = math.Max(out.Max, b.Max)
		out.Sum += b.Sum
		out.Count += b.Count
	}
	return out
}
