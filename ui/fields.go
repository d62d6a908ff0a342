package ui

import (
	"math"
	"strconv"
	"strings"
)

// family is a group of fields a beekeeper reads together.
type family struct {
	Name string
	Unit string
	// order sorts families on a dashboard: weight first, the rest after.
	order int
}

var (
	famWeight      = family{"Weight", "kg", 0}
	famTempInside  = family{"Temperature inside", "°C", 1}
	famTempOutside = family{"Temperature outside", "°C", 2}
	famTemp        = family{"Temperature", "°C", 3}
	famHumidity    = family{"Humidity", "%", 4}
	famPressure    = family{"Pressure", "hPa", 5}
	famBattery     = family{"Battery", "V", 6}
	famSignal      = family{"Signal", "dBm", 7}
	famSound       = family{"Sound", "", 8}
	famOther       = family{"Other", "", 9}
)

// classify puts a field into a family by its name, following the patterns
// of Kotori's Hiveeyes classifier (weight|wght|gewicht, temp|temperatur,
// outside|out|air|außen|aussen, inside|brood|in) and of common firmware.
func classify(field string) family {
	f := strings.ToLower(field)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(f, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("weight", "wght", "gewicht", "waage", "load_"), f == "w" || strings.HasPrefix(f, "weight_kg"):
		if has("raw", "offset") {
			return famOther
		}
		return famWeight
	case has("temp", "temperatur") || f == "t" || strings.HasPrefix(f, "t_"):
		switch {
		case has("outside", "out", "air", "außen", "aussen", "ambient", "extern"):
			return famTempOutside
		case has("inside", "brood", "brut", "inner", "innen", "hive") || strings.HasPrefix(f, "t_i"):
			return famTempInside
		}
		return famTemp
	case has("hum", "feucht") || f == "h":
		return famHumidity
	case has("pressure", "baro", "druck") || f == "p":
		return famPressure
	case has("volt", "batt", "vcc", "power") || f == "bv":
		fam := famBattery
		if has("level", "percent", "pct") {
			fam.Unit = "%"
		}
		return fam
	case has("rssi", "signal", "snr", "csq", "wifi"):
		fam := famSignal
		if has("snr") {
			fam.Unit = "dB"
		}
		if has("csq", "signal") && !has("rssi") {
			fam.Unit = ""
		}
		return fam
	case has("sound", "fft", "audio", "noise"):
		return famSound
	}
	return famOther
}

// formatValue writes a number the short way a person reads it.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
