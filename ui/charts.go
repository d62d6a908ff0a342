package ui

import (
	"encoding/json"
	"math"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/apiary-hive/apiary/store"
)

// chartOption builds the ECharts option of one field's chart with
// go-echarts and returns it as JSON. The JSON goes into a data attribute
// that templ escapes, and the embedded apiary.js hands it to ECharts: no
// device string ever reaches a script context. When buckets hold more than
// one point, the chart draws the mean with a min/max band.
func chartOption(field, unit string, buckets []store.Bucket, width time.Duration, events []store.Event, from, to time.Time) string {
	line := charts.NewLine()
	name := field
	if unit != "" {
		name += " [" + unit + "]"
	}
	line.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", Min: from.UnixMilli(), Max: to.UnixMilli()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true), Name: unit}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "inside", FilterMode: "none"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "28", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
	)
	banded := false
	mean := make([]opts.LineData, 0, len(buckets))
	for _, b := range buckets {
		if b.Count > 1 {
			banded = true
		}
	}
	// Bucket points sit in the middle of their bucket, so that a day's mean
	// is drawn at noon, not at midnight.
	half := width / 2
	if !banded {
		half = 0
	}
	var low, span []opts.LineData
	for _, b := range buckets {
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
			charts.WithAreaStyleOpts(opts.AreaStyle{Color: "#e0a10033", Opacity: opts.Float(1)}),
		)
	}
	line.AddSeries(name, mean,
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(len(mean) < 60), Symbol: "circle", SymbolSize: 5}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Color: "#b86e00"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "#b86e00"}),
	)
	line.Validate()
	obj := line.JSON()
	if len(events) > 0 {
		addEventMarks(obj, events)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// addEventMarks hands the events to apiary.js, which draws each as a
// vertical line with its title.
func addEventMarks(obj map[string]any, events []store.Event) {
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

func roundFloat(v float64) float64 {
	// Six decimals are more than any hive sensor resolves and keep the page
	// small; values too large to scale are left as they are.
	if math.Abs(v) >= 1e9 || math.IsNaN(v) {
		return v
	}
	return math.Round(v*1e6) / 1e6
}
