// Package store is Apiary's time-series store on Pebble. It owns the shared
// vocabulary of the appliance (Channel, Reading, Event, ErrorEntry), the
// catalogue of channels and fields, range queries, events and the bounded,
// deduplicated error log.
//
// store imports nothing of Apiary's. It never decides what a message means:
// ingest decodes, store persists, ui asks. Write returns only once the
// readings are durable, which is what lets the MQTT PUBACK and the HTTP 200
// mean "stored".
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
)

// Options configure a Store. The zero value of every field but Dir has a
// default sized for a Raspberry Pi.
type Options struct {
	// Dir is the data directory; it is created if missing.
	Dir string
	// CacheBytes is the size of Pebble's block cache (default 8 MiB).
	CacheBytes int64
	// MemTableBytes is the size of one memtable (default 4 MiB).
	MemTableBytes int64
	// MaxOpenFiles bounds Pebble's open table files (default 256).
	MaxOpenFiles int
	// SyncInterval 0 means every Write is fsynced before it returns (and
	// concurrent writers share one fsync); what WriteAsync queues is in the
	// OS when committed and fsynced within a second. A positive interval
	// makes Write return once the data is in the OS and syncs the log on
	// that interval: fewer SD-card writes, at the cost of up to that much
	// data on a power cut. A crash of the process alone loses nothing that
	// was committed, either way.
	SyncInterval time.Duration
	// MinFreeBytes: below this much free space in Dir, writes are refused
	// with ErrDiskFull until space is freed (default 32 MiB).
	MinFreeBytes int64
	// BallastBytes is the size of the ballast file the store keeps in Dir
	// and gives back when the disk fills (default 8 MiB; negative: none).
	BallastBytes int64
	// ErrorLogMax bounds the number of error-log entries (default 1000).
	ErrorLogMax int
	// ErrorLogMaxAge drops error-log entries last seen longer ago (default 30 days).
	ErrorLogMaxAge time.Duration
	// Retention, when set, says how long a realm's data is kept; the store
	// deletes older data every hour.
	Retention func(realm string) Retention
	// Logger receives the store's and Pebble's messages (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.CacheBytes <= 0 {
		o.CacheBytes = 8 << 20
	}
	if o.MemTableBytes <= 0 {
		o.MemTableBytes = 4 << 20
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = 256
	}
	if o.ErrorLogMax <= 0 {
		o.ErrorLogMax = 1000
	}
	if o.MinFreeBytes <= 0 {
		o.MinFreeBytes = 32 << 20
	}
	if o.BallastBytes == 0 {
		o.BallastBytes = 8 << 20
	}
	if o.ErrorLogMaxAge <= 0 {
		o.ErrorLogMaxAge = 30 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("store: closed")

// Store is the time-series store. Its methods are safe for concurrent use.
type Store struct {
	opts Options
	db   *pebble.DB
	log  *slog.Logger

	cat     catalogue
	errlog  *errorLog
	commits *committer
	codec   codec
	rollups rollupCache

	// sealMu lets commits run together and sealing alone: a seal reads an
	// hour's records and deletes them, and no record may come in between.
	sealMu sync.RWMutex
	// chanSeal serialises the direct seals of a channel (see sealHours).
	chanSeal [16]sync.Mutex
	dirtyMu  sync.Mutex
	dirty    map[uint32]map[time.Time]bool // channel -> unsealed hours
	closedDB atomic.Bool
	diskFull atomic.Bool
	wal      walSyncer // when the write-ahead log's syncs go to the disk

	readings atomic.Int64
	points   atomic.Int64

	scratch   sync.Pool // of *commitScratch
	closeOnce sync.Once
	closed    atomic.Bool
	stop      chan struct{}
	bg        sync.WaitGroup
}

// Open opens (or creates) the store in opts.Dir and loads its catalogue.
func Open(opts Options) (*Store, error) {
	opts.setDefaults()
	if opts.Dir == "" {
		return nil, errors.New("store: no data directory given")
	}
	s := &Store{
		scratch: sync.Pool{New: func() any { return new(commitScratch) }},
		opts:    opts,
		log:     opts.Logger,
		stop:    make(chan struct{}),
		dirty:   map[uint32]map[time.Time]bool{},
		rollups: rollupCache{max: rollupCacheBytes},
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		FS:           pebbleFS(s),
		Cache:        cache,
		MemTableSize: uint64(opts.MemTableBytes),
		MaxOpenFiles: opts.MaxOpenFiles,
		Logger:       pebbleLogger{opts.Logger.With("component", "pebble")},
		Merger:       recordMerger,
	}
	tuneForSealing(po)
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("%w: %s: %v", ErrLocked, opts.Dir, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", opts.Dir, err)
	}
	s.db = db
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.cat.load(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load catalogue: %w", err)
	}
	if err := s.loadRecent(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load unsealed records: %w", err)
	}
	s.errlog, err = openErrorLog(db, opts.ErrorLogMax, opts.ErrorLogMaxAge, opts.Now)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load error log: %w", err)
	}
	s.checkDisk(false) // the ballast is written in the background, not on the way up
	s.commits = newCommitter(maxQueuedReadings, commitWorkers, s.commit)
	s.bg.Add(1)
	go s.background()
	return s, nil
}

// tuneForSealing sets Pebble up for how the store writes: every record
// lives at most an hour or two before the seal deletes it with a range
// deletion. Letting flushed memtables pile up in level 0 until it has 20
// sublevels (Pebble compacts at 4) means most records are deleted before
// a compaction would rewrite them. BenchmarkLiveDiskWrites (100 nodes ×
// 20 fields a second, 3 simulated hours): Pebble wrote 21.3 bytes a point
// with its defaults (WAL 6.65, flushes 3.70, compactions 10.97), 12.8 with
// this (6.63, 3.71, 2.48). An SD card wears by what is written; the cost
// is up to 20 level-0 tables for a read of recent data to merge, which a
// Pi's few channels do not notice.
//
// Tables stay snappy-compressed: Pebble's zstd without cgo (the release
// builds) makes a new encoder for every table and a new decoder for every
// block it reads.
func tuneForSealing(po *pebble.Options) {
	po.L0CompactionThreshold = 20
	po.L0StopWritesThreshold = 60
}

func (s *Store) checkFormat() error {
	key := append([]byte{prefixMeta}, "format"...)
	v, closer, err := s.db.Get(key)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return s.db.Set(key, []byte(formatVersion), pebble.Sync)
	case err != nil:
		return fmt.Errorf("store: read format: %w", err)
	}
	format := string(v)
	closer.Close()
	switch {
	case format == formatVersion:
		return nil
	case slices.Contains(upgradableFormats, format):
		if err := s.db.Set(key, []byte(formatVersion), pebble.Sync); err != nil {
			return fmt.Errorf("store: upgrade format %s to %s: %w", format, formatVersion, err)
		}
		s.log.Info("store format upgraded", "from", format, "to", formatVersion)
		return nil
	}
	return fmt.Errorf("store: data directory has format %q, this Apiary reads %q", format, formatVersion)
}

// loadRecent reads the records not sealed yet (at most the last hour or
// two, and late data): it brings the catalogue's latest values up to date
// and notes which hours wait for sealing.
func (s *Store) loadRecent() error {
	ids := map[uint32]*chanEntry{}
	for _, ce := range s.cat.chans {
		ids[ce.id] = ce
	}
	var updates updateSet
	var touched []chanHour
	err := iterate(s.db, prefixRecent, func(k, v []byte) error {
		chanID := binary.BigEndian.Uint32(k[1:5])
		t := keyTime(k)
		touched = append(touched, chanHour{chanID, hourOf(t)})
		return decodeRecord(v, func(rv recordValue) {
			if se := s.cat.seriesByID[rv.series]; se != nil {
				updates.add(se, t, rv.num, rv.text)
			}
		})
	})
	s.cat.apply(updates.list)
	s.markDirty(touched)
	return err
}

// background seals closed hours, flushes the error log and, in
// interval-sync mode, syncs the write-ahead log.
func (s *Store) background() {
	defer s.bg.Done()
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	seal := time.NewTicker(30 * time.Second)
	defer seal.Stop()
	disk := time.NewTicker(2 * time.Second)
	defer disk.Stop()
	retain := time.NewTicker(time.Hour)
	defer retain.Stop()
	// The log syncs that no waiting writer needed now (see walSyncer).
	syncEvery := unackedSyncEvery
	if s.opts.SyncInterval > 0 {
		syncEvery = s.opts.SyncInterval
	}
	syncT := time.NewTicker(syncEvery)
	defer syncT.Stop()
	syncFailed := false
	for {
		select {
		case <-s.stop:
			return
		case <-flush.C:
			if err := s.errlog.flush(); err != nil {
				s.log.Warn("error log not persisted", "err", err)
			}
		case <-disk.C:
			s.checkDisk(true)
		case <-retain.C:
			if err := s.ApplyRetention(context.Background()); err != nil {
				s.log.Warn("retention failed", "err", err)
			}
		case <-seal.C:
			s.rollups.expire(s.opts.Now().Add(-rollupCacheIdle))
			if s.diskFull.Load() {
				continue
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-s.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			if err := s.Seal(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("sealing closed hours failed; the records stay and are tried again", "err", err)
			}
			cancel()
		case <-syncT.C:
			if err := s.wal.flush(); err != nil && !syncFailed {
				// Every write fails from now on (see walSyncer.failed).
				s.log.Error("syncing the write-ahead log failed; writes are refused until Apiary restarts", "err", err)
				syncFailed = true
			}
		}
	}
}

// Close persists the error log, syncs and closes the store. It is safe to
// call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.commits.close() // commits what is queued, then refuses more
		s.closed.Store(true)
		close(s.stop)
		s.bg.Wait()
		// Seal what is due, for at most a few seconds: records are durable
		// as they are, and a stop must not wait for a backlog of hours.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		sealErr := s.sealBefore(ctx, s.opts.Now().Add(-sealGrace))
		cancel()
		if errors.Is(sealErr, context.DeadlineExceeded) {
			sealErr = nil
		}
		s.sealMu.Lock()
		s.closedDB.Store(true)
		s.rollups.clear()
		s.sealMu.Unlock()
		flushed := errors.Join(s.errlog.flush(), s.db.LogData(nil, pebble.Sync), s.wal.flush(), s.compactOnClose())
		closeErr := s.db.Close()
		if flushed == nil && closeErr == nil {
			s.tidy()
		}
		err = errors.Join(sealErr, flushed, closeErr)
	})
	return err
}

// Write stores readings. When it returns nil, every reading is durable (in
// interval-sync mode: in the OS, see Options.SyncInterval). A value at the
// same channel, field and time as an earlier one replaces it. NaN and ±Inf
// values are not stored. A reading with an invalid channel or no time fails
// the whole call before anything is written.
//
// Concurrent writers share commits: one fsync serves every write that was
// waiting for it (group commit), so many devices acknowledged one at a time
// cost few disk flushes.
func (s *Store) Write(ctx context.Context, readings []Reading) error {
	if err := validate(readings); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	if err := s.commits.enqueue(&writeReq{readings: readings, done: done}); err != nil {
		return err
	}
	return <-done
}

// WriteAsync queues readings for the next commit and returns at once; a
// failure is reported to onErr (which may be nil). It is for messages that
// nobody waits for (MQTT QoS 0): their commit puts them in the OS, so a
// crash of the process does not lose them, and the disk has them within a
// second (unackedSyncEvery) instead of an fsync each, which would promise
// nothing to anyone and cost an SD card a page rewritten per message. The
// queue is bounded: WriteAsync blocks while it is full.
func (s *Store) WriteAsync(readings []Reading, onErr func(error)) {
	if err := validate(readings); err != nil {
		if onErr != nil {
			onErr(err)
		}
		return
	}
	if err := s.commits.enqueue(&writeReq{readings: readings, onErr: onErr}); err != nil && onErr != nil {
		onErr(err)
	}
}

func validate(readings []Reading) error {
	for i, r := range readings {
		if !r.Channel.Valid() {
			return fmt.Errorf("store: reading %d: invalid channel %q", i, r.Channel.String())
		}
		if r.Time.IsZero() {
			return fmt.Errorf("store: reading %d: no time", i)
		}
	}
	return nil
}

// unackedSyncEvery bounds how long what nobody waited for (WriteAsync:
// MQTT QoS 0) stays in the OS before an fsync puts it on the disk, with
// sync = "always".
const unackedSyncEvery = time.Second

// anyWaiting reports whether a writer waits for one of the requests (Write,
// not WriteAsync).
func anyWaiting(reqs []*writeReq) bool {
	for _, r := range reqs {
		if r.done != nil {
			return true
		}
	}
	return false
}

// durable makes the store's syncs go to the disk until the returned
// release is called, for a write that must be durable when it returns; in
// interval-sync mode they stay deferred (see walSyncer).
func (s *Store) durable() (release func()) {
	if s.opts.SyncInterval > 0 {
		return func() {}
	}
	return s.wal.hold()
}

// commitDurably commits b and returns once it is on the disk, in either
// sync mode: for what is written once and must not come back after a
// power cut (a property, a delete).
func (s *Store) commitDurably(b *pebble.Batch) error {
	defer s.wal.hold()()
	return b.Commit(pebble.Sync)
}

// directSealMin is the number of readings of one channel in an hour that
// closed already from which a commit writes them straight into the hour's
// chunk instead of as records: an import or a device's backlog then costs
// one chunk write, not a record per reading and a seal that reads them
// back. A few late readings still go in as records, sealed with the next
// seal.
const directSealMin = 16

// commit writes the readings of a group of requests: one record (a merge
// operand) per reading in one batch, except readings of closed hours that
// come in bulk, which are sealed directly.
func (s *Store) commit(reqs []*writeReq) error {
	if s.diskFull.Load() {
		return diskFullError()
	}
	if anyWaiting(reqs) {
		defer s.durable()()
	}
	sc := s.scratch.Get().(*commitScratch)
	defer s.scratch.Put(sc.reset())
	direct, err := s.commitRecords(reqs, sc)
	if err != nil || len(direct.hours) == 0 {
		return err
	}
	// The records and the direct seal's batches went in unsynced: one
	// sync makes them all durable, and only then does the catalogue show
	// them.
	err = s.sealDirect(direct.hours)
	if serr := s.db.LogData(nil, pebble.Sync); serr != nil {
		err = errors.Join(err, fmt.Errorf("store: sync: %w", serr))
	}
	if err != nil {
		return err
	}
	direct.recordsDone()
	s.cat.apply(direct.updates.list)
	s.readings.Add(direct.readings)
	s.points.Add(direct.points)
	return nil
}

// commitScratch is the memory a commit works in, kept for the next one:
// the appliance commits a reading or two at a time, and building these
// anew for each was much of what its write path allocated.
type commitScratch struct {
	updates []seriesUpdate
	vals    []recordValue
	fields  fieldCache
}

// reset empties the scratch for the next commit: it keeps no series or
// text alive, and no room a bulk write grew it to.
func (sc *commitScratch) reset() *commitScratch {
	clear(sc.updates)
	clear(sc.vals)
	sc.updates, sc.vals = sc.updates[:0], sc.vals[:0]
	sc.fields.reset()
	if cap(sc.updates) > 4*updateListMax {
		sc.updates = nil
	}
	if cap(sc.vals) > 1024 {
		sc.vals = nil
	}
	return sc
}

// hourKey is a chanHour as a map key that hashes fast.
type hourKey struct {
	chanID uint32
	hour   int64 // ns
}

// hourGroup is the readings of a commit in one closed hour of a channel.
type hourGroup struct {
	at          chanHour
	readings    int
	recordBytes int      // the batch room its readings take as records
	data        hourData // when sealed directly
}

// fieldCache is a commit's view of the catalogue's series, by channel:
// no lock of the catalogue's a value, and for readings sealed directly
// the column of the hour the field's last value went into. A channel's
// fields are few, so they are found by comparing names (most often the
// same string, which compares without reading it), not by hashing them.
type fieldCache struct {
	byChan map[*chanEntry]*chanFields
	spare  []*chanFields // emptied, from earlier commits
}

type chanFields struct {
	list  []*fieldValues
	byKey map[fieldKey]*fieldValues // when the list grows long
	slab  []fieldValues             // room for the first fields, one allocation
}

// fieldListMax is where a channel's fields go from a list to a map.
const fieldListMax = 32

type fieldValues struct {
	key  fieldKey
	se   *series
	hour *hourGroup // of col
	col  *column
}

// of returns the channel's fields; readings of a channel come in runs.
// hint is how many fields the first reading has.
func (fc *fieldCache) of(ce *chanEntry, hint int) *chanFields {
	cf := fc.byChan[ce]
	if cf != nil {
		return cf
	}
	hint = min(hint, fieldListMax)
	if n := len(fc.spare); n > 0 {
		cf, fc.spare = fc.spare[n-1], fc.spare[:n-1]
		cf.list, cf.slab = slices.Grow(cf.list, hint), slices.Grow(cf.slab, hint)
	} else {
		cf = &chanFields{list: make([]*fieldValues, 0, hint), slab: make([]fieldValues, 0, hint)}
	}
	if fc.byChan == nil {
		fc.byChan = map[*chanEntry]*chanFields{}
	}
	fc.byChan[ce] = cf
	return cf
}

// reset empties the cache for another commit, keeping the room of a few
// channels' fields: the catalogue may have changed, so nothing it found
// is kept.
func (fc *fieldCache) reset() {
	for ce, cf := range fc.byChan {
		delete(fc.byChan, ce)
		if len(fc.spare) >= 4 || cap(cf.slab) > fieldListMax {
			continue
		}
		clear(cf.list)
		clear(cf.slab)
		cf.list, cf.slab, cf.byKey = cf.list[:0], cf.slab[:0], nil
		fc.spare = append(fc.spare, cf)
	}
}

func (cf *chanFields) field(cat *catalogue, ce *chanEntry, name string, kind FieldKind) *fieldValues {
	if cf.byKey == nil {
		for _, fv := range cf.list {
			if fv.key.name == name && fv.key.kind == kind {
				return fv
			}
		}
	} else if fv := cf.byKey[fieldKey{name, kind}]; fv != nil {
		return fv
	}
	var fv *fieldValues
	if n := len(cf.slab); n < cap(cf.slab) {
		cf.slab = cf.slab[:n+1] // never beyond its capacity: the pointers stay valid
		fv = &cf.slab[n]
	} else {
		fv = new(fieldValues)
	}
	*fv = fieldValues{key: fieldKey{name, kind}, se: cat.series(ce, name, kind)}
	switch {
	case cf.byKey != nil:
		cf.byKey[fv.key] = fv
	case len(cf.list) < fieldListMax:
		cf.list = append(cf.list, fv)
	default:
		cf.byKey = make(map[fieldKey]*fieldValues, 2*fieldListMax)
		for _, o := range append(cf.list, fv) {
			cf.byKey[o.key] = o
		}
		cf.list = nil
	}
	return fv
}

// directWrite is what a commit seals directly: hours of readings, the
// catalogue's updates from them, and their count; and what is left to do
// for the commit's records once everything is durable.
type directWrite struct {
	hours            map[chanHour]hourData
	updates          updateSet
	readings, points int64
	recordsDone      func()
}

// commitRecords writes the readings as records, and returns those it left
// to be sealed directly.
func (s *Store) commitRecords(reqs []*writeReq, sc *commitScratch) (directWrite, error) {
	s.sealMu.RLock()
	defer s.sealMu.RUnlock()
	var ces []*chanEntry
	var groups []*hourGroup // per reading: its closed hour's group, or nil
	byHour := map[hourKey]*hourGroup{}
	cutoff := s.opts.Now().Add(-sealGrace)
	size := 0    // of the records: readings sealed directly write none
	maxVals := 0 // of a reading
	for _, req := range reqs {
		for _, r := range req.readings {
			ce := s.cat.channel(r.Channel)
			ces = append(ces, ce)
			var g *hourGroup
			maxVals = max(maxVals, len(r.Fields)+len(r.Text)+len(r.Tags))
			recSize := 32 + 8*(len(r.Fields)+len(r.Text)+len(r.Tags))
			if h := hourOf(r.Time); !h.Add(time.Hour).After(cutoff) {
				k := hourKey{ce.id, h.UnixNano()}
				if g = byHour[k]; g == nil {
					g = &hourGroup{at: chanHour{ce.id, h}}
					byHour[k] = g
				}
				g.readings++
				g.recordBytes += recSize
			} else {
				size += recSize
			}
			groups = append(groups, g)
		}
	}
	for _, g := range byHour {
		if g.readings < directSealMin {
			size += g.recordBytes
		}
	}
	b := s.db.NewBatchWithSize(size)
	defer b.Close()
	updates := updateSet{list: slices.Grow(sc.updates[:0], min(maxVals, updateListMax))}
	var direct directWrite
	var points, readings int64
	var fresh map[*series]bool // written in this batch, persisted once it commits
	var freshChans []*chanEntry
	var touched []chanHour
	vals := slices.Grow(sc.vals[:0], maxVals)
	defer func() { sc.updates, sc.vals = updates.list, vals }() // for reset, once the commit is done
	var rec []byte
	local := &sc.fields
	i := 0
	for _, req := range reqs {
		for _, r := range req.readings {
			ce, g := ces[i], groups[i]
			i++
			if !ce.persisted.Load() && !slices.Contains(freshChans, ce) {
				_ = b.Set(idKey(prefixChannel, ce.id), encodeChannel(ce.ch), nil)
				freshChans = append(freshChans, ce)
			}
			var hd hourData
			up := &updates
			if g != nil && g.readings >= directSealMin {
				if g.data == nil {
					g.data = hourData{}
					if direct.hours == nil {
						direct.hours = map[chanHour]hourData{}
					}
					direct.hours[g.at] = g.data
				}
				hd, up = g.data, nil // the updates come from the columns, below
			}
			vals = vals[:0]
			fields := local.of(ce, len(r.Fields)+len(r.Text)+len(r.Tags))
			add := func(name string, kind FieldKind, v recordValue, num float64, text string) {
				fv := fields.field(&s.cat, ce, name, kind)
				se := fv.se
				if !se.persisted.Load() && !fresh[se] {
					_ = b.Set(idKey(prefixSeries, se.id), encodeSeries(ce.id, kind, name), nil)
					if fresh == nil {
						fresh = map[*series]bool{}
					}
					fresh[se] = true
				}
				if hd != nil {
					if fv.hour != g {
						fv.hour, fv.col = g, hd.column(se.id, kind == Text, g.readings)
					}
					fv.col.push(r.Time.UnixNano(), cell{num: v.num, text: v.text, isText: v.isText})
					vals = append(vals, v)
					return
				}
				v.series = se.id
				vals = append(vals, v)
				if up != nil {
					up.add(se, r.Time, num, text)
				}
			}
			for name, v := range r.Fields {
				if math.IsNaN(v) || math.IsInf(v, 0) || name == "" {
					continue
				}
				add(name, Numeric, recordValue{num: v}, v, "")
			}
			for name, v := range joinText(r.Text, r.Tags) {
				if name == "" || !utf8.ValidString(v) {
					continue
				}
				add(name, Text, recordValue{text: v, isText: true}, 0, v)
			}
			if len(vals) == 0 {
				continue
			}
			if hd != nil {
				direct.readings++
				direct.points += int64(len(vals))
				continue
			}
			readings++
			points += int64(len(vals))
			rec = appendRecord(rec[:0], vals)
			_ = b.Merge(pointKey(prefixRecent, ce.id, r.Time), rec, nil)
			touched = append(touched, chanHour{ce.id, hourOf(r.Time)})
		}
	}
	for _, hd := range direct.hours {
		// The catalogue needs each series' first and last value of the hour.
		hd.settle()
		for id, col := range hd {
			if se := s.cat.byID(id); se != nil && col.len() > 0 {
				for _, i := range []int{0, col.len() - 1} {
					c := col.cell(i)
					direct.updates.add(se, timeOf(col.times[i]), c.num, c.text)
				}
			}
		}
	}
	wo := pebble.Sync
	if direct.hours != nil {
		wo = pebble.NoSync // commit syncs after the direct seal
	}
	if err := b.Commit(wo); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			s.diskFull.Store(true)
			return directWrite{}, fmt.Errorf("store: write %d readings: %w (%w)", readings, ErrDiskFull, err)
		}
		return directWrite{}, fmt.Errorf("store: write %d readings: %w", readings, err)
	}
	s.markDirty(touched) // before sealMu is let go: the seal must see them
	direct.recordsDone = func() {
		for _, ce := range freshChans {
			ce.persisted.Store(true)
		}
		for se := range fresh {
			se.persisted.Store(true)
		}
		s.cat.apply(updates.list)
		s.readings.Add(readings)
		s.points.Add(points)
	}
	if direct.hours == nil { // the commit synced
		direct.recordsDone()
	}
	return direct, nil
}

// joinText returns text fields and tags as one map: tags are stored as
// text series of their own name, like the tag columns of Kotori's export.
func joinText(text, tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return text
	}
	out := make(map[string]string, len(text)+len(tags))
	for k, v := range text {
		out[k] = v
	}
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// Channels returns the catalogue, sorted by channel.
func (s *Store) Channels() []ChannelInfo { return s.cat.list() }

// ChannelInfo returns one channel's catalogue entry.
func (s *Store) ChannelInfo(ch Channel) (ChannelInfo, bool) { return s.cat.info(ch) }

// Points returns the numeric points of one field in [from, to], oldest
// first. A field the channel does not have yields no points and no error.
func (s *Store) Points(ctx context.Context, ch Channel, field string, from, to time.Time) ([]Point, error) {
	var out []Point
	err := s.scan(ctx, ch, field, Numeric, from, to, func(t int64, c cell) {
		out = append(out, Point{timeOf(t), c.num})
	})
	return dedupe(out, func(p Point) time.Time { return p.Time }), err
}

// TextPoints returns the text values of one field in [from, to], oldest first.
func (s *Store) TextPoints(ctx context.Context, ch Channel, field string, from, to time.Time) ([]TextPoint, error) {
	var out []TextPoint
	err := s.scan(ctx, ch, field, Text, from, to, func(t int64, c cell) {
		out = append(out, TextPoint{timeOf(t), c.text})
	})
	return dedupe(out, func(p TextPoint) time.Time { return p.Time }), err
}

// dedupe sorts points by time and keeps the last of equal times: sealed
// chunks come first and unsealed records after them, so a late record wins.
func dedupe[P any](ps []P, at func(P) time.Time) []P {
	sort.SliceStable(ps, func(i, j int) bool { return at(ps[i]).Before(at(ps[j])) })
	out := ps[:0]
	for i, p := range ps {
		if i+1 < len(ps) && at(ps[i+1]).Equal(at(p)) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// scan calls fn for every value of one series in [from, to]: first from
// the sealed chunks, then from the records not sealed yet.
func (s *Store) scan(ctx context.Context, ch Channel, field string, kind FieldKind, from, to time.Time, fn func(int64, cell)) error {
	if s.closed.Load() {
		return ErrClosed
	}
	chanID, ok := s.cat.channelID(ch)
	id, ok2 := s.cat.seriesID(ch, field, kind)
	if !ok || !ok2 || to.Before(from) {
		return nil
	}
	return s.scanChannel(ctx, chanID, map[uint32]bool{id: true}, from, to, func(_ uint32, t int64, c cell) { fn(t, c) })
}

// scanChannel calls fn for every value of the wanted series of a channel
// in [from, to].
func (s *Store) scanChannel(ctx context.Context, chanID uint32, want map[uint32]bool, from, to time.Time, fn func(uint32, int64, cell)) error {
	lo, hi := from.UnixNano(), to.UnixNano()
	within := func(series uint32, t int64, c cell) {
		if t >= lo && t <= hi {
			fn(series, t, c)
		}
	}
	// Chunks start on the hour: the one holding "from" starts before it.
	lower, upper := rangeBounds(prefixChunk, chanID, hourOf(from), to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			it.Close()
			return err
		}
		v, err := it.ValueAndErr()
		if err == nil {
			err = s.codec.decodeChunk(v, want, within)
		}
		if err != nil {
			it.Close()
			return fmt.Errorf("store: chunk of channel %d at %s: %w", chanID, keyTime(it.Key()), err)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	lower, upper = rangeBounds(prefixRecent, chanID, from, to)
	it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		t := keyTime(it.Key()).UnixNano()
		if err := decodeRecord(v, func(rv recordValue) {
			if want == nil || want[rv.series] {
				fn(rv.series, t, cell{num: rv.num, text: rv.text, isText: rv.isText})
			}
		}); err != nil {
			return fmt.Errorf("store: record of channel %d at %s: %w", chanID, timeOf(t), err)
		}
	}
	return it.Error()
}

// Downsample summarises one numeric field in [from, to] into at most
// maxPoints buckets of equal width, oldest first; empty buckets are left
// out. It reads the coarsest data that gives that many buckets: daily
// rollups for wide buckets, hourly rollups, or the points themselves, and
// the points of hours not sealed yet. The width is returned.
func (s *Store) Downsample(ctx context.Context, ch Channel, field string, from, to time.Time, maxPoints int) ([]Bucket, time.Duration, error) {
	out, width, err := s.DownsampleFields(ctx, ch, []string{field}, from, to, maxPoints)
	return out[field], width, err
}

// DownsampleFields is Downsample for several numeric fields of a channel:
// each chunk and rollup block is read once for all of them, which is what
// a dashboard wants. Fields the channel does not have are left out.
func (s *Store) DownsampleFields(ctx context.Context, ch Channel, fields []string, from, to time.Time, maxPoints int) (map[string][]Bucket, time.Duration, error) {
	if maxPoints < 1 {
		maxPoints = 1
	}
	width := to.Sub(from) / time.Duration(maxPoints)
	if width < time.Second {
		width = time.Second
	}
	if s.closed.Load() {
		return nil, width, ErrClosed
	}
	out := map[string][]Bucket{}
	chanID, ok := s.cat.channelID(ch)
	if !ok || to.Before(from) {
		return out, width, nil
	}
	want := map[uint32]bool{}
	names := map[uint32]string{}
	for _, f := range fields {
		if id, ok := s.cat.seriesID(ch, f, Numeric); ok {
			want[id], names[id] = true, f
		}
	}
	if len(want) == 0 {
		return out, width, nil
	}
	var in map[uint32][]Bucket
	var err error
	if width >= resHour.width {
		in, err = s.rolledUp(ctx, chanID, want, from, to, width >= resDay.width)
	} else {
		in, err = s.pointBuckets(ctx, chanID, want, from, to)
	}
	if err != nil {
		return nil, width, err
	}
	for id, bs := range in {
		out[names[id]] = regroup(bs, from, to, width)
	}
	return out, width, nil
}

// regroup merges buckets (sorted by start) into buckets of width aligned on
// from.
func regroup(in []Bucket, from, to time.Time, width time.Duration) []Bucket {
	var out, group []Bucket
	var groupStart time.Time
	for _, b := range in {
		if b.Start.Before(from) || b.Start.After(to) {
			continue
		}
		start := from.Add(b.Start.Sub(from) / width * width)
		if len(group) > 0 && !start.Equal(groupStart) {
			out = append(out, mergeBuckets(groupStart, group))
			group = group[:0]
		}
		groupStart = start
		group = append(group, b)
	}
	if len(group) > 0 {
		out = append(out, mergeBuckets(groupStart, group))
	}
	return out
}

// pointBuckets reads the points of the wanted series, each as a bucket of
// one.
func (s *Store) pointBuckets(ctx context.Context, chanID uint32, want map[uint32]bool, from, to time.Time) (map[uint32][]Bucket, error) {
	pts := map[uint32][]Point{}
	err := s.scanChannel(ctx, chanID, want, from, to, func(id uint32, t int64, c cell) {
		if !c.isText {
			pts[id] = append(pts[id], Point{timeOf(t), c.num})
		}
	})
	out := map[uint32][]Bucket{}
	for id, ps := range pts {
		ps = dedupe(ps, func(p Point) time.Time { return p.Time })
		bs := make([]Bucket, len(ps))
		for i, p := range ps {
			bs[i] = Bucket{Start: p.Time, Min: p.Value, Max: p.Value, Sum: p.Value, Count: 1, First: p.Value, Last: p.Value}
		}
		out[id] = bs
	}
	return out, err
}

// rolledUp returns hourly (or daily) buckets of the wanted series: from the
// rollups of sealed hours, and computed from the points of unsealed ones.
func (s *Store) rolledUp(ctx context.Context, chanID uint32, want map[uint32]bool, from, to time.Time, daily bool) (map[uint32][]Bucket, error) {
	dirty := s.dirtyHours(chanID, hourOf(from), to)
	dirtyDay := map[time.Time]bool{}
	for h := range dirty {
		dirtyDay[dayOf(h)] = true
	}
	out := map[uint32][]Bucket{}
	if daily {
		days, err := s.readRollups(chanID, resDay, dayOf(from), to, want)
		if err != nil {
			return nil, err
		}
		for id, bs := range days {
			for _, b := range bs {
				if !dirtyDay[b.Start] {
					out[id] = append(out[id], b)
				}
			}
		}
	}
	// Hourly rollups: for everything, or for the days with unsealed hours.
	hourFrom := hourOf(from)
	if daily {
		if len(dirtyDay) == 0 {
			hourFrom = to.Add(time.Hour) // none needed
		} else {
			first := to
			for d := range dirtyDay {
				if d.Before(first) {
					first = d
				}
			}
			hourFrom = maxTime(first, hourFrom)
		}
	}
	if !hourFrom.After(to) {
		hours, err := s.readRollups(chanID, resHour, hourFrom, to, want)
		if err != nil {
			return nil, err
		}
		if !daily && len(dirty) == 0 {
			out = hours // all of them, as read: no copy
		} else {
			for id, bs := range hours {
				for _, b := range bs {
					if dirty[b.Start] || (daily && !dirtyDay[dayOf(b.Start)]) {
						continue
					}
					out[id] = append(out[id], b)
				}
			}
		}
	}
	for h := range dirty {
		pts, err := s.pointBuckets(ctx, chanID, want, h, h.Add(time.Hour-1))
		if err != nil {
			return nil, err
		}
		for id, bs := range pts {
			if len(bs) == 0 {
				continue
			}
			vals := make([]float64, len(bs))
			for i, b := range bs {
				vals[i] = b.First
			}
			out[id] = append(out[id], bucketOf(h, vals))
		}
	}
	for id := range out {
		bs := out[id]
		sort.Slice(bs, func(i, j int) bool { return bs[i].Start.Before(bs[j].Start) })
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// readRollups returns the buckets of the wanted series in [from, to].
func (s *Store) readRollups(chanID uint32, r resolution, from, to time.Time, want map[uint32]bool) (map[uint32][]Bucket, error) {
	out := map[uint32][]Bucket{}
	// At most one bucket per width in [from, to]: sized once, a year of
	// hourly buckets is not copied over and over as it grows.
	capacity := int(to.Sub(from)/r.width) + 1
	if capacity > 1<<16 {
		capacity = 1 << 16
	}
	lower := rollupKey(chanID, r, r.blockStart(from))
	upper := incrementKey(rollupKey(chanID, r, r.blockStart(to)))
	err := iterateRange(s.db, lower, upper, func(k, v []byte) error {
		start := decodeTime(binary.BigEndian.Uint64(k[6:14]))
		blk, err := s.codec.decodeRollup(v, r, start, want)
		if err != nil {
			return fmt.Errorf("store: rollup of channel %d at %s: %w", chanID, start, err)
		}
		for series, slots := range blk {
			for _, b := range slots {
				if b.Count > 0 && !b.Start.Before(from) && !b.Start.After(to) {
					if out[series] == nil {
						out[series] = make([]Bucket, 0, capacity)
					}
					out[series] = append(out[series], b)
				}
			}
		}
		return nil
	})
	return out, err
}

// Stats returns the store's counters and size.
func (s *Store) Stats() Stats {
	chans, series := s.cat.counts()
	st := Stats{
		ReadingsStored: s.readings.Load(),
		PointsStored:   s.points.Load(),
		ErrorsRecorded: s.errlog.recorded.Load(),
		Channels:       chans,
		Series:         series,
		LogSyncs:       s.wal.heldSyncs.Load() + s.wal.flushSyncs.Load(),
	}
	if !s.closed.Load() {
		st.DiskBytes = s.db.Metrics().DiskSpaceUsage()
	}
	return st
}

// RecordError adds a failure to the error log (deduplicated by kind and
// channel, or kind and source where there is no channel). It never fails and
// never blocks on disk: the log is persisted in the background.
func (s *Store) RecordError(e ErrorEntry) { s.errlog.record(e) }

// ErrorFilter selects error-log entries; empty fields match everything.
type ErrorFilter struct {
	Channel string
	Kind    string
}

// Errors returns the error-log entries that match f, most recently seen first.
func (s *Store) Errors(f ErrorFilter) []ErrorEntry { return s.errlog.list(f) }

// pebbleLogger routes Pebble's messages into slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}

// compactOnClose flushes the memtable and compacts the records' key
// range, so that sealed records (deleted by range tombstones) leave the
// disk at a graceful stop.
func (s *Store) compactOnClose() error {
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact(context.Background(), []byte{prefixRecent}, []byte{prefixRecent + 1}, false)
}

// tidy leaves a closed store's directory with its data and little else:
// the ballast goes (the next Open puts it back), and so do Pebble's
// write-ahead logs, which after the final flush hold nothing that is not
// in the tables. The logs older than the newest are obsolete, kept only
// for reuse; the newest was started by the flush and holds no record, but
// may be an old log reused, full of stale bytes, so it is emptied.
func (s *Store) tidy() {
	os.Remove(filepath.Join(s.opts.Dir, ballastName))
	logs, _ := filepath.Glob(filepath.Join(s.opts.Dir, "*.log"))
	newest, newestNum := "", uint64(0)
	for _, l := range logs {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(l), ".log"), 10, 64)
		if err != nil {
			continue
		}
		if newest == "" || n > newestNum {
			newest, newestNum = l, n
		}
	}
	for _, l := range logs {
		if _, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(l), ".log"), 10, 64); err == nil && l != newest {
			os.Remove(l)
		}
	}
	if newest != "" {
		os.Truncate(newest, 0)
	}
}
