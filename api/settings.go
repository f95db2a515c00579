package api

import (
	"net/http"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func (h *handler) settingsGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	s, err := h.store.SettingsGet(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) settingsUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in settingsInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	var probs crm.Problems
	probs.Merge("", in.SettingsInput.Validate())
	secrets := h.sealDialerSecrets(&probs, p.OrgID, &in)
	if err := probs.Err(); err != nil {
		return err
	}
	var s crm.Settings
	err := h.store.WithTx(r.Context(), func(tx *store.Store) error {
		for _, sec := range secrets {
			if err := tx.DialerSecretSet(r.Context(), p.OrgID, sec.name, sec.sealed); err != nil {
				return err
			}
		}
		var err error
		s, err = tx.SettingsUpdate(r.Context(), p.OrgID, in.SettingsInput)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}
