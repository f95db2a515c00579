package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("UsageErrors", func(t *testing.T) {
		t.Parallel()
		var out, errb bytes.Buffer
		for _, args := range [][]string{nil, {"frobnicate"}, {"orgs"}, {"orgs", "create"}, {"serve", "extra"}} {
			err := run(ctx, args, &out, &errb, envOf(nil))
			var ue usageError
			require.ErrorAs(t, err, &ue, "%v", args)
		}
	})

	t.Run("HelpAndVersion", func(t *testing.T) {
		t.Parallel()
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"help"}, &out, &out, envOf(nil)))
		require.Contains(t, out.String(), "logbook orgs create --name NAME")
		out.Reset()
		require.NoError(t, run(ctx, []string{"version"}, &out, &out, envOf(nil)))
		require.True(t, strings.HasPrefix(out.String(), "logbook "))
	})

	t.Run("BadConfigIsReported", func(t *testing.T) {
		t.Parallel()
		var out bytes.Buffer
		err := run(ctx, []string{"serve"}, &out, &out, envOf(map[string]string{"LLM_PROVIDER": "magic"}))
		require.ErrorContains(t, err, "LLM_PROVIDER")
	})

	t.Run("ServeRefusesPendingMigrations", func(t *testing.T) {
		t.Parallel()
		url := testdb.SchemaURL(t, false)
		var out bytes.Buffer
		err := run(ctx, []string{"serve"}, &out, &out, envOf(map[string]string{"DATABASE_URL": url, "HTTP_ADDR": "127.0.0.1:0"}))
		require.ErrorContains(t, err, "pending migration")
		err = run(ctx, []string{"orgs", "create", "--name", "X"}, &out, &out, envOf(map[string]string{"DATABASE_URL": url}))
		require.ErrorContains(t, err, "pending migration")
	})

	t.Run("MigrateThenCreateOrgThenServe", func(t *testing.T) {
		t.Parallel()
		url := testdb.SchemaURL(t, false)
		env := map[string]string{"DATABASE_URL": url, "REDIS_URL": testredis.URL(), "LOG_LEVEL": "error"}
		var out, errb bytes.Buffer
		require.NoError(t, run(ctx, []string{"migrate"}, &out, &errb, envOf(env)))
		require.Contains(t, out.String(), "applied")
		out.Reset()
		require.NoError(t, run(ctx, []string{"orgs", "create", "--name", "Acme Sales"}, &out, &errb, envOf(env)))
		var org struct {
			OrgID  string `json:"org_id"`
			APIKey string `json:"api_key"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &org), out.String())
		require.NotEmpty(t, org.OrgID)
		require.True(t, strings.HasPrefix(org.APIKey, "lbk_"))

		// serve on a free port, use the key, then stop it as SIGTERM would.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		env["HTTP_ADDR"] = addr
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- run(sctx, []string{"serve"}, &out, &errb, envOf(env)) }()
		var res *http.Response
		require.Eventually(t, func() bool {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/v1/accounts", addr), nil)
			req.Header.Set("Authorization", "Bearer "+org.APIKey)
			res, err = http.DefaultClient.Do(req)
			return err == nil
		}, 10*time.Second, 50*time.Millisecond)
		require.Equal(t, http.StatusOK, res.StatusCode)
		_ = res.Body.Close()
		stop()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop after its context ended")
		}
	})
}
