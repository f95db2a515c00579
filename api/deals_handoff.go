package api

import (
	"net/http"

	"logbook/brief"
	"logbook/internal/crm"
)

// dealReassignments is the answer to POST /v1/deals/reassign: one item per
// deal, in the order of deal_ids.
type dealReassignments struct {
	Items []dealReassignment `json:"items"`
}

// dealReassignBatch moves several deals to one owner, all or nothing, each
// with its handoff activity and note (store.DealReassignBatch).
func (h *handler) dealReassignBatch(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.ReassignBatchInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	var notes brief.Handoffs
	done, deliveries, err := h.store.DealReassignBatch(r.Context(), p.OrgID, in, notes.Compose)
	if err != nil {
		return err
	}
	if len(deliveries) > 0 {
		h.enqueueAfterCommit(r.Context(), p.OrgID, nil, deliveries)
	}
	out := dealReassignments{Items: make([]dealReassignment, 0, len(done))}
	for _, d := range done {
		out.Items = append(out.Items, newDealReassignment(d.Deal, d.Activity, notes.Note(d.Deal.ID)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
