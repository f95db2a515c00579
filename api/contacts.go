package api

import (
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func (h *handler) contactCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.ContactInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(true); err != nil {
		return err
	}
	c, err := h.store.ContactCreate(r.Context(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *handler) contactList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	f := store.ContactFilter{
		AccountID: queryID(&pr, r, "account_id"),
		Email:     crm.NormalizeEmail(queryText(&pr, r, "email", crm.MaxEmail)),
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.ContactList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) contactGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.store.ContactGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *handler) contactUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.ContactInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(false); err != nil {
		return err
	}
	c, err := h.store.ContactUpdate(r.Context(), p.OrgID, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *handler) contactDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.ContactDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
