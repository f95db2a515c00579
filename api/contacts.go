package api

import (
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func contactRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/contacts", Scope: crm.ScopeWrite, Handle: (*handler).contactCreate, Tag: "contacts",
			Summary: "Create a contact on an account of the org (422 on account_id otherwise). Emails are case-insensitive and unique per org (409 otherwise).",
			Body:    crm.ContactInput{}, Required: []string{"account_id", "name"},
			Resp: errResps(map[int]any{201: crm.Contact{}}, 400, 409, 413, 422)},
		{Method: "GET", Path: "/v1/contacts", Scope: crm.ScopeRead, Handle: (*handler).contactList, Tag: "contacts",
			Summary: "List contacts, newest first.",
			Query: append([]param{
				{Name: "account_id", Type: "string", Format: "uuid", Description: "only the contacts of this account"},
				{Name: "email", Type: "string", Description: "only the contact with this email (case-insensitive)"},
			}, pageParams...),
			Resp: errResps(map[int]any{200: crm.Page[crm.Contact]{}}, 422)},
		{Method: "GET", Path: "/v1/contacts/{id}", Scope: crm.ScopeRead, Handle: (*handler).contactGet, Tag: "contacts",
			Object: "contact", Summary: "Get a contact.",
			Resp: errResps(map[int]any{200: crm.Contact{}}, 404, 422)},
		{Method: "PATCH", Path: "/v1/contacts/{id}", Scope: crm.ScopeWrite, Handle: (*handler).contactUpdate, Tag: "contacts",
			Object: "contact", Summary: "Update a contact; absent fields are kept, null clears email, phone and title (account_id and name may not be null).",
			Body: crm.ContactInput{},
			Resp: errResps(map[int]any{200: crm.Contact{}}, 400, 404, 409, 413, 422)},
		{Method: "DELETE", Path: "/v1/contacts/{id}", Scope: crm.ScopeWrite, Handle: (*handler).contactDelete, Tag: "contacts",
			Object: "contact", Summary: "Delete a contact; the activities it took part in stay.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},
	}
}

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
