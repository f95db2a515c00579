package api

import (
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func accountRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/accounts", Scope: crm.ScopeWrite, Handle: (*handler).accountCreate, Tag: "accounts",
			Summary: "Create an account. Each domain may belong to one account of the org (409 otherwise).",
			Body:    crm.AccountInput{}, Required: []string{"name"},
			Resp: errResps(map[int]any{201: crm.Account{}}, 400, 409, 413, 422)},
		{Method: "GET", Path: "/v1/accounts", Scope: crm.ScopeRead, Handle: (*handler).accountList, Tag: "accounts",
			Summary: "List accounts, newest first; q searches names and domains.",
			Query: append([]param{
				{Name: "q", Type: "string", Description: "case-insensitive substring of the name or a domain"},
				{Name: "owner_id", Type: "string", Format: "uuid"},
				{Name: "segment", Type: "string"},
			}, pageParams...),
			Resp: errResps(map[int]any{200: crm.Page[crm.Account]{}}, 422)},
		{Method: "GET", Path: "/v1/accounts/{id}", Scope: crm.ScopeRead, Handle: (*handler).accountGet, Tag: "accounts",
			Object: "account", Summary: "Get an account.",
			Resp: errResps(map[int]any{200: crm.Account{}}, 404, 422)},
		{Method: "PATCH", Path: "/v1/accounts/{id}", Scope: crm.ScopeWrite, Handle: (*handler).accountUpdate, Tag: "accounts",
			Object: "account", Summary: "Update an account; domains, when given, replace the list.", Body: crm.AccountInput{},
			Resp: errResps(map[int]any{200: crm.Account{}}, 400, 404, 409, 413, 422)},
		{Method: "DELETE", Path: "/v1/accounts/{id}", Scope: crm.ScopeWrite, Handle: (*handler).accountDelete, Tag: "accounts",
			Object: "account", Summary: "Delete an account with its contacts, deals and activities.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},
	}
}

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
