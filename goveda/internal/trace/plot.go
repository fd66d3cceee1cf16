package trace

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours by category (the legend shows the ones present).
var catColor = map[string]color.RGBA{
	"task":   {0x3b, 0x75, 0xaf, 0xff},
	"chunk":  {0x51, 0x9e, 0x3e, 0xff},
	"stage":  {0xef, 0x8a, 0x62, 0xff},
	"wait":   {0xc8, 0xc8, 0xc8, 0xff},
	"park":   {0xee, 0xee, 0xee, 0xff},
	"kernel": {0x8d, 0x5f, 0xd3, 0xff},
	"h2d":    {0xd6, 0x27, 0x28, 0xff},
	"d2h":    {0xe3, 0x77, 0xc2, 0xff},
}

// lanes is a gonum plotter that draws each lane's complete events as boxes; nested events are
// drawn thinner on top of their parents so helping inside a wait stays visible.
type lanes struct {
	rows [][]box // per lane
}

type box struct {
	x0, x1 float64 // ms
	depth  int
	col    color.Color
}

func (l *lanes) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, row := range l.rows {
		for _, b := range row {
			h := 0.4 / float64(1+b.depth)
			y0, y1 := trY(float64(i)-h), trY(float64(i)+h)
			x0, x1 := trX(b.x0), trX(b.x1)
			if x1-x0 < 0.3 {
				x1 = x0 + 0.3 // keep very short events visible (0.3 pt)
			}
			pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
			c.FillPolygon(b.col, c.ClipPolygonXY(pts))
		}
	}
}

func (l *lanes) DataRange() (xmin, xmax, ymin, ymax float64) {
	first := true
	for _, row := range l.rows {
		for _, b := range row {
			if first || b.x0 < xmin {
				xmin = b.x0
			}
			if first || b.x1 > xmax {
				xmax = b.x1
			}
			first = false
		}
	}
	return xmin, xmax, -0.6, float64(len(l.rows)) - 0.4
}

// Plot draws f as a timeline image: one lane per worker and device engine, boxes coloured by
// kind, time in milliseconds. The format comes from out's extension (.png or .svg; also .pdf).
func Plot(f *File, out string, title string) error {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(out), "."))
	switch ext {
	case "png", "svg", "pdf":
	default:
		return fmt.Errorf("veda: trace plot: %q: the output must end in .png, .svg or .pdf", out)
	}
	names := map[int64]string{}
	type ev struct {
		cat        string
		start, end float64
	}
	byTrack := map[int64][]ev{}
	for _, e := range f.TraceEvents {
		if e.Tid == nil {
			continue
		}
		if e.Ph == "M" && e.Name == "thread_name" {
			if n, ok := e.Args["name"].(string); ok {
				names[*e.Tid] = n
			}
			continue
		}
		if e.Ph != "X" || e.TS == nil || e.Dur == nil {
			continue
		}
		cat := e.Cat
		if cat == "" {
			cat = e.Name
		}
		byTrack[*e.Tid] = append(byTrack[*e.Tid], ev{cat, *e.TS, *e.TS + *e.Dur})
	}
	if len(byTrack) == 0 {
		return fmt.Errorf("veda: trace plot: the trace has no complete events to draw")
	}
	tids := slices.Sorted(mapKeys(byTrack))
	l := &lanes{rows: make([][]box, len(tids))}
	seen := map[string]bool{}
	var labels []string
	for i, tid := range tids {
		evs := byTrack[tid]
		slices.SortStableFunc(evs, func(a, b ev) int {
			if a.start != b.start {
				if a.start < b.start {
					return -1
				}
				return 1
			}
			if a.end > b.end {
				return -1
			}
			return 0
		})
		var stack []float64
		for _, e := range evs {
			for len(stack) > 0 && stack[len(stack)-1] <= e.start {
				stack = stack[:len(stack)-1]
			}
			col, ok := catColor[e.cat]
			if !ok {
				col = color.RGBA{0x7f, 0x7f, 0x7f, 0xff}
			}
			seen[e.cat] = true
			l.rows[i] = append(l.rows[i], box{e.start / 1000, e.end / 1000, len(stack), col})
			stack = append(stack, e.end)
		}
		n := names[tid]
		if n == "" {
			n = fmt.Sprintf("track %d", tid)
		}
		labels = append(labels, n)
	}
	p := plot.New()
	if title == "" {
		title = "veda timeline"
	}
	p.Title.Text = title
	p.X.Label.Text = "time (ms)"
	p.Add(l)
	ticks := make([]plot.Tick, len(labels))
	for i, s := range labels {
		ticks[i] = plot.Tick{Value: float64(i), Label: s}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(len(labels))-0.4
	for _, cat := range []string{"task", "chunk", "stage", "wait", "park", "kernel", "h2d", "d2h"} {
		if !seen[cat] {
			continue
		}
		sw, err := plotter.NewScatter(plotter.XYs{})
		if err != nil {
			return err
		}
		sw.GlyphStyle.Shape = draw.BoxGlyph{}
		sw.GlyphStyle.Color = catColor[cat]
		sw.GlyphStyle.Radius = vg.Points(4)
		p.Legend.Add(cat, sw)
	}
	p.Legend.Top = true
	h := vg.Length(60+22*len(labels)) * vg.Millimeter / 4
	if h < 6*vg.Centimeter {
		h = 6 * vg.Centimeter
	}
	return p.Save(24*vg.Centimeter, h, out)
}
