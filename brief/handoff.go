package brief

import (
	"fmt"
	"strings"
	"time"

	"logbook/internal/store"
)

// The handoff note: what the new owner of a reassigned deal reads first.
// It is composed from store.HandoffFacts (read inside the reassignment's
// transaction) with the brief's wording and rules, and always has the four
// sections below, in this order, each possibly empty:
//   - Open commitments: the account's open action items, as the brief words
//     them (side, owner, due date, overdue), soonest due first (so overdue
//     first); handoffMaxCommitments shown.
//   - Last week: the account's activities of the 7×24 hours up to the
//     reassignment (store.HandoffWeek), newest first: date, type, subject
//     (else the disposition's label), who owns it and with whom;
//     handoffMaxWeek shown. An activity 8 days old is not in it.
//   - Next steps: the account's activities' next steps, soonest due first
//     (overdue marked, undated last); handoffMaxNextSteps shown.
//   - Risks: the risks the brief picks (its "Risks raised": the newest
//     processed meetings within briefRiskWindow, duplicates dropped);
//     handoffMaxRisks shown.
//
// Every statement cites its activity; a capped list ends with "…and N
// more", citing what it leaves out.
const (
	handoffMaxCommitments = 8
	handoffMaxWeek        = 8
	handoffMaxNextSteps   = 5
	handoffMaxRisks       = 3
)

// The handoff note's section titles.
const (
	HandoffCommitments = "Open commitments"
	HandoffLastWeek    = "Last week"
	HandoffNextSteps   = "Next steps"
	HandoffRisks       = "Risks"
)

// ComposeHandoff builds the handoff note from its facts. It is pure: the
// same facts give the same note.
func ComposeHandoff(f store.HandoffFacts) BriefDoc {
	c := handoffComposer{f: f, today: f.Now.UTC().Format(time.DateOnly),
		brief: briefComposer{f: store.BriefFacts{Meetings: f.Meetings}, now: f.Now}}
	c.brief.today = c.today
	return BriefDoc{Headline: c.headline(),
		Sections: []BriefSection{c.commitments(), c.week(), c.nextSteps(), c.risks()}}
}

// HandoffText renders a handoff note as plain text for the activity's
// body: the headline, then each section's title and its statements, one a
// line, each followed by its citations ("[activity <id>]").
func HandoffText(d BriefDoc) string {
	var b strings.Builder
	b.WriteString(d.Headline)
	for _, s := range d.Sections {
		b.WriteString("\n\n" + s.Title + ":")
		if len(s.Statements) == 0 {
			b.WriteString(" none.")
			continue
		}
		for _, st := range s.Statements {
			b.WriteString("\n- " + st.Text)
			for _, id := range st.ActivityIDs {
				b.WriteString(" [activity " + id + "]")
			}
		}
	}
	return b.String()
}

// Handoffs composes the handoff notes of one reassignment request and keeps
// each by deal, for the answer: pass its Compose to store.DealReassign or
// store.DealReassignBatch, then read Note. The zero value is ready to use;
// it is not safe for concurrent use (a transaction composes one deal at a
// time).
type Handoffs struct {
	notes map[string]BriefDoc
}

// Compose is a store.HandoffComposer: it composes the note, keeps it under
// the deal's ID and returns its text and structure for the activity.
func (h *Handoffs) Compose(f store.HandoffFacts) (store.HandoffNote, error) {
	d := ComposeHandoff(f)
	if h.notes == nil {
		h.notes = map[string]BriefDoc{}
	}
	h.notes[f.Deal.ID] = d
	return store.HandoffNote{Text: HandoffText(d), Structured: d}, nil
}

// Note is the note composed for a deal (the zero BriefDoc when none was).
func (h *Handoffs) Note(dealID string) BriefDoc { return h.notes[dealID] }

type handoffComposer struct {
	f     store.HandoffFacts
	today string // YYYY-MM-DD, UTC
	brief briefComposer
}

func (c *handoffComposer) headline() string {
	f := c.f
	from := "unassigned"
	if f.FromName != nil {
		from = briefClip(*f.FromName, briefNameWords)
	}
	var parts []string
	if f.OpenTotal > 0 {
		p := briefCount(f.OpenTotal, "open commitment", "open commitments")
		if f.OpenOverdue > 0 {
			p += fmt.Sprintf(" (%d overdue)", f.OpenOverdue)
		}
		parts = append(parts, p)
	} else {
		parts = append(parts, "no open commitments")
	}
	if f.WeekTotal > 0 {
		parts = append(parts, briefCount(f.WeekTotal, "activity", "activities")+" in the last week")
	} else {
		parts = append(parts, "no activity in the last week")
	}
	if f.NextStepsTotal > 0 {
		parts = append(parts, briefCount(f.NextStepsTotal, "next step", "next steps"))
	} else {
		parts = append(parts, "no next steps")
	}
	if n := len(c.brief.windowRisks()); n > 0 {
		parts = append(parts, briefCount(n, "risk", "risks")+" raised")
	} else {
		parts = append(parts, "no risks raised")
	}
	return fmt.Sprintf("%s (%s) handed from %s to %s: %s.", briefClip(f.Deal.Name, briefNameWords),
		briefClip(f.AccountName, briefNameWords), from, briefClip(f.ToName, briefNameWords), strings.Join(parts, "; "))
}

func (c *handoffComposer) commitments() BriefSection {
	f := c.f
	s := BriefSection{Title: HandoffCommitments, Statements: []BriefStatement{}}
	var omitted []store.BriefActionItem
	for _, it := range f.OpenActionItems {
		if len(s.Statements) == handoffMaxCommitments {
			omitted = append(omitted, it)
			continue
		}
		s.Statements = append(s.Statements, BriefStatement{Text: c.brief.commitment(it), ActivityIDs: []string{it.Meeting.ID}})
	}
	if more := f.OpenTotal - len(s.Statements); more > 0 {
		text := fmt.Sprintf("…and %d more", more)
		if len(f.OpenActionItems) == f.OpenTotal {
			n := map[store.BriefSide]int{}
			overdue := 0
			for _, it := range omitted {
				n[it.Side]++
				if briefOverdue(it.Item.DueDate, c.today) {
					overdue++
				}
			}
			var split []string
			for _, side := range store.BriefSides {
				if n[side] > 0 {
					split = append(split, fmt.Sprintf("%d %s", n[side], briefSideWord(side)))
				}
			}
			if overdue > 0 {
				split = append(split, fmt.Sprintf("%d overdue", overdue))
			}
			text += " (" + strings.Join(split, ", ") + ")"
		}
		var ids []string
		for _, it := range omitted {
			ids = append(ids, it.Meeting.ID)
		}
		s.More = more
		s.Statements = append(s.Statements, BriefStatement{Text: text + ".", ActivityIDs: briefIDs(ids...)})
	}
	return s
}

// weekLine words an activity of the last week: "2026-03-10 outbound call
// “Pricing”, by Dana Lee, with Wei Chen."
func weekLine(a store.HandoffActivity) string {
	text := briefDate(a.Ref.OccurredAt) + " " + briefKind(a.Ref)
	switch {
	case a.Ref.Subject != nil && strings.TrimSpace(*a.Ref.Subject) != "":
		text += " “" + briefClip(*a.Ref.Subject, briefSubjectWords) + "”"
	case a.DispositionLabel != nil && strings.TrimSpace(*a.DispositionLabel) != "":
		text += " (" + briefClip(*a.DispositionLabel, briefNameWords) + ")"
	case a.Disposition != nil && *a.Disposition != "":
		text += " (" + *a.Disposition + ")"
	}
	if a.OwnerName != nil {
		text += ", by " + briefClip(*a.OwnerName, briefNameWords)
	}
	if n := len(a.Contacts); n > 0 {
		names := make([]string, 0, 2)
		for _, c := range a.Contacts[:min(n, 2)] {
			names = append(names, briefClip(c, briefNameWords))
		}
		with := strings.Join(names, ", ")
		if n > 2 {
			with += fmt.Sprintf(" and %d more", n-2)
		}
		text += ", with " + with
	}
	return text + "."
}

func (c *handoffComposer) week() BriefSection {
	f := c.f
	s := BriefSection{Title: HandoffLastWeek, Statements: []BriefStatement{}}
	for i, a := range f.Week {
		if i == handoffMaxWeek {
			break
		}
		s.Statements = append(s.Statements, BriefStatement{Text: weekLine(a), ActivityIDs: []string{a.Ref.ID}})
	}
	var rest []string
	for _, a := range f.Week[min(handoffMaxWeek, len(f.Week)):] {
		rest = append(rest, a.Ref.ID)
	}
	s.addMore(f.WeekTotal, rest, "activity", "activities")
	return s
}

func (c *handoffComposer) nextSteps() BriefSection {
	f := c.f
	s := BriefSection{Title: HandoffNextSteps, Statements: []BriefStatement{}}
	for i, ns := range f.NextSteps {
		if i == handoffMaxNextSteps {
			break
		}
		text := briefSentence(briefClip(ns.Text, briefItemWords))
		if ns.Due != nil {
			text += "; due " + ns.Due.String()
			if briefOverdue(ns.Due, c.today) {
				text += ", overdue"
			}
		} else {
			text += "; no due date"
		}
		text += "; from " + briefDescribe(ns.Ref)
		if ns.OwnerName != nil {
			text += " (" + briefClip(*ns.OwnerName, briefNameWords) + ")"
		}
		s.Statements = append(s.Statements, BriefStatement{Text: text + ".", ActivityIDs: []string{ns.Ref.ID}})
	}
	var rest []string
	for _, ns := range f.NextSteps[min(handoffMaxNextSteps, len(f.NextSteps)):] {
		rest = append(rest, ns.Ref.ID)
	}
	s.addMore(f.NextStepsTotal, rest, "next step", "next steps")
	return s
}

func (c *handoffComposer) risks() BriefSection {
	s := c.brief.risksSection(HandoffRisks, handoffMaxRisks)
	if s.Statements == nil {
		s.Statements = []BriefStatement{}
	}
	return s
}

// addMore ends a capped section with "…and N more <things>." when total
// is more than it shows, citing the activities of the loaded rest (what
// was loaded beyond the cap; the rest of total was not loaded).
func (s *BriefSection) addMore(total int, rest []string, one, many string) {
	more := total - len(s.Statements)
	if more <= 0 {
		return
	}
	s.More = more
	s.Statements = append(s.Statements, BriefStatement{
		Text: fmt.Sprintf("…and %d more %s.", more, briefPlural(more, one, many)), ActivityIDs: briefIDs(rest...)})
}
