package main

import (
	"context"
	"logbook/activity"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/llmtest"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

// TestMain lets a test start the real command: a child process running this
// test binary with LOGBOOK_TEST_MAIN=1 runs main() instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("LOGBOOK_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startLogbook runs `logbook <args>` as a child process with env.
func startLogbook(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LOGBOOK_TEST_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// TestWorkerKilledMidTask kills a worker (SIGKILL) while the model is
// answering, then starts another: the task runs again once asynq's lease on
// it has expired (about a minute with asynq's defaults), and the meeting ends
// with exactly one set of notes.
func TestWorkerKilledMidTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.SchemaURL(t, true)
	pool, err := store.Connect(ctx, url, store.PoolConfig{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := store.New(pool)
	org, err := s.OrgCreate(ctx, "Northwind")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.test"})})
	require.NoError(t, err)
	ext := "crash-1"
	segs := []crm.Segment{
		{Index: 0, Speaker: "Maya Patel", StartMS: 0, EndMS: 5000, Text: "I'll send the Okta setup guide by Friday."},
		{Index: 1, Speaker: "Dana Lee", StartMS: 5000, EndMS: 9000, Text: "Thanks. We agreed to start the pilot on March 15."},
	}
	ing, err := activity.New(s).IngestTranscript(ctx, org.ID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: "Acme sync", StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		Format: "segments", Segments: segs, Participants: []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}},
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(acct.ID),
			OccurredAt: crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:" + ext)},
	})
	require.NoError(t, err)
	tr := ing.Transcript

	// The model hangs on the first request (the worker dies waiting), then
	// answers like a good model.
	srv := llmtest.NewServer(t)
	srv.EmbedDim = 384 // the chunks table's dimension (EMBED_DIM's default)
	srv.Reply(llmtest.Reply{Delay: 5 * time.Minute, Content: "{}"})
	srv.Default = func(req llmtest.ChatRequest) string {
		for _, m := range req.Messages {
			if strings.Contains(m.Content, "<<<TRANSCRIPT") {
				return `{"summary":[{"text":"Pilot agreed.","segments":[1],"quote":"start the pilot on March 15"}],"key_points":[],"decisions":[],"risks":[],` +
					`"action_items":[{"text":"Send the Okta setup guide","owner":"Maya Patel","due":"by Friday","segments":[0],"quote":"send the Okta setup guide by Friday","tentative":false}]}`
			}
		}
		return `{"subject":"Follow-up","body":"Hi Dana, thanks."}`
	}
	prefix := testredis.Name(t) + "-"
	env := map[string]string{
		"DATABASE_URL": url, "REDIS_URL": testredis.URL(), "QUEUE_PREFIX": prefix, "LOG_LEVEL": "warn",
		"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": srv.URL(), "OPENAI_API_KEY": "test-key",
		"CHAT_MODEL": llmtest.DefaultChatModel, "EMBED_MODEL": llmtest.DefaultEmbedModel, "SHUTDOWN_TIMEOUT": "5s",
	}
	rdb := testredis.Client(t)
	q := queue.Queues{LLM: prefix + "llm", Default: prefix + "default"}
	enq := queue.NewEnqueuer(rdb, q)
	require.NoError(t, enq.EnqueueTranscript(ctx, org.ID, tr.ID))

	first := startLogbook(t, env, "worker")
	require.Eventually(t, func() bool { return len(srv.ChatRequests()) >= 1 }, 30*time.Second, 50*time.Millisecond,
		"the first worker never called the model")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	killedAt := time.Now()
	cur, err := s.TranscriptGet(ctx, org.ID, tr.ID, false)
	require.NoError(t, err)
	require.Equal(t, crm.TranscriptProcessing, cur.Status, "the killed worker left the transcript mid-task")

	// asynq hands a task on once its lease (30 s after the last heartbeat)
	// has been expired for another 30 s (its allowance for clock skew); a new
	// worker's recoverer runs at start, so start it just after that.
	time.Sleep(time.Until(killedAt.Add(62 * time.Second)))
	second := startLogbook(t, env, "worker")
	require.Eventually(t, func() bool {
		cur, err = s.TranscriptGet(ctx, org.ID, tr.ID, false)
		return err == nil && cur.Status == crm.TranscriptDone
	}, 90*time.Second, 100*time.Millisecond, "the task did not run again after the crash")
	require.Equal(t, 2, cur.Attempts)
	var notes, items int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM meeting_notes WHERE org_id = $1`, org.ID).Scan(&notes))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM action_items WHERE org_id = $1`, org.ID).Scan(&items))
	require.Equal(t, 1, notes)
	require.Equal(t, 1, items)

	// SIGTERM stops the worker gracefully.
	require.NoError(t, second.Process.Signal(syscall.SIGTERM))
	require.NoError(t, second.Wait())
}
