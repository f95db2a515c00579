package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// Consent as data (issue #14) in the web UI: the meeting page shows each
// participant's recording consent and, when the transcript is held for
// lack of it, a banner with the reason and (for admins) Release and Discard
// (a confirmation page first: a discard cannot be undone); /admin/held
// lists the org's held transcripts. The rules are the API's: store's
// TranscriptRelease and TranscriptDiscard, decided by the signed-in admin.

// participantConsent is one line of the meeting page's consent list.
type participantConsent struct {
	Name, Email string
	// Consent is given, declined or unknown ("unknown" when none is
	// recorded).
	Consent crm.Consent
	// Recorded is set when a consent is on record (not just assumed
	// unknown).
	Recorded bool
	Source   string
}

// meetingConsents merges the meeting's participants with the consents
// recorded for it: every participant once, in the meeting's order, then
// consents recorded for people the participants list does not name.
func meetingConsents(a crm.Activity, cs []crm.MeetingConsent) []participantConsent {
	byKey := map[string]crm.MeetingConsent{}
	var order []string
	for _, c := range cs {
		email := ""
		if c.Email != nil {
			email = *c.Email
		}
		k := crm.ConsentKey(c.Name, email)
		byKey[k] = c
		order = append(order, k)
	}
	var out []participantConsent
	used := map[string]bool{}
	for _, p := range a.Participants {
		k := crm.ConsentKey(p.Name, p.Email)
		if k == "" || used[k] {
			continue
		}
		used[k] = true
		pc := participantConsent{Name: strings.TrimSpace(p.Name), Email: p.Email, Consent: crm.ConsentUnknown}
		if c, ok := byKey[k]; ok {
			pc.Consent, pc.Recorded, pc.Source = c.Consent, true, c.Source
		}
		out = append(out, pc)
	}
	for _, k := range order {
		if used[k] {
			continue
		}
		used[k] = true
		c := byKey[k]
		pc := participantConsent{Name: c.Name, Consent: c.Consent, Recorded: true, Source: c.Source}
		if c.Email != nil {
			pc.Email = *c.Email
		}
		out = append(out, pc)
	}
	return out
}

// consentView fills the activity page's consent fields for a meeting.
func (h *handler) consentView(ctx context.Context, v *viewer, view *activityView) error {
	if view.Activity.Type != crm.ActivityMeeting {
		return nil
	}
	cs, err := h.Store.MeetingConsents(ctx, v.OrgID, view.Activity.ID)
	if err != nil {
		return err
	}
	view.Consents = meetingConsents(view.Activity, cs)
	view.Admin = v.Role == crm.RoleAdmin
	return nil
}

// heldTranscript returns the meeting's transcript for a decision, a 409
// page when it is not held.
func (h *handler) heldTranscript(r *http.Request, v *viewer) (crm.Transcript, error) {
	id, err := webPathID(r)
	if err != nil {
		return crm.Transcript{}, err
	}
	if _, err := h.Store.ActivityGet(r.Context(), v.OrgID, id); err != nil {
		return crm.Transcript{}, err
	}
	t, err := h.Store.WebTranscriptByActivity(r.Context(), v.OrgID, id)
	if errors.Is(err, crm.ErrNotFound) {
		return t, errStatus(http.StatusConflict, "This meeting has no transcript to decide on.")
	}
	if err != nil {
		return t, err
	}
	t.Segments = nil
	if t.Status != crm.TranscriptHeld {
		return t, errNotHeld
	}
	return t, nil
}

// errNotHeld is the page for a decision on a transcript no longer held.
var errNotHeld = errStatus(http.StatusConflict,
	"This recording is not held for consent any more: an admin decided already, or its consents now allow it.")

// decided maps the store's 409 to the page's.
func decided(err error) error {
	var ce *crm.ConflictError
	if errors.As(err, &ce) {
		return errNotHeld
	}
	return err
}

// consentRelease processes a held transcript anyway (an admin's decision,
// recorded with their user ID) and enqueues it.
func (h *handler) consentRelease(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.heldTranscript(r, v)
	if err != nil {
		return err
	}
	if _, err := h.Store.TranscriptRelease(r.Context(), v.OrgID, t.ID, v.UserID); err != nil {
		return decided(err)
	}
	h.enqueueTranscript(r.Context(), v.OrgID, t.ID)
	http.Redirect(w, r, "/activities/"+t.ActivityID+"?consent=released#consent", http.StatusSeeOther)
	return nil
}

// discardView is the discard confirmation page's data.
type discardView struct {
	Activity   crm.Activity
	Account    crm.Account
	Transcript crm.Transcript
}

// consentDiscardPage asks the admin to confirm a discard.
func (h *handler) consentDiscardPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.heldTranscript(r, v)
	if err != nil {
		return err
	}
	a, err := h.Store.ActivityGet(r.Context(), v.OrgID, t.ActivityID)
	if err != nil {
		return err
	}
	acc, err := h.Store.AccountGet(r.Context(), v.OrgID, a.AccountID)
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "consent_discard.html", "admin", discardView{Activity: a, Account: acc, Transcript: t})
}

// consentDiscard deletes a held transcript's content (the meeting stays),
// once the confirmation page was posted.
func (h *handler) consentDiscard(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.heldTranscript(r, v)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "discard" {
		http.Redirect(w, r, "/activities/"+t.ActivityID+"/consent/discard", http.StatusSeeOther)
		return nil
	}
	if _, err := h.Store.TranscriptDiscard(r.Context(), v.OrgID, t.ID, v.UserID); err != nil {
		return decided(err)
	}
	http.Redirect(w, r, "/activities/"+t.ActivityID+"?consent=discarded#consent", http.StatusSeeOther)
	return nil
}

// heldListView is /admin/held's data.
type heldListView struct {
	Items []store.HeldTranscript
	More  bool
}

// adminHeld lists the org's transcripts held for consent.
func (h *handler) adminHeld(w http.ResponseWriter, r *http.Request, v *viewer) error {
	page, err := h.Store.TranscriptsHeld(r.Context(), v.OrgID, store.MaxLimit, "")
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "admin_held.html", "admin", heldListView{Items: page.Items, More: page.NextCursor != nil})
}

// enqueueTranscript enqueues a released transcript, logging (not
// returning) a failure: it is queued in the database, and the worker's
// reconciler enqueues it when this does not.
func (h *handler) enqueueTranscript(ctx context.Context, orgID, id string) {
	if h.Enqueuer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), enqueueTimeout)
	defer cancel()
	if err := h.Enqueuer.EnqueueTranscript(ctx, orgID, id); err != nil {
		h.log.WarnContext(ctx, "enqueue transcript; the reconciler will retry", slog.String("transcript_id", id), slog.Any("error", err))
	}
}
