// Package lineproto parses InfluxDB line protocol (v1/v2), as Telegraf,
// Airrohr's InfluxDB mode and `influx_inspect export` write it.
//
// A line is
//
//	<measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] [<timestamp>]
//
// The escaping rules are those of the InfluxDB reference: a backslash escapes
// a comma or a space in the measurement; a comma, an equals sign or a space in
// tag keys, tag values and field keys; and a double quote or a backslash
// inside a double-quoted string field value. A backslash before any other
// character is kept as a literal backslash. Unquoted field values are floats
// (1, -1.5, 1e-3), integers with an i suffix (int64), unsigned integers with
// a u suffix (uint64) or booleans (t, T, true, True, TRUE, f, F, false, False,
// FALSE). The timestamp is an integer in the precision given to the parser.
//
// Lines are separated by '\n' (a '\r' before it is dropped). The reference
// does not allow a newline inside a tag or field value, so a string field
// cannot span lines: a quote left open at the end of a line is an
// "unterminated string" error for that line alone, and the next line is
// parsed afresh. Blank lines and comment lines (first non-blank character
// '#') are skipped.
//
// Files written by `influx_inspect export` are understood: the
// "# CONTEXT-DATABASE:" and "# CONTEXT-RETENTION-POLICY:" comments set
// Point.Database and Point.RetentionPolicy of the points that follow, and
// the InfluxQL statements of the DDL section ("CREATE DATABASE ...",
// "CREATE RETENTION POLICY ...") are skipped.
//
// A bad line never stops parsing: it yields a *LineError and the good lines
// around it are still returned. No input makes the parser panic, and the
// work per line is linear in its length.
package lineproto

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLineLength is the longest line, in bytes and without its '\n', that
// Parse and Scanner accept. A longer line is a *LineError; the Scanner does
// not hold more than this much of it in memory.
const MaxLineLength = 1 << 20

// Point is one parsed line.
type Point struct {
	Measurement string
	// Tags is never nil; it is empty when the line has no tags.
	Tags map[string]string
	// Fields holds at least one field.
	Fields map[string]Value
	// Time is the zero time.Time when the line has no timestamp (the
	// receiver then decides, InfluxDB uses its own clock); otherwise it is
	// in UTC.
	Time time.Time
	// Database and RetentionPolicy are set from the most recent
	// "# CONTEXT-DATABASE:" and "# CONTEXT-RETENTION-POLICY:" comment lines
	// of an `influx_inspect export` file; they are empty otherwise.
	Database        string
	RetentionPolicy string
}

// Kind is the type of a field value.
type Kind uint8

// The kinds of field value. The zero Kind is Invalid and never appears in
// a parsed Point.
const (
	Invalid Kind = iota
	Float        // float64, a number without suffix
	Int          // int64, a number with the suffix i
	Uint         // uint64, a number with the suffix u
	String       // a double-quoted string
	Bool         // t, T, true, True, TRUE, f, F, false, False, FALSE
)

// String returns the name of the kind, e.g. "float".
func (k Kind) String() string {
	switch k {
	case Float:
		return "float"
	case Int:
		return "integer"
	case Uint:
		return "unsigned"
	case String:
		return "string"
	case Bool:
		return "boolean"
	}
	return "invalid"
}

// Value is a field value. Kind says which of the other fields holds it.
type Value struct {
	Kind  Kind
	Float float64
	Int   int64
	Uint  uint64
	Str   string
	Bool  bool
}

// Interface returns the value as a float64, int64, uint64, string or bool,
// or nil for an Invalid value.
func (v Value) Interface() any {
	switch v.Kind {
	case Float:
		return v.Float
	case Int:
		return v.Int
	case Uint:
		return v.Uint
	case String:
		return v.Str
	case Bool:
		return v.Bool
	}
	return nil
}

// Precision is the unit of the timestamps of a batch of lines.
type Precision int

// The precisions, as named by the InfluxDB /write API.
const (
	Nanosecond  Precision = iota // "ns" or "n" (the default)
	Microsecond                  // "us", "u" or "µs"
	Millisecond                  // "ms"
	Second                       // "s"
	Minute                       // "m"
	Hour                         // "h"
)

// ParsePrecision parses a precision as the InfluxDB v1 and v2 /write APIs
// spell it: "ns" (also "n" and "", the default), "us" (also "u", "µ" and "µs"),
// "ms", "s", "m" or "h".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "ns", "n":
		return Nanosecond, nil
	case "us", "u", "µs", "µ":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return 0, fmt.Errorf("lineproto: unknown precision %q (want ns, us, ms, s, m or h)", s)
}

// Duration returns the length of one unit of p.
func (p Precision) Duration() time.Duration {
	switch p {
	case Microsecond:
		return time.Microsecond
	case Millisecond:
		return time.Millisecond
	case Second:
		return time.Second
	case Minute:
		return time.Minute
	case Hour:
		return time.Hour
	}
	return time.Nanosecond
}

// String returns the canonical name of p, e.g. "ms".
func (p Precision) String() string {
	switch p {
	case Microsecond:
		return "us"
	case Millisecond:
		return "ms"
	case Second:
		return "s"
	case Minute:
		return "m"
	case Hour:
		return "h"
	}
	return "ns"
}

// LineError is a line that could not be parsed. The line is skipped;
// parsing goes on with the next one.
type LineError struct {
	Line int    // 1-based, counting every line including blank and comment lines
	Msg  string // what is wrong, without the line number
}

// Error returns "line N: msg".
func (e *LineError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Parse parses every line of data with timestamps in the given precision
// (see ParsePrecision). It returns the points of the good lines in order and
// one *LineError per bad line. An unknown precision is reported as the only
// error (not a *LineError) and nothing is parsed.
func Parse(data []byte, precision string) ([]Point, []error) {
	prec, err := ParsePrecision(precision)
	if err != nil {
		return nil, []error{err}
	}
	return parseAll(data, prec, MaxLineLength)
}

// parseAll is Parse with a settable line length limit, for tests.
func parseAll(data []byte, prec Precision, maxLine int) ([]Point, []error) {
	var (
		points []Point
		errs   []error
		st     = state{prec: prec}
	)
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) > maxLine {
			errs = append(errs, tooLong(n, maxLine))
			continue
		}
		p, ok, msg := st.parseLine(line, n == 1)
		switch {
		case msg != "":
			errs = append(errs, &LineError{Line: n, Msg: msg})
		case ok:
			points = append(points, p)
		}
	}
	return points, errs
}

func tooLong(n, maxLine int) *LineError {
	return &LineError{Line: n, Msg: "line longer than " + strconv.Itoa(maxLine) + " bytes"}
}

// Scanner reads line protocol from a stream one line at a time, for inputs
// too big to hold in memory. Use it like bufio.Scanner:
//
//	sc := lineproto.NewScanner(r, "ns")
//	for sc.Scan() {
//		if le := sc.LineErr(); le != nil {
//			bad++ // the line is skipped; carry on
//			continue
//		}
//		p := sc.Point()
//		...
//	}
//	if err := sc.Err(); err != nil {
//		// read error or unknown precision: the input was not fully read
//	}
//
// Each Scan stops at the next point or at the next bad line, so a caller
// sees every bad line and can count them. Scanner gives the same points and
// errors as Parse on the same input.
type Scanner struct {
	r       *bufio.Reader
	st      state
	maxLine int
	line    int // number of the current line
	buf     []byte
	point   Point
	lineErr *LineError
	err     error
	done    bool
}

// NewScanner returns a Scanner reading from r, with timestamps in the given
// precision (see ParsePrecision). If the precision is unknown, the first
// Scan returns false and Err reports it.
func NewScanner(r io.Reader, precision string) *Scanner {
	prec, err := ParsePrecision(precision)
	s := &Scanner{
		r:       bufio.NewReaderSize(r, 64<<10),
		st:      state{prec: prec},
		maxLine: MaxLineLength,
	}
	if err != nil {
		s.err, s.done = err, true
	}
	return s
}

// Scan advances to the next point or bad line. It returns false at the end
// of the input or on a read error (see Err).
func (s *Scanner) Scan() bool {
	s.point, s.lineErr = Point{}, nil
	for !s.done {
		line, long, ok := s.readLine()
		if !ok {
			return false
		}
		s.line++
		if long {
			s.lineErr = tooLong(s.line, s.maxLine)
			return true
		}
		p, ok, msg := s.st.parseLine(line, s.line == 1)
		if msg != "" {
			s.lineErr = &LineError{Line: s.line, Msg: msg}
			return true
		}
		if ok {
			s.point = p
			return true
		}
	}
	return false
}

// Point returns the point of the current line; it is the zero Point when
// LineErr is not nil. Its maps belong to the caller.
func (s *Scanner) Point() Point { return s.point }

// LineErr returns the error of the current line, or nil if it was good.
func (s *Scanner) LineErr() *LineError { return s.lineErr }

// Line returns the 1-based number of the current line.
func (s *Scanner) Line() int { return s.line }

// Err returns the first read error (not io.EOF) or the unknown-precision
// error; a line error is not an Err.
func (s *Scanner) Err() error { return s.err }

// readLine returns the next line without its '\n'. long reports that the
// line was longer than s.maxLine; its bytes were then discarded, not
// buffered. ok is false at the end of the input and on a read error.
func (s *Scanner) readLine() (line []byte, long, ok bool) {
	s.buf = s.buf[:0]
	read := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(chunk) > 0 {
			read = true
		}
		nl := err == nil // chunk ends with '\n'
		if nl {
			chunk = chunk[:len(chunk)-1]
		}
		if !long {
			if len(s.buf)+len(chunk) > s.maxLine {
				long, s.buf = true, s.buf[:0]
			} else if nl && len(s.buf) == 0 {
				// The whole line is in the bufio buffer: no copy. It
				// stays valid until the next read, after parsing.
				return chunk, false, true
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		switch {
		case nl:
			return s.buf, long, true
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			s.done = true
			return s.buf, long, read
		default:
			// A partial line before a read error is not parsed.
			s.done, s.err = true, err
			return nil, false, false
		}
	}
}

// state is what carries over from one line to the next.
type state struct {
	prec     Precision
	database string
	rp       string
}

// Comment lines of `influx_inspect export` files.
const (
	contextDatabase = "CONTEXT-DATABASE:"
	contextRP       = "CONTEXT-RETENTION-POLICY:"
)

// parseLine parses one line (without its '\n'). It returns ok for a point,
// a non-empty msg for a bad line, and neither for a line to skip.
func (st *state) parseLine(line []byte, first bool) (p Point, ok bool, msg string) {
	if first {
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	line = line[i:]
	if len(line) == 0 {
		return p, false, ""
	}
	if line[0] == '#' {
		return p, false, st.comment(line[1:])
	}
	if isDDL(line) {
		return p, false, ""
	}
	lp := lineParser{b: line, prec: st.prec}
	p, err := lp.parse()
	if err != nil {
		return Point{}, false, err.Error()
	}
	p.Database, p.RetentionPolicy = st.database, st.rp
	return p, true, ""
}

// comment notes the export context comments; c follows the '#'. A context
// name that is not valid UTF-8 is an error; it is still applied, with
// U+FFFD for the bad bytes, so that the points after it are not credited to
// the previous database.
func (st *state) comment(c []byte) (msg string) {
	s := strings.TrimSpace(string(c))
	var name *string
	if v, ok := strings.CutPrefix(s, contextDatabase); ok {
		name, s = &st.database, v
	} else if v, ok := strings.CutPrefix(s, contextRP); ok {
		name, s = &st.rp, v
	} else {
		return ""
	}
	*name = strings.TrimSpace(s)
	if !utf8.ValidString(*name) {
		msg = "invalid UTF-8 in " + excerpt(c)
		*name = strings.ToValidUTF8(*name, "\uFFFD")
	}
	return msg
}

// isDDL reports whether line is one of the InfluxQL statements that
// `influx_inspect export` writes in its "# DDL" section. None of them is
// valid line protocol, so skipping them cannot hide a point.
func isDDL(line []byte) bool {
	for _, prefix := range []string{"CREATE DATABASE ", "CREATE RETENTION POLICY "} {
		if len(line) >= len(prefix) && strings.EqualFold(string(line[:len(prefix)]), prefix) {
			return true
		}
	}
	return false
}

// lineParser parses one non-blank, non-comment line.
type lineParser struct {
	b    []byte
	i    int
	prec Precision
	sb   []byte // scratch for unescaping
}

// parseError is a syntax error found by lineParser.
type parseError string

func (e parseError) Error() string { return string(e) }

func errorf(format string, a ...any) error { return parseError(fmt.Sprintf(format, a...)) }

// Escapable characters per element.
const (
	measurementEscapes = ", "
	keyEscapes         = ",= " // tag keys, tag values, field keys
)

func (lp *lineParser) eol() bool { return lp.i >= len(lp.b) }

func (lp *lineParser) parse() (Point, error) {
	var p Point
	m, term, err := lp.ident(measurementEscapes, ", ", "measurement")
	if err != nil {
		return p, err
	}
	if m == "" {
		return p, errorf("missing measurement")
	}
	p.Measurement = m
	p.Tags = map[string]string{}
	if term == ',' {
		if err := lp.tags(p.Tags); err != nil {
			return Point{}, err
		}
	}
	lp.skipSpaces()
	if lp.eol() {
		return Point{}, errorf("missing fields")
	}
	p.Fields = map[string]Value{}
	if err := lp.fields(p.Fields); err != nil {
		return Point{}, err
	}
	lp.skipSpaces()
	if lp.eol() {
		return p, nil
	}
	t, err := lp.timestamp()
	if err != nil {
		return Point{}, err
	}
	p.Time = t
	return p, nil
}

func (lp *lineParser) skipSpaces() {
	for lp.i < len(lp.b) && lp.b[lp.i] == ' ' {
		lp.i++
	}
}

// ident scans an escaped name up to the first unescaped byte of stops or
// the end of the line, and unescapes it. term is the byte it stopped at
// (consumed), or 0 at the end of the line. what names the element for
// error messages.
func (lp *lineParser) ident(escapes, stops, what string) (s string, term byte, err error) {
	start := lp.i
	lp.sb = lp.sb[:0]
	escaped := false
	for lp.i < len(lp.b) {
		c := lp.b[lp.i]
		if c == '\\' && lp.i+1 < len(lp.b) && strings.IndexByte(escapes, lp.b[lp.i+1]) >= 0 {
			if !escaped {
				lp.sb = append(lp.sb, lp.b[start:lp.i]...)
				escaped = true
			}
			lp.sb = append(lp.sb, lp.b[lp.i+1])
			lp.i += 2
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			term = c
			break
		}
		if c < 0x20 || c == 0x7f {
			return "", 0, errorf("control character %q in %s", c, what)
		}
		if escaped {
			lp.sb = append(lp.sb, c)
		}
		lp.i++
	}
	raw := lp.b[start:lp.i]
	if term != 0 {
		lp.i++
	}
	if escaped {
		raw = lp.sb
	}
	if !utf8.Valid(raw) {
		return "", 0, errorf("invalid UTF-8 in %s %s", what, excerpt(raw))
	}
	return string(raw), term, nil
}

// tags parses the tag set after the measurement's comma, up to and
// including the space before the fields.
func (lp *lineParser) tags(tags map[string]string) error {
	for {
		k, term, err := lp.ident(keyEscapes, ",= ", "tag key")
		if err != nil {
			return err
		}
		if k == "" {
			return errorf("missing tag key")
		}
		if term != '=' {
			return errorf("missing '=' after tag key %s", excerpt([]byte(k)))
		}
		v, term, err := lp.ident(keyEscapes, ",= ", "tag value")
		if err != nil {
			return err
		}
		switch {
		case v == "":
			return errorf("missing value of tag %s", excerpt([]byte(k)))
		case term == '=':
			return errorf("unescaped '=' in value of tag %s", excerpt([]byte(k)))
		case term == 0:
			return errorf("missing fields")
		}
		if _, dup := tags[k]; dup {
			return errorf("duplicate tag %s", excerpt([]byte(k)))
		}
		tags[k] = v
		if term == ' ' {
			return nil
		}
	}
}

// fields parses the field set, up to and including the space before the
// timestamp.
func (lp *lineParser) fields(fields map[string]Value) error {
	for {
		k, term, err := lp.ident(keyEscapes, ",= ", "field key")
		if err != nil {
			return err
		}
		if k == "" {
			return errorf("missing field key")
		}
		if term != '=' {
			return errorf("missing '=' after field key %s", excerpt([]byte(k)))
		}
		v, err := lp.value(k)
		if err != nil {
			return err
		}
		if _, dup := fields[k]; dup {
			return errorf("duplicate field %s", excerpt([]byte(k)))
		}
		fields[k] = v
		if lp.eol() {
			return nil
		}
		switch lp.b[lp.i] {
		case ',':
			lp.i++
			if lp.eol() || lp.b[lp.i] == ' ' {
				return errorf("missing field after ','")
			}
		case ' ':
			lp.i++
			return nil
		default:
			return errorf("unexpected %q after value of field %s", lp.b[lp.i], excerpt([]byte(k)))
		}
	}
}

// value parses the field value of field k; it stops before the ',' or ' '
// that ends it.
func (lp *lineParser) value(k string) (Value, error) {
	if lp.eol() || lp.b[lp.i] == ',' || lp.b[lp.i] == ' ' {
		return Value{}, errorf("missing value of field %s", excerpt([]byte(k)))
	}
	if lp.b[lp.i] == '"' {
		return lp.str(k)
	}
	start := lp.i
	for lp.i < len(lp.b) && lp.b[lp.i] != ',' && lp.b[lp.i] != ' ' {
		lp.i++
	}
	tok := lp.b[start:lp.i]
	key := excerpt([]byte(k))
	switch c := tok[0]; {
	case c == 't' || c == 'T' || c == 'f' || c == 'F':
		switch string(tok) {
		case "t", "T", "true", "True", "TRUE":
			return Value{Kind: Bool, Bool: true}, nil
		case "f", "F", "false", "False", "FALSE":
			return Value{Kind: Bool, Bool: false}, nil
		}
		return Value{}, errorf("field %s: invalid boolean %s", key, excerpt(tok))
	case c != '-' && c != '+' && c != '.' && !isDigit(c):
		return Value{}, errorf("field %s: invalid value %s (strings must be double-quoted)", key, excerpt(tok))
	}
	switch tok[len(tok)-1] {
	case 'i':
		digits := tok[:len(tok)-1]
		if !isInt(digits, true) {
			return Value{}, errorf("field %s: invalid integer %s", key, excerpt(tok))
		}
		n, err := strconv.ParseInt(string(digits), 10, 64)
		if err != nil {
			return Value{}, errorf("field %s: integer %s out of range", key, excerpt(tok))
		}
		return Value{Kind: Int, Int: n}, nil
	case 'u':
		digits := tok[:len(tok)-1]
		if !isInt(digits, false) {
			return Value{}, errorf("field %s: invalid unsigned integer %s", key, excerpt(tok))
		}
		n, err := strconv.ParseUint(string(digits), 10, 64)
		if err != nil {
			return Value{}, errorf("field %s: unsigned integer %s out of range", key, excerpt(tok))
		}
		return Value{Kind: Uint, Uint: n}, nil
	}
	if !isFloat(tok) {
		return Value{}, errorf("field %s: invalid number %s", key, excerpt(tok))
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || math.IsInf(f, 0) {
		return Value{}, errorf("field %s: float %s out of range", key, excerpt(tok))
	}
	return Value{Kind: Float, Float: f}, nil
}

// str parses a double-quoted string field value of field k.
func (lp *lineParser) str(k string) (Value, error) {
	lp.i++ // opening quote
	start := lp.i
	lp.sb = lp.sb[:0]
	escaped := false
	for lp.i < len(lp.b) {
		c := lp.b[lp.i]
		if c == '\\' && lp.i+1 < len(lp.b) && (lp.b[lp.i+1] == '"' || lp.b[lp.i+1] == '\\') {
			if !escaped {
				lp.sb = append(lp.sb, lp.b[start:lp.i]...)
				escaped = true
			}
			lp.sb = append(lp.sb, lp.b[lp.i+1])
			lp.i += 2
			continue
		}
		if c == '"' {
			raw := lp.b[start:lp.i]
			if escaped {
				raw = lp.sb
			}
			lp.i++
			if !utf8.Valid(raw) {
				return Value{}, errorf("field %s: invalid UTF-8 in string", excerpt([]byte(k)))
			}
			return Value{Kind: String, Str: string(raw)}, nil
		}
		if escaped {
			lp.sb = append(lp.sb, c)
		}
		lp.i++
	}
	return Value{}, errorf("field %s: unterminated string", excerpt([]byte(k)))
}

// timestamp parses the timestamp and checks that only spaces follow it.
func (lp *lineParser) timestamp() (time.Time, error) {
	start := lp.i
	for lp.i < len(lp.b) && lp.b[lp.i] != ' ' {
		lp.i++
	}
	tok := lp.b[start:lp.i]
	lp.skipSpaces()
	if !lp.eol() {
		return time.Time{}, errorf("unexpected text after timestamp: %s", excerpt(lp.b[lp.i:]))
	}
	if !isInt(tok, true) {
		return time.Time{}, errorf("invalid timestamp %s", excerpt(tok))
	}
	n, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil {
		return time.Time{}, errorf("timestamp %s out of range", excerpt(tok))
	}
	ns, ok := toNanoseconds(n, lp.prec)
	if !ok {
		return time.Time{}, errorf("timestamp %s out of range for precision %s", excerpt(tok), lp.prec)
	}
	return time.Unix(0, ns).UTC(), nil
}

// InfluxDB's timestamp range in nanoseconds; the two extreme int64 values
// are reserved.
const (
	minNanos = math.MinInt64 + 2
	maxNanos = math.MaxInt64 - 1
)

// toNanoseconds converts n units of p to nanoseconds, reporting whether the
// result is within InfluxDB's range.
func toNanoseconds(n int64, p Precision) (int64, bool) {
	unit := int64(p.Duration())
	if n > maxNanos/unit || n < minNanos/unit {
		return 0, false
	}
	return n * unit, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isInt reports whether b is one or more decimal digits, optionally after a
// '-' when signed is set.
func isInt(b []byte, signed bool) bool {
	if signed && len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// isFloat reports whether b is a decimal float as line protocol writes it:
// an optional '-', digits with an optional '.', at least one digit, and an
// optional exponent. It rejects what strconv.ParseFloat accepts beyond
// that: a '+' sign, NaN, Inf, hexadecimal and underscores.
func isFloat(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := 0
	for i < len(b) && isDigit(b[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i == len(b)
}

// excerpt quotes b for an error message, shortened so that a long line
// does not make a long message.
func excerpt(b []byte) string {
	const max = 40
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strconv.Quote(string(b[:cut])) + "..."
}
