package timeparse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var relative = regexp.MustCompile(`^now(?:([+-])(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?)?$`)

// Bound reads a query bound as Kotori's export API does: "now", a relative
// time "now-<N>w<N>d<N>h<N>m<N>s" (each part optional, m is minutes), or an
// absolute time as String reads it, zone-less ones in zone. A date alone
// ("2026-05-01", "20260501") is the start of that day, or with endOfDay the
// last nanosecond of it, so that to=20260501 includes the whole day.
func Bound(s string, now time.Time, zone *time.Location, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "now") {
		m := relative.FindStringSubmatch(strings.ToLower(s))
		if m == nil || (m[1] != "" && m[2]+m[3]+m[4]+m[5]+m[6] == "") {
			return time.Time{}, fmt.Errorf("%q is not a relative time like now-10d or now-8d5h3m", s)
		}
		var d time.Duration
		for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
			if m[i+2] == "" {
				continue
			}
			n, err := strconv.ParseInt(m[i+2], 10, 64)
			if err != nil || n > 1e6 {
				return time.Time{}, fmt.Errorf("%q: number too large", s)
			}
			d += time.Duration(n) * unit
		}
		if m[1] == "-" {
			d = -d
		}
		return now.Add(d), nil
	}
	t, err := String(s, zone)
	if err != nil {
		return time.Time{}, err
	}
	if endOfDay && isDateOnly(s) {
		t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return t, nil
}

func isDateOnly(s string) bool {
	digits := strings.NewReplacer("-", "", "/", "", ".", "").Replace(s)
	return len(digits) == 8 && strings.Trim(digits, "0123456789") == ""
}
