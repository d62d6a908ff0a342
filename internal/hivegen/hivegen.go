// Package hivegen generates realistic beehive telemetry, deterministic by
// seed, for benchmarks, tests and screenshots: N nodes × F fields at a
// fixed interval, with the shapes real hives have. Weight in kg with two
// decimals that drifts with the season, breathes with the day (foragers out
// by day, nectar drying at night) and sometimes drops (a swarm) or jumps
// (feeding); temperatures with two decimals and ±0.1 sensor noise (the
// brood nest held near 35 °C, outside air following the sun); humidity with
// one decimal; battery voltage with three decimals, slowly falling; an
// uptime counter.
package hivegen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/apiary-hive/apiary/store"
)

// BaseFields are the first fields of every node, in order; nodes with more
// fields get extra temperature probes (temperature-h1, -h2, ...).
var BaseFields = []string{
	"weight", "temperature-outside", "humidity-outside", "temperature-inside",
	"humidity-inside", "temperature-brood", "voltage", "rssi", "uptime", "sound",
}

// Options describe the data set.
type Options struct {
	Seed     uint64
	Nodes    int
	Fields   int // per node, at least 1
	Start    time.Time
	Interval time.Duration
	// Realm, Network, Gateway of the channels (defaults hiveeyes, bench, apiary-1).
	Realm, Network, Gateway string
}

// Generator yields readings in time order, all nodes at each step.
type Generator struct {
	opts  Options
	nodes []nodeState
	step  int64
}

type nodeState struct {
	ch        store.Channel
	rng       *rand.Rand
	weight    float64
	battery   float64
	phase     float64
	fields    []string
	nextSwarm int64
}

// New returns a generator.
func New(opts Options) *Generator {
	if opts.Nodes < 1 {
		opts.Nodes = 1
	}
	if opts.Fields < 1 {
		opts.Fields = len(BaseFields)
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Realm == "" {
		opts.Realm, opts.Network, opts.Gateway = "hiveeyes", "bench", "apiary-1"
	}
	g := &Generator{opts: opts}
	for i := range opts.Nodes {
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)+1))
		fields := make([]string, opts.Fields)
		for f := range fields {
			if f < len(BaseFields) {
				fields[f] = BaseFields[f]
			} else {
				fields[f] = fmt.Sprintf("temperature-h%d", f-len(BaseFields)+1)
			}
		}
		g.nodes = append(g.nodes, nodeState{
			ch:        store.Channel{Realm: opts.Realm, Network: opts.Network, Gateway: opts.Gateway, Node: fmt.Sprintf("hive-%02d", i+1)},
			rng:       rng,
			weight:    28 + rng.Float64()*20,
			battery:   4.15 - rng.Float64()*0.1,
			phase:     rng.Float64() * 0.5,
			fields:    fields,
			nextSwarm: int64(rng.IntN(60*24*90)) + 60*24*30,
		})
	}
	return g
}

// Points per reading.
func (g *Generator) Fields() int { return g.opts.Fields }

// Next returns the readings of all nodes at the next step.
func (g *Generator) Next() []store.Reading {
	t := g.opts.Start.Add(time.Duration(g.step) * g.opts.Interval)
	g.step++
	out := make([]store.Reading, len(g.nodes))
	for i := range g.nodes {
		out[i] = g.nodes[i].reading(t, g.step, g.opts.Interval)
	}
	return out
}

// Time of the reading that Next returns next.
func (g *Generator) Time() time.Time {
	return g.opts.Start.Add(time.Duration(g.step) * g.opts.Interval)
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

func (n *nodeState) reading(t time.Time, step int64, interval time.Duration) store.Reading {
	hours := float64(t.Hour()) + float64(t.Minute())/60
	day := 2 * math.Pi * (hours/24 - 0.25 - n.phase/24) // peaks mid-afternoon
	season := float64(t.YearDay()) / 365
	perStep := interval.Hours()

	// Weight: nectar flow in late spring, slow loss otherwise, daily breathing.
	flow := math.Max(0, math.Sin(2*math.Pi*(season-0.25))) * 0.08 * perStep
	n.weight += flow - 0.004*perStep + n.rng.NormFloat64()*0.002
	if step == n.nextSwarm {
		n.weight -= 1.5 + n.rng.Float64() // a swarm leaves
		n.nextSwarm += int64(60*24*200) / max(1, int64(interval.Minutes()))
	}
	n.battery -= 0.00002 * perStep
	if n.battery < 3.3 {
		n.battery = 4.2 // recharged
	}
	outside := 12 + 10*math.Sin(2*math.Pi*(season-0.3)) + 6*math.Sin(day)
	values := map[string]float64{
		"weight":              round(n.weight-0.15*math.Sin(day)+n.rng.NormFloat64()*0.01, 2),
		"temperature-outside": round(outside+n.rng.Float64()*0.2-0.1, 2),
		"humidity-outside":    round(math.Min(100, math.Max(20, 70-25*math.Sin(day)+n.rng.NormFloat64())), 1),
		"temperature-inside":  round(24+0.4*(outside-12)+n.rng.Float64()*0.2-0.1, 2),
		"humidity-inside":     round(60+5*math.Sin(day/2)+n.rng.NormFloat64()*0.5, 1),
		"temperature-brood":   round(34.8+0.3*math.Sin(day)+n.rng.Float64()*0.2-0.1, 2),
		"voltage":             round(n.battery, 3),
		"rssi":                math.Round(-70 + n.rng.NormFloat64()*3),
		"uptime":              float64(step) * interval.Seconds(),
		"sound":               round(250+40*math.Sin(day)+n.rng.NormFloat64()*5, 1),
	}
	r := store.Reading{Channel: n.ch, Time: t, Fields: make(map[string]float64, len(n.fields))}
	for i, f := range n.fields {
		v, ok := values[f]
		if !ok {
			v = round(33+float64(i%5)*0.3+0.2*math.Sin(day)+n.rng.Float64()*0.2-0.1, 2)
		}
		r.Fields[f] = v
	}
	return r
}
