package quality

import (
	"sort"
	"strings"
)

// Evidence is where a predicted item was said: a quote of the transcript
// and, optionally, the instant it starts. It has the shape of the evidence
// on a meeting activity's notes in Logbook's API.
type Evidence struct {
	Quote   string `json:"quote"`
	StartMS *int64 `json:"start_ms,omitempty"`
}

// NoteItem is one predicted action item, decision or risk.
type NoteItem struct {
	Text     string     `json:"text"`
	Owner    string     `json:"owner,omitempty"`
	Evidence []Evidence `json:"evidence"`
}

// MeetingNotes are the notes written for one meeting, in the order the
// system wrote them (the order matters: labels are matched greedily).
type MeetingNotes struct {
	ActionItems []NoteItem `json:"action_items"`
	Decisions   []NoteItem `json:"decisions"`
	Risks       []NoteItem `json:"risks"`
}

// Ratio is a share Num/Den; it is undefined (the scripts print null) when
// Den is 0.
type Ratio struct {
	Num, Den int
}

// Value returns the share and whether it is defined.
func (r Ratio) Value() (float64, bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

// Rounded returns the share rounded to three places as score_notes.py
// prints it, or nil when it is undefined.
func (r Ratio) Rounded() *float64 {
	v, ok := r.Value()
	if !ok {
		return nil
	}
	v = Round(v, 3)
	return &v
}

// NoteCategory is the score of one category (action items, decisions or
// risks) over all labelled meetings.
type NoteCategory struct {
	// Predicted is the number of predicted items; Labels the number of labels.
	Predicted, Labels int
	// Matched is the number of predictions that matched a label (equal to
	// the number of labels matched, since each label matches at most once).
	Matched int
	// PerMeeting is predicted items per labelled meeting.
	PerMeeting Ratio
	// Precision is the share of predictions that match a label.
	Precision Ratio
	// Recall is the share of labels matched by a prediction.
	Recall Ratio
	// CoreRecall (action items only) is the share of core commitments
	// matched; soft ones (meeting again, questionnaires) are left out.
	CoreRecall Ratio
	// OwnerAccuracy (action items only) is, over matched items whose label
	// names one owner, the share whose predicted owner is that owner
	// (trimmed, case-insensitive).
	OwnerAccuracy Ratio
	// NewRecall (decisions only) is the share of decisions made in this
	// meeting (kind "new", not recaps of an earlier one) that are matched.
	NewRecall Ratio
}

// NoteCounts are one meeting's counts for one category.
type NoteCounts struct {
	Predicted, Matched, Labels int
}

// MeetingNoteCounts are one labelled meeting's counts per category.
type MeetingNoteCounts struct {
	ActionItems, Decisions, Risks NoteCounts
}

// FalseItem is a predicted item that matched no label.
type FalseItem struct {
	MeetingID string
	// Category is "action_items", "decisions" or "risks".
	Category string
	Text     string
}

// NotesReport is score_notes.py's output for a set of notes.
type NotesReport struct {
	// Meetings is the number of labelled meetings; Tolerance the turn
	// distance within which an item and a label match.
	Meetings, Tolerance int
	ActionItems         NoteCategory
	Decisions           NoteCategory
	Risks               NoteCategory
	// PerMeeting has every labelled meeting's counts; MeetingOrder lists
	// them in the labels' order.
	PerMeeting   map[string]MeetingNoteCounts
	MeetingOrder []string
	// False are the unmatched predictions, meeting by meeting in the
	// labels' order, then by category, in prediction order.
	False []FalseItem
}

// ScoreNotes scores notes (keyed by meeting id) against the dev set's
// labels exactly as score_notes.py does; labelled meetings missing from
// notes count as meetings with no items, and notes of unlabelled meetings
// are ignored. Tolerance is --tolerance (the script's default is 1).
//
// Each item is placed on transcript turns through its evidence: a turn is
// covered when the quote's words contain the turn's first or second half
// (turns of 8+ words), or the whole turn (4-7 words), or the quote (4+
// words) lies inside the turn; with no text match, start_ms falls back to
// the turn holding that instant. An item matches the first unused label
// (in label order) whose turns are within Tolerance of its own; items are
// taken in prediction order.
func ScoreNotes(ds *DevSet, notes map[string]MeetingNotes, tolerance int) NotesReport {
	rep := NotesReport{
		Meetings:     len(ds.LabelOrder),
		Tolerance:    tolerance,
		PerMeeting:   map[string]MeetingNoteCounts{},
		MeetingOrder: append([]string(nil), ds.LabelOrder...),
	}
	type tally struct {
		predicted, labels, matched, labelsMatched, ownerOK, ownerN, core, coreMatched, newN, newMatched int
	}
	var tot [3]tally
	cats := [3]string{"action_items", "decisions", "risks"}
	for _, mid := range ds.LabelOrder {
		lab := ds.Labels[mid]
		m, _ := ds.Meeting(mid)
		turns := tokenizeTurns(m.Turns)
		tindex := ds.TurnIndex[mid]
		n := notes[mid]
		preds := [3][]NoteItem{n.ActionItems, n.Decisions, n.Risks}
		golds := [3][]Label{lab.Commitments, lab.Decisions, lab.Risks}
		var counts [3]NoteCounts
		for c := range cats {
			withOwner := c == 0
			used := map[int]bool{}
			t := &tot[c]
			matched := 0
			for _, p := range preds[c] {
				pt := itemTurns(p, turns, tindex)
				best := -1
				for gi, g := range golds[c] {
					if used[gi] || len(pt) == 0 || !near(pt, g.Turns, tolerance) {
						continue
					}
					best = gi
					break
				}
				if best < 0 {
					rep.False = append(rep.False, FalseItem{MeetingID: mid, Category: cats[c], Text: p.Text})
					continue
				}
				used[best] = true
				matched++
				g := golds[c][best]
				if withOwner && g.Owner != "" {
					t.ownerN++
					if strings.ToLower(strings.TrimSpace(p.Owner)) == strings.ToLower(strings.TrimSpace(g.Owner)) {
						t.ownerOK++
					}
				}
			}
			t.predicted += len(preds[c])
			t.labels += len(golds[c])
			t.matched += matched
			t.labelsMatched += len(used)
			for gi, g := range golds[c] {
				if c == 0 && (g.Strength == "" || g.Strength == "core") {
					t.core++
					if used[gi] {
						t.coreMatched++
					}
				}
				if c == 1 && (g.Kind == "" || g.Kind == "new") {
					t.newN++
					if used[gi] {
						t.newMatched++
					}
				}
			}
			counts[c] = NoteCounts{Predicted: len(preds[c]), Matched: matched, Labels: len(golds[c])}
		}
		rep.PerMeeting[mid] = MeetingNoteCounts{ActionItems: counts[0], Decisions: counts[1], Risks: counts[2]}
	}
	out := [3]*NoteCategory{&rep.ActionItems, &rep.Decisions, &rep.Risks}
	for c, t := range tot {
		*out[c] = NoteCategory{
			Predicted:  t.predicted,
			Labels:     t.labels,
			Matched:    t.matched,
			PerMeeting: Ratio{t.predicted, rep.Meetings},
			Precision:  Ratio{t.matched, t.predicted},
			Recall:     Ratio{t.labelsMatched, t.labels},
		}
		if c == 0 {
			out[c].CoreRecall = Ratio{t.coreMatched, t.core}
			out[c].OwnerAccuracy = Ratio{t.ownerOK, t.ownerN}
		}
		if c == 1 {
			out[c].NewRecall = Ratio{t.newMatched, t.newN}
		}
	}
	return rep
}

// ItemTurns returns the transcript turns an item's evidence covers (see
// ScoreNotes), sorted; it lets a caller show where an item landed.
func ItemTurns(ds *DevSet, meetingID string, item NoteItem) []int {
	m, _ := ds.Meeting(meetingID)
	set := itemTurns(item, tokenizeTurns(m.Turns), ds.TurnIndex[meetingID])
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// tokTurn is a turn's index with its notes tokens.
type tokTurn struct {
	i    int
	toks []string
}

func tokenizeTurns(turns []Turn) []tokTurn {
	out := make([]tokTurn, len(turns))
	for k, t := range turns {
		out[k] = tokTurn{t.I, notesTokens(t.Content)}
	}
	return out
}

func itemTurns(item NoteItem, turns []tokTurn, tindex []TurnTime) map[int]bool {
	out := map[int]bool{}
	for _, ev := range item.Evidence {
		for i := range coveredByQuote(ev.Quote, ev.StartMS, turns, tindex) {
			out[i] = true
		}
	}
	return out
}

// coveredByQuote is score_notes.py's covered_turns.
func coveredByQuote(quote string, startMS *int64, turns []tokTurn, tindex []TurnTime) map[int]bool {
	q := notesTokens(quote)
	hit := map[int]bool{}
	if len(q) > 0 {
		for _, t := range turns {
			tt := t.toks
			if len(tt) == 0 {
				continue
			}
			if len(tt) >= 8 {
				h := len(tt) / 2
				if seqIn(tt[:h], q) || seqIn(tt[h:], q) {
					hit[t.i] = true
				}
			} else if len(tt) >= 4 && seqIn(tt, q) {
				hit[t.i] = true
			}
			if len(q) >= 4 && seqIn(q, tt) {
				hit[t.i] = true
			}
		}
	}
	if len(hit) == 0 && startMS != nil {
		for _, r := range tindex {
			if r.StartMS <= *startMS && *startMS < r.EndMS {
				hit[r.I] = true
				break
			}
		}
	}
	return hit
}

// near reports whether some turn of a is within tol turns of some turn of b.
func near(a map[int]bool, b []int, tol int) bool {
	for x := range a {
		for _, y := range b {
			d := x - y
			if d < 0 {
				d = -d
			}
			if d <= tol {
				return true
			}
		}
	}
	return false
}
