package timeparse

import (
	"testing"
	"time"
)

func TestEpoch(t *testing.T) {
	cases := map[string]string{
		"1583810982":          "2020-03-10T03:29:42Z",
		"1583810982123":       "2020-03-10T03:29:42.123Z",
		"1583810982123456":    "2020-03-10T03:29:42.123456Z",
		"1583810982123456789": "2020-03-10T03:29:42.123456789Z",
		"1455527630507803904": "2016-02-15T09:13:50.507803904Z",
		"1637431069.6585083":  "2021-11-20T17:57:49.6585083Z",
		"1492467300.0":        "2017-04-17T22:15:00Z",
		"1.5e9":               "2017-07-14T02:40:00Z",
		" +1583810982 ":       "2020-03-10T03:29:42Z",
		"-1":                  "1969-12-31T23:59:59Z",
	}
	for in, want := range cases {
		got, err := Epoch(in)
		if err != nil || got.Format(time.RFC3339Nano) != want {
			t.Errorf("Epoch(%q) = %s, %v; want %s", in, got.Format(time.RFC3339Nano), err, want)
		}
	}
	for _, bad := range []string{"", "abc", "1/2", "0x10", "1_000", "1e30"} {
		if _, err := Epoch(bad); err == nil {
			t.Errorf("Epoch(%q) accepted", bad)
		}
	}
}

func TestString(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cases := []struct{ in, want string }{
		{"2020-03-10T03:29:42Z", "2020-03-10T03:29:42Z"},
		{"2020-03-10 03:38:37.937059000+01:00", "2020-03-10T02:38:37.937059Z"},
		{"2016-12-07T18:30:15+0100", "2016-12-07T17:30:15Z"},
		{"2020-03-10T03:38:37-05:00", "2020-03-10T08:38:37Z"},
		{"2019-06-02T22:13:07", "2019-06-02T20:13:07Z"}, // summer, Berlin
		{"2017-02-16T10:13:52", "2017-02-16T09:13:52Z"}, // winter
		{"2016/08/14 21:02:06", "2016-08-14T19:02:06Z"},
		{"2016-12-07T17:30:15.842428 CET", "2016-12-07T16:30:15.842428Z"},
		{"2022-01-19T19:02:34.007345025Z", "2022-01-19T19:02:34.007345025Z"},
		{"2022-01-19T19:02:34.0073450251234Z", "2022-01-19T19:02:34.007345025Z"},
		{"20200310T033842Z", "2020-03-10T03:38:42Z"},
		{"20200310", "2020-03-09T23:00:00Z"},
		{"2020-03-10", "2020-03-09T23:00:00Z"},
		{"2024-05-12T14:05:00.123", "2024-05-12T12:05:00.123Z"},
		{"1583810982", "2020-03-10T03:29:42Z"},
		{"Tue, 10 Mar 2020 03:29:42 GMT", "2020-03-10T03:29:42Z"},
		{"10.03.2020 03:29:42", "2020-03-10T02:29:42Z"}, // German, day first
		{"1.3.2020 3:29", "2020-03-01T02:29:00Z"},
		{"10.03.2020", "2020-03-09T23:00:00Z"},
		{"2020-3-10 3:29:42", "2020-03-10T02:29:42Z"},
		{"2020/3/1T03:29:42Z", "2020-03-01T03:29:42Z"},
	}
	for _, c := range cases {
		got, err := String(c.in, berlin)
		if err != nil || got.Format(time.RFC3339Nano) != c.want {
			t.Errorf("String(%q) = %s, %v; want %s", c.in, got.Format(time.RFC3339Nano), err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2020-13-01", "2020-02-30", "2020-03-10T25:00:00Z", "2020-03-10T03:00:00+99:00", "2020-03-10T03:00:00 XYZ", "32.01.2020", "10.13.2020 03:00", "2020-3-32", "2020-3/1"} {
		if _, err := String(bad, berlin); err == nil {
			t.Errorf("String(%q) accepted", bad)
		}
	}
}

func TestBound(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		end  bool
		want string
	}{
		{"now", false, "2026-05-01T12:00:00Z"},
		{"now-10d", false, "2026-04-21T12:00:00Z"},
		{"now-8d5h3m", false, "2026-04-23T06:57:00Z"},
		{"now-1w", false, "2026-04-24T12:00:00Z"},
		{"now-90s", false, "2026-05-01T11:58:30Z"},
		{"now+1h", false, "2026-05-01T13:00:00Z"},
		{"2020-03-10", true, "2020-03-10T23:59:59.999999999Z"},
		{"20200310", true, "2020-03-10T23:59:59.999999999Z"},
		{"20200310", false, "2020-03-10T00:00:00Z"},
		{"2020-03-10T23:59:59.000Z", true, "2020-03-10T23:59:59Z"},
		{"now-100d", true, "2026-01-21T12:00:00Z"}, // not a date, not pushed to the end of a day
	}
	for _, c := range cases {
		got, err := Bound(c.in, now, time.UTC, c.end)
		if err != nil || got.Format(time.RFC3339Nano) != c.want {
			t.Errorf("Bound(%q, end=%v) = %s, %v; want %s", c.in, c.end, got.Format(time.RFC3339Nano), err, c.want)
		}
	}
	for _, bad := range []string{"now-", "now-10x", "now-1h2d", "then"} {
		if _, err := Bound(bad, now, time.UTC, false); err == nil {
			t.Errorf("Bound(%q) accepted", bad)
		}
	}
}

// TestEpochHugeExponentIsCheap: an exponent far out of range is refused (or
// read as 0) without computing 10^exponent exactly, which took a tenth of a
// second for each "time": 1e999999 a device or a client could send.
func TestEpochHugeExponentIsCheap(t *testing.T) {
	start := time.Now()
	for i := 0; i < 50; i++ {
		for _, s := range []string{"1e999999", "-1e999999", "0.1e999999", "1e9999999999"} {
			if _, err := Epoch(s); err == nil {
				t.Fatalf("Epoch(%q) accepted", s)
			}
		}
		for _, s := range []string{"1e-999999", "-1e-999999", "0e999999"} {
			if tm, err := Epoch(s); err != nil || !tm.Equal(time.Unix(0, 0)) {
				t.Fatalf("Epoch(%q) = %v, %v; want 1970", s, tm, err)
			}
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("350 epochs with huge exponents took %v", d)
	}
}
