package ui

import (
	"net/http"
	"time"

	"github.com/apiary-hive/apiary/internal/auth"
	"github.com/apiary-hive/apiary/store"
)

// deleteView is the page that deletes a node's data or one field of it.
type deleteView struct {
	Channel store.Channel
	Fields  []string
	Done    string
}

func deleteURL(ch store.Channel) string {
	return "/admin/delete" + pathOf(ch.Realm, ch.Network, ch.Gateway, ch.Node)
}

// loginForm shows the login page.
func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	if u.opts.Auth == nil || !u.opts.Auth.HasWebUsers() {
		render(w, r, http.StatusNotFound, notFoundPage(u.newPage("Not found", "", false), "/login: no web accounts are configured ([auth] in the configuration)"))
		return
	}
	p := u.newPage("Log in · Apiary", "", false)
	p.Live = false
	render(w, r, http.StatusOK, loginPage(p, auth.SafeNext(r.URL.Query().Get("next")), ""))
}

// login checks a web account and starts its session.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	a := u.opts.Auth
	if a == nil || !a.HasWebUsers() {
		http.Error(w, "no web accounts are configured", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !a.CheckCSRF(r) {
		http.Error(w, "Forbidden: the form is stale or came from another site; reload the page", http.StatusForbidden)
		return
	}
	next := auth.SafeNext(r.PostFormValue("next"))
	name := r.PostFormValue("name")
	if !a.WebLogin(name, r.PostFormValue("password")) {
		u.log.Warn("web login refused", "user", name, "client", r.RemoteAddr)
		p := u.newPage("Log in · Apiary", "", false)
		p.Live = false
		render(w, r, http.StatusUnauthorized, loginPage(p, next, "Wrong name or password."))
		return
	}
	a.StartSession(w, name)
	u.log.Info("web login", "user", name, "client", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	a := u.opts.Auth
	if a == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !a.CheckCSRF(r) {
		http.Error(w, "Forbidden: the form is stale or came from another site; reload the page", http.StatusForbidden)
		return
	}
	a.EndSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// deleteForm asks what of a node to delete.
func (u *UI) deleteForm(w http.ResponseWriter, r *http.Request) {
	ch := channelFromPath(r)
	ci, ok := u.st.ChannelInfo(ch)
	if !ok {
		render(w, r, http.StatusNotFound, notFoundPage(u.newPage("Not found", "", false), ch.Path()))
		return
	}
	v := deleteView{Channel: ch}
	for _, f := range ci.Fields {
		v.Fields = append(v.Fields, f.Name)
	}
	p := u.newPage("Delete "+ch.Node+" · Apiary", "", false)
	p.Live = false
	render(w, r, http.StatusOK, deletePage(p, v))
}

// deleteData deletes a node's data, or one field, as the form says.
func (u *UI) deleteData(w http.ResponseWriter, r *http.Request) {
	ch := channelFromPath(r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || u.opts.Auth == nil || !u.opts.Auth.CheckCSRF(r) {
		http.Error(w, "Forbidden: the form is stale or came from another site; reload the page", http.StatusForbidden)
		return
	}
	field := r.PostFormValue("field")
	var err error
	what := "node " + ch.String()
	if field != "" {
		what = "field " + field + " of " + ch.String()
		err = u.st.DeleteField(ch, field)
	} else {
		err = u.st.DeleteChannel(ch)
	}
	if err != nil {
		http.Error(w, "Not deleted: "+err.Error(), http.StatusNotFound)
		return
	}
	u.log.Info("deleted", "what", what, "user", auth.InfoFrom(r.Context()).User, "client", r.RemoteAddr)
	p := u.newPage("Deleted · Apiary", "", false)
	p.Live = false
	render(w, r, http.StatusOK, deletePage(p, deleteView{Channel: ch, Done: "Deleted the " + what + " at " + u.now().In(u.opts.Zone).Format(time.DateTime) + "."}))
}
