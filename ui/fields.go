package ui

import (
	"math"
	"strconv"
	"strings"
)

// Family is a group of fields a beekeeper reads together (weight; inside
// and outside temperature; humidity; battery; signal; sound), shown in one
// chart with one unit. A field belongs to the first family whose rule
// matches its lower-cased name: one of Match, and (when Require is set)
// one of Require, and none of Exclude. A pattern is a substring; "^x" must
// start the name, "=x" must be the whole name. Several rules may share a
// family name.
type Family struct {
	Name    string   `toml:"name"`
	Unit    string   `toml:"unit,omitempty"`
	Match   []string `toml:"match"`
	Require []string `toml:"require,omitempty"`
	Exclude []string `toml:"exclude,omitempty"`
}

// OtherFamily holds what no family claims.
const OtherFamily = "Other"

func patternMatches(p, name string) bool {
	switch {
	case strings.HasPrefix(p, "^"):
		return strings.HasPrefix(name, p[1:])
	case strings.HasPrefix(p, "="):
		return name == p[1:]
	}
	return strings.Contains(name, p)
}

func anyMatches(patterns []string, name string) bool {
	for _, p := range patterns {
		if patternMatches(strings.ToLower(p), name) {
			return true
		}
	}
	return false
}

// families classifies field names; the order of the rules is the order of
// the families on a dashboard.
type families struct {
	rules []Family
	order map[string]int
}

func newFamilies(rules []Family) *families {
	f := &families{rules: rules, order: map[string]int{}}
	for _, r := range rules {
		if _, ok := f.order[r.Name]; !ok {
			f.order[r.Name] = len(f.order)
		}
	}
	f.order[OtherFamily] = len(f.order)
	return f
}

// classify returns the family of a field: its name and unit.
func (f *families) classify(field string) Family {
	name := strings.ToLower(field)
	for _, r := range f.rules {
		if anyMatches(r.Match, name) && (len(r.Require) == 0 || anyMatches(r.Require, name)) && !anyMatches(r.Exclude, name) {
			return r
		}
	}
	return Family{Name: OtherFamily}
}

func (f *families) rank(name string) int { return f.order[name] }

// isWeight reports whether a family is the one beekeeping views look for.
func isWeight(fam Family) bool { return strings.EqualFold(fam.Name, "Weight") }

// isOutsideTemperature: the temperature a hive's weight is read against.
func isOutsideTemperature(fam Family) bool {
	return strings.EqualFold(fam.Name, "Temperature outside")
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

// FamilyOf returns the family that rules give a field (for tests and
// tools; the UI keeps its classifier).
func FamilyOf(rules []Family, field string) Family { return newFamilies(rules).classify(field) }
