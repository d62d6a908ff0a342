package decode

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sort"
	"strings"
)

// decodeTasmotaSensor handles tele/SENSOR: one object per sensor, flattened
// to Sensor.Key; a third level only where the sub-object has "Type" (the
// older DS18x20 layout), with Type and Address dropped. Top-level scalars
// such as TempUnit are dropped; Time (local time, or epoch) is the time, and
// an "Epoch" member, when present, is the more precise time.
func decodeTasmotaSensor(payload []byte, opts Options, res *Result) error {
	obj, err := parseObject(payload, "Tasmota SENSOR")
	if err != nil {
		return err
	}
	flat := map[string]any{}
	for k, v := range obj {
		switch v := v.(type) {
		case map[string]any:
			for k2, v2 := range v {
				sub, ok := v2.(map[string]any)
				if !ok {
					flat[k+"."+k2] = v2
					continue
				}
				if _, typed := sub["Type"]; typed {
					for k3, v3 := range sub {
						if k3 != "Type" && k3 != "Address" {
							flat[k+"."+k2+"."+k3] = v3
						}
					}
					continue
				}
				// Newer firmware nests further (e.g. "PMS5003": {...}):
				// Apiary flattens those too rather than dropping them.
				flat[k+"."+k2] = sub
			}
		case []any:
			flat[k] = v
		}
	}
	return tasmotaReading(obj, flat, opts, res)
}

// decodeTasmotaState handles tele/STATE: a fixed choice of numeric members,
// as Device.*.
func decodeTasmotaState(payload []byte, opts Options, res *Result) error {
	obj, err := parseObject(payload, "Tasmota STATE")
	if err != nil {
		return err
	}
	flat := map[string]any{}
	for _, k := range []string{"Vcc", "Sleep", "LoadAvg"} {
		if v, ok := obj[k]; ok {
			flat["Device."+k] = v
		}
	}
	if wifi, ok := obj["Wifi"].(map[string]any); ok {
		// Kotori's choice, and Signal: the dBm that firmware since 8.x
		// sends beside RSSI's 0-100 quality, what a beekeeper reads.
		for _, k := range []string{"Channel", "RSSI", "LinkCount", "Signal"} {
			if v, ok := wifi[k]; ok {
				flat["Device.Wifi."+k] = v
			}
		}
	}
	return tasmotaReading(obj, flat, opts, res)
}

func tasmotaReading(obj, flat map[string]any, opts Options, res *Result) error {
	timeObj := map[string]any{}
	if t, ok := obj["Time"]; ok {
		timeObj["Time"] = t
	}
	if ep, ok := obj["Epoch"].(json.Number); ok {
		timeObj = map[string]any{"Time": ep}
	}
	for k, v := range timeObj {
		flat[k] = v
	}
	return readingsFromFlat(flat, opts, res)
}

// decodeAirrohr handles Sensor.Community firmware's JSON: the
// "sensordatavalues" list of {value_type, value}; esp8266id and
// software_version are dropped.
func decodeAirrohr(payload []byte, opts Options, res *Result) error {
	obj, err := parseObject(payload, "Sensor.Community")
	if err != nil {
		return err
	}
	values, ok := obj["sensordatavalues"].([]any)
	if !ok {
		return errorf("json", "no \"sensordatavalues\" list in the Sensor.Community payload")
	}
	flat := map[string]any{}
	for i, item := range values {
		pair, ok := item.(map[string]any)
		if !ok {
			res.note("value", "sensordatavalues[%d] is not an object; dropped", i)
			continue
		}
		name, _ := pair["value_type"].(string)
		if name == "" {
			res.note("value", "sensordatavalues[%d] has no value_type; dropped", i)
			continue
		}
		flat[name] = pair["value"]
	}
	return readingsFromFlat(flat, opts, res)
}

// IsTTN reports whether a data.json payload is a The Things Stack (TTN v3)
// uplink: Kotori's test is that the text holds both "uplink_message" and
// "decoded_payload"; Apiary also takes an uplink with only a frm_payload.
func IsTTN(payload []byte) bool {
	s := string(payload)
	return strings.Contains(s, "uplink_message") && (strings.Contains(s, "decoded_payload") || strings.Contains(s, "frm_payload"))
}

// TTNReading turns a TTN v3 uplink (full webhook message, or the minimal
// {"uplink_message": {"decoded_payload": {...}}}) into a reading: the
// decoded payload (without one, the frame read as CayenneLPP), plus
// device_id, counter (f_cnt), sf, bw (kHz), freq (MHz), gtw_count and
// gw_<gateway>_rssi / _snr. The time is the payload's own, else
// received_at, else the time of arrival.
func TTNReading(obj map[string]any, opts Options, res *Result) error {
	opts = opts.withDefaults()
	up, _ := obj["uplink_message"].(map[string]any)
	// The network's time of reception stands in for a missing or wrong
	// device time, so that a retried webhook lands on the same time.
	for _, at := range []any{obj["received_at"], up["received_at"]} {
		if s, ok := at.(string); ok {
			if t, err := TimeValue(s, opts.Zone); err == nil {
				opts.Received = t
				break
			}
		}
	}
	decoded, ok := up["decoded_payload"].(map[string]any)
	if frame := undecodedBytes(decoded); !ok || frame != nil {
		// No payload formatter in the TTN console (or its default, which
		// passes the bytes on): the frame as it came, which a Hiveeyes
		// node (Terkin) writes as CayenneLPP.
		what := "decoded_payload.bytes"
		if frame == nil {
			what = "frm_payload"
			b64, _ := up["frm_payload"].(string)
			raw, err := base64.StdEncoding.DecodeString(b64)
			if b64 == "" || err != nil {
				return errorf("ttn", "TTN uplink without uplink_message.decoded_payload or a base64 frm_payload (set up a payload formatter in the TTN console)")
			}
			frame = raw
		}
		var f lppFrame
		if ferr := f.parse(frame, opts.MaxFields); ferr != nil {
			return errorf("ttn", "TTN uplink without decoded values, and its %s is not CayenneLPP (%s): set up a payload formatter in the TTN console", what, ferr.msg)
		}
		res.Info = append(res.Info, "No payload formatter: "+what+" read as CayenneLPP")
		res.Notes = append(res.Notes, f.notes...)
		decoded = make(map[string]any, len(f.fields))
		for k, v := range f.fields {
			decoded[k] = v
		}
	}
	// Kotori's order: the device id and the time of reception first, so
	// that the decoded payload's own "device_id" or time overrides them
	// (received_at goes under "timestamp", the last of the time fields),
	// then the network's figures over the payload's.
	flat := map[string]any{}
	if ids, ok := obj["end_device_ids"].(map[string]any); ok {
		if id, ok := ids["device_id"].(string); ok {
			flat["device_id"] = id
		}
	}
	if t, ok := obj["received_at"]; ok {
		flat["timestamp"] = t
	} else if t, ok := up["received_at"]; ok {
		flat["timestamp"] = t
	}
	for k, v := range decoded {
		flat[k] = v
	}
	if v, ok := up["f_cnt"]; ok {
		flat["counter"] = v
	}
	if settings, ok := up["settings"].(map[string]any); ok {
		if dr, ok := settings["data_rate"].(map[string]any); ok {
			if lora, ok := dr["lora"].(map[string]any); ok {
				if sf, ok := number(lora["spreading_factor"]); ok {
					flat["sf"] = sf
				}
				if bw, ok := number(lora["bandwidth"]); ok {
					flat["bw"] = bw / 1000
				}
			}
		}
		if f, ok := number(settings["frequency"]); ok {
			flat["freq"] = f / 1e6
		}
	}
	if meta, ok := up["rx_metadata"].([]any); ok {
		flat["gtw_count"] = float64(len(meta))
		for _, m := range meta {
			gw, _ := m.(map[string]any)
			ids, _ := gw["gateway_ids"].(map[string]any)
			id, _ := ids["gateway_id"].(string)
			if id == "" {
				continue
			}
			if v, ok := gw["rssi"]; ok {
				flat["gw_"+id+"_rssi"] = v
			}
			if v, ok := gw["snr"]; ok {
				flat["gw_"+id+"_snr"] = v
			}
		}
	}
	return readingsFromFlat(flat, opts, res)
}

// undecodedBytes is the frame of TTN's output without a payload formatter,
// {"bytes": [0, 103, 1, 191]}; nil for anything else.
func undecodedBytes(decoded map[string]any) []byte {
	list, ok := decoded["bytes"].([]any)
	if !ok || len(decoded) != 1 || len(list) == 0 {
		return nil
	}
	frame := make([]byte, len(list))
	for i, v := range list {
		n, ok := number(v)
		if !ok || n < 0 || n > 255 || n != math.Trunc(n) {
			return nil
		}
		frame[i] = byte(n)
	}
	return frame
}

// number reads a JSON number or numeric string.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, ok, _ := NumericString(v)
		return f, ok
	case float64:
		return v, true
	}
	return 0, false
}

func parseObject(payload []byte, what string) (map[string]any, error) {
	v, err := ParseJSON(payload)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errorf("json", "%s payload is a JSON %s, want an object", what, jsonType(v))
	}
	return obj, nil
}

// TTNv2Reading reads a TTN v2 HTTP integration message (still replayed and
// parsed by BEEP): payload_fields, the time from metadata.time, and rssi and
// snr of the first gateway. It returns the device's hardware serial (DevEUI)
// or, without one, its dev_id.
func TTNv2Reading(obj map[string]any, opts Options, res *Result) (device string, err error) {
	fields, ok := obj["payload_fields"].(map[string]any)
	if !ok {
		return "", errorf("ttn", "TTN v2 message without payload_fields (set up a payload format in the TTN console)")
	}
	flat := map[string]any{}
	for k, v := range fields {
		flat[k] = v
	}
	if meta, ok := obj["metadata"].(map[string]any); ok {
		if t, ok := meta["time"]; ok {
			flat["time"] = t
		}
		if gws, ok := meta["gateways"].([]any); ok && len(gws) > 0 {
			if gw, ok := gws[0].(map[string]any); ok {
				flat["rssi"], flat["snr"] = gw["rssi"], gw["snr"]
			}
		}
	}
	device, _ = obj["hardware_serial"].(string)
	if device == "" {
		device, _ = obj["dev_id"].(string)
	}
	return device, readingsFromFlat(flat, opts, res)
}

// BEEPReading reads the fields of BEEP's POST /api/sensors (JSON, form or
// query): the device "key" is returned apart; "data" in the legacy form
// "t:18.4|h:58" is split into fields; "time" is epoch seconds.
func BEEPReading(fields map[string]any, opts Options, res *Result) (key string, err error) {
	// BEEP's endpoint also takes TTN uplinks.
	if _, ok := fields["payload_fields"]; ok {
		return TTNv2Reading(fields, opts, res)
	}
	if _, ok := fields["uplink_message"]; ok {
		ids, _ := fields["end_device_ids"].(map[string]any)
		key, _ = ids["dev_eui"].(string)
		if key == "" {
			key, _ = ids["device_id"].(string)
		}
		return key, TTNReading(fields, opts, res)
	}
	key, _ = fields["key"].(string)
	if key == "" {
		if n, ok := fields["key"].(json.Number); ok {
			key = n.String()
		}
	}
	flat := map[string]any{}
	for k, v := range fields {
		if k == "key" {
			continue
		}
		if s, ok := v.(string); ok && k == "data" && strings.Contains(s, ":") {
			for _, pair := range strings.Split(s, "|") {
				name, val, ok := strings.Cut(pair, ":")
				if ok && strings.TrimSpace(name) != "" {
					flat[strings.TrimSpace(name)] = val
				}
			}
			continue
		}
		flat[k] = v
	}
	r, err := ReadingFromObject(flat, opts, res)
	if err != nil {
		return key, err
	}
	res.Readings = append(res.Readings, r)
	return key, nil
}

// FormFields turns form or query values into JSON-like fields: the first
// value of a repeated key, as Kotori reads forms; PASSKEY (Ecowitt) is
// removed.
func FormFields(values map[string][]string) map[string]any {
	out := make(map[string]any, len(values))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "PASSKEY" || len(values[k]) == 0 {
			continue
		}
		// A form is bytes, not text: invalid UTF-8 becomes U+FFFD, as in
		// JSON.
		out[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(values[k][0], "\uFFFD")
	}
	return out
}

// readingsFromFlat is the common tail of decoders that build a flat map.
func readingsFromFlat(flat map[string]any, opts Options, res *Result) error {
	r, err := ReadingFromObject(flat, opts, res)
	if err != nil {
		return err
	}
	res.Readings = append(res.Readings, r)
	return nil
}
