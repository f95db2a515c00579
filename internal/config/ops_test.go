package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpsSettings: the worker's port defaults to loopback 9091 and "off"
// closes it; a metrics token is optional but not a short or spaced one.
func TestOpsSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9091", c.WorkerHTTPAddr)
	require.Empty(t, c.MetricsToken)

	c, err = Load(env(map[string]string{"WORKER_HTTP_ADDR": "OFF", "METRICS_TOKEN": "0123456789abcdef"}))
	require.NoError(t, err)
	require.Empty(t, c.WorkerHTTPAddr)
	require.Equal(t, "0123456789abcdef", c.MetricsToken)

	c, err = Load(env(map[string]string{"WORKER_HTTP_ADDR": ":9100"}))
	require.NoError(t, err)
	require.Equal(t, ":9100", c.WorkerHTTPAddr)

	for _, bad := range []string{"short", "0123456789 abcdef"} {
		_, err = Load(env(map[string]string{"METRICS_TOKEN": bad}))
		require.ErrorContains(t, err, "METRICS_TOKEN")
	}
}
