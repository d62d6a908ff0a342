package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// walSyncer decides, for each sync of Pebble's write-ahead log, whether it
// goes to the disk now (fdatasync) or is deferred to the next flush.
//
// Pebble has two kinds of commit: a synced one writes the log to the OS
// and fsyncs it; an unsynced one leaves the record in Pebble's memory until
// a later sync or a full 32 KiB block, so a crash of the process can lose
// it. Neither is what a write that nobody waits for wants: in the OS at
// once, so that a crash of the process loses nothing, and on the disk
// within a second, so that an SD card is not rewritten a page per message.
// So the store commits everything synced, and the log file's sync is real
// only while a writer that waits for durability is committing (hold);
// otherwise the file is marked dirty and flush, called every second (or on
// the sync interval), syncs it.
//
// A sync that a held commit waits for runs after its hold began (the
// commit queues its sync request after taking the hold), so it is real.
// Before it, the older log files' deferred syncs run, so that what is on
// the disk after a power cut is always a prefix of the log.
type walSyncer struct {
	held       atomic.Int32 // commits in progress that wait for durability
	heldSyncs  atomic.Int64 // fdatasyncs for held commits so far
	flushSyncs atomic.Int64 // deferred fdatasyncs done so far

	mu    sync.Mutex
	files []*walFile // open log files, oldest first
	// failed is the first failed fdatasync of a log file. It fails every
	// later sync: after an EIO, Linux may report the next fdatasync of the
	// same pages as a success though they never reached the disk, and a
	// commit acknowledged after it could be lost behind a hole in the log.
	// Pebble stops the same way on a failed sync of its own.
	failed error
}

// fail records err as the log's first failed sync and returns it.
func (w *walSyncer) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed == nil {
		w.failed = fmt.Errorf("store: write-ahead log sync failed; restart Apiary: %w", err)
	}
	return w.failed
}

// err is the log's first failed sync, or nil.
func (w *walSyncer) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// hold makes the log's syncs real until the returned release is called.
func (w *walSyncer) hold() (release func()) {
	w.held.Add(1)
	return func() { w.held.Add(-1) }
}

// flush syncs every log file with deferred syncs, oldest first.
func (w *walSyncer) flush() error {
	if err := w.err(); err != nil {
		return err
	}
	return w.syncBefore(nil)
}

// syncBefore syncs the log files with deferred syncs that are older than
// f (all of them when f is nil).
func (w *walSyncer) syncBefore(f *walFile) error {
	w.mu.Lock()
	files := w.files
	w.mu.Unlock()
	for _, g := range files {
		if g == f {
			break
		}
		if err := g.syncNow(); err != nil {
			return err
		}
	}
	return nil
}

func (w *walSyncer) add(f *walFile) {
	w.mu.Lock()
	w.files = append(w.files, f)
	w.mu.Unlock()
}

func (w *walSyncer) remove(f *walFile) {
	w.mu.Lock()
	// A new slice: syncBefore may be iterating over the old one.
	w.files = slices.DeleteFunc(slices.Clone(w.files), func(g *walFile) bool { return g == f })
	w.mu.Unlock()
}

// walFS is a vfs.FS whose write-ahead log files in dir sync as walSyncer
// decides.
type walFS struct {
	vfs.FS
	dir    string // the store's data directory, cleaned
	syncer *walSyncer
}

// isWAL reports whether a file that Pebble writes is a write-ahead log of
// the store (000123.log, or 000123-001.log of a failover log, in the data
// directory). Manifests, tables and options files always sync, and so do
// the log copies of a backup's checkpoint.
func (fs walFS) isWAL(name string) bool {
	base := fs.PathBase(name)
	return strings.HasSuffix(base, ".log") && base[0] >= '0' && base[0] <= '9' &&
		filepath.Clean(fs.PathDir(name)) == fs.dir
}

func (fs walFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !fs.isWAL(name) {
		return f, err
	}
	wf := &walFile{File: f, syncer: fs.syncer}
	fs.syncer.add(wf)
	return wf, nil
}

func (fs walFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return fs.wrap(name, f, err)
}

func (fs walFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	return fs.wrap(newname, f, err)
}

func (fs walFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, category, opts...)
	return fs.wrap(name, f, err)
}

func (fs walFS) Unwrap() vfs.FS { return fs.FS }

// walFile is a write-ahead log file whose syncs may be deferred.
type walFile struct {
	vfs.File
	syncer *walSyncer
	mu     sync.Mutex // serialises real syncs and the dirty flag
	dirty  bool       // a sync was deferred
}

func (f *walFile) Sync() error     { return f.sync() }
func (f *walFile) SyncData() error { return f.sync() }

// SyncTo is sync_file_range, which promises nothing about durability:
// Pebble calls it for its bytes-per-sync pacing. It is deferred like the
// rest, as a full sync.
func (f *walFile) SyncTo(length int64) (fullSync bool, err error) {
	return true, f.sync()
}

func (f *walFile) sync() error {
	if err := f.syncer.err(); err != nil {
		return err
	}
	if f.syncer.held.Load() == 0 {
		f.mu.Lock()
		f.dirty = true
		f.mu.Unlock()
		return nil
	}
	if err := f.syncer.syncBefore(f); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncData(&f.syncer.heldSyncs)
}

// syncNow syncs the file if a sync was deferred.
func (f *walFile) syncNow() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dirty {
		return nil
	}
	return f.syncData(&f.syncer.flushSyncs)
}

// syncData is the fdatasync, counted in count; f.mu is held.
func (f *walFile) syncData(count *atomic.Int64) error {
	count.Add(1)
	if err := f.File.SyncData(); err != nil {
		return f.syncer.fail(err)
	}
	f.dirty = false
	return nil
}

// Close syncs what was deferred first: a log that Pebble is done with is
// on the disk before the next one is.
func (f *walFile) Close() error {
	err := f.syncNow()
	f.syncer.remove(f)
	return errors.Join(err, f.File.Close())
}
