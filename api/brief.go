package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// The account brief: the account read in under a minute. It is composed from
// SQL facts and the stored (already validated) meeting notes; no model is
// called, so every number, date, owner and stage is the database's. Every
// statement cites the activities it rests on.
//
// Rules, also in the route's OpenAPI summary:
//   - Citations: a statement cites the activities it comes from. Only two
//     kinds may cite none: a deal with no activity logged on it, and an
//     account with no activity at all.
//   - Deals: open ones first (soonest close date first), then closed ones
//     (most recently changed first); the brief shows briefMaxDeals.
//   - Open commitments: sides as store.AccountBriefFacts decides them; the
//     brief shows briefMaxCommitments, soonest due first, at most
//     briefMaxPerSide ours and theirs and briefMaxUnknownSide with no clear
//     owner.
//   - Risks: meeting_notes.risks of the briefRiskMeetings newest processed
//     meetings that fall within briefRiskWindow, newest first, duplicates
//     dropped; the brief shows briefMaxRisks.
//   - Last touch per contact: the latest activity linked to each contact,
//     briefMaxTouches contacts, most recently touched first.
//   - Recent meetings: the briefMaxMeetings newest processed meetings with
//     their summary.
//   - A capped list ends with "…and N more" (the section's more), citing the
//     activities of what it leaves out. Free text is clipped to a few words.
//   - The brief is kept in account_briefs with a fingerprint of its facts
//     (store.AccountBriefState) and the UTC date; a read rebuilds it only when
//     the fingerprint changed.
const (
	briefMaxDeals       = 3
	briefMaxCommitments = 4
	briefMaxPerSide     = 2
	briefMaxUnknownSide = 1
	briefMaxRisks       = 2
	briefRiskMeetings   = 5
	briefRiskWindow     = 90 * 24 * time.Hour
	briefMaxTouches     = 3
	briefMaxMeetings    = 1
	// briefListLimit bounds the structured deals and open_action_items.
	briefListLimit = 50

	// Words kept of free text: names (accounts, deals, people, titles,
	// stages, segments), meeting subjects, action items, risks, summaries.
	// With the caps above the longest brief is under 250 words (the
	// composition test builds it): about a minute's reading.
	briefNameWords    = 3
	briefSubjectWords = 5
	briefItemWords    = 7
	briefRiskWords    = 8
	briefSummaryWords = 12
)

// accountBrief is GET /v1/accounts/{id}/brief's answer.
type accountBrief struct {
	Brief           briefDoc          `json:"brief"`
	OpenActionItems []briefActionItem `json:"open_action_items"`
	Deals           []briefDeal       `json:"deals"`
	LastActivityAt  *time.Time        `json:"last_activity_at"`
	GeneratedAt     time.Time         `json:"generated_at"`
}

// accountBriefJSON is accountBrief as written: the parts as they are kept
// in account_briefs, so a cached answer and a fresh one are the same bytes.
type accountBriefJSON struct {
	Brief           json.RawMessage `json:"brief"`
	OpenActionItems json.RawMessage `json:"open_action_items"`
	Deals           json.RawMessage `json:"deals"`
	LastActivityAt  *time.Time      `json:"last_activity_at"`
	GeneratedAt     time.Time       `json:"generated_at"`
}

// briefDoc is the readable brief: a headline and sections of statements.
type briefDoc struct {
	Headline string         `json:"headline"`
	Sections []briefSection `json:"sections"`
}

// briefSection is one part of the brief. More counts what the cap left
// out; the last statement then says "…and N more".
type briefSection struct {
	Title      string           `json:"title"`
	Statements []briefStatement `json:"statements"`
	More       int              `json:"more"`
}

// briefStatement is one sentence and the activities it rests on.
type briefStatement struct {
	Text        string   `json:"text"`
	ActivityIDs []string `json:"activity_ids"`
}

// briefActionItem is an open action item of the account with its side and
// the meeting it was agreed in.
type briefActionItem struct {
	ID             string          `json:"id"`
	ActivityID     string          `json:"activity_id"`
	Text           string          `json:"text"`
	Owner          *string         `json:"owner"`
	Side           store.BriefSide `json:"side"`
	DueDate        *crm.Date       `json:"due_date"`
	Overdue        bool            `json:"overdue"`
	Tentative      bool            `json:"tentative"`
	Evidence       []crm.Evidence  `json:"evidence"`
	MeetingAt      time.Time       `json:"meeting_at"`
	MeetingSubject *string         `json:"meeting_subject"`
	CreatedAt      time.Time       `json:"created_at"`
}

// briefDeal is a deal of the account with its owner's name and its latest
// activity (null when none is logged on it).
type briefDeal struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Stage          *string        `json:"stage"`
	Amount         *crm.Decimal   `json:"amount"`
	Currency       *string        `json:"currency"`
	CloseDate      *crm.Date      `json:"close_date"`
	Status         crm.DealStatus `json:"status"`
	OwnerID        *string        `json:"owner_id"`
	OwnerName      *string        `json:"owner_name"`
	LastActivityID *string        `json:"last_activity_id"`
	LastActivityAt *time.Time     `json:"last_activity_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

func (h *handler) accountBrief(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	// account_briefs keeps microseconds: a cached answer shows the same
	// generated_at as the fresh one did.
	now := h.now().UTC().Truncate(time.Microsecond)
	fp, kept, err := h.store.AccountBriefState(ctx, p.OrgID, id, now)
	if err != nil {
		return err
	}
	if kept != nil && kept.Fingerprint == fp {
		writeJSON(w, http.StatusOK, accountBriefJSON{Brief: kept.Brief, OpenActionItems: kept.OpenActionItems,
			Deals: kept.Deals, LastActivityAt: kept.LastActivityAt, GeneratedAt: kept.GeneratedAt})
		return nil
	}
	f, err := h.store.AccountBriefFacts(ctx, p.OrgID, id, store.BriefOptions{Today: now,
		Deals: briefListLimit, ActionItems: briefListLimit, Meetings: briefRiskMeetings, Touches: briefListLimit})
	if err != nil {
		return err
	}
	ab := composeAccountBrief(f, now)
	kb := store.AccountBrief{LastActivityAt: ab.LastActivityAt, Fingerprint: fp, GeneratedAt: now}
	for _, part := range []struct {
		dst *json.RawMessage
		v   any
	}{{&kb.Brief, ab.Brief}, {&kb.OpenActionItems, ab.OpenActionItems}, {&kb.Deals, ab.Deals}} {
		if *part.dst, err = json.Marshal(part.v); err != nil {
			return fmt.Errorf("api: marshal account brief: %w", err)
		}
	}
	// A brief that could not be kept is still the right answer; the next
	// read builds it again.
	if err := h.store.AccountBriefSave(ctx, p.OrgID, id, kb); err != nil {
		h.log.WarnContext(ctx, "keep account brief", "account_id", id, "error", err)
	}
	writeJSON(w, http.StatusOK, accountBriefJSON{Brief: kb.Brief, OpenActionItems: kb.OpenActionItems,
		Deals: kb.Deals, LastActivityAt: kb.LastActivityAt, GeneratedAt: now})
	return nil
}

// composeAccountBrief builds the answer from the facts as of now. It is
// pure: the same facts and day give the same brief.
func composeAccountBrief(f store.BriefFacts, now time.Time) accountBrief {
	today := now.UTC().Format(time.DateOnly)
	ab := accountBrief{
		OpenActionItems: make([]briefActionItem, 0, len(f.OpenActionItems)),
		Deals:           make([]briefDeal, 0, len(f.Deals)),
		GeneratedAt:     now,
	}
	if f.Last != nil {
		t := f.Last.OccurredAt
		ab.LastActivityAt = &t
	}
	for _, it := range f.OpenActionItems {
		ab.OpenActionItems = append(ab.OpenActionItems, briefActionItem{
			ID: it.Item.ID, ActivityID: it.Item.ActivityID, Text: it.Item.Text, Owner: it.Item.Owner, Side: it.Side,
			DueDate: it.Item.DueDate, Overdue: briefOverdue(it.Item.DueDate, today), Tentative: it.Item.Tentative,
			Evidence: it.Item.Evidence, MeetingAt: it.Meeting.OccurredAt, MeetingSubject: it.Meeting.Subject,
			CreatedAt: it.Item.CreatedAt,
		})
	}
	for _, d := range f.Deals {
		bd := briefDeal{ID: d.Deal.ID, Name: d.Deal.Name, Stage: d.Deal.Stage, Amount: d.Deal.Amount,
			Currency: d.Deal.Currency, CloseDate: d.Deal.CloseDate, Status: d.Deal.Status, OwnerID: d.Deal.OwnerID,
			OwnerName: d.OwnerName, UpdatedAt: d.Deal.UpdatedAt}
		if d.Last != nil {
			id, at := d.Last.ID, d.Last.OccurredAt
			bd.LastActivityID, bd.LastActivityAt = &id, &at
		}
		ab.Deals = append(ab.Deals, bd)
	}

	c := briefComposer{f: f, now: now, today: today}
	ab.Brief = briefDoc{Headline: c.headline(), Sections: []briefSection{}}
	for _, s := range []briefSection{c.account(), c.deals(), c.commitments(), c.risks(), c.touches(), c.meetings()} {
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

func (c *briefComposer) account() briefSection {
	f := c.f
	s := briefSection{Title: "The account"}
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
		s.Statements = append(s.Statements, briefStatement{Text: text + ": no activity logged yet.", ActivityIDs: []string{}})
		return s
	}
	text += fmt.Sprintf(": %s since %s; latest: %s.", briefCount(f.Activities, "activity", "activities"),
		briefDate(f.First.OccurredAt), briefDescribe(*f.Last))
	s.Statements = append(s.Statements, briefStatement{Text: text, ActivityIDs: briefIDs(f.Last.ID, f.First.ID)})
	return s
}

func (c *briefComposer) deals() briefSection {
	f := c.f
	s := briefSection{Title: "Deals"}
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
		st := briefStatement{ActivityIDs: []string{}}
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
		s.Statements = append(s.Statements, briefStatement{Text: text + ".", ActivityIDs: briefIDs(ids...)})
	}
	return s
}

func (c *briefComposer) commitments() briefSection {
	f := c.f
	s := briefSection{Title: "Open commitments"}
	caps := map[store.BriefSide]int{store.BriefOurs: briefMaxPerSide, store.BriefTheirs: briefMaxPerSide,
		store.BriefUnknown: briefMaxUnknownSide}
	var omitted []store.BriefActionItem
	for _, it := range f.OpenActionItems {
		if caps[it.Side] == 0 || len(s.Statements) == briefMaxCommitments {
			omitted = append(omitted, it)
			continue
		}
		caps[it.Side]--
		s.Statements = append(s.Statements, briefStatement{Text: c.commitment(it), ActivityIDs: []string{it.Meeting.ID}})
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
		s.Statements = append(s.Statements, briefStatement{Text: text + ".", ActivityIDs: briefIDs(ids...)})
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

func (c *briefComposer) risks() briefSection {
	s := briefSection{Title: "Risks raised"}
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
		s.Statements = append(s.Statements, briefStatement{
			Text: fmt.Sprintf("No risks raised in the %s since %s.", briefCount(len(meetings), "meeting", "meetings"),
				briefDate(meetings[len(meetings)-1].Meeting.OccurredAt)),
			ActivityIDs: briefIDs(ids...)})
		return s
	}
	for i, r := range risks {
		if i == briefMaxRisks {
			break
		}
		s.Statements = append(s.Statements, briefStatement{
			Text:        briefSentence(briefClip(r.text, briefRiskWords)) + " — " + briefDescribe(r.meeting) + ".",
			ActivityIDs: []string{r.meeting.ID}})
	}
	if more := len(risks) - len(s.Statements); more > 0 {
		var ids []string
		for _, r := range risks[briefMaxRisks:] {
			ids = append(ids, r.meeting.ID)
		}
		s.More = more
		s.Statements = append(s.Statements, briefStatement{
			Text:        fmt.Sprintf("…and %d more.", more),
			ActivityIDs: briefIDs(ids...)})
	}
	return s
}

func (c *briefComposer) touches() briefSection {
	f := c.f
	s := briefSection{Title: "Last touch per contact"}
	for i, t := range f.Touches {
		if i == briefMaxTouches {
			break
		}
		name := briefClip(t.Name, briefNameWords)
		if t.Title != nil && *t.Title != "" {
			name += " (" + briefClip(*t.Title, briefNameWords) + ")"
		}
		s.Statements = append(s.Statements, briefStatement{Text: name + ": " + briefDescribe(t.Last) + ".",
			ActivityIDs: []string{t.Last.ID}})
	}
	if more := f.TouchedTotal - len(s.Statements); more > 0 {
		var ids []string
		for _, t := range f.Touches[min(briefMaxTouches, len(f.Touches)):] {
			ids = append(ids, t.Last.ID)
		}
		s.More = more
		s.Statements = append(s.Statements, briefStatement{
			Text:        fmt.Sprintf("…and %d more %s.", more, briefPlural(more, "contact", "contacts")),
			ActivityIDs: briefIDs(ids...)})
	}
	return s
}

func (c *briefComposer) meetings() briefSection {
	s := briefSection{Title: "Recent meetings"}
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
		s.Statements = append(s.Statements, briefStatement{
			Text:        briefEnd(head + ": " + briefClip(summary, briefSummaryWords)),
			ActivityIDs: []string{m.Meeting.ID}})
	}
	return s
}

// briefDescribe names an activity for a sentence: "inbound email on
// 2026-03-02" (the citation leads to the rest).
func briefDescribe(r store.BriefRef) string {
	return briefKind(r) + " on " + briefDate(r.OccurredAt)
}

// briefKind is an activity's type, with its direction when it has one that
// is not internal.
func briefKind(r store.BriefRef) string {
	if r.Direction != nil && *r.Direction != crm.DirectionInternal {
		return string(*r.Direction) + " " + string(r.Type)
	}
	return string(r.Type)
}

func briefDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func briefOverdue(due *crm.Date, today string) bool {
	return due != nil && due.String() < today
}

func briefSideWord(s store.BriefSide) string {
	switch s {
	case store.BriefOurs:
		return "ours"
	case store.BriefTheirs:
		return "theirs"
	}
	return "unclear"
}

func briefPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func briefCount(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, briefPlural(n, one, many))
}

// briefClip keeps the first n words of s (whitespace folded), marking a cut
// with "…".
func briefClip(s string, n int) string {
	w := strings.Fields(s)
	if len(w) <= n {
		return strings.Join(w, " ")
	}
	return strings.TrimRightFunc(strings.Join(w[:n], " "), unicode.IsPunct) + "…"
}

// briefSentence drops the final full stop of s so a statement can go on.
func briefSentence(s string) string {
	return strings.TrimRight(s, ". ")
}

// briefEnd ends a statement with a full stop unless it already ends with
// one, another end mark or a clipping "…".
func briefEnd(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "…") || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

// briefAmount formats 120000.5 in USD as "USD 120,000.5".
func briefAmount(d crm.Decimal, currency *string) string {
	s := string(d)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := sign + b.String()
	if hasFrac {
		out += "." + frac
	}
	if currency != nil && *currency != "" {
		out = *currency + " " + out
	}
	return out
}

// briefIDs lists ids once each, in first-seen order, never nil.
func briefIDs(ids ...string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
