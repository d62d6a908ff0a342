// Package auth decides who may do what on the appliance: MQTT users with
// bcrypt password hashes and publish/subscribe topic filters, HTTP ingest
// tokens per realm or network, web accounts with signed session cookies,
// and CSRF tokens for the forms that change state.
//
// With nothing configured everything is open, as on a LAN appliance:
// Open reports what is.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is an MQTT or web account.
type User struct {
	Name string `toml:"name"`
	// PasswordHash is a bcrypt hash ("$2a$10$..."), as `apiary passwd`
	// prints it.
	PasswordHash string `toml:"password_hash"`
	// Publish are the MQTT topic filters the user may publish to (empty:
	// any). MQTT users only.
	Publish []string `toml:"publish,omitempty"`
	// Subscribe are the MQTT topic filters the user may subscribe to
	// (empty: none). MQTT users only.
	Subscribe []string `toml:"subscribe,omitempty"`
}

// Token lets HTTP ingest write to a realm, or to one network of it.
type Token struct {
	Token   string `toml:"token"`
	Realm   string `toml:"realm"`
	Network string `toml:"network,omitempty"`
}

// MinTokenLength is the shortest token accepted: shorter ones are guessed.
const MinTokenLength = 12

// Config is what the authority enforces.
type Config struct {
	MQTTUsers []User
	Tokens    []Token
	WebUsers  []User
	// LoginAdmin asks for a web login before admin actions (deleting a
	// channel or a field, downloading a backup); LoginRead before reading
	// too.
	LoginAdmin, LoginRead bool
	// Key signs session cookies and CSRF tokens (at least 32 bytes).
	Key []byte
	// SessionTTL is how long a web login lasts (default 30 days).
	SessionTTL time.Duration
	// Secure marks cookies Secure (the web interface is HTTPS).
	Secure bool
	Now    func() time.Time
}

// Validate checks users, hashes, filters and tokens.
func (c Config) Validate() error {
	for _, group := range []struct {
		what  string
		users []User
	}{{"mqtt_user", c.MQTTUsers}, {"web_user", c.WebUsers}} {
		seen := map[string]bool{}
		for _, u := range group.users {
			if u.Name == "" {
				return fmt.Errorf("auth.%s: a user needs a name", group.what)
			}
			if seen[u.Name] {
				return fmt.Errorf("auth.%s: user %q is configured twice", group.what, u.Name)
			}
			seen[u.Name] = true
			if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
				return fmt.Errorf("auth.%s %q: password_hash is not a bcrypt hash (make one with `apiary passwd`): %w", group.what, u.Name, err)
			}
			for _, f := range append(append([]string(nil), u.Publish...), u.Subscribe...) {
				if !validFilter(f) {
					return fmt.Errorf("auth.%s %q: %q is not an MQTT topic filter", group.what, u.Name, f)
				}
			}
		}
	}
	for _, t := range c.Tokens {
		if len(t.Token) < MinTokenLength {
			return fmt.Errorf("auth.token for realm %q: a token needs at least %d characters", t.Realm, MinTokenLength)
		}
		if t.Realm == "" {
			return errors.New("auth.token: a token needs a realm")
		}
	}
	if (c.LoginAdmin || c.LoginRead) && len(c.WebUsers) == 0 {
		return errors.New("auth: login_admin or login_read needs at least one [[auth.web_user]]")
	}
	return nil
}

// Authority answers the questions of the broker, HTTP ingest and the web.
type Authority struct {
	cfg   Config
	mqtt  map[string]User
	web   map[string]User
	check *passwordChecker
}

// New returns the authority for cfg, which must be valid.
func New(cfg Config) (*Authority, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Key) < 32 {
		return nil, errors.New("auth: the signing key needs at least 32 bytes")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Authority{cfg: cfg, mqtt: map[string]User{}, web: map[string]User{}, check: newPasswordChecker()}
	for _, u := range cfg.MQTTUsers {
		a.mqtt[u.Name] = u
	}
	for _, u := range cfg.WebUsers {
		a.web[u.Name] = u
	}
	return a, nil
}

// Open lists what anyone on the network may do, for the startup log;
// empty when everything is protected.
func (a *Authority) Open() []string {
	var open []string
	if !a.MQTTProtected() {
		open = append(open, "any MQTT client may connect and publish")
	}
	if !a.IngestProtected() {
		open = append(open, "HTTP ingest needs no token")
	}
	switch {
	case !a.cfg.LoginAdmin && !a.cfg.LoginRead:
		open = append(open, "the web interface and its admin actions need no login")
	case !a.cfg.LoginRead:
		open = append(open, "the web interface needs no login to read")
	}
	return open
}

// MQTTProtected reports whether MQTT clients must log in.
func (a *Authority) MQTTProtected() bool { return len(a.mqtt) > 0 }

// MQTTLogin checks an MQTT CONNECT's user name and password. With no
// users configured, every client may connect.
func (a *Authority) MQTTLogin(user, password []byte) bool {
	if !a.MQTTProtected() {
		return true
	}
	u, ok := a.mqtt[string(user)]
	return ok && a.check.ok(u, password)
}

// MayPublish reports whether the user may publish to topic.
func (a *Authority) MayPublish(user, topic string) bool {
	if !a.MQTTProtected() {
		return true
	}
	u, ok := a.mqtt[user]
	if !ok {
		return false
	}
	if len(u.Publish) == 0 {
		return true
	}
	for _, f := range u.Publish {
		if MatchTopic(f, topic) {
			return true
		}
	}
	return false
}

// MaySubscribe reports whether the user may subscribe to filter: only to
// filters that lie within one of its subscribe filters.
func (a *Authority) MaySubscribe(user, filter string) bool {
	if !a.MQTTProtected() {
		return true
	}
	u, ok := a.mqtt[user]
	if !ok {
		return false
	}
	for _, f := range u.Subscribe {
		if filterCovers(f, filter) {
			return true
		}
	}
	return false
}

// IngestProtected reports whether HTTP ingest needs a token.
func (a *Authority) IngestProtected() bool { return len(a.cfg.Tokens) > 0 }

// TokenOf returns the token a request presents: "Authorization: Bearer
// T" or "Token T" (InfluxDB 2's scheme, Telegraf's influxdb_v2 output),
// the password of basic auth (Telegraf, Airrohr's custom API), or
// ?token=T (GPRS modems that cannot set headers).
func TokenOf(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(h, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Token")) {
		return strings.TrimSpace(rest)
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return r.URL.Query().Get("token")
}

// IngestAllowed reports whether token may write to a channel of realm and
// network. With no tokens configured, HTTP ingest is open.
func (a *Authority) IngestAllowed(token, realm, network string) bool {
	if !a.IngestProtected() {
		return true
	}
	ok := false
	for _, t := range a.cfg.Tokens {
		// Compare every token in constant time, so that the answer's
		// timing tells nothing.
		match := subtle.ConstantTimeCompare([]byte(t.Token), []byte(token)) == 1
		if match && t.Realm == realm && (t.Network == "" || t.Network == network) {
			ok = true
		}
	}
	return ok
}

// LoginAdmin and LoginRead report what the web interface protects.
func (a *Authority) LoginAdmin() bool { return a.cfg.LoginAdmin || a.cfg.LoginRead }

// LoginRead reports whether reading needs a login too.
func (a *Authority) LoginRead() bool { return a.cfg.LoginRead }

// HasWebUsers reports whether web accounts are configured.
func (a *Authority) HasWebUsers() bool { return len(a.web) > 0 }

// WebLogin checks a web account's name and password.
func (a *Authority) WebLogin(name, password string) bool {
	u, ok := a.web[name]
	return ok && a.check.ok(u, []byte(password))
}

const (
	sessionCookie = "apiary_session"
	csrfCookie    = "apiary_csrf"
	// CSRFField is the name of the hidden form field with the CSRF token.
	CSRFField = "csrf"
)

func (a *Authority) sign(parts ...string) string {
	m := hmac.New(sha256.New, a.cfg.Key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// StartSession sets the session cookie of a logged-in web user.
func (a *Authority) StartSession(w http.ResponseWriter, name string) {
	exp := a.cfg.Now().Add(a.cfg.SessionTTL).Unix()
	e := strconv.FormatInt(exp, 10)
	n := base64.RawURLEncoding.EncodeToString([]byte(name))
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: n + "." + e + "." + a.sign("session", name, e),
		Path: "/", MaxAge: int(a.cfg.SessionTTL.Seconds()), HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// EndSession clears the session cookie.
func (a *Authority) EndSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

// SessionUser returns the web user of a request: from a valid session
// cookie, or from basic auth with a web account (for scripts).
func (a *Authority) SessionUser(r *http.Request) (string, bool) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		parts := strings.Split(c.Value, ".")
		if len(parts) == 3 {
			name, err := base64.RawURLEncoding.DecodeString(parts[0])
			exp, err2 := strconv.ParseInt(parts[1], 10, 64)
			if err == nil && err2 == nil && a.cfg.Now().Unix() < exp &&
				hmac.Equal([]byte(parts[2]), []byte(a.sign("session", string(name), parts[1]))) {
				if _, ok := a.web[string(name)]; ok {
					return string(name), true
				}
			}
		}
	}
	if name, pw, ok := r.BasicAuth(); ok && a.WebLogin(name, pw) {
		return name, true
	}
	return "", false
}

// CSRFToken returns the token to put into a form of this browser, and
// sets the browser's CSRF cookie when it has none. The token is the
// cookie's signature, so a page of another site can neither read nor
// forge it.
func (a *Authority) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	seed := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 16 {
		seed = c.Value
	} else {
		seed = randomString()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: seed, Path: "/", HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteStrictMode})
	}
	return a.sign("csrf", seed)
}

// CheckCSRF reports whether a form's token belongs to the browser that
// sent it (call after ParseForm).
func (a *Authority) CheckCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 16 {
		return false
	}
	return hmac.Equal([]byte(r.PostFormValue(CSRFField)), []byte(a.sign("csrf", c.Value)))
}

// HashPassword returns the bcrypt hash of a password, for the config.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// passwordChecker runs bcrypt one at a time, so that a flood of logins
// cannot take every core of a Pi, and remembers passwords that passed, so
// that a device reconnecting every few seconds costs one hash, not one
// each time.
type passwordChecker struct {
	slot chan struct{}
	mu   sync.Mutex
	good map[string]bool
}

func newPasswordChecker() *passwordChecker {
	return &passwordChecker{slot: make(chan struct{}, 1), good: map[string]bool{}}
}

func (p *passwordChecker) ok(u User, password []byte) bool {
	sum := sha256.Sum256([]byte(u.Name + "\x00" + u.PasswordHash + "\x00" + string(password)))
	key := hex.EncodeToString(sum[:])
	p.mu.Lock()
	hit := p.good[key]
	p.mu.Unlock()
	if hit {
		return true
	}
	p.slot <- struct{}{}
	err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), password)
	<-p.slot
	if err != nil {
		return false
	}
	p.mu.Lock()
	if len(p.good) >= 4096 {
		clear(p.good)
	}
	p.good[key] = true
	p.mu.Unlock()
	return true
}
