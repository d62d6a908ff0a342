package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestDiskFull fills a small tmpfs: writes fail with ErrDiskFull and a
// clear message, what was written before stays readable, and writing
// resumes once space is freed. Needs root to mount a tmpfs; skipped
// otherwise.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("!!! SKIPPED: cannot mount a tmpfs (%v: %s); the disk-full test needs root", err, out)
	}
	defer exec.Command("umount", "-l", mnt).Run()
	dir := filepath.Join(mnt, "data")
	s, err := Open(Options{Dir: dir, MinFreeBytes: 6 << 20, BallastBytes: 4 << 20, MemTableBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.checkDisk(true) // write the ballast now
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	write := func(i int) error {
		return s.Write(ctx, []Reading{{Channel: hive, Time: t0.Add(time.Duration(i) * time.Second),
			Fields: map[string]float64{"weight": float64(i), "temperature": 20}}})
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	// Fill the disk from outside, as a log file or a photo collection would.
	junk := filepath.Join(mnt, "junk")
	f, _ := os.Create(junk)
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	s.checkDisk(true)
	err = write(1)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write on a full disk: %v, want ErrDiskFull", err)
	}
	if pts, err := s.Points(ctx, hive, "weight", t0, t0.Add(time.Hour)); err != nil || len(pts) != 1 {
		t.Fatalf("reading while full: %v %v", pts, err)
	}
	os.Remove(junk)
	s.checkDisk(true)
	for i := 2; i < 50; i++ {
		if err := write(i); err != nil {
			t.Fatalf("write %d after space was freed: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir, MinFreeBytes: 6 << 20, BallastBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	pts, _ := s.Points(ctx, hive, "weight", t0, t0.Add(time.Hour))
	if len(pts) != 49 {
		t.Errorf("after reopen: %d points, want 49 (all acknowledged writes)", len(pts))
	}
}
