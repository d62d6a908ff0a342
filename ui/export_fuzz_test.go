package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/internal/testvectors"
	"github.com/apiary-hive/apiary/internal/timeparse"
	"github.com/apiary-hive/apiary/store"
)

// exportQuerySeeds are export query strings: Kotori's, from the test
// vectors, and every parameter of the export API.
func exportQuerySeeds(f *testing.F) []string {
	out := []string{
		"from=2020-03-10T00:00:00.000Z&to=2020-03-10T23:59:59.000Z",
		"exclude=time,humidity&sort=temperature&direction=descending&limit=1",
		"include=temperature,humidity&pad=true",
		"backfill=yes&interpolate=1&sort=time,state&direction=asc",
		"scalar=temperature&sort=temperature&direction=desc",
		"scalar=time", "limit=-1", "limit=x", "from=now-8d5h3m&to=now-6d", "from=20200310&to=20200310",
	}
	for _, v := range testvectors.Load(f) {
		if _, q, ok := strings.Cut(v.TopicOrPath, "?"); ok && strings.HasPrefix(v.Transport, "http-export") {
			out = append(out, q)
		}
	}
	return out
}

// fuzzTable is a table of six rows with gaps: two numeric columns whose
// values the fuzzer chooses, and a text column.
func fuzzTable(a, b, c float64) table {
	n := func(v float64) cell { return cell{num: v, kind: 'n'} }
	s := func(v string) cell { return cell{text: v, kind: 't'} }
	var none cell
	grid := [][]cell{
		{n(a), none, s("ok")},
		{none, n(1.5), none},
		{none, n(c), s("swarm")},
		{n(b), none, none},
		{none, n(a), none},
		{n(c), none, s("ok")},
	}
	tbl := table{hasTime: true, columns: []string{"humidity", "temperature", "state"}}
	for i, cells := range grid {
		tbl.rows = append(tbl.rows, row{t: day.Add(time.Duration(i) * time.Hour), cells: cells})
	}
	return tbl
}

// FuzzExportQuery runs the query parsing of the export API (from, to,
// include, exclude, sort, direction, limit, scalar, pad, backfill,
// interpolate) on a table whose values the fuzzer chooses, and checks what
// comes out: only the table's columns, once each, and its rows, at most
// limit of them; numbers finite and within the range of their column;
// valid JSON and CSV. A query is refused only for a bad limit.
func FuzzExportQuery(f *testing.F) {
	for _, q := range exportQuerySeeds(f) {
		f.Add(q, 51.8, 64.8, 25.26)
	}
	f.Add("interpolate=true", -1.5e308, 1.5e308, 0.0)
	f.Fuzz(func(t *testing.T, query string, a, b, c float64) {
		for _, v := range []float64{a, b, c} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return // the store keeps finite numbers only
			}
		}
		q, _ := url.ParseQuery(query) // as r.URL.Query(): bad pairs are dropped
		now := day.Add(20 * time.Hour)
		from, errF := timeparse.Bound(q.Get("from"), now, time.UTC, false)
		to, errT := timeparse.Bound(q.Get("to"), now, time.UTC, true)
		if errF == nil && errT == nil {
			name := exportFilename(itest, from, to, "csv")
			if strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != "" {
				t.Fatalf("file name %q", name)
			}
		}

		orig := fuzzTable(a, b, c)
		tbl := fuzzTable(a, b, c)
		if err := tbl.shape(q); err != nil {
			if l := q.Get("limit"); l == "" || !strings.HasPrefix(err.Error(), "Bad 'limit'") {
				t.Fatalf("shape(%q): %v", query, err)
			}
			if n, aerr := strconv.Atoi(q.Get("limit")); aerr == nil && n >= 0 {
				t.Fatalf("shape(%q): limit %d refused", query, n)
			}
			return
		}

		// Columns: the table's, once each; "time" goes with exclude only.
		seen := map[string]bool{}
		for _, c := range tbl.columns {
			if seen[c] || !slices.Contains(orig.columns, c) {
				t.Fatalf("shape(%q): columns %q", query, tbl.columns)
			}
			seen[c] = true
		}
		if tbl.hasTime == slices.Contains(splitList(q.Get("exclude")), "time") {
			t.Fatalf("shape(%q): hasTime %v", query, tbl.hasTime)
		}
		// Rows: the table's, once each, at most limit.
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && len(tbl.rows) > n {
			t.Fatalf("shape(%q): %d rows", query, len(tbl.rows))
		}
		rowsAt := map[time.Time]bool{}
		for _, r := range tbl.rows {
			if rowsAt[r.t] || r.t.Before(orig.rows[0].t) || r.t.After(orig.rows[len(orig.rows)-1].t) {
				t.Fatalf("shape(%q): row time %v", query, r.t)
			}
			rowsAt[r.t] = true
			if len(r.cells) != len(tbl.columns) {
				t.Fatalf("shape(%q): %d cells for %d columns", query, len(r.cells), len(tbl.columns))
			}
			// Cells: filled gaps stay within what the column holds.
			for i, cl := range r.cells {
				src := slices.Index(orig.columns, tbl.columns[i])
				lo, hi, texts := math.Inf(1), math.Inf(-1), map[string]bool{}
				for _, or := range orig.rows {
					switch oc := or.cells[src]; oc.kind {
					case 'n':
						lo, hi = math.Min(lo, oc.num), math.Max(hi, oc.num)
					case 't':
						texts[oc.text] = true
					}
				}
				switch {
				case cl.kind == 'n' && (math.IsNaN(cl.num) || math.IsInf(cl.num, 0) || cl.num < lo || cl.num > hi),
					cl.kind == 't' && !texts[cl.text]:
					t.Fatalf("shape(%q) with %v, %v, %v: column %s holds %+v", query, a, b, c, tbl.columns[i], cl)
				}
			}
		}
		if field := q.Get("scalar"); field != "" {
			if s, ok := tbl.scalar(field); ok && field != "time" {
				i := slices.Index(tbl.columns, field)
				if i < 0 || s != tbl.rows[0].cells[i].String() {
					t.Fatalf("scalar(%q) = %q", field, s)
				}
			}
		}

		var buf bytes.Buffer
		tbl.writeJSON(&buf)
		var recs []map[string]any
		if err := json.Unmarshal(buf.Bytes(), &recs); err != nil || len(recs) != len(tbl.rows) {
			t.Fatalf("shape(%q) with %v, %v, %v: JSON %s: %v", query, a, b, c, buf.Bytes(), err)
		}
		buf.Reset()
		tbl.writeDelimited(&buf, ',')
		got, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(got) != len(tbl.rows)+1 {
			t.Fatalf("shape(%q): CSV of %d rows: %v, %v", query, len(tbl.rows), got, err)
		}
		buf.Reset()
		tbl.writeHTML(&buf, itest)
	})
}

// FuzzExport drives the export handler over a real store: any query and
// format gets 200, 400 or 404 (never a 5xx), and a 200 is the format it
// says it is.
func FuzzExport(f *testing.F) {
	for _, q := range exportQuerySeeds(f) {
		f.Add(uint8(0), "csv", q)
		f.Add(uint8(0), "json", q)
	}
	f.Add(uint8(1), "json", "from=20200310&to=20200310")
	f.Add(uint8(0), "html", "from=20200310&to=20200310&interpolate=true")
	f.Add(uint8(0), "tsv", "from=20200310&to=20200310&scalar=state")

	st, err := store.Open(store.Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	rs := kotoriExportData()
	rs = append(rs,
		store.Reading{Channel: itest, Time: day.Add(5 * time.Hour), Fields: map[string]float64{"weight": -1.7e308}, Text: map[string]string{"state": "ok"}},
		store.Reading{Channel: itest, Time: day.Add(6 * time.Hour), Text: map[string]string{"state": "<b>swarm</b>"}},
		store.Reading{Channel: itest, Time: day.Add(7 * time.Hour), Fields: map[string]float64{"weight": 1.7e308}},
	)
	ctx := context.Background()
	if err := st.Write(ctx, rs); err != nil {
		f.Fatal(err)
	}
	if err := st.WriteEvents(ctx, []store.Event{{Channel: itest, Time: day.Add(time.Hour), Title: "Fed", Text: "2 kg", Tags: []string{"feeding"}}}); err != nil {
		f.Fatal(err)
	}
	h := New(Options{Store: st, Version: "test", Zone: time.UTC, Now: func() time.Time { return day.Add(20 * time.Hour) }})

	f.Fuzz(func(t *testing.T, kind uint8, format, query string) {
		file := []string{"data", "event"}[kind%2] + "." + strings.ReplaceAll(format, "/", "")
		req := httptest.NewRequest("GET", "/api/mqttkit-1/itest/foo/bar/x", nil)
		req.URL.Path = "/api/mqttkit-1/itest/foo/bar/" + file
		req.URL.RawPath = ""
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		body := w.Body.Bytes()
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMovedPermanently:
			return
		default:
			t.Fatalf("GET %s?%s = %d %s", file, query, w.Code, body)
		}
		q, _ := url.ParseQuery(query)
		ctype := w.Header().Get("Content-Type")
		if q.Get("scalar") != "" {
			if ctype != "text/plain; charset=utf-8" {
				t.Fatalf("GET %s?%s: scalar as %q", file, query, ctype)
			}
			return
		}
		if want := exportFormats[format]; ctype != want {
			t.Fatalf("GET %s?%s: Content-Type %q, want %q", file, query, ctype, want)
		}
		switch format {
		case "json":
			if !json.Valid(body) {
				t.Fatalf("GET %s?%s: invalid JSON %s", file, query, body)
			}
		case "csv", "txt", "tsv":
			r := csv.NewReader(bytes.NewReader(body))
			if format == "tsv" {
				r.Comma = '\t'
			}
			if _, err := r.ReadAll(); err != nil {
				t.Fatalf("GET %s?%s: %v in %s", file, query, err, body)
			}
		case "html":
			if bytes.Contains(body, []byte("<b>")) {
				t.Fatalf("GET %s?%s: unescaped text in %s", file, query, body)
			}
		}
	})
}
