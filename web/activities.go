package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"logbook/internal/crm"
)

// The activity page (a meeting's notes, each claim citing its transcript
// lines), the transcript view with the cited lines highlighted, and the
// confirmation of a flagged notes item (POST /v1/activities/{id}/notes/confirm's
// rule).

// activityView is the activity page's data.
type activityView struct {
	Activity crm.Activity
	Account  crm.Account
	Contacts []string
	DealName string
	// HasNotes is set when the meeting has processed notes (Notes).
	HasNotes   bool
	Notes      crm.Notes
	Transcript *crm.Transcript
	// Lists are the notes' point lists in reading order, with their kind
	// (for the confirm form) and heading.
	Lists []pointList
	// Confirmed is set after a confirmation (the redirect says so).
	Confirmed bool

	// Consents are a meeting's participants with their recording consent
	// (consent.go); Admin shows the held transcript's Release and Discard;
	// Decided is "released" or "discarded" after an admin's decision (the
	// redirect says so).
	Consents []participantConsent
	Admin    bool
	Decided  string
}

// pointList is one list of claims of the notes.
type pointList struct {
	Kind, Title string
	ID          string
	Points      []crm.Point
}

// Cite is the transcript link of one piece of evidence of a claim whose
// evidence is ev: every segment the claim cites is highlighted, and the
// anchor is this one's.
func citeHref(activityID string, ev []crm.Evidence, seg int) string {
	segs := make([]string, 0, len(ev))
	seen := map[int]bool{}
	for _, e := range ev {
		if !seen[e.Segment] {
			seen[e.Segment] = true
			segs = append(segs, strconv.Itoa(e.Segment))
		}
	}
	return fmt.Sprintf("/activities/%s/transcript?cite=%s#seg-%d", activityID, strings.Join(segs, ","), seg)
}

func (h *handler) activityPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := webPathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := h.Store.ActivityGet(ctx, v.OrgID, id)
	if err != nil {
		return err
	}
	view := activityView{Activity: a, Confirmed: r.URL.Query().Get("confirmed") != ""}
	if view.Account, err = h.Store.AccountGet(ctx, v.OrgID, a.AccountID); err != nil {
		return err
	}
	var dids []string
	if a.DealID != nil {
		dids = []string{*a.DealID}
	}
	contacts, deals, err := h.Store.WebNames(ctx, v.OrgID, a.ContactIDs, dids)
	if err != nil {
		return err
	}
	for _, c := range a.ContactIDs {
		if n, ok := contacts[c]; ok {
			view.Contacts = append(view.Contacts, n)
		}
	}
	if a.DealID != nil {
		view.DealName = deals[*a.DealID]
	}
	if a.Type == crm.ActivityMeeting {
		t, n, err := h.Store.MeetingNotes(ctx, v.OrgID, id)
		switch {
		case err == nil:
			view.HasNotes, view.Notes, view.Transcript = true, n, &t
			summary := n.SummarySentences
			if len(summary) == 0 && n.Summary != "" {
				summary = []crm.Point{{Text: n.Summary, Evidence: n.SummaryEvidence}}
			}
			view.Lists = []pointList{
				{Kind: "summary_sentences", Title: "Summary", ID: "summary", Points: summary},
				{Kind: "key_points", Title: "Key points", ID: "key-points", Points: n.KeyPoints},
				{Kind: "decisions", Title: "Decisions", ID: "decisions", Points: n.Decisions},
				{Kind: "risks", Title: "Risks", ID: "risks", Points: n.Risks},
			}
		case errors.Is(err, crm.ErrNotFound):
			// No notes yet: the transcript alone, if there is one.
			if t, err := h.Store.WebTranscriptByActivity(ctx, v.OrgID, id); err == nil {
				t.Segments = nil
				view.Transcript = &t
			} else if !errors.Is(err, crm.ErrNotFound) {
				return err
			}
		default:
			return err
		}
	}
	if err := h.consentView(ctx, v, &view); err != nil {
		return err
	}
	if d := r.URL.Query().Get("consent"); d == "released" || d == "discarded" {
		view.Decided = d
	}
	return h.render(w, r, v, http.StatusOK, "activity.html", "accounts", view)
}

// transcriptView is the transcript page's data.
type transcriptView struct {
	Activity   crm.Activity
	Account    crm.Account
	Transcript crm.Transcript
	Rows       []segmentRow
	// Cited counts the highlighted rows; First is the first one's index
	// (-1: none).
	Cited int
	First int
}

// segmentRow is one segment with whether the claim followed cites it.
type segmentRow struct {
	crm.Segment
	Cited   bool
	Current bool
}

func (h *handler) transcriptPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := webPathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := h.Store.ActivityGet(ctx, v.OrgID, id)
	if err != nil {
		return err
	}
	acc, err := h.Store.AccountGet(ctx, v.OrgID, a.AccountID)
	if err != nil {
		return err
	}
	t, err := h.Store.WebTranscriptByActivity(ctx, v.OrgID, id)
	if err != nil {
		return err
	}
	cited := map[int]bool{}
	for _, s := range strings.Split(r.URL.Query().Get("cite"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			cited[n] = true
		}
	}
	view := transcriptView{Activity: a, Account: acc, Transcript: t, First: -1}
	for _, s := range t.Segments {
		row := segmentRow{Segment: s, Cited: cited[s.Index]}
		if row.Cited {
			view.Cited++
			if view.First < 0 {
				view.First, row.Current = s.Index, true
			}
		}
		view.Rows = append(view.Rows, row)
	}
	return h.render(w, r, v, http.StatusOK, "transcript.html", "accounts", view)
}

// notesConfirm confirms one flagged item of a meeting's notes (form fields
// kind, index, or id for an action item, and text, the item's text as
// shown: a guard against notes rewritten in between), by the signed-in
// user, then shows the meeting again. The webhook delivery the release
// records is sent by the worker's reconciler (the web UI has no queue).
func (h *handler) notesConfirm(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := webPathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := h.Store.ActivityGet(ctx, v.OrgID, id); err != nil {
		return err
	}
	ref := crm.NoteRef{Kind: r.PostFormValue("kind"), ID: r.PostFormValue("id"), Text: r.PostFormValue("text")}
	if s := r.PostFormValue("index"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return crm.Invalid("index", "must be a number")
		}
		ref.Index = n
	}
	_, _, err = h.Store.NotesConfirm(ctx, v.OrgID, id, func(n *crm.Notes) error {
		return n.Confirm([]crm.NoteRef{ref}, v.UserID, h.now())
	})
	if errors.Is(err, crm.ErrNotFound) {
		return errStatus(http.StatusConflict, "This meeting has no processed notes yet.")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/activities/"+id+"?confirmed=1#notes", http.StatusSeeOther)
	return nil
}
