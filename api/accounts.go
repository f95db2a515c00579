package api

import (
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func (h *handler) accountCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.AccountInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(true); err != nil {
		return err
	}
	a, err := h.store.AccountCreate(r.Context(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (h *handler) accountList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	f := store.AccountFilter{
		Q:       queryText(&pr, r, "q", crm.MaxName),
		OwnerID: queryID(&pr, r, "owner_id"),
		Segment: queryText(&pr, r, "segment", crm.MaxShort),
		Limit:   queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:  r.URL.Query().Get("cursor"),
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.AccountList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) accountGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.store.AccountGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *handler) accountUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.AccountInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(false); err != nil {
		return err
	}
	a, err := h.store.AccountUpdate(r.Context(), p.OrgID, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *handler) accountDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.AccountDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
