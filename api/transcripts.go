package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// maxTranscriptBody bounds a posted transcript. A four-hour meeting as
// word-level JSON (the largest format) is ~6 MB; the word limit in
// internal/transcript is what really caps a transcript's length.
const maxTranscriptBody = activity.MaxTranscriptBytes

// transcriptAccepted is the answer to a posted transcript.
type transcriptAccepted struct {
	ID         string               `json:"id"`
	ActivityID string               `json:"activity_id"`
	Status     crm.TranscriptStatus `json:"status"`
	StatusURL  string               `json:"status_url"`
}

func (h *handler) transcriptCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in activity.TranscriptInput
	if err := decodeJSON(w, r, &in, maxTranscriptBody); err != nil {
		return err
	}
	return h.transcriptStore(w, r, p.OrgID, &in)
}

func (h *handler) transcriptStore(w http.ResponseWriter, r *http.Request, orgID string, in *activity.TranscriptInput) error {
	ing, err := activity.ParseTranscript(in)
	if err != nil {
		return err
	}
	res, err := h.activities.IngestTranscript(r.Context(), orgID, ing)
	if err != nil {
		return err
	}
	t := res.Transcript
	status := http.StatusOK
	var work []string
	if res.Result == store.IngestQueued {
		status = http.StatusAccepted
		work = []string{t.ID}
	}
	h.enqueueAfterCommit(r.Context(), orgID, work, res.Deliveries)
	writeJSON(w, status, transcriptAccepted{ID: t.ID, ActivityID: t.ActivityID, Status: t.Status,
		StatusURL: "/v1/transcripts/" + t.ID})
	return nil
}

// transcriptHook authenticates by signature instead of a bearer key.
func (h *handler) transcriptHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	orgID := strings.TrimSpace(r.Header.Get("Logbook-Org"))
	unauthorized := func(detail string) error {
		return &httpError{status: http.StatusUnauthorized, detail: detail}
	}
	if !crm.ValidID(orgID) {
		return unauthorized("the Logbook-Org header must name the org (its ID)")
	}
	body, err := readBody(w, r, maxTranscriptBody)
	if err != nil {
		return err
	}
	secret, err := h.store.IngestSecretGet(r.Context(), orgID)
	if errors.Is(err, crm.ErrNotFound) {
		return unauthorized("bad signature or no ingest secret set for this org")
	}
	if err != nil {
		return err
	}
	if err := crm.VerifySignature(r.Header.Get(crm.SignatureHeader), secret, body, h.now()); err != nil {
		return unauthorized(fmt.Sprintf("%v", err))
	}
	var in activity.TranscriptInput
	if err := unmarshalStrict(body, &in); err != nil {
		return err
	}
	return h.transcriptStore(w, r, orgID, &in)
}

func (h *handler) transcriptGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inc := r.URL.Query().Get("include")
	if inc != "" && inc != "segments" {
		return crm.Invalid("include", "must be segments")
	}
	t, err := h.store.TranscriptGet(r.Context(), p.OrgID, id, inc == "segments")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// actionItemPatch is the body of PATCH /v1/action-items/{id}.
type actionItemPatch struct {
	Status crm.ActionItemStatus `json:"status"`
}

func (h *handler) actionItemList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	f := store.ActionItemFilter{
		AccountID: queryID(&pr, r, "account_id"),
		Owner:     queryText(&pr, r, "owner", crm.MaxName),
		Status:    crm.ActionItemStatus(r.URL.Query().Get("status")),
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if f.Status != "" && !f.Status.Valid() {
		pr.Add("status", "must be open or done")
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.ActionItemList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) actionItemUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in actionItemPatch
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if !in.Status.Valid() {
		return crm.Invalid("status", "must be open or done")
	}
	it, err := h.store.ActionItemSetStatus(r.Context(), p.OrgID, id, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (h *handler) followUpRegenerate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.store.ActivityGet(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	if h.followUp == nil {
		return errStatus(http.StatusServiceUnavailable, "follow-up drafting is not configured on this server")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	f, err := h.followUp.RegenerateFollowUp(ctx, p.OrgID, id)
	if errors.Is(err, crm.ErrNotFound) {
		return errStatus(http.StatusConflict, "this activity has no processed meeting notes yet")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
