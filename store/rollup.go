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

// rollupBlock is series -> slot -> bucket.
type rollupBlock map[uint32]map[int]Bucket

const rollupVersion = 1

func (c *codec) encodeRollup(blk rollupBlock, r resolution) []byte {
	series := make([]uint32, 0, len(blk))
	for s, slots := range blk {
		if len(slots) > 0 {
			series = append(series, s)
		}
	}
	sort.Slice(series, func(i, j int) bool { return series[i] < series[j] })
	b := []byte{rollupVersion}
	b = binary.AppendUvarint(b, uint64(len(series)))
	for _, s := range series {
		slots := blk[s]
		occupied := newBitmap(r.slots)
		idx := make([]int, 0, len(slots))
		for i := range slots {
			if i >= 0 && i < r.slots {
				occupied.set(i)
				idx = append(idx, i)
			}
		}
		sort.Ints(idx)
		counts := make([]int64, len(idx))
		cols := [5][]float64{}
		for j, i := range idx {
			bk := slots[i]
			counts[j] = bk.Count
			for k, v := range []float64{bk.Min, bk.Max, bk.Sum, bk.First, bk.Last} {
				cols[k] = append(cols[k], v)
			}
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
	for i := uint64(0); i < n && rd.err == nil; i++ {
		s := uint32(rd.uvarint())
		occupied := bitmap(rd.bytes((r.slots + 7) / 8))
		if rd.err != nil {
			break
		}
		var idx []int
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
		slots := make(map[int]Bucket, len(idx))
		for j, i := range idx {
			if j >= len(cols[4]) {
				return nil, errShort
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

// bucketOf summarises points (sorted by time) as one bucket. The sum is
// rounded to the decimals of the values, so that it stays a short decimal.
func bucketOf(start time.Time, pts []Point) Bucket {
	b := Bucket{Start: start, Min: math.Inf(1), Max: math.Inf(-1)}
	digits := 0
	for i, p := range pts {
		if i == 0 {
			b.First = p.Value
		}
		b.Last = p.Value
		b.Min = math.Min(b.Min, p.Value)
		b.Max = math.Max(b.Max, p.Value)
		b.Sum += p.Value
		b.Count++
		if d := decimalDigits(p.Value); d < 0 || digits < 0 {
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
