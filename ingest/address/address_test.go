package address

import (
	"errors"
	"strings"
	"testing"
)

func TestResolveKotori(t *testing.T) {
	r := Resolver{Realms: map[string]Realm{
		"myrealm":   {},
		"mqttkit-1": {AllowedNetworks: []string{"itest", "testdrive"}},
		"basic":     {LAN: true},
		"hiveeyes":  {},
		"solar":     {},
	}}
	cases := []struct {
		topic, want string // want: "realm|network|gateway|node|slot" or "error:<kind>"
	}{
		// Kotori's WanBusStrategy tests (vectors 65-72).
		{"myrealm/acme/area-42/foo-70b3d57ed005dac6/data.json", "myrealm|acme|area-42|foo-70b3d57ed005dac6|data.json"},
		{"myrealm/channel/acme-area42-eui70b3d57ed005dac6/data.json", "myrealm|acme|area42|eui70b3d57ed005dac6|data.json"},
		{"myrealm/channel/eui-70b3d57ed005dac6/data.json", "myrealm|default|eui|70b3d57ed005dac6|data.json"},
		{"myrealm/channel/acme-area42-eui70b3d57ed005dac6-suffix/data.json", "myrealm|acme|area42|eui70b3d57ed005dac6-suffix|data.json"},
		{"myrealm/channel/myrealm-acme-area42-eui70b3d57ed005dac6/data.json", "myrealm|acme|area42|eui70b3d57ed005dac6|data.json"},
		{"myrealm/channel/myrealm-a-b/data.json", "myrealm|default|a|b|data.json"},
		{"myrealm/channel/myrealm-x/data.json", "myrealm|default|myrealm|x|data.json"},
		{"myrealm/device/data.json", "error:address"},
		{"mqttkit-1/device/123e4567-e89b-12d3-a456-426614174000/data.json", "mqttkit-1|devices|default|123e4567-e89b-12d3-a456-426614174000|data.json"},
		{"mqttkit-1/channel/another-foo-bar/data.json", "error:access"},
		{"mqttkit-1/channel/itest-foo-bar/data.json", "mqttkit-1|itest|foo|bar|data.json"},
		{"mqttkit-1/itest3/foo/bar/data.json", "mqttkit-1|itest3|foo|bar|data.json"},
		// Slots with slashes, deeper topics.
		{"mqttkit-1/itest/foo/bar/tele/SENSOR", "mqttkit-1|itest|foo|bar|tele/SENSOR"},
		{"mqttkit-1/itest/foo/bar/data/temperature", "mqttkit-1|itest|foo|bar|data/temperature"},
		{"hiveeyes/696e4192-707f-4e8e-9246-78f6b41a280f/tug22/999/data.json", "hiveeyes|696e4192-707f-4e8e-9246-78f6b41a280f|tug22|999|data.json"},
		{"hiveeyes/None/None/None/data.json", "hiveeyes|None|None|None|data.json"},
		{"hiveeyes/beekeeper-1/apiary-a/hive1/$online", "hiveeyes|beekeeper-1|apiary-a|hive1|$online"},
		// LAN realm.
		{"basic/node42/data.json", "basic|default|default|node42|data.json"},
		{"basic/node42/custom/airrohr.json", "basic|default|default|node42|custom/airrohr.json"},
		{"basic/node42", "error:address"},
		// Malformed.
		{"solar/testdrive/node1/data", "error:address"},
		{"hiveeyes/testdrive/area-42/node-1", "error:address"},
		{"hiveeyes/testdrive//node-1/data.json", "error:address"},
		{"/hiveeyes/testdrive/area-42/node-1/data.json", "error:address"},
		{"elsewhere/a/b/c/data.json", "error:access"},
		{"hiveeyes/" + strings.Repeat("x", 2000) + "/b/c/data.json", "error:limit"},
		{"hiveeyes" + strings.Repeat("/x", 40), "error:limit"},
		{"hiveeyes/a/b/c/\xff.json", "error:address"},
	}
	for _, c := range cases {
		a, err := r.Resolve(c.topic)
		got := a.Channel.Realm + "|" + a.Channel.Network + "|" + a.Channel.Gateway + "|" + a.Channel.Node + "|" + a.Slot
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				t.Errorf("Resolve(%.60q): error %T %v", c.topic, err, err)
				continue
			}
			got = "error:" + ae.Kind
		}
		if got != c.want {
			t.Errorf("Resolve(%.60q) = %s (%v), want %s", c.topic, got, err, c.want)
		}
	}
	// Without realms configured, any realm is a WAN realm.
	if a, err := (Resolver{}).Resolve("anything/a/b/c/data.json"); err != nil || a.Channel.Realm != "anything" {
		t.Errorf("open resolver: %+v %v", a, err)
	}
}

func TestRoutes(t *testing.T) {
	rt, err := NewRouter([]Route{
		{Topic: "homie/+/$*/#", Ignore: true},
		{Topic: "homie/{device}/{node}/{property}", Channel: "homie/default/{device}/{node}", Slot: "value/{property}"},
		{Topic: "tele/{device}/SENSOR", Channel: "tasmota/default/default/{device}", Slot: "tele/SENSOR"},
		{Topic: "tele/#", Ignore: true},
		{Path: "/v1/push-sensor-data/", Channel: "sensor-community/default/default/{header:X-Sensor}", Slot: "airrohr.json"},
		{Path: "/write", Channel: "influx/{db|=default}/{measurement}/{tag:node|tag:host|=default}", Slot: "lineproto"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := Resolver{Routes: rt}
	cases := map[string]string{
		"tele/hive-scale-1/SENSOR":  "tasmota|default|default|hive-scale-1|tele/SENSOR",
		"tele/Belli_Küche/SENSOR":   "tasmota|default|default|Belli_Küche|tele/SENSOR",
		"tele/hotWater/LWT":         "ignored",
		"tele/x/y/z":                "ignored",
		"homie/scale/hx711/weight":  "homie|default|scale|hx711|value/weight",
		"homie/scale/$state":        "ignored",
		"homie/scale/$stats/uptime": "ignored",
		"hiveeyes/a/b/c/data.json":  "hiveeyes|a|b|c|data.json",
		// Not a route here: Kotori addressing takes it.
		"homie/scale/hx711/weight/set": "homie|scale|hx711|weight|set",
	}
	for topic, want := range cases {
		a, err := res.Resolve(topic)
		got := a.Channel.Realm + "|" + a.Channel.Network + "|" + a.Channel.Gateway + "|" + a.Channel.Node + "|" + a.Slot
		switch {
		case errors.Is(err, ErrIgnored):
			got = "ignored"
		case err != nil:
			got = "error"
		}
		if got != want {
			t.Errorf("Resolve(%q) = %s (%v), want %s", topic, got, err, want)
		}
	}

	route, caps, ok := rt.Path("/write")
	if !ok {
		t.Fatal("no /write route")
	}
	vars := map[string]string{"measurement": "feinstaub", "tag:host": "pi", "db": "air"}
	a, err := route.Expand(caps, func(n string) string { return vars[n] })
	if err != nil || a.Channel.String() != "influx/air/feinstaub/pi" {
		t.Errorf("expand = %v, %v", a.Channel, err)
	}
	delete(vars, "db")
	vars["tag:node"] = "a/b"
	a, _ = route.Expand(caps, func(n string) string { return vars[n] })
	if a.Channel.String() != "influx/default/feinstaub/a_b" {
		t.Errorf("expand with fallback = %v", a.Channel)
	}
	route, caps, _ = rt.Path("/v1/push-sensor-data/")
	if _, err := route.Expand(caps, func(string) string { return "" }); err == nil {
		t.Error("missing X-Sensor header expanded")
	}
	if _, err := route.Expand(caps, func(string) string { return strings.Repeat("x", MaxChannelPart+1) }); ExpandErrorKind(err) != "limit" {
		t.Errorf("a too long X-Sensor header: %v, want a limit error", err)
	}
	if _, err := route.Expand(caps, func(string) string { return strings.Repeat("x", MaxChannelPart) }); err != nil {
		t.Errorf("an X-Sensor header of %d bytes: %v", MaxChannelPart, err)
	}
	_, err = res.Resolve("tele/" + strings.Repeat("d", MaxChannelPart+1) + "/SENSOR")
	var aerr *Error
	if !errors.As(err, &aerr) || aerr.Kind != "limit" {
		t.Errorf("a too long Tasmota topic: %v, want a limit error", err)
	}
	if got := TemplateTags("influx/{db|=default}/{measurement}/{tag:node|tag:host|=default}"); len(got) != 2 || !got["node"] || !got["host"] {
		t.Errorf("TemplateTags = %v, want node and host", got)
	}
	if got := TemplateTags("x-tag:y/{=tag:x}/{header:X-tag:z}/{tag:a}"); len(got) != 1 || !got["a"] {
		t.Errorf("TemplateTags = %v, want only a", got)
	}

	for _, bad := range []Route{
		{Topic: "a/#/b", Channel: "a/b/c/d", Slot: "x"},
		{Topic: "a/b", Channel: "a/b/c", Slot: "x"},
		{Topic: "a/b", Path: "/a", Channel: "a/b/c/d", Slot: "x"},
		{Topic: "a/[", Channel: "a/b/c/d", Slot: "x"},
		{Topic: "a/b", Channel: "a/b/c/d"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("route %+v validated", bad)
		}
	}
}
