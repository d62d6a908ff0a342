package store

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Checkpoint writes a consistent copy of the store into dir, which must
// not exist yet, while the store goes on taking writes. On the same file
// system the copy hard-links the store's files and costs little space.
func (s *Store) Checkpoint(dir string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.errlog.flush(); err != nil {
		s.log.Warn("error log not in the backup", "err", err)
	}
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("store: checkpoint to %s: %w", dir, err)
	}
	return nil
}

// Backup writes a consistent copy of the store to w as a .tar.gz whose
// files lie in a directory named "apiary-data".
func (s *Store) Backup(w io.Writer) error {
	tmp, err := os.MkdirTemp(s.opts.Dir, "backup-")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	cp := filepath.Join(tmp, "apiary-data")
	if err := s.Checkpoint(cp); err != nil {
		return err
	}
	return writeTarGz(w, cp, "apiary-data")
}

func writeTarGz(w io.Writer, dir, prefix string) error {
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(filepath.Join(prefix, rel))
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// Restore puts a backup (a checkpoint directory or a .tar.gz made by
// Backup) in place of the data directory dataDir. The store must not be
// open. The backup is checked by opening it first; the data directory it
// replaces is kept beside it as <dataDir>.before-restore-<time>, and its
// name is returned ("" when there was none).
func Restore(src, dataDir string) (kept string, err error) {
	staging := dataDir + ".restore-" + time.Now().UTC().Format("20060102T150405")
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return "", err
	}
	defer os.RemoveAll(staging)
	info, err := os.Stat(src)
	if err != nil {
		return "", fmt.Errorf("store: restore: %w", err)
	}
	if info.IsDir() {
		if err := copyDir(src, staging); err != nil {
			return "", fmt.Errorf("store: restore: %w", err)
		}
	} else {
		if err := extractTarGz(src, staging); err != nil {
			return "", fmt.Errorf("store: restore from %s: %w", src, err)
		}
	}
	// Check it: a store that does not open is no backup.
	s, err := Open(Options{Dir: staging, BallastBytes: -1, MinFreeBytes: 1})
	if err != nil {
		return "", fmt.Errorf("store: restore: %s is not a readable Apiary store: %w", src, err)
	}
	if err := s.Close(); err != nil {
		return "", err
	}
	if _, err := os.Stat(dataDir); err == nil {
		kept = dataDir + ".before-restore-" + time.Now().UTC().Format("20060102T150405")
		if err := os.Rename(dataDir, kept); err != nil {
			return "", fmt.Errorf("store: restore: move the old data aside: %w", err)
		}
	}
	if err := os.Rename(staging, dataDir); err != nil {
		return kept, fmt.Errorf("store: restore: %w", err)
	}
	return kept, nil
}

func extractTarGz(file, dst string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// Strip the top directory ("apiary-data/") and refuse paths that
		// would leave dst.
		name := filepath.FromSlash(hdr.Name)
		if i := strings.IndexByte(name, filepath.Separator); i >= 0 {
			name = name[i+1:]
		} else {
			name = ""
		}
		target := filepath.Join(dst, name)
		if name != "" && !strings.HasPrefix(target, filepath.Clean(dst)+string(filepath.Separator)) {
			return fmt.Errorf("unsafe path %q in the archive", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// ErrLocked is returned by Open when another process has the store open.
var ErrLocked = errors.New("store: the data directory is in use by another process")
