// Package appliance assembles Apiary: it reads the configuration, opens the
// store, binds the embedded MQTT broker and the web server, and runs them
// until its context ends. It holds no logic of its own beyond the order in
// which the parts start and stop:
//
//	start: store, then broker and HTTP
//	stop:  healthz says 503, broker and HTTP stop accepting and finish what
//	       they hold, then the store is flushed and closed last.
package appliance

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/apiary-hive/apiary/ingest"
	"github.com/apiary-hive/apiary/ingest/address"
	"github.com/apiary-hive/apiary/ingest/decode"
	"github.com/apiary-hive/apiary/ingest/mqtt"
	"github.com/apiary-hive/apiary/internal/auth"
	"github.com/apiary-hive/apiary/store"
	"github.com/apiary-hive/apiary/ui"
)

// Build describes the binary, stamped by the linker.
type Build struct {
	Version string
	Commit  string
}

// Appliance is a running Apiary.
type Appliance struct {
	cfg    Config
	build  Build
	log    *slog.Logger
	store  *store.Store
	ingest *ingest.Ingester
	broker *mqtt.Broker
	sub    *mqtt.Subscriber
	web    *http.Server
	webLn  net.Listener
	auth   *auth.Authority

	state     atomic.Int32
	closeOnce sync.Once
	closeErr  error
}

const (
	stateStarting int32 = iota
	stateReady
	stateStopping
)

// Open validates cfg, opens the store and binds the listeners, so that a
// port in use or an unreadable data directory fails here, before Run.
func Open(cfg Config, build Build, log *slog.Logger) (*Appliance, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	zone, _ := cfg.Location()
	syncEvery, _ := cfg.SyncInterval()
	a := &Appliance{cfg: cfg, build: build, log: log}

	st, err := store.Open(store.Options{
		Dir:            cfg.DataDir,
		CacheBytes:     int64(cfg.Store.Cache),
		MemTableBytes:  int64(cfg.Store.Memtable),
		SyncInterval:   syncEvery,
		MinFreeBytes:   int64(cfg.Store.MinFree),
		BallastBytes:   ballastBytes(cfg.Store.Ballast),
		Retention:      cfg.RetentionOf,
		ErrorLogMax:    cfg.Errors.MaxEntries,
		ErrorLogMaxAge: time.Duration(cfg.Errors.MaxAge),
		Logger:         log.With("component", "store"),
	})
	if err != nil {
		return nil, err
	}
	a.store = st

	key, err := signingKey(cfg.DataDir)
	if err != nil {
		log.Warn("web sessions will not survive a restart", "err", err)
	}
	ac := cfg.Auth.auth()
	ac.Key, ac.Secure = key, cfg.HTTP.TLSCertFile != ""
	a.auth, err = auth.New(ac)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("configuration: %w", err)
	}

	realms := map[string]address.Realm{}
	zones := map[string]*time.Location{}
	masks := append([]ingest.Mask(nil), cfg.Masks...)
	for _, r := range cfg.Realms {
		realms[r.Name] = address.Realm{Name: r.Name, LAN: r.Strategy == "lan", AllowedNetworks: r.AllowedNetworks}
		if r.TimeZone != "" {
			zones[r.Name], _ = time.LoadLocation(r.TimeZone)
		}
		for _, m := range r.Masks {
			m.Realm = r.Name
			masks = append(masks, m)
		}
	}
	router, err := address.NewRouter(cfg.Routes)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("configuration: %w", err)
	}
	a.ingest = ingest.New(st, ingest.Options{
		Resolver: address.Resolver{Realms: realms, MaxLen: cfg.Ingest.MaxTopic, Routes: router},
		Decode: decode.Options{
			Zone:         zone,
			MaxFields:    cfg.Ingest.MaxFields,
			EarliestTime: cfg.Ingest.EarliestTime,
			MaxAhead:     time.Duration(cfg.Ingest.MaxAhead),
		},
		Zones:      zones,
		Masks:      masks,
		MaxPayload: int(cfg.MQTT.MaxPayload),
		Logger:     log.With("component", "ingest"),
		AuthorizeHTTP: func(r *http.Request, ch store.Channel) bool {
			return a.auth.IngestAllowed(auth.TokenOf(r), ch.Realm, ch.Network)
		},
	})

	if cfg.MQTT.Listen != "" {
		var mqttTLS *tls.Config
		if cfg.MQTT.TLSCertFile != "" {
			if mqttTLS, err = loadTLS(cfg.MQTT.TLSCertFile, cfg.MQTT.TLSKeyFile); err != nil {
				st.Close()
				return nil, fmt.Errorf("mqtt: %w", err)
			}
		}
		a.broker, err = mqtt.NewBroker(mqtt.BrokerOptions{
			Auth:      a.auth,
			TLSListen: cfg.MQTT.TLSListen,
			TLS:       mqttTLS,
			Listen:    cfg.MQTT.Listen,
			MaxPacket: int(cfg.MQTT.MaxPayload) + 64<<10, // payload plus topic and properties
			Handler:   a.ingest.HandleMQTT,
			Problem: func(kind, client, msg string) {
				st.RecordError(store.ErrorEntry{Kind: kind, Source: "mqtt", Client: client, Message: msg})
			},
			Logger: log,
		})
		if err != nil {
			st.Close()
			return nil, err
		}
	}

	if cfg.MQTT.Broker != "" {
		b, _ := ParseBrokerURL(cfg.MQTT.Broker)
		a.sub, err = mqtt.NewSubscriber(mqtt.SubscriberOptions{
			Server: b.Server, Username: b.Username, Password: b.Password, TLS: b.TLS, CAFile: cfg.MQTT.BrokerCAFile,
			ClientID: cfg.MQTT.ClientID, Topics: cfg.MQTT.BrokerTopics,
			Handler: a.ingest.HandleMQTT, Logger: log,
		})
		if err != nil {
			a.closeParts()
			return nil, err
		}
	}

	var webTLS *tls.Config
	if cfg.HTTP.TLSCertFile != "" {
		if webTLS, err = loadTLS(cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile); err != nil {
			a.closeParts()
			return nil, fmt.Errorf("http: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		a.closeParts()
		return nil, fmt.Errorf("http: listen on %s: %w", cfg.HTTP.Listen, err)
	}
	a.webLn = limitListener(ln, cfg.HTTP.MaxConnections)
	if webTLS != nil {
		a.webLn = tls.NewListener(a.webLn, webTLS)
	}
	a.web = &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	return a, nil
}

func (a *Appliance) handler() http.Handler {
	loc, _ := a.cfg.Location()
	clients := func() int64 {
		if a.broker == nil {
			return 0
		}
		return a.broker.Clients()
	}
	web := ui.New(ui.Options{
		Store:       a.store,
		Version:     a.build.Version,
		Zone:        loc,
		MQTTClients: clients,
		Families:    a.cfg.Families,
		Logger:      a.log.With("component", "ui"),
		Auth:        a.auth,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /api/admin/backup", a.backupHandler)
	mux.HandleFunc("DELETE /api/admin/channel/{realm}/{network}/{gateway}/{node}", a.deleteHandler)
	mux.HandleFunc("DELETE /api/admin/channel/{realm}/{network}/{gateway}/{node}/field/{field}", a.deleteHandler)
	// Every POST is ingest (Kotori's /api/..., /api-notls/... and the paths
	// of the HTTP routes); everything else is the UI.
	ingestHTTP := a.ingest.HTTPHandler(int64(a.cfg.HTTP.MaxBody))
	mux.Handle("POST /", ingestHTTP)
	// ...but for the web interface's own forms.
	mux.Handle("POST /login", web)
	mux.Handle("POST /logout", web)
	mux.Handle("POST /admin/", web)
	// A GET is the web interface's, but for the readings of firmware that
	// can only GET (ingest.AcceptsGET).
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.ingest.AcceptsGET(r) {
			ingestHTTP.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	}))
	return a.auth.Guard(mux, func(r *http.Request) auth.Access { return access(r, a.ingest.AcceptsGET(r)) })
}

// access says what a request needs: the ingest POSTs (and the GETs that
// are readings) have their tokens, the admin actions and the rest of the
// web interface their logins.
func access(r *http.Request, readingsGET bool) auth.Access {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/login" || p == "/logout" || strings.HasPrefix(p, "/static/"):
		return auth.Public
	case strings.HasPrefix(p, "/api/admin/") || strings.HasPrefix(p, "/admin/"):
		return auth.Admin
	case r.Method == http.MethodPost || r.Method == http.MethodPut || readingsGET:
		return auth.Ingest
	}
	return auth.Read
}

// ballastBytes maps the configured ballast to the store's option: 0 turns
// it off.
func ballastBytes(b Size) int64 {
	if b == 0 {
		return -1
	}
	return int64(b)
}

// healthz answers 200 once the store, the broker and HTTP are up, and 503
// while starting or stopping.
func (a *Appliance) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch a.state.Load() {
	case stateReady:
		if a.broker != nil && !a.broker.Serving() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "mqtt broker not serving")
			return
		}
		fmt.Fprintln(w, "ok")
	case stateStopping:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "stopping")
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "starting")
	}
}

// HTTPAddr is the address the web server listens on.
func (a *Appliance) HTTPAddr() net.Addr { return a.webLn.Addr() }

// MQTTAddr is the address of the embedded broker, or nil when it is off.
func (a *Appliance) MQTTAddr() net.Addr {
	if a.broker == nil {
		return nil
	}
	return a.broker.Addr()
}

// ExternalConnected reports whether the external-broker subscriber is
// connected and subscribed (false when there is none).
func (a *Appliance) ExternalConnected() bool { return a.sub != nil && a.sub.Connected() }

// Store is the appliance's store (for the backup command and tests).
func (a *Appliance) Store() *store.Store { return a.store }

// Run serves until ctx ends, then stops gracefully and closes the appliance.
func (a *Appliance) Run(ctx context.Context) error {
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	if a.broker != nil {
		if err := a.broker.Start(); err != nil {
			a.Close()
			return err
		}
		a.log.Info("mqtt broker listening", "addr", a.broker.Addr().String())
		if tl := a.broker.TLSAddr(); tl != nil {
			a.log.Info("mqtt broker listening with TLS", "addr", tl.String())
		}
	}
	if a.sub != nil {
		a.sub.Start()
		b, _ := ParseBrokerURL(a.cfg.MQTT.Broker)
		a.log.Info("subscribing at the external broker", "broker", b.Server, "client_id", a.cfg.MQTT.ClientID)
	}
	g.Go(func() error {
		if err := a.web.Serve(a.webLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	a.log.Info("web interface listening", "addr", a.webLn.Addr().String())
	a.state.Store(stateReady)
	a.log.Info("apiary ready", "version", a.build.Version, "data", a.cfg.DataDir, "startup", time.Since(start).Round(time.Millisecond))
	if open := a.auth.Open(); len(open) > 0 {
		a.log.Warn("open LAN appliance: "+strings.Join(open, "; "), "see", "[auth] in the configuration")
	}

	g.Go(func() error {
		<-gctx.Done()
		return a.Close()
	})
	return g.Wait()
}

// Close stops the appliance in order: producers first (broker, HTTP), the
// store last. It is safe to call more than once.
func (a *Appliance) Close() error {
	a.closeOnce.Do(func() {
		a.state.Store(stateStopping)
		a.log.Info("stopping")
		a.closeErr = a.closeParts()
	})
	return a.closeErr
}

func (a *Appliance) closeParts() error {
	var errs []error
	step := func(name string, fn func() error) {
		t := time.Now()
		if err := fn(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		a.log.Info("stopped", "part", name, "took", time.Since(t).Round(time.Millisecond))
	}
	if a.sub != nil {
		step("mqtt client", a.sub.Close)
	}
	if a.broker != nil {
		step("mqtt broker", a.broker.Close)
	}
	if a.web != nil {
		step("http", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return a.web.Shutdown(ctx)
		})
	} else if a.webLn != nil {
		a.webLn.Close()
	}
	if a.store != nil {
		step("store", a.store.Close)
	}
	return errors.Join(errs...)
}
