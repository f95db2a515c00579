package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicURL: PUBLIC_URL is optional, loses a trailing slash, and must
// be an http(s) URL with a host and no query.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Empty(t, c.PublicURL)
	c, err = Load(env(map[string]string{"PUBLIC_URL": "https://logbook.example.com/"}))
	require.NoError(t, err)
	require.Equal(t, "https://logbook.example.com", c.PublicURL)
	c, err = Load(env(map[string]string{"PUBLIC_URL": "http://10.0.0.5:8080/crm"}))
	require.NoError(t, err)
	require.Equal(t, "http://10.0.0.5:8080/crm", c.PublicURL)
	for _, bad := range []string{"logbook.example.com", "ftp://x.example", "https://", "https://a.example/?x=1", "https://u:p@a.example", "javascript:alert(1)"} {
		_, err := Load(env(map[string]string{"PUBLIC_URL": bad}))
		require.ErrorContains(t, err, "PUBLIC_URL", bad)
	}
}
