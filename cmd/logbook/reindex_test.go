package main

import (
	"context"
	"logbook/activity"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestReindex embeds what the configured model has not, resumes where it
// stopped, and changes the stored dimension with EMBED_DIM.
func TestReindex(t *testing.T) {
	ctx := context.Background()
	url := testdb.SchemaURL(t, true)
	pool, err := store.Connect(ctx, url, store.PoolConfig{})
	require.NoError(t, err)
	defer pool.Close()
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "reindex")
	require.NoError(t, err)
	acct, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	in := crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(acct.ID), OccurredAt: crm.Some("2026-03-02T15:00:00Z")}
	require.NoError(t, in.Validate(true))
	act, _, _, err := activity.New(st).Upsert(ctx, org.ID, in)
	require.NoError(t, err)
	rows := make([][]any, 30)
	for i := range rows {
		text := "chunk number " + strings.Repeat("x", i+1)
		rows[i] = []any{org.ID, store.NewID(), acct.ID, act.ID, "note", act.OccurredAt, "activity", i, text, crm.ChunkHash(text)}
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"chunks"}, []string{"org_id", "id", "account_id", "activity_id", "activity_type",
		"occurred_at", "kind", "position", "text", "content_hash"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)

	env := func(dim string) func(string) string {
		return func(k string) string {
			switch k {
			case "DATABASE_URL":
				return url
			case "EMBED_DIM":
				return dim
			}
			return ""
		}
	}
	var out, errOut strings.Builder
	require.NoError(t, run(ctx, []string{"reindex", "--batch", "7"}, &out, &errOut, env("")), errOut.String())
	require.Contains(t, out.String(), "30 chunk(s) to embed with local-hash-v3/384")
	require.Contains(t, out.String(), "done, 30 chunk(s) embedded")
	n, err := st.ChunksCountToEmbed(ctx, "", "local-hash-v3/384")
	require.NoError(t, err)
	require.Zero(t, n)

	// Chunks another scheme embedded (here the previous version's) are
	// embedded again: vectors of two schemes are never compared.
	tag, err := pool.Exec(ctx, `UPDATE chunks SET model = 'local-hash-v2/384' WHERE position < 10`)
	require.NoError(t, err)
	require.EqualValues(t, 10, tag.RowsAffected())
	out.Reset()
	require.NoError(t, run(ctx, []string{"reindex"}, &out, &errOut, env("")), errOut.String())
	require.Contains(t, out.String(), "10 chunk(s) to embed with local-hash-v3/384")

	// Nothing left: a second run (the resume after an interruption) does nothing.
	out.Reset()
	require.NoError(t, run(ctx, []string{"reindex"}, &out, &errOut, env("")))
	require.Contains(t, out.String(), "0 chunk(s) to embed")

	// A new dimension: the column changes and everything is embedded again.
	out.Reset()
	require.Error(t, run(ctx, []string{"reindex", "--org", org.ID}, &out, &errOut, env("256")), "--org cannot change the dimension")
	out.Reset()
	require.NoError(t, run(ctx, []string{"reindex"}, &out, &errOut, env("256")), errOut.String())
	require.Contains(t, out.String(), "from 384 to 256 dimensions")
	require.Contains(t, out.String(), "done, 30 chunk(s) embedded")
	dim, err := st.EmbeddingDim(ctx)
	require.NoError(t, err)
	require.Equal(t, 256, dim)

	// Bad flags are usage errors.
	require.ErrorAs(t, run(ctx, []string{"reindex", "--org", "nope"}, &out, &errOut, env("")), new(usageError))
}
