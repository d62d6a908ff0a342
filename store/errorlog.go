package store

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
)

// Bounds on the text an error entry keeps, whatever the caller passes.
const (
	maxErrorMessage = 1024
	maxErrorExcerpt = 256
	maxErrorSource  = 512
)

// errorLog keeps the deduplicated error log in memory and persists changed
// entries in the background, so that a flood of bad messages costs a map
// update each, not a disk write each, and memory stays bounded by max.
type errorLog struct {
	db       *pebble.DB
	max      int
	maxAge   time.Duration
	now      func() time.Time
	recorded atomic.Int64

	mu      sync.Mutex
	entries map[string]*ErrorEntry
	dirty   map[string]bool // key -> true: write; false: delete
	flushMu sync.Mutex
}

func openErrorLog(db *pebble.DB, max int, maxAge time.Duration, now func() time.Time) (*errorLog, error) {
	l := &errorLog{db: db, max: max, maxAge: maxAge, now: now,
		entries: make(map[string]*ErrorEntry), dirty: make(map[string]bool)}
	var unreadable [][]byte
	err := iterate(db, prefixError, func(k, v []byte) error {
		var e ErrorEntry
		if err := json.Unmarshal(v, &e); err != nil {
			unreadable = append(unreadable, append([]byte(nil), k...))
			return nil
		}
		l.entries[dedupKey(e)] = &e
		return nil
	})
	if err != nil {
		return nil, err
	}
	// An unreadable row is dropped rather than failing Open: the error log
	// is a diagnostic aid, not data.
	for _, k := range unreadable {
		if err := db.Delete(k, pebble.NoSync); err != nil {
			return nil, err
		}
	}
	l.prune()
	return l, nil
}

// dedupKey is kind and channel, or kind and source for messages that never
// reached a channel (a topic too short to address one, say).
func dedupKey(e ErrorEntry) string {
	if e.Channel != "" {
		return e.Kind + "\x00c\x00" + e.Channel
	}
	return e.Kind + "\x00s\x00" + e.Source
}

func storageKey(dedup string) string {
	h := fnv.New64a()
	h.Write([]byte(dedup))
	return string(binary.BigEndian.AppendUint64(nil, h.Sum64()))
}

func (l *errorLog) record(e ErrorEntry) {
	l.recorded.Add(1)
	now := l.now().UTC()
	if e.Last.IsZero() {
		e.Last = now
	}
	e.Message = clip(e.Message, maxErrorMessage)
	e.Excerpt = clip(e.Excerpt, maxErrorExcerpt)
	e.Source = clip(e.Source, maxErrorSource)
	e.Channel = clip(e.Channel, maxErrorSource)
	e.Client = clip(e.Client, maxErrorSource)
	key := dedupKey(e)

	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.entries[key]; old != nil {
		old.Count++
		old.Last = e.Last
		old.Message, old.Excerpt, old.Source, old.Client = e.Message, e.Excerpt, e.Source, e.Client
		l.dirty[key] = true
		return
	}
	if len(l.entries) >= l.max {
		l.evictOldestLocked()
	}
	e.First = e.Last
	e.Count = 1
	l.entries[key] = &e
	l.dirty[key] = true
}

func (l *errorLog) evictOldestLocked() {
	var oldestKey string
	var oldest time.Time
	for k, e := range l.entries {
		if oldestKey == "" || e.Last.Before(oldest) {
			oldestKey, oldest = k, e.Last
		}
	}
	delete(l.entries, oldestKey)
	l.dirty[oldestKey] = false
}

// prune drops entries last seen longer than maxAge ago.
func (l *errorLog) prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	cutoff := l.now().Add(-l.maxAge)
	for k, e := range l.entries {
		if e.Last.Before(cutoff) {
			delete(l.entries, k)
			l.dirty[k] = false
		}
	}
	for len(l.entries) > l.max {
		l.evictOldestLocked()
	}
}

// flush writes the changed entries. Errors are returned, and the entries
// stay dirty for the next try.
func (l *errorLog) flush() error {
	l.prune()
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	if len(l.dirty) == 0 {
		l.mu.Unlock()
		return nil
	}
	b := l.db.NewBatch()
	defer b.Close()
	done := l.dirty
	l.dirty = make(map[string]bool)
	for k, write := range done {
		sk := append([]byte{prefixError}, storageKey(k)...)
		if e := l.entries[k]; write && e != nil {
			v, _ := json.Marshal(e)
			_ = b.Set(sk, v, nil)
		} else {
			_ = b.Delete(sk, nil)
		}
	}
	l.mu.Unlock()
	if err := b.Commit(pebble.NoSync); err != nil {
		l.mu.Lock()
		for k, w := range done {
			if _, again := l.dirty[k]; !again {
				l.dirty[k] = w
			}
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

func (l *errorLog) list(f ErrorFilter) []ErrorEntry {
	l.mu.Lock()
	out := make([]ErrorEntry, 0, len(l.entries))
	for _, e := range l.entries {
		if (f.Channel == "" || e.Channel == f.Channel) && (f.Kind == "" || e.Kind == f.Kind) {
			out = append(out, *e)
		}
	}
	l.mu.Unlock()
	// Most recent first; ties by kind then source, so the order is stable.
	sort.Slice(out, func(i, j int) bool { return entryLess(out[i], out[j]) })
	return out
}

func entryLess(a, b ErrorEntry) bool {
	if !a.Last.Equal(b.Last) {
		return a.Last.After(b.Last)
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Source < b.Source
}

// clip shortens s to at most n bytes of valid UTF-8, marking the cut.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
