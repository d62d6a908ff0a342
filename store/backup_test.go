package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestBackupWhileWritingAndRestore takes a backup while writers are busy,
// restores it elsewhere, and finds every reading written before the backup
// started.
func TestBackupWhileWritingAndRestore(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var rs []Reading
	for i := 0; i < 500; i++ {
		rs = append(rs, Reading{Channel: hive, Time: t0.Add(time.Duration(i) * time.Minute), Fields: map[string]float64{"weight": float64(i) / 10}})
	}
	if err := s.Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	s.Seal(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.Write(ctx, []Reading{{Channel: Channel{"r", "n", "g", "busy"}, Time: time.Now(), Fields: map[string]float64{"x": float64(i)}}})
		}
	}()
	var buf bytes.Buffer
	if err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if entries, _ := filepath.Glob(filepath.Join(dir, "backup-*")); len(entries) != 0 {
		t.Errorf("backup left %v behind", entries)
	}
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Errorf("second open of a store in use: %v, want ErrLocked", err)
	}

	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	os.WriteFile(archive, buf.Bytes(), 0o644)
	target := filepath.Join(t.TempDir(), "restored")
	os.MkdirAll(target, 0o755)
	os.WriteFile(filepath.Join(target, "old-file"), []byte("x"), 0o644)
	kept, err := Restore(archive, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(kept, "old-file")); err != nil {
		t.Errorf("the replaced data directory was not kept: %v", err)
	}
	r := openTest(t, target, Options{})
	pts, err := r.Points(ctx, hive, "weight", t0, t0.Add(1000*time.Minute))
	if err != nil || len(pts) != 500 || pts[499].Value != 49.9 {
		t.Errorf("restored store has %d points (%v)", len(pts), err)
	}
	if _, err := Restore(filepath.Join(t.TempDir(), "nothing.tar.gz"), target); err == nil {
		t.Error("restoring a missing file succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	os.WriteFile(bad, []byte("not a tarball"), 0o644)
	if _, err := Restore(bad, filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("restoring garbage succeeded")
	}
}
