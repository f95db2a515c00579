package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

// transcriptRecorder is an Enqueuer that records what the API enqueues,
// after checking that each transcript is already stored and queued (the API
// enqueues only what its transaction wrote).
type transcriptRecorder struct {
	t          *testing.T
	store      *store.Store
	mu         sync.Mutex
	ids        []string
	deliveries []string
}

func (r *transcriptRecorder) EnqueueTranscript(ctx context.Context, orgID, id string) error {
	tr, err := r.store.TranscriptGet(ctx, orgID, id, false)
	require.NoError(r.t, err, "enqueued transcript %s is not stored", id)
	require.Equal(r.t, crm.TranscriptQueued, tr.Status, "an enqueued transcript is queued")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

func (r *transcriptRecorder) EnqueueWebhook(_ context.Context, _, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, id)
	return nil
}

// take returns the transcript IDs recorded since the last call.
func (r *transcriptRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.ids
	r.ids = nil
	return ids
}

// trBundle is setup(t) with the transaction at hand and a
// transcriptRecorder as the Enqueuer (unless deps replaces it).
type trBundle struct {
	*testBundle
	tx  pgx.Tx
	rec *transcriptRecorder
}

func trSetup(t *testing.T, deps func(*Deps)) *trBundle {
	t.Helper()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	rec := &transcriptRecorder{t: t, store: s}
	d := Deps{Store: s, Enqueuer: rec}
	if deps != nil {
		deps(&d)
	}
	h, err := NewHandler(d)
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
	return &trBundle{testBundle: b, tx: tx, rec: rec}
}

// count counts the rows of table in org.
func (b *trBundle) count(table, orgID string) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.tx.QueryRow(context.Background(),
		fmt.Sprintf(`SELECT count(*) FROM %s WHERE org_id = $1`, table), orgID).Scan(&n))
	return n
}

// account creates an account with domains and returns its ID.
func (b *trBundle) account(name string, domains ...string) string {
	b.t.Helper()
	return b.create("/v1/accounts", map[string]any{"name": name, "domains": append([]string{}, domains...)})
}

// accepted decodes a 200 or 202 answer to a posted transcript.
func (b *trBundle) accepted(res response, status int) transcriptAccepted {
	b.t.Helper()
	require.Equal(b.t, status, res.Status, "%s", res.Body)
	m := res.Map(b.t)
	require.Len(b.t, m, 4, "exactly id, activity_id, status, status_url: %s", res.Body)
	var a transcriptAccepted
	res.JSON(b.t, &a)
	require.True(b.t, crm.ValidID(a.ID), a.ID)
	require.True(b.t, crm.ValidID(a.ActivityID), a.ActivityID)
	require.Equal(b.t, "/v1/transcripts/"+a.ID, a.StatusURL)
	return a
}

// hook POSTs body to the signed transcript hook with the given headers.
func (b *trBundle) hook(body []byte, headers map[string]string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", "/v1/hooks/transcripts", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return b.serve(req)
}

// trExample is one entry of examples/meetings.json.
type trExample struct {
	File         string            `json:"file"`
	Format       string            `json:"format"`
	Title        string            `json:"title"`
	StartedAt    string            `json:"started_at"`
	Duration     int               `json:"duration_seconds"`
	Source       string            `json:"source"`
	ExternalID   string            `json:"external_id"`
	Participants []crm.Participant `json:"participants"`
	Account      struct {
		Name    string   `json:"name"`
		Domains []string `json:"domains"`
	} `json:"account"`
}

// content reads the meeting's transcript file.
func (m trExample) content(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", m.File))
	require.NoError(t, err)
	return string(b)
}

// body is the POST /v1/transcripts body of the meeting, resolved by
// participants (add account_id to pin it).
func (m trExample) body(t *testing.T) map[string]any {
	return map[string]any{"source": m.Source, "external_id": m.ExternalID, "title": m.Title, "started_at": m.StartedAt,
		"duration_seconds": m.Duration, "participants": m.Participants, "format": m.Format, "content": m.content(t)}
}

// trCamel turns a file name such as acme-renewal-qbr.vtt into
// AcmeRenewalQbrVtt, for a subtest name.
func trCamel(s string) string {
	var sb strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
		sb.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return sb.String()
}

func trExamples(t *testing.T) []trExample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "meetings.json"))
	require.NoError(t, err)
	var ms []trExample
	require.NoError(t, json.Unmarshal(b, &ms))
	require.NotEmpty(t, ms)
	return ms
}

// trSegmentsBody is a small meeting posted as segments, on account.
func trSegmentsBody(account, externalID string) map[string]any {
	return map[string]any{
		"source": "zoom", "external_id": externalID, "title": "Acme QBR", "started_at": "2026-03-02T15:00:00Z",
		"account_id": account,
		"participants": []map[string]string{
			{"name": "Dana Lee", "email": "dana@acme.test"}, {"name": "Maya Patel", "email": "maya@seller.test"}},
		"segments": []map[string]any{
			{"speaker": "Maya Patel", "start_ms": 0, "end_ms": 4200, "text": "Thanks for joining, Dana."},
			{"speaker": "Dana Lee", "start_ms": 4200, "end_ms": 9000, "text": "I will send the user list by March 10."},
			{"speaker": "Maya Patel", "start_ms": 9000, "end_ms": 15000, "text": "I'll send the SOC 2 report by Friday."},
		},
	}
}

// segmentsOf GETs a transcript with ?include=segments and returns the raw
// segment objects.
func (b *trBundle) segmentsOf(id string) []map[string]any {
	b.t.Helper()
	res := b.do("GET", "/v1/transcripts/"+id+"?include=segments", nil)
	require.Equal(b.t, http.StatusOK, res.Status, "%s", res.Body)
	raw, ok := res.Map(b.t)["segments"].([]any)
	require.True(b.t, ok, "segments: %s", res.Body)
	out := make([]map[string]any, len(raw))
	for i, s := range raw {
		out[i] = s.(map[string]any)
	}
	return out
}

func TestTranscriptIngest(t *testing.T) {
	t.Parallel()

	for _, m := range trExamples(t) {
		t.Run("Example"+trCamel(m.File), func(t *testing.T) {
			t.Parallel()
			b := trSetup(t, nil)
			acct := b.account(m.Account.Name, m.Account.Domains...)
			a := b.accepted(b.do("POST", "/v1/transcripts", m.body(t)), http.StatusAccepted)
			require.Equal(t, crm.TranscriptQueued, a.Status)
			require.Equal(t, []string{a.ID}, b.rec.take(), "the new transcript is enqueued, once")

			got := b.do("GET", a.StatusURL, nil)
			require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
			gm := got.Map(t)
			require.Equal(t, a.ID, gm["id"])
			require.Equal(t, a.ActivityID, gm["activity_id"])
			require.Equal(t, "queued", gm["status"])
			require.EqualValues(t, 0, gm["attempts"])
			require.Nil(t, gm["error"])
			require.Nil(t, gm["processed_at"])
			require.NotEmpty(t, gm["received_at"])
			require.NotContains(t, gm, "segments", "segments only with ?include=segments")

			segs := b.segmentsOf(a.ID)
			require.GreaterOrEqual(t, len(segs), 30, "a real meeting")
			speakers := map[string]bool{}
			var prev float64
			for i, s := range segs {
				keys := make([]string, 0, len(s))
				for k := range s {
					keys = append(keys, k)
				}
				require.ElementsMatch(t, []string{"index", "speaker", "start_ms", "end_ms", "text"}, keys)
				require.EqualValues(t, i, s["index"])
				require.NotEmpty(t, s["text"])
				start, end := s["start_ms"].(float64), s["end_ms"].(float64)
				require.LessOrEqual(t, start, end, "segment %d", i)
				require.GreaterOrEqual(t, start, prev, "segment %d starts before the one before it", i)
				prev = start
				speakers[s["speaker"].(string)] = true
			}
			for _, p := range m.Participants {
				require.True(t, speakers[p.Name], "%s never speaks", p.Name)
			}

			act := b.do("GET", "/v1/activities/"+a.ActivityID, nil)
			require.Equal(t, http.StatusOK, act.Status)
			var activity crm.Activity
			act.JSON(t, &activity)
			require.Equal(t, acct, activity.AccountID, "resolved by the participants' domain")
			require.Equal(t, crm.ActivityMeeting, activity.Type)
			require.Equal(t, crm.SourceNotetaker, activity.Source)
			require.NotNil(t, activity.Subject)
			require.Equal(t, m.Title, *activity.Subject)
			require.Equal(t, m.StartedAt, activity.OccurredAt.UTC().Format(time.RFC3339))
			require.NotNil(t, activity.DurationSeconds)
			require.Equal(t, m.Duration, *activity.DurationSeconds)
			require.Equal(t, m.Source+":"+m.ExternalID, *activity.ExternalID)
			require.JSONEq(t, fmt.Sprintf(`{"transcript_source":%q,"transcript_format":%q}`, m.Source, m.Format),
				string(activity.Metadata))
		})
	}

	t.Run("FormatIsDetectedWhenNotGiven", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		for _, m := range trExamples(t) {
			b.account(m.Account.Name, m.Account.Domains...)
			body := m.body(t)
			delete(body, "format")
			a := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
			act := b.do("GET", "/v1/activities/"+a.ActivityID, nil)
			require.Equal(t, http.StatusOK, act.Status)
			var meta map[string]string
			require.NoError(t, json.Unmarshal([]byte(mustField(t, act, "metadata")), &meta))
			require.Equal(t, m.Format, meta["transcript_format"], m.File)
		}
	})

	t.Run("Segments", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		a := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(acct, "seg-1")), http.StatusAccepted)
		require.Equal(t, crm.TranscriptQueued, a.Status)
		require.Equal(t, []string{a.ID}, b.rec.take())
		segs := b.segmentsOf(a.ID)
		require.Equal(t, []map[string]any{
			{"index": 0.0, "speaker": "Maya Patel", "start_ms": 0.0, "end_ms": 4200.0, "text": "Thanks for joining, Dana."},
			{"index": 1.0, "speaker": "Dana Lee", "start_ms": 4200.0, "end_ms": 9000.0, "text": "I will send the user list by March 10."},
			{"index": 2.0, "speaker": "Maya Patel", "start_ms": 9000.0, "end_ms": 15000.0, "text": "I'll send the SOC 2 report by Friday."},
		}, segs)
		var activity crm.Activity
		act := b.do("GET", "/v1/activities/"+a.ActivityID, nil)
		act.JSON(t, &activity)
		require.Equal(t, 15, *activity.DurationSeconds, "taken from the last segment's end when not given")
		require.JSONEq(t, `{"transcript_source":"zoom","transcript_format":"segments"}`, string(activity.Metadata))
	})

	t.Run("GoogleMeetHeader", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Carriers")
		content, err := os.ReadFile("../internal/transcript/testdata/google_meet.txt")
		require.NoError(t, err)
		body := map[string]any{"source": "meet", "external_id": "meet-1", "started_at": "2026-05-12T13:30:00Z",
			"account_id": acct, "content": string(content)}
		a := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		var activity crm.Activity
		b.do("GET", "/v1/activities/"+a.ActivityID, nil).JSON(t, &activity)
		require.NotNil(t, activity.Subject)
		require.Equal(t, "Carrier portal rollout", *activity.Subject, "the export's title, not a line of talk")
		require.Equal(t, 702, *activity.DurationSeconds, "from \"Meeting ended after 00:11:42\"")
		var names []string
		for _, p := range activity.Participants {
			names = append(names, p.Name)
		}
		require.ElementsMatch(t, []string{"Hannah Becker", "Kofi Mensah", "Priya Nair", "Tomás Ortega"}, names,
			"the attendees (without the presentation entry)")
		for _, s := range b.segmentsOf(a.ID) {
			require.NotContains(t, []string{"Attendees", "Transcript", "One more thing"}, s["speaker"])
			require.NotContains(t, s["text"], "computer generated")
		}

		// A title the client sends wins over the export's.
		body["external_id"], body["title"] = "meet-2", "Weekly sync"
		a = b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		b.do("GET", "/v1/activities/"+a.ActivityID, nil).JSON(t, &activity)
		require.Equal(t, "Weekly sync", *activity.Subject)
	})

	t.Run("IncludeIsChecked", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		a := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(b.account("Acme"), "inc")), http.StatusAccepted)
		res := b.do("GET", "/v1/transcripts/"+a.ID+"?include=bogus", nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.Equal(t, []string{"include"}, res.Fields(t))
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/transcripts/not-an-id", nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/transcripts/"+store.NewID(), nil).Status)
		_, otherKey := b.newOrg("Other")
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "GET", "/v1/transcripts/"+a.ID, nil).Status)
		require.Equal(t, http.StatusNotFound, b.doKey(otherKey, "GET", "/v1/transcripts/"+a.ID+"?include=segments", nil).Status)
	})

	t.Run("Scopes", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		read := b.keyWith(crm.ScopeRead)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/transcripts", trSegmentsBody(acct, "s")).Status)
		ingest := b.keyWith(crm.ScopeIngest)
		res := b.doKey(ingest, "POST", "/v1/transcripts", trSegmentsBody(acct, "s"))
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		require.Equal(t, http.StatusUnauthorized, b.doKey("", "POST", "/v1/transcripts", trSegmentsBody(acct, "s")).Status)
	})
}

// mustField returns the raw JSON of one field of a response object.
func mustField(t *testing.T, res response, name string) string {
	t.Helper()
	var m map[string]json.RawMessage
	res.JSON(t, &m)
	v, ok := m[name]
	require.True(t, ok, "no %s in %s", name, res.Body)
	return string(v)
}

func TestTranscriptAccountResolution(t *testing.T) {
	t.Parallel()

	// activity GETs the meeting and checks what every meeting carries.
	activity := func(b *trBundle, a transcriptAccepted, title, startedAt string) crm.Activity {
		b.t.Helper()
		res := b.do("GET", "/v1/activities/"+a.ActivityID, nil)
		require.Equal(b.t, http.StatusOK, res.Status)
		var act crm.Activity
		res.JSON(b.t, &act)
		require.Equal(b.t, crm.ActivityMeeting, act.Type)
		require.Equal(b.t, crm.SourceNotetaker, act.Source)
		require.NotNil(b.t, act.Subject)
		require.Equal(b.t, title, *act.Subject)
		require.True(b.t, act.OccurredAt.Equal(mustTime(b.t, startedAt)), "occurred_at %s, started_at %s", act.OccurredAt, startedAt)
		// It is on the account's timeline.
		tl := b.do("GET", "/v1/accounts/"+act.AccountID+"/timeline", nil)
		require.Equal(b.t, http.StatusOK, tl.Status, "%s", tl.Body)
		var page crm.Page[crm.Activity]
		tl.JSON(b.t, &page)
		require.True(b.t, slices.ContainsFunc(page.Items, func(x crm.Activity) bool { return x.ID == act.ID }),
			"the meeting is on its account's timeline")
		return act
	}
	body := func(participants ...crm.Participant) map[string]any {
		return map[string]any{"source": "zoom", "external_id": "m-" + store.NewID(), "title": "Weekly sync",
			"started_at": "2026-03-02T16:30:00+01:00", "participants": participants, "format": "text",
			"content": "Dana Lee: I will send the user list by March 10.\nMaya Patel: Thanks Dana.\n"}
	}
	dana := crm.Participant{Name: "Dana Lee", Email: "dana@personal.example"}
	maya := crm.Participant{Name: "Maya Patel", Email: "maya@seller.test"}

	t.Run("ByAccountID", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acme := b.account("Acme")
		b.account("Personal", "personal.example") // would win by domain
		in := body(dana, maya)
		in["account_id"] = acme
		a := b.accepted(b.do("POST", "/v1/transcripts", in), http.StatusAccepted)
		require.Equal(t, acme, activity(b, a, "Weekly sync", "2026-03-02T16:30:00+01:00").AccountID)
	})

	t.Run("ByContactEmail", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acme := b.account("Acme")
		b.account("Personal", "personal.example") // a contact's email wins over a domain
		contact := b.create("/v1/contacts", map[string]any{"account_id": acme, "name": "Dana Lee", "email": dana.Email})
		a := b.accepted(b.do("POST", "/v1/transcripts", body(dana, maya)), http.StatusAccepted)
		act := activity(b, a, "Weekly sync", "2026-03-02T16:30:00+01:00")
		require.Equal(t, acme, act.AccountID)
		require.Equal(t, []string{contact}, act.ContactIDs, "the matched contact is linked")
		require.Equal(t, []crm.Participant{dana, maya}, act.Participants)
	})

	t.Run("ByEmailDomain", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		b.account("Acme", "acme.example")
		globex := b.account("Globex", "globex.example", "globex-corp.example")
		a := b.accepted(b.do("POST", "/v1/transcripts", body(
			crm.Participant{Name: "Olivia Brooks", Email: "olivia@globex.example"},
			crm.Participant{Name: "Raj Mehta", Email: "raj@globex-corp.example"},
			crm.Participant{Name: "Ann", Email: "ann@acme.example"}, maya)), http.StatusAccepted)
		require.Equal(t, globex, activity(b, a, "Weekly sync", "2026-03-02T16:30:00+01:00").AccountID,
			"the account with the most matching participants")
	})

	t.Run("NothingMatchesIs422", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		b.account("Acme", "acme.example")
		res := b.do("POST", "/v1/transcripts", body(dana, maya))
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"participants"}, res.Fields(t), "%s", res.Body)
		require.Contains(t, string(res.Body), "pass account_id")
		// No participants to go by: account_id is required.
		res = b.do("POST", "/v1/transcripts", body())
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"account_id"}, res.Fields(t), "%s", res.Body)
		res = b.do("POST", "/v1/transcripts", body(crm.Participant{Name: "Nobody"}))
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Equal(t, []string{"participants"}, res.Fields(t), "%s", res.Body)
		require.Empty(t, b.rec.take())
		require.Zero(t, b.count("transcripts", b.orgID))
		require.Zero(t, b.count("activities", b.orgID))
	})

	t.Run("UnknownAccountIs422", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		_, otherKey := b.newOrg("Other")
		otherAcct := b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Theirs"}).Map(t)["id"].(string)
		for _, id := range []string{store.NewID(), otherAcct} {
			in := body(maya)
			in["account_id"] = id
			res := b.do("POST", "/v1/transcripts", in)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
			require.Equal(t, []string{"account_id"}, res.Fields(t))
		}
		require.Zero(t, b.count("transcripts", b.orgID))
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func TestTranscriptIdempotency(t *testing.T) {
	t.Parallel()

	t.Run("SameContentIs200AndNotEnqueued", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		body := trSegmentsBody(acct, "idem")
		first := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		require.Equal(t, []string{first.ID}, b.rec.take())
		for range 2 {
			again := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusOK)
			require.Equal(t, first, again)
		}
		require.Empty(t, b.rec.take(), "nothing changed, nothing to enqueue")
		require.Equal(t, 1, b.count("transcripts", b.orgID))
		require.Equal(t, 1, b.count("activities", b.orgID))
	})

	t.Run("SameContentAfterProcessingKeepsTheNotes", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		ctx := context.Background()
		body := trSegmentsBody(b.account("Acme"), "idem-done")
		first := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		b.rec.take()
		trSaveNotes(t, b, first.ID, "Dana Lee")
		again := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusOK)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, crm.TranscriptDone, again.Status)
		require.Empty(t, b.rec.take())
		_, notes, err := b.store.MeetingNotes(ctx, b.orgID, first.ActivityID)
		require.NoError(t, err)
		require.Len(t, notes.ActionItems, 1)
	})

	t.Run("ChangedContentIsQueuedAgain", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		ctx := context.Background()
		body := trSegmentsBody(b.account("Acme"), "idem-changed")
		first := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		require.Equal(t, []string{first.ID}, b.rec.take())
		trSaveNotes(t, b, first.ID, "Dana Lee")
		done, err := b.store.TranscriptGet(ctx, b.orgID, first.ID, false)
		require.NoError(t, err)
		require.Equal(t, crm.TranscriptDone, done.Status)

		segs := body["segments"].([]map[string]any)
		segs[2]["text"] = "I'll send the revised order form by Monday."
		again := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, first.ActivityID, again.ActivityID)
		require.Equal(t, crm.TranscriptQueued, again.Status)
		require.Equal(t, []string{first.ID}, b.rec.take(), "new content is enqueued again")

		got := b.do("GET", again.StatusURL, nil).Map(t)
		require.Equal(t, "queued", got["status"])
		require.EqualValues(t, 0, got["attempts"])
		cur, err := b.store.TranscriptGet(ctx, b.orgID, first.ID, true)
		require.NoError(t, err)
		require.Equal(t, done.Revision+1, cur.Revision)
		require.Equal(t, "I'll send the revised order form by Monday.", cur.Segments[2].Text)
		require.Equal(t, 1, b.count("transcripts", b.orgID))
		require.Equal(t, 1, b.count("activities", b.orgID))

		// The same new content once more: unchanged.
		b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusOK)
		require.Empty(t, b.rec.take())
		// A new title is new content too.
		body["title"] = "Acme QBR (renamed)"
		b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		require.Equal(t, []string{first.ID}, b.rec.take())
	})

	// A re-post that only corrects account_id moves the meeting; the
	// transcript and its action items must move with it (they were left on
	// the old account).
	t.Run("SameContentOnAnotherAccountMovesTheNotes", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		ctx := context.Background()
		acme, globex := b.account("Acme"), b.account("Globex")
		body := trSegmentsBody(acme, "moved")
		first := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		b.rec.take()
		items := trSaveNotes(t, b, first.ID, "Dana Lee", "Maya Patel")
		require.Equal(t, acme, items[0].AccountID)

		body["account_id"] = globex
		again := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusOK)
		require.Equal(t, first.ID, again.ID)
		require.Empty(t, b.rec.take(), "the content did not change")
		require.Equal(t, globex, b.do("GET", "/v1/activities/"+first.ActivityID, nil).Map(t)["account_id"])
		for _, q := range []string{"?account_id=" + globex, "?account_id=" + globex + "&owner=dana%20lee"} {
			res := b.do("GET", "/v1/action-items"+q, nil)
			require.Equal(t, http.StatusOK, res.Status)
			var p crm.Page[crm.ActionItem]
			res.JSON(t, &p)
			require.NotEmpty(t, p.Items, q)
			for _, it := range p.Items {
				require.Equal(t, globex, it.AccountID)
			}
		}
		require.JSONEq(t, `{"items":[],"next_cursor":null,"groups":[]}`, string(b.do("GET", "/v1/action-items?account_id="+acme, nil).Body))
		tr, err := b.store.TranscriptGet(ctx, b.orgID, first.ID, false)
		require.NoError(t, err)
		require.Equal(t, globex, tr.AccountID, "the worker reads the account's domains from the transcript's account")

		// Moved with new content too: the old items follow until reprocessed.
		body["account_id"] = acme
		body["title"] = "Acme QBR, take two"
		b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		_, notes, err := b.store.MeetingNotes(ctx, b.orgID, first.ActivityID)
		require.NoError(t, err)
		for _, it := range notes.ActionItems {
			require.Equal(t, acme, it.AccountID)
		}
	})

	t.Run("SameExternalIDOfAnotherSourceIsAnotherMeeting", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		body := trSegmentsBody(b.account("Acme"), "shared-id")
		first := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		body["source"] = "teams"
		second := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		require.NotEqual(t, first.ID, second.ID)
		require.NotEqual(t, first.ActivityID, second.ActivityID)
		require.Equal(t, []string{first.ID, second.ID}, b.rec.take())
	})

	t.Run("AnotherOrgsSameMeetingIsItsOwn", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		body := trSegmentsBody(b.account("Acme"), "cross-org")
		first := b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
		_, otherKey := b.newOrg("Other")
		body["account_id"] = b.doKey(otherKey, "POST", "/v1/accounts", map[string]any{"name": "Acme"}).Map(t)["id"]
		res := b.doKey(otherKey, "POST", "/v1/transcripts", body)
		other := b.accepted(res, http.StatusAccepted)
		require.NotEqual(t, first.ID, other.ID)
		require.Equal(t, []string{first.ID, other.ID}, b.rec.take())
	})
}

// trSaveNotes stores processed notes for a transcript with two action items
// (owners owner and "Maya Patel"), as the worker would, and returns them.
func trSaveNotes(t *testing.T, b *trBundle, transcriptID string, owners ...string) []crm.ActionItem {
	t.Helper()
	ctx := context.Background()
	tr, err := b.store.TranscriptGet(ctx, b.orgID, transcriptID, false)
	require.NoError(t, err)
	var items []crm.ActionItem
	for i, o := range owners {
		owner := o
		due := crm.Date{Time: time.Date(2026, 3, 10+i, 0, 0, 0, 0, time.UTC)}
		items = append(items, crm.ActionItem{Text: fmt.Sprintf("Item %d of %s", i, transcriptID[len(transcriptID)-4:]),
			Owner: &owner, DueDate: &due,
			Evidence: []crm.Evidence{{Segment: 1, StartMS: 4200, Speaker: "Dana Lee", Quote: "I will send the user list"}}})
	}
	_, err = b.store.NotesSave(ctx, b.orgID, transcriptID, tr.Revision, crm.Notes{Summary: "A sync.",
		ActionItems: items, Coverage: 1, Model: "test", PromptVersion: "test"}, nil)
	require.NoError(t, err)
	_, notes, err := b.store.MeetingNotes(ctx, b.orgID, tr.ActivityID)
	require.NoError(t, err)
	require.Len(t, notes.ActionItems, len(owners))
	return notes.ActionItems
}

func TestTranscriptBadInput(t *testing.T) {
	t.Parallel()

	t.Run("Rejected", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		valid := func(change func(m map[string]any)) map[string]any {
			m := map[string]any{"source": "zoom", "external_id": "bad", "title": "Acme QBR",
				"started_at": "2026-03-02T15:00:00Z", "account_id": acct, "format": "text",
				"content": "Dana Lee: Hello there.\nMaya Patel: Hi Dana.\n"}
			change(m)
			return m
		}
		for _, c := range []struct {
			name   string
			body   any
			status int
			fields []string
			detail string // in the body
		}{
			{"MalformedJSON", `{"source":`, 400, nil, "malformed JSON"},
			{"NotAnObject", `["zoom"]`, 400, nil, ""},
			{"EmptyBody", ``, 400, nil, ""},
			{"TrailingData", `{"source":"zoom"} {}`, 400, nil, ""},
			{"UnknownField", valid(func(m map[string]any) { m["transcript"] = "x" }), 422, []string{"transcript"}, ""},
			{"WrongType", valid(func(m map[string]any) { m["duration_seconds"] = "long" }), 422, []string{"duration_seconds"}, ""},
			{"MissingSourceAndStartedAt", valid(func(m map[string]any) { delete(m, "source"); delete(m, "started_at") }),
				422, []string{"source", "started_at"}, ""},
			{"BlankSource", valid(func(m map[string]any) { m["source"] = "  " }), 422, []string{"source"}, ""},
			{"BadStartedAt", valid(func(m map[string]any) { m["started_at"] = "yesterday" }), 422, []string{"started_at"}, ""},
			{"NegativeDuration", valid(func(m map[string]any) { m["duration_seconds"] = -1 }), 422, []string{"duration_seconds"}, ""},
			{"BlankExternalID", valid(func(m map[string]any) { m["external_id"] = "" }), 422, []string{"external_id"}, ""},
			// The meeting's external_id is "zoom:<external_id>", at most 255.
			{"LongExternalID", valid(func(m map[string]any) { m["external_id"] = strings.Repeat("x", 251) }), 422,
				[]string{"external_id"}, "at most 250 characters (got 251)"},
			{"ContentAndSegments", valid(func(m map[string]any) {
				m["segments"] = []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1000, "text": "Hi"}}
			}), 422, []string{"content"}, "not both"},
			{"NeitherContentNorSegments", valid(func(m map[string]any) { delete(m, "content") }), 422, []string{"content"}, ""},
			{"EmptySegments", valid(func(m map[string]any) { delete(m, "content"); m["segments"] = []any{} }), 422, []string{"content"}, ""},
			{"BadFormat", valid(func(m map[string]any) { m["format"] = "docx" }), 422, []string{"format"}, "vtt, srt, text, json"},
			{"UnparseableVTT", valid(func(m map[string]any) { m["format"] = "vtt"; m["content"] = "WEBVTT\n\nnot a cue\n" }),
				422, []string{"content"}, "vtt line 3: expected a cue timing line"},
			{"VTTWithoutHeader", valid(func(m map[string]any) { m["format"] = "vtt" }), 422, []string{"content"}, "missing WEBVTT header"},
			{"VTTWithoutCues", valid(func(m map[string]any) { m["format"] = "vtt"; m["content"] = "WEBVTT\n\nNOTE nothing said\n" }),
				422, []string{"content"}, "no speech"},
			{"BadJSONTranscript", valid(func(m map[string]any) { m["format"] = "json"; m["content"] = `{"nope":` }),
				422, []string{"content"}, "json"},
			{"EmptyContent", valid(func(m map[string]any) { m["content"] = "" }), 422, []string{"content"}, ""},
			{"BlankContent", valid(func(m map[string]any) { m["content"] = " \n\t\n" }), 422, []string{"content"}, ""},
			{"SegmentsWithoutText", valid(func(m map[string]any) {
				delete(m, "content")
				m["segments"] = []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1000, "text": "  "}}
			}), 422, []string{"segments"}, "no speech"},
			{"NULInTitle", valid(func(m map[string]any) { m["title"] = "Acme\x00QBR" }), 422, []string{"title"}, "NUL"},
			{"NULInContent", valid(func(m map[string]any) { m["content"] = "Dana Lee: Hi\x00there" }), 422, []string{"content"}, "NUL"},
			{"LongTitle", valid(func(m map[string]any) { m["title"] = strings.Repeat("t", 501) }), 422, []string{"title"}, ""},
			{"BadAccountID", valid(func(m map[string]any) { m["account_id"] = "acme" }), 422, []string{"account_id"}, ""},
			{"BadParticipantEmail", valid(func(m map[string]any) {
				m["participants"] = []map[string]string{{"name": "Dana", "email": "not an email"}}
			}), 422, []string{"participants[0].email"}, ""},
		} {
			res := b.do("POST", "/v1/transcripts", c.body)
			require.Equal(t, c.status, res.Status, "%s: %s", c.name, res.Body)
			if c.fields != nil {
				require.ElementsMatch(t, c.fields, res.Fields(t), "%s: %s", c.name, res.Body)
			}
			require.Contains(t, string(res.Body), c.detail, c.name)
		}
		require.Empty(t, b.rec.take())
		require.Zero(t, b.count("transcripts", b.orgID))
		require.Zero(t, b.count("activities", b.orgID))
		b.accepted(b.do("POST", "/v1/transcripts", valid(func(m map[string]any) { m["external_id"] = strings.Repeat("x", 250) })),
			http.StatusAccepted)
	})

	t.Run("InvalidUTF8Is422", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		body := []byte(`{"source":"zoom","started_at":"2026-03-02T15:00:00Z","account_id":"` + acct +
			`","format":"text","content":"Dana Lee: caf` + "\xe9" + `"}`)
		res := b.do("POST", "/v1/transcripts", body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Contains(t, string(res.Body), "UTF-8")
		require.Zero(t, b.count("transcripts", b.orgID))
	})

	t.Run("OverTheWordLimitIs413", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		words := func(n int) string {
			var sb strings.Builder
			line := strings.TrimSpace(strings.Repeat("word ", 100))
			for i := range n / 100 {
				who := "Dana Lee"
				if i%2 == 1 {
					who = "Maya Patel"
				}
				fmt.Fprintf(&sb, "%s: %s\n", who, line)
			}
			return sb.String()
		}
		body := map[string]any{"source": "zoom", "external_id": "long", "started_at": "2026-03-02T15:00:00Z",
			"account_id": acct, "format": "text", "content": words(61_000)}
		res := b.do("POST", "/v1/transcripts", body)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%s", res.Body)
		require.Contains(t, string(res.Body), "60000 words")

		// As segments too.
		segs := make([]map[string]any, 0, 610)
		for i := range 610 {
			segs = append(segs, map[string]any{"speaker": fmt.Sprintf("S%d", i%2), "start_ms": i * 1000, "end_ms": i*1000 + 900,
				"text": strings.TrimSpace(strings.Repeat("word ", 100))})
		}
		delete(body, "content")
		delete(body, "format")
		body["segments"] = segs
		res = b.do("POST", "/v1/transcripts", body)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%s", res.Body)
		require.Zero(t, b.count("transcripts", b.orgID))
		require.Empty(t, b.rec.take())

		// Exactly at the limit is fine.
		delete(body, "segments")
		body["format"], body["content"] = "text", words(60_000)
		b.accepted(b.do("POST", "/v1/transcripts", body), http.StatusAccepted)
	})

	t.Run("BodyOver16MiBIs413", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		acct := b.account("Acme")
		body, err := json.Marshal(map[string]any{"source": "zoom", "started_at": "2026-03-02T15:00:00Z", "account_id": acct,
			"format": "text", "content": "Dana Lee: " + strings.Repeat("x", 16<<20)})
		require.NoError(t, err)
		res := b.do("POST", "/v1/transcripts", body)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%s", res.Body)
		require.Zero(t, b.count("transcripts", b.orgID))
	})
}

// TestTranscriptRedisDown posts a transcript while Redis is unreachable: the
// answer still comes quickly and the row is stored, queued, for the
// reconciler to enqueue.
func TestTranscriptRedisDown(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	enq := queue.NewEnqueuer(rdb, queue.Queues{LLM: testredis.Name(t), Default: testredis.Name(t)})
	t.Cleanup(func() { _ = enq.Close() })
	b := trSetup(t, func(d *Deps) { d.Enqueuer = enq })
	ctx := context.Background()
	hook := b.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.test/", "events": []string{"activity.created"}})
	acct := b.account("Acme")

	start := time.Now()
	res := b.do("POST", "/v1/transcripts", trSegmentsBody(acct, "redis-down"))
	elapsed := time.Since(start)
	a := b.accepted(res, http.StatusAccepted)
	require.Less(t, elapsed, 5*time.Second, "a down Redis must not hold the answer")
	require.Equal(t, crm.TranscriptQueued, a.Status)

	tr, err := b.store.TranscriptGet(ctx, b.orgID, a.ID, true)
	require.NoError(t, err)
	require.Equal(t, crm.TranscriptQueued, tr.Status)
	require.Len(t, tr.Segments, 3)
	require.Equal(t, "queued", b.do("GET", a.StatusURL, nil).Map(t)["status"])
	// The meeting's activity.created delivery is stored too, pending.
	require.Len(t, b.deliveryIDs(hook, "?status=pending"), 1)
}

func TestTranscriptHook(t *testing.T) {
	t.Parallel()

	// hookSetup gives the bundle's org an ingest secret (through the API) and
	// an account, and returns the secret and a valid body.
	hookSetup := func(t *testing.T) (*trBundle, string, []byte) {
		b := trSetup(t, nil)
		res := b.do("POST", "/v1/settings/ingest-secret", nil)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		secret := res.Map(t)["secret"].(string)
		require.NotEmpty(t, secret)
		body, err := json.Marshal(trSegmentsBody(b.account("Acme"), "hooked"))
		require.NoError(t, err)
		return b, secret, body
	}
	signed := func(orgID, sig string) map[string]string {
		h := map[string]string{crm.SignatureHeader: sig}
		if orgID != "" {
			h["Logbook-Org"] = orgID
		}
		return h
	}

	t.Run("SignedIsAccepted", func(t *testing.T) {
		t.Parallel()
		b, secret, body := hookSetup(t)
		a := b.accepted(b.hook(body, signed(b.orgID, crm.Sign(secret, time.Now(), body))), http.StatusAccepted)
		require.Equal(t, crm.TranscriptQueued, a.Status)
		require.Equal(t, []string{a.ID}, b.rec.take())
		got := b.do("GET", a.StatusURL, nil)
		require.Equal(t, http.StatusOK, got.Status, "stored in the org the header names")
		require.Equal(t, a.ActivityID, got.Map(t)["activity_id"])

		// Idempotent like POST /v1/transcripts, and the same meeting whichever
		// way it comes in.
		again := b.accepted(b.hook(body, signed(b.orgID, crm.Sign(secret, time.Now().Add(-4*time.Minute), body))), http.StatusOK)
		require.Equal(t, a, again)
		var in map[string]any
		require.NoError(t, json.Unmarshal(body, &in))
		require.Equal(t, a, b.accepted(b.do("POST", "/v1/transcripts", in), http.StatusOK))
		require.Empty(t, b.rec.take())

		// A header with several v1 values (the sender rotating) passes when one matches;
		// the org ID is matched case-insensitively.
		in["external_id"] = "hooked-2"
		body2, err := json.Marshal(in)
		require.NoError(t, err)
		sig := crm.Sign(secret, time.Now(), body2)
		ts, v1, _ := strings.Cut(sig, ",")
		res := b.hook(body2, signed(strings.ToUpper(b.orgID), ts+",v1="+strings.Repeat("0", 64)+","+v1))
		b.accepted(res, http.StatusAccepted)
	})

	t.Run("SignedButInvalidBodyIsNot401", func(t *testing.T) {
		t.Parallel()
		b, secret, _ := hookSetup(t)
		for _, c := range []struct {
			body   string
			status int
		}{
			{`{"source":`, http.StatusBadRequest},
			{`{"source":"zoom","started_at":"2026-03-02T15:00:00Z","bogus":1}`, http.StatusUnprocessableEntity},
			{`{"source":"zoom","started_at":"2026-03-02T15:00:00Z"}`, http.StatusUnprocessableEntity},
		} {
			body := []byte(c.body)
			res := b.hook(body, signed(b.orgID, crm.Sign(secret, time.Now(), body)))
			require.Equal(t, c.status, res.Status, "%s: %s", c.body, res.Body)
		}
	})

	t.Run("BadSignaturesAre401AndStoreNothing", func(t *testing.T) {
		t.Parallel()
		b, secret, body := hookSetup(t)
		otherOrg, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/settings/ingest-secret", nil)
		require.Equal(t, http.StatusCreated, res.Status)
		otherSecret := res.Map(t)["secret"].(string)
		noSecretOrg, _ := b.newOrg("No secret")
		now := time.Now()
		tampered := bytes.Replace(body, []byte("Acme QBR"), []byte("Acme QBX"), 1)
		require.NotEqual(t, body, tampered)

		for _, c := range []struct {
			name    string
			body    []byte
			headers map[string]string
		}{
			{"WrongSecret", body, signed(b.orgID, crm.Sign("not-the-secret", now, body))},
			{"OtherOrgsSecret", body, signed(b.orgID, crm.Sign(otherSecret, now, body))},
			{"Stale", body, signed(b.orgID, crm.Sign(secret, now.Add(-6*time.Minute), body))},
			{"FromTheFuture", body, signed(b.orgID, crm.Sign(secret, now.Add(6*time.Minute), body))},
			{"MissingOrg", body, signed("", crm.Sign(secret, now, body))},
			{"OrgNotAnID", body, signed("acme", crm.Sign(secret, now, body))},
			{"UnknownOrg", body, signed(store.NewID(), crm.Sign(secret, now, body))},
			{"OtherOrgWithThisOrgsSignature", body, signed(otherOrg, crm.Sign(secret, now, body))},
			{"NoSecretConfigured", body, signed(noSecretOrg, crm.Sign(secret, now, body))},
			{"TamperedAfterSigning", tampered, signed(b.orgID, crm.Sign(secret, now, body))},
			{"MissingSignature", body, map[string]string{"Logbook-Org": b.orgID}},
			{"MalformedSignature", body, signed(b.orgID, "sha256="+strings.Repeat("ab", 32))},
			{"TimestampNotANumber", body, signed(b.orgID, "t=soon,v1="+strings.Repeat("ab", 32))},
			{"BearerKeyIsNotASignature", body, map[string]string{"Logbook-Org": b.orgID, "Authorization": "Bearer " + b.key}},
		} {
			res := b.hook(c.body, c.headers)
			require.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", c.name, res.Body)
			require.NotContains(t, string(res.Body), secret, c.name)
		}
		require.Empty(t, b.rec.take())
		for _, org := range []string{b.orgID, otherOrg, noSecretOrg} {
			require.Zero(t, b.count("transcripts", org))
			require.Zero(t, b.count("activities", org))
		}

		// Once the secret is deleted, it no longer signs.
		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/settings/ingest-secret", nil).Status)
		require.Equal(t, http.StatusUnauthorized, b.hook(body, signed(b.orgID, crm.Sign(secret, time.Now(), body))).Status)
		// A rotated secret replaces the old one at once.
		res = b.do("POST", "/v1/settings/ingest-secret", nil)
		require.Equal(t, http.StatusCreated, res.Status)
		fresh := res.Map(t)["secret"].(string)
		require.Equal(t, http.StatusUnauthorized, b.hook(body, signed(b.orgID, crm.Sign(secret, time.Now(), body))).Status)
		require.Zero(t, b.count("transcripts", b.orgID))
		b.accepted(b.hook(body, signed(b.orgID, crm.Sign(fresh, time.Now(), body))), http.StatusAccepted)
		require.Equal(t, 1, b.count("transcripts", b.orgID))
	})

	t.Run("OverSizeIs413", func(t *testing.T) {
		t.Parallel()
		b, secret, _ := hookSetup(t)
		body := bytes.Repeat([]byte(" "), 16<<20+1)
		res := b.hook(body, signed(b.orgID, crm.Sign(secret, time.Now(), body)))
		require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%s", res.Body)
	})
}

func TestActionItems(t *testing.T) {
	t.Parallel()

	// itemsSetup posts a meeting on Acme and one on Globex and saves notes:
	// Acme's has items owned by Dana Lee and Maya Patel, Globex's one owned
	// by "dana lee".
	itemsSetup := func(t *testing.T) (b *trBundle, acme, globex string, acmeItems, globexItems []crm.ActionItem) {
		b = trSetup(t, nil)
		acme, globex = b.account("Acme"), b.account("Globex")
		a1 := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(acme, "ai-1")), http.StatusAccepted)
		a2 := b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(globex, "ai-2")), http.StatusAccepted)
		acmeItems = trSaveNotes(t, b, a1.ID, "Dana Lee", "Maya Patel")
		globexItems = trSaveNotes(t, b, a2.ID, "dana lee")
		for _, it := range acmeItems {
			require.Equal(t, acme, it.AccountID)
			require.Equal(t, a1.ActivityID, it.ActivityID)
		}
		return b, acme, globex, acmeItems, globexItems
	}
	list := func(b *trBundle, key, query string) crm.Page[crm.ActionItem] {
		b.t.Helper()
		res := b.doKey(key, "GET", "/v1/action-items"+query, nil)
		require.Equal(b.t, http.StatusOK, res.Status, "%s: %s", query, res.Body)
		var p crm.Page[crm.ActionItem]
		res.JSON(b.t, &p)
		return p
	}
	ids := func(p crm.Page[crm.ActionItem]) []string {
		out := []string{}
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		return out
	}

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		b, acme, globex, acmeItems, globexItems := itemsSetup(t)
		b.store.SetClock(func() time.Time { return time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC) })
		all := list(b, b.key, "")
		require.Len(t, all.Items, 3)
		require.Nil(t, all.NextCursor)
		// Grouped by person now, no longer newest first: Dana Lee's two
		// items (both due 2026-03-10, overdue by the fixed clock, meetings
		// at the same time, so by id: Acme's was saved first), then Maya
		// Patel's.
		require.Equal(t, []string{acmeItems[0].ID, globexItems[0].ID, acmeItems[1].ID}, ids(all))

		first := acmeItems[0]
		require.Equal(t, "open", string(first.Status))
		require.Equal(t, "Dana Lee", *first.Owner)
		require.Equal(t, "2026-03-10", first.DueDate.String())
		require.Len(t, first.Evidence, 1)
		raw := b.do("GET", "/v1/action-items?account_id="+acme+"&owner=Maya%20Patel", nil).Map(t)["items"].([]any)
		require.Len(t, raw, 1)
		for _, k := range []string{"id", "activity_id", "account_id", "text", "owner", "due_date", "status", "tentative",
			"evidence", "created_at", "updated_at"} {
			require.Contains(t, raw[0], k)
		}

		require.ElementsMatch(t, []string{acmeItems[0].ID, acmeItems[1].ID}, ids(list(b, b.key, "?account_id="+acme)))
		require.Equal(t, []string{globexItems[0].ID}, ids(list(b, b.key, "?account_id="+globex)))
		require.Empty(t, list(b, b.key, "?account_id="+store.NewID()).Items)
		for _, owner := range []string{"Dana%20Lee", "DANA%20LEE", "dana%20lee"} {
			require.ElementsMatch(t, []string{acmeItems[0].ID, globexItems[0].ID}, ids(list(b, b.key, "?owner="+owner)), owner)
		}
		require.Equal(t, []string{acmeItems[0].ID}, ids(list(b, b.key, "?owner=dana%20LEE&account_id="+acme)))
		require.Empty(t, list(b, b.key, "?owner=Dana").Items, "the whole name, not a prefix")
		require.Len(t, list(b, b.key, "?status=open").Items, 3)
		require.Empty(t, list(b, b.key, "?status=done").Items)
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		b, _, _, _, _ := itemsSetup(t)
		all := ids(list(b, b.key, ""))
		var seen []string
		q := "?limit=2"
		for range 3 {
			p := list(b, b.key, q)
			require.LessOrEqual(t, len(p.Items), 2)
			seen = append(seen, ids(p)...)
			if p.NextCursor == nil {
				break
			}
			q = "?limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		require.Equal(t, all, seen)
		p := list(b, b.key, "?limit=1&status=open")
		require.Len(t, p.Items, 1)
		require.NotNil(t, p.NextCursor)
		rest := list(b, b.key, "?limit=5&status=open&cursor="+url.QueryEscape(*p.NextCursor))
		require.Equal(t, all, append(ids(p), ids(rest)...))
	})

	t.Run("BadQueryIs422", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		for q, fields := range map[string][]string{
			"?status=closed":                      {"status"},
			"?account_id=acme":                    {"account_id"},
			"?limit=0":                            {"limit"},
			"?limit=201":                          {"limit"},
			"?cursor=nope":                        {"cursor"},
			"?status=x&limit=-1&account_id=1":     {"status", "limit", "account_id"},
			"?owner=" + strings.Repeat("o", 1000): {"owner"},
		} {
			res := b.do("GET", "/v1/action-items"+q, nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
			require.ElementsMatch(t, fields, res.Fields(t), q)
		}
	})

	t.Run("PatchStatus", func(t *testing.T) {
		t.Parallel()
		b, acme, _, acmeItems, globexItems := itemsSetup(t)
		id := acmeItems[1].ID
		res := b.do("PATCH", "/v1/action-items/"+id, map[string]any{"status": "done"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var it crm.ActionItem
		res.JSON(t, &it)
		require.Equal(t, id, it.ID)
		require.Equal(t, crm.ActionDone, it.Status)
		require.Equal(t, acmeItems[1].Text, it.Text)
		require.Equal(t, acmeItems[1].Evidence, it.Evidence)
		require.False(t, it.UpdatedAt.Before(acmeItems[1].UpdatedAt))

		require.Equal(t, []string{id}, ids(list(b, b.key, "?status=done")))
		require.Equal(t, []string{id}, ids(list(b, b.key, "?status=done&account_id="+acme+"&owner=maya%20patel")))
		require.ElementsMatch(t, []string{acmeItems[0].ID, globexItems[0].ID}, ids(list(b, b.key, "?status=open")))
		// The meeting's notes show it too.
		_, notes, err := b.store.MeetingNotes(context.Background(), b.orgID, acmeItems[1].ActivityID)
		require.NoError(t, err)
		require.Equal(t, crm.ActionDone, notes.ActionItems[1].Status)

		// Idempotent, and reversible.
		require.Equal(t, http.StatusOK, b.do("PATCH", "/v1/action-items/"+id, map[string]any{"status": "done"}).Status)
		require.Equal(t, http.StatusOK, b.do("PATCH", "/v1/action-items/"+id, map[string]any{"status": "open"}).Status)
		require.Empty(t, list(b, b.key, "?status=done").Items)
		// A write key may; a read key may not.
		require.Equal(t, http.StatusOK, b.doKey(b.keyWith(crm.ScopeWrite), "PATCH", "/v1/action-items/"+id, map[string]any{"status": "done"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeRead), "PATCH", "/v1/action-items/"+id, map[string]any{"status": "open"}).Status)
	})

	t.Run("PatchBadInput", func(t *testing.T) {
		t.Parallel()
		b, _, _, acmeItems, _ := itemsSetup(t)
		path := "/v1/action-items/" + acmeItems[0].ID
		for _, c := range []struct {
			body   any
			status int
		}{
			{map[string]any{"status": "finished"}, 422},
			{map[string]any{"status": "DONE"}, 422},
			{map[string]any{}, 422},
			{map[string]any{"status": "done", "owner": "Maya"}, 422},
			{map[string]any{"status": 1}, 422},
			{`{"status":`, 400},
		} {
			res := b.do("PATCH", path, c.body)
			require.Equal(t, c.status, res.Status, "%v: %s", c.body, res.Body)
		}
		require.Equal(t, []string{"status"}, b.do("PATCH", path, map[string]any{"status": "finished"}).Fields(t))
		require.Equal(t, http.StatusUnprocessableEntity, b.do("PATCH", "/v1/action-items/not-an-id", map[string]any{"status": "done"}).Status)
		require.Equal(t, http.StatusNotFound, b.do("PATCH", "/v1/action-items/"+store.NewID(), map[string]any{"status": "done"}).Status)
		require.Len(t, list(b, b.key, "?status=open").Items, 3, "nothing changed")
	})

	t.Run("AnotherOrgsItemIs404", func(t *testing.T) {
		t.Parallel()
		b, acme, _, acmeItems, _ := itemsSetup(t)
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "PATCH", "/v1/action-items/"+acmeItems[0].ID, map[string]any{"status": "done"})
		require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
		require.NotContains(t, string(res.Body), acmeItems[0].ID)
		require.Empty(t, list(b, otherKey, "").Items)
		require.Empty(t, list(b, otherKey, "?account_id="+acme).Items)
		require.Empty(t, list(b, otherKey, "?owner=Dana%20Lee").Items)
		require.Len(t, list(b, b.key, "?status=open").Items, 3, "unchanged")
	})
}

// fakeFollowUps is a FollowUpGenerator that returns draft or err and
// records its calls.
type fakeFollowUps struct {
	mu    sync.Mutex
	calls [][2]string
	draft crm.FollowUp
	err   error
}

func (f *fakeFollowUps) RegenerateFollowUp(_ context.Context, orgID, activityID string) (crm.FollowUp, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]string{orgID, activityID})
	return f.draft, f.err
}

func TestFollowUpRegenerate(t *testing.T) {
	t.Parallel()
	draft := crm.FollowUp{Subject: "Follow-up: Acme QBR", Body: "Hi Dana,\n\nThanks for your time today.",
		To: []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}}, GeneratedAt: time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)}

	meeting := func(b *trBundle) string {
		b.t.Helper()
		return b.accepted(b.do("POST", "/v1/transcripts", trSegmentsBody(b.account("Acme"), "fu")), http.StatusAccepted).ActivityID
	}

	t.Run("ReturnsTheDraft", func(t *testing.T) {
		t.Parallel()
		f := &fakeFollowUps{draft: draft}
		b := trSetup(t, func(d *Deps) { d.FollowUps = f })
		act := meeting(b)
		res := b.do("POST", "/v1/activities/"+act+"/follow-up", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.JSONEq(t, `{"subject":"Follow-up: Acme QBR","body":"Hi Dana,\n\nThanks for your time today.",
			"to":[{"name":"Dana Lee","email":"dana@acme.test"}],"generated_at":"2026-03-02T16:00:00Z"}`, string(res.Body))
		require.Equal(t, [][2]string{{b.orgID, act}}, f.calls)
		// The ID is matched case-insensitively.
		require.Equal(t, http.StatusOK, b.do("POST", "/v1/activities/"+strings.ToUpper(act)+"/follow-up", nil).Status)
		require.Equal(t, act, f.calls[1][1])
		require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeRead), "POST", "/v1/activities/"+act+"/follow-up", nil).Status)
	})

	t.Run("NotConfiguredIs503", func(t *testing.T) {
		t.Parallel()
		b := trSetup(t, nil)
		act := meeting(b)
		res := b.do("POST", "/v1/activities/"+act+"/follow-up", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
		// An unknown activity is still 404, not 503.
		require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/activities/"+store.NewID()+"/follow-up", nil).Status)
	})

	t.Run("AnotherOrgsActivityIs404", func(t *testing.T) {
		t.Parallel()
		f := &fakeFollowUps{draft: draft}
		b := trSetup(t, func(d *Deps) { d.FollowUps = f })
		act := meeting(b)
		_, otherKey := b.newOrg("Other")
		res := b.doKey(otherKey, "POST", "/v1/activities/"+act+"/follow-up", nil)
		require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
		require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/activities/"+store.NewID()+"/follow-up", nil).Status)
		require.Equal(t, http.StatusUnprocessableEntity, b.do("POST", "/v1/activities/nope/follow-up", nil).Status)
		require.Empty(t, f.calls, "the generator never sees another org's activity")
	})

	t.Run("NoNotesIs409", func(t *testing.T) {
		t.Parallel()
		f := &fakeFollowUps{err: fmt.Errorf("store: get meeting notes: %w", crm.ErrNotFound)}
		b := trSetup(t, func(d *Deps) { d.FollowUps = f })
		act := meeting(b)
		res := b.do("POST", "/v1/activities/"+act+"/follow-up", nil)
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		require.Contains(t, string(res.Body), "no processed meeting notes")
	})

	t.Run("GeneratorFailureIs500", func(t *testing.T) {
		t.Parallel()
		f := &fakeFollowUps{err: errors.New("model unavailable: sk-secret")}
		b := trSetup(t, func(d *Deps) { d.FollowUps = f })
		act := meeting(b)
		res := b.do("POST", "/v1/activities/"+act+"/follow-up", nil)
		require.Equal(t, http.StatusInternalServerError, res.Status)
		require.NotContains(t, string(res.Body), "sk-secret")
	})
}
