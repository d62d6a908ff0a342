package appliance

import (
	"testing"

	"github.com/apiary-hive/apiary/ui"
)

// TestDefaultFamilies: the field names real firmware sends land in the
// families a beekeeper expects.
func TestDefaultFamilies(t *testing.T) {
	rules := DefaultConfig().Families
	cases := map[string]string{
		"weight": "Weight", "Weight": "Weight", "wght1": "Weight", "Waage1": "Weight", "HX711.Weight": "Weight",
		"weight_kg": "Weight", "load_5": "Weight", "weight.0": "Weight", "Gewicht": "Weight",
		"HX711.WeightRaw": "Other", "scale.0.offset": "Other",
		"broodtemperature": "Temperature inside", "temperature-inside": "Temperature inside", "t_i": "Temperature inside",
		"t_i_1": "Temperature inside", "Temp-Brut": "Temperature inside",
		"airtemperature": "Temperature outside", "temperature-outside": "Temperature outside", "temp-outside": "Temperature outside",
		"t": "Temperature outside", "outTemp_C": "Temperature outside", "außentemperatur": "Temperature outside",
		"temperature": "Temperature", "DS18x20.DS1.Temperature": "Temperature", "temperature.0x77.i2c:0": "Temperature", "Temp1": "Temperature",
		"humidity": "Humidity", "airhumidity": "Humidity", "h": "Humidity", "BME280.Humidity": "Humidity",
		"pressure_mbar": "Pressure", "p": "Pressure", "BME280.Pressure": "Pressure",
		"voltage": "Battery", "bv": "Battery", "Device.Vcc": "Battery", "system.voltage.battery": "Battery",
		"battery_level": "Battery level",
		"rssi":          "Signal", "Device.Wifi.RSSI": "Signal", "Signal": "Signal",
		"sound":       "Sound",
		"memory_free": "Other", "uptime": "Other",
	}
	for field, want := range cases {
		if got := ui.FamilyOf(rules, field).Name; got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
}
