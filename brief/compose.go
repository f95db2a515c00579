package brief

import (
	"fmt"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// composeAccountBrief builds the answer from the facts as of now. It is
// pure: the same facts and day give the same brief.
func composeAccountBrief(f store.BriefFacts, now time.Time) AccountBrief {
	today := now.UTC().Format(time.DateOnly)
	ab := AccountBrief{
		OpenActionItems: make([]BriefActionItem, 0, len(f.OpenActionItems)),
		Deals:           make([]BriefDeal, 0, len(f.Deals)),
		GeneratedAt:     now,
	}
	if f.Last != nil {
		t := f.Last.OccurredAt
		ab.LastActivityAt = &t
	}
	for _, it := range f.OpenActionItems {
		ab.OpenActionItems = append(ab.OpenActionItems, BriefActionItem{
			ID: it.Item.ID, ActivityID: it.Item.ActivityID, Text: it.Item.Text, Owner: it.Item.Owner, Side: it.Side,
			DueDate: it.Item.DueDate, Overdue: briefOverdue(it.Item.DueDate, today), Tentative: it.Item.Tentative,
			Evidence: it.Item.Evidence, MeetingAt: it.Meeting.OccurredAt, MeetingSubject: it.Meeting.Subject,
			CreatedAt: it.Item.CreatedAt,
		})
	}
	for _, d := range f.Deals {
		bd := BriefDeal{ID: d.Deal.ID, Name: d.Deal.Name, Stage: d.Deal.Stage, Amount: d.Deal.Amount,
			Currency: d.Deal.Currency, CloseDate: d.Deal.CloseDate, Status: d.Deal.Status, OwnerID: d.Deal.OwnerID,
			OwnerName: d.OwnerName, UpdatedAt: d.Deal.UpdatedAt}
		if d.Last != nil {
			id, at := d.Last.ID, d.Last.OccurredAt
			bd.LastActivityID, bd.LastActivityAt = &id, &at
		}
		ab.Deals = append(ab.Deals, bd)
	}

	c := briefComposer{f: f, now: now, today: today}
	ab.Brief = BriefDoc{Headline: c.headline(), Sections: []BriefSection{}}
	for _, s := range []BriefSection{c.account(), c.deals(), c.commitments(), c.risks(), c.touches(), c.meetings()} {
		if len(s.Statements) > 0 {
			ab.Brief.Sections = append(ab.Brief.Sections, s)
		}
	}
	return ab
}

type briefComposer struct {
	f     store.BriefFacts
	now   time.Time
	today string // YYYY-MM-DD, UTC
}

func (c *briefComposer) headline() string {
	f := c.f
	var parts []string
	switch {
	case f.DealsOpen > 0:
		parts = append(parts, briefCount(f.DealsOpen, "open deal", "open deals"))
	case f.DealsTotal > 0:
		parts = append(parts, "no open deals")
	}
	if f.OpenTotal > 0 {
		p := briefCount(f.OpenTotal, "open commitment", "open commitments")
		if f.OpenOverdue > 0 {
			p += fmt.Sprintf(" (%d overdue)", f.OpenOverdue)
		}
		parts = append(parts, p)
	}
	if n := len(c.windowRisks()); n > 0 {
		parts = append(parts, briefCount(n, "risk", "risks")+" in 90 days")
	}
	if f.Last != nil {
		parts = append(parts, fmt.Sprintf("last touch %s (%s)", briefDate(f.Last.OccurredAt), briefKind(*f.Last)))
	} else {
		parts = append(parts, "no activity logged yet")
	}
	return briefClip(f.Account.Name, briefNameWords) + ": " + strings.Join(parts, "; ") + "."
}

func (c *briefComposer) account() BriefSection {
	f := c.f
	s := BriefSection{Title: "The account"}
	var about []string
	if f.Account.Segment != nil && *f.Account.Segment != "" {
		about = append(about, briefClip(*f.Account.Segment, briefNameWords))
	}
	if n := len(f.Account.Domains); n > 0 {
		ds := f.Account.Domains
		if n > 2 {
			ds = append(append([]string{}, ds[:2]...), fmt.Sprintf("%d more", n-2))
		}
		about = append(about, strings.Join(ds, ", "))
	}
	text := briefClip(f.Account.Name, briefNameWords)
	if len(about) > 0 {
		text += " (" + strings.Join(about, "; ") + ")"
	}
	if f.OwnerName != nil {
		text += ", owned by " + briefClip(*f.OwnerName, briefNameWords)
	} else {
		text += ", no owner"
	}
	if f.Last == nil || f.First == nil {
		s.Statements = append(s.Statements, BriefStatement{Text: text + ": no activity logged yet.", ActivityIDs: []string{}})
		return s
	}
	text += fmt.Sprintf(": %s since %s; latest: %s.", briefCount(f.Activities, "activity", "activities"),
		briefDate(f.First.OccurredAt), briefDescribe(*f.Last))
	s.Statements = append(s.Statements, BriefStatement{Text: text, ActivityIDs: briefIDs(f.Last.ID, f.First.ID)})
	return s
}

func (c *briefComposer) deals() BriefSection {
	f := c.f
	s := BriefSection{Title: "Deals"}
	for i, d := range f.Deals {
		if i == briefMaxDeals {
			break
		}
		facts := []string{string(d.Deal.Status)}
		if d.Deal.Stage != nil && *d.Deal.Stage != "" {
			facts = append(facts, "stage "+briefClip(*d.Deal.Stage, briefNameWords))
		}
		if d.Deal.Amount != nil {
			facts = append(facts, briefAmount(*d.Deal.Amount, d.Deal.Currency))
		}
		if d.Deal.CloseDate != nil {
			verb := "closing "
			if d.Deal.Status != crm.DealOpen {
				verb = "close date "
			}
			facts = append(facts, verb+d.Deal.CloseDate.String())
		}
		if d.OwnerName != nil {
			facts = append(facts, "owner "+briefClip(*d.OwnerName, briefNameWords))
		}
		text := briefClip(d.Deal.Name, briefNameWords) + ": " + strings.Join(facts, ", ")
		st := BriefStatement{ActivityIDs: []string{}}
		if d.Last != nil {
			text += "; last activity: " + briefDescribe(*d.Last) + "."
			st.ActivityIDs = []string{d.Last.ID}
		} else {
			text += "; no activity logged on it."
		}
		st.Text = text
		s.Statements = append(s.Statements, st)
	}
	if more := f.DealsTotal - len(s.Statements); more > 0 {
		openShown := 0
		var ids []string
		for i, d := range f.Deals {
			if i < briefMaxDeals {
				if d.Deal.Status == crm.DealOpen {
					openShown++
				}
			} else if d.Last != nil {
				ids = append(ids, d.Last.ID)
			}
		}
		text := fmt.Sprintf("…and %d more", more)
		if open := f.DealsOpen - openShown; open > 0 {
			text += fmt.Sprintf(" (%d open)", open)
		}
		s.More = more
		s.Statements = append(s.Statements, BriefStatement{Text: text + ".", ActivityIDs: briefIDs(ids...)})
	}
	return s
}

func (c *briefComposer) commitments() BriefSection {
	f := c.f
	s := BriefSection{Title: "Open commitments"}
	caps := map[store.BriefSide]int{store.BriefOurs: briefMaxPerSide, store.BriefTheirs: briefMaxPerSide,
		store.BriefUnknown: briefMaxUnknownSide}
	var omitted []store.BriefActionItem
	for _, it := range f.OpenActionItems {
		if caps[it.Side] == 0 || len(s.Statements) == briefMaxCommitments {
			omitted = append(omitted, it)
			continue
		}
		caps[it.Side]--
		s.Statements = append(s.Statements, BriefStatement{Text: c.commitment(it), ActivityIDs: []string{it.Meeting.ID}})
	}
	if more := f.OpenTotal - len(s.Statements); more > 0 {
		text := fmt.Sprintf("…and %d more", more)
		// The split is known when every open item was loaded.
		if len(f.OpenActionItems) == f.OpenTotal {
			n := map[store.BriefSide]int{}
			for _, it := range omitted {
				n[it.Side]++
			}
			var split []string
			for _, side := range store.BriefSides {
				if n[side] > 0 {
					split = append(split, fmt.Sprintf("%d %s", n[side], briefSideWord(side)))
				}
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

func (c *briefComposer) commitment(it store.BriefActionItem) string {
	var who string
	owner := ""
	if it.Item.Owner != nil {
		owner = briefClip(*it.Item.Owner, briefNameWords)
	}
	switch {
	case it.Side == store.BriefOurs:
		who = "Ours — " + owner
	case it.Side == store.BriefTheirs:
		who = "Theirs — " + owner
	case owner == "":
		who = "No owner named"
	default:
		who = "Owner unclear — " + owner
	}
	text := who + ": " + briefSentence(briefClip(it.Item.Text, briefItemWords))
	if it.Item.Tentative {
		text += " (tentative)"
	}
	if it.Item.DueDate != nil {
		text += "; due " + it.Item.DueDate.String()
		if briefOverdue(it.Item.DueDate, c.today) {
			text += ", overdue"
		}
	} else {
		text += "; no due date"
	}
	return text + "."
}

// briefRisk is a risk with the meeting that raised it.
type briefRisk struct {
	text    string
	meeting store.BriefRef
}

// windowMeetings are the loaded meetings held within briefRiskWindow.
func (c *briefComposer) windowMeetings() []store.BriefMeeting {
	var out []store.BriefMeeting
	since := c.now.Add(-briefRiskWindow)
	for _, m := range c.f.Meetings {
		if !m.Meeting.OccurredAt.Before(since) {
			out = append(out, m)
		}
	}
	return out
}

// windowRisks are the distinct risks of windowMeetings, newest meeting
// first.
func (c *briefComposer) windowRisks() []briefRisk {
	var out []briefRisk
	seen := map[string]bool{}
	for _, m := range c.windowMeetings() {
		for _, r := range m.Risks {
			key := strings.ToLower(strings.Join(strings.Fields(r.Text), " "))
			if key == "" || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, briefRisk{text: r.Text, meeting: m.Meeting})
		}
	}
	return out
}

func (c *briefComposer) risks() BriefSection { return c.risksSection("Risks raised", briefMaxRisks) }

// risksSection lists the risks of the window's meetings, at most limit of
// them and "…and N more", or says that its meetings raised none; the brief
// and the handoff note both read risks this way.
func (c *briefComposer) risksSection(title string, limit int) BriefSection {
	s := BriefSection{Title: title}
	meetings := c.windowMeetings()
	if len(meetings) == 0 {
		return s
	}
	risks := c.windowRisks()
	if len(risks) == 0 {
		var ids []string
		for _, m := range meetings {
			ids = append(ids, m.Meeting.ID)
		}
		s.Statements = append(s.Statements, BriefStatement{
			Text: fmt.Sprintf("No risks raised in the %s since %s.", briefCount(len(meetings), "meeting", "meetings"),
				briefDate(meetings[len(meetings)-1].Meeting.OccurredAt)),
			ActivityIDs: briefIDs(ids...)})
		return s
	}
	for i, r := range risks {
		if i == limit {
			break
		}
		s.Statements = append(s.Statements, BriefStatement{
			Text:        briefSentence(briefClip(r.text, briefRiskWords)) + " — " + briefDescribe(r.meeting) + ".",
			ActivityIDs: []string{r.meeting.ID}})
	}
	if more := len(risks) - len(s.Statements); more > 0 {
		var ids []string
		for _, r := range risks[limit:] {
			ids = append(ids, r.meeting.ID)
		}
		s.More = more
		s.Statements = append(s.Statements, BriefStatement{
			Text:        fmt.Sprintf("…and %d more.", more),
			ActivityIDs: briefIDs(ids...)})
	}
	return s
}

func (c *briefComposer) touches() BriefSection {
	f := c.f
	s := BriefSection{Title: "Last touch per contact"}
	for i, t := range f.Touches {
		if i == briefMaxTouches {
			break
		}
		name := briefClip(t.Name, briefNameWords)
		if t.Title != nil && *t.Title != "" {
			name += " (" + briefClip(*t.Title, briefNameWords) + ")"
		}
		s.Statements = append(s.Statements, BriefStatement{Text: name + ": " + briefDescribe(t.Last) + ".",
			ActivityIDs: []string{t.Last.ID}})
	}
	if more := f.TouchedTotal - len(s.Statements); more > 0 {
		var ids []string
		for _, t := range f.Touches[min(briefMaxTouches, len(f.Touches)):] {
			ids = append(ids, t.Last.ID)
		}
		s.More = more
		s.Statements = append(s.Statements, BriefStatement{
			Text:        fmt.Sprintf("…and %d more %s.", more, briefPlural(more, "contact", "contacts")),
			ActivityIDs: briefIDs(ids...)})
	}
	return s
}

func (c *briefComposer) meetings() BriefSection {
	s := BriefSection{Title: "Recent meetings"}
	for i, m := range c.f.Meetings {
		if i == briefMaxMeetings {
			break
		}
		head := "Meeting on " + briefDate(m.Meeting.OccurredAt)
		if m.Meeting.Subject != nil && strings.TrimSpace(*m.Meeting.Subject) != "" {
			head = briefDate(m.Meeting.OccurredAt) + " “" + briefClip(*m.Meeting.Subject, briefSubjectWords) + "”"
		}
		summary := strings.TrimSpace(m.Summary)
		if summary == "" {
			summary = "no summary"
		}
		s.Statements = append(s.Statements, BriefStatement{
			Text:        briefEnd(head + ": " + briefClip(summary, briefSummaryWords)),
			ActivityIDs: []string{m.Meeting.ID}})
	}
	return s
}
