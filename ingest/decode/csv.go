package decode

import (
	"bytes"
	"strings"
	"time"

	"github.com/apiary-hive/apiary/internal/timeparse"
	"github.com/apiary-hive/apiary/store"
)

// ErrNoCSVHeader is Kotori's answer to CSV readings on a channel that never
// announced its field names.
var ErrNoCSVHeader = &Error{Kind: "csv", Err: errNoHeader{}}

type errNoHeader struct{}

func (errNoHeader) Error() string {
	return "Could not process data, please supply field names via CSV header before sending readings"
}

// DecodeCSV reads a CSV body: a line starting with "##" announces the field
// names; so does a first line that is recognisably a header (Open Hive
// "Date/Time", "Datum/Zeit", Beelogger "Datum,Uhrzeit", Variometer
// "Date;Time", Sensor.Community archives "sensor_id", Terkin
// "datetime.ISO8601", or any line of names that starts with a time column).
// Other lines are readings, one a line, positional: an empty cell is a
// missing value, an empty time the time of arrival. ";" separates like ",".
//
// header is the channel's remembered header (nil: none). DecodeCSV returns
// the header in effect after the body, which the caller persists when it
// changed, and whether the body announced one.
func DecodeCSV(body []byte, header []string, opts Options, res *Result) (_ []string, announced bool, err error) {
	opts = opts.withDefaults()
	lines := bytes.Split(body, []byte("\n"))
	first := true
	for n, raw := range lines {
		line := strings.TrimSpace(strings.TrimPrefix(string(raw), "\ufeff"))
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "##") {
			header = headerCells(strings.TrimSpace(strings.TrimPrefix(line, "##")))
			first, announced = false, true
			continue
		}
		if first && looksLikeHeader(line) {
			header = headerCells(line)
			first, announced = false, true
			continue
		}
		first = false
		if len(header) == 0 {
			return header, announced, ErrNoCSVHeader
		}
		if err := csvReading(splitCSV(line), header, n+1, opts, res); err != nil {
			return header, announced, err
		}
	}
	return header, announced, nil
}

// headerCells splits a header line; trailing separators add no column.
func headerCells(line string) []string {
	cells := splitCSV(line)
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	return cells
}

func splitCSV(line string) []string {
	// Invalid UTF-8 becomes U+FFFD, as in JSON.
	line = strings.ToValidUTF8(line, "\uFFFD")
	cells := strings.Split(strings.ReplaceAll(line, ";", ","), ",")
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if len(c) >= 2 && c[0] == '"' && c[len(c)-1] == '"' {
			c = strings.ReplaceAll(c[1:len(c)-1], `""`, `"`)
		}
		cells[i] = c
	}
	return cells
}

// knownHeaderStarts are first lines that announce a header without "##".
var knownHeaderStarts = []string{"date/time", "datum/zeit", "datum,uhrzeit", "datum;uhrzeit", "date;time", "date,time", "sensor_id"}

func looksLikeHeader(line string) bool {
	lower := strings.ToLower(line)
	for _, s := range knownHeaderStarts {
		if strings.HasPrefix(lower, s) {
			return true
		}
	}
	// Otherwise: a line of names, none of them a number, one of them a time
	// (Terkin's "datetime.ISO8601,...", a Variometer's "...;Date;Time;...").
	cells := headerCells(line)
	if len(cells) < 2 {
		return false
	}
	hasTime := false
	for i, c := range cells {
		if _, ok, _ := NumericString(c); ok || c == "" {
			return false
		}
		if timeRole(cells, i) == roleTime || timeRole(cells, i) == roleDate {
			hasTime = true
		}
	}
	return hasTime
}

// HeaderAsKotoriNames is a header as Kotori announces it back ("Received
// header fields [...]"): a whole-time column named "Date/Time", "Date",
// "Datum/Zeit" or "timestamp" is called "time"; date and clock columns
// that are fused (Beelogger, Variometer) keep their names.
func HeaderAsKotoriNames(header []string) []string {
	out := make([]string, len(header))
	for i, name := range header {
		out[i] = name
		switch name {
		case "Date/Time", "Date", "Datum/Zeit", "timestamp":
			if timeRole(header, i) == roleTime {
				out[i] = "time"
			}
		}
	}
	return out
}

type columnRole int

const (
	roleValue columnRole = iota
	roleTime             // the whole time
	roleDate             // the date, fused with the next column
	roleClock            // the time of day, fused with the previous column
)

// timeRole says what column i of a header holds.
func timeRole(header []string, i int) columnRole {
	name := strings.ToLower(header[i])
	next := ""
	if i+1 < len(header) {
		next = strings.ToLower(header[i+1])
	}
	prev := ""
	if i > 0 {
		prev = strings.ToLower(header[i-1])
	}
	switch {
	case (name == "date" && next == "time") || (name == "datum" && (next == "uhrzeit" || next == "zeit")):
		return roleDate
	case (name == "time" && prev == "date") || ((name == "uhrzeit" || name == "zeit") && prev == "datum"):
		return roleClock
	case name == "time" || name == "date/time" || name == "datum/zeit" || name == "date" ||
		name == "timestamp" || name == "datetime" || strings.HasPrefix(name, "datetime.") || name == "zeitstempel":
		return roleTime
	}
	return roleValue
}

func csvReading(cells, header []string, lineNo int, opts Options, res *Result) error {
	if len(cells) > len(header) {
		// Trailing separators add empty cells; only real extra values are worth a note.
		if strings.Join(cells[len(header):], "") != "" {
			res.note("csv", "line %d has %d cells, the header %d; extra cells ignored", lineNo, len(cells), len(header))
		}
		cells = cells[:len(header)]
	}
	fields := map[string]any{}
	timeText, date, clock := "", "", ""
	for i, c := range cells {
		switch timeRole(header, i) {
		case roleTime:
			timeText = c
		case roleDate:
			date = c
		case roleClock:
			clock = c
		default:
			if c != "" {
				fields[header[i]] = c
			}
		}
	}
	r := store.Reading{Time: opts.Received}
	if date != "" {
		// Beelogger's and the Variometer's split columns are UTC, as in Kotori.
		timeText = isoDate(date) + "T" + clock + "Z"
		if clock == "" {
			timeText = isoDate(date) + "T00:00:00Z"
		}
	}
	if t, ok := csvTime(timeText, lineNo, opts, res); ok {
		r.Time = t
	}
	b := builder{opts: opts, res: res, r: &r}
	for k, v := range fields {
		if TagNames[k] {
			if r.Tags == nil {
				r.Tags = map[string]string{}
			}
			r.Tags[k] = v.(string)
			continue
		}
		if err := b.add(k, v, 0); err != nil {
			return err
		}
	}
	if len(r.Fields)+len(r.Text) == 0 {
		res.note("empty", "line %d has no values; skipped", lineNo)
		return nil
	}
	res.Readings = append(res.Readings, r)
	return nil
}

// isoDate turns day-first dates (21/09/21, 21.09.2021) into 2021-09-21;
// other dates are returned as they are.
func isoDate(d string) string {
	parts := strings.FieldsFunc(d, func(r rune) bool { return r == '/' || r == '.' || r == '-' })
	if len(parts) != 3 || len(parts[0]) == 4 {
		return d
	}
	day, month, year := parts[0], parts[1], parts[2]
	if len(year) == 2 {
		year = "20" + year
	}
	if len(day) == 1 {
		day = "0" + day
	}
	if len(month) == 1 {
		month = "0" + month
	}
	return year + "-" + month + "-" + day
}

func csvTime(s string, lineNo int, opts Options, res *Result) (time.Time, bool) {
	if s == "" || strings.EqualFold(s, "timestamp-by-server") {
		return time.Time{}, false
	}
	t, err := timeparse.String(s, opts.Zone)
	switch {
	case err != nil:
		res.note("time", "line %d: %v; using the time of arrival", lineNo, err)
		return time.Time{}, false
	case t.Before(opts.EarliestTime) || t.After(opts.Received.Add(opts.MaxAhead)):
		res.note("clock", "line %d: time %s is implausible; using the time of arrival", lineNo, t.Format(time.RFC3339))
		return time.Time{}, false
	}
	return t, true
}
