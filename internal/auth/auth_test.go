package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

var key = []byte("0123456789abcdef0123456789abcdef")

func TestMatchTopic(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"hiveeyes/testdrive/#", "hiveeyes/testdrive/area-42/node-1/data.json", true},
		{"hiveeyes/testdrive/#", "hiveeyes/testdrive", true},
		{"hiveeyes/testdrive/#", "hiveeyes/other/area-42/node-1/data.json", false},
		{"hiveeyes/+/area-42/+/data.json", "hiveeyes/testdrive/area-42/node-1/data.json", true},
		{"hiveeyes/+/area-42/+/data.json", "hiveeyes/testdrive/area-42/node-1/event.json", false},
		{"tele/hive-1/SENSOR", "tele/hive-1/SENSOR", true},
		{"tele/hive-1/SENSOR", "tele/hive-1/SENSOR/x", false},
		{"tele/hive-1/SENSOR", "tele/hive-1", false},
		{"#", "anything/at/all", true},
		{"#", "$SYS/broker/uptime", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
	}
	for _, tt := range tests {
		if got := MatchTopic(tt.filter, tt.topic); got != tt.want {
			t.Errorf("MatchTopic(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestFilterCovers(t *testing.T) {
	tests := []struct {
		allowed, sub string
		want         bool
	}{
		{"hiveeyes/#", "hiveeyes/testdrive/#", true},
		{"hiveeyes/#", "#", false},
		{"hiveeyes/+/x", "hiveeyes/a/x", true},
		{"hiveeyes/+/x", "hiveeyes/+/x", true},
		{"hiveeyes/+/x", "hiveeyes/#", false},
		{"hiveeyes/a", "hiveeyes/+", false},
	}
	for _, tt := range tests {
		if got := filterCovers(tt.allowed, tt.sub); got != tt.want {
			t.Errorf("filterCovers(%q, %q) = %v, want %v", tt.allowed, tt.sub, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := hash(t, "secret")
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for none
	}{
		{"empty is open", Config{}, ""},
		{"user", Config{MQTTUsers: []User{{Name: "a", PasswordHash: good, Publish: []string{"a/#"}}}}, ""},
		{"plain password", Config{MQTTUsers: []User{{Name: "a", PasswordHash: "secret"}}}, "not a bcrypt hash"},
		{"no name", Config{MQTTUsers: []User{{PasswordHash: good}}}, "needs a name"},
		{"twice", Config{WebUsers: []User{{Name: "a", PasswordHash: good}, {Name: "a", PasswordHash: good}}}, "twice"},
		{"bad filter", Config{MQTTUsers: []User{{Name: "a", PasswordHash: good, Publish: []string{"a/#/b"}}}}, "not an MQTT topic filter"},
		{"short token", Config{Tokens: []Token{{Token: "short", Realm: "hiveeyes"}}}, "at least"},
		{"token without realm", Config{Tokens: []Token{{Token: "a-long-enough-token"}}}, "needs a realm"},
		{"login without users", Config{LoginAdmin: true}, "web_user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMQTT(t *testing.T) {
	open, err := New(Config{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if !open.MQTTLogin(nil, nil) || !open.MayPublish("", "x/y") || !open.MaySubscribe("", "#") {
		t.Error("with no users, MQTT must be open")
	}
	a, err := New(Config{Key: key, MQTTUsers: []User{
		{Name: "hive-1", PasswordHash: hash(t, "pw1"), Publish: []string{"hiveeyes/testdrive/area-42/hive-1/#"}},
		{Name: "dashboard", PasswordHash: hash(t, "pw2"), Subscribe: []string{"hiveeyes/#"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, pw string
		want     bool
	}{{"hive-1", "pw1", true}, {"hive-1", "pw1", true}, {"hive-1", "pw2", false}, {"nobody", "pw1", false}, {"", "", false}} {
		if got := a.MQTTLogin([]byte(tt.user), []byte(tt.pw)); got != tt.want {
			t.Errorf("MQTTLogin(%q, %q) = %v", tt.user, tt.pw, got)
		}
	}
	if !a.MayPublish("hive-1", "hiveeyes/testdrive/area-42/hive-1/data.json") || a.MayPublish("hive-1", "hiveeyes/testdrive/area-42/hive-2/data.json") {
		t.Error("publish ACL of hive-1")
	}
	if !a.MayPublish("dashboard", "anything") {
		t.Error("a user without publish filters may publish anywhere")
	}
	if a.MaySubscribe("hive-1", "#") || !a.MaySubscribe("dashboard", "hiveeyes/testdrive/#") || a.MaySubscribe("dashboard", "#") {
		t.Error("subscribe ACL")
	}
}

func TestIngestTokens(t *testing.T) {
	a, err := New(Config{Key: key, Tokens: []Token{
		{Token: "realm-wide-token-123", Realm: "hiveeyes"},
		{Token: "network-token-4567", Realm: "workbench", Network: "testdrive"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token, realm, network string
		want                  bool
	}{
		{"realm-wide-token-123", "hiveeyes", "any", true},
		{"realm-wide-token-123", "workbench", "testdrive", false},
		{"network-token-4567", "workbench", "testdrive", true},
		{"network-token-4567", "workbench", "other", false},
		{"", "hiveeyes", "any", false},
		{"realm-wide-token-12", "hiveeyes", "any", false},
	}
	for _, tt := range tests {
		if got := a.IngestAllowed(tt.token, tt.realm, tt.network); got != tt.want {
			t.Errorf("IngestAllowed(%q, %q, %q) = %v", tt.token, tt.realm, tt.network, got)
		}
	}
}

func TestTokenOf(t *testing.T) {
	bearer := httptest.NewRequest("POST", "/api/x", nil)
	bearer.Header.Set("Authorization", "Bearer tok-1")
	basic := httptest.NewRequest("POST", "/write?db=x", nil)
	basic.SetBasicAuth("telegraf", "tok-2")
	query := httptest.NewRequest("POST", "/api/x?token=tok-3", nil)
	none := httptest.NewRequest("POST", "/api/x", nil)
	for r, want := range map[*http.Request]string{bearer: "tok-1", basic: "tok-2", query: "tok-3", none: ""} {
		if got := TokenOf(r); got != want {
			t.Errorf("TokenOf(%s) = %q, want %q", r.URL, got, want)
		}
	}
}

func TestSessionAndCSRF(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	a, err := New(Config{Key: key, WebUsers: []User{{Name: "beekeeper", PasswordHash: hash(t, "honey")}}, LoginAdmin: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if a.WebLogin("beekeeper", "wax") || !a.WebLogin("beekeeper", "honey") {
		t.Fatal("WebLogin")
	}
	rec := httptest.NewRecorder()
	a.StartSession(rec, "beekeeper")
	cookie := rec.Result().Cookies()[0]
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookie)
	if u, ok := a.SessionUser(req); !ok || u != "beekeeper" {
		t.Errorf("session user %q %v", u, ok)
	}
	forged := *cookie
	forged.Value = strings.Replace(cookie.Value, cookie.Value[len(cookie.Value)-4:], "AAAA", 1)
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&forged)
	if _, ok := a.SessionUser(req); ok {
		t.Error("a forged session cookie was accepted")
	}
	now = now.Add(31 * 24 * time.Hour)
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookie)
	if _, ok := a.SessionUser(req); ok {
		t.Error("an expired session was accepted")
	}
	req = httptest.NewRequest("GET", "/", nil)
	req.SetBasicAuth("beekeeper", "honey")
	if _, ok := a.SessionUser(req); !ok {
		t.Error("basic auth with a web account")
	}

	// CSRF: the token of one browser's cookie, not another's.
	rec = httptest.NewRecorder()
	token := a.CSRFToken(rec, httptest.NewRequest("GET", "/login", nil))
	csrf := rec.Result().Cookies()[0]
	post := func(c *http.Cookie, tok string) bool {
		r := httptest.NewRequest("POST", "/logout", strings.NewReader(url.Values{CSRFField: {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c != nil {
			r.AddCookie(c)
		}
		return a.CheckCSRF(r)
	}
	if !post(csrf, token) {
		t.Error("the browser's own token was refused")
	}
	if post(csrf, "") || post(nil, token) || post(&http.Cookie{Name: csrf.Name, Value: "another-browser-seed"}, token) {
		t.Error("a missing or foreign CSRF token was accepted")
	}
}
