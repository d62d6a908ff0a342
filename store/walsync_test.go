package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
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
		name         string
		interval     time.Duration
		write        bool // Write (a waiting writer) rather than WriteAsync
		wantSyncNow  bool
		wantDeferred bool
	}{
		{name: "always, Write", write: true, wantSyncNow: true},
		{name: "always, WriteAsync", wantDeferred: true},
		{name: "interval, Write", interval: time.Hour, write: true, wantDeferred: true},
		{name: "interval, WriteAsync", interval: time.Hour, wantDeferred: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{SyncInterval: tt.interval})
			if err := s.wal.flush(); err != nil {
				t.Fatal(err)
			}
			before := s.wal.syncs.Load()
			for i := range 20 {
				if tt.write {
					if err := s.Write(context.Background(), reading(i)); err != nil {
						t.Fatal(err)
					}
				} else {
					s.WriteAsync(reading(i), func(err error) { t.Error(err) })
				}
			}
			waitStored(t, s, 20)
			synced, dirty := s.wal.syncs.Load()-before, s.wal.dirtyLogs()
			if tt.wantSyncNow && (synced == 0 || dirty != 0) {
				t.Errorf("%d log syncs and %d logs with a deferred sync after 20 waiting writes, want syncs and none deferred", synced, dirty)
			}
			if tt.wantDeferred && (synced != 0 || dirty == 0) {
				t.Errorf("%d log syncs and %d logs with a deferred sync, want none and a deferred one", synced, dirty)
			}
			if err := s.wal.flush(); err != nil {
				t.Fatal(err)
			}
			if tt.wantDeferred && (s.wal.syncs.Load()-before != 1 || s.wal.dirtyLogs() != 0) {
				t.Errorf("flush: %d syncs, %d logs still deferred, want one sync and none", s.wal.syncs.Load()-before, s.wal.dirtyLogs())
			}
		})
	}
}

func TestUnwaitedWritesReachDiskWithinASecond(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	s.WriteAsync([]Reading{{Channel: hive, Time: time.Now(), Fields: map[string]float64{"weight": 1}}}, nil)
	waitStored(t, s, 1)
	deadline := time.Now().Add(unackedSyncEvery + 5*time.Second)
	for s.wal.dirtyLogs() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a deferred log sync is still pending %v after the write", unackedSyncEvery+5*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
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
			cmd := exec.Command(os.Args[0], "-test.run=^TestCommittedSurvivesKill$")
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
	// A first, waited write in "always" mode syncs the log; what follows
	// is what must survive unsynced.
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
