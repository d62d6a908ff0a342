package ingest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/ingest/address"
	"github.com/apiary-hive/apiary/ingest/decode"
	"github.com/apiary-hive/apiary/store"
)

// csvHeaderProperty is the channel property that remembers a CSV header.
const csvHeaderProperty = "csv-header"

// HTTPHandler serves HTTP ingest: Kotori's POST /api/<address>/data,
// /event and /custom/airrohr and any other slot of the MQTT topics (also
// under /api-notls/), and the paths of
// the HTTP routes (Sensor.Community, BEEP, TTN, InfluxDB line protocol).
// A body may be gzip- or deflate-compressed (Content-Encoding; Telegraf
// compresses by default). The GETs of AcceptsGET are readings too, their
// query string the form. It answers only after the readings are durable:
// 200 with Kotori's body, 4xx with a plain message for bad input, 503 when
// the store failed.
func (in *Ingester) HTTPHandler(maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.serveHTTP(w, r, maxBody)
	})
}

// httpError is an answer other than 200.
type httpError struct {
	status int
	msg    string
}

func (in *Ingester) serveHTTP(w http.ResponseWriter, r *http.Request, maxBody int64) {
	m := Message{Transport: "http", Source: r.URL.Path, Client: clientAddr(r), Received: time.Now()}
	switch {
	case r.Method == http.MethodGet && in.AcceptsGET(r):
		// The query is the form: as a POST of it, without the token.
		m.Payload = []byte(queryWithoutToken(r.URL.Query()))
		r = r.Clone(r.Context())
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Del("Content-Encoding")
	case r.Method != http.MethodPost && r.Method != http.MethodPut:
		w.Header().Set("Allow", "POST, PUT")
		plain(w, http.StatusMethodNotAllowed, "Use POST to send readings")
		return
	default:
		body, status, err := readBody(w, r, maxBody)
		if err != nil {
			if status != http.StatusBadRequest {
				in.fail(m, store.Channel{}, err)
			}
			plain(w, status, err.Error())
			return
		}
		m.Payload = body
	}

	var out Outcome
	var herr *httpError
	if r.URL.Path == "/query" && r.Method == http.MethodPost {
		in.influxQuery(w, r, m)
		return
	}
	if rt, caps, ok := in.opts.Resolver.Routes.Path(r.URL.Path); ok {
		out, herr = in.routeHTTP(r, m, rt, caps)
	} else if rest, ok := kotoriPath(r.URL.Path); ok {
		out, herr = in.kotoriHTTP(r, m, rest)
	} else {
		err := &decode.Error{Kind: "address", Err: fmt.Errorf("no ingest endpoint at %s: use /api/<realm>/<network>/<gateway>/<node>/data", r.URL.Path)}
		in.fail(m, store.Channel{}, err)
		herr = &httpError{http.StatusNotFound, "No ingest endpoint at " + r.URL.Path + ": use /api/<realm>/<network>/<gateway>/<node>/data"}
	}
	if herr != nil {
		if herr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="apiary"`)
		}
		plain(w, herr.status, herr.msg)
		return
	}
	if !out.Channel.IsZero() {
		w.Header().Set("Channel-Id", out.Channel.Path())
	}
	if out.noContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	type info struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	var infos []info
	for _, msg := range out.Info {
		infos = append(infos, info{"info", msg})
	}
	infos = append(infos, info{"info", fmt.Sprintf("Received #%d readings", out.Readings+out.Events)})
	answer, _ := json.MarshalIndent(infos, "", "    ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(answer)
}

// readBody reads a request body of at most maxBody bytes, decompressed
// when Content-Encoding says gzip or deflate (the limit holds for the
// compressed and for the decompressed bytes). The error is the answer's
// text, with its status: 413 over the limit (an error-log entry), 415 for
// an unknown encoding (an entry too), 400 when the body cannot be read.
func readBody(w http.ResponseWriter, r *http.Request, maxBody int64) ([]byte, int, error) {
	limited := http.MaxBytesReader(w, r.Body, maxBody)
	var src io.Reader = limited
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip", "deflate":
		raw, err := io.ReadAll(limited)
		if err != nil {
			return readError(err, maxBody)
		}
		var zr io.ReadCloser
		if enc == "deflate" {
			zr, err = zlib.NewReader(bytes.NewReader(raw))
		} else {
			zr, err = gzip.NewReader(bytes.NewReader(raw))
		}
		if err != nil {
			return nil, http.StatusUnsupportedMediaType, &decode.Error{Kind: "content-encoding", Err: fmt.Errorf("body is not %s: %w", enc, err)}
		}
		defer zr.Close()
		body, err := io.ReadAll(io.LimitReader(zr, maxBody+1))
		if err != nil {
			return nil, http.StatusUnsupportedMediaType, &decode.Error{Kind: "content-encoding", Err: fmt.Errorf("body is not %s: %w", enc, err)}
		}
		if int64(len(body)) > maxBody {
			return nil, http.StatusRequestEntityTooLarge, &decode.Error{Kind: "limit", Err: fmt.Errorf("decompressed request body over the limit of %d bytes", maxBody)}
		}
		return body, 0, nil
	default:
		return nil, http.StatusUnsupportedMediaType, &decode.Error{Kind: "content-encoding", Err: fmt.Errorf("Unable to handle Content-Encoding %q: send gzip, deflate or none", enc)}
	}
	body, err := io.ReadAll(src)
	if err != nil {
		return readError(err, maxBody)
	}
	return body, 0, nil
}

func readError(err error, maxBody int64) ([]byte, int, error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, http.StatusRequestEntityTooLarge, &decode.Error{Kind: "limit", Err: fmt.Errorf("request body over the limit of %d bytes", maxBody)}
	}
	return nil, http.StatusBadRequest, fmt.Errorf("Could not read the request body: %w", err)
}

// exportParams are the query parameters of the export API (and the ingest
// token): a GET with only these is a question, not readings.
var exportParams = map[string]bool{
	"from": true, "to": true, "include": true, "exclude": true, "sort": true, "direction": true, "limit": true,
	"scalar": true, "pad": true, "backfill": true, "interpolate": true, "format": true, "token": true,
}

// AcceptsGET says whether a GET request carries readings in its query
// string, as firmware that cannot POST sends them (Open Hive built with
// isGet, beescale-yun): a GET of Kotori's data endpoint without a format
// suffix, /api[-notls]/<realm>/<network>/<gateway>/<node>/data?weight=..,
// whose query has a parameter that is not one of the export API's; or a
// GET of the path of a [[route]] whose slot is "data". Every other GET is
// the web interface's, the export API's among them.
func (in *Ingester) AcceptsGET(r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.RawQuery == "" {
		return false
	}
	if rt, _, ok := in.opts.Resolver.Routes.Path(r.URL.Path); ok {
		return !rt.Ignore && rt.Slot == "data"
	}
	rest, ok := kotoriPath(r.URL.Path)
	if !ok || !strings.HasSuffix("/"+rest, "/data") {
		return false
	}
	for k := range r.URL.Query() {
		if !exportParams[k] {
			return true
		}
	}
	return false
}

func queryWithoutToken(q url.Values) string {
	q.Del("token")
	return q.Encode()
}

func kotoriPath(p string) (string, bool) {
	for _, prefix := range []string{"/api/", "/api-notls/"} {
		if strings.HasPrefix(p, prefix) {
			return strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/"), true
		}
	}
	return "", false
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// kotoriHTTP handles /api/<address>/<slot>: slot data (JSON object or
// array, NDJSON, form, CSV), event (JSON or form) or custom/airrohr, read
// by the Content-Type; any other slot reads the body as that topic's MQTT
// payload would be read.
func (in *Ingester) kotoriHTTP(r *http.Request, m Message, rest string) (Outcome, *httpError) {
	addr, err := in.opts.Resolver.Resolve(rest)
	if errors.Is(err, address.ErrIgnored) {
		return Outcome{}, in.notAnEndpoint(m, store.Channel{}, rest)
	}
	if err != nil {
		in.fail(m, store.Channel{}, err)
		return Outcome{}, badRequest(err)
	}
	if herr := in.authorize(r, m, addr.Channel); herr != nil {
		return Outcome{}, herr
	}
	slot := strings.TrimSuffix(addr.Slot, ".json")
	if slot == "data" || slot == "event" || slot == "custom/airrohr" {
		return in.endpoint(r, m, addr.Channel, slot)
	}
	// Any other slot of an MQTT topic (data.ndjson, data.lpp, data/<field>,
	// tele/SENSOR, ...) takes the body as that topic's payload.
	if herr := in.checkBody(m, addr.Channel, r); herr != nil {
		return Outcome{Channel: addr.Channel}, herr
	}
	in.stampArrival(&m, addr.Channel.String())
	res, err := decode.Decode(addr.Slot, m.Payload, in.decodeOptions(m.Received, addr.Channel.Realm))
	if errors.Is(err, decode.ErrIgnored) || errors.Is(err, decode.ErrUnknownSlot) {
		return Outcome{Channel: addr.Channel}, in.notAnEndpoint(m, addr.Channel, addr.Slot)
	}
	return in.answer(r, m, addr.Channel, res, err)
}

// notAnEndpoint answers a path below /api/ whose slot stores nothing (an
// unknown slot, or one that is ignored on MQTT such as error.json): 404,
// and an error-log entry, for a device that posts there expects its data
// stored.
func (in *Ingester) notAnEndpoint(m Message, ch store.Channel, slot string) *httpError {
	err := &decode.Error{Kind: "slot", Err: fmt.Errorf("unknown endpoint %q: use data, event, custom/airrohr or a slot of the MQTT topics", slot)}
	in.fail(m, ch, err)
	return &httpError{http.StatusNotFound, err.Error()}
}

// endpoint decodes the body of Kotori's data, event or custom/airrohr
// endpoint by its Content-Type, stores it and answers.
func (in *Ingester) endpoint(r *http.Request, m Message, ch store.Channel, slot string) (Outcome, *httpError) {
	if herr := in.checkBody(m, ch, r); herr != nil {
		return Outcome{Channel: ch}, herr
	}
	ctype := mediaType(r)
	in.stampArrival(&m, ch.String())
	opts := in.decodeOptions(m.Received, ch.Realm)
	var res decode.Result
	var err error
	if ctype == "application/x-www-form-urlencoded" && looksLikeJSON(m.Payload) && slot != "custom/airrohr" {
		// curl -d '{"weight": 42}' without -H labels JSON as a form;
		// read as a form, it would be one field named after the JSON.
		ctype = "application/json"
		res.Info = append(res.Info, "Content-Type says form, the body is JSON: read as JSON")
	}
	switch {
	case slot == "custom/airrohr" && ctype == "application/json":
		err = decodeInto(&res, "airrohr.json", m.Payload, opts)
	case slot == "event" && ctype == "application/json":
		err = decodeInto(&res, "event.json", m.Payload, opts)
	case slot == "event" && ctype == "application/x-www-form-urlencoded":
		err = parseForm(m.Payload, func(fields map[string]any) error {
			return decode.EventFromFields(fields, opts, &res)
		})
	case slot == "data" && ctype == "application/json":
		err = decodeInto(&res, "data.json", m.Payload, opts)
	case slot == "data" && (ctype == "application/x-ndjson" || ctype == "application/jsonl"):
		err = decodeInto(&res, "data.ndjson", m.Payload, opts)
	case slot == "data" && ctype == "application/x-www-form-urlencoded":
		values, perr := url.ParseQuery(strings.TrimSpace(string(m.Payload)))
		switch {
		case perr != nil:
			err = &decode.Error{Kind: "form", Err: fmt.Errorf("invalid form body: %w", perr)}
		case values.Has("dataset"):
			// Open Hive's GET: one positional CSV line, its time
			// "timestamp-by-server" or the RTC's, read with the channel's
			// CSV header.
			line := strings.Replace(values.Get("dataset"), "timestamp-by-server", "", 1)
			res, err = in.decodeCSV(ch, []byte(line), opts)
		default:
			rd, rerr := decode.ReadingFromObject(decode.FormFields(values), opts, &res)
			res.Readings = append(res.Readings, rd)
			err = rerr
		}
	case slot == "data" && (ctype == "text/csv" || ctype == "text/x-csv" || ctype == "application/csv"):
		res, err = in.decodeCSV(ch, m.Payload, opts)
	default:
		err := &decode.Error{Kind: "content-type", Err: fmt.Errorf("Unable to handle Content-Type '%s'", r.Header.Get("Content-Type"))}
		in.fail(m, ch, err)
		return Outcome{Channel: ch}, &httpError{http.StatusUnsupportedMediaType, err.Error()}
	}
	return in.answer(r, m, ch, res, err)
}

// decodeInto decodes a payload for slot into res, keeping res's notes.
func decodeInto(res *decode.Result, slot string, payload []byte, opts decode.Options) error {
	info := res.Info
	var err error
	*res, err = decode.Decode(slot, payload, opts)
	res.Info = append(info, res.Info...)
	return err
}

// looksLikeJSON says whether a body starts like a JSON object or array.
func looksLikeJSON(b []byte) bool {
	b = decode.TrimBOM(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// checkBody applies Kotori's order: an empty body is 400 whatever its
// type, then a missing Content-Type is 415.
func (in *Ingester) checkBody(m Message, ch store.Channel, r *http.Request) *httpError {
	if len(strings.TrimSpace(string(m.Payload))) == 0 {
		in.fail(m, ch, &decode.Error{Kind: "empty", Err: errors.New("empty request body")})
		return &httpError{http.StatusBadRequest, "Empty request body"}
	}
	if r.Header.Get("Content-Type") == "" {
		in.fail(m, ch, &decode.Error{Kind: "content-type", Err: errors.New("request without Content-Type")})
		return &httpError{http.StatusUnsupportedMediaType, "Unable to handle request without Content-Type"}
	}
	return nil
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type")))
	}
	return mt
}

func parseForm(body []byte, fn func(map[string]any) error) error {
	values, err := url.ParseQuery(strings.TrimSpace(string(body)))
	if err != nil {
		return &decode.Error{Kind: "form", Err: fmt.Errorf("invalid form body: %w", err)}
	}
	return fn(decode.FormFields(values))
}

// decodeCSV decodes a CSV body with the channel's remembered header and
// remembers a header the body announced.
// pyList writes names the way Kotori's Python answer did: ['a', 'b'].
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + strings.ReplaceAll(n, "'", "\\'") + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (in *Ingester) decodeCSV(ch store.Channel, body []byte, opts decode.Options) (decode.Result, error) {
	var res decode.Result
	var header []string
	saved, ok, err := in.store.Property(ch, csvHeaderProperty)
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrNotStored, err)
	}
	if ok {
		header = strings.Split(saved, "\x1f")
	}
	newHeader, announced, err := decode.DecodeCSV(body, header, opts, &res)
	if announced {
		res.Info = append(res.Info, "Received header fields "+pyList(decode.HeaderAsKotoriNames(newHeader)))
	}
	if joined := strings.Join(newHeader, "\x1f"); len(newHeader) > 0 && joined != saved {
		if perr := in.store.SetProperty(ch, csvHeaderProperty, joined); perr != nil {
			return res, fmt.Errorf("%w: remember CSV header: %w", ErrNotStored, perr)
		}
	}
	return res, err
}

// answer stores a decoded HTTP body and maps the outcome to a status.
func (in *Ingester) answer(r *http.Request, m Message, ch store.Channel, res decode.Result, decodeErr error) (Outcome, *httpError) {
	if errors.Is(decodeErr, ErrNotStored) {
		in.fail(m, ch, &decode.Error{Kind: "store", Err: decodeErr})
		return Outcome{Channel: ch}, &httpError{http.StatusServiceUnavailable, "Not stored: " + decodeErr.Error()}
	}
	out, err := in.Store(r.Context(), m, ch, res, decodeErr)
	switch {
	case errors.Is(err, ErrNotStored):
		return out, &httpError{http.StatusServiceUnavailable, "Not stored, please retry: " + err.Error()}
	case err != nil:
		return out, badRequest(err)
	}
	return out, nil
}

func badRequest(err error) *httpError {
	status := http.StatusBadRequest
	if ErrorKind(err) == "access" {
		status = http.StatusForbidden
	}
	return &httpError{status, err.Error()}
}

// routeHTTP handles a path of a factory-default device.
func (in *Ingester) routeHTTP(r *http.Request, m Message, rt address.Route, caps map[string]string) (Outcome, *httpError) {
	if rt.Ignore {
		return Outcome{Ignored: true}, nil
	}
	realm, _, _ := strings.Cut(rt.Channel, "/")
	// The channel comes of the body here: the path stands in for it.
	in.stampArrival(&m, r.URL.Path)
	opts := in.decodeOptions(m.Received, realm)
	query := r.URL.Query()
	vars := func(found map[string]string) address.Vars {
		return func(name string) string {
			switch {
			case strings.HasPrefix(name, "header:"):
				return r.Header.Get(strings.TrimPrefix(name, "header:"))
			case strings.HasPrefix(name, "query:"):
				return query.Get(strings.TrimPrefix(name, "query:"))
			}
			return found[name]
		}
	}
	var res decode.Result
	var err error
	found := map[string]string{}
	switch rt.Slot {
	case "beep":
		// BEEP merges query and body, and accepts an empty body; an
		// ingest token in the query is not a reading.
		withoutToken := url.Values{}
		for k, v := range query {
			if k != "token" {
				withoutToken[k] = v
			}
		}
		fields := decode.FormFields(withoutToken)
		if len(strings.TrimSpace(string(m.Payload))) > 0 {
			if mediaType(r) == "application/json" {
				var v any
				if v, err = decode.ParseJSON(m.Payload); err == nil {
					obj, ok := v.(map[string]any)
					if !ok {
						err = &decode.Error{Kind: "json", Err: errors.New("BEEP payload is not a JSON object")}
					}
					for k, val := range obj {
						fields[k] = val
					}
				}
			} else {
				err = parseForm(m.Payload, func(f map[string]any) error {
					for k, val := range f {
						fields[k] = val
					}
					return nil
				})
			}
		}
		if err == nil {
			found["key"], err = decode.BEEPReading(fields, opts, &res)
			if found["key"] == "" && err == nil {
				err = &decode.Error{Kind: "address", Err: errors.New("BEEP request without a device \"key\"")}
			}
		}
	case "ttn":
		var obj map[string]any
		var v any
		if v, err = decode.ParseJSON(m.Payload); err == nil {
			var ok bool
			if obj, ok = v.(map[string]any); !ok {
				err = &decode.Error{Kind: "json", Err: errors.New("TTN webhook payload is not a JSON object")}
			}
		}
		if err == nil {
			ids, _ := obj["end_device_ids"].(map[string]any)
			found["device_id"], _ = ids["device_id"].(string)
			found["dev_eui"], _ = ids["dev_eui"].(string)
			app, _ := ids["application_ids"].(map[string]any)
			found["application_id"], _ = app["application_id"].(string)
			err = decode.TTNReading(obj, opts, &res)
		}
	case "lineproto":
		return in.lineProtocol(r, m, rt, caps, vars)
	default:
		// The channel is known from the request alone.
		addr, aerr := rt.Expand(caps, vars(found))
		if aerr != nil {
			err := &decode.Error{Kind: address.ExpandErrorKind(aerr), Err: aerr}
			in.fail(m, store.Channel{}, err)
			return Outcome{}, badRequest(err)
		}
		if herr := in.authorize(r, m, addr.Channel); herr != nil {
			return Outcome{}, herr
		}
		if addr.Slot == "data" || addr.Slot == "event" {
			return in.endpoint(r, m, addr.Channel, addr.Slot)
		}
		if herr := in.checkBody(m, addr.Channel, r); herr != nil {
			return Outcome{Channel: addr.Channel}, herr
		}
		res, err = decode.Decode(addr.Slot, m.Payload, opts)
		return in.answer(r, m, addr.Channel, res, err)
	}
	// The channel names what the decoder found (the BEEP key, the TTN device).
	addr, aerr := rt.Expand(caps, vars(found))
	if aerr != nil {
		if err == nil {
			err = &decode.Error{Kind: address.ExpandErrorKind(aerr), Err: aerr}
		}
		in.fail(m, store.Channel{}, err)
		return Outcome{}, badRequest(err)
	}
	if herr := in.authorize(r, m, addr.Channel); herr != nil {
		return Outcome{}, herr
	}
	return in.answer(r, m, addr.Channel, res, err)
}

// authorize asks Options.AuthorizeHTTP whether the request may write to
// ch: 401, and an error-log entry, when it may not.
func (in *Ingester) authorize(r *http.Request, m Message, ch store.Channel) *httpError {
	if in.opts.AuthorizeHTTP == nil || in.opts.AuthorizeHTTP(r, ch) {
		return nil
	}
	err := &decode.Error{Kind: "auth", Err: fmt.Errorf("no valid token for realm %q, network %q", ch.Realm, ch.Network)}
	in.fail(m, ch, err)
	return &httpError{http.StatusUnauthorized, "Unauthorized: " + err.Error() + ` (send "Authorization: Bearer <token>" or ?token=<token>)`}
}
