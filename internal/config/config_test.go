package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("DefaultsPointAtLocalServices", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(nil))
		require.NoError(t, err)
		require.Equal(t, DefaultDatabaseURL, c.DatabaseURL)
		require.Equal(t, DefaultRedisURL, c.RedisURL)
		require.Equal(t, "local", c.LLMProvider)
		require.Equal(t, DefaultEmbedDim, c.EmbedDim)
		require.False(t, c.RunMigrations)
		require.Equal(t, 20*time.Second, c.ShutdownTimeout)
		require.Equal(t, []int{600, 3000, 20, 100},
			[]int{c.RateLimitKeyPerMin, c.RateLimitOrgPerMin, c.RateLimitAskPerMin, c.RateLimitOrgAskPerMin})
	})

	t.Run("RateLimitsReadAndZeroDisables", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(map[string]string{"RATE_LIMIT_KEY_PER_MIN": "0", "RATE_LIMIT_ORG_PER_MIN": "50",
			"RATE_LIMIT_ASK_PER_MIN": "5", "RATE_LIMIT_ORG_ASK_PER_MIN": "7"}))
		require.NoError(t, err)
		require.Equal(t, []int{0, 50, 5, 7},
			[]int{c.RateLimitKeyPerMin, c.RateLimitOrgPerMin, c.RateLimitAskPerMin, c.RateLimitOrgAskPerMin})
		_, err = Load(env(map[string]string{"RATE_LIMIT_ASK_PER_MIN": "-1", "RATE_LIMIT_ORG_PER_MIN": "x"}))
		require.ErrorContains(t, err, "RATE_LIMIT_ASK_PER_MIN")
		require.ErrorContains(t, err, "RATE_LIMIT_ORG_PER_MIN")
	})

	t.Run("ReadsEveryVariable", func(t *testing.T) {
		t.Parallel()
		c, err := Load(env(map[string]string{
			"DATABASE_URL": "postgres://u@db/x", "REDIS_URL": "redis://r:6379/2", "HTTP_ADDR": ":9000",
			"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:1234/v1",
			"CHAT_MODEL": "m", "EMBED_MODEL": "e", "EMBED_DIM": "256", "WORKER_CONCURRENCY": "3",
			"RUN_MIGRATIONS": "1", "LOG_LEVEL": "debug", "SHUTDOWN_TIMEOUT": "5s", "HNSW_EF_SEARCH": "400",
			"SEARCH_VECTOR_WEIGHT": "1",
		}))
		require.NoError(t, err)
		require.Equal(t, "openai", c.LLMProvider)
		require.Equal(t, 256, c.EmbedDim)
		require.Equal(t, 3, c.WorkerConcurrency)
		require.True(t, c.RunMigrations)
		require.Equal(t, 5*time.Second, c.ShutdownTimeout)
		require.Equal(t, 400, c.EfSearch)
		require.Equal(t, 1.0, c.VectorWeight)
	})

	t.Run("NamesEveryBadVariable", func(t *testing.T) {
		t.Parallel()
		_, err := Load(env(map[string]string{
			"DATABASE_URL": "mysql://x", "LLM_PROVIDER": "magic", "EMBED_DIM": "-1",
			"RUN_MIGRATIONS": "maybe", "WORKER_CONCURRENCY": "lots", "HNSW_EF_SEARCH": "5000",
			"SEARCH_VECTOR_WEIGHT": "0",
		}))
		require.Error(t, err)
		for _, name := range []string{"DATABASE_URL", "LLM_PROVIDER", "EMBED_DIM", "RUN_MIGRATIONS", "WORKER_CONCURRENCY", "HNSW_EF_SEARCH", "SEARCH_VECTOR_WEIGHT"} {
			require.Contains(t, err.Error(), name)
		}
	})

	t.Run("OpenAINeedsAKeyOrBaseURL", func(t *testing.T) {
		t.Parallel()
		_, err := Load(env(map[string]string{"LLM_PROVIDER": "openai"}))
		require.ErrorContains(t, err, "OPENAI_API_KEY")
	})
}

func TestPrices(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"LLM_PRICES": `{"my-model":{"input":1,"output":2}}`, "LLM_CONTEXT_TOKENS": "8000"}))
	require.NoError(t, err)
	require.Equal(t, Price{Input: 1, Output: 2}, c.Prices["my-model"])
	require.Equal(t, Price{Input: 0.15, Output: 0.60}, c.Prices["gpt-4o-mini"])
	require.Equal(t, 8000, c.ContextTokens)
	_, err = Load(env(map[string]string{"LLM_PRICES": `nope`}))
	require.ErrorContains(t, err, "LLM_PRICES")
}
