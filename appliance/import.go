package appliance

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/ingest"
	"github.com/apiary-hive/apiary/store"
)

// ImportRequest is what `apiary import` was asked to do.
type ImportRequest struct {
	Files []string
	// Format: "auto" (by extension: .csv is CSV, anything else line
	// protocol; .gz is unpacked), "lineproto" or "csv".
	Format    string
	Channel   string // realm/network/gateway/node, or "" to map Kotori's names
	Precision string
}

// Import reads history files into the store of cfg.DataDir, showing a
// progress line with rate and time left on progress. The appliance must not
// be running on the same data directory: the store allows one process.
func Import(ctx context.Context, cfg Config, req ImportRequest, progress io.Writer, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	var ch store.Channel
	if req.Channel != "" {
		parts := strings.Split(req.Channel, "/")
		if len(parts) != 4 {
			return fmt.Errorf("--channel %q is not realm/network/gateway/node", req.Channel)
		}
		ch = store.Channel{Realm: parts[0], Network: parts[1], Gateway: parts[2], Node: parts[3]}
		if !ch.Valid() {
			return fmt.Errorf("--channel %q has an empty part", req.Channel)
		}
	}
	syncEvery, _ := cfg.SyncInterval()
	st, err := store.Open(store.Options{
		Dir: cfg.DataDir, CacheBytes: int64(cfg.Store.Cache), MemTableBytes: int64(cfg.Store.Memtable),
		SyncInterval: syncEvery, Logger: log,
	})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w (is the appliance running on %s? stop it first, or POST the lines to its /write)", err, cfg.DataDir)
		}
		return err
	}
	defer st.Close()
	var total ingest.ImportStats
	for _, file := range req.Files {
		stats, err := importFile(ctx, st, file, req, ch, progress)
		total.Readings += stats.Readings
		total.Points += stats.Points
		total.Events += stats.Events
		total.BadLines += stats.BadLines
		for _, e := range stats.FirstErrors {
			fmt.Fprintf(progress, "  %s: %s\n", file, e)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	fmt.Fprintf(progress, "imported %d readings (%d points) and %d events; %d bad lines skipped\n",
		total.Readings, total.Points, total.Events, total.BadLines)
	return nil
}

func importFile(ctx context.Context, st *store.Store, file string, req ImportRequest, ch store.Channel, progress io.Writer) (ingest.ImportStats, error) {
	f, err := os.Open(file)
	if err != nil {
		return ingest.ImportStats{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ingest.ImportStats{}, err
	}
	var r io.Reader = f
	name := file
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return ingest.ImportStats{}, err
		}
		defer zr.Close()
		r = zr
		name = strings.TrimSuffix(name, ".gz")
	}
	format := req.Format
	if format == "" || format == "auto" {
		format = "lineproto"
		if strings.EqualFold(filepath.Ext(name), ".csv") {
			format = "csv"
		}
	}
	bar := newProgressBar(progress, filepath.Base(file), info.Size(), f)
	stats, err := ingest.Import(ctx, st, r, ingest.ImportOptions{
		Format: format, Channel: ch, Precision: req.Precision, Progress: func(int64) { bar.update(false) },
	})
	bar.update(true)
	return stats, err
}

// progressBar prints "name  42.0%  3.1 MB/s  ETA 0:12" on one line, at
// most a few times a second. It measures the compressed file position, so
// that .gz files show true progress.
type progressBar struct {
	w     io.Writer
	name  string
	size  int64
	f     *os.File
	start time.Time
	last  time.Time
	live  bool
}

func newProgressBar(w io.Writer, name string, size int64, f *os.File) *progressBar {
	return &progressBar{w: w, name: name, size: size, f: f, start: time.Now(), live: isTerminal(w)}
}

// isTerminal reports whether w is a terminal, where a progress line can
// redraw itself; elsewhere (a log, a pipe) only the final line is written.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func (p *progressBar) update(final bool) {
	now := time.Now()
	if !final && (!p.live || now.Sub(p.last) < 200*time.Millisecond) {
		return
	}
	p.last = now
	pos, err := p.f.Seek(0, io.SeekCurrent)
	if err != nil || final {
		pos = p.size
	}
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(pos) / max(elapsed, 1e-3)
	pct := 100.0
	if p.size > 0 {
		pct = 100 * float64(pos) / float64(p.size)
	}
	eta := "0:00"
	if rate > 0 && pos < p.size {
		left := time.Duration(float64(p.size-pos) / rate * float64(time.Second))
		eta = fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	}
	end := "\r"
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "%-30s %5.1f%%  %6.2f MB/s  ETA %s%s", p.name, pct, rate/1e6, eta, end)
}
