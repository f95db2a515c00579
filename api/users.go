package api

import (
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

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
