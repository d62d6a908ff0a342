// Package ui is Apiary's web face: the instant dashboards (templ pages with
// go-echarts charts), the error log, the JSON API, the Kotori-compatible
// export and /metrics. Every script, style and font is embedded and served
// from the appliance itself: the Pi at the apiary is often offline.
//
// ui sees the store only through the small Store interface below; it never
// touches Pebble, keys or batches, and it never imports ingest. Every string
// that came from a device is escaped by templ or by encoding/json; charts
// are configured with JSON in a data attribute, never with inline script.
package ui

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/apiary-hive/apiary/internal/auth"
	"github.com/apiary-hive/apiary/store"
)

// Store is what the UI needs of the store.
type Store interface {
	Channels() []store.ChannelInfo
	ChannelInfo(ch store.Channel) (store.ChannelInfo, bool)
	Points(ctx context.Context, ch store.Channel, field string, from, to time.Time) ([]store.Point, error)
	TextPoints(ctx context.Context, ch store.Channel, field string, from, to time.Time) ([]store.TextPoint, error)
	Downsample(ctx context.Context, ch store.Channel, field string, from, to time.Time, maxPoints int) ([]store.Bucket, time.Duration, error)
	DownsampleFields(ctx context.Context, ch store.Channel, fields []string, from, to time.Time, maxPoints int) (map[string][]store.Bucket, time.Duration, error)
	Events(ctx context.Context, ch store.Channel, from, to time.Time) ([]store.Event, error)
	DeleteChannel(ch store.Channel) error
	DeleteField(ch store.Channel, field string) error
	Errors(f store.ErrorFilter) []store.ErrorEntry
	Stats() store.Stats
	FreeDiskBytes() uint64
}

// Options configure the UI.
type Options struct {
	Store   Store
	Version string
	// Zone is used to show times, and to read export times without a zone
	// is UTC as in Kotori.
	Zone *time.Location
	// MQTTClients reports connected MQTT clients (nil: none).
	MQTTClients func() int64
	// Started is when the appliance started.
	Started time.Time
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// QuietAfter marks a node as quiet when it sent nothing for this long
	// (default 1h).
	QuietAfter time.Duration
	// MaxChartPoints bounds the points of one chart series (default 1500).
	MaxChartPoints int
	// Families group a node's fields into charts (from the configuration).
	Families []Family
	// Auth checks logins and CSRF tokens; the appliance's guard decides
	// which pages need a login (nil: no logins, and no forms that change
	// state).
	Auth *auth.Authority
}

// UI serves the pages and the read API.
type UI struct {
	opts   Options
	st     Store
	log    *slog.Logger
	assets *assets
	mux    *http.ServeMux
	fam    *families
	rate   rateSampler
}

// New returns the UI.
func New(opts Options) *UI {
	if opts.Zone == nil {
		opts.Zone = time.Local
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MQTTClients == nil {
		opts.MQTTClients = func() int64 { return 0 }
	}
	if opts.Started.IsZero() {
		opts.Started = opts.Now()
	}
	if opts.QuietAfter <= 0 {
		opts.QuietAfter = time.Hour
	}
	if opts.MaxChartPoints <= 0 {
		opts.MaxChartPoints = 1500
	}
	u := &UI{opts: opts, st: opts.Store, log: opts.Logger, assets: newAssets(), mux: http.NewServeMux(), fam: newFamilies(opts.Families)}
	u.routes()
	return u
}

func (u *UI) routes() {
	m := u.mux
	m.HandleFunc("GET /{$}", u.overview)
	m.HandleFunc("GET /n/{realm}/{network}", u.network)
	m.HandleFunc("GET /d/{realm}/{network}/{gateway}/{node}", u.node)
	m.HandleFunc("GET /errors", u.errorsPage)
	m.HandleFunc("GET /status", u.statusPage)
	m.HandleFunc("GET /static/{name}", u.assets.serve)
	m.HandleFunc("GET /api/channels", u.apiChannels)
	m.HandleFunc("GET /api/errors", u.apiErrors)
	m.HandleFunc("GET /api/{realm}/{network}/{gateway}/{node}/{file}", u.export)
	m.HandleFunc("GET /api-notls/{realm}/{network}/{gateway}/{node}/{file}", u.export)
	m.HandleFunc("GET /metrics", u.metrics)
	m.HandleFunc("GET /login", u.loginForm)
	m.HandleFunc("POST /login", u.login)
	m.HandleFunc("POST /logout", u.logout)
	m.HandleFunc("GET /admin/delete/{realm}/{network}/{gateway}/{node}", u.deleteForm)
	m.HandleFunc("POST /admin/delete/{realm}/{network}/{gateway}/{node}", u.deleteData)
}

// ServeHTTP serves the UI with the security headers every page gets.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	u.mux.ServeHTTP(w, r)
}

func channelFromPath(r *http.Request) store.Channel {
	return store.Channel{
		Realm: r.PathValue("realm"), Network: r.PathValue("network"),
		Gateway: r.PathValue("gateway"), Node: r.PathValue("node"),
	}
}

func (u *UI) now() time.Time { return u.opts.Now() }
