package api

import (
	"net/http"

	"logbook/internal/crm"
)

func ingestSecretRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/settings/ingest-secret", Scope: crm.ScopeAdmin, Handle: (*handler).ingestSecretRotate,
			Tag: "settings",
			Summary: "Generate the org's ingest secret, which signs POST /v1/hooks/transcripts (" + crm.SignatureHeader +
				": t=<unix>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>, with the org's ID in Logbook-Org) instead of a " +
				"bearer key. It replaces any previous secret at once and is shown only in this response; GET /v1/settings " +
				"never shows it. No request body.",
			Resp: errResps(map[int]any{201: ingestSecret{}})},
		{Method: "DELETE", Path: "/v1/settings/ingest-secret", Scope: crm.ScopeAdmin, Handle: (*handler).ingestSecretDelete,
			Tag:     "settings",
			Summary: "Delete the org's ingest secret, which disables the signed transcript hook (204 even when none was set).",
			Resp:    errResps(map[int]any{204: noBody{}})},
	}
}

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
