package api

import (
	"errors"
	"net/http"

	"logbook/internal/crm"
)

// notesConfirm lets a person release notes items flagged for review
// (payment instructions, credentials, outside links): each named item is
// marked confirmed by the calling key, the summary is rebuilt, and the
// meeting.processed webhook is sent again with the released items. The
// follow-up draft is not rewritten here: POST /v1/activities/{id}/follow-up
// drafts it again, confirmed items included.
func (h *handler) notesConfirm(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.NotesConfirmInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if _, err := h.store.ActivityGet(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	n, deliveries, err := h.store.NotesConfirm(r.Context(), p.OrgID, id, func(n *crm.Notes) error {
		return n.Confirm(in.Items, p.KeyID, h.now())
	})
	if errors.Is(err, crm.ErrNotFound) {
		return &crm.ConflictError{Field: "items", Detail: "this activity has no processed meeting notes yet"}
	}
	if err != nil {
		return err
	}
	h.enqueueAfterCommit(r.Context(), p.OrgID, nil, deliveries)
	writeJSON(w, http.StatusOK, n)
	return nil
}
