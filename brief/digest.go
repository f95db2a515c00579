package brief

import (
	"fmt"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The weekly digest (GET /v1/digest): per account, what happened in the
// range, what is due and what is stalled, each line a BriefStatement
// citing its activities. The store reads the facts (store.DigestFacts);
// ComposeDigest only writes the lines. Rules, also in the route's OpenAPI
// summary:
//   - happened: a count line ("7 activities: 3 calls, 2 emails, …"),
//     citing the newest store.DigestCiteMax activities of the range; then
//     up to store.DigestNotableMax notable ones, meetings first (with the
//     first sentence of their notes' summary), then connected calls (a
//     disposition that counts as a connect), then emails, each newest
//     first, each citing itself.
//   - due: open next steps and open action items due before DueBefore
//     (until + 7 days, or today when later: so everything overdue),
//     soonest first, digestMaxDue of them, each citing the activity that
//     carries it (an action item: its meeting); "…and N more" cites the
//     rest that were loaded.
//   - stalled: the account's stalled deals (largest amount first),
//     digestMaxStalled of them, each citing its last counting activity; a
//     deal with no activity at all cites none; "…and N more" cites the
//     rest's.
//   - An account with nothing in any section is left out.

// Digest caps and clip lengths (words).
const (
	digestMaxDue       = 5
	digestMaxStalled   = 5
	digestTextWords    = 12
	digestSummaryWords = 20
	digestNameWords    = 5
)

// Digest is GET /v1/digest's answer: a page of accounts.
type Digest struct {
	Items      []DigestAccount `json:"items"`
	NextCursor *string         `json:"next_cursor"`
	// Since and Until bound what happened (since inclusive, until
	// exclusive).
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// DueBefore bounds what is due (exclusive): until + 7 days, or today
	// when that is later.
	DueBefore crm.Date `json:"due_before"`
	// StalledDays is the stalled threshold used.
	StalledDays int `json:"stalled_days"`
}

// DigestAccount is one account's part of the digest.
type DigestAccount struct {
	Account  DigestAccountRef `json:"account"`
	Happened []BriefStatement `json:"happened"`
	Due      []BriefStatement `json:"due"`
	Stalled  []BriefStatement `json:"stalled"`
}

// DigestAccountRef names the account of a DigestAccount.
type DigestAccountRef struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	OwnerID *string `json:"owner_id"`
}

// ComposeDigest writes the digest's lines from the facts. It is pure: the
// same facts give the same digest. Today (for overdue) is f.Now's UTC date.
func ComposeDigest(f store.DigestFacts) Digest {
	d := Digest{Items: []DigestAccount{}, NextCursor: f.NextCursor, Since: f.Since, Until: f.Until,
		DueBefore: f.DueBefore, StalledDays: f.StalledDays}
	today := f.Now.UTC().Format(time.DateOnly)
	for _, af := range f.Accounts {
		da := DigestAccount{
			Account:  DigestAccountRef{ID: af.ID, Name: af.Name, OwnerID: af.OwnerID},
			Happened: digestHappened(af),
			Due:      digestDue(af, today),
			Stalled:  digestStalled(af),
		}
		if len(da.Happened)+len(da.Due)+len(da.Stalled) == 0 {
			continue
		}
		d.Items = append(d.Items, da)
	}
	return d
}

func digestHappened(af store.DigestAccountFacts) []BriefStatement {
	out := []BriefStatement{}
	if af.Total == 0 {
		return out
	}
	var parts []string
	for _, c := range af.Counts {
		parts = append(parts, briefCount(c.Count, string(c.Type), digestTypePlural(c.Type)))
	}
	text := briefCount(af.Total, "activity", "activities")
	if len(parts) > 0 {
		text += ": " + strings.Join(parts, ", ")
	}
	out = append(out, BriefStatement{Text: text + ".", ActivityIDs: briefIDs(af.Recent...)})
	for _, n := range af.Notable {
		out = append(out, BriefStatement{Text: digestNotable(n), ActivityIDs: []string{n.Ref.ID}})
	}
	return out
}

// digestTypePlural is an activity type's plural ("sms" stays).
func digestTypePlural(t crm.ActivityType) string {
	switch t {
	case crm.ActivitySMS:
		return "sms"
	case crm.ActivityLinkedIn:
		return "linkedin messages"
	}
	return string(t) + "s"
}

func digestNotable(n store.DigestNotable) string {
	r := n.Ref
	subject := ""
	if r.Subject != nil && strings.TrimSpace(*r.Subject) != "" {
		subject = " “" + briefClip(*r.Subject, briefSubjectWords) + "”"
	}
	switch r.Type {
	case crm.ActivityMeeting:
		text := "Meeting on " + briefDate(r.OccurredAt) + subject
		if n.Summary != nil && strings.TrimSpace(*n.Summary) != "" {
			return briefEnd(text + ": " + briefClip(digestFirstSentence(*n.Summary), digestSummaryWords))
		}
		return text + ": no notes yet."
	case crm.ActivityCall:
		text := "Connected " + briefKind(r) + " on " + briefDate(r.OccurredAt) + subject
		if n.DispositionLabel != nil && *n.DispositionLabel != "" {
			text += " (" + briefClip(*n.DispositionLabel, digestNameWords) + ")"
		}
		return text + "."
	}
	return digestCapital(briefDescribe(r)) + subject + "."
}

// digestFirstSentence is s up to its first sentence end (". ", "! ", "? ",
// or the end of s).
func digestFirstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' {
			return s[:i+1]
		}
	}
	return s
}

func digestCapital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func digestDue(af store.DigestAccountFacts, today string) []BriefStatement {
	out := []BriefStatement{}
	for i, d := range af.Due {
		if i == digestMaxDue {
			break
		}
		what := "Next step"
		if d.Kind == store.DigestActionItem {
			what = "Action item"
		}
		if d.Owner != nil && strings.TrimSpace(*d.Owner) != "" {
			what += " (" + briefClip(*d.Owner, digestNameWords) + ")"
		}
		text := what + ": " + briefSentence(briefClip(d.Text, digestTextWords)) + "; " + digestWhen(d.DueDate, today) + "."
		out = append(out, BriefStatement{Text: text, ActivityIDs: []string{d.Activity.ID}})
	}
	if more := af.DueTotal - len(out); more > 0 {
		var ids []string
		overdue := 0
		for i, d := range af.Due {
			if i >= digestMaxDue {
				ids = append(ids, d.Activity.ID)
				if d.DueDate.String() < today {
					overdue++
				}
			}
		}
		text := fmt.Sprintf("…and %d more due", more)
		// The overdue count is known when every item was loaded.
		if len(af.Due) == af.DueTotal && overdue > 0 {
			text += fmt.Sprintf(" (%d overdue)", overdue)
		}
		out = append(out, BriefStatement{Text: text + ".", ActivityIDs: briefIDs(ids...)})
	}
	return out
}

// digestWhen says when an item is due relative to today (YYYY-MM-DD).
func digestWhen(due crm.Date, today string) string {
	ds := due.String()
	switch {
	case ds == today:
		return "due today"
	case ds < today:
		t, err := time.Parse(time.DateOnly, today)
		if err != nil {
			return "due " + ds + ", overdue"
		}
		n := int(t.Sub(due.Time) / (24 * time.Hour))
		return fmt.Sprintf("due %s, %s overdue", ds, briefCount(n, "day", "days"))
	}
	return "due " + ds
}

func digestStalled(af store.DigestAccountFacts) []BriefStatement {
	out := []BriefStatement{}
	for i, sd := range af.Stalled {
		if i == digestMaxStalled {
			break
		}
		var facts []string
		if sd.Deal.Amount != nil {
			facts = append(facts, briefAmount(*sd.Deal.Amount, sd.Deal.Currency))
		}
		if sd.Deal.Stage != nil && *sd.Deal.Stage != "" {
			facts = append(facts, "stage "+briefClip(*sd.Deal.Stage, briefNameWords))
		}
		if sd.OwnerName != nil {
			facts = append(facts, "owner "+briefClip(*sd.OwnerName, digestNameWords))
		}
		text := briefClip(sd.Deal.Name, digestNameWords)
		if len(facts) > 0 {
			text += " (" + strings.Join(facts, ", ") + ")"
		}
		st := BriefStatement{ActivityIDs: []string{}}
		if sd.LastActivity != nil {
			last := store.BriefRef{ID: sd.LastActivity.ID, Type: sd.LastActivity.Type,
				Direction: sd.LastActivity.Direction, OccurredAt: sd.LastActivity.OccurredAt}
			text += fmt.Sprintf(": no activity for %s; last: %s.", briefCount(sd.DaysInactive, "day", "days"), briefDescribe(last))
			st.ActivityIDs = []string{last.ID}
		} else {
			text += fmt.Sprintf(": no activity logged since it was created %s ago.", briefCount(sd.DaysInactive, "day", "days"))
		}
		st.Text = text
		out = append(out, st)
	}
	if more := len(af.Stalled) - len(out); more > 0 {
		var ids []string
		for _, sd := range af.Stalled[digestMaxStalled:] {
			if sd.LastActivity != nil {
				ids = append(ids, sd.LastActivity.ID)
			}
		}
		out = append(out, BriefStatement{
			Text:        fmt.Sprintf("…and %d more stalled %s.", more, briefPlural(more, "deal", "deals")),
			ActivityIDs: briefIDs(ids...)})
	}
	return out
}
