package retrieval

import (
	"context"
	"fmt"
	"logbook/activity"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// fixture is one test's org on a rolled-back transaction, with a retrieval
// Service on the local provider.
type fixture struct {
	t     testing.TB
	st    *store.Store
	svc   *Service
	llm   *countingCompleter
	orgID string
	n     int
}

// countingCompleter counts the completions asked of the local provider.
type countingCompleter struct {
	llm.Completer
	calls atomic.Int64
}

func (c *countingCompleter) Complete(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error) {
	c.calls.Add(1)
	return c.Completer.Complete(ctx, req)
}

const testModel = "local-hash-v3/384"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st := store.New(testdb.Tx(t))
	p := local.New(384)
	cc := &countingCompleter{Completer: p}
	svc, err := New(Config{Store: st, Embedder: p, Completer: cc, EmbedModel: testModel})
	require.NoError(t, err)
	org, err := st.OrgCreate(context.Background(), "Org "+t.Name())
	require.NoError(t, err)
	return &fixture{t: t, st: st, svc: svc, llm: cc, orgID: org.ID}
}

// withOrg returns a fixture for another org on the same transaction.
func (f *fixture) withOrg(name string) *fixture {
	org, err := f.st.OrgCreate(context.Background(), name)
	require.NoError(f.t, err)
	g := *f
	g.orgID = org.ID
	return &g
}

func (f *fixture) account(name string) string {
	f.t.Helper()
	a, err := f.st.AccountCreate(context.Background(), f.orgID, crm.AccountInput{Name: crm.Some(name)})
	require.NoError(f.t, err)
	return a.ID
}

// meeting stores a processed meeting on the account: its transcript, the
// given notes and their chunks, as the worker would.
func (f *fixture) meeting(accountID string, at time.Time, notes crm.Notes, turns ...string) string {
	f.t.Helper()
	ctx := context.Background()
	f.n++
	ext := fmt.Sprintf("m%d", f.n)
	var segs []crm.Segment
	for i := 0; i+1 < len(turns); i += 2 {
		segs = append(segs, crm.Segment{Index: i / 2, Speaker: turns[i], StartMS: int64(i) * 4000, EndMS: int64(i)*4000 + 3500, Text: turns[i+1]})
	}
	got, err := activity.New(f.st).IngestTranscript(ctx, f.orgID, store.TranscriptIngest{
		Source: "zoom", ExternalID: &ext, Title: "Meeting " + ext, StartedAt: at, Format: "segments", Segments: segs,
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID),
			OccurredAt: crm.Some(at.Format(time.RFC3339)), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some(ext)},
	})
	require.NoError(f.t, err)
	tr := got.Transcript
	chunks, err := f.svc.MeetingChunks(ctx, f.orgID, tr.ActivityID, segs, notes)
	require.NoError(f.t, err)
	_, err = f.st.NotesSave(ctx, f.orgID, tr.ID, tr.Revision, notes, chunks)
	require.NoError(f.t, err)
	return tr.ActivityID
}

// activity logs an email, note or call with text and indexes it.
func (f *fixture) activity(accountID string, typ crm.ActivityType, at time.Time, subject, body string) string {
	f.t.Helper()
	ctx := context.Background()
	in := crm.ActivityInput{Type: crm.Some(typ), AccountID: crm.Some(accountID), OccurredAt: crm.Some(at.Format(time.RFC3339)),
		Subject: crm.Some(subject), Body: crm.Some(body)}
	require.NoError(f.t, in.Validate(true))
	a, _, _, err := activity.New(f.st).Upsert(ctx, f.orgID, in)
	require.NoError(f.t, err)
	_, err = f.svc.IndexActivity(ctx, f.orgID, a.ID)
	require.NoError(f.t, err)
	return a.ID
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(15 * time.Hour)
}

// countingEmbedder counts the texts embedded.
type countingEmbedder struct {
	llm.Embedder
	texts int
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.texts += len(texts)
	return c.Embedder.Embed(ctx, texts)
}

func activityRef(orgID, id string) store.ActivityToIndex {
	return store.ActivityToIndex{OrgID: orgID, ID: id}
}
