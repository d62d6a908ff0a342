package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Access is what a request needs.
type Access int

const (
	// Ingest requests carry readings; they have their own tokens.
	Ingest Access = iota
	// Public requests need nothing: the login page, assets, health.
	Public
	// Read requests show data: they need a login with login_read.
	Read
	// Admin requests change or take away data: they need a login with
	// login_admin or login_read.
	Admin
)

// Info is what a page needs to know of the request's visitor.
type Info struct {
	// User is the logged-in web user ("" for none).
	User string
	// Logins says whether the appliance has web logins at all.
	Logins bool
	// CSRF is the token for the forms of this page.
	CSRF string
}

type infoKey struct{}

// InfoFrom returns the visitor info that Guard put into the context.
func InfoFrom(ctx context.Context) Info {
	i, _ := ctx.Value(infoKey{}).(Info)
	return i
}

// Guard lets a request through when its access (as classify says) is
// granted, with the visitor Info in its context. Otherwise a browser is
// sent to the login page and a script gets 401 asking for basic auth.
// Every state-changing request that is not ingest must also pass
// net/http's cross-origin protection.
func (a *Authority) Guard(next http.Handler, classify func(*http.Request) Access) http.Handler {
	cop := http.NewCrossOriginProtection()
	web := cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := classify(r)
		user, _ := a.SessionUser(r)
		required := need == Admin && a.LoginAdmin() || need == Read && a.LoginRead()
		if required && user == "" {
			a.askLogin(w, r)
			return
		}
		info := Info{User: user, Logins: len(a.web) > 0, CSRF: a.CSRFToken(w, r)}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if classify(r) == Ingest {
			next.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
}

func (a *Authority) askLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="apiary", charset="UTF-8"`)
	http.Error(w, "Unauthorized: log in with a web account (basic auth for scripts)", http.StatusUnauthorized)
}

// SafeNext returns next when it is a path on this site, else "/": a
// login form must not send the visitor elsewhere.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
