package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// sealGrace is how long after an hour ends its records stay records, for
// devices whose clocks run a little behind.
const sealGrace = 2 * time.Minute

func hourOf(t time.Time) time.Time {
	return time.Unix(0, floorDiv(t.UnixNano(), int64(time.Hour))*int64(time.Hour)).UTC()
}
func dayOf(t time.Time) time.Time {
	return time.Unix(0, floorDiv(t.UnixNano(), int64(24*time.Hour))*int64(24*time.Hour)).UTC()
}

// chanHour names one hour of one channel.
type chanHour struct {
	chanID uint32
	hour   time.Time
}

// markDirty records hours that hold records not sealed yet.
func (s *Store) markDirty(hs []chanHour) {
	if len(hs) == 0 {
		return
	}
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	for _, h := range hs {
		m := s.dirty[h.chanID]
		if m == nil {
			m = map[time.Time]bool{}
			s.dirty[h.chanID] = m
		}
		m[h.hour] = true
	}
}

// isDirty tells whether an hour of a channel holds records not sealed yet.
func (s *Store) isDirty(chanID uint32, h time.Time) bool {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	return s.dirty[chanID][h]
}

// dirtyHours returns a channel's unsealed hours in [from, to].
func (s *Store) dirtyHours(chanID uint32, from, to time.Time) map[time.Time]bool {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	out := map[time.Time]bool{}
	for h := range s.dirty[chanID] {
		if !h.Before(from) && !h.After(to) {
			out[h] = true
		}
	}
	return out
}

// dueHours returns the unsealed hours that closed before cutoff.
func (s *Store) dueHours(cutoff time.Time) []chanHour {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	var out []chanHour
	for id, hours := range s.dirty {
		for h := range hours {
			if !h.Add(time.Hour).After(cutoff) {
				out = append(out, chanHour{id, h})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].hour.Equal(out[j].hour) {
			return out[i].hour.Before(out[j].hour)
		}
		return out[i].chanID < out[j].chanID
	})
	return out
}

// Seal seals every hour that closed more than the grace period before now:
// the background does this every half minute; tests and benchmarks call it
// to see the compact form at once.
func (s *Store) Seal(ctx context.Context) error {
	return s.sealBefore(ctx, s.opts.Now().Add(-sealGrace))
}

func (s *Store) sealBefore(ctx context.Context, cutoff time.Time) error {
	due := s.dueHours(cutoff)
	// Seal a channel's hours of one day together: its hourly and daily
	// rollup blocks are then read and written once, not once an hour,
	// which is most of the cost of sealing a backlog or an import.
	sort.SliceStable(due, func(i, j int) bool { return due[i].chanID < due[j].chanID })
	for len(due) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 1
		for n < len(due) && due[n].chanID == due[0].chanID && dayOf(due[n].hour).Equal(dayOf(due[0].hour)) {
			n++
		}
		hours := make([]time.Time, n)
		for i := range n {
			hours[i] = due[i].hour
		}
		if err := s.sealHours(due[0].chanID, hours, nil, false); err != nil {
			return err
		}
		due = due[n:]
	}
	return nil
}

// sealBatchCells bounds the values a seal batch holds before it is
// committed, so that sealing a day of one-second data does not hold it
// all in memory.
const sealBatchCells = 1 << 18

// sealDirect seals readings of closed hours straight into their chunks
// (see directSealMin), a channel at a time.
func (s *Store) sealDirect(fresh map[chanHour]hourData) error {
	keys := make([]chanHour, 0, len(fresh))
	for k := range fresh {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b chanHour) int {
		if c := cmp.Compare(a.chanID, b.chanID); c != 0 {
			return c
		}
		return a.hour.Compare(b.hour)
	})
	for len(keys) > 0 {
		n := 1
		for n < len(keys) && keys[n].chanID == keys[0].chanID {
			n++
		}
		hours := make([]time.Time, n)
		byHour := make(map[time.Time]hourData, n)
		for i, k := range keys[:n] {
			hours[i] = k.hour
			byHour[k.hour] = fresh[k]
		}
		chanID := keys[0].chanID
		clean := true
		for _, h := range hours {
			if s.isDirty(chanID, h) {
				clean = false
			}
		}
		err := s.sealHours(chanID, hours, byHour, clean)
		if err != nil && !errors.Is(err, ErrDiskFull) && !errors.Is(err, ErrClosed) {
			// A chunk that cannot be read (or any other failure of the
			// seal) must not cost the new readings: they go in as
			// records, which the background seal tries again.
			s.log.Warn("sealing a write directly failed; stored as records instead", "channel", chanID, "err", err)
			err = s.writeRecords(chanID, byHour)
		}
		if err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// writeRecords writes hours of readings of a channel as records, one per
// time, as a commit does.
func (s *Store) writeRecords(chanID uint32, byHour map[time.Time]hourData) error {
	s.sealMu.RLock()
	defer s.sealMu.RUnlock()
	b := s.db.NewBatch()
	defer b.Close()
	var touched []chanHour
	var rec []byte
	for h, data := range byHour {
		rows := map[int64][]recordValue{}
		for id, col := range data {
			for i, t := range col.times {
				c := col.cell(i)
				rows[t] = append(rows[t], recordValue{series: id, num: c.num, text: c.text, isText: c.isText})
			}
		}
		for t, vals := range rows {
			rec = appendRecord(rec[:0], vals)
			_ = b.Merge(pointKey(prefixRecent, chanID, timeOf(t)), rec, nil)
		}
		touched = append(touched, chanHour{chanID, h})
	}
	if err := b.Commit(pebble.NoSync); err != nil { // the commit syncs
		return fmt.Errorf("store: write channel %d as records: %w", chanID, err)
	}
	s.markDirty(touched)
	return nil
}

// sealHours turns hours of a channel, in time order (each with its
// records, the chunk sealed before, if late data came, and the fresh
// readings of a direct seal, if any), into one chunk an hour, and updates
// their hourly and daily rollups and the series summaries, in atomic
// batches: the records of an hour are deleted in the batch that writes its
// chunk. The background seal passes a day at a time, so that writes do
// not wait for a whole backlog.
// Unless clean, writes wait while it runs, so that no record arrives
// between reading an hour and deleting its records.
//
// A direct seal of hours that had no records (clean) does not touch
// records, so it lets writes and the direct seals of other channels run
// beside it; a record that comes meanwhile stays, for the next seal. It
// holds only its channel's lock, which keeps the channel's rollup blocks
// to one writer.
func (s *Store) sealHours(chanID uint32, hours []time.Time, fresh map[time.Time]hourData, clean bool) error {
	if clean {
		s.sealMu.RLock()
		defer s.sealMu.RUnlock()
		mu := &s.chanSeal[chanID%uint32(len(s.chanSeal))]
		mu.Lock()
		defer mu.Unlock()
	} else {
		s.sealMu.Lock()
		defer s.sealMu.Unlock()
	}
	if s.closedDB.Load() {
		return ErrClosed
	}
	rollups := rollupSet{s: s, chanID: chanID}
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	// One iterator for the chunks sealed before, not a Get an hour: a
	// Get that finds nothing still seeks every level 0 sublevel.
	chunks, err := s.chunksIn(chanID, hours)
	if err != nil {
		return err
	}
	var pending []time.Time
	cells := 0
	flush := func() error {
		if err := rollups.put(b); err != nil {
			return err
		}
		// The records stay until this batch is applied, so no sync is
		// needed for safety; the next commit's sync makes it durable.
		// Fresh readings are in no record: their commit syncs when all
		// its hours are sealed.
		if err := b.Commit(pebble.NoSync); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				s.diskFull.Store(true)
				return fmt.Errorf("store: seal channel %d from %s: %w (%w)", chanID, hours[0].Format(time.DateTime), ErrDiskFull, err)
			}
			return fmt.Errorf("store: seal channel %d from %s: %w", chanID, hours[0].Format(time.DateTime), err)
		}
		s.dirtyMu.Lock()
		for _, h := range pending {
			delete(s.dirty[chanID], h)
		}
		if len(s.dirty[chanID]) == 0 {
			delete(s.dirty, chanID)
		}
		s.dirtyMu.Unlock()
		b.Close()
		b = s.db.NewBatch()
		pending, cells = pending[:0], 0
		return nil
	}
	for _, h := range hours {
		// Only hours marked dirty have records (commits mark them before
		// they let go of sealMu): a direct seal into a clean hour neither
		// looks for records nor leaves a range deletion behind, which
		// every later read would have to step over.
		hasRecords := !clean && s.isDirty(chanID, h)
		data, err := s.readHour(chanID, h, chunks[h.UnixNano()], hasRecords)
		if err != nil {
			return err
		}
		for id := range fresh[h] {
			if s.cat.byID(id) == nil {
				delete(fresh[h], id) // a field deleted since the commit took its id
			}
		}
		if len(data) == 0 {
			data = fresh[h]
		} else {
			for id, col := range fresh[h] {
				for i, t := range col.times {
					data.put(id, t, col.cell(i)) // after the stored ones: the newest wins
				}
			}
		}
		if len(data) > 0 {
			_ = b.Set(pointKey(prefixChunk, chanID, h), s.codec.encodeChunk(data), nil)
			if err := rollups.addHour(h, data); err != nil {
				return err
			}
			s.updateSummaries(b, data)
		}
		if hasRecords {
			lower, upper := rangeBounds(prefixRecent, chanID, h, h.Add(time.Hour-1))
			_ = b.DeleteRange(lower, upper, nil)
			pending = append(pending, h)
		}
		for _, col := range data {
			cells += col.len()
		}
		if cells >= sealBatchCells {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(pending) > 0 || rollups.changed() {
		if err := flush(); err != nil {
			return err
		}
	}
	if fresh != nil {
		rollups.keep() // a bulk write: its next batch needs the same blocks
	}
	return nil
}

// chunksIn returns the chunks sealed before of a channel's hours, by hour
// (ns), found with one iterator that seeks from hour to hour: the hours of
// a bulk write can lie far apart, and the chunks between them are not
// read.
func (s *Store) chunksIn(chanID uint32, hours []time.Time) (map[int64][]byte, error) {
	sorted := slices.SortedFunc(slices.Values(hours), time.Time.Compare)
	lower, upper := rangeBounds(prefixChunk, chanID, sorted[0], sorted[len(sorted)-1])
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: read the chunks of channel %d: %w", chanID, err)
	}
	defer it.Close()
	chunks := map[int64][]byte{}
	for _, h := range sorted {
		key := pointKey(prefixChunk, chanID, h)
		if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("store: read the chunk of channel %d at %s: %w", chanID, h, err)
		}
		chunks[h.UnixNano()] = bytes.Clone(v)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: read the chunks of channel %d: %w", chanID, err)
	}
	return chunks, nil
}

// readHour reads an hour of a channel: its chunk sealed before, if any,
// overlaid with the hour's records if it has any.
func (s *Store) readHour(chanID uint32, h time.Time, chunk []byte, hasRecords bool) (hourData, error) {
	data := hourData{}
	if chunk != nil {
		if err := s.codec.decodeChunk(chunk, nil, data.put); err != nil {
			return nil, fmt.Errorf("store: reseal channel %d at %s: %w", chanID, h, err)
		}
	}
	if !hasRecords {
		return data, nil
	}
	lower, upper := rangeBounds(prefixRecent, chanID, h, h.Add(time.Hour-1))
	err := iterateRange(s.db, lower, upper, func(k, v []byte) error {
		t := keyTime(k).UnixNano()
		return decodeRecord(v, func(rv recordValue) {
			if s.cat.byID(rv.series) != nil { // not a deleted field
				data.put(rv.series, t, cell{num: rv.num, text: rv.text, isText: rv.isText})
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: seal channel %d at %s: %w", chanID, h, err)
	}
	return data, nil
}

// rollupSet is the hourly and daily rollup blocks of a channel that a
// seal changes: each is read once and written once per seal batch.
type rollupSet struct {
	s      *Store
	chanID uint32
	hour   map[time.Time]rollupBlock // by block start
	day    map[time.Time]rollupBlock
	days   map[time.Time]bool // days whose hours changed since the last put
}

func (rs *rollupSet) changed() bool { return len(rs.days) > 0 }

// block returns the block of resolution r that holds t, read on first use.
func (rs *rollupSet) block(r resolution, t time.Time) (rollupBlock, error) {
	m := &rs.hour
	if r == resDay {
		m = &rs.day
	}
	if *m == nil {
		*m = map[time.Time]rollupBlock{}
	}
	start := r.blockStart(t)
	if blk, ok := (*m)[start]; ok {
		return blk, nil
	}
	blk, ok := rs.s.rollups.take(rollupID{rs.chanID, r.code, start.UnixNano()})
	if !ok {
		var err error
		if blk, err = rs.s.loadRollup(rs.chanID, r, start); err != nil {
			return nil, err
		}
	}
	(*m)[start] = blk
	return blk, nil
}

// keep gives the set's blocks, all committed, to the store's cache.
func (rs *rollupSet) keep() {
	now := rs.s.opts.Now()
	for start, blk := range rs.hour {
		rs.s.rollups.give(rollupID{rs.chanID, resHour.code, start.UnixNano()}, blk, now)
	}
	for start, blk := range rs.day {
		rs.s.rollups.give(rollupID{rs.chanID, resDay.code, start.UnixNano()}, blk, now)
	}
}

// addHour puts an hour's buckets into its hourly block.
func (rs *rollupSet) addHour(h time.Time, data hourData) error {
	blk, err := rs.block(resHour, h)
	if err != nil {
		return err
	}
	data.settle()
	slot := resHour.slot(h)
	for series, col := range data {
		if col.isText || col.len() == 0 {
			continue
		}
		blk.slots(series, resHour)[slot] = bucketOf(h, col.nums)
	}
	if rs.days == nil {
		rs.days = map[time.Time]bool{}
	}
	rs.days[dayOf(h)] = true
	return nil
}

// put merges the hours of each changed day into its daily bucket and
// writes the changed blocks into b.
func (rs *rollupSet) put(b *pebble.Batch) error {
	if len(rs.days) == 0 {
		return nil
	}
	hourBlocks, dayBlocks := map[time.Time]bool{}, map[time.Time]bool{}
	for day := range rs.days {
		hourBlock, err := rs.block(resHour, day) // a day lies within one hourly block (72 h = 3 days)
		if err != nil {
			return err
		}
		dayBlock, err := rs.block(resDay, day)
		if err != nil {
			return err
		}
		mergeDay(hourBlock, dayBlock, day)
		hourBlocks[resHour.blockStart(day)] = true
		dayBlocks[resDay.blockStart(day)] = true
	}
	for start := range hourBlocks {
		_ = b.Set(rollupKey(rs.chanID, resHour, start), rs.s.codec.encodeRollup(rs.hour[start], resHour), nil)
	}
	for start := range dayBlocks {
		_ = b.Set(rollupKey(rs.chanID, resDay, start), rs.s.codec.encodeRollup(rs.day[start], resDay), nil)
	}
	clear(rs.days)
	return nil
}

// mergeDay sets a day's bucket in the daily block from its hours in the
// hourly block.
func mergeDay(hourBlock, dayBlock rollupBlock, day time.Time) {
	first := resHour.slot(day)
	dslot := resDay.slot(day)
	hours := make([]Bucket, 0, 24)
	for series, slots := range hourBlock {
		hours = hours[:0]
		for _, bk := range slots[first : first+24] {
			if bk.Count > 0 {
				hours = append(hours, bk)
			}
		}
		if len(hours) == 0 {
			continue
		}
		merged := mergeBuckets(day, hours)
		digits := 0
		for _, hb := range hours {
			if d := decimalDigits(hb.Sum); d < 0 || digits < 0 {
				digits = -1
			} else {
				digits = max(digits, d)
			}
		}
		if digits >= 0 {
			merged.Sum = math.Round(merged.Sum*pow10[digits]) / pow10[digits]
		}
		dayBlock.slots(series, resDay)[dslot] = merged
	}
}

func (s *Store) loadRollup(chanID uint32, r resolution, t time.Time) (rollupBlock, error) {
	start := r.blockStart(t)
	v, closer, err := s.db.Get(rollupKey(chanID, r, start))
	if err == pebble.ErrNotFound {
		return rollupBlock{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return s.codec.decodeRollup(v, r, start, nil)
}

// Summaries keep each series' first and last time and last value across
// restarts, so that Open need not read every chunk.

type summary struct {
	first, last time.Time
	num         float64
	text        string
	isText      bool
}

func encodeSummary(sm summary) []byte {
	b := binary.BigEndian.AppendUint64(nil, encodeTime(sm.first))
	b = binary.BigEndian.AppendUint64(b, encodeTime(sm.last))
	if sm.isText {
		b = append(b, 1)
		return append(b, sm.text...)
	}
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(sm.num))
}

func decodeSummary(b []byte) (summary, bool) {
	if len(b) < 17 {
		return summary{}, false
	}
	sm := summary{first: decodeTime(binary.BigEndian.Uint64(b)), last: decodeTime(binary.BigEndian.Uint64(b[8:]))}
	if b[16] == 1 {
		sm.isText, sm.text = true, string(b[17:])
		return sm, true
	}
	if len(b) < 25 {
		return summary{}, false
	}
	sm.num = math.Float64frombits(binary.BigEndian.Uint64(b[17:]))
	return sm, true
}

func (s *Store) updateSummaries(b *pebble.Batch, data hourData) {
	data.settle()
	for id, col := range data {
		se := s.cat.byID(id)
		if se == nil || col.len() == 0 {
			continue
		}
		last := col.len() - 1
		sm := s.cat.sealedSummary(se, timeOf(col.times[0]), timeOf(col.times[last]), col.cell(last))
		_ = b.Set(idKey(prefixSummary, id), encodeSummary(sm), nil)
	}
}

// recordMerger combines records of the same channel and time: a later
// value of a series replaces an earlier one, other series are kept (a
// Tasmota's SENSOR and STATE messages carry the same time).
var recordMerger = &pebble.Merger{
	Name: "apiary.record.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		m := &recordMerge{}
		return m, m.MergeNewer(value)
	},
}

type recordMerge struct {
	operands [][]byte // oldest first
}

func (m *recordMerge) MergeNewer(value []byte) error {
	m.operands = append(m.operands, bytes.Clone(value))
	return nil
}

func (m *recordMerge) MergeOlder(value []byte) error {
	m.operands = append([][]byte{bytes.Clone(value)}, m.operands...)
	return nil
}

func (m *recordMerge) Finish(bool) ([]byte, io.Closer, error) {
	if len(m.operands) == 1 {
		return m.operands[0], nil, nil
	}
	vals := map[uint32]recordValue{}
	for _, op := range m.operands {
		if err := decodeRecord(op, func(v recordValue) { vals[v.series] = v }); err != nil {
			return nil, nil, err
		}
	}
	list := make([]recordValue, 0, len(vals))
	for _, v := range vals {
		list = append(list, v)
	}
	return appendRecord(nil, list), nil, nil
}
