package main

// The node kinds: small emulators of real firmwares, each with the wire
// behaviour of the emulation of the same device in firmware-tests/ (client
// id style, session, keepalive, will, QoS, retain, topics, serialisation,
// HTTP method, path, headers and content type), reporting on a clock
// accelerated by -speed.

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// kindSpec is a node kind.
type kindSpec struct {
	name      string
	transport string
	// about says what the emulation reproduces; note says how its readings
	// are counted where that is not one row per message.
	about, note string
	newDevice   func(n *node) device
	// broken: the kind sends only what Apiary must refuse; it is left out
	// of the valid traffic and reported on its own (-broken).
	broken bool
}

// kinds are the valid node kinds, in the order nodes are dealt to them,
// and the broken one last.
var kinds = []kindSpec{
	{name: "node-wifi-mqtt", transport: "MQTT QoS 0", newDevice: newNodeWifiMQTT,
		about: "Hiveeyes node-wifi-mqtt: Adafruit_MQTT, empty client id, clean session, keepalive 300 s; ArduinoJson 5 compact JSON to hiveeyes/<net>/<gw>/<node>/data.json, no time; a failed HX711 is a bare NaN"},
	{name: "beradio-gateway", transport: "MQTT QoS 0", newDevice: newBERadioGateway,
		about: "BERadio gateway (paho-mqtt Python, client <realm>:<pid>) relaying two radio nodes: \"hello world\" on hiveeyes/helo, each value on its own topic, then json.dumps with the gateway clock as a 19-digit nanosecond \"time\" to data.json; a retained status.json heartbeat every 5 reports",
		note:  "its per-value topics and hiveeyes/helo are no readings: \"slot\" and \"address\" error-log entries by design, counted exactly"},
	{name: "terkin-mqtt", transport: "MQTT QoS 1", newDevice: newTerkinMQTT,
		about: "Terkin datalogger (MicroPython umqtt): client terkin.<id>, clean session, keepalive 0, QoS 1; json.dumps spacing, a failed BME280 as bare nan; system.time is a value, the reading gets its arrival time"},
	{name: "tasmota", transport: "MQTT QoS 0", newDevice: newTasmota,
		about: "Tasmota on factory settings: client DVES_<chip>, keepalive 30 s, will tele/<topic>/LWT; LWT \"Online\" retained and INFO1..3 on connect; SENSOR and STATE every TelePeriod with the local \"Time\" (no zone); a failed AM2301 sends nulls",
		note:  "SENSOR and STATE of one TelePeriod carry the same Time: one row, two readings in the store counter"},
	{name: "esphome", transport: "MQTT QoS 0 retained", newDevice: newESPHome,
		about: "ESPHome mqtt: client <node>-<mac>, clean_session false, keepalive 15 s, will and birth on <node>/status, Home Assistant discovery, esphome/discover and <node>/debug (ignored); each state as text on <node>/<component>/<id>/state, retained; a failed read is \"nan\"",
		note:  "each value is a message of its own, stored at its own arrival time: one row per value; a \"nan\" is no value and no row"},
	{name: "homie-v4", transport: "MQTT QoS 1 retained", newDevice: newHomie,
		about: "Homie v4 device: client id = device id, keepalive 15 s, will $state \"lost\"; $-attributes (ignored) and every property value retained at QoS 1, as text",
		note:  "each property value is a message of its own: one row per value, in the channel of its Homie node"},
	{name: "openhive-http", transport: "HTTP form", newDevice: newOpenHive,
		about: "Open Hive ESP32 (ArduinoHttpClient, Connection: close): dtostrf-padded form values with \"+\" to /api-notls/hiveeyes/<net>/<gw>/<node>/data, no time; every other node with the brood temperature array, an unplugged DS18B20 is -127"},
	{name: "terkindata-gprs", transport: "HTTP JSON", newDevice: newTerkinDataGPRS,
		about: "TerkinData JSON through a SIM800 (GPRS, HTTP/1.1, no TLS) to /api-notls/...: the RTC's ISO time first, missing sensors left out"},
	{name: "gprs-backlog", transport: "HTTP JSON array", newDevice: newGPRSBacklog,
		about: "Terkin datalogger on GPRS that buffers while out of coverage: every 5 reports one json.dumps array of the 5 readings, each with its own ISO time, through the SIM800",
		note:  "an array of N is N readings (the answer must say \"Received #N readings\")"},
	{name: "telegraf", transport: "HTTP line protocol", newDevice: newTelegraf,
		about: "Telegraf outputs.influxdb (database telegraf): CREATE DATABASE at start, then each flush a gzip POST /write?db=telegraf of cpu, temp and an exec'd HX711 line, ns timestamps, answered 204",
		note:  "a flush is three readings in three channels (influx/telegraf/<measurement>/<host or node>)"},
	{name: "ttn-v3", transport: "HTTP webhook", newDevice: newTTN,
		about: "The Things Stack v3 webhook (base URL /ttn, uplink path /uplink, its headers): the full uplink of a Terkin datalogger behind decoder_v3.js; the reading's time is received_at"},
	{name: "broken", transport: "MQTT QoS 0", broken: true, newDevice: newBrokenNode,
		about: "a node-wifi-mqtt whose StaticJsonBuffer overflows: every payload truncated JSON",
		note:  "nothing to store: each message must count up the node's one \"json\" error-log entry"},
}

func kindByName(name string) (kindSpec, bool) {
	for _, k := range kinds {
		if k.name == name {
			return k, true
		}
	}
	return kindSpec{}, false
}

// channel is the Kotori channel of the node (realm hiveeyes).
func (n *node) channel() string { return "hiveeyes/" + n.net + "/" + n.gw + "/" + n.name }

// --------------------------------------------------------------- node-wifi-mqtt

// nodeWifiMQTT is hiveeyes/arduino backdoor/node-wifi-mqtt (see
// firmware-tests/hiveeyes_test.go).
type nodeWifiMQTT struct {
	*mqttDevice
	h      hive
	broken bool
}

func newNodeWifiMQTT(n *node) device {
	return &nodeWifiMQTT{h: newHive(n.rng), mqttDevice: newMQTTDevice(n,
		paho.NewClientOptions().SetClientID("").SetCleanSession(true).SetKeepAlive(300*time.Second))}
}

func newBrokenNode(n *node) device {
	d := newNodeWifiMQTT(n).(*nodeWifiMQTT)
	d.broken = true
	return d
}

func (d *nodeWifiMQTT) connect() error { return d.dial() }
func (d *nodeWifiMQTT) close()         { d.disconnect() }

func (d *nodeWifiMQTT) report(k int, _ time.Time) {
	if !d.up(d.dial) {
		return
	}
	n := d.n
	weight := fixed(d.h.weight(k), 2)
	fields := []string{"weight", "airtemperature", "airhumidity", "broodtemperature", "battery_level", "memory_free"}
	if d.h.fails(0.03) { // HX711 not ready: ArduinoJson 5 writes a bare NaN
		weight = "NaN"
		fields = fields[1:]
	}
	brood := float64(int(d.h.brood()*16)) / 16 // DS18B20, 1/16 K steps
	payload := fmt.Sprintf(`{"weight":%s,"airtemperature":%s,"airhumidity":%s,"broodtemperature":%s,"battery_level":%d,"memory_free":%d}`,
		weight, fixed(d.h.air(), 2), fixed(d.h.humidity(), 2), pyTrim(brood), 60+n.rng.IntN(40), 37000+n.rng.IntN(2000))
	if d.broken {
		// The buffer ran out in the third key.
		payload = payload[:strings.Index(payload, `"airhumidity"`)+5]
	}
	if !d.pub(n.channel()+"/data.json", 0, false, payload) {
		return
	}
	if d.broken {
		n.env.ledger.expectError(n.kind, "json", n.channel(), "truncated JSON (deliberately broken node)")
		return
	}
	n.env.ledger.atArrival(n.kind, n.channel(), fields...)
}

// pyTrim formats like ArduinoJson's float output with up to 4 decimals,
// trailing zeros dropped.
func pyTrim(v float64) string {
	s := fixed(v, 4)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// --------------------------------------------------------------- BERadio

// beradioGateway is hiveeyes/beradio's "beradio forward" (see
// firmware-tests/hiveeyes_test.go).
type beradioGateway struct {
	*mqttDevice
	network string
	radio   []string // the radio nodes' ids
	hives   []hive
}

func newBERadioGateway(n *node) device {
	g := &beradioGateway{
		network: fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", n.rng.Uint32(), n.rng.IntN(1<<16), n.rng.IntN(1<<12), 0x8000|n.rng.IntN(1<<14), n.rng.Int64N(1<<48)),
		radio:   []string{fmt.Sprint(900 + 2*n.idx), fmt.Sprint(901 + 2*n.idx)},
	}
	for range g.radio {
		g.hives = append(g.hives, newHive(n.rng))
	}
	g.mqttDevice = newMQTTDevice(n, paho.NewClientOptions().SetClientID(fmt.Sprintf("hiveeyes:%d", 2000+n.idx)).
		SetCleanSession(true).SetKeepAlive(60*time.Second))
	return g
}

func (g *beradioGateway) base() string { return "hiveeyes/" + g.network + "/" + g.n.gw + "/" }

func (g *beradioGateway) connect() error {
	if err := g.dial(); err != nil {
		return err
	}
	if g.pub("hiveeyes/helo", 0, false, "hello world") {
		g.n.env.ledger.expectError(g.n.kind, "address", "hiveeyes/helo", "BERadio's hello on <realm>/helo is no channel")
	}
	g.heartbeat(time.Now())
	return nil
}

func (g *beradioGateway) close() { g.disconnect() }

// heartbeat is publish_ping: retained status.json with the gateway's
// clock as naive UTC isoformat.
func (g *beradioGateway) heartbeat(at time.Time) {
	payload := fmt.Sprintf(`{"status": "online", "program": "beradio 0.14.0", "date": "%s"}`, at.UTC().Format("2006-01-02T15:04:05.000000"))
	if g.pub(g.base()+"gateway/status.json", 0, true, payload) {
		g.n.env.ledger.atArrival(g.n.kind, g.base()+"gateway", "status", "program", "date")
	}
}

func (g *beradioGateway) report(k int, at time.Time) {
	if !g.up(g.connect) {
		return
	}
	for i, id := range g.radio {
		h := g.hives[i]
		ch := g.base() + id
		fields := [][2]string{
			{"temp1", pyFloat(round(h.brood(), 2))}, {"temp2", pyFloat(round(h.air(), 2))},
			{"hum1", pyFloat(round(h.humidity(), 1))}, {"wght1", pyFloat(round(h.weight(k), 2))},
		}
		var js []string
		var names []string
		for _, f := range fields {
			if g.pub(ch+"/"+f[0], 0, false, f[1]) {
				g.n.env.ledger.expectError(g.n.kind, "slot", ch, "BERadio's single-value topics are no Kotori slot")
			}
			js = append(js, fmt.Sprintf(`"%s": %s`, f[0], f[1]))
			names = append(names, f[0])
		}
		// The radio message reached the gateway a moment after the last;
		// timestamp_nanos goes through a float: noise in the last digits.
		t := at.Add(time.Duration(i)*1200*time.Millisecond + 507804*time.Microsecond)
		tns := int64(float64(t.Unix())*1e9 + float64(t.Nanosecond()/1000)*1e3)
		js = append(js, fmt.Sprintf(`"time": %d`, tns))
		if g.pub(ch+"/data.json", 0, false, "{"+strings.Join(js, ", ")+"}") {
			g.n.env.ledger.atDevice(g.n.kind, ch, t, names...)
		}
	}
	if k%5 == 4 {
		g.heartbeat(at)
	}
}

// --------------------------------------------------------------- Terkin MQTT

// terkinMQTT is the Terkin datalogger's MQTT transport (see
// firmware-tests/terkin_test.go).
type terkinMQTT struct {
	*mqttDevice
	h hive
}

func newTerkinMQTT(n *node) device {
	return &terkinMQTT{h: newHive(n.rng), mqttDevice: newMQTTDevice(n, paho.NewClientOptions().
		SetClientID(fmt.Sprintf("terkin.30aea4c5%04x", n.idx)).SetCleanSession(true).SetKeepAlive(0))}
}

func (d *terkinMQTT) connect() error { return d.dial() }
func (d *terkinMQTT) close()         { d.disconnect() }

func (d *terkinMQTT) report(k int, at time.Time) {
	if !d.up(d.dial) {
		return
	}
	n := d.n
	fields := []string{"system.memfree", "system.temperature", "system.voltage.battery", "system.wifi.rssi", "system.time",
		"system.uptime", "system.runtime", "temperature.0x77.i2c:0", "humidity.0x77.i2c:0", "pressure.0x77.i2c:0",
		"temperature.28ff641d8fc3944f.onewire:0", "weight.0"}
	bme := pyFloat(round(d.h.air(), 2))
	if d.h.fails(0.03) { // the BME280 read failed: MicroPython writes nan
		bme = "nan"
		fields = append(fields[:7:7], fields[8:]...)
	}
	payload := fmt.Sprintf(`{"system.memfree": %d, "system.temperature": %s, "system.voltage.battery": %s, "system.wifi.rssi": %s, `+
		`"system.time": %d, "system.uptime": %d, "system.runtime": %d, `+
		`"temperature.0x77.i2c:0": %s, "humidity.0x77.i2c:0": %s, "pressure.0x77.i2c:0": %s, `+
		`"temperature.28ff641d8fc3944f.onewire:0": %s, "weight.0": %s}`,
		1000000-n.rng.IntN(5000), pyFloat(round(40+n.rng.Float64()*8, 10)), pyFloat(round(d.h.volts(), 3)), pyFloat(round(-90+n.rng.Float64()*30, 1)),
		at.Unix(), 60*(k+1), 2+n.rng.IntN(3), bme, pyFloat(round(d.h.humidity(), 1)), pyFloat(round(d.h.pressure(), 1)),
		pyFloat(float64(int(d.h.brood()*16))/16), pyFloat(round(d.h.weight(k), 3)))
	if d.pub(n.channel()+"/data.json", 1, false, payload) {
		n.env.ledger.atArrival(n.kind, n.channel(), fields...)
	}
}

// --------------------------------------------------------------- Tasmota

// tasmota is a Tasmota hive scale on its factory settings (see
// firmware-tests/thirdparty_tasmota_test.go).
type tasmota struct {
	*mqttDevice
	chip, topic string
	h           hive
	uptime      int
}

func newTasmota(n *node) device {
	chip := fmt.Sprintf("%06X", 0x4B5C00+n.idx)
	d := &tasmota{chip: chip, topic: "tasmota_" + chip, h: newHive(n.rng)}
	d.mqttDevice = newMQTTDevice(n, paho.NewClientOptions().SetClientID("DVES_"+chip).
		SetCleanSession(true).SetKeepAlive(30*time.Second).SetWill("tele/"+d.topic+"/LWT", "Offline", 1, true))
	return d
}

func (d *tasmota) channel() string { return "tasmota/default/default/" + d.topic }

func (d *tasmota) connect() error {
	if err := d.dial(); err != nil {
		return err
	}
	if d.pub("tele/"+d.topic+"/LWT", 0, true, "Online") {
		d.n.env.ledger.atArrival(d.n.kind, d.channel(), "LWT")
	}
	d.pub("tele/"+d.topic+"/INFO1", 0, false, `{"Info1":{"Module":"Generic","Version":"13.4.0(release-tasmota)","FallbackTopic":"cmnd/DVES_`+d.chip+`_fb/","GroupTopic":"cmnd/tasmotas/"}}`)
	d.pub("tele/"+d.topic+"/INFO2", 0, false, `{"Info2":{"WebServerMode":"Admin","Hostname":"tasmota-`+d.chip+`-7226","IPAddress":"192.168.1.42"}}`)
	d.pub("tele/"+d.topic+"/INFO3", 0, false, `{"Info3":{"RestartReason":"Power On","BootCount":12}}`)
	return nil
}

func (d *tasmota) close() { d.disconnect() }

func (d *tasmota) report(k int, at time.Time) {
	if !d.up(d.connect) {
		return
	}
	clock := at.In(time.Local).Format("2006-01-02T15:04:05") // local time, no zone
	w := d.h.weight(k)
	am := `{"Temperature":null,"Humidity":null,"DewPoint":null}`
	sensorFields := []string{"HX711.Weight", "HX711.WeightRaw", "HX711.AbsRaw", "DS18B20.Id", "DS18B20.Temperature",
		"BME280.Temperature", "BME280.Humidity", "BME280.DewPoint", "BME280.Pressure"}
	if !d.h.fails(0.03) {
		am = fmt.Sprintf(`{"Temperature":%s,"Humidity":%s,"DewPoint":%s}`, fixed(d.h.air(), 1), fixed(d.h.humidity(), 1), fixed(d.h.air()-5, 1))
		sensorFields = append(sensorFields, "AM2301.Temperature", "AM2301.Humidity", "AM2301.DewPoint")
	}
	sensor := fmt.Sprintf(`{"Time":"%s","HX711":{"Weight":%.3f,"WeightRaw":%d,"AbsRaw":-1734221},"DS18B20":{"Id":"3C01D607D5A5","Temperature":%.1f},"BME280":{"Temperature":%.1f,"Humidity":%.1f,"DewPoint":%.1f,"Pressure":%.1f},"AM2301":%s,"PressureUnit":"hPa","TempUnit":"C"}`,
		clock, w, int(w*1000), d.h.brood(), d.h.air(), d.h.humidity(), d.h.air()-6, d.h.pressure(), am)
	if d.pub("tele/"+d.topic+"/SENSOR", 0, false, sensor) {
		d.n.env.ledger.atDevice(d.n.kind, d.channel(), at, sensorFields...)
	}
	d.uptime += 60
	state := fmt.Sprintf(`{"Time":"%s","Uptime":"0T%02d:%02d:%02d","UptimeSec":%d,"Heap":25,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"Wifi":{"AP":1,"SSId":"apiary","BSSId":"A0:F3:C1:12:34:56","Channel":6,"Mode":"11n","RSSI":%d,"Signal":%d,"LinkCount":1,"Downtime":"0T00:00:03"}}`,
		clock, d.uptime/3600%24, d.uptime/60%60, d.uptime%60, d.uptime, 50+d.n.rng.IntN(30), -80+d.n.rng.IntN(20))
	if d.pub("tele/"+d.topic+"/STATE", 0, false, state) {
		d.n.env.ledger.atDevice(d.n.kind, d.channel(), at, "Device.Sleep", "Device.LoadAvg",
			"Device.Wifi.Channel", "Device.Wifi.RSSI", "Device.Wifi.LinkCount", "Device.Wifi.Signal")
	}
}

// --------------------------------------------------------------- ESPHome

// esphome is an ESPHome hive scale with the mqtt: component on its
// defaults (see firmware-tests/thirdparty_esphome_test.go).
type esphome struct {
	*mqttDevice
	node, mac string
	h         hive
}

func newESPHome(n *node) device {
	d := &esphome{node: fmt.Sprintf("beehive-scale-%d", n.idx), mac: fmt.Sprintf("a4cf12d3%04x", n.idx), h: newHive(n.rng)}
	d.mqttDevice = newMQTTDevice(n, paho.NewClientOptions().SetClientID(d.node+"-"+d.mac).
		SetCleanSession(false).SetKeepAlive(15*time.Second).SetWill(d.node+"/status", "offline", 0, true))
	return d
}

func (d *esphome) channel() string { return "esphome/default/default/" + d.node }

func (d *esphome) connect() error {
	if err := d.dial(); err != nil {
		return err
	}
	if d.pub(d.node+"/status", 0, true, "online") {
		d.n.env.ledger.atArrival(d.n.kind, d.channel(), "status")
	}
	d.pub("esphome/discover/"+d.node, 2, true, fmt.Sprintf(`{"ip":"192.168.1.57","name":"%s","friendly_name":"Beehive scale","version":"2025.4.0","mac":"%s","platform":"ESP32","board":"esp32dev","network":"wifi"}`, d.node, d.mac))
	for _, s := range [][4]string{
		{"sensor", "hive_weight", "Hive Weight", "kg"}, {"sensor", "brood_temperature", "Brood Temperature", "°C"},
		{"sensor", "outside_humidity", "Outside Humidity", "%"}, {"sensor", "battery_voltage", "Battery Voltage", "V"},
		{"binary_sensor", "lid_open", "Lid Open", ""}, {"text_sensor", "esphome_version", "ESPHome Version", ""},
	} {
		unit := ""
		if s[3] != "" {
			unit = `"unit_of_measurement":"` + s[3] + `",`
		}
		d.pub("homeassistant/"+s[0]+"/"+d.node+"/"+s[1]+"/config", 0, true,
			fmt.Sprintf(`{%s"name":"%s","stat_t":"%s/%s/%s/state","avty_t":"%s/status","uniq_id":"ESP%s%s","dev":{"ids":"%s","name":"%s","sw":"esphome v2025.4.0","mdl":"esp32dev","mf":"espressif"}}`,
				unit, s[2], d.node, s[0], s[1], d.node, s[0], s[1], d.mac, d.node))
	}
	d.state("text_sensor", "esphome_version", "2025.4.0 Apr 10 2025, 10:00:00")
	return nil
}

func (d *esphome) close() { d.disconnect() }

// state publishes a state; "nan" is a failed read (no value).
func (d *esphome) state(component, id, value string) {
	if !d.pub(d.node+"/"+component+"/"+id+"/state", 0, true, value) {
		return
	}
	if value == "nan" {
		d.n.env.ledger.atArrival(d.n.kind, d.channel())
		return
	}
	d.n.env.ledger.atArrival(d.n.kind, d.channel(), id)
}

func (d *esphome) report(k int, _ time.Time) {
	if !d.up(d.connect) {
		return
	}
	w := fixed(d.h.weight(k), 2)
	d.pub(d.node+"/debug", 0, true, "\x1b[0;36m[D][sensor:094]: 'Hive Weight': Sending state "+w+"000 kg with 2 decimals of accuracy\x1b[0m")
	d.state("sensor", "hive_weight", w)
	brood := fixed(d.h.brood(), 1)
	if d.h.fails(0.03) {
		brood = "nan"
	}
	d.state("sensor", "brood_temperature", brood)
	d.state("sensor", "outside_humidity", fixed(d.h.humidity(), 0))
	d.state("sensor", "battery_voltage", fixed(d.h.volts(), 2))
	lid := "OFF"
	if d.h.fails(0.05) {
		lid = "ON"
	}
	d.state("binary_sensor", "lid_open", lid)
}

// --------------------------------------------------------------- Homie

// homie is a Homie v4 device "beehive-<n>" with the nodes scale and
// climate (see firmware-tests/thirdparty_homie_test.go).
type homie struct {
	*mqttDevice
	id string
	h  hive
}

func newHomie(n *node) device {
	d := &homie{id: fmt.Sprintf("beehive-%d", n.idx), h: newHive(n.rng)}
	d.mqttDevice = newMQTTDevice(n, paho.NewClientOptions().SetClientID(d.id).
		SetCleanSession(true).SetKeepAlive(15*time.Second).SetWill("homie/"+d.id+"/$state", "lost", 1, true))
	return d
}

func (d *homie) connect() error {
	if err := d.dial(); err != nil {
		return err
	}
	base := "homie/" + d.id + "/"
	for _, a := range [][2]string{
		{"$state", "init"}, {"$homie", "4.0.0"}, {"$name", "Beehive " + d.id},
		{"$extensions", "org.homie.legacy-stats:0.1.1:[4.x],org.homie.legacy-firmware:0.1.1:[4.x]"},
		{"$nodes", "scale,climate"},
		{"scale/$name", "Scale"}, {"scale/$type", "HX711"}, {"scale/$properties", "weight,tare"},
		{"scale/weight/$name", "Weight"}, {"scale/weight/$datatype", "float"}, {"scale/weight/$unit", "kg"},
		{"scale/tare/$name", "Tare"}, {"scale/tare/$datatype", "boolean"}, {"scale/tare/$settable", "true"},
		{"climate/$name", "Hive climate"}, {"climate/$type", "BME280"}, {"climate/$properties", "temperature,humidity,lid"},
		{"climate/temperature/$datatype", "float"}, {"climate/temperature/$unit", "°C"},
		{"climate/humidity/$datatype", "float"}, {"climate/humidity/$unit", "%"},
		{"climate/lid/$datatype", "enum"}, {"climate/lid/$format", "open,closed"},
		{"$state", "ready"},
	} {
		d.pub(base+a[0], 1, true, a[1])
	}
	return nil
}

func (d *homie) close() {
	if d.c != nil && d.c.IsConnectionOpen() {
		d.pub("homie/"+d.id+"/$state", 1, true, "disconnected")
	}
	d.disconnect()
}

func (d *homie) property(node, prop, value string) {
	if d.pub("homie/"+d.id+"/"+node+"/"+prop, 1, true, value) {
		d.n.env.ledger.atArrival(d.n.kind, "homie/default/"+d.id+"/"+node, prop)
	}
}

func (d *homie) report(k int, _ time.Time) {
	if !d.up(d.connect) {
		return
	}
	d.property("scale", "weight", fixed(d.h.weight(k), 2))
	d.property("scale", "tare", "false")
	d.property("climate", "temperature", fixed(d.h.brood(), 2))
	d.property("climate", "humidity", fixed(d.h.humidity(), 2))
	lid := "closed"
	if d.h.fails(0.05) {
		lid = "open"
	}
	d.property("climate", "lid", lid)
}

// --------------------------------------------------------------- Open Hive

// openHive is hiveeyes/arduino openhive-esp32 with "isPost" (see
// firmware-tests/hiveeyes_test.go): form values padded by dtostrf.
type openHive struct {
	n                *node
	h                hive
	temperatureArray bool
}

func newOpenHive(n *node) device {
	return &openHive{n: n, h: newHive(n.rng), temperatureArray: n.idx%2 == 1}
}

func (o *openHive) connect() error { return nil }
func (o *openHive) close()         {}

func dtostrf(v float64, width, prec int) string { return fmt.Sprintf("%*.*f", width, prec, v) }

func (o *openHive) report(k int, _ time.Time) {
	fields := []string{"weight", "temperature-1", "humidity-1", "pressure-1"}
	s := "weight=" + dtostrf(o.h.weight(k), 8, 3) + "&temperature-1=" + dtostrf(o.h.air(), 5, 1) +
		"&humidity-1=" + dtostrf(o.h.humidity(), 5, 1) + "&pressure-1=" + dtostrf(o.h.pressure(), 7, 1)
	if o.temperatureArray {
		for i := 1; i <= 5; i++ {
			v := o.h.brood()
			if o.h.fails(0.02) {
				v = -127 // unplugged DS18B20: sent as it is, a value
			}
			s += fmt.Sprintf("&temp-arr-%d=%s", i, dtostrf(v, 5, 1))
			fields = append(fields, fmt.Sprintf("temp-arr-%d", i))
		}
	}
	s += "&battery-voltage=" + dtostrf(o.h.volts(), 5, 2)
	fields = append(fields, "battery-voltage")
	body := strings.ReplaceAll(s, " ", "+")
	if o.n.arduinoPOST("/api-notls/"+o.n.channel()+"/data", "application/x-www-form-urlencoded", body, 1) {
		o.n.env.ledger.atArrival(o.n.kind, o.n.channel(), fields...)
	}
}

// --------------------------------------------------------------- TerkinData GPRS

// terkinDataGPRS is a node serialising with TerkinData's json_data()
// and posting through a SIM800 (see firmware-tests/terkin_test.go).
type terkinDataGPRS struct {
	n *node
	h hive
}

func newTerkinDataGPRS(n *node) device { return &terkinDataGPRS{n: n, h: newHive(n.rng)} }

func (d *terkinDataGPRS) connect() error { return nil }
func (d *terkinDataGPRS) close()         {}

func (d *terkinDataGPRS) report(k int, at time.Time) {
	parts := []string{`"time":"` + at.UTC().Format("2006-01-02T15:04:05Z") + `"`}
	var fields []string
	for _, kv := range [][2]string{
		{"weight", fixed(d.h.weight(k), 2)}, {"temperature-outside", fixed(d.h.air(), 2)},
		{"humidity-outside", fixed(d.h.humidity(), 2)}, {"temperature-inside", fixed(d.h.brood(), 2)}, {"voltage", fixed(d.h.volts(), 2)},
	} {
		if kv[0] != "voltage" && d.h.fails(0.03) {
			continue // a missing sensor is left out
		}
		parts = append(parts, `"`+kv[0]+`":`+kv[1])
		fields = append(fields, kv[0])
	}
	if d.n.sim800POST("/api-notls/"+d.n.channel()+"/data", "application/json", "{"+strings.Join(parts, ",")+"}", 1) {
		d.n.env.ledger.atDevice(d.n.kind, d.n.channel(), at, fields...)
	}
}

// --------------------------------------------------------------- GPRS backlog

// gprsBacklog is a Terkin datalogger on GPRS posting what it buffered as
// one array (see TestBacklog in firmware-tests/behaviour_test.go).
type gprsBacklog struct {
	n      *node
	h      hive
	buffer []backlogItem
}

type backlogItem struct {
	at   time.Time
	json string
}

func newGPRSBacklog(n *node) device { return &gprsBacklog{n: n, h: newHive(n.rng)} }

func (d *gprsBacklog) connect() error { return nil }

func (d *gprsBacklog) report(k int, at time.Time) {
	d.buffer = append(d.buffer, backlogItem{at, fmt.Sprintf(`{"time": "%s", "weight.0": %s, "temperature.28ff641d8fc3944f.onewire:0": %s, "system.voltage.battery": %s}`,
		at.UTC().Format("2006-01-02T15:04:05Z"), pyFloat(round(d.h.weight(k), 3)), pyFloat(float64(int(d.h.brood()*16))/16), pyFloat(round(d.h.volts(), 3)))})
	if len(d.buffer) >= 5 {
		d.flush()
	}
}

// close sends what is still buffered (coverage came back).
func (d *gprsBacklog) close() {
	if len(d.buffer) > 0 {
		d.flush()
	}
}

func (d *gprsBacklog) flush() {
	var items []string
	for _, it := range d.buffer {
		items = append(items, it.json)
	}
	if d.n.sim800POST("/api-notls/"+d.n.channel()+"/data", "application/json", "["+strings.Join(items, ", ")+"]", len(items)) {
		for _, it := range d.buffer {
			d.n.env.ledger.atDevice(d.n.kind, d.n.channel(), it.at, "weight.0", "temperature.28ff641d8fc3944f.onewire:0", "system.voltage.battery")
		}
	}
	d.buffer = d.buffer[:0]
}

// --------------------------------------------------------------- Telegraf

// telegraf is Telegraf's InfluxDB v1 output on the hive's Raspberry Pi
// (see firmware-tests/thirdparty_telegraf_test.go), content_encoding
// "gzip" (its default).
type telegraf struct {
	n          *node
	h          hive
	c          *http.Client
	host, node string
}

func newTelegraf(n *node) device {
	return &telegraf{n: n, h: newHive(n.rng), c: &http.Client{Transport: &http.Transport{}, Timeout: 60 * time.Second},
		host: fmt.Sprintf("hivepi-%d", n.idx), node: fmt.Sprintf("hive-%d", n.idx)}
}

func (d *telegraf) header() http.Header {
	return http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "User-Agent": {"Telegraf/1.30.1 Go/1.22.1"}}
}

func (d *telegraf) connect() error {
	// CREATE DATABASE: Telegraf goes on writing whatever the answer.
	h := d.header()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	req, _ := http.NewRequest("POST", d.n.env.web+"/query", strings.NewReader(`q=CREATE+DATABASE+%22telegraf%22`))
	req.Header = h
	if resp, err := d.c.Do(req); err == nil {
		resp.Body.Close()
		d.n.env.ledger.message(d.n.kind)
	}
	return nil
}

func (d *telegraf) close() { d.c.CloseIdleConnections() }

func (d *telegraf) report(k int, at time.Time) {
	ns := at.UnixNano()
	w := d.h.weight(k)
	body := fmt.Sprintf("cpu,cpu=cpu-total,host=%s usage_idle=%s,usage_user=%s %d\n"+
		"temp,host=%s,sensor=cpu_thermal temp=%s %d\n"+
		"hx711,host=%s,node=%s weight=%s,raw=%di %d\n",
		d.host, fixed(90+d.n.rng.Float64()*9, 3), fixed(d.n.rng.Float64()*5, 3), ns,
		d.host, fixed(40+d.n.rng.Float64()*15, 1), ns,
		d.host, d.node, fixed(w, 3), int(w*200000), ns)
	h := d.header()
	h.Set("Content-Encoding", "gzip")
	if d.n.goPOST(d.c, d.n.env.web+"/write?db=telegraf", h, gzipped(body), http.StatusNoContent) {
		l := d.n.env.ledger
		l.atDevice(d.n.kind, "influx/telegraf/cpu/"+d.host, at, "usage_idle", "usage_user")
		l.atDevice(d.n.kind, "influx/telegraf/temp/"+d.host, at, "temp")
		l.atDevice(d.n.kind, "influx/telegraf/hx711/"+d.node, at, "weight", "raw")
	}
}

// --------------------------------------------------------------- TTN v3

// ttn is The Things Stack v3 posting a Terkin datalogger's uplinks to
// the webhook (see firmware-tests/thirdparty_ttn_test.go).
type ttn struct {
	n      *node
	h      hive
	c      *http.Client
	device string
	fcnt   int
}

func newTTN(n *node) device {
	return &ttn{n: n, h: newHive(n.rng), c: &http.Client{Transport: &http.Transport{}, Timeout: 60 * time.Second},
		device: fmt.Sprintf("hiveeyes-soak-hive-%d", n.idx), fcnt: 1000 + n.rng.IntN(1000)}
}

func (d *ttn) connect() error { return nil }
func (d *ttn) close()         { d.c.CloseIdleConnections() }

func (d *ttn) report(k int, at time.Time) {
	d.fcnt++
	received := at.Add(123456789 * time.Nanosecond)
	body := fmt.Sprintf(`{
  "end_device_ids": {"device_id": %q, "application_ids": {"application_id": "hiveeyes-soak"}, "dev_eui": "70B3D57ED004%04X", "join_eui": "0000000000000000", "dev_addr": "260B%04X"},
  "correlation_ids": ["as:up:01FSSVG88HVN4WVXT5X75K%04d"],
  "received_at": %q,
  "uplink_message": {
    "session_key_id": "AYE0cHlqkQf1tX3Z0b3Fwg==", "f_port": 2, "f_cnt": %d,
    "frm_payload": "AGcBvwB0AaQFegAPBQpnAeELZwHhBWcAlwVzKTcFaJsAAQA=",
    "decoded_payload": {"temperature_0": %s, "voltage_0": %s, "load_5": %s, "temperature_10": %s, "temperature_11": %s,
      "temperature_5": %s, "barometric_pressure_5": %s, "relative_humidity_5": %s, "digital_out_0": 0},
    "rx_metadata": [{"gateway_ids": {"gateway_id": "apiary-gw-1", "eui": "B827EBFFFE123456"}, "time": %q,
      "timestamp": 3123456789, "rssi": %d, "channel_rssi": -97, "snr": %s, "uplink_token": "ChIKEAoOYXBpYXJ5LWd3LTE=", "channel_index": 4}],
    "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 9}}, "coding_rate": "4/5", "frequency": "867300000", "timestamp": 3123456789},
    "received_at": %q, "consumed_airtime": "0.370688s",
    "network_ids": {"net_id": "000013", "tenant_id": "ttn", "cluster_id": "eu1"}
  }
}`, d.device, d.n.idx, d.n.idx, k%10000, received.UTC().Format(time.RFC3339Nano), d.fcnt,
		fixed(40+d.n.rng.Float64()*8, 1), fixed(d.h.volts(), 2), fixed(d.h.weight(k), 3), fixed(40+d.n.rng.Float64()*10, 1), fixed(40+d.n.rng.Float64()*10, 1),
		fixed(d.h.air(), 1), fixed(d.h.pressure(), 1), fixed(d.h.humidity(), 1),
		received.Add(-223*time.Millisecond).UTC().Format(time.RFC3339Nano), -120+d.n.rng.IntN(40), fixed(-5+d.n.rng.Float64()*15, 2),
		received.Add(-173*time.Millisecond).UTC().Format(time.RFC3339Nano))
	down := "https://eu1.cloud.thethings.network/api/v3/as/applications/hiveeyes-soak/webhooks/apiary/devices/" + d.device + "/down/"
	h := http.Header{
		"Content-Type": {"application/json"}, "User-Agent": {"TheThingsStack/3.x (linux/amd64)"},
		"X-Downlink-Apikey": {"NNSXS.XXXX"}, "X-Downlink-Push": {down + "push"}, "X-Downlink-Replace": {down + "replace"},
		"X-Tts-Domain": {"eu1.cloud.thethings.network"},
	}
	if d.n.goPOST(d.c, d.n.env.web+"/ttn/uplink", h, []byte(body), http.StatusOK) {
		d.n.env.ledger.atDevice(d.n.kind, "ttn/hiveeyes-soak/default/"+d.device, received,
			"temperature_0", "voltage_0", "load_5", "temperature_10", "temperature_11", "temperature_5", "barometric_pressure_5",
			"relative_humidity_5", "digital_out_0", "device_id", "counter", "sf", "bw", "freq", "gtw_count",
			"gw_apiary-gw-1_rssi", "gw_apiary-gw-1_snr")
	}
}
