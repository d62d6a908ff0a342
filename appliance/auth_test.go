package appliance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/crypto/bcrypt"

	"github.com/apiary-hive/apiary/internal/auth"
	"github.com/apiary-hive/apiary/store"
)

func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// errorsOfKind returns the error-log entries of a kind.
func errorsOfKind(app *Appliance, kind string) []store.ErrorEntry {
	return app.Store().Errors(store.ErrorFilter{Kind: kind})
}

func connectMQTT(addr, id, user, pw string, tlsCfg *tls.Config) (paho.Client, error) {
	scheme := "tcp://"
	if tlsCfg != nil {
		scheme = "ssl://"
	}
	opts := paho.NewClientOptions().AddBroker(scheme + addr).SetClientID(id).
		SetUsername(user).SetPassword(pw).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).
		SetTLSConfig(tlsCfg)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, io.ErrNoProgress
	}
	return c, tok.Error()
}

// TestMQTTUsersAndACL: with MQTT users configured, anonymous clients and
// wrong passwords are refused, a user publishes only where its filters
// allow, and every refusal is in the error log, never on the bus.
func TestMQTTUsersAndACL(t *testing.T) {
	app := startAppliance(t, func(c *Config) {
		c.Auth.MQTTUsers = []auth.User{
			{Name: "hive-1", PasswordHash: bcryptHash(t, "pw-hive-1"), Publish: []string{"hiveeyes/testdrive/area-42/hive-1/#"}},
			{Name: "watcher", PasswordHash: bcryptHash(t, "pw-watcher"), Publish: []string{"nothing/#"}, Subscribe: []string{"hiveeyes/#"}},
		}
	})
	addr := app.MQTTAddr().String()
	if _, err := connectMQTT(addr, "anon", "", "", nil); err == nil {
		t.Error("anonymous client was let in")
	}
	if _, err := connectMQTT(addr, "wrong", "hive-1", "guess", nil); err == nil {
		t.Error("wrong password was let in")
	}
	if len(errorsOfKind(app, "auth")) == 0 {
		t.Error("refused logins are not in the error log")
	}

	watcher, err := connectMQTT(addr, "watcher", "watcher", "pw-watcher", nil)
	if err != nil {
		t.Fatalf("watcher: %v", err)
	}
	defer watcher.Disconnect(100)
	seen := make(chan string, 10)
	if tok := watcher.Subscribe("hiveeyes/#", 0, func(_ paho.Client, m paho.Message) { seen <- m.Topic() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if tok := watcher.Subscribe("#", 0, nil); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		if st, ok := tok.(*paho.SubscribeToken); ok && st.Result()["#"] != 0x80 {
			t.Errorf("subscribe to # outside the user's filters: granted %#x", st.Result()["#"])
		}
	}

	dev, err := connectMQTT(addr, "hive-1", "hive-1", "pw-hive-1", nil)
	if err != nil {
		t.Fatalf("hive-1: %v", err)
	}
	defer dev.Disconnect(100)
	publish(t, dev, "hiveeyes/testdrive/area-42/hive-1/data.json", 1, `{"weight": 42.5}`)
	// Outside its filter: QoS 0 is dropped (QoS 1 would cost the
	// connection, as MQTT 3 has no refusal code).
	dev.Publish("hiveeyes/testdrive/area-42/hive-2/data.json", 0, false, `{"weight": 1}`).Wait()
	publish(t, dev, "hiveeyes/testdrive/area-42/hive-1/data.json", 1, `{"weight": 42.6}`)

	pts, err := app.Store().Points(t.Context(), store.Channel{Realm: "hiveeyes", Network: "testdrive", Gateway: "area-42", Node: "hive-1"}, "weight", time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil || len(pts) != 2 {
		t.Errorf("hive-1 weights: %v, %v (want 2)", pts, err)
	}
	if _, ok := app.Store().ChannelInfo(store.Channel{Realm: "hiveeyes", Network: "testdrive", Gateway: "area-42", Node: "hive-2"}); ok {
		t.Error("a publish outside the user's filters was stored")
	}
	found := false
	for _, e := range errorsOfKind(app, "auth") {
		if strings.Contains(e.Message, "hive-2") && strings.Contains(e.Message, `"hive-1"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("the refused publish is not in the error log: %v", errorsOfKind(app, "auth"))
	}
	// The watcher sees the devices' own messages, none from Apiary.
	time.Sleep(100 * time.Millisecond)
	close(seen)
	for topic := range seen {
		if topic != "hiveeyes/testdrive/area-42/hive-1/data.json" {
			t.Errorf("message on the bus that no device sent: %s", topic)
		}
	}
}

// TestHTTPIngestTokens: with tokens configured, HTTP ingest needs one for
// the channel's realm (and network): Bearer, basic auth or ?token=.
func TestHTTPIngestTokens(t *testing.T) {
	app := startAppliance(t, func(c *Config) {
		c.Auth.Tokens = []auth.Token{
			{Token: "hiveeyes-token-0001", Realm: "hiveeyes"},
			{Token: "testdrive-token-002", Realm: "workbench", Network: "testdrive"},
			{Token: "telegraf-token-003", Realm: "influx"},
		}
	})
	base := baseURL(app)
	type req struct {
		name, path, ctype, body string
		header                  map[string]string
		basic                   [2]string
		want                    int
	}
	tests := []req{
		{name: "no token", path: "/api/hiveeyes/a/b/c/data", ctype: "application/json", body: `{"x": 1}`, want: 401},
		{name: "bearer", path: "/api/hiveeyes/a/b/c/data", ctype: "application/json", body: `{"x": 2}`, header: map[string]string{"Authorization": "Bearer hiveeyes-token-0001"}, want: 200},
		{name: "query token (GPRS modem)", path: "/api-notls/hiveeyes/a/b/c/data?token=hiveeyes-token-0001", ctype: "application/x-www-form-urlencoded", body: "x=3", want: 200},
		{name: "basic auth password", path: "/api/hiveeyes/a/b/c/data", ctype: "text/csv", body: "## x\n4", basic: [2]string{"any", "hiveeyes-token-0001"}, want: 200},
		{name: "token of another realm", path: "/api/hiveeyes/a/b/c/data", ctype: "application/json", body: `{"x": 5}`, header: map[string]string{"Authorization": "Bearer testdrive-token-002"}, want: 401},
		{name: "network token, its network", path: "/api/workbench/testdrive/b/c/data", ctype: "application/json", body: `{"x": 6}`, header: map[string]string{"Authorization": "Bearer testdrive-token-002"}, want: 200},
		{name: "network token, other network", path: "/api/workbench/other/b/c/data", ctype: "application/json", body: `{"x": 7}`, header: map[string]string{"Authorization": "Bearer testdrive-token-002"}, want: 401},
		{name: "line protocol without token", path: "/write?db=x", ctype: "text/plain", body: "hive,node=n w=1", want: 401},
		{name: "BEEP key, no token", path: "/api/sensors", ctype: "application/json", body: `{"key": "k1", "t": 1}`, want: 401},
		{name: "InfluxDB 2 Token scheme (Telegraf influxdb_v2)", path: "/api/v2/write?org=o&bucket=telegraf", ctype: "text/plain", body: "hive,node=n w=1", header: map[string]string{"Authorization": "Token telegraf-token-003"}, want: 204},
		{name: "InfluxDB 2 wrong token", path: "/api/v2/write?org=o&bucket=telegraf", ctype: "text/plain", body: "hive,node=n w=1", header: map[string]string{"Authorization": "Token hiveeyes-token-0001"}, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", base+tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.basic[0] != "" {
				r.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: %v", resp.Header)
			}
		})
	}
	pts, _ := app.Store().Points(t.Context(), store.Channel{Realm: "hiveeyes", Network: "a", Gateway: "b", Node: "c"}, "x", time.Unix(0, 0), time.Now().Add(time.Hour))
	if len(pts) != 3 {
		t.Errorf("stored %v, want x = 2, 3, 4", pts)
	}
	ci, _ := app.Store().ChannelInfo(store.Channel{Realm: "hiveeyes", Network: "a", Gateway: "b", Node: "c"})
	for _, f := range ci.Fields {
		if f.Name == "token" {
			t.Error("the ?token= of the URL was stored as a field")
		}
	}
	if _, ok := app.Store().ChannelInfo(store.Channel{Realm: "workbench", Network: "other", Gateway: "b", Node: "c"}); ok {
		t.Error("a refused request created its channel")
	}
	entries := errorsOfKind(app, "auth")
	if len(entries) == 0 {
		t.Fatal("refused requests are not in the error log")
	}
	for _, e := range entries {
		if strings.Contains(e.Source, "token") || strings.Contains(e.Message, "testdrive-token-002") {
			t.Errorf("a token leaked into the error log: %+v", e)
		}
	}
}

// browser is an HTTP client with cookies that reads the CSRF token of
// the last page.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, _ := http.NewRequest(method, b.base+path, body)
	r.Header.Set("Accept", "text/html")
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := b.c.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if m := csrfInput.FindSubmatch(page); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(page)
}

// TestWebLogin: login_admin protects deletes and backups, login_read the
// pages too; the login form, logout and the delete form need the
// browser's CSRF token, and another site's form is refused.
func TestWebLogin(t *testing.T) {
	app := startAppliance(t, func(c *Config) {
		c.Auth.WebUsers = []auth.User{{Name: "beekeeper", PasswordHash: bcryptHash(t, "honey-pot-1")}}
		c.Auth.LoginAdmin = true
	})
	base := baseURL(app)
	dev := mqttClient(t, app, "dev")
	publish(t, dev, "hiveeyes/web/site/hive/data.json", 1, `{"weight": 1, "temp": 2}`)
	nodePath := "/admin/delete/hiveeyes/web/site/hive"

	b := newBrowser(t, base)
	if resp, _ := b.do("GET", "/", nil, nil); resp.StatusCode != 200 {
		t.Errorf("reading without login_read: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", nodePath, nil, nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Errorf("admin page without login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, r := range []struct{ method, path string }{{"GET", "/api/admin/backup"}, {"DELETE", "/api/admin/channel/hiveeyes/web/site/hive"}} {
		req, _ := http.NewRequest(r.method, base+r.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s %s without login: %d", r.method, r.path, resp.StatusCode)
		}
	}

	// Log in: a wrong password, a form without the token, then right.
	b.do("GET", "/login?next="+url.QueryEscape(nodePath), nil, nil)
	if resp, _ := b.do("POST", "/login", url.Values{"csrf": {b.csrf}, "name": {"beekeeper"}, "password": {"wax"}}, nil); resp.StatusCode != 401 {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/login", url.Values{"name": {"beekeeper"}, "password": {"honey-pot-1"}}, nil); resp.StatusCode != 403 {
		t.Errorf("login without CSRF token: %d", resp.StatusCode)
	}
	resp, _ := b.do("POST", "/login", url.Values{"csrf": {b.csrf}, "name": {"beekeeper"}, "password": {"honey-pot-1"}, "next": {nodePath}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != nodePath {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("GET", nodePath, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Log out") || !strings.Contains(page, `value="temp"`) {
		t.Fatalf("delete form after login: %d\n%s", resp.StatusCode, page)
	}
	// Another site's form: refused by the origin check, and without the
	// token by the CSRF check.
	if resp, _ := b.do("POST", nodePath, url.Values{"csrf": {b.csrf}, "field": {"temp"}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}); resp.StatusCode != 403 {
		t.Errorf("cross-site delete: %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", nodePath, url.Values{"field": {"temp"}}, nil); resp.StatusCode != 403 {
		t.Errorf("delete without CSRF token: %d", resp.StatusCode)
	}
	ch := store.Channel{Realm: "hiveeyes", Network: "web", Gateway: "site", Node: "hive"}
	if ci, _ := app.Store().ChannelInfo(ch); len(ci.Fields) != 2 {
		t.Fatalf("a refused delete deleted: %+v", ci.Fields)
	}
	if resp, page := b.do("POST", nodePath, url.Values{"csrf": {b.csrf}, "field": {"temp"}}, nil); resp.StatusCode != 200 || !strings.Contains(page, "Deleted the field temp") {
		t.Errorf("delete with the form: %d\n%s", resp.StatusCode, page)
	}
	if ci, _ := app.Store().ChannelInfo(ch); len(ci.Fields) != 1 || ci.Fields[0].Name != "weight" {
		t.Errorf("fields after the delete: %+v", ci.Fields)
	}

	// Scripts use basic auth with a web account.
	req, _ := http.NewRequest("GET", base+"/api/admin/backup", nil)
	req.SetBasicAuth("beekeeper", "honey-pot-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n == 0 {
		t.Errorf("backup with basic auth: %d, %d bytes", resp.StatusCode, n)
	}

	// Log out; the admin page asks for a login again.
	b.do("GET", "/", nil, nil)
	if resp, _ := b.do("POST", "/logout", url.Values{"csrf": {b.csrf}}, nil); resp.StatusCode != 303 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", nodePath, nil, nil); resp.StatusCode != 303 {
		t.Errorf("admin page after logout: %d", resp.StatusCode)
	}
}

// TestLoginRead: with login_read, every page and export needs a login;
// health, the login page, assets and ingest do not.
func TestLoginRead(t *testing.T) {
	app := startAppliance(t, func(c *Config) {
		c.Auth.WebUsers = []auth.User{{Name: "beekeeper", PasswordHash: bcryptHash(t, "honey-pot-1")}}
		c.Auth.LoginRead = true
	})
	base := baseURL(app)
	for path, want := range map[string]int{
		"/": 401, "/status": 401, "/errors": 401, "/api/channels": 401, "/metrics": 401,
		"/api/hiveeyes/a/b/c/data.csv": 401, "/healthz": 200, "/login": 200,
	} {
		if code, _ := get(t, base+path); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
	resp, err := http.Post(base+"/api/hiveeyes/a/b/c/data", "application/json", strings.NewReader(`{"x": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("ingest with login_read and no tokens: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/api/hiveeyes/a/b/c/data.csv?from=2000-01-01", nil)
	req.SetBasicAuth("beekeeper", "honey-pot-1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "x") {
		t.Errorf("export with basic auth: %d %s", resp.StatusCode, body)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "apiary test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: HTTPS and MQTT over TLS from certificate files; plain MQTT
// stays on its own port.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.MQTT.TLSListen = "127.0.0.1:0"
	cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile = certFile, keyFile
	cfg.MQTT.TLSCertFile, cfg.MQTT.TLSKeyFile = certFile, keyFile
	app, err := Open(cfg, Build{Version: "test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); <-done }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + app.HTTPAddr().String()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = client.Get(base + "/healthz"); err == nil && resp.StatusCode == 200 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTPS healthz: %v", err)
	}
	resp.Body.Close()
	if _, err := http.Get("http://" + app.HTTPAddr().String() + "/healthz"); err == nil {
		// A plain request to a TLS port gets a 400 from net/http, not data.
		t.Log("plain HTTP to the HTTPS port answered (net/http's 400)")
	}

	c, err := connectMQTT(app.broker.TLSAddr().String(), "tls-dev", "", "", &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("MQTT over TLS: %v", err)
	}
	publish(t, c, "hiveeyes/tls/site/hive/data.json", 1, `{"weight": 7.5}`)
	c.Disconnect(100)
	resp, err = client.Get(base + "/api/hiveeyes/tls/site/hive/data.json?from=2000-01-01")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "7.5") {
		t.Errorf("reading sent over MQTT/TLS, read over HTTPS: %s", body)
	}
}

// TestHTTPConnectionLimit: with max_connections busy, the next client
// waits until one closes, and is then served.
func TestHTTPConnectionLimit(t *testing.T) {
	app := startAppliance(t, func(c *Config) { c.HTTP.MaxConnections = 2 })
	addr := app.HTTPAddr().String()
	// waitHealthy's keep-alive connection may hold a slot: drop it.
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		buf := make([]byte, 512)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "200 OK") {
			t.Fatalf("held connection: %v %q", err, buf[:n])
		}
	}
	answered := make(chan int, 1)
	go func() {
		tr := &http.Transport{DisableKeepAlives: true}
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + addr + "/healthz")
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case code := <-answered:
		t.Fatalf("a third connection was served past the limit of 2 (status %d)", code)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	if code := <-answered; code != 200 {
		t.Errorf("the waiting client, after a slot freed: %d", code)
	}
	held[1].Close()
}
