package web

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Charts are server-rendered SVG: a pure function turns rows into a chart
// model (every coordinate computed here, in the viewBox's units), and the
// partial templates/partials/chart.html draws the model. No chart library,
// no script, no style attribute (the CSP forbids inline styles): the
// template uses SVG presentation attributes and classes of ops.css.

// Chart geometry, in viewBox units.
const (
	chartWidth = 640

	// Horizontal bars: a label column, the plot, a value column.
	hbarLabelW = 170
	hbarPlotW  = 330
	hbarRowH   = 28
	hbarBarH   = 18
	hbarPadTop = 6

	// Columns: a value row above, the plot, a label row below.
	colTop     = 22
	colPlotH   = 170
	colLabelH  = 34
	colPadSide = 8
	// colMaxBarW keeps a few columns from turning into slabs.
	colMaxBarW = 56

	// chartLabelRunes is how many characters of a label a chart shows; a
	// longer one is cut with "…" (the whole label is in the bar's <title>
	// and in the table).
	chartLabelRunes = 22
	// chartSummaryMax is how many bars the aria-label names.
	chartSummaryMax = 12
	// colMaxLabels is how many column labels fit under the plot; with more
	// columns every k-th is labelled.
	colMaxLabels = 13
)

// chart is an SVG chart as the template draws it.
type chart struct {
	// ID is the element id of the chart's <title> (aria-labelledby is not
	// used: the aria-label carries the summary).
	ID string
	// Width and Height are the viewBox's size.
	Width, Height int
	// Title is the chart's <title>.
	Title string
	// Summary is its aria-label: what a screen reader says of it.
	Summary string
	// Empty is the designed empty state's sentence; when set the template
	// draws no chart.
	Empty string
	// Column is true for a column chart (the axis line is at the bottom).
	Column bool
	// Bars are the bars, in order.
	Bars []chartBar
	// Axis is the line the bars grow from.
	Axis chartLine
}

// chartBar is one bar with its label and value text.
type chartBar struct {
	// X, Y, W, H are the bar's rectangle.
	X, Y, W, H float64
	// Label is the label as shown (cut to chartLabelRunes); Full is the
	// whole label, for the bar's <title>.
	Label, Full string
	// ShowLabel is false for a column whose label is skipped to fit.
	ShowLabel bool
	// LabelX, LabelY place the label; ValueX, ValueY the value.
	LabelX, LabelY float64
	// Value is the bar's value as text ("42% (21 of 50)", "7").
	Value          string
	ValueX, ValueY float64
	// Null marks the bucket of rows without a key ("(no segment)").
	Null bool
}

// chartLine is a line segment.
type chartLine struct{ X1, Y1, X2, Y2 float64 }

// rateRow is a row of a connect-rate chart.
type rateRow struct {
	Label     string
	Null      bool
	Connected int64
	Dials     int64
}

// Rate is the row's connect rate as a whole percentage ("42%"), or "–"
// without dials.
func (r rateRow) Rate() string {
	if r.Dials == 0 {
		return "–"
	}
	return fmt.Sprintf("%d%%", int(math.Round(float64(r.Connected)*100/float64(r.Dials))))
}

// Value is the rate with its counts: "42% (21 of 50)".
func (r rateRow) Value() string {
	return fmt.Sprintf("%s (%d of %d)", r.Rate(), r.Connected, r.Dials)
}

// countRow is a row of a column chart: a label (Short under the column,
// Label in full) and a count; Key is the row's key (a week's Monday).
type countRow struct {
	Key, Label, Short string
	Count             int64
}

// clipLabel cuts s to n characters, the last being "…".
func clipLabel(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// round2 keeps two decimals, so the SVG's numbers stay short.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// rateChart is a horizontal bar chart of connect rates: one bar per row, in
// the rows' order, its length the rate on an axis from 0 to 100%, labelled
// with the group and "rate (connected of dials)". No rows (no dials) is
// the empty state.
func rateChart(id, title string, rows []rateRow) chart {
	c := chart{ID: id, Width: chartWidth, Title: title}
	if len(rows) == 0 {
		c.Empty = "No calls in this range."
		c.Summary = title + ": no calls in this range."
		c.Height = hbarRowH
		return c
	}
	c.Height = hbarPadTop*2 + hbarRowH*len(rows)
	c.Axis = chartLine{X1: hbarLabelW, Y1: 0, X2: hbarLabelW, Y2: float64(c.Height)}
	var parts []string
	for i, r := range rows {
		y := float64(hbarPadTop + i*hbarRowH + (hbarRowH-hbarBarH)/2)
		w := 0.0
		if r.Dials > 0 {
			w = round2(hbarPlotW * float64(r.Connected) / float64(r.Dials))
		}
		mid := round2(y + hbarBarH/2 + 4) // text baseline near the bar's middle
		c.Bars = append(c.Bars, chartBar{
			X: hbarLabelW, Y: y, W: w, H: hbarBarH,
			Label: clipLabel(r.Label, chartLabelRunes), Full: r.Label, ShowLabel: true, Null: r.Null,
			LabelX: hbarLabelW - 6, LabelY: mid,
			Value: r.Value(), ValueX: round2(hbarLabelW + w + 6), ValueY: mid,
		})
		if i < chartSummaryMax {
			parts = append(parts, r.Label+" "+r.Value())
		}
	}
	c.Summary = fmt.Sprintf("%s, %s: %s", title, plural(len(rows), "group", "groups"), strings.Join(parts, "; "))
	if len(rows) > chartSummaryMax {
		c.Summary += fmt.Sprintf("; and %d more", len(rows)-chartSummaryMax)
	}
	c.Summary += "."
	return c
}

// columnChart is a column chart of counts: one column per row, oldest
// first, its height the count on an axis from 0 to the largest count,
// labelled with the count above and the short label below. Rows that are
// all zero (or none) are the empty state, with empty as its sentence. one
// and many name a column in the summary ("week", "weeks"), unit a count
// ("activities").
func columnChart(id, title, one, many, unit, empty string, rows []countRow) chart {
	c := chart{ID: id, Width: chartWidth, Title: title, Column: true}
	var maxN, total int64
	for _, r := range rows {
		maxN = max(maxN, r.Count)
		total += r.Count
	}
	if maxN == 0 {
		c.Empty = empty
		c.Summary = title + ": " + strings.ToLower(empty[:1]) + empty[1:]
		c.Height = hbarRowH
		return c
	}
	c.Height = colTop + colPlotH + colLabelH
	base := float64(colTop + colPlotH)
	c.Axis = chartLine{X1: colPadSide, Y1: base, X2: chartWidth - colPadSide, Y2: base}
	slot := float64(chartWidth-2*colPadSide) / float64(len(rows))
	barW := round2(min(slot*0.7, colMaxBarW))
	step := (len(rows) + colMaxLabels - 1) / colMaxLabels
	var top countRow
	for i, r := range rows {
		h := round2(colPlotH * float64(r.Count) / float64(maxN))
		x := round2(colPadSide + slot*float64(i) + (slot-barW)/2)
		mid := round2(colPadSide + slot*float64(i) + slot/2)
		c.Bars = append(c.Bars, chartBar{
			X: x, Y: round2(base - h), W: barW, H: h,
			Label: clipLabel(r.Short, 9), Full: r.Label,
			ShowLabel: i%step == 0,
			LabelX:    mid, LabelY: base + 16,
			Value: fmt.Sprint(r.Count), ValueX: mid, ValueY: round2(base - h - 5),
		})
		if r.Count > top.Count {
			top = r
		}
	}
	c.Summary = fmt.Sprintf("%s, %s from %s to %s: %d %s in all; the most, %d, in %s.", title,
		plural(len(rows), one, many), rows[0].Label, rows[len(rows)-1].Label, total, unit, top.Count, top.Label)
	return c
}

// plural is "1 group" or "3 groups".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
