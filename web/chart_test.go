package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// svgDoc is an SVG as encoding/xml reads it: every element's name (local)
// and class, and every text run, in order.
type svgDoc struct {
	Elements []xml.StartElement
	Texts    []string
	// ByClass are the texts of elements with a class, by class.
	ByClass map[string][]string
}

// parseSVG requires s to be well-formed XML and reads it. html/template's
// escapes (&lt; &#34; &#39;…) are XML's, so a page's SVG parses as it is.
func parseSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	doc := svgDoc{ByClass: map[string][]string{}}
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "SVG must be well-formed: %s", s)
		switch tk := tok.(type) {
		case xml.StartElement:
			doc.Elements = append(doc.Elements, tk.Copy())
			class := ""
			for _, a := range tk.Attr {
				if a.Name.Local == "class" {
					class = a.Value
				}
			}
			stack = append(stack, class)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			text := string(tk)
			doc.Texts = append(doc.Texts, text)
			if len(stack) > 0 && stack[len(stack)-1] != "" {
				c := stack[len(stack)-1]
				doc.ByClass[c] = append(doc.ByClass[c], text)
			}
		}
	}
	require.Empty(t, stack, "every element closed")
	return doc
}

// attr is the value of an element's attribute.
func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// renderChart draws c with the page templates' "chart" partial.
func renderChart(t *testing.T, c chart) string {
	t.Helper()
	p, err := loadPages()
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, p.partials.ExecuteTemplate(&buf, "chart", c))
	return buf.String()
}

// TestRateChart: bar lengths are the rate on a 0–100% axis, labelled with
// "rate (connected of dials)"; the null bucket is marked; a long label is
// cut with the whole label in the bar's <title>; no rows is the empty
// state, not an empty chart. Figures computed by hand.
func TestRateChart(t *testing.T) {
	t.Parallel()
	long := "Enterprise accounts of the northern region"
	rows := []rateRow{
		{Label: "SMB", Connected: 1, Dials: 2},
		{Label: long, Connected: 3, Dials: 4},
		{Label: "Zero", Connected: 0, Dials: 5},
		{Label: "(no segment)", Null: true, Connected: 1, Dials: 1},
		{Label: "Thirds", Connected: 1, Dials: 3},
	}
	c := rateChart("c", "Connect rate by segment", rows)
	require.Empty(t, c.Empty)
	require.Equal(t, 640, c.Width)
	require.Equal(t, 6*2+28*5, c.Height)
	require.Len(t, c.Bars, 5)
	// 330 units of plot: 1/2 → 165, 3/4 → 247.5, 0 → 0, 1/1 → 330,
	// 1/3 → 110.
	wantW := []float64{165, 247.5, 0, 330, 110}
	wantV := []string{"50% (1 of 2)", "75% (3 of 4)", "0% (0 of 5)", "100% (1 of 1)", "33% (1 of 3)"}
	for i, b := range c.Bars {
		require.Equal(t, wantW[i], b.W, "bar %d", i)
		require.Equal(t, float64(170), b.X, "bars start at the label column's end")
		require.Equal(t, float64(6+28*i+5), b.Y)
		require.Equal(t, float64(18), b.H)
		require.Equal(t, wantV[i], b.Value)
		require.Equal(t, 170+wantW[i]+6, b.ValueX, "the value follows its bar")
		require.True(t, b.ShowLabel)
	}
	require.Equal(t, "Enterprise accounts o…", c.Bars[1].Label, "22 characters, the last an ellipsis")
	require.Equal(t, long, c.Bars[1].Full)
	require.True(t, c.Bars[3].Null)
	require.False(t, c.Bars[0].Null)
	require.Equal(t, "Connect rate by segment, 5 groups: SMB 50% (1 of 2); "+long+" 75% (3 of 4); Zero 0% (0 of 5); "+
		"(no segment) 100% (1 of 1); Thirds 33% (1 of 3).", c.Summary)

	doc := parseSVG(t, svgOnly(t, renderChart(t, c)))
	require.Equal(t, "svg", doc.Elements[0].Name.Local)
	require.Equal(t, "img", attr(doc.Elements[0], "role"))
	require.Equal(t, c.Summary, attr(doc.Elements[0], "aria-label"))
	require.Equal(t, "0 0 640 152", attr(doc.Elements[0], "viewBox"))
	require.Equal(t, "title", doc.Elements[1].Name.Local)
	require.Equal(t, "Connect rate by segment", doc.Texts[0])
	require.Equal(t, wantV, doc.ByClass["chart-value"])
	require.Equal(t, []string{"SMB", "Enterprise accounts o…", "Zero", "(no segment)", "Thirds"}, doc.ByClass["chart-label"])
	require.Contains(t, doc.Texts, long+": 75% (3 of 4)", "the whole label in the bar's <title>")
	var rects []xml.StartElement
	for _, e := range doc.Elements {
		if e.Name.Local == "rect" {
			rects = append(rects, e)
		}
		require.Empty(t, attr(e, "style"), "no style attribute: the CSP blocks inline styles")
	}
	require.Len(t, rects, 5)
	require.Equal(t, "247.5", attr(rects[1], "width"))
	require.Equal(t, "0", attr(rects[2], "width"))

	// One row of one dial.
	c = rateChart("c", "T", []rateRow{{Label: "A", Connected: 1, Dials: 1}})
	require.Equal(t, "T, 1 group: A 100% (1 of 1).", c.Summary)

	// No dials: the designed empty state.
	c = rateChart("c", "Connect rate by list", nil)
	require.Equal(t, "No calls in this range.", c.Empty)
	require.Empty(t, c.Bars)
	out := renderChart(t, c)
	require.NotContains(t, out, "<svg")
	require.Contains(t, out, "No calls in this range.")
}

// TestColumnChart: column heights are the count on an axis from 0 to the
// largest; zeros are columns of no height; the values sit above; too many
// columns label every k-th; all zero is the empty state.
func TestColumnChart(t *testing.T) {
	t.Parallel()
	rows := []countRow{
		{Key: "2026-02-23", Label: "2026-W09", Short: "W09", Count: 0},
		{Key: "2026-03-02", Label: "2026-W10", Short: "W10", Count: 4},
		{Key: "2026-03-09", Label: "2026-W11", Short: "W11", Count: 2},
		{Key: "2026-03-16", Label: "2026-W12", Short: "W12", Count: 8},
	}
	c := columnChart("v", "Activities per week", "week", "weeks", "activities", "No activity in this range.", rows)
	require.Empty(t, c.Empty)
	require.Equal(t, 22+170+34, c.Height)
	// Plot 624 wide from x=8: slots of 156, bars of 56 (70% of a slot,
	// 109.2, capped) centred (x +50).
	wantH := []float64{0, 85, 42.5, 170}
	for i, b := range c.Bars {
		require.Equal(t, wantH[i], b.H, "column %d", i)
		require.Equal(t, 192-wantH[i], b.Y, "columns stand on the axis at y=192")
		require.Equal(t, 8+156*float64(i)+50, b.X)
		require.Equal(t, 56.0, b.W)
		require.Equal(t, 8+156*float64(i)+78, b.LabelX)
		require.Equal(t, rows[i].Short, b.Label)
		require.Equal(t, rows[i].Label, b.Full)
		require.True(t, b.ShowLabel)
	}
	require.Equal(t, []string{"0", "4", "2", "8"}, []string{c.Bars[0].Value, c.Bars[1].Value, c.Bars[2].Value, c.Bars[3].Value})
	require.Equal(t, chartLine{X1: 8, Y1: 192, X2: 632, Y2: 192}, c.Axis)
	require.Equal(t, "Activities per week, 4 weeks from 2026-W09 to 2026-W12: 14 activities in all; the most, 8, in 2026-W12.", c.Summary)
	doc := parseSVG(t, svgOnly(t, renderChart(t, c)))
	require.Equal(t, []string{"0", "4", "2", "8"}, doc.ByClass["chart-value"])
	require.Equal(t, []string{"W09", "W10", "W11", "W12"}, doc.ByClass["chart-label"])

	// 26 weeks: every second labelled (13 fit).
	many := make([]countRow, 26)
	for i := range many {
		many[i] = countRow{Label: "w", Short: "w", Count: int64(i)}
	}
	c = columnChart("v", "T", "week", "weeks", "activities", "None.", many)
	for i, b := range c.Bars {
		require.Equal(t, i%2 == 0, b.ShowLabel, "column %d", i)
	}

	// All zero, or no rows: the empty state.
	for _, rs := range [][]countRow{nil, {{Label: "2026-W01", Count: 0}}} {
		c = columnChart("v", "Activities per week", "week", "weeks", "activities", "No activity in this range.", rs)
		require.Equal(t, "No activity in this range.", c.Empty)
		require.Equal(t, "Activities per week: no activity in this range.", c.Summary)
	}
}

// TestChartEscapes: a label that is markup stays text in the SVG (an XML
// parser sees no element of it), in the labels, the titles and the
// aria-label.
func TestChartEscapes(t *testing.T) {
	t.Parallel()
	evil := `<script>alert("x")</script>&'`
	c := rateChart("c", "Connect rate by owner", []rateRow{{Label: evil, Connected: 1, Dials: 2}})
	out := renderChart(t, c)
	require.NotContains(t, out, "<script>")
	doc := parseSVG(t, svgOnly(t, out))
	for _, e := range doc.Elements {
		require.NotEqual(t, "script", e.Name.Local)
	}
	require.Contains(t, doc.Texts, evil+": 50% (1 of 2)")
	require.Equal(t, []string{clipLabel(evil, chartLabelRunes)}, doc.ByClass["chart-label"])
	require.Contains(t, attr(doc.Elements[0], "aria-label"), evil)
}

// TestChartInvariants: on random rows (seed logged) every bar lies inside
// the plot, is as long as its rate (or count) says, and the longest
// column fills the plot.
func TestChartInvariants(t *testing.T) {
	t.Parallel()
	seed := uint64(20261203)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for range 200 {
		n := 1 + rng.IntN(30)
		rates := make([]rateRow, n)
		counts := make([]countRow, n)
		for i := range n {
			d := int64(1 + rng.IntN(1000))
			rates[i] = rateRow{Label: strings.Repeat("x", rng.IntN(40)), Dials: d, Connected: rng.Int64N(d + 1)}
			counts[i] = countRow{Label: "w", Short: "w", Count: rng.Int64N(50)}
		}
		c := rateChart("c", "T", rates)
		require.Len(t, c.Bars, n)
		for i, b := range c.Bars {
			require.GreaterOrEqual(t, b.W, 0.0)
			require.LessOrEqual(t, b.W, float64(hbarPlotW))
			require.InDelta(t, float64(hbarPlotW)*float64(rates[i].Connected)/float64(rates[i].Dials), b.W, 0.0051)
			require.LessOrEqual(t, b.Y+b.H, float64(c.Height))
			require.LessOrEqual(t, len([]rune(b.Label)), chartLabelRunes)
		}
		v := columnChart("v", "T", "week", "weeks", "activities", "None.", counts)
		if v.Empty != "" {
			for _, r := range counts {
				require.Zero(t, r.Count)
			}
			continue
		}
		top := 0.0
		for i, b := range v.Bars {
			require.GreaterOrEqual(t, b.H, 0.0)
			require.InDelta(t, float64(colTop+colPlotH), b.Y+b.H, 0.011, "column %d stands on the axis", i)
			require.GreaterOrEqual(t, b.X, float64(colPadSide))
			require.LessOrEqual(t, b.X+b.W, float64(chartWidth-colPadSide)+0.01)
			top = max(top, b.H)
		}
		require.Equal(t, float64(colPlotH), top)
	}
}

// svgOnly cuts the <svg> element out of a rendered chart (its wrapper
// left out).
func svgOnly(t *testing.T, s string) string {
	t.Helper()
	i, j := strings.Index(s, "<svg"), strings.LastIndex(s, "</svg>")
	require.True(t, i >= 0 && j > i, "an svg in %s", s)
	return s[i : j+len("</svg>")]
}
