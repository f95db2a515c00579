package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSettingsRetention: transcript_retention_days (null = forever) and
// keep_notes_after_purge are settings like the others.
func TestSettingsRetention(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.do("GET", "/v1/settings", nil).Map(t)
	require.Nil(t, got["transcript_retention_days"], "transcripts are kept forever by default")
	require.Equal(t, true, got["keep_notes_after_purge"])

	res := b.do("PATCH", "/v1/settings", map[string]any{"transcript_retention_days": 30, "keep_notes_after_purge": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got = res.Map(t)
	require.Equal(t, float64(30), got["transcript_retention_days"])
	require.Equal(t, false, got["keep_notes_after_purge"])
	require.Equal(t, float64(14), got["stalled_after_days"], "other settings are left alone")

	for _, bad := range []map[string]any{
		{"transcript_retention_days": 0},
		{"transcript_retention_days": 36_501},
		{"keep_notes_after_purge": nil},
	} {
		res := b.do("PATCH", "/v1/settings", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%v: %s", bad, res.Body)
	}
	res = b.do("PATCH", "/v1/settings", map[string]any{"transcript_retention_days": nil})
	require.Equal(t, http.StatusOK, res.Status)
	got = res.Map(t)
	require.Nil(t, got["transcript_retention_days"], "null keeps transcripts forever again")
	require.Equal(t, false, got["keep_notes_after_purge"])
}
