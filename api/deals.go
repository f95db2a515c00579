package api

import (
	"net/http"
	"strings"
	"time"

	"logbook/brief"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// dealReassignment is the answer to POST /v1/deals/{id}/reassign (and one
// item of the batch's): the deal with its new owner, the handoff activity
// that records the change and the handoff note written for the new owner.
type dealReassignment struct {
	Deal        crm.Deal       `json:"deal"`
	Activity    dealHandoff    `json:"activity"`
	HandoffNote brief.BriefDoc `json:"handoff_note"`
}

// dealHandoff is the handoff activity of a reassignment, as much of it as a
// client needs to link to it (GET /v1/activities/{id} has the rest).
type dealHandoff struct {
	ID         string           `json:"id"`
	Type       crm.ActivityType `json:"type"`
	AccountID  string           `json:"account_id"`
	DealID     string           `json:"deal_id"`
	OwnerID    string           `json:"owner_id"`
	OccurredAt time.Time        `json:"occurred_at"`
	Subject    string           `json:"subject"`
	Body       *string          `json:"body"`
}

func (h *handler) dealCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.DealInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(true); err != nil {
		return err
	}
	d, err := h.store.DealCreate(r.Context(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (h *handler) dealList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	status := crm.DealStatus(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		pr.Add("status", "must be one of %s", strings.Join(strs(crm.DealStatuses), ", "))
	}
	f := store.DealFilter{
		AccountID: queryID(&pr, r, "account_id"),
		OwnerID:   queryID(&pr, r, "owner_id"),
		Status:    status,
		Stage:     queryText(&pr, r, "stage", crm.MaxShort),
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.DealList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) dealGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.store.DealGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) dealUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.DealInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(false); err != nil {
		return err
	}
	d, err := h.store.DealUpdate(r.Context(), p.OrgID, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (h *handler) dealDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.DealDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) dealReassign(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.ReassignInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	var notes brief.Handoffs
	d, a, deliveries, err := h.store.DealReassign(r.Context(), p.OrgID, id, in, notes.Compose)
	if err != nil {
		return err
	}
	if len(deliveries) > 0 {
		h.enqueueAfterCommit(r.Context(), p.OrgID, nil, deliveries)
	}
	writeJSON(w, http.StatusOK, newDealReassignment(d, a, notes.Note(d.ID)))
	return nil
}

func newDealReassignment(d crm.Deal, a crm.Activity, note brief.BriefDoc) dealReassignment {
	return dealReassignment{Deal: d, HandoffNote: note, Activity: dealHandoff{
		ID:         a.ID,
		Type:       a.Type,
		AccountID:  a.AccountID,
		DealID:     d.ID,
		OwnerID:    *a.OwnerID,
		OccurredAt: a.OccurredAt,
		Subject:    *a.Subject,
		Body:       a.Body,
	}}
}
