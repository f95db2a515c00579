package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWebhookSettings(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(nil))
		require.NoError(t, err)
		require.Empty(t, c.WebhookAllowPrivate)
		require.Equal(t, 25, c.WebhooksPerOrg)
		require.Equal(t, 10, c.WebhookConcurrency)
		require.Zero(t, c.IndexConcurrency)
		require.Equal(t, 10*time.Second, c.WebhookTimeout)
		require.Empty(t, c.WebhookProxy)
	})

	t.Run("ReadsEveryVariable", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(map[string]string{
			"WEBHOOK_ALLOW_PRIVATE": "10.0.0.0/8, hooks.internal,*.corp.example,192.168.1.7,[::1]",
			"WEBHOOKS_PER_ORG":      "3", "WEBHOOK_CONCURRENCY": "4", "INDEX_CONCURRENCY": "2",
			"WEBHOOK_TIMEOUT": "3s", "WEBHOOK_PROXY": "http://proxy.corp.example:3128",
		}))
		require.NoError(t, err)
		require.Equal(t, "10.0.0.0/8, hooks.internal,*.corp.example,192.168.1.7,[::1]", c.WebhookAllowPrivate)
		require.Equal(t, 3, c.WebhooksPerOrg)
		require.Equal(t, 4, c.WebhookConcurrency)
		require.Equal(t, 2, c.IndexConcurrency)
		require.Equal(t, 3*time.Second, c.WebhookTimeout)
		require.Equal(t, "http://proxy.corp.example:3128", c.WebhookProxy)
	})

	t.Run("BadValuesNameTheVariable", func(t *testing.T) {
		t.Parallel()
		_, err := Load(env(map[string]string{
			"WEBHOOK_ALLOW_PRIVATE": "10.0.0.0/33,not a host", "WEBHOOKS_PER_ORG": "0", "WEBHOOK_CONCURRENCY": "x",
			"INDEX_CONCURRENCY": "-1", "WEBHOOK_TIMEOUT": "1h", "WEBHOOK_PROXY": "socks5://p:1080",
		}))
		require.Error(t, err)
		for _, name := range []string{`WEBHOOK_ALLOW_PRIVATE: "10.0.0.0/33"`, `WEBHOOK_ALLOW_PRIVATE: "not a host"`, "WEBHOOKS_PER_ORG",
			"WEBHOOK_CONCURRENCY", "INDEX_CONCURRENCY", "WEBHOOK_TIMEOUT", "WEBHOOK_PROXY"} {
			require.Contains(t, err.Error(), name)
		}
	})
}
