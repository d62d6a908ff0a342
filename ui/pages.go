package ui

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/apiary-hive/apiary/store"
)

// page is what the layout needs.
type page struct {
	Title   string
	Nav     string // "overview", "errors"
	CSS     string
	JS      []string
	Version string
	// Live makes apiary.js reload the page when the catalogue changes:
	// a new channel, field or reading.
	Live bool
}

func (u *UI) newPage(title, nav string, charts bool) page {
	p := page{Title: title, Nav: nav, CSS: u.assets.url("apiary.css"), Version: u.opts.Version, Live: true}
	if charts {
		p.JS = append(p.JS, u.assets.url("echarts.min.js"))
	}
	p.JS = append(p.JS, u.assets.url("apiary.js"))
	return p
}

func render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	c.Render(r.Context(), w)
}

// valueCell is a latest value as shown on a card.
type valueCell struct {
	Name  string
	Value string
	Unit  string
}

type nodeCard struct {
	Channel  store.Channel
	URL      string
	LastSeen string
	Ago      string
	Quiet    bool
	Values   []valueCell
}

type networkGroup struct {
	Realm   string
	Network string
	Nodes   []nodeCard
}

func nodeURL(ch store.Channel) string {
	return "/d/" + url.PathEscape(ch.Realm) + "/" + url.PathEscape(ch.Network) + "/" +
		url.PathEscape(ch.Gateway) + "/" + url.PathEscape(ch.Node)
}

func exportURL(ch store.Channel, file string, q url.Values) string {
	s := "/api/" + url.PathEscape(ch.Realm) + "/" + url.PathEscape(ch.Network) + "/" +
		url.PathEscape(ch.Gateway) + "/" + url.PathEscape(ch.Node) + "/" + file
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func (u *UI) card(ci store.ChannelInfo) nodeCard {
	now := u.now()
	c := nodeCard{
		Channel:  ci.Channel,
		URL:      nodeURL(ci.Channel),
		LastSeen: ci.Last.In(u.opts.Zone).Format("2006-01-02 15:04:05"),
		Ago:      ago(now.Sub(ci.Last)),
		Quiet:    now.Sub(ci.Last) > u.opts.QuietAfter,
	}
	fields := append([]store.FieldInfo(nil), ci.Fields...)
	sort.SliceStable(fields, func(i, j int) bool { return classify(fields[i].Name).order < classify(fields[j].Name).order })
	for _, f := range fields {
		v := valueCell{Name: f.Name}
		if f.Kind == store.Text {
			v.Value = f.LastText
		} else {
			v.Value = formatValue(f.LastValue)
			v.Unit = classify(f.Name).Unit
		}
		c.Values = append(c.Values, v)
	}
	return c
}

func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "seconds ago"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request) {
	var groups []networkGroup
	for _, ci := range u.st.Channels() {
		n := len(groups)
		if n == 0 || groups[n-1].Realm != ci.Channel.Realm || groups[n-1].Network != ci.Channel.Network {
			groups = append(groups, networkGroup{Realm: ci.Channel.Realm, Network: ci.Channel.Network})
			n++
		}
		groups[n-1].Nodes = append(groups[n-1].Nodes, u.card(ci))
	}
	render(w, r, http.StatusOK, overviewPage(u.newPage("Apiary", "overview", false), groups))
}

// rangePreset is a time range offered on the node dashboard.
type rangePreset struct {
	Key   string
	Label string
	Span  time.Duration
}

var rangePresets = []rangePreset{
	{"1h", "1 hour", time.Hour},
	{"24h", "24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"1y", "1 year", 365 * 24 * time.Hour},
}

type rangeLink struct {
	Label  string
	URL    string
	Active bool
}

type chartView struct {
	Field  string
	Family string
	Unit   string
	Latest string
	Option string // ECharts option as JSON
	Points int
}

type nodeView struct {
	Card       nodeCard
	Ranges     []rangeLink
	From, To   string
	Charts     []chartView
	Texts      []valueCell
	Events     []store.Event
	ExportCSV  string
	ExportJSON string
	Zone       *time.Location
}

func (u *UI) node(w http.ResponseWriter, r *http.Request) {
	ch := channelFromPath(r)
	ci, ok := u.st.ChannelInfo(ch)
	if !ok {
		render(w, r, http.StatusNotFound, notFoundPage(u.newPage("Not found", "", false), ch.Path()))
		return
	}
	key := r.URL.Query().Get("range")
	preset := rangePresets[1]
	for _, p := range rangePresets {
		if p.Key == key {
			preset = p
		}
	}
	to := u.now()
	from := to.Add(-preset.Span)
	v := nodeView{Card: u.card(ci), Zone: u.opts.Zone,
		From: from.In(u.opts.Zone).Format("2006-01-02 15:04"), To: to.In(u.opts.Zone).Format("2006-01-02 15:04")}
	for _, p := range rangePresets {
		v.Ranges = append(v.Ranges, rangeLink{Label: p.Label, URL: v.Card.URL + "?range=" + p.Key, Active: p.Key == preset.Key})
	}
	events, err := u.st.Events(r.Context(), ch, from, to)
	if err != nil {
		u.log.Warn("dashboard: events", "channel", ch.String(), "err", err)
	}
	v.Events = events
	for _, f := range ci.Fields {
		if f.Kind == store.Text {
			v.Texts = append(v.Texts, valueCell{Name: f.Name, Value: f.LastText})
			continue
		}
		buckets, width, err := u.st.Downsample(r.Context(), ch, f.Name, from, to, u.opts.MaxChartPoints)
		if err != nil {
			http.Error(w, "query failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fam := classify(f.Name)
		v.Charts = append(v.Charts, chartView{
			Field: f.Name, Family: fam.Name, Unit: fam.Unit, Latest: formatValue(f.LastValue),
			Option: chartOption(f.Name, fam.Unit, buckets, width, events, from, to), Points: len(buckets),
		})
	}
	sort.SliceStable(v.Charts, func(i, j int) bool {
		return classify(v.Charts[i].Field).order < classify(v.Charts[j].Field).order
	})
	q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	v.ExportCSV = exportURL(ch, "data.csv", q)
	v.ExportJSON = exportURL(ch, "data.json", q)
	render(w, r, http.StatusOK, nodePage(u.newPage(ch.Node+" · "+ch.Gateway+" · Apiary", "", true), v))
}

type errorsView struct {
	Entries  []store.ErrorEntry
	Channel  string
	Kind     string
	Kinds    []string
	Channels []string
	Zone     *time.Location
}

func (u *UI) errorsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := errorsView{Channel: q.Get("channel"), Kind: q.Get("kind"), Zone: u.opts.Zone}
	all := u.st.Errors(store.ErrorFilter{})
	kinds, chans := map[string]bool{}, map[string]bool{}
	for _, e := range all {
		kinds[e.Kind] = true
		if e.Channel != "" {
			chans[e.Channel] = true
		}
	}
	v.Kinds, v.Channels = sortedSet(kinds), sortedSet(chans)
	v.Entries = u.st.Errors(store.ErrorFilter{Channel: v.Channel, Kind: v.Kind})
	render(w, r, http.StatusOK, errorsPage(u.newPage("Error log · Apiary", "errors", false), v))
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
