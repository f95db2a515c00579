package api

import (
	"net/http"

	"logbook/internal/crm"
)

// ingestSecret answers POST /v1/settings/ingest-secret: the secret (shown
// once), the header that carries signatures, and the org the hook must name.
type ingestSecret struct {
	Secret string `json:"secret"`
	Header string `json:"header"`
	OrgID  string `json:"org_id"`
}

func (h *handler) ingestSecretRotate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	secret, err := h.store.IngestSecretRotate(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, ingestSecret{Secret: secret, Header: crm.SignatureHeader, OrgID: p.OrgID})
	return nil
}

func (h *handler) ingestSecretDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	if err := h.store.IngestSecretDelete(r.Context(), p.OrgID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
