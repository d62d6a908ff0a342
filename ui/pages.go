package ui

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/apiary-hive/apiary/internal/timeparse"
	"github.com/apiary-hive/apiary/store"
)

// page is what the layout needs.
type page struct {
	Title   string
	Nav     string // "overview", "errors", "status"
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
	Channel   store.Channel
	URL       string
	LastSeen  string
	Ago       string
	Quiet     bool
	Values    []valueCell
	Sparkline string // ECharts option of the week's weight, or ""
}

type networkGroup struct {
	Realm   string
	Network string
	URL     string
	Nodes   []nodeCard
}

func pathOf(parts ...string) string {
	s := ""
	for _, p := range parts {
		s += "/" + url.PathEscape(p)
	}
	return s
}

func nodeURL(ch store.Channel) string {
	return "/d" + pathOf(ch.Realm, ch.Network, ch.Gateway, ch.Node)
}

func networkURL(realm, network string) string { return "/n" + pathOf(realm, network) }

func exportURL(ch store.Channel, file string, q url.Values) string {
	s := "/api" + pathOf(ch.Realm, ch.Network, ch.Gateway, ch.Node, file)
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// card is a node as the overview shows it: latest values with units, last
// seen, quiet when it has said nothing for a while, and (with sparkline) a
// week of its weight.
func (u *UI) card(ctx context.Context, ci store.ChannelInfo, sparkline bool) nodeCard {
	now := u.now()
	c := nodeCard{
		Channel:  ci.Channel,
		URL:      nodeURL(ci.Channel),
		LastSeen: ci.Last.In(u.opts.Zone).Format("2006-01-02 15:04:05"),
		Ago:      ago(now.Sub(ci.Last)),
		Quiet:    now.Sub(ci.Last) > u.opts.QuietAfter,
	}
	fields := append([]store.FieldInfo(nil), ci.Fields...)
	sort.SliceStable(fields, func(i, j int) bool {
		return u.fam.rank(u.fam.classify(fields[i].Name).Name) < u.fam.rank(u.fam.classify(fields[j].Name).Name)
	})
	for _, f := range fields {
		v := valueCell{Name: f.Name}
		if f.Kind == store.Text {
			v.Value = f.LastText
		} else {
			v.Value = formatValue(f.LastValue)
			v.Unit = u.fam.classify(f.Name).Unit
		}
		c.Values = append(c.Values, v)
	}
	if sparkline {
		for _, f := range fields {
			if f.Kind == store.Numeric && isWeight(u.fam.classify(f.Name)) {
				bs, _, err := u.st.Downsample(ctx, ci.Channel, f.Name, now.Add(-7*24*time.Hour), now, 84)
				if err == nil && len(bs) > 1 {
					c.Sparkline = sparklineChart(bs)
				}
				break
			}
		}
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

// groups sorts channels into realms and networks, as cards.
func (u *UI) groups(ctx context.Context, chans []store.ChannelInfo, sparklines bool) []networkGroup {
	var groups []networkGroup
	for _, ci := range chans {
		n := len(groups)
		if n == 0 || groups[n-1].Realm != ci.Channel.Realm || groups[n-1].Network != ci.Channel.Network {
			groups = append(groups, networkGroup{Realm: ci.Channel.Realm, Network: ci.Channel.Network,
				URL: networkURL(ci.Channel.Realm, ci.Channel.Network)})
			n++
		}
		groups[n-1].Nodes = append(groups[n-1].Nodes, u.card(ctx, ci, sparklines))
	}
	return groups
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request) {
	chans := u.st.Channels()
	// Sparklines cost a query each: a large installation gets them on the
	// network pages.
	groups := u.groups(r.Context(), chans, len(chans) <= 60)
	render(w, r, http.StatusOK, overviewPage(u.newPage("Apiary", "overview", true), groups))
}

// network is the dashboard of one network: a panel per node, as Kotori had.
func (u *UI) network(w http.ResponseWriter, r *http.Request) {
	realm, network := r.PathValue("realm"), r.PathValue("network")
	var chans []store.ChannelInfo
	for _, ci := range u.st.Channels() {
		if ci.Channel.Realm == realm && ci.Channel.Network == network {
			chans = append(chans, ci)
		}
	}
	if len(chans) == 0 {
		render(w, r, http.StatusNotFound, notFoundPage(u.newPage("Not found", "", false), "/"+realm+"/"+network))
		return
	}
	groups := u.groups(r.Context(), chans, true)
	render(w, r, http.StatusOK, networkPage(u.newPage(network+" · Apiary", "overview", true), groups[0]))
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
	{"all", "all", 0},
}

type rangeLink struct {
	Label  string
	URL    string
	Active bool
}

// familyView is one family's chart on the node dashboard.
type familyView struct {
	Name   string
	Unit   string
	Fields []valueCell // the fields and their latest values
	Option string      // ECharts option as JSON
	Points int         // the most points of one series
}

type nodeView struct {
	DeleteURL  string
	Card       nodeCard
	Ranges     []rangeLink
	From, To   string // as shown
	FromInput  string // for the custom range form (datetime-local)
	ToInput    string
	Families   []familyView
	Texts      []valueCell
	Events     []store.Event
	Swarms     []swarm
	DailyOpt   string // daily weight change, or ""
	WeightTemp string // weight against outside temperature, or ""
	ExportCSV  string
	ExportJSON string
	Zone       *time.Location
}

// timeRange reads ?range= or ?from=&to= (datetime-local or anything the
// export API reads, in the appliance's zone). live is whether the range
// ends now, so that the page follows new readings.
func (u *UI) timeRange(r *http.Request, first time.Time) (from, to time.Time, key string, live bool) {
	q := r.URL.Query()
	now := u.now()
	if f, t := q.Get("from"), q.Get("to"); f != "" || t != "" {
		from, errF := timeparse.Bound(f, now, u.opts.Zone, false)
		to, errT := timeparse.Bound(t, now, u.opts.Zone, true)
		if t == "" || errT != nil {
			to = now
		}
		if f == "" || errF != nil || !from.Before(to) {
			from = to.Add(-24 * time.Hour)
		}
		return from, to, "", t == "" || now.Sub(to) < time.Minute
	}
	key = q.Get("range")
	preset := rangePresets[1]
	for _, p := range rangePresets {
		if p.Key == key {
			preset = p
		}
	}
	from = now.Add(-preset.Span)
	if preset.Span == 0 {
		from = first
		if !from.Before(now) {
			from = now.Add(-time.Hour)
		}
	}
	return from, now, preset.Key, true
}

func (u *UI) node(w http.ResponseWriter, r *http.Request) {
	ch := channelFromPath(r)
	ci, ok := u.st.ChannelInfo(ch)
	if !ok {
		render(w, r, http.StatusNotFound, notFoundPage(u.newPage("Not found", "", false), ch.Path()))
		return
	}
	ctx := r.Context()
	from, to, key, live := u.timeRange(r, ci.First)
	v := nodeView{Card: u.card(ctx, ci, false), Zone: u.opts.Zone,
		From: from.In(u.opts.Zone).Format("2006-01-02 15:04"), To: to.In(u.opts.Zone).Format("2006-01-02 15:04"),
		FromInput: from.In(u.opts.Zone).Format("2006-01-02T15:04"), ToInput: to.In(u.opts.Zone).Format("2006-01-02T15:04")}
	for _, p := range rangePresets {
		v.Ranges = append(v.Ranges, rangeLink{Label: p.Label, URL: v.Card.URL + "?range=" + p.Key, Active: p.Key == key})
	}
	events, err := u.st.Events(ctx, ch, from, to)
	if err != nil {
		u.log.Warn("dashboard: events", "channel", ch.String(), "err", err)
	}
	v.Events = events

	// Fields into families, in the families' order.
	byFamily := map[string][]store.FieldInfo{}
	famOf := map[string]Family{}
	for _, f := range ci.Fields {
		if f.Kind == store.Text {
			v.Texts = append(v.Texts, valueCell{Name: f.Name, Value: f.LastText})
			continue
		}
		fam := u.fam.classify(f.Name)
		byFamily[fam.Name] = append(byFamily[fam.Name], f)
		famOf[fam.Name] = fam
	}
	names := make([]string, 0, len(byFamily))
	for n := range byFamily {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return u.fam.rank(names[i]) < u.fam.rank(names[j]) })

	var weight, outside *seriesData
	for _, name := range names {
		fam := famOf[name]
		fv := familyView{Name: name, Unit: fam.Unit}
		var series []seriesData
		var swarms []swarm
		fieldNames := make([]string, len(byFamily[name]))
		for i, f := range byFamily[name] {
			fieldNames[i] = f.Name
		}
		all, width, err := u.st.DownsampleFields(ctx, ch, fieldNames, from, to, u.opts.MaxChartPoints)
		if err != nil {
			http.Error(w, "query failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		for _, f := range byFamily[name] {
			buckets := all[f.Name]
			series = append(series, seriesData{Name: f.Name, Buckets: buckets})
			fv.Fields = append(fv.Fields, valueCell{Name: f.Name, Value: formatValue(f.LastValue), Unit: fam.Unit})
			fv.Points = max(fv.Points, len(buckets))
		}
		if isWeight(fam) && len(series) > 0 {
			weight = &series[0]
			swarms = u.swarms(ctx, ch, series[0].Name, from, to)
			v.Swarms = swarms
		}
		if isOutsideTemperature(fam) && len(series) > 0 {
			outside = &series[0]
		}
		fv.Option = familyChart(fam.Unit, series, width, events, swarms, from, to)
		v.Families = append(v.Families, fv)
	}
	if weight != nil {
		v.DailyOpt = u.dailyChange(ctx, ch, weight.Name, from, to)
		if outside != nil {
			v.WeightTemp = weightTempChart(*weight, *outside, from, to)
		}
	}
	q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	v.ExportCSV = exportURL(ch, "data.csv", q)
	v.ExportJSON = exportURL(ch, "data.json", q)
	v.DeleteURL = deleteURL(ch)
	p := u.newPage(ch.Node+" · "+ch.Gateway+" · Apiary", "", true)
	p.Live = live
	render(w, r, http.StatusOK, nodePage(p, v))
}

// swarms looks for swarms in the raw weight points of the range (at most
// the last 60 days of it: older swarms are history the rollups keep).
func (u *UI) swarms(ctx context.Context, ch store.Channel, field string, from, to time.Time) []swarm {
	if to.Sub(from) > 60*24*time.Hour {
		from = to.Add(-60 * 24 * time.Hour)
	}
	pts, err := u.st.Points(ctx, ch, field, from, to)
	if err != nil {
		return nil
	}
	return detectSwarms(pts)
}

// dailyChange charts the weight change per day over the range (at least
// two weeks, so that a day's chart still shows the trend).
func (u *UI) dailyChange(ctx context.Context, ch store.Channel, field string, from, to time.Time) string {
	if to.Sub(from) < 14*24*time.Hour {
		from = to.Add(-14 * 24 * time.Hour)
	}
	start := localMidnight(from, u.opts.Zone).Add(-24 * time.Hour)
	days := int(to.Sub(start)/(24*time.Hour)) + 1
	bs, _, err := u.st.Downsample(ctx, ch, field, start, start.Add(time.Duration(days)*24*time.Hour), days)
	if err != nil || len(bs) < 2 {
		return ""
	}
	return dailyChangeChart(dailyChanges(bs), start.Add(24*time.Hour), to)
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
