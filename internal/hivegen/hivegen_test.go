package hivegen

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestDeterministicAndPlausible(t *testing.T) {
	opts := Options{Seed: 7, Nodes: 3, Fields: 12, Interval: time.Minute}
	a, b := New(opts), New(opts)
	for step := 0; step < 2000; step++ {
		ra, rb := a.Next(), b.Next()
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("step %d differs with the same seed", step)
		}
		for _, r := range ra {
			if len(r.Fields) != 12 {
				t.Fatalf("%d fields", len(r.Fields))
			}
			w := r.Fields["weight"]
			if w < 10 || w > 120 || w != math.Round(w*100)/100 {
				t.Fatalf("weight %v not a plausible 2-decimal kg value", w)
			}
			if v := r.Fields["voltage"]; v < 3.2 || v > 4.3 || v != math.Round(v*1000)/1000 {
				t.Fatalf("voltage %v", v)
			}
			if h := r.Fields["humidity-outside"]; h != math.Round(h*10)/10 {
				t.Fatalf("humidity %v has more than one decimal", h)
			}
		}
	}
	other := New(Options{Seed: 8, Nodes: 3, Fields: 12})
	if reflect.DeepEqual(New(opts).Next(), other.Next()) {
		t.Error("different seeds gave the same data")
	}
}
