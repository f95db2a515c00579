package api

import (
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func userRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/users", Scope: crm.ScopeWrite, Handle: (*handler).userCreate, Tag: "users",
			Summary: "Create a user (role defaults to rep). Emails are case-insensitive and unique per org (409 otherwise).",
			Body:    crm.UserInput{}, Required: []string{"email", "name"},
			Resp: errResps(map[int]any{201: crm.User{}}, 400, 409, 413, 422)},
		{Method: "GET", Path: "/v1/users", Scope: crm.ScopeRead, Handle: (*handler).userList, Tag: "users",
			Summary: "List users, newest first.",
			Query: append([]param{
				{Name: "role", Type: "string", Description: "only users with this role", Enum: strs(crm.Roles)},
			}, pageParams...),
			Resp: errResps(map[int]any{200: crm.Page[crm.User]{}}, 422)},
		{Method: "GET", Path: "/v1/users/{id}", Scope: crm.ScopeRead, Handle: (*handler).userGet, Tag: "users",
			Object: "user", Summary: "Get a user.",
			Resp: errResps(map[int]any{200: crm.User{}}, 404, 422)},
		{Method: "PATCH", Path: "/v1/users/{id}", Scope: crm.ScopeWrite, Handle: (*handler).userUpdate, Tag: "users",
			Object: "user", Summary: "Update a user; absent fields are kept, and no field may be null.", Body: crm.UserInput{},
			Resp: errResps(map[int]any{200: crm.User{}}, 400, 404, 409, 413, 422)},
		{Method: "DELETE", Path: "/v1/users/{id}", Scope: crm.ScopeWrite, Handle: (*handler).userDelete, Tag: "users",
			Object: "user", Summary: "Delete a user. Accounts, deals and activities the user owned stay, with no owner.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},
	}
}

func (h *handler) userCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.UserInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(true); err != nil {
		return err
	}
	u, err := h.store.UserCreate(r.Context(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (h *handler) userList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	role := crm.Role(r.URL.Query().Get("role"))
	if role != "" && !role.Valid() {
		pr.Add("role", "must be one of %s", strings.Join(strs(crm.Roles), ", "))
	}
	f := store.UserFilter{
		Role:   role,
		Limit:  queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor: r.URL.Query().Get("cursor"),
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.UserList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) userGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.store.UserGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) userUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.UserInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(false); err != nil {
		return err
	}
	u, err := h.store.UserUpdate(r.Context(), p.OrgID, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (h *handler) userDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.UserDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
