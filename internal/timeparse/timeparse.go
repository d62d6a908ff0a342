// Package timeparse reads the times that devices and people write: epoch
// numbers of any unit, ISO 8601 in its many dialects, compact forms and zone
// abbreviations. Ingest uses it for device times, the export API for its
// from/to parameters.
package timeparse

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Epoch reads an epoch number given as decimal text ("1583810982",
// "1637431069.6585083", "1.5e9") and picks its unit by magnitude like
// Kotori: >= 1e17 nanoseconds, >= 1e14 microseconds, >= 1e11 milliseconds,
// else seconds, fractions kept. The arithmetic is exact, so a 19-digit
// nanosecond time is not rounded through float64.
func Epoch(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// big.Rat computes 10^exponent exactly, so "1e999999" would cost a
	// tenth of a second; float64 first tells cheaply what is out of range by
	// far and what is below a nanosecond.
	f, err := strconv.ParseFloat(strings.TrimPrefix(s, "+"), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f), err == nil && math.IsInf(f, 0),
		strings.ContainsAny(s, "/xXpP_"):
		return time.Time{}, fmt.Errorf("not an epoch number: %q", s)
	case math.Abs(f) >= 1e20:
		return time.Time{}, fmt.Errorf("epoch out of range: %q", s)
	case f == 0:
		return time.Unix(0, 0).UTC(), nil
	}
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
	if !ok {
		return time.Time{}, fmt.Errorf("not an epoch number: %q", s)
	}
	abs := new(big.Rat).Abs(r)
	var nsPerUnit int64
	switch {
	case abs.Cmp(big.NewRat(1e17, 1)) >= 0:
		nsPerUnit = 1
	case abs.Cmp(big.NewRat(1e14, 1)) >= 0:
		nsPerUnit = 1e3
	case abs.Cmp(big.NewRat(1e11, 1)) >= 0:
		nsPerUnit = 1e6
	default:
		nsPerUnit = 1e9
	}
	ns := new(big.Rat).Mul(r, big.NewRat(nsPerUnit, 1))
	// Round half away from zero to whole nanoseconds.
	num, den := ns.Num(), ns.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return time.Time{}, fmt.Errorf("epoch out of range: %q", s)
	}
	return time.Unix(0, q.Int64()).UTC(), nil
}

var isoTime = regexp.MustCompile(`^(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})` + // date
	`(?:(?:[Tt]|\s+|_)(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?(?:[.,](\d+))?)?` + // time
	`\s*(Z|z|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,5}(?:[+-]\d{1,2})?)?$`) // zone

// Dates written by hand or by loggers rather than by ISO 8601: a day-first
// "10.03.2020" (German, as Open Hive and Beelogger users write it; never
// month-first with dots) and a year-first date without leading zeros
// ("2020-3-10"). They are rewritten to ISO 8601 before isoTime reads them.
var (
	dayFirstDate = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})\.(\d{4})((?:[Tt]|\s).*)?$`)
	unpaddedDate = regexp.MustCompile(`^(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})((?:[Tt]|\s).*)?$`)
)

// isoDate rewrites the dates above as YYYY-MM-DD, keeping what follows.
func isoDate(s string) string {
	pad := func(d string) string {
		if len(d) == 1 {
			return "0" + d
		}
		return d
	}
	if m := dayFirstDate.FindStringSubmatch(s); m != nil {
		return m[3] + "-" + pad(m[2]) + "-" + pad(m[1]) + m[4]
	}
	if m := unpaddedDate.FindStringSubmatch(s); m != nil && m[2] == m[4] && (len(m[3]) == 1 || len(m[5]) == 1) {
		return m[1] + "-" + pad(m[3]) + "-" + pad(m[5]) + m[6]
	}
	return s
}

// Fixed offsets of the zone abbreviations devices and servers print.
var zoneAbbrev = map[string]int{
	"UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0,
	"CET": 1, "MEZ": 1, "BST": 1, "WEST": 1,
	"CEST": 2, "MESZ": 2, "EET": 2,
	"EEST": 3,
	"EST":  -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

// String reads a time written as text: an epoch number, ISO 8601 /
// RFC 3339 with "Z" or any offset (also with a space for "T", up to nine
// fraction digits, more are cut), "YYYYMMDDTHHmmss[Z]", "YYYYMMDD",
// "YYYY/MM/DD HH:MM:SS", "2020-3-10 3:29:42", day-first "10.03.2020
// 03:29:42", a zone abbreviation such as " CET", or an HTTP date.
// A time without a zone is read in zone.
func String(s string, zone *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	in := s        // for the errors: what the device sent
	s = isoDate(s) // "10.03.2020" is a date, not a number
	// Eight digits are a date (YYYYMMDD), not seconds in 1970.
	if LooksNumeric(s) && !(len(s) == 8 && strings.Trim(s, "0123456789") == "") {
		return Epoch(s)
	}
	m := isoTime.FindStringSubmatch(s)
	if m == nil {
		for _, layout := range []string{http.TimeFormat, time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC, time.UnixDate} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("unrecognised time %q", in)
	}
	num := func(i int) int {
		if m[i] == "" {
			return 0
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	year, month, day := num(1), num(2), num(3)
	hour, minute, sec := num(4), num(5), num(6)
	var nsec int
	if frac := m[7]; frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		nsec, _ = strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 24 || minute > 59 || sec > 60 {
		return time.Time{}, fmt.Errorf("time out of range: %q", in)
	}
	loc, err := zoneOf(m[8], zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", in, err)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc).UTC(), nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func zoneOf(z string, dflt *time.Location) (*time.Location, error) {
	switch {
	case z == "":
		if dflt == nil {
			return time.UTC, nil
		}
		return dflt, nil
	case z == "Z" || z == "z":
		return time.UTC, nil
	case z[0] == '+' || z[0] == '-':
		digits := strings.ReplaceAll(z[1:], ":", "")
		h, _ := strconv.Atoi(digits[:2])
		mins := 0
		if len(digits) >= 4 {
			mins, _ = strconv.Atoi(digits[2:4])
		}
		if h > 14 || mins > 59 {
			return nil, fmt.Errorf("offset %q out of range", z)
		}
		off := h*3600 + mins*60
		if z[0] == '-' {
			off = -off
		}
		return time.FixedZone(z, off), nil
	}
	// An abbreviation, optionally with an hour offset ("UTC+2").
	name, extra := z, 0
	if i := strings.IndexAny(z, "+-"); i > 0 {
		name = z[:i]
		n, err := strconv.Atoi(z[i:])
		if err != nil {
			return nil, fmt.Errorf("zone %q", z)
		}
		extra = n
	}
	h, ok := zoneAbbrev[strings.ToUpper(name)]
	if !ok {
		return nil, fmt.Errorf("unknown zone %q", z)
	}
	return time.FixedZone(z, (h+extra)*3600), nil
}

// LooksNumeric reports whether s is a plain decimal number (optionally
// signed, with a fraction or exponent): what Epoch reads.
func LooksNumeric(s string) bool {
	if s == "" {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' || c == '-':
			if i != 0 && s[i-1] != 'e' && s[i-1] != 'E' {
				return false
			}
		case c == '.' || c == 'e' || c == 'E':
		default:
			return false
		}
	}
	return digits > 0
}
