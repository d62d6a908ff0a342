// Command apiary is the Apiary appliance: one binary that receives hive
// telemetry over MQTT and HTTP, stores it, and serves dashboards.
//
//	apiary [serve] [flags]   run the appliance (the default)
//	apiary config [flags]    print the configuration in effect, as TOML
//	apiary import [flags] FILE...  read history (line protocol, Kotori CSV)
//	apiary version           print version, commit, Go version and platform
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/apiary-hive/apiary/appliance"
	"github.com/apiary-hive/apiary/internal/auth"
)

// Stamped at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "none"
)

// exitUsage is the exit status for a bad command line or configuration.
const exitUsage = 2

func main() {
	os.Exit(runIO(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs a command with nothing on its standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, strings.NewReader(""), stdout, stderr)
}

func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "config":
		cfg, code := loadConfig("config", args, stderr)
		if code != 0 {
			return code
		}
		if err := cfg.WriteTOML(stdout); err != nil {
			fmt.Fprintln(stderr, "apiary config:", err)
			return 1
		}
		return 0
	case "import":
		return importCmd(ctx, args, stdout, stderr)
	case "backup", "restore":
		return backupCmd(cmd, args, stdout, stderr)
	case "passwd":
		return passwdCmd(args, stdin, stdout, stderr)
	case "version":
		if len(args) > 0 {
			fmt.Fprintf(stderr, "apiary version: unexpected argument %q\n", args[0])
			return exitUsage
		}
		fmt.Fprintf(stdout, "apiary %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "apiary: unknown command %q\n", cmd)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  apiary [serve] [flags]   run the appliance (the default)
  apiary config [flags]    print the configuration in effect, as TOML
  apiary import [flags] FILE...
                           read history into the store: InfluxDB line protocol
                           (influx_inspect export, .gz too) or Kotori CSV exports;
                           safe to run again
  apiary backup [--config FILE] [--data DIR] PATH
                           a consistent backup, while the appliance runs or not:
                           PATH.tar.gz, or a new directory PATH
  apiary restore [--config FILE] [--data DIR] PATH
                           put a backup back (the appliance must be stopped;
                           the replaced data is kept beside it)
  apiary passwd            read a password (one line) from standard input and
                           print its bcrypt hash, for password_hash in [auth]
  apiary version           print version, commit, Go version and platform

Flags of serve and config:
  --config FILE        configuration file (TOML); every key has a default
  --data DIR           data directory (data_dir)
  --http ADDR          web and HTTP ingest listen address (http.listen)
  --mqtt ADDR          embedded MQTT broker listen address; "" turns it off (mqtt.listen)
  --mqtt-broker URL    external MQTT broker to subscribe to (mqtt.broker)

Flags of import:
  --config FILE, --data DIR   as above (the appliance must not run on DIR)
  --channel R/N/G/N    store everything under this channel (required for CSV);
                       without it, line protocol maps Kotori's database
                       realm_network and measurement gateway_node_sensors
  --format F           auto (by extension), lineproto or csv
  --precision P        line-protocol timestamp unit: ns (default), us, ms, s
`)
}

// loadConfig parses the flags of serve and config: the file first, then
// the flags that were given on top.
func loadConfig(cmd string, args []string, stderr io.Writer) (appliance.Config, int) {
	fs := newFlagSet("apiary "+cmd, stderr)
	load := dataFlags(fs)
	httpAddr := fs.String("http", "", "web listen address")
	mqttAddr := fs.String("mqtt", "", `embedded MQTT broker listen address; "" turns it off`)
	broker := fs.String("mqtt-broker", "", "external MQTT broker URL")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return appliance.Config{}, exitUsage
		}
		return appliance.Config{}, exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "apiary %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return appliance.Config{}, exitUsage
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintln(stderr, "apiary:", err)
		return cfg, exitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "http":
			cfg.HTTP.Listen = *httpAddr
		case "mqtt":
			cfg.MQTT.Listen = *mqttAddr
		case "mqtt-broker":
			cfg.MQTT.Broker = *broker
		}
	})
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "apiary: configuration:", err)
		return cfg, exitUsage
	}
	return cfg, 0
}

// newFlagSet is a command's flag set: errors and usage to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr) }
	return fs
}

// dataFlags adds --config and --data to fs; the function it returns loads
// the configuration they name.
func dataFlags(fs *flag.FlagSet) func() (appliance.Config, error) {
	file := fs.String("config", "", "configuration file (TOML)")
	data := fs.String("data", "", "data directory")
	return func() (appliance.Config, error) {
		cfg, err := appliance.LoadConfig(*file)
		if err == nil && *data != "" {
			cfg.DataDir = *data
		}
		return cfg, err
	}
}

func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("apiary import", stderr)
	load := dataFlags(fs)
	channel := fs.String("channel", "", "realm/network/gateway/node")
	format := fs.String("format", "auto", "auto, lineproto or csv")
	precision := fs.String("precision", "ns", "timestamp unit of line protocol")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "apiary import: no files given")
		return exitUsage
	}
	switch *format {
	case "auto", "lineproto", "csv":
	default:
		fmt.Fprintf(stderr, "apiary import: unknown format %q (auto, lineproto or csv)\n", *format)
		return exitUsage
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintln(stderr, "apiary:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	req := appliance.ImportRequest{Files: fs.Args(), Format: *format, Channel: *channel, Precision: *precision}
	if err := appliance.Import(ctx, cfg, req, stdout, log); err != nil {
		fmt.Fprintln(stderr, "apiary import:", err)
		return 1
	}
	return 0
}

func backupCmd(cmd string, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("apiary "+cmd, stderr)
	load := dataFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "apiary %s: want one PATH\n", cmd)
		return exitUsage
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintln(stderr, "apiary:", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	path := fs.Arg(0)
	if cmd == "backup" {
		if err := appliance.Backup(cfg, path, log); err != nil {
			fmt.Fprintln(stderr, "apiary backup:", err)
			return 1
		}
		fmt.Fprintln(stdout, "backup written to", path)
		return 0
	}
	kept, err := appliance.Restore(cfg, path, log)
	if err != nil {
		fmt.Fprintln(stderr, "apiary restore:", err)
		return 1
	}
	fmt.Fprintln(stdout, "restored", path, "into", cfg.DataDir)
	if kept != "" {
		fmt.Fprintln(stdout, "the data it replaced is in", kept)
	}
	return 0
}

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, code := loadConfig("serve", args, stderr)
	if code != 0 {
		return code
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if cfg.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	}
	if limit := debug.SetMemoryLimit(-1); limit < math.MaxInt64 {
		log.Info("Go runtime memory limit", "limit", appliance.Size(limit))
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	app, err := appliance.Open(cfg, appliance.Build{Version: version, Commit: commit}, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := app.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// passwdCmd prints the bcrypt hash of the password on the first line of
// stdin: `apiary passwd`, type it, Enter (or pipe it in).
func passwdCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "apiary passwd: unexpected argument %q (the password is read from standard input)\n", args[0])
		return exitUsage
	}
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(stderr, "Password (it shows as you type): ")
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintln(stderr, "apiary passwd:", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		fmt.Fprintln(stderr, "apiary passwd: use at least 8 characters")
		return 1
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		fmt.Fprintln(stderr, "apiary passwd:", err)
		return 1
	}
	fmt.Fprintln(stdout, hash)
	return 0
}
