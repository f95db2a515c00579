package summarize

import (
	"slices"
	"strings"

	"logbook/internal/crm"
)

// nearThreshold is the word-set Jaccard similarity from which two texts
// count as the same item said twice.
const nearThreshold = 0.8

// similar reports whether two item texts are near-identical: the same words
// once case and punctuation are ignored, or the same numbers and word sets
// that overlap by at least nearThreshold ("milestone 3" and "milestone 33"
// are different items).
func similar(a, b string) bool {
	wa, wb := words(a), words(b)
	if slices.Equal(wa, wb) {
		return true
	}
	if len(wa) == 0 || len(wb) == 0 || !slices.Equal(numbers(wa), numbers(wb)) {
		return false
	}
	set := make(map[string]uint8, len(wa)+len(wb))
	for _, w := range wa {
		set[w] |= 1
	}
	for _, w := range wb {
		set[w] |= 2
	}
	both := 0
	for _, v := range set {
		if v == 3 {
			both++
		}
	}
	return float64(both)/float64(len(set)) >= nearThreshold
}

// mergeEvidence adds the evidence of b to a that a does not have yet, in
// segment order.
func mergeEvidence(a, b []crm.Evidence) []crm.Evidence {
	for _, e := range b {
		if !slices.ContainsFunc(a, func(x crm.Evidence) bool {
			return x.Segment == e.Segment && strings.EqualFold(x.Quote, e.Quote)
		}) {
			a = append(a, e)
		}
	}
	slices.SortStableFunc(a, func(x, y crm.Evidence) int { return x.Segment - y.Segment })
	return a
}

// mergePoints appends add to dst, folding each point into an earlier
// near-identical one (keeping both's evidence).
func mergePoints(dst, add []crm.Point, st *Stats) []crm.Point {
	for _, p := range add {
		i := slices.IndexFunc(dst, func(q crm.Point) bool { return similar(q.Text, p.Text) })
		if i < 0 {
			dst = append(dst, p)
			continue
		}
		dst[i].Evidence = mergeEvidence(dst[i].Evidence, p.Evidence)
		st.Merged++
	}
	return dst
}

// sameAction reports whether b repeats a: near-identical text and no
// conflicting owner or due date.
func sameAction(a, b crm.ActionItem) bool {
	if a.Owner != nil && b.Owner != nil && *a.Owner != *b.Owner {
		return false
	}
	if a.DueDate != nil && b.DueDate != nil && !a.DueDate.Equal(b.DueDate.Time) {
		return false
	}
	return similar(a.Text, b.Text)
}

// mergeActions appends add to dst, folding each item into an earlier one it
// repeats: the evidence is united, a missing owner or due date is taken from
// the repeat, and the item stays tentative only if every mention was.
func mergeActions(dst, add []crm.ActionItem, st *Stats) []crm.ActionItem {
	for _, a := range add {
		i := slices.IndexFunc(dst, func(d crm.ActionItem) bool { return sameAction(d, a) })
		if i < 0 {
			dst = append(dst, a)
			continue
		}
		d := &dst[i]
		d.Evidence = mergeEvidence(d.Evidence, a.Evidence)
		if d.Owner == nil {
			d.Owner = a.Owner
		}
		if d.DueDate == nil {
			d.DueDate = a.DueDate
		}
		d.Tentative = d.Tentative && a.Tentative
		st.Merged++
	}
	return dst
}

// numbers returns the sorted, distinct words of ws that contain a digit.
func numbers(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.ContainsAny(w, "0123456789") {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
