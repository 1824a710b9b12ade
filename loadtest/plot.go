package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writePlot draws latency percentiles (log scale) against offered rate as
// a PNG (or SVG/PDF by the file's extension).
func writePlot(path, title string, runs []UnaryResult) error {
	if len(runs) == 0 {
		return fmt.Errorf("plot: no runs")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "offered rate (requests/s, open loop)"
	p.Y.Label.Text = "latency from intended send (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	// Top left: gonum places it above the data at low rates.
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(10)
	p.Add(plotter.NewGrid())
	series := []struct {
		name string
		get  func(Latency) float64
		col  color.RGBA
	}{
		{"p50", func(l Latency) float64 { return l.P50 }, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"p90", func(l Latency) float64 { return l.P90 }, color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
		{"p99", func(l Latency) float64 { return l.P99 }, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}},
		{"p99.9", func(l Latency) float64 { return l.P999 }, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
		{"max", func(l Latency) float64 { return l.Max }, color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}},
	}
	for i, s := range series {
		pts := make(plotter.XYs, len(runs))
		for j, r := range runs {
			v := s.get(r.Latency)
			if v <= 0 {
				v = 0.001
			}
			pts[j] = plotter.XY{X: r.Rate, Y: v}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color, sc.Color = s.col, s.col
		sc.Shape = draw.GlyphDrawer(draw.CircleGlyph{})
		if i == len(series)-1 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l, sc)
		p.Legend.Add(s.name, l, sc)
	}
	// The p99 target: 1 ms.
	minX, maxX := runs[0].Rate, runs[0].Rate
	for _, r := range runs {
		minX, maxX = min(minX, r.Rate), max(maxX, r.Rate)
	}
	target, err := plotter.NewLine(plotter.XYs{{X: minX, Y: 1}, {X: maxX, Y: 1}})
	if err != nil {
		return err
	}
	target.Color = color.Black
	target.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(target)
	p.Legend.Add("1 ms (p99 target)", target)
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
