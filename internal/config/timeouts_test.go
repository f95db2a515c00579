package config

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadTimeouts(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(nil))
		require.NoError(t, err)
		require.Equal(t, max(8, 4*runtime.GOMAXPROCS(0)), c.DBMaxConns)
		require.Zero(t, c.DBMinConns)
		require.Equal(t, 5*time.Second, c.DBConnectTimeout)
		require.Equal(t, 10*time.Second, c.DBStatementTimeout)
		require.Equal(t, 15*time.Second, c.RequestTimeout)
		require.Equal(t, 2*time.Minute, c.LongRequestTimeout)
		require.Equal(t, 10*time.Second, c.HTTPReadHeaderTimeout)
		require.Equal(t, 2*time.Minute, c.HTTPReadTimeout)
		require.Equal(t, 30*time.Second, c.HTTPWriteTimeout)
		require.Equal(t, 2*time.Minute, c.HTTPIdleTimeout)
		require.Equal(t, 64<<10, c.HTTPMaxHeaderBytes)
		require.Equal(t, 5*time.Second, c.RedisDialTimeout)
		require.Equal(t, 3*time.Second, c.RedisReadTimeout)
		require.Equal(t, 3*time.Second, c.RedisWriteTimeout)
	})

	t.Run("Overrides", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(map[string]string{
			"DB_MAX_CONNS": "20", "DB_MIN_CONNS": "2", "DB_CONNECT_TIMEOUT": "2s", "DB_STATEMENT_TIMEOUT": "0",
			"REQUEST_TIMEOUT": "5s", "LONG_REQUEST_TIMEOUT": "5m", "HTTP_READ_HEADER_TIMEOUT": "3s", "HTTP_READ_TIMEOUT": "1m",
			"HTTP_IDLE_TIMEOUT": "30s", "HTTP_MAX_HEADER_BYTES": "8192",
			"REDIS_DIAL_TIMEOUT": "1s", "REDIS_READ_TIMEOUT": "2s", "REDIS_WRITE_TIMEOUT": "4s",
		}))
		require.NoError(t, err)
		require.Equal(t, 20, c.DBMaxConns)
		require.Equal(t, 2, c.DBMinConns)
		require.Equal(t, 2*time.Second, c.DBConnectTimeout)
		require.Zero(t, c.DBStatementTimeout, "0 turns the statement timeout off")
		require.Equal(t, 5*time.Second, c.RequestTimeout)
		require.Equal(t, 5*time.Minute, c.LongRequestTimeout)
		require.Equal(t, 20*time.Second, c.HTTPWriteTimeout, "follows REQUEST_TIMEOUT")
		require.Equal(t, 3*time.Second, c.HTTPReadHeaderTimeout)
		require.Equal(t, time.Minute, c.HTTPReadTimeout)
		require.Equal(t, 30*time.Second, c.HTTPIdleTimeout)
		require.Equal(t, 8192, c.HTTPMaxHeaderBytes)
		require.Equal(t, time.Second, c.RedisDialTimeout)
		require.Equal(t, 2*time.Second, c.RedisReadTimeout)
		require.Equal(t, 4*time.Second, c.RedisWriteTimeout)
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		for k, v := range map[string]string{
			"DB_MAX_CONNS": "0", "DB_CONNECT_TIMEOUT": "0", "REQUEST_TIMEOUT": "-1s", "HTTP_WRITE_TIMEOUT": "1s",
			"DB_STATEMENT_TIMEOUT": "soon", "HTTP_MAX_HEADER_BYTES": "10",
		} {
			_, err := Load(env(map[string]string{k: v}))
			require.ErrorContains(t, err, k, "%s=%s", k, v)
		}
		_, err := Load(env(map[string]string{"DB_MAX_CONNS": "4", "DB_MIN_CONNS": "5"}))
		require.ErrorContains(t, err, "DB_MIN_CONNS")
	})
}
