package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
	"logbook/retrieval"
	"logbook/summarize"
	"logbook/worker"
)

// orgRows counts, per table with an org_id column, the rows of org.
func orgRows(t *testing.T, pool *pgxpool.Pool, orgID string) map[string]int {
	t.Helper()
	ctx := context.Background()
	tables, err := store.New(pool).OrgTables(ctx)
	require.NoError(t, err)
	require.Contains(t, tables, "chunk_terms")
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{tb}.Sanitize()+` WHERE org_id = $1`, orgID).Scan(&n))
		out[tb] = n
	}
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM orgs WHERE id = $1`, orgID).Scan(&n))
	out["orgs"] = n
	return out
}

// fillOrg gives an org a row in as many tables as the product writes:
// keys, a user, an account with a domain, contacts, a deal, activities, a
// processed meeting (notes, action items, follow-up, chunks, BM25
// statistics, webhook deliveries), a brief, an ingest secret, and one
// transcript still queued (with its task in Redis).
func fillOrg(t *testing.T, pool *pgxpool.Pool, q queue.Queues, name string) (orgID, queuedTranscript string) {
	t.Helper()
	ctx := context.Background()
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, name)
	require.NoError(t, err)
	_, err = st.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	_, err = st.IngestSecretRotate(ctx, org.ID)
	require.NoError(t, err)
	_, err = st.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("maya@northwind.test"), Name: crm.Some("Maya Patel"), Role: crm.Some(crm.RoleRep)})
	require.NoError(t, err)
	acct, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.test"})})
	require.NoError(t, err)
	_, err = st.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(acct.ID), Name: crm.Some("Dana Lee"), Email: crm.Some("dana@acme.test")})
	require.NoError(t, err)
	_, err = st.DealCreate(ctx, org.ID, crm.DealInput{AccountID: crm.Some(acct.ID), Name: crm.Some("Renewal")})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO webhooks (org_id, id, url, events, secret) VALUES ($1, $2, $3, $4, $5)`,
		org.ID, store.NewID(), "https://hooks.example.com/x", []string{store.EventMeetingProcessed, store.EventActivityCreated}, "whsec-0123456789abcdef")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO account_briefs (org_id, account_id, brief, fingerprint, generated_at) VALUES ($1, $2, '{}', 'x', now())`,
		org.ID, acct.ID)
	require.NoError(t, err)

	rdb := testredis.Client(t)
	enq := queue.NewEnqueuer(rdb, q)
	emb := local.New(384)
	rs, err := retrieval.New(retrieval.Config{Store: st, Embedder: emb, Completer: emb, EmbedModel: emb.Model()})
	require.NoError(t, err)
	w, err := worker.New(worker.Config{Store: st, Summarizer: summarize.New(emb, summarize.Config{}), Retrieval: rs, Redis: rdb, Enqueuer: enq, Queues: q})
	require.NoError(t, err)
	ingest := func(ext string) crm.Transcript {
		res, err := activity.New(st).IngestTranscript(ctx, org.ID, store.TranscriptIngest{
			Source: "zoom", ExternalID: &ext, Title: "Renewal", StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC), Format: "segments",
			Segments: []crm.Segment{
				{Index: 0, Speaker: "Dana Lee", Text: "Our concern is the single sign-on rollout for the wallaby team."},
				{Index: 1, Speaker: "Maya Patel", Text: "I'll send the setup guide by Friday."},
			},
			Participants: []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}, {Name: "Maya Patel", Email: "maya@northwind.test"}},
			Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(acct.ID), OccurredAt: crm.Some("2026-03-04T15:00:00Z"),
				Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:" + ext),
				Participants: crm.Some([]crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}})},
		})
		require.NoError(t, err)
		return res.Transcript
	}
	// A deleted activity: its tombstone stays in the activity feed.
	note := crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(acct.ID), OccurredAt: crm.Some("2026-03-03T15:00:00Z")}
	require.NoError(t, note.Validate(true))
	gone, _, _, err := activity.New(st).Upsert(ctx, org.ID, note)
	require.NoError(t, err)
	require.NoError(t, st.ActivityDelete(ctx, org.ID, gone.ID))
	done := ingest("m1")
	task, err := queue.NewTranscriptProcessTask(queue.TranscriptPayload{OrgID: org.ID, TranscriptID: done.ID})
	require.NoError(t, err)
	require.NoError(t, w.HandleTranscriptProcess(ctx, task))
	queued := ingest("m2")
	require.NoError(t, enq.EnqueueTranscript(ctx, org.ID, queued.ID))
	return org.ID, queued.ID
}

func TestOrgsDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.SchemaURL(t, true)
	pool, err := store.Connect(ctx, url, store.PoolConfig{})
	require.NoError(t, err)
	defer pool.Close()
	prefix := testredis.Name(t) + "-"
	q := queue.Queues{LLM: prefix + "llm", Default: prefix + "default"}
	insp := asynq.NewInspectorFromRedisClient(testredis.Client(t))
	t.Cleanup(func() {
		_ = insp.DeleteQueue(q.LLM, true)
		_ = insp.DeleteQueue(q.Default, true)
	})
	gone, queued := fillOrg(t, pool, q, "Northwind")
	kept, _ := fillOrg(t, pool, q, "Globex")
	before := orgRows(t, pool, gone)
	require.Positive(t, before["activity_tombstones"], "the activity feed's tombstones are the org's data too")
	var filled []string
	for tb, n := range before {
		if n > 0 {
			filled = append(filled, tb)
		}
	}
	// Every table of this branch's schema; tables added later may be empty.
	require.GreaterOrEqual(t, len(filled), 20, "the org has rows in most tables: %v", before)
	t.Logf("rows of the org to delete, per table: %v", before)
	keptBefore := orgRows(t, pool, kept)
	_, err = insp.GetTaskInfo(q.LLM, queued)
	require.NoError(t, err)

	env := envOf(map[string]string{"DATABASE_URL": url, "REDIS_URL": testredis.URL(), "QUEUE_PREFIX": prefix, "LOG_LEVEL": "error"})
	var out, errb strings.Builder
	err = run(ctx, []string{"orgs", "delete", "--id", gone}, &out, &errb, env)
	var ue usageError
	require.ErrorAs(t, err, &ue, "without --yes it refuses")
	require.Contains(t, err.Error(), "--yes")
	require.Equal(t, before, orgRows(t, pool, gone), "nothing changed without --yes")

	require.NoError(t, run(ctx, []string{"orgs", "delete", "--id", gone, "--yes"}, &out, &errb, env), errb.String())
	var res orgsDeleteResult
	require.NoError(t, json.Unmarshal([]byte(out.String()), &res), out.String())
	require.True(t, res.Deleted)
	require.Equal(t, "Northwind", res.Name)
	require.GreaterOrEqual(t, res.TasksRemoved, 1)

	for tb, n := range orgRows(t, pool, gone) {
		require.Zero(t, n, "%s still has rows of the deleted org", tb)
	}
	require.Equal(t, keptBefore, orgRows(t, pool, kept), "the other org is untouched")
	_, err = insp.GetTaskInfo(q.LLM, queued)
	require.ErrorIs(t, err, asynq.ErrTaskNotFound, "its queued task left Redis")

	err = run(ctx, []string{"orgs", "delete", "--id", gone, "--yes"}, &out, &errb, env)
	require.ErrorContains(t, err, "no org")
}

// TestOrgsDeleteUsage: -h prints the flags and runs nothing; a missing or
// malformed --id is a usage error before anything is opened.
func TestOrgsDeleteUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out, errb strings.Builder
	require.NoError(t, run(ctx, []string{"orgs", "delete", "-h"}, &out, &errb, envOf(nil)))
	require.Contains(t, errb.String(), "-yes")
	for _, args := range [][]string{{"orgs", "delete"}, {"orgs", "delete", "--id", "nope", "--yes"}} {
		var ue usageError
		require.ErrorAs(t, run(ctx, args, &out, &errb, envOf(nil)), &ue, "%v", args)
	}
}
