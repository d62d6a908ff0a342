package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// dirtyLogs counts the log files with a deferred sync.
func (w *walSyncer) dirtyLogs() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, f := range w.files {
		f.mu.Lock()
		if f.dirty {
			n++
		}
		f.mu.Unlock()
	}
	return n
}

// waitStored waits until the store counts n readings.
func waitStored(t *testing.T, s *Store, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().ReadingsStored < n {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d readings, want %d", s.Stats().ReadingsStored, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLogSyncsFollowWaitingWriters(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	reading := func(i int) []Reading {
		return []Reading{{Channel: hive, Time: t0.Add(time.Duration(i) * time.Second), Fields: map[string]float64{"weight": float64(i)}}}
	}
	tests := []struct {
		name     string
		interval time.Duration
		write    bool // Write (a waiting writer) rather than WriteAsync
		wantSync bool // a real sync for each write, none deferred
	}{
		{name: "always, Write", write: true, wantSync: true},
		{name: "always, WriteAsync"},
		{name: "interval, Write", interval: time.Hour, write: true},
		{name: "interval, WriteAsync", interval: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{SyncInterval: tt.interval})
			if err := s.wal.flush(); err != nil {
				t.Fatal(err)
			}
			before := s.wal.heldSyncs.Load()
			for i := range 20 {
				held := s.wal.heldSyncs.Load()
				if tt.write {
					if err := s.Write(context.Background(), reading(i)); err != nil {
						t.Fatal(err)
					}
				} else {
					s.WriteAsync(reading(i), func(err error) { t.Error(err) })
					waitStored(t, s, int64(i+1))
				}
				synced, dirty := s.wal.heldSyncs.Load()-held, s.wal.dirtyLogs()
				if tt.wantSync && (synced == 0 || dirty != 0) {
					t.Fatalf("write %d: %d log syncs, %d logs with a deferred sync; want a sync and none deferred", i, synced, dirty)
				}
				// A background flush may have synced the deferred sync
				// meanwhile; it never counts as a held sync.
				if !tt.wantSync && synced != 0 {
					t.Fatalf("write %d: %d log syncs for it, want it deferred", i, synced)
				}
			}
			if tt.wantSync && s.Stats().LogSyncs < 20 {
				t.Errorf("Stats().LogSyncs = %d after 20 waiting writes", s.Stats().LogSyncs)
			}
			if !tt.wantSync && s.wal.heldSyncs.Load() != before {
				t.Errorf("%d log syncs for writes nobody waited for", s.wal.heldSyncs.Load()-before)
			}
			if err := s.wal.flush(); err != nil {
				t.Fatal(err)
			}
			if n := s.wal.dirtyLogs(); n != 0 {
				t.Errorf("flush: %d logs still with a deferred sync", n)
			}
		})
	}
}

func TestUnwaitedWritesReachDiskWithinASecond(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	flushed := s.wal.flushSyncs.Load()
	s.WriteAsync([]Reading{{Channel: hive, Time: time.Now(), Fields: map[string]float64{"weight": 1}}}, nil)
	waitStored(t, s, 1)
	deadline := time.Now().Add(unackedSyncEvery + 5*time.Second)
	for s.wal.dirtyLogs() != 0 || s.wal.flushSyncs.Load() == flushed {
		if time.Now().After(deadline) {
			t.Fatalf("the write's deferred log sync has not run %v after it", unackedSyncEvery+5*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPowerCutKeepsHeldCommits: Pebble on a crashable in-memory FS behind
// walFS, with small memtables so that logs rotate, writers that hold the
// syncer and writers that do not, and a background flush; a crash clone
// keeps only what was synced. Every held commit that returned is there
// after it, and the database opens. (Without the holds, hundreds of keys
// are lost a round.)
func TestPowerCutKeepsHeldCommits(t *testing.T) {
	for round := range 4 {
		mem := vfs.NewCrashableMem()
		var w walSyncer
		db, err := pebble.Open("db", &pebble.Options{FS: walFS{FS: mem, dir: "db", syncer: &w}, MemTableSize: 256 << 10})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var acked []string
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range 4 {
			wg.Go(func() {
				val := make([]byte, 200)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("g%d-%06d", g, i)
					held := g%2 == 0
					release := func() {}
					if held {
						release = w.hold()
					}
					err := db.Set([]byte(key), val, pebble.Sync)
					release()
					if err != nil {
						return
					}
					if held {
						mu.Lock()
						acked = append(acked, key)
						mu.Unlock()
					}
					if g == 1 && i%50 == 0 {
						_ = w.flush()
					}
				}
			})
		}
		target := 500 + 700*round
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= target {
				break
			}
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		before := slices.Clone(acked)
		crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
		mu.Unlock()
		close(stop)
		wg.Wait()
		db.Close()

		db, err = pebble.Open("db", &pebble.Options{FS: crashed})
		if err != nil {
			t.Fatalf("round %d: open after the power cut: %v", round, err)
		}
		missing := 0
		for _, k := range before {
			_, closer, err := db.Get([]byte(k))
			if err != nil {
				missing++
				continue
			}
			closer.Close()
		}
		db.Close()
		if missing > 0 {
			t.Errorf("round %d: %d of %d acknowledged keys lost in the power cut", round, missing, len(before))
		}
	}
}

// failingFile fails its next SyncData when fail is set.
type failingFile struct {
	vfs.File
	fail bool
}

func (f *failingFile) SyncData() error {
	if f.fail {
		f.fail = false
		return errors.New("input/output error")
	}
	return nil
}

// TestFailedDeferredSyncFailsLaterSyncs: after an EIO, Linux may report
// the next fdatasync as a success though the pages never reached the disk.
func TestFailedDeferredSyncFailsLaterSyncs(t *testing.T) {
	var w walSyncer
	f := &walFile{File: &failingFile{fail: true}, syncer: &w}
	w.add(f)
	if err := f.sync(); err != nil { // deferred
		t.Fatal(err)
	}
	if err := w.flush(); err == nil {
		t.Fatal("flush of a failing file: no error")
	}
	release := w.hold()
	err := f.sync()
	release()
	if err == nil {
		t.Error("a held sync after a failed deferred one succeeded: a commit after a hole in the log would be acknowledged")
	}
	if err := w.flush(); err == nil {
		t.Error("the next flush succeeded")
	}
}

// TestFormatKeepsDeferredSyncsSafe: from FormatWALSyncChunks on, Pebble
// writes the synced offset into the log, and a tail lost with a deferred
// sync would read as corruption. Raising the format needs a look at
// walSyncer first.
func TestFormatKeepsDeferredSyncsSafe(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	if v := s.db.FormatMajorVersion(); v >= pebble.FormatWALSyncChunks {
		t.Errorf("store format is Pebble's %v: deferred log syncs are not safe with synced offsets in the log", v)
	}
}

// TestCommittedSurvivesKill: what a commit returned for is in the OS, so a
// SIGKILL right after it loses nothing, whether or not it was fsynced: a
// QoS 0 message with sync = "always", and any write with an interval (the
// log's next sync an hour away).
func TestCommittedSurvivesKill(t *testing.T) {
	if dir := os.Getenv("APIARY_KILL_DIR"); dir != "" {
		killedWriter(dir)
		return
	}
	tests := []struct {
		name, mode string
	}{
		{"always, WriteAsync", "async"},
		{"interval, Write", "interval"},
		{"interval, WriteAsync", "interval-async"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Under qemu-user without binfmt (.ci/run), the child runs
			// under the same emulator.
			argv := []string{os.Args[0], "-test.run=^TestCommittedSurvivesKill$"}
			if emu := os.Getenv("APIARY_TEST_EMULATOR"); emu != "" {
				argv = append([]string{emu}, argv...)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), "APIARY_KILL_DIR="+dir, "APIARY_KILL_MODE="+tt.mode)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("writer did not die by SIGKILL: %v\n%s", err, out)
			}
			s := openTest(t, dir, Options{})
			pts, err := s.Points(context.Background(), hive, "weight", time.Unix(0, 0), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != killedReadings {
				t.Errorf("after SIGKILL: %d readings, want the %d committed", len(pts), killedReadings)
			}
		})
	}
}

const killedReadings = 5

// killedWriter runs in the child: writes, waits for the commits, and kills
// itself before any periodic sync.
func killedWriter(dir string) {
	mode := os.Getenv("APIARY_KILL_MODE")
	opts := Options{Dir: dir}
	if mode != "async" {
		opts.SyncInterval = time.Hour
	}
	s, err := Open(opts)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	for i := range killedReadings {
		rs := []Reading{{Channel: hive, Time: t0.Add(time.Duration(i) * time.Second), Fields: map[string]float64{"weight": float64(i)}}}
		if mode == "interval" {
			if err := s.Write(context.Background(), rs); err != nil {
				fmt.Println(err)
				os.Exit(2)
			}
		} else {
			s.WriteAsync(rs, func(err error) { fmt.Println(err); os.Exit(2) })
		}
	}
	for s.Stats().ReadingsStored < killedReadings {
		time.Sleep(100 * time.Microsecond)
	}
	fmt.Println("written: " + strconv.Itoa(killedReadings))
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
