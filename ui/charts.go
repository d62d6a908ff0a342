package ui

import (
	"encoding/json"
	"math"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/apiary-hive/apiary/store"
)

// Charts are configured with go-echarts and handed to the page as JSON in
// a data attribute that templ escapes; the embedded apiary.js draws them.
// No device string ever reaches a script context.

// palette is what a series of a family chart is drawn in, in order.
var palette = []string{"#b86e00", "#2f6f9f", "#6a8f2a", "#8e3b8e", "#c0392b", "#16877f", "#7a5c3a", "#555555"}

// seriesData is one field's buckets in a family chart.
type seriesData struct {
	Name    string
	Buckets []store.Bucket
}

// chartJSON marshals a chart's option, adding the events for apiary.js to
// draw as dashed lines with their titles.
func chartJSON(obj map[string]any, events []store.Event) string {
	if len(events) > 0 {
		var lines []map[string]any
		for _, ev := range events {
			lines = append(lines, map[string]any{
				"xAxis": ev.Time.UnixMilli(),
				"name":  ev.Title,
				"label": map[string]any{"formatter": ev.Title, "position": "insideEndTop", "fontSize": 10},
			})
		}
		obj["apiaryEvents"] = lines
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func baseOptions(unit string, from, to time.Time, legend bool) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", Min: from.UnixMilli(), Max: to.UnixMilli()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true), Name: unit}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "inside", FilterMode: "none"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "28", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(legend), Type: "scroll", Top: "0"}),
	}
}

// familyChart draws a family's fields in one chart. A lone field whose
// buckets hold several points each (a long range drawn from rollups) gets
// its mean as a line and a min/max band around it; several fields get a
// line each. Swarms are marked on the chart.
func familyChart(unit string, series []seriesData, width time.Duration, events []store.Event, swarms []swarm, from, to time.Time) string {
	line := charts.NewLine()
	line.SetGlobalOptions(baseOptions(unit, from, to, len(series) > 1)...)
	for i, sd := range series {
		color := palette[i%len(palette)]
		banded := false
		if len(series) == 1 {
			for _, b := range sd.Buckets {
				if b.Count > 1 {
					banded = true
					break
				}
			}
		}
		half := time.Duration(0)
		if banded {
			half = width / 2 // a day's mean sits at noon, not at midnight
		}
		mean := make([]opts.LineData, 0, len(sd.Buckets))
		var low, span []opts.LineData
		for _, b := range sd.Buckets {
			t := b.Start.Add(half).UnixMilli()
			mean = append(mean, opts.LineData{Value: []any{t, roundFloat(b.Mean())}})
			if banded {
				low = append(low, opts.LineData{Value: []any{t, roundFloat(b.Min)}})
				span = append(span, opts.LineData{Value: []any{t, roundFloat(b.Max - b.Min)}})
			}
		}
		if banded {
			line.AddSeries("min", low,
				charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Stack: "band", Symbol: "none"}),
				charts.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}),
			)
			line.AddSeries("max", span,
				charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Stack: "band", Symbol: "none"}),
				charts.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}),
				charts.WithAreaStyleOpts(opts.AreaStyle{Color: color + "33", Opacity: opts.Float(1)}),
			)
		}
		seriesOpts := []charts.SeriesOpts{
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(len(mean) < 60), Symbol: "circle", SymbolSize: 5}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Color: color}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: color}),
		}
		if i == 0 && len(swarms) > 0 {
			var marks []opts.MarkPointNameCoordItem
			for _, s := range swarms {
				marks = append(marks, opts.MarkPointNameCoordItem{
					Name: "possible swarm", Coordinate: []any{s.At.UnixMilli(), nearest(sd.Buckets, s.At)},
					Value: "swarm?", Symbol: "pin", SymbolSize: 40,
				})
			}
			seriesOpts = append(seriesOpts, charts.WithMarkPointNameCoordItemOpts(marks...))
		}
		line.AddSeries(sd.Name, mean, seriesOpts...)
	}
	line.Validate()
	return chartJSON(line.JSON(), events)
}

// nearest returns the mean of the bucket closest to t, where a mark goes.
func nearest(bs []store.Bucket, t time.Time) float64 {
	best, v := time.Duration(math.MaxInt64), 0.0
	for _, b := range bs {
		d := b.Start.Sub(t)
		if d < 0 {
			d = -d
		}
		if d < best {
			best, v = d, roundFloat(b.Mean())
		}
	}
	return v
}

// dailyChangeChart draws each day's weight change as a bar: green for a
// gain, red for a loss.
func dailyChangeChart(changes []dayChange, from, to time.Time) string {
	bar := charts.NewBar()
	bar.SetGlobalOptions(baseOptions("kg/day", from, to, false)...)
	data := make([]opts.BarData, 0, len(changes))
	for _, c := range changes {
		color := "#2e7d32"
		if c.Change < 0 {
			color = "#c62828"
		}
		data = append(data, opts.BarData{Value: []any{c.Day.Add(12 * time.Hour).UnixMilli(), c.Change}, ItemStyle: &opts.ItemStyle{Color: color}})
	}
	bar.AddSeries("change", data)
	bar.Validate()
	return chartJSON(bar.JSON(), nil)
}

// weightTempChart draws weight (left axis) against the outside temperature
// (right axis): bees fly when it is warm, and the weight shows it.
func weightTempChart(weight, temp seriesData, from, to time.Time) string {
	line := charts.NewLine()
	line.SetGlobalOptions(baseOptions("kg", from, to, true)...)
	line.ExtendYAxis(opts.YAxis{Type: "value", Scale: opts.Bool(true), Name: "°C", Position: "right"})
	toLine := func(bs []store.Bucket) []opts.LineData {
		out := make([]opts.LineData, 0, len(bs))
		for _, b := range bs {
			out = append(out, opts.LineData{Value: []any{b.Start.UnixMilli(), roundFloat(b.Mean())}})
		}
		return out
	}
	line.AddSeries(weight.Name, toLine(weight.Buckets),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Color: palette[0]}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: palette[0]}))
	line.AddSeries(temp.Name, toLine(temp.Buckets),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none", YAxisIndex: 1}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 1, Color: palette[1]}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: palette[1]}))
	line.Validate()
	return chartJSON(line.JSON(), nil)
}

// sparklineChart is a card's small weight curve: no axes, no legend.
func sparklineChart(bs []store.Bucket) string {
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", Show: opts.Bool(false)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true), Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "2", Right: "2", Top: "4", Bottom: "2"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(false)}),
	)
	data := make([]opts.LineData, 0, len(bs))
	for _, b := range bs {
		data = append(data, opts.LineData{Value: []any{b.Start.UnixMilli(), roundFloat(b.Mean())}})
	}
	line.AddSeries("weight", data,
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 1.5, Color: palette[0]}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: "#b86e0022", Opacity: opts.Float(1)}))
	line.Validate()
	return chartJSON(line.JSON(), nil)
}

func roundFloat(v float64) float64 {
	// Six decimals are more than any hive sensor resolves and keep the page
	// small; values too large to scale are left as they are.
	if math.Abs(v) >= 1e9 || math.IsNaN(v) {
		return v
	}
	return math.Round(v*1e6) / 1e6
}
