package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/apiary-hive/apiary/ingest/address"
	"github.com/apiary-hive/apiary/ingest/decode"
	"github.com/apiary-hive/apiary/ingest/lineproto"
	"github.com/apiary-hive/apiary/store"
)

// lineProtocol handles POST /write?db=...: InfluxDB line protocol as
// Telegraf and Airrohr's InfluxDB mode send it (Airrohr labels it
// application/x-www-form-urlencoded: the Content-Type is ignored). Each
// line's channel comes from the route's template, with {measurement},
// {tag:<name>} and {db}. Good lines are stored even when others are bad;
// like InfluxDB, the answer is then 400 "partial write".
func (in *Ingester) lineProtocol(r *http.Request, m Message, rt address.Route, caps map[string]string, vars func(map[string]string) address.Vars) (Outcome, *httpError) {
	points, lineErrs := lineproto.Parse(m.Payload, r.URL.Query().Get("precision"))
	realm, _, _ := strings.Cut(rt.Channel, "/")
	opts := in.decodeOptions(m.Received, realm)
	groups := map[store.Channel]*decode.Result{}
	var order []store.Channel
	var problems []string
	for _, le := range lineErrs {
		problems = append(problems, le.Error())
	}
	db := r.URL.Query().Get("db")
	addressing := address.TemplateTags(rt.Channel)
	nameLimit := opts.NameLimit()
	for _, p := range points {
		found := map[string]string{"measurement": p.Measurement, "db": db}
		if p.Database != "" {
			found["db"] = p.Database
		}
		for k, v := range p.Tags {
			found["tag:"+k] = v
		}
		addr, err := rt.Expand(caps, vars(found))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		res := groups[addr.Channel]
		if res == nil {
			res = &decode.Result{}
			groups[addr.Channel] = res
			order = append(order, addr.Channel)
		}
		// Tags the channel does not name tell series apart (Telegraf's
		// cpu=cpu0 and cpu=cpu1 at one time): they go into the field name.
		suffix := tagSuffix(p.Tags, addressing)
		hashed := "" // the suffix as a hash, made once a line when needed
		fields := make(map[string]any, len(p.Fields)+1)
		for k, v := range p.Fields {
			name := k + suffix
			if len(name) > nameLimit && len(k) < nameLimit-len(".tags#00000000") {
				// Many or long tags (Docker labels): their hash still
				// keeps the series apart.
				if hashed == "" {
					h := fnv.New32a()
					h.Write([]byte(suffix))
					hashed = fmt.Sprintf(".tags#%08x", h.Sum32())
				}
				name = k + hashed
			}
			fields[name] = v.Interface()
		}
		rd, err := decode.ReadingFromObject(numbersAsJSON(fields), opts, res)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !p.Time.IsZero() && decode.CheckTime(p.Time, "the line's time", opts, res) {
			rd.Time = p.Time
		}
		res.Readings = append(res.Readings, rd)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].String() < order[j].String() })
	for _, ch := range order {
		if herr := in.authorize(r, m, ch); herr != nil {
			return Outcome{}, herr
		}
	}
	out := Outcome{noContent: true}
	for _, ch := range order {
		o, err := in.Store(r.Context(), m, ch, *groups[ch], nil)
		if errors.Is(err, ErrNotStored) {
			return out, &httpError{http.StatusServiceUnavailable, `{"error":"not stored, please retry"}`}
		}
		out.Readings += o.Readings
		out.Channel = ch
	}
	if len(problems) > 0 {
		err := &decode.Error{Kind: "lineproto", Err: fmt.Errorf("%d bad line(s): %s", len(problems), strings.Join(problems, "; "))}
		in.fail(m, out.Channel, err)
		msg := "partial write: " + err.Error()
		if out.Readings == 0 {
			msg = "unable to parse: " + err.Error()
		}
		return out, &httpError{http.StatusBadRequest, msg}
	}
	if out.Readings == 0 {
		return out, &httpError{http.StatusBadRequest, "no points in the request body"}
	}
	return out, nil
}

// tagSuffix is ".key=value" for each tag the channel's template does not
// name, in the order of the keys: what makes a field name unique in its
// channel. A tag the template names (node, host) addresses the channel,
// whether it was the one used or not.
func tagSuffix(tags map[string]string, addressing map[string]bool) string {
	var keys []string
	for k := range tags {
		if !addressing[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("." + k + "=" + tags[k])
	}
	return b.String()
}

// numbersAsJSON hands line-protocol values to the JSON reading rules:
// integers as exact float64 (raw counts up to 2^53 stay exact), strings and
// booleans as they are.
func numbersAsJSON(fields map[string]any) map[string]any {
	for k, v := range fields {
		switch n := v.(type) {
		case int64:
			fields[k] = float64(n)
		case uint64:
			fields[k] = float64(n)
		}
	}
	return fields
}

// createDatabase is the statement Telegraf's InfluxDB output sends to
// /query when it starts (skip_database_creation = false by default).
var createDatabase = regexp.MustCompile(`(?i)^\s*CREATE\s+DATABASE\s`)

// influxQuery answers POST /query as InfluxDB 1.x would a CREATE DATABASE:
// 200 and an empty result, as channels need no creating. Any other query
// is a 400 with InfluxDB's error shape and an error-log entry: Apiary
// stores what /write sends but answers no InfluxQL.
func (in *Ingester) influxQuery(w http.ResponseWriter, r *http.Request, m Message) {
	q := r.URL.Query().Get("q")
	if values, err := url.ParseQuery(string(m.Payload)); err == nil && values.Get("q") != "" {
		q = values.Get("q")
	}
	w.Header().Set("Content-Type", "application/json")
	if createDatabase.MatchString(q) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"results":[{"statement_id":0}]}`+"\n")
		return
	}
	err := &decode.Error{Kind: "lineproto", Err: fmt.Errorf("InfluxQL query %q: Apiary stores InfluxDB writes (POST /write) but answers no queries", Excerpt([]byte(q), 80))}
	in.fail(m, store.Channel{}, err)
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]string{"error": err.Err.Error()})
	w.Write(append(b, '\n'))
}
