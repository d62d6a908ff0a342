package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrDiskFull is returned by writes while the data directory's file system
// has less free space than Options.MinFreeBytes. Nothing is written, so
// nothing is corrupted; writes resume by themselves once space is freed.
var ErrDiskFull = errors.New("store: disk full")

const ballastName = "ballast"

// The store keeps a ballast file: space it can give back when the disk
// fills, so that Pebble can still flush, compact and close cleanly.

// checkDisk updates the disk-full state from the file system's free space,
// and (with ballast) puts the ballast back once there is room again.
func (s *Store) checkDisk(ballast bool) {
	free, err := freeBytes(s.opts.Dir)
	if err != nil {
		return
	}
	full := free < uint64(s.opts.MinFreeBytes)
	if was := s.diskFull.Swap(full); was != full {
		if full {
			s.log.Error("disk full: refusing writes until space is freed", "dir", s.opts.Dir, "free_bytes", free)
		} else {
			s.log.Info("disk space available again: accepting writes", "dir", s.opts.Dir, "free_bytes", free)
		}
	}
	if ballast && !full && free > uint64(s.opts.MinFreeBytes+s.opts.BallastBytes) {
		if err := s.ensureBallast(); err != nil {
			s.log.Warn("could not put the ballast file back", "err", err)
		}
	}
}

func (s *Store) ensureBallast() error {
	if s.opts.BallastBytes <= 0 {
		return nil
	}
	path := filepath.Join(s.opts.Dir, ballastName)
	if info, err := os.Stat(path); err == nil && info.Size() >= s.opts.BallastBytes {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	// Write real blocks: a sparse file would give nothing back.
	buf := make([]byte, 1<<20)
	for written := int64(0); written < s.opts.BallastBytes; written += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// onDiskFull runs when Pebble meets ENOSPC: it gives the ballast back so
// that Pebble's retry succeeds, and refuses further writes.
func (s *Store) onDiskFull() {
	s.diskFull.Store(true)
	if err := os.Remove(filepath.Join(s.opts.Dir, ballastName)); err == nil {
		s.log.Error("disk full: removed the ballast file to keep the store consistent", "dir", s.opts.Dir)
	}
}

// FreeDiskBytes is the free space on the data directory's file system.
func (s *Store) FreeDiskBytes() uint64 {
	free, _ := freeBytes(s.opts.Dir)
	return free
}

func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

func diskFullError() error {
	return fmt.Errorf("%w: free space in the data directory, then writes resume", ErrDiskFull)
}

func pebbleFS(s *Store) vfs.FS {
	return walFS{FS: vfs.OnDiskFull(vfs.Default, s.onDiskFull), dir: filepath.Clean(s.opts.Dir), syncer: &s.wal}
}
