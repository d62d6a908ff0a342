package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apiary-hive/apiary/store"
)

func TestImportIsIdempotent(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	// The node reports today: its history lands on it, not on a channel
	// read from Kotori's mangled names.
	live := store.Channel{Realm: "hiveeyes", Network: "testdrive", Gateway: "area-42", Node: "node-1"}
	st.Write(ctx, []store.Reading{{Channel: live, Time: time.Now(), Fields: map[string]float64{"weight": 60}}})
	export := `# DDL
CREATE DATABASE hiveeyes_testdrive WITH NAME autogen
# DML
# CONTEXT-DATABASE:hiveeyes_testdrive
# CONTEXT-RETENTION-POLICY:autogen
area_42_node_1_sensors humidity=56.1,temperature=19.6,weight=58.697 1471212126000000000
area_42_node_1_sensors humidity=58.3,temperature=19.4,weight=58.663,state="ok" 1471213326000000000
area_42_node_1_events text="fed 2 kg",title="Feeding",tags="feeding" 1471213326000000000
this is no line protocol
area_42_node_1_sensors weight=1
`
	for round := 0; round < 2; round++ {
		stats, err := Import(ctx, st, strings.NewReader(export), ImportOptions{Format: "lineproto"})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Readings != 2 || stats.Points != 7 || stats.Events != 1 || stats.BadLines != 2 {
			t.Errorf("round %d: %+v", round, stats)
		}
	}
	ch := live
	pts, _ := st.Points(ctx, ch, "weight", time.Unix(0, 0), time.Now())
	if len(pts) != 3 || pts[0].Value != 58.697 || !pts[0].Time.Equal(time.Unix(1471212126, 0)) {
		t.Errorf("weight after two imports = %v", pts)
	}
	evs, _ := st.Events(ctx, ch, time.Unix(0, 0), time.Now())
	if len(evs) != 1 || evs[0].Title != "Feeding" {
		t.Errorf("events = %+v", evs)
	}

	if len(st.Channels()) != 1 {
		t.Errorf("channels = %v", st.Channels())
	}
	unknown := "# CONTEXT-DATABASE:hiveeyes_other\nsite_a_hive_3_sensors weight=1 1471212126000000000\n"
	if _, err := Import(ctx, st, strings.NewReader(unknown), ImportOptions{Format: "lineproto"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.ChannelInfo(store.Channel{Realm: "hiveeyes", Network: "other", Gateway: "site", Node: "a_hive_3"}); !ok {
		t.Errorf("unknown channel not read from Kotori's names: %v", st.Channels())
	}
	fixed := store.Channel{Realm: "hiveeyes", Network: "testdrive", Gateway: "area-42", Node: "node-9"}
	csv := "time,humidity,temperature\n2020-03-10T03:29:42.000000Z,51.8,25.26\n2020-03-10T04:29:42.000000Z,,32.26\n"
	stats, err := Import(ctx, st, strings.NewReader(csv), ImportOptions{Format: "csv", Channel: fixed})
	if err != nil || stats.Readings != 2 || stats.Points != 3 {
		t.Fatalf("csv: %+v %v", stats, err)
	}
	if _, err := Import(ctx, st, strings.NewReader(csv), ImportOptions{Format: "csv"}); err == nil {
		t.Error("CSV without a channel imported")
	}
}
