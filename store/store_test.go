package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

var hive = Channel{"hiveeyes", "testdrive", "area-42", "node-1"}

func openTest(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	opts.Dir = dir
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestWriteReopenQuery(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openTest(t, dir, Options{})
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var rs []Reading
	for i := range 10 {
		rs = append(rs, Reading{
			Channel: hive,
			Time:    t0.Add(time.Duration(i) * time.Minute),
			Fields:  map[string]float64{"weight": 40 + float64(i)/100, "temperature": 20.5, "bad": math.NaN()},
			Text:    map[string]string{"status": fmt.Sprintf("ok-%d", i)},
		})
	}
	if err := s.Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.ReadingsStored != 10 || st.PointsStored != 30 {
		t.Errorf("stats = %+v, want 10 readings, 30 points (NaN not stored)", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dir, Options{})
	chans := s.Channels()
	if len(chans) != 1 || chans[0].Channel != hive {
		t.Fatalf("channels after reopen = %+v", chans)
	}
	ci := chans[0]
	var names []string
	for _, f := range ci.Fields {
		names = append(names, f.Name)
	}
	if fmt.Sprint(names) != "[status temperature weight]" {
		t.Errorf("fields = %v", names)
	}
	if w, _ := ci.Field("weight"); w.LastValue != 40.09 || !w.Last.Equal(t0.Add(9*time.Minute)) || !w.First.Equal(t0) {
		t.Errorf("weight info = %+v", w)
	}
	if st, _ := ci.Field("status"); st.LastText != "ok-9" {
		t.Errorf("status info = %+v", st)
	}

	pts, err := s.Points(ctx, hive, "weight", t0.Add(2*time.Minute), t0.Add(4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3 || pts[0].Value != 40.02 || pts[2].Value != 40.04 || !pts[2].Time.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("range query = %+v, want 3 points 40.02..40.04 (both ends inclusive)", pts)
	}
	txt, err := s.TextPoints(ctx, hive, "status", t0, t0.Add(time.Hour))
	if err != nil || len(txt) != 10 || txt[3].Value != "ok-3" {
		t.Errorf("text query = %+v, %v", txt, err)
	}
	none, err := s.Points(ctx, hive, "nosuchfield", t0, t0.Add(time.Hour))
	if err != nil || len(none) != 0 {
		t.Errorf("unknown field = %v, %v", none, err)
	}
}

func TestSameTimeOverwrites(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []float64{1, 2} {
		if err := s.Write(ctx, []Reading{{Channel: hive, Time: t0, Fields: map[string]float64{"w": v}}}); err != nil {
			t.Fatal(err)
		}
	}
	pts, _ := s.Points(ctx, hive, "w", t0, t0)
	if len(pts) != 1 || pts[0].Value != 2 {
		t.Errorf("points = %+v, want the one later value", pts)
	}
}

func TestNegativeAndPreEpochTimesSort(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	times := []time.Time{
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Unix(0, 0).UTC(),
		time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, tm := range times {
		s.Write(ctx, []Reading{{Channel: hive, Time: tm, Fields: map[string]float64{"x": float64(i)}}})
	}
	pts, _ := s.Points(ctx, hive, "x", times[0], times[2])
	if len(pts) != 3 || pts[0].Value != 0 || pts[2].Value != 2 {
		t.Errorf("points = %+v", pts)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	cases := []Reading{
		{Channel: Channel{"a", "", "c", "d"}, Time: time.Now(), Fields: map[string]float64{"x": 1}},
		{Channel: hive, Fields: map[string]float64{"x": 1}},
	}
	for _, r := range cases {
		if err := s.Write(ctx, []Reading{r}); err == nil {
			t.Errorf("Write(%+v) succeeded", r)
		}
	}
	if len(s.Channels()) != 0 {
		t.Errorf("invalid writes left channels: %+v", s.Channels())
	}
}

func TestDownsample(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rs []Reading
	for i := range 600 { // 10 hours of minutes
		rs = append(rs, Reading{Channel: hive, Time: t0.Add(time.Duration(i) * time.Minute), Fields: map[string]float64{"v": float64(i)}})
	}
	if err := s.Write(ctx, rs); err != nil {
		t.Fatal(err)
	}
	bs, width, err := s.Downsample(ctx, hive, "v", t0, t0.Add(10*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if width != time.Hour || len(bs) != 10 {
		t.Fatalf("width %v, %d buckets", width, len(bs))
	}
	b := bs[1]
	if b.Count != 60 || b.Min != 60 || b.Max != 119 || b.First != 60 || b.Last != 119 || b.Mean() != 89.5 {
		t.Errorf("bucket 1 = %+v", b)
	}
}

func TestErrorLogDedupAndBound(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openTest(t, dir, Options{ErrorLogMax: 5, Now: clock})
	for range 100 {
		s.RecordError(ErrorEntry{Kind: "json", Channel: "a/b/c/d", Source: "a/b/c/d/data.json", Message: "bad"})
	}
	for i := range 20 {
		now = now.Add(time.Second)
		s.RecordError(ErrorEntry{Kind: "address", Source: fmt.Sprintf("short/%d", i), Message: "too short"})
	}
	es := s.Errors(ErrorFilter{})
	if len(es) != 5 {
		t.Fatalf("%d entries, want the bound 5", len(es))
	}
	if es[0].Source != "short/19" {
		t.Errorf("newest entry = %+v", es[0])
	}
	if st := s.Stats(); st.ErrorsRecorded != 120 {
		t.Errorf("errors recorded = %d", st.ErrorsRecorded)
	}

	s2dir := t.TempDir()
	s2 := openTest(t, s2dir, Options{Now: clock})
	for range 100 {
		s2.RecordError(ErrorEntry{Kind: "json", Channel: "a/b/c/d", Source: "a/b/c/d/data.json", Message: "bad", Excerpt: string(make([]byte, 10000))})
	}
	s2.Close()
	s2 = openTest(t, s2dir, Options{Now: clock})
	es = s2.Errors(ErrorFilter{Kind: "json"})
	if len(es) != 1 || es[0].Count != 100 || len(es[0].Excerpt) > maxErrorExcerpt {
		t.Errorf("after reopen: %+v", es)
	}
	if es := s2.Errors(ErrorFilter{Channel: "x/y/z/w"}); len(es) != 0 {
		t.Errorf("filter by channel = %+v", es)
	}
}

// TestFormatUpgrade: a store of format 2 or 3 is opened and marked with
// the current format (whose records or columns an older Apiary would
// misread); an unknown format is refused.
func TestFormatUpgrade(t *testing.T) {
	dir := t.TempDir()
	key := append([]byte{prefixMeta}, "format"...)
	s := openTest(t, dir, Options{})
	if err := s.Write(context.Background(), []Reading{{Channel: hive, Time: time.Now(), Fields: map[string]float64{"weight": 1}}}); err != nil {
		t.Fatal(err)
	}
	setFormat := func(v string) {
		t.Helper()
		if err := s.db.Set(key, []byte(v), pebble.Sync); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	for _, old := range []string{"2", "3"} {
		setFormat(old)
		s = openTest(t, dir, Options{})
		v, closer, err := s.db.Get(key)
		if err != nil || string(v) != formatVersion {
			t.Fatalf("format after opening a format %s store: %q, %v", old, v, err)
		}
		closer.Close()
		if ci, ok := s.ChannelInfo(hive); !ok || len(ci.Fields) != 1 {
			t.Errorf("a store upgraded from format %s lost its channel: %+v", old, ci)
		}
	}
	setFormat("9")
	if s2, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), `format "9"`) {
		if s2 != nil {
			s2.Close()
		}
		t.Errorf("a store of format 9 opened: %v", err)
	}
}

// TestUpdateSet: the catalogue's updates of a commit, one per series,
// the same whether the set is searched (short) or hashed (beyond
// updateListMax): the oldest time, and the value of the newest, the later
// of equal times winning.
func TestUpdateSet(t *testing.T) {
	for _, n := range []int{1, updateListMax, updateListMax + 1, 3 * updateListMax} {
		ses := make([]*series, n)
		for i := range ses {
			ses[i] = &series{}
		}
		var u updateSet
		t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		for round, dt := range []time.Duration{time.Minute, 0, 2 * time.Minute, time.Minute} {
			for i, se := range ses {
				u.add(se, t0.Add(dt), float64(100*round+i), "")
			}
		}
		if len(u.list) != n {
			t.Fatalf("%d series: %d updates", n, len(u.list))
		}
		for i, up := range u.list {
			if up.s != ses[i] || !up.first.Equal(t0) || !up.t.Equal(t0.Add(2*time.Minute)) || up.num != float64(200+i) {
				t.Errorf("%d series: update %d = %+v", n, i, up)
			}
		}
	}
}
