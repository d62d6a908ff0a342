package timeparse

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/internal/testvectors"
)

// fuzzNow is "now" for the relative times of the fuzz targets.
var fuzzNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// timeSeeds are time texts from the test vectors: expected times and the
// values of the time fields of the JSON payloads.
func timeSeeds(f *testing.F) []string {
	out := []string{"2020-03-10T03:29:42Z", "1583810982.5", "20200310T033842Z", "2016/08/14 21:02:06", "2020-03-10 03:38:37.937059000+01:00",
		"now-8d5h3m", "Tue, 10 Mar 2020 03:29:42 GMT", "9999999999999999999999", "2016-12-07T17:30:15.842428 CET", "1e30", "now+1h"}
	for _, v := range testvectors.Load(f) {
		var s string
		if json.Unmarshal(v.ExpectedTime, &s) == nil && s != "" {
			out = append(out, s)
		}
		var obj map[string]any
		if v.Payload == nil || json.Unmarshal(v.Body(), &obj) != nil {
			continue
		}
		for _, k := range []string{"time", "datetime", "Time", "dateTime", "timestamp"} {
			switch t := obj[k].(type) {
			case string:
				out = append(out, t)
			case float64:
				out = append(out, strconv.FormatFloat(t, 'f', -1, 64))
			}
		}
	}
	return out
}

// FuzzString: a time read is in UTC, and writing it as RFC 3339 and
// reading that back gives the same instant.
func FuzzString(f *testing.F) {
	for _, s := range timeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := String(s, time.UTC)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("String(%q) = %v, not in UTC", s, tm)
		}
		if y := tm.Year(); y < 0 || y > 9999 {
			return
		}
		text := tm.Format(time.RFC3339Nano)
		again, err := String(text, nil)
		if err != nil || !again.Equal(tm) {
			t.Fatalf("String(%q) = %s; read back %v, %v", s, text, again, err)
		}
	})
}

// FuzzEpoch: an integer has the unit its magnitude says and is exact, or
// is out of range; any epoch read agrees with the float64 reading of the
// text to float64 precision.
func FuzzEpoch(f *testing.F) {
	for _, s := range timeSeeds(f) {
		f.Add(s, int64(1583810982))
	}
	f.Add("1455527630507803904", int64(1455527630507803904))
	f.Add("-1.5e-3", int64(-1))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		// The integer.
		unit := int64(1e9)
		switch abs := new(big.Int).Abs(big.NewInt(n)); {
		case abs.Cmp(big.NewInt(1e17)) >= 0:
			unit = 1
		case abs.Cmp(big.NewInt(1e14)) >= 0:
			unit = 1e3
		case abs.Cmp(big.NewInt(1e11)) >= 0:
			unit = 1e6
		}
		want := new(big.Int).Mul(big.NewInt(n), big.NewInt(unit))
		tm, err := Epoch(strconv.FormatInt(n, 10))
		switch {
		case !want.IsInt64() && err == nil:
			t.Fatalf("Epoch(%d) = %v, want out of range", n, tm)
		case want.IsInt64() && (err != nil || tm.UnixNano() != want.Int64() || tm.Location() != time.UTC):
			t.Fatalf("Epoch(%d) = %v, %v; want %d ns", n, tm, err, want.Int64())
		}

		// The text.
		tm, err = Epoch(s)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("Epoch(%q) = %v, not in UTC", s, tm)
		}
		x, perr := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(s), "+"), 64)
		if perr != nil {
			return // big.Rat syntax that ParseFloat does not read
		}
		ns := x * 1e9
		switch a := math.Abs(x); {
		case a >= 1e17:
			ns = x
		case a >= 1e14:
			ns = x * 1e3
		case a >= 1e11:
			ns = x * 1e6
		}
		if got := float64(tm.UnixNano()); math.Abs(got-ns) > 1+math.Abs(ns)*1e-12 {
			t.Fatalf("Epoch(%q) = %v (%v ns), float64 says %v ns", s, tm, got, ns)
		}
	})
}

// FuzzBound: "now" is now, "now-..." is not after it and "now+..." not
// before it; an absolute bound is the time String reads, and the end of a
// day at most a day after it.
func FuzzBound(f *testing.F) {
	for _, s := range append(timeSeeds(f), "now", "now-10d", "now-1w", "now-90s", "20200310", "2020-03-10", "NOW-1H") {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, endOfDay bool) {
		tm, err := Bound(s, fuzzNow, time.UTC, endOfDay)
		if err != nil {
			return
		}
		lower := strings.ToLower(strings.TrimSpace(s))
		if rel, ok := strings.CutPrefix(lower, "now"); ok {
			switch {
			case rel == "" && !tm.Equal(fuzzNow),
				strings.HasPrefix(rel, "-") && tm.After(fuzzNow),
				strings.HasPrefix(rel, "+") && tm.Before(fuzzNow):
				t.Fatalf("Bound(%q) = %v, now is %v", s, tm, fuzzNow)
			}
			return
		}
		abs, err := String(s, time.UTC)
		if err != nil {
			t.Fatalf("Bound(%q) = %v, String says %v", s, tm, err)
		}
		if d := tm.Sub(abs); d < 0 || d >= 24*time.Hour || !endOfDay && d != 0 {
			t.Fatalf("Bound(%q, end of day %v) = %v, String says %v", s, endOfDay, tm, abs)
		}
	})
}
