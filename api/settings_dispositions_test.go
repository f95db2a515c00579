package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSettingsDispositionCodes: disposition codes are data with labels and
// a connect flag; a code left out of the list is retired, not deleted: the
// calls that carry it keep it, a new call cannot be given it, and listing it
// again brings it back with its label.
func TestSettingsDispositionCodes(t *testing.T) {
	t.Parallel()
	b := actSetup(t)
	acme := b.account("Acme")

	type code struct {
		Code    string `json:"code"`
		Label   string `json:"label"`
		Connect bool   `json:"connect"`
		Retired bool   `json:"retired"`
	}
	type settings struct {
		Dispositions     []string `json:"dispositions"`
		DispositionCodes []code   `json:"disposition_codes"`
	}
	get := func() settings {
		var s settings
		b.do("GET", "/v1/settings", nil).JSON(t, &s)
		return s
	}
	patch := func(body map[string]any) response {
		t.Helper()
		return b.do("PATCH", "/v1/settings", body)
	}
	call := func(disposition string) response {
		t.Helper()
		res, _ := b.post(map[string]any{"type": "call", "direction": "outbound", "account_id": acme,
			"occurred_at": "2026-03-02T15:00:00Z", "disposition": disposition})
		return res
	}

	s := get()
	require.Equal(t, []string{"connected", "voicemail", "gatekeeper", "no_answer", "busy", "wrong_number", "not_interested", "meeting_booked"},
		s.Dispositions)
	require.Len(t, s.DispositionCodes, 8)
	require.Equal(t, code{"no_answer", "No answer", false, false}, s.DispositionCodes[3])
	connects := 0
	for _, c := range s.DispositionCodes {
		if c.Connect {
			connects++
			require.Contains(t, []string{"connected", "meeting_booked", "not_interested"}, c.Code)
		}
	}
	require.Equal(t, 3, connects, "the default connect rule")

	// A call with busy, then busy is retired (left out) and a new code added
	// with its own label and flag; a listed code keeps what is not given.
	busyRes, busy := b.post(map[string]any{"type": "call", "direction": "outbound", "account_id": acme,
		"occurred_at": "2026-03-02T15:00:00Z", "disposition": "busy"})
	require.Equal(t, http.StatusCreated, busyRes.Status)
	res := patch(map[string]any{"disposition_codes": []map[string]any{
		{"code": "connected", "label": "Talked to someone"},
		{"code": "left_message", "label": "Left a message", "connect": false},
		{"code": "demo_booked", "connect": true},
		{"code": "voicemail"},
	}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	s = get()
	require.Equal(t, []string{"connected", "left_message", "demo_booked", "voicemail"}, s.Dispositions)
	require.Equal(t, code{"connected", "Talked to someone", true, false}, s.DispositionCodes[0], "connect kept")
	require.Equal(t, code{"left_message", "Left a message", false, false}, s.DispositionCodes[1])
	require.Equal(t, code{"demo_booked", "Demo booked", true, false}, s.DispositionCodes[2], "a new code's label reads its code")
	require.Len(t, s.DispositionCodes, 4+6, "the six left out are retired, not deleted")
	for _, c := range s.DispositionCodes[4:] {
		require.True(t, c.Retired, c.Code)
	}

	// The call that carries busy keeps it, and can still be edited.
	var old struct {
		ID          string `json:"id"`
		Disposition string `json:"disposition"`
	}
	b.do("GET", "/v1/activities/"+busy.ID, nil).JSON(t, &old)
	require.Equal(t, "busy", old.Disposition)
	res = b.do("PATCH", "/v1/activities/"+busy.ID, map[string]any{"subject": "Tried the main line"})
	require.Equal(t, http.StatusOK, res.Status, "editing a call with a retired code: %s", res.Body)
	res = b.do("PATCH", "/v1/activities/"+busy.ID, map[string]any{"disposition": "gatekeeper"})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "but it cannot be given another retired code")

	res = call("busy")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Equal(t, []string{"disposition"}, res.Fields(t))
	require.Contains(t, string(res.Body), "retired")
	require.Equal(t, http.StatusCreated, call("demo_booked").Status)

	// The bare-codes form brings busy back with its label and flag.
	res = patch(map[string]any{"dispositions": []string{"busy", "connected"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	s = get()
	require.Equal(t, []string{"busy", "connected"}, s.Dispositions)
	require.Equal(t, code{"busy", "Busy", false, false}, s.DispositionCodes[0])
	require.Equal(t, code{"connected", "Talked to someone", true, false}, s.DispositionCodes[1], "label kept across retire and return")
	require.Equal(t, http.StatusCreated, call("busy").Status)

	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"disposition_codes": []map[string]any{}}, "disposition_codes"},
		{map[string]any{"disposition_codes": nil}, "disposition_codes"},
		{map[string]any{"disposition_codes": []map[string]any{{"code": "Bad Code"}}}, "disposition_codes[0].code"},
		{map[string]any{"disposition_codes": []map[string]any{{"code": "a"}, {"code": "a"}}}, "disposition_codes[1].code"},
		{map[string]any{"disposition_codes": []map[string]any{{"code": "a", "label": "  "}}}, "disposition_codes[0].label"},
		{map[string]any{"disposition_codes": []map[string]any{{"code": "a", "connect": nil}}}, "disposition_codes[0].connect"},
		{map[string]any{"disposition_codes": []map[string]any{{"code": "a"}}, "dispositions": []string{"a"}}, "disposition_codes"},
	} {
		res := patch(bad.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%v: %s", bad.body, res.Body)
		require.Contains(t, res.Fields(t), bad.field, "%v", bad.body)
	}
	require.Equal(t, []string{"busy", "connected"}, get().Dispositions, "a refused update changes nothing")
}
