package ui

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/internal/timeparse"
	"github.com/apiary-hive/apiary/store"
)

// maxExportRows bounds one export, so that a careless from=now-10y cannot
// hold the appliance's memory.
const maxExportRows = 500_000

// exportFormats are the formats of Kotori's export API that Apiary serves.
var exportFormats = map[string]string{
	"csv":  "text/csv; charset=utf-8",
	"txt":  "text/plain; charset=utf-8",
	"tsv":  "text/tab-separated-values; charset=utf-8",
	"json": "application/json; charset=utf-8",
	"html": "text/html; charset=utf-8",
}

// table is an export: a time column and named value columns.
type table struct {
	columns []string // without "time"
	rows    []row
	hasTime bool
}

type row struct {
	t     time.Time
	cells []cell
}

type cell struct {
	num  float64
	text string
	kind byte // 0 missing, 'n' number, 't' text
}

// export serves GET /api/<realm>/<network>/<gateway>/<node>/<data|event>.<format>.
func (u *UI) export(w http.ResponseWriter, r *http.Request) {
	ch := channelFromPath(r)
	kind, format, _ := strings.Cut(r.PathValue("file"), ".")
	format = strings.ToLower(format) // as Kotori: data.CSV is data.csv
	if kind != "data" && kind != "event" {
		plainError(w, http.StatusNotFound, fmt.Sprintf("Unknown resource %q: use data.<format> or event.<format>", r.PathValue("file")))
		return
	}
	ctype, ok := exportFormats[format]
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "# Unknown data format %q: use csv, txt, tsv, json or html", format)
		return
	}
	q := r.URL.Query()
	now := u.now()
	fromS, toS := q.Get("from"), q.Get("to")
	if fromS == "" {
		fromS = "now-10d"
	}
	if toS == "" {
		toS = "now"
	}
	from, err := timeparse.Bound(fromS, now, time.UTC, false)
	if err != nil {
		plainError(w, http.StatusBadRequest, "Bad 'from': "+err.Error())
		return
	}
	to, err := timeparse.Bound(toS, now, time.UTC, true)
	if err != nil {
		plainError(w, http.StatusBadRequest, "Bad 'to': "+err.Error())
		return
	}
	var tbl table
	if kind == "data" {
		tbl, err = u.dataTable(r, ch, from, to)
	} else {
		tbl, err = u.eventTable(r, ch, from, to)
	}
	if err != nil {
		plainError(w, http.StatusInternalServerError, "Export failed: "+err.Error())
		return
	}
	if len(tbl.rows) > maxExportRows {
		plainError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("More than %d rows: narrow 'from' and 'to'", maxExportRows))
		return
	}
	if len(tbl.rows) == 0 {
		noData(w, ch, kind, from, to)
		return
	}
	if err := tbl.shape(q); err != nil {
		plainError(w, http.StatusBadRequest, err.Error())
		return
	}
	if field := q.Get("scalar"); field != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s, ok := tbl.scalar(field); ok {
			fmt.Fprint(w, s)
			return
		}
		plainError(w, http.StatusNotFound, fmt.Sprintf("No value of %q in the first row", field))
		return
	}
	w.Header().Set("Content-Type", ctype)
	disposition := "inline"
	if format == "tsv" {
		disposition = "attachment" // as Kotori: not a type browsers show
	}
	w.Header().Set("Content-Disposition", disposition+"; filename="+exportFilename(ch, from, to, format))
	w.Header().Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	switch format {
	case "csv", "txt":
		tbl.writeDelimited(&buf, ',')
	case "tsv":
		tbl.writeDelimited(&buf, '\t')
	case "json":
		tbl.writeJSON(&buf)
	case "html":
		tbl.writeHTML(&buf, ch)
	}
	w.Write(buf.Bytes())
}

func plainError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

func noData(w http.ResponseWriter, ch store.Channel, kind string, from, to time.Time) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, "# 404 Not Found\n#\n# No %s for channel %s between %s and %s.\n",
		kind, ch.Path(), from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	fmt.Fprint(w, "# Absolute times are ISO 8601; without an offset they are UTC.\n#\n# Examples:\n#\n"+
		"#   ?from=2016-06-25T22:00:00.000Z\n"+
		"#   ?from=2016-06-26T00:00:00.000%2B02:00    (%2B is \"+\" urlencoded)\n"+
		"#   ?from=20160626&to=20160627\n"+
		"#   ?from=now-4h&to=now-2h\n"+
		"#   ?from=now-8d5h3m&to=now-6d\n")
}

// exportFilename is Kotori's <network>_<gateway>_<node>_<from>-<to>.<format>
// with "-" made "_" (itest_foo_bar_20200310T000000_20200310T235959.csv).
// Anything but letters, digits, "_" and "." also becomes "_", so that the
// name needs no quoting.
func exportFilename(ch store.Channel, from, to time.Time, format string) string {
	const f = "20060102T150405"
	name := fmt.Sprintf("%s_%s_%s_%s-%s", ch.Network, ch.Gateway, ch.Node, from.UTC().Format(f), to.UTC().Format(f))
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name) + "." + format
}

func (u *UI) dataTable(r *http.Request, ch store.Channel, from, to time.Time) (table, error) {
	ci, ok := u.st.ChannelInfo(ch)
	tbl := table{hasTime: true}
	if !ok {
		return tbl, nil
	}
	byTime := map[int64]*row{}
	var names []string
	idx := map[string]int{}
	for _, f := range ci.Fields {
		if _, dup := idx[f.Name]; !dup {
			idx[f.Name] = len(names)
			names = append(names, f.Name)
		}
	}
	tbl.columns = names
	get := func(t time.Time) *row {
		k := t.UnixNano()
		rw := byTime[k]
		if rw == nil {
			rw = &row{t: t, cells: make([]cell, len(names))}
			byTime[k] = rw
		}
		return rw
	}
	for _, f := range ci.Fields {
		if len(byTime) > maxExportRows {
			break
		}
		col := idx[f.Name]
		if f.Kind == store.Text {
			pts, err := u.st.TextPoints(r.Context(), ch, f.Name, from, to)
			if err != nil {
				return tbl, err
			}
			for _, p := range pts {
				get(p.Time).cells[col] = cell{text: p.Value, kind: 't'}
			}
			continue
		}
		pts, err := u.st.Points(r.Context(), ch, f.Name, from, to)
		if err != nil {
			return tbl, err
		}
		for _, p := range pts {
			get(p.Time).cells[col] = cell{num: p.Value, kind: 'n'}
		}
	}
	tbl.rows = make([]row, 0, len(byTime))
	for _, rw := range byTime {
		tbl.rows = append(tbl.rows, *rw)
	}
	sort.Slice(tbl.rows, func(i, j int) bool { return tbl.rows[i].t.Before(tbl.rows[j].t) })
	return tbl, nil
}

func (u *UI) eventTable(r *http.Request, ch store.Channel, from, to time.Time) (table, error) {
	evs, err := u.st.Events(r.Context(), ch, from, to)
	tbl := table{hasTime: true, columns: []string{"title", "text", "tags"}}
	for _, ev := range evs {
		tbl.rows = append(tbl.rows, row{t: ev.Time, cells: []cell{
			{text: ev.Title, kind: 't'}, {text: ev.Text, kind: 't'}, {text: strings.Join(ev.Tags, ","), kind: 't'},
		}})
	}
	return tbl, err
}

// shape applies exclude, include, pad, backfill, interpolate, sort and
// limit, in Kotori's order.
func (t *table) shape(q map[string][]string) error {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if ex := splitList(get("exclude")); len(ex) > 0 {
		drop := map[string]bool{}
		for _, c := range ex {
			drop[c] = true
		}
		if drop["time"] {
			t.hasTime = false
		}
		t.keep(func(c string) bool { return !drop[c] })
	}
	if in := splitList(get("include")); len(in) > 0 {
		t.include(in)
	}
	if asBool(get("pad")) {
		t.fill(true)
	}
	if asBool(get("backfill")) {
		t.fill(false)
	}
	if asBool(get("interpolate")) {
		t.interpolate()
	}
	if keys := splitList(get("sort")); len(keys) > 0 {
		asc := strings.HasPrefix(strings.ToLower(get("direction")), "asc") || get("direction") == ""
		t.sortBy(keys, asc)
	}
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return fmt.Errorf("Bad 'limit': %q is not a count", l)
		}
		if n < len(t.rows) {
			t.rows = t.rows[:n]
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func asBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1", "y", "t":
		return true
	}
	return false
}

func (t *table) keep(ok func(string) bool) {
	var idx []int
	for i, c := range t.columns {
		if ok(c) {
			idx = append(idx, i)
		}
	}
	t.project(idx)
}

// project keeps the columns at idx, in that order.
func (t *table) project(idx []int) {
	cols := make([]string, len(idx))
	for j, i := range idx {
		cols[j] = t.columns[i]
	}
	for ri := range t.rows {
		cells := make([]cell, len(idx))
		for j, i := range idx {
			cells[j] = t.rows[ri].cells[i]
		}
		t.rows[ri].cells = cells
	}
	t.columns = cols
}

// include keeps the named columns in the order named (time always stays).
func (t *table) include(names []string) {
	pos := map[string]int{}
	for i, c := range t.columns {
		pos[c] = i
	}
	var idx []int
	seen := map[string]bool{}
	for _, n := range names {
		if i, ok := pos[n]; ok && !seen[n] {
			idx = append(idx, i)
			seen[n] = true
		}
	}
	t.project(idx)
}

// fill propagates the last (forward) or next (backward) value into gaps.
func (t *table) fill(forward bool) {
	for c := range t.columns {
		var last cell
		for i := range t.rows {
			ri := i
			if !forward {
				ri = len(t.rows) - 1 - i
			}
			if t.rows[ri].cells[c].kind == 0 {
				t.rows[ri].cells[c] = last
			} else {
				last = t.rows[ri].cells[c]
			}
		}
	}
}

// interpolate fills numeric gaps linearly by row position (pandas'
// default), leaving leading gaps as they are and carrying the last value
// over trailing ones.
func (t *table) interpolate() {
	for c := range t.columns {
		prev := -1
		for i := range t.rows {
			if t.rows[i].cells[c].kind != 'n' {
				continue
			}
			if prev >= 0 && i-prev > 1 {
				a, b := t.rows[prev].cells[c].num, t.rows[i].cells[c].num
				for k := prev + 1; k < i; k++ {
					if t.rows[k].cells[c].kind == 0 {
						f := float64(k-prev) / float64(i-prev)
						// a*(1-f) + b*f, not a + (b-a)*f: b-a overflows
						// for values of opposite sign near the float64
						// limits. Clamped, as rounding may step over.
						v := min(max(a*(1-f)+b*f, min(a, b)), max(a, b))
						t.rows[k].cells[c] = cell{num: v, kind: 'n'}
					}
				}
			}
			prev = i
		}
		if prev >= 0 {
			for k := prev + 1; k < len(t.rows); k++ {
				if t.rows[k].cells[c].kind == 0 {
					t.rows[k].cells[c] = t.rows[prev].cells[c]
				}
			}
		}
	}
}

func (t *table) sortBy(keys []string, asc bool) {
	var idx []int
	for _, k := range keys {
		if k == "time" {
			idx = append(idx, -1)
			continue
		}
		for i, c := range t.columns {
			if c == k {
				idx = append(idx, i)
			}
		}
	}
	sort.SliceStable(t.rows, func(i, j int) bool {
		a, b := t.rows[i], t.rows[j]
		for _, k := range idx {
			var c int
			if k < 0 {
				c = a.t.Compare(b.t)
			} else {
				ca, cb := a.cells[k], b.cells[k]
				// Missing values go last in either direction, as in pandas.
				switch {
				case ca.kind == 0 && cb.kind != 0:
					return false
				case cb.kind == 0 && ca.kind != 0:
					return true
				}
				c = compareCells(ca, cb)
			}
			if c != 0 {
				return (c < 0) == asc
			}
		}
		return false
	})
}

func compareCells(a, b cell) int {
	switch {
	case a.kind == 0 && b.kind == 0:
		return 0
	case a.kind == 'n' && b.kind == 'n':
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	}
	return strings.Compare(a.String(), b.String())
}

func (t *table) scalar(field string) (string, bool) {
	if len(t.rows) == 0 {
		return "", false
	}
	if field == "time" {
		return formatTimeMicros(t.rows[0].t), true
	}
	for i, c := range t.columns {
		if c == field && t.rows[0].cells[i].kind != 0 {
			return t.rows[0].cells[i].String(), true
		}
	}
	return "", false
}

func (c cell) String() string {
	switch c.kind {
	case 'n':
		return pyFloat(c.num)
	case 't':
		return c.text
	}
	return ""
}

// pyFloat writes a float the way Python's repr does, as Kotori's pandas
// export did: 80.0, 25.26, 1e-05, 1e+16.
func pyFloat(v float64) string {
	abs := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 0):
		if v > 0 {
			return "inf"
		}
		return "-inf"
	case abs != 0 && (abs < 1e-4 || abs >= 1e16):
		return strconv.FormatFloat(v, 'e', -1, 64)
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// formatTimeMicros is the time column of csv/txt/tsv, rounded to the
// microsecond.
func formatTimeMicros(t time.Time) string {
	return t.UTC().Round(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}

func (t *table) header() []string {
	h := make([]string, 0, len(t.columns)+1)
	if t.hasTime {
		h = append(h, "time")
	}
	return append(h, t.columns...)
}

func (t *table) writeDelimited(buf *bytes.Buffer, sep rune) {
	cw := csv.NewWriter(buf)
	cw.Comma = sep
	cw.Write(t.header())
	rec := make([]string, 0, len(t.columns)+1)
	for _, r := range t.rows {
		rec = rec[:0]
		if t.hasTime {
			rec = append(rec, formatTimeMicros(r.t))
		}
		for _, c := range r.cells {
			rec = append(rec, c.String())
		}
		cw.Write(rec)
	}
	cw.Flush()
}

// writeJSON writes an array of records with the time in milliseconds and
// missing values as null, keys in column order.
func (t *table) writeJSON(buf *bytes.Buffer) {
	buf.WriteByte('[')
	for i, r := range t.rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		first := true
		sep := func() {
			if !first {
				buf.WriteByte(',')
			}
			first = false
		}
		if t.hasTime {
			sep()
			buf.WriteString(`"time":"` + r.t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z") + `"`)
		}
		for ci, c := range r.cells {
			sep()
			k, _ := json.Marshal(t.columns[ci])
			buf.Write(k)
			buf.WriteByte(':')
			switch c.kind {
			case 'n':
				buf.WriteString(pyFloat(c.num))
			case 't':
				v, _ := json.Marshal(c.text)
				buf.Write(v)
			default:
				buf.WriteString("null")
			}
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
}

func (t *table) writeHTML(buf *bytes.Buffer, ch store.Channel) {
	esc := html.EscapeString
	fmt.Fprintf(buf, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>%s</title>"+
		"<style>body{font-family:system-ui,sans-serif;margin:1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}th{background:#f4efe6}</style></head><body>\n", esc(ch.Path()))
	fmt.Fprintf(buf, "<h1>%s</h1>\n<table>\n<thead><tr>", esc(ch.Path()))
	for _, h := range t.header() {
		fmt.Fprintf(buf, "<th>%s</th>", esc(h))
	}
	buf.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.rows {
		buf.WriteString("<tr>")
		if t.hasTime {
			fmt.Fprintf(buf, "<td>%s</td>", formatTimeMicros(r.t))
		}
		for _, c := range r.cells {
			fmt.Fprintf(buf, "<td>%s</td>", esc(c.String()))
		}
		buf.WriteString("</tr>\n")
	}
	buf.WriteString("</tbody></table></body></html>\n")
}
