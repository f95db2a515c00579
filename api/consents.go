package api

import (
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// Consent as data (issue #14): a meeting's participants' recording
// consents, the transcript held for lack of them, and the admin's decision.

// consentsAnswer is the answer to PUT /v1/activities/{id}/consents: the
// meeting's consents as now recorded and its transcript after the consent
// gate (null when the meeting has none).
type consentsAnswer struct {
	ActivityID string               `json:"activity_id"`
	Consents   []crm.MeetingConsent `json:"consents"`
	Transcript *crm.Transcript      `json:"transcript"`
}

// consentsPut records (replaces) a meeting's consents and applies the
// consent gate to its transcript: held when they say so, released (and
// enqueued) when they now allow a held one.
func (h *handler) consentsPut(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.ConsentsInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	res, err := h.activities.ConsentsSet(r.Context(), p.OrgID, id, "api", in)
	if err != nil {
		return err
	}
	if res.Released && res.Transcript != nil {
		h.enqueueAfterCommit(r.Context(), p.OrgID, []string{res.Transcript.ID}, nil)
	}
	writeJSON(w, http.StatusOK, consentsAnswer{ActivityID: id, Consents: res.Consents, Transcript: res.Transcript})
	return nil
}

// transcriptRelease is an admin's decision to process a held transcript
// anyway: queued, enqueued, the decision recorded with the key's ID.
func (h *handler) transcriptRelease(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.store.TranscriptRelease(r.Context(), p.OrgID, id, p.KeyID)
	if err != nil {
		return err
	}
	h.enqueueAfterCommit(r.Context(), p.OrgID, []string{t.ID}, nil)
	return h.transcriptWrite(w, r, p.OrgID, t)
}

// transcriptDiscard is an admin's decision to discard a held transcript:
// its content deleted, the meeting kept, the decision recorded.
func (h *handler) transcriptDiscard(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.store.TranscriptDiscard(r.Context(), p.OrgID, id, p.KeyID)
	if err != nil {
		return err
	}
	return h.transcriptWrite(w, r, p.OrgID, t)
}

// transcriptsHeld lists the org's transcripts held for consent.
func (h *handler) transcriptsHeld(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	limit := queryInt(&pr, r, "limit", 1, store.MaxLimit)
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.TranscriptsHeld(r.Context(), p.OrgID, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// transcriptWrite answers with the transcript as GET shows it (without
// segments), its meeting's consents included.
func (h *handler) transcriptWrite(w http.ResponseWriter, r *http.Request, orgID string, t crm.Transcript) error {
	cs, err := h.store.MeetingConsents(r.Context(), orgID, t.ActivityID)
	if err != nil {
		return err
	}
	t.Consents = cs
	writeJSON(w, http.StatusOK, t)
	return nil
}
