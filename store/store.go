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
	"sort"
	"sync"
	"sync/atomic"
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
	// concurrent writers share one fsync). A positive interval makes Write
	// return once the data is in the OS and syncs the log on that interval:
	// fewer SD-card writes, at the cost of up to that much data on a power
	// cut. A crash of the process alone loses nothing either way.
	SyncInterval time.Duration
	// ErrorLogMax bounds the number of error-log entries (default 1000).
	ErrorLogMax int
	// ErrorLogMaxAge drops error-log entries last seen longer ago (default 30 days).
	ErrorLogMaxAge time.Duration
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
	opts      Options
	db        *pebble.DB
	writeOpts *pebble.WriteOptions
	log       *slog.Logger

	cat     catalogue
	errlog  *errorLog
	commits *committer

	readings atomic.Int64
	points   atomic.Int64

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
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	db, err := pebble.Open(opts.Dir, &pebble.Options{
		Cache:        cache,
		MemTableSize: uint64(opts.MemTableBytes),
		MaxOpenFiles: opts.MaxOpenFiles,
		Logger:       pebbleLogger{opts.Logger.With("component", "pebble")},
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", opts.Dir, err)
	}
	s := &Store{
		opts:      opts,
		db:        db,
		writeOpts: pebble.Sync,
		log:       opts.Logger,
		stop:      make(chan struct{}),
	}
	if opts.SyncInterval > 0 {
		s.writeOpts = pebble.NoSync
	}
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.cat.load(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load catalogue: %w", err)
	}
	s.errlog, err = openErrorLog(db, opts.ErrorLogMax, opts.ErrorLogMaxAge, opts.Now)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load error log: %w", err)
	}
	s.commits = newCommitter(maxQueuedReadings, commitWorkers, s.commit)
	s.bg.Add(1)
	go s.background()
	return s, nil
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
	defer closer.Close()
	if string(v) != formatVersion {
		return fmt.Errorf("store: data directory has format %q, this Apiary reads %q", v, formatVersion)
	}
	return nil
}

// background flushes the error log and, in interval-sync mode, syncs the
// write-ahead log.
func (s *Store) background() {
	defer s.bg.Done()
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	var syncC <-chan time.Time
	if s.opts.SyncInterval > 0 {
		t := time.NewTicker(s.opts.SyncInterval)
		defer t.Stop()
		syncC = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-flush.C:
			if err := s.errlog.flush(); err != nil {
				s.log.Warn("error log not persisted", "err", err)
			}
		case <-syncC:
			if err := s.db.LogData(nil, pebble.Sync); err != nil {
				s.log.Warn("periodic sync failed", "err", err)
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
		err = errors.Join(s.errlog.flush(), s.db.LogData(nil, pebble.Sync), s.db.Close())
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
// nobody waits for (MQTT QoS 0): they are as durable as Write's a commit
// later, without holding up the sender for the fsync. The queue is
// bounded: WriteAsync blocks while it is full.
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

// commit writes the readings of a group of requests in one batch.
func (s *Store) commit(reqs []*writeReq) error {
	b := s.db.NewBatch()
	defer b.Close()
	var updates []seriesUpdate
	var points, readings int64
	var fresh []*series
	var freshChans []*chanEntry
	for _, req := range reqs {
		for _, r := range req.readings {
			readings++
			ce := s.cat.channel(r.Channel)
			if !ce.persisted.Load() {
				_ = b.Set(idKey(prefixChannel, ce.id), encodeChannel(ce.ch), nil)
				freshChans = append(freshChans, ce)
			}
			for name, v := range r.Fields {
				if math.IsNaN(v) || math.IsInf(v, 0) || name == "" {
					continue
				}
				se := s.cat.series(ce, name, Numeric)
				if !se.persisted.Load() {
					_ = b.Set(idKey(prefixSeries, se.id), encodeSeries(ce.id, Numeric, name), nil)
					fresh = append(fresh, se)
				}
				var val [8]byte
				binary.BigEndian.PutUint64(val[:], math.Float64bits(v))
				_ = b.Set(pointKey(prefixNumeric, se.id, r.Time), val[:], nil)
				updates = append(updates, seriesUpdate{se, r.Time, v, ""})
				points++
			}
			for name, v := range joinText(r.Text, r.Tags) {
				if name == "" || !utf8.ValidString(v) {
					continue
				}
				se := s.cat.series(ce, name, Text)
				if !se.persisted.Load() {
					_ = b.Set(idKey(prefixSeries, se.id), encodeSeries(ce.id, Text, name), nil)
					fresh = append(fresh, se)
				}
				_ = b.Set(pointKey(prefixText, se.id, r.Time), []byte(v), nil)
				updates = append(updates, seriesUpdate{se, r.Time, 0, v})
				points++
			}
		}
	}
	if err := b.Commit(s.writeOpts); err != nil {
		return fmt.Errorf("store: write %d readings: %w", readings, err)
	}
	for _, ce := range freshChans {
		ce.persisted.Store(true)
	}
	for _, se := range fresh {
		se.persisted.Store(true)
	}
	s.cat.apply(updates)
	s.readings.Add(readings)
	s.points.Add(points)
	return nil
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
	err := s.scan(ctx, ch, field, Numeric, from, to, func(t time.Time, v []byte) {
		out = append(out, Point{t, math.Float64frombits(binary.BigEndian.Uint64(v))})
	})
	return out, err
}

// TextPoints returns the text values of one field in [from, to], oldest first.
func (s *Store) TextPoints(ctx context.Context, ch Channel, field string, from, to time.Time) ([]TextPoint, error) {
	var out []TextPoint
	err := s.scan(ctx, ch, field, Text, from, to, func(t time.Time, v []byte) {
		out = append(out, TextPoint{t, string(v)})
	})
	return out, err
}

// Downsample summarises one numeric field in [from, to] into at most
// maxPoints buckets of equal width, oldest first; empty buckets are left out.
func (s *Store) Downsample(ctx context.Context, ch Channel, field string, from, to time.Time, maxPoints int) ([]Bucket, time.Duration, error) {
	if maxPoints < 1 {
		maxPoints = 1
	}
	width := to.Sub(from) / time.Duration(maxPoints)
	if width < time.Second {
		width = time.Second
	}
	var out []Bucket
	err := s.scan(ctx, ch, field, Numeric, from, to, func(t time.Time, raw []byte) {
		v := math.Float64frombits(binary.BigEndian.Uint64(raw))
		start := from.Add(t.Sub(from) / width * width)
		if n := len(out); n > 0 && out[n-1].Start.Equal(start) {
			b := &out[n-1]
			b.Min = math.Min(b.Min, v)
			b.Max = math.Max(b.Max, v)
			b.Sum += v
			b.Count++
			b.Last = v
			return
		}
		out = append(out, Bucket{Start: start, Min: v, Max: v, Sum: v, Count: 1, First: v, Last: v})
	})
	return out, width, err
}

func (s *Store) scan(ctx context.Context, ch Channel, field string, kind FieldKind, from, to time.Time, fn func(time.Time, []byte)) error {
	if s.closed.Load() {
		return ErrClosed
	}
	id, ok := s.cat.seriesID(ch, field, kind)
	if !ok || to.Before(from) {
		return nil
	}
	prefix := prefixNumeric
	if kind == Text {
		prefix = prefixText
	}
	lower, upper := rangeBounds(prefix, id, from, to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("store: scan %s %s: %w", ch, field, err)
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
			return fmt.Errorf("store: scan %s %s: %w", ch, field, err)
		}
		fn(keyTime(it.Key()), v)
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: scan %s %s: %w", ch, field, err)
	}
	return nil
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

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
