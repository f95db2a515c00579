package api

import (
	"net/http"

	"logbook/brief"
	"logbook/internal/crm"
)

// accountBrief answers GET /v1/accounts/{id}/brief with brief.AccountBrief
// (written as brief.AccountBriefJSON: a kept answer is the same bytes).
func (h *handler) accountBrief(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ab, err := brief.New(h.store, h.log).Account(r.Context(), p.OrgID, id, h.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ab)
	return nil
}
