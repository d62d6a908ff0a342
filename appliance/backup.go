package appliance

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// backupHandler streams a consistent backup of the running store as a
// .tar.gz (GET /api/admin/backup).
func (a *Appliance) backupHandler(w http.ResponseWriter, r *http.Request) {
	name := "apiary-backup-" + time.Now().UTC().Format("20060102T150405") + ".tar.gz"
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+name)
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Backup(w); err != nil {
		// The status is out already; a broken archive fails to unpack.
		a.log.Error("backup failed", "err", err)
	}
}

// deleteHandler deletes a channel, or one of its fields
// (DELETE /api/admin/channel/<realm>/<network>/<gateway>/<node>[/field/<field>]).
func (a *Appliance) deleteHandler(w http.ResponseWriter, r *http.Request) {
	ch := store.Channel{Realm: r.PathValue("realm"), Network: r.PathValue("network"), Gateway: r.PathValue("gateway"), Node: r.PathValue("node")}
	var err error
	what := ch.String()
	if field := r.PathValue("field"); field != "" {
		err = a.store.DeleteField(ch, field)
		what += " " + field
	} else {
		err = a.store.DeleteChannel(ch)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintln(w, err)
		return
	}
	a.log.Info("deleted", "what", what, "client", r.RemoteAddr)
	fmt.Fprintln(w, "deleted", what)
}

func isTarGz(path string) bool {
	return strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz")
}

// Backup writes a consistent backup of cfg's store to path: a .tar.gz when
// the name ends so, else a new directory. It works while the appliance
// runs (it asks the running appliance over HTTP) and while it does not.
func Backup(cfg Config, path string, log *slog.Logger) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: a backup never overwrites", path)
	}
	st, err := store.Open(store.Options{Dir: cfg.DataDir, BallastBytes: -1, MinFreeBytes: 1, Logger: log})
	switch {
	case errors.Is(err, store.ErrLocked):
		return backupFromRunning(cfg, path)
	case err != nil:
		return err
	}
	defer st.Close()
	if !isTarGz(path) {
		return st.Checkpoint(path)
	}
	return writeFile(path, st.Backup)
}

// backupFromRunning fetches the backup from the running appliance.
func backupFromRunning(cfg Config, path string) error {
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/api/admin/backup"
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("the store is in use, and the running appliance did not answer at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("the running appliance refused the backup: %s: %s", resp.Status, b)
	}
	if isTarGz(path) {
		return writeFile(path, func(w io.Writer) error { _, err := io.Copy(w, resp.Body); return err })
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".apiary-backup-*.tar.gz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Unpack into the directory by restoring into it: that also checks it.
	_, err = store.Restore(tmp.Name(), path)
	return err
}

// writeFile writes path through fn, and removes it when fn fails.
func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Restore puts a backup in place of cfg's data directory. The appliance
// must be stopped; the replaced directory is kept beside it.
func Restore(cfg Config, path string, log *slog.Logger) (kept string, err error) {
	if st, err := store.Open(store.Options{Dir: cfg.DataDir, BallastBytes: -1, MinFreeBytes: 1, Logger: log}); err == nil {
		st.Close()
	} else if errors.Is(err, store.ErrLocked) {
		return "", fmt.Errorf("the appliance is running on %s: stop it first (systemctl stop apiary)", cfg.DataDir)
	}
	return store.Restore(path, cfg.DataDir)
}
