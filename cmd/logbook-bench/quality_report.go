package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/quality"
	"logbook/retrieval"
)

// qualityReport is what `logbook-bench quality` measured: scores against the
// labels beside baselines computed in the same run, and properties that
// must hold on any data (counted, so a gate can require them).
type qualityReport struct {
	Accounts  []string
	Meetings  int
	Questions int

	// Notes are action items, decisions and risks against the labelled
	// meetings among those run.
	Notes quality.NotesReport
	// ItemsPerMeeting are the action items of every meeting run (labelled
	// or not), in meeting order; MaxItems is the largest count.
	ItemsPerMeeting []int
	MaxItems        int

	// Summaries: Logbook's, and the lead and longest-turns baselines at the
	// same length as Logbook's summary of each meeting (Porter-stemmed
	// ROUGE, as rouge.py with NLTK).
	Summary, Lead, Longest quality.SummaryReport
	SummaryWords           []int // words of each meeting's summary, in meeting order
	MaxSummaryWords        int

	// Search holds each method's figures, by name: hybrid (the API),
	// vector, full-text, and bm25, the scorer's baseline (250-word chunks,
	// account scope).
	Search map[string]quality.RetrievalSummary
	// Answers are the answers' citations scored as a ranked list.
	Answers quality.RetrievalSummary
	// Grounded is how many questions got a grounded answer.
	Grounded int
	// Seeds are the local embedder seeds the methods were run under again;
	// SeededSearch their mean figures by method (empty without seeds).
	Seeds        []uint64
	SeededSearch map[string]seededFigures
	// Unanswerable is how many questions nothing on record answers were
	// asked, and Declined how many got "nothing on record".
	Unanswerable, Declined int

	// Properties that hold on any data; each counts violations.
	UnquotedEvidence  int // note evidence whose quote is not in its segment
	UnquotedCitations int // citation quotes not in any segment of their meeting
	ShortQuotes       int // citation quotes of three words or fewer
	DanglingMarkers   int // [n] in an answer with no citation numbered n
	Citations         int // citations in all answers

	// NotesTokens and NotesCostUSD add up what the notes (follow-ups
	// included) cost, as the notes record it; answers' tokens are not
	// returned by the API.
	NotesTokens  crm.Tokens
	NotesCostUSD float64
}

// seededFigures are a method's hit@5 and MRR averaged over embedder seeds,
// with the lowest of each.
type seededFigures struct {
	Hit5, MRR, MinHit5, MinMRR float64
}

// qualityMethods are the search methods in the order the table prints them.
var qualityMethods = []string{"hybrid", "vector", "full-text", "bm25"}

// scoreQuality scores what the loop collected on the part of the dev set it
// ran (the accounts' meetings, labels and questions).
func scoreQuality(ds *quality.DevSet, accounts []string, c *qualityCollected, seeds []uint64, seeded []map[string]quality.Run) (*qualityReport, error) {
	sub := subsetDevSet(ds, accounts)
	r := &qualityReport{Accounts: accounts, Meetings: len(c.Meetings), Questions: len(sub.Retrieval),
		Search: map[string]quality.RetrievalSummary{}}

	notes := map[string]quality.MeetingNotes{}
	sums, lead, longest := map[string]string{}, map[string]string{}, map[string]string{}
	summaryQID := map[string]string{}
	for _, q := range sub.Summaries {
		summaryQID[q.MeetingID] = q.QID
	}
	for _, m := range c.Meetings {
		n := c.Notes[m.ID]
		notes[m.ID] = quality.MeetingNotes{ActionItems: actionNoteItems(n.ActionItems), Decisions: pointNoteItems(n.Decisions), Risks: pointNoteItems(n.Risks)}
		r.ItemsPerMeeting = append(r.ItemsPerMeeting, len(n.ActionItems))
		r.MaxItems = max(r.MaxItems, len(n.ActionItems))
		words := len(strings.Fields(n.Summary))
		r.SummaryWords = append(r.SummaryWords, words)
		r.MaxSummaryWords = max(r.MaxSummaryWords, words)
		if qid, ok := summaryQID[m.ID]; ok {
			mt, _ := ds.Meeting(m.ID)
			sums[qid] = n.Summary
			lead[qid] = quality.LeadBaseline(mt, words)
			longest[qid] = quality.LongestTurnsBaseline(mt, words)
		}
		r.UnquotedEvidence += unquotedEvidence(n, c.Segments[m.ID])
		r.NotesTokens.Input += n.Tokens.Input
		r.NotesTokens.Output += n.Tokens.Output
		r.NotesCostUSD += n.CostUSD
	}
	r.Notes = quality.ScoreNotes(sub, notes, 1)
	r.Summary = quality.ScoreSummaries(sub, sums, true)
	r.Lead = quality.ScoreSummaries(sub, lead, true)
	r.Longest = quality.ScoreSummaries(sub, longest, true)

	for mode, run := range c.Search {
		rep, err := quality.ScoreRetrieval(sub, run, quality.DefaultKs())
		if err != nil {
			return nil, fmt.Errorf("quality: score %s search: %w", mode, err)
		}
		r.Search[mode] = rep.All
	}
	bm25, err := quality.BM25Run(sub, quality.Scope("account"), 250, 20)
	if err != nil {
		return nil, err
	}
	rep, err := quality.ScoreRetrieval(sub, bm25, quality.DefaultKs())
	if err != nil {
		return nil, err
	}
	r.Search["bm25"] = rep.All
	if rep, err = quality.ScoreRetrieval(sub, c.answerRun(), quality.DefaultKs()); err != nil {
		return nil, err
	}
	r.Answers = rep.All
	r.Seeds = seeds
	if len(seeded) > 0 {
		r.SeededSearch = map[string]seededFigures{}
		for _, mode := range qualityMethods[:3] {
			f := seededFigures{MinHit5: 1, MinMRR: 1}
			for _, runs := range seeded {
				rep, err := quality.ScoreRetrieval(sub, runs[mode], quality.DefaultKs())
				if err != nil {
					return nil, err
				}
				h5, _ := rep.All.At(5)
				f.Hit5 += h5.Hit / float64(len(seeded))
				f.MRR += rep.All.MRR / float64(len(seeded))
				f.MinHit5, f.MinMRR = min(f.MinHit5, h5.Hit), min(f.MinMRR, rep.All.MRR)
			}
			r.SeededSearch[mode] = f
		}
	}
	for _, u := range c.Unanswerable {
		r.Unanswerable++
		if !u.Answer.Grounded {
			r.Declined++
		}
	}

	for _, a := range c.Answers {
		if a.Grounded {
			r.Grounded++
		}
		r.DanglingMarkers += danglingMarkers(a)
		for _, cit := range a.Citations {
			r.Citations++
			if len(strings.Fields(cit.Quote)) <= 3 {
				r.ShortQuotes++
			}
			if !quotedIn(cit.Quote, c.Segments[c.MeetingOf[cit.ActivityID]]) {
				r.UnquotedCitations++
			}
		}
	}
	return r, nil
}

// subsetDevSet is ds restricted to the given accounts' labels, questions
// and summaries (meetings stay, for lookups).
func subsetDevSet(ds *quality.DevSet, accounts []string) *quality.DevSet {
	in := map[string]bool{}
	for _, a := range accounts {
		for _, m := range ds.Accounts[a] {
			in[m] = true
		}
	}
	sub := *ds
	sub.Labels = map[string]quality.MeetingLabels{}
	sub.LabelOrder = nil
	for _, m := range ds.LabelOrder {
		if in[m] {
			sub.Labels[m] = ds.Labels[m]
			sub.LabelOrder = append(sub.LabelOrder, m)
		}
	}
	sub.Retrieval, sub.Summaries = nil, nil
	for _, q := range ds.Retrieval {
		if in[q.MeetingID] {
			sub.Retrieval = append(sub.Retrieval, q)
		}
	}
	for _, q := range ds.Summaries {
		if in[q.MeetingID] {
			sub.Summaries = append(sub.Summaries, q)
		}
	}
	return &sub
}

func evidenceOf(evs []crm.Evidence) []quality.Evidence {
	out := make([]quality.Evidence, len(evs))
	for i, e := range evs {
		out[i] = quality.Evidence{Quote: e.Quote, StartMS: &e.StartMS}
	}
	return out
}

func actionNoteItems(items []crm.ActionItem) []quality.NoteItem {
	out := make([]quality.NoteItem, len(items))
	for i, it := range items {
		out[i] = quality.NoteItem{Text: it.Text, Evidence: evidenceOf(it.Evidence)}
		if it.Owner != nil {
			out[i].Owner = *it.Owner
		}
	}
	return out
}

func pointNoteItems(ps []crm.Point) []quality.NoteItem {
	out := make([]quality.NoteItem, len(ps))
	for i, p := range ps {
		out[i] = quality.NoteItem{Text: p.Text, Evidence: evidenceOf(p.Evidence)}
	}
	return out
}

// unquotedEvidence counts the notes' evidence whose quote is not in the
// text of the segment it names.
func unquotedEvidence(n crm.Notes, segs []crm.Segment) int {
	bad := 0
	check := func(evs []crm.Evidence) {
		for _, e := range evs {
			if e.Segment < 0 || e.Segment >= len(segs) || !strings.Contains(segs[e.Segment].Text, e.Quote) {
				bad++
			}
		}
	}
	check(n.SummaryEvidence)
	for _, ps := range [][]crm.Point{n.KeyPoints, n.Decisions, n.Risks} {
		for _, p := range ps {
			check(p.Evidence)
		}
	}
	for _, it := range n.ActionItems {
		check(it.Evidence)
	}
	return bad
}

// quotedIn reports whether quote is, word for word, in one segment's text.
func quotedIn(quote string, segs []crm.Segment) bool {
	return quote != "" && slices.ContainsFunc(segs, func(s crm.Segment) bool { return strings.Contains(s.Text, quote) })
}

var markerRE = regexp.MustCompile(`\[(\d+)\]`)

// danglingMarkers counts the [n] references in an answer that no citation
// numbered n backs.
func danglingMarkers(a retrieval.Answer) int {
	bad := 0
	for _, m := range markerRE.FindAllStringSubmatch(a.Answer, -1) {
		n, _ := strconv.Atoi(m[1])
		if !slices.ContainsFunc(a.Citations, func(c retrieval.Citation) bool { return c.N == n }) {
			bad++
		}
	}
	return bad
}

func pct(r quality.Ratio) string {
	v, ok := r.Value()
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func meanInts(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0
	for _, x := range xs {
		t += x
	}
	return float64(t) / float64(len(xs))
}

// printQuality writes the report as the Markdown table QUALITY.md keeps.
func printQuality(w io.Writer, r *qualityReport, model string) {
	fmt.Fprintf(w, "Accounts %s: %d meetings, %d questions; %d labelled meetings. Model: %s.\n\n",
		strings.Join(r.Accounts, ", "), r.Meetings, r.Questions, r.Notes.Meetings, model)
	n := r.Notes
	fmt.Fprintln(w, "| notes | per meeting | precision | recall | core recall | owner accuracy | new-decision recall |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| action items | %s | %s | %s | %s | %s | |\n", pct(n.ActionItems.PerMeeting), pct(n.ActionItems.Precision),
		pct(n.ActionItems.Recall), pct(n.ActionItems.CoreRecall), pct(n.ActionItems.OwnerAccuracy))
	fmt.Fprintf(w, "| decisions | %s | %s | %s | | | %s |\n", pct(n.Decisions.PerMeeting), pct(n.Decisions.Precision),
		pct(n.Decisions.Recall), pct(n.Decisions.NewRecall))
	fmt.Fprintf(w, "| risks | %s | %s | %s | | | |\n", pct(n.Risks.PerMeeting), pct(n.Risks.Precision), pct(n.Risks.Recall))
	fmt.Fprintf(w, "\nAction items per meeting, all %d meetings: mean %.1f, max %d. Per labelled meeting (predicted/matched/labels):",
		r.Meetings, meanInts(r.ItemsPerMeeting), r.MaxItems)
	for _, m := range n.MeetingOrder {
		c := n.PerMeeting[m].ActionItems
		fmt.Fprintf(w, " %s %d/%d/%d", m, c.Predicted, c.Matched, c.Labels)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "\n| summaries (ROUGE F1, Porter-stemmed) | words (mean) | R-1 | R-2 | R-Lsum |\n|---|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		rep  quality.SummaryReport
	}{{"Logbook", r.Summary}, {"lead (same length)", r.Lead}, {"longest turns (same length)", r.Longest}} {
		m := row.rep.MeanPoints
		fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.2f |\n", row.name, meanInts(r.SummaryWords), m.Rouge1.F, m.Rouge2.F, m.RougeLsum.F)
	}

	fmt.Fprintf(w, "\n| search (account scope, %d questions) | hit@1 | hit@5 | MRR | words@5 |\n|---|---:|---:|---:|---:|\n", r.Questions)
	row := func(name string, s quality.RetrievalSummary) {
		h1, _ := s.At(1)
		h5, _ := s.At(5)
		fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.0f |\n", name, h1.Hit, h5.Hit, s.MRR, h5.Words)
	}
	for _, m := range qualityMethods {
		if s, ok := r.Search[m]; ok {
			name := m
			switch m {
			case "hybrid":
				name = "hybrid (GET /v1/accounts/{id}/search)"
			case "bm25":
				name = "BM25 baseline (250-word chunks)"
			}
			row(name, s)
		}
	}
	row("answers' citations (POST /v1/accounts/{id}/ask)", r.Answers)
	if len(r.SeededSearch) > 0 {
		fmt.Fprintf(w, "\n| search under %d embedder seeds %v | mean hit@5 | mean MRR | lowest hit@5 | lowest MRR |\n|---|---:|---:|---:|---:|\n", len(r.Seeds), r.Seeds)
		for _, m := range qualityMethods[:3] {
			f := r.SeededSearch[m]
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f |\n", m, f.Hit5, f.MRR, f.MinHit5, f.MinMRR)
		}
	}
	fmt.Fprintf(w, "\nUnanswerable questions (off-topic questions whose words no meeting of the account has): %d of %d declined.\n", r.Declined, r.Unanswerable)
	fmt.Fprintf(w, "Answers: %d of %d grounded; %d citations, %d of them not verbatim in a transcript segment, %d of three words or fewer; %d [n] markers without their citation. Note evidence not verbatim in its segment: %d. Longest summary: %d words.\n",
		r.Grounded, r.Questions, r.Citations, r.UnquotedCitations, r.ShortQuotes, r.DanglingMarkers, r.UnquotedEvidence, r.MaxSummaryWords)
	fmt.Fprintf(w, "Notes and follow-ups: %d input and %d output tokens, $%.4f (answers not counted).\n",
		r.NotesTokens.Input, r.NotesTokens.Output, r.NotesCostUSD)
}
