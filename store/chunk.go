package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// A chunk holds one channel's hour once the hour is closed: one timestamp
// column that all the channel's fields share, then one column per field
// (Rice-coded, rice.go), then zstd where it helps. This is the shape
// measured at 0.55-1.5 bytes a point for hive data, against 8.6-16 for a
// key per value; 0.68 for hivegen's 1-minute data.

// Chunk versions: 1 wrote the timestamps as uvarint delta-of-deltas, 2
// (since the Rice columns) as a Rice column, which costs a few bytes for
// a regular clock and a byte less a reading for receive times that jitter
// by milliseconds. Both are read.
const (
	chunkV1      = 1
	chunkVersion = 2
)

// maxChunkRows bounds the times a chunk may say it holds, so that a
// corrupt count cannot make its decoding allocate without bound. 2^24 is
// a reading every 215 µs for the whole hour: a seal holds a node's hour in
// memory, about 16 bytes a value, so that such an hour of 20 fields (5
// GiB) could not be sealed in the first place.
const maxChunkRows = 1 << 24

// maxChunkCells bounds rows × columns, the values a chunk may decode to:
// all-zero Rice columns make n values of a few bytes each, so a corrupt
// chunk (a crafted backup) could otherwise cost minutes of decoding. 2^28
// values would take 4 GiB to seal.
const maxChunkCells = 1 << 28

// cell is one value of one series at one time.
type cell struct {
	num    float64
	text   string
	isText bool
}

// hourData is a channel's hour while it is being sealed: per series, its
// values as a column in time order. Records arrive in time order, so a
// column is built by appending; an hour sealed before and topped up with
// late records is sorted once, by settle.
type hourData map[uint32]*column

// column is one series' values in an hour: times[i] is the time of
// nums[i] (numeric series) or texts[i] (text series).
type column struct {
	times  []int64
	nums   []float64
	texts  []string
	isText bool
	// unsorted is set when a value came that is not later than the last.
	unsorted bool
}

func (h hourData) put(series uint32, t int64, c cell) { h.putSized(series, t, c, 0) }

// putSized is put with room made for n values when the series is new.
func (h hourData) putSized(series uint32, t int64, c cell, n int) {
	h.column(series, c.isText, n).push(t, c)
}

// column returns the series' column, made with room for n values if new.
func (h hourData) column(series uint32, isText bool, n int) *column {
	col := h[series]
	if col == nil {
		col = &column{isText: isText, times: make([]int64, 0, n)}
		if isText {
			col.texts = make([]string, 0, n)
		} else {
			col.nums = make([]float64, 0, n)
		}
		h[series] = col
	}
	return col
}

// push appends a value at time t.
func (col *column) push(t int64, c cell) {
	if c.isText != col.isText {
		return // a series has one kind; only corrupt data mixes them
	}
	if n := len(col.times); n > 0 && t <= col.times[n-1] {
		col.unsorted = true
	}
	col.times = append(col.times, t)
	if c.isText {
		col.texts = append(col.texts, c.text)
	} else {
		col.nums = append(col.nums, c.num)
	}
}

// settle sorts every column by time and keeps the last value put of equal
// times (a late record over the chunk sealed before).
func (h hourData) settle() {
	for _, col := range h {
		col.settle()
	}
}

func (c *column) settle() {
	if !c.unsorted {
		return
	}
	c.unsorted = false
	idx := make([]int, len(c.times))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return c.times[idx[a]] < c.times[idx[b]] })
	times := make([]int64, 0, len(idx))
	var nums []float64
	var texts []string
	for k, i := range idx {
		if k+1 < len(idx) && c.times[idx[k+1]] == c.times[i] {
			continue // a later put of the same time wins
		}
		times = append(times, c.times[i])
		if c.isText {
			texts = append(texts, c.texts[i])
		} else {
			nums = append(nums, c.nums[i])
		}
	}
	c.times, c.nums, c.texts = times, nums, texts
}

func (c *column) len() int { return len(c.times) }

// cell returns the i-th value.
func (c *column) cell(i int) cell {
	if c.isText {
		return cell{text: c.texts[i], isText: true}
	}
	return cell{num: c.nums[i]}
}

// at returns the value at time t of a settled column.
func (c *column) at(t int64) (cell, bool) {
	i, ok := slices.BinarySearch(c.times, t)
	if !ok {
		return cell{}, false
	}
	return c.cell(i), true
}

// unionTimes returns the sorted times at which any column of a settled
// hour has a value: most often every column has the same times.
func (h hourData) unionTimes() []int64 {
	var first []int64
	same := true
	for _, col := range h {
		if first == nil {
			first = col.times
		} else if !slices.Equal(first, col.times) {
			same = false
			break
		}
	}
	if same {
		return first
	}
	var all []int64
	for _, col := range h {
		all = append(all, col.times...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// codec compresses chunks and rollup blocks; zstd encoders and decoders
// are safe for concurrent EncodeAll/DecodeAll and expensive to build, so
// the store holds one of each.
//
// A block that zstd does not make smaller is stored as it is: Rice-coded
// columns of 1-minute data leave zstd only the few header bytes of an
// hour, less than its frame costs. Such a block starts with its version
// byte (1 or 2), a zstd frame with zstd's magic number, so the two cannot
// be taken for each other.
type codec struct {
	once sync.Once
	enc  *zstd.Encoder
	dec  *zstd.Decoder
}

// zstdMagic starts every zstd frame (RFC 8878, 3.1.1).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

func (c *codec) init() {
	c.once.Do(func() {
		// A chunk is an hour of one node (a few hundred KiB at most before
		// compression): a 1 MiB window loses nothing, and the fastest
		// level compresses these columns as well as the better ones (5 M
		// points of hive data: 0.951 bytes a point against 0.948 with the
		// uvarint columns before Rice coding) with a fraction of their
		// tables. Sealing an hour of 100 nodes × 20 fields at 1 s peaked at
		// 75 MiB RSS with SpeedBetterCompression and its default 8 MiB
		// window, at 49 MiB with these. Pebble checksums every block of its
		// tables, so zstd's own checksum would only add 4 bytes a block.
		c.enc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
		c.dec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(64<<20))
	})
}

// compress returns b compressed, or b itself when that is not larger.
func (c *codec) compress(b []byte) []byte {
	c.init()
	z := c.enc.EncodeAll(b, make([]byte, 0, len(b)/4+16))
	if len(z) >= len(b) && !bytes.HasPrefix(b, zstdMagic) {
		return b
	}
	return z
}

// decompress undoes compress.
func (c *codec) decompress(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, zstdMagic) {
		return b, nil
	}
	c.init()
	out, err := c.dec.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("store: corrupt block: %w", err)
	}
	return out, nil
}

var unitCodes = [...]int64{1, 1e3, 1e6, 1e9}

// encodeChunk lays out an hour's data as columns.
func (c *codec) encodeChunk(h hourData) []byte {
	h.settle()
	times := h.unionTimes()
	unit := timeUnit(times)
	code := 0
	for i, u := range unitCodes {
		if u == unit {
			code = i
		}
	}
	var buf scratchInts
	scaled := buf.slice(len(times))
	for i, t := range times {
		scaled[i] = t / unit
	}
	b := make([]byte, 0, 64+len(times)*(2+3*len(h)))
	b = append(b, chunkVersion)
	b = binary.AppendUvarint(b, uint64(len(times)))
	b = append(b, byte(code))
	b = appendRice(b, scaled, 0)

	series := make([]uint32, 0, len(h))
	for s := range h {
		series = append(series, s)
	}
	slices.Sort(series)
	b = binary.AppendUvarint(b, uint64(len(series)))
	var col []byte
	for _, s := range series {
		vals := h[s]
		flags := byte(0)
		if len(vals.times) != len(times) {
			flags |= 1
		}
		if vals.isText {
			flags |= 2
		}
		col = append(col[:0], flags)
		if flags&1 != 0 {
			present := newBitmap(len(times))
			row := 0
			for _, t := range vals.times {
				for times[row] != t {
					row++
				}
				present.set(row)
			}
			col = append(col, present...)
		}
		if vals.isText {
			col = appendTexts(col, vals.texts)
		} else {
			col = appendNumbers(col, vals.nums)
		}
		b = binary.AppendUvarint(b, uint64(s))
		b = binary.AppendUvarint(b, uint64(len(col)))
		b = append(b, col...)
	}
	return c.compress(b)
}

// decodeChunk calls fn for every value of the series in want (all series
// when want is nil), in time order per series.
func (c *codec) decodeChunk(raw []byte, want map[uint32]bool, fn func(series uint32, t int64, v cell)) error {
	b, err := c.decompress(raw)
	if err != nil {
		return err
	}
	r := reader{b: b}
	version := r.byte()
	if version != chunkVersion && version != chunkV1 {
		return fmt.Errorf("store: chunk version %d", version)
	}
	n := int(r.uvarint())
	if version == chunkV1 && n > len(b) || n > maxChunkRows {
		// A version 1 time costs at least a byte; a Rice column of a
		// regular clock (or a constant) costs a few bytes for any n.
		return errShort
	}
	code := int(r.byte()) % len(unitCodes)
	unit := unitCodes[code]
	var times []int64
	if version == chunkV1 {
		times = readInts(&r, n, true)
	} else if kind, _ := r.byte(), r.byte(); kind == colRice {
		times = readRice(&r, n)
	} else if r.err == nil {
		r.err = errCorruptColumn
	}
	if r.err != nil {
		return r.err
	}
	for i := range times {
		times[i] *= unit
	}
	cols := r.uvarint()
	if cols > uint64(len(b)) || uint64(n)*cols > maxChunkCells {
		return errShort // every column takes bytes; see maxChunkCells
	}
	for i := uint64(0); i < cols && r.err == nil; i++ {
		s := uint32(r.uvarint())
		col := r.bytes(int(r.uvarint()))
		if r.err != nil || (want != nil && !want[s]) {
			continue
		}
		if err := decodeColumn(col, times, func(t int64, v cell) { fn(s, t, v) }); err != nil {
			return err
		}
	}
	return r.err
}

func decodeColumn(col []byte, times []int64, fn func(int64, cell)) error {
	r := reader{b: col}
	flags := r.byte()
	n := len(times)
	var present bitmap
	if flags&1 != 0 {
		present = bitmap(r.bytes((n + 7) / 8))
		if r.err != nil {
			return r.err
		}
		k := 0
		for i := 0; i < n; i++ {
			if present.has(i) {
				k++
			}
		}
		n = k
	}
	rowOf := func(j int) int { return j }
	if present != nil {
		rows := make([]int, 0, n)
		for i := range times {
			if present.has(i) {
				rows = append(rows, i)
			}
		}
		rowOf = func(j int) int { return rows[j] }
	}
	if flags&2 != 0 {
		texts := readTexts(&r, n)
		if r.err != nil {
			return r.err
		}
		for j, s := range texts {
			fn(times[rowOf(j)], cell{text: s, isText: true})
		}
		return nil
	}
	nums := readNumbers(&r, n)
	if r.err != nil {
		return r.err
	}
	if len(nums) != n {
		return errors.New("store: short column")
	}
	for j, v := range nums {
		fn(times[rowOf(j)], cell{num: v})
	}
	return nil
}
