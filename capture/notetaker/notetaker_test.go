package notetaker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/api"
	"logbook/capture"
	"logbook/capture/notetaker"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
	"logbook/internal/vendorhook"
	"logbook/retrieval"
	"logbook/summarize"
	"logbook/worker"
)

// The vendors' secrets of the tests.
const (
	recallKey    = "recall-api-key-0123456789"
	recallSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	zoomToken    = "zoom-secret-token-abcdef"
	zoomDownload = "zoom-download-token-xyz"
)

// lines is a short renewal call: enough substance for the local provider's
// notes.
var lines = []struct{ who, email, text string }{
	{"Maya Patel", "maya@northwind.test", "Thanks for joining, Dana. Let's go through the renewal and the SSO rollout."},
	{"Dana Lee", "dana@acme.test", "Sure. Our main concern is that SSO with Okta isn't ready, and we can't roll out to 400 people without it."},
	{"Maya Patel", "maya@northwind.test", "Understood. I'll send the Okta setup guide by Friday."},
	{"Dana Lee", "dana@acme.test", "Great. We agreed to start the pilot on March 15 with 50 seats."},
	{"Maya Patel", "maya@northwind.test", "Dana, can you send over the list of pilot users by March 10?"},
	{"Dana Lee", "dana@acme.test", "Yes, I will send the user list by March 10. Legal may review the contract next week."},
	{"Maya Patel", "maya@northwind.test", "The budget freeze in Q3 is a risk we should plan around."},
}

type bundle struct {
	pool    *pgxpool.Pool
	st      *store.Store
	svc     *capture.Service
	enq     *queue.Enqueuer
	q       queue.Queues
	insp    *asynq.Inspector
	api     http.Handler
	fetcher *notetaker.Fetcher
	orgID   string
	account string
}

// loopback admits the vendor fakes, as CONNECTOR_ALLOW_PRIVATE would.
func loopback(t *testing.T) *netguard.Guard {
	allow, err := netguard.ParseAllowList("127.0.0.1/32,::1/128")
	require.NoError(t, err)
	return netguard.New(netguard.Options{Allow: allow})
}

// setup builds the API, the capture service with both kinds and the
// fetcher (dialling through fetchGuard) on the package's schema and a
// private queue, with an org whose account Acme has the domain acme.test.
func setup(t *testing.T, fetchGuard *netguard.Guard) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := testdb.Pool(t)
	st := store.New(pool)
	rdb := testredis.Client(t)
	q := queue.Queues{LLM: testredis.Name(t), Default: testredis.Name(t)}
	enq := queue.NewEnqueuer(rdb, q)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() { _ = insp.DeleteQueue(q.Default, true) })
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	svc := capture.New(capture.Config{Store: st, Box: box, Enqueuer: enq})
	svc.Register(crm.ConnectorRecall, notetaker.Recall(loopback(t)))
	svc.Register(crm.ConnectorZoom, notetaker.Zoom(loopback(t)))
	h, err := api.NewHandler(api.Deps{Store: st, Capture: svc, Enqueuer: enq})
	require.NoError(t, err)
	org, err := st.OrgCreate(ctx, "notetaker "+t.Name())
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = st.OrgDelete(context.WithoutCancel(ctx), org.ID) })
	acct, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.test"})})
	require.NoError(t, err)
	return &bundle{pool: pool, st: st, svc: svc, enq: enq, q: q, insp: insp, api: h, orgID: org.ID, account: acct.ID,
		fetcher: notetaker.NewFetcher(notetaker.Deps{Capture: svc, Enqueuer: enq, Guard: fetchGuard})}
}

// runWorker runs the pipeline (the local provider) with the fetcher until
// the test ends.
func (b *bundle) runWorker(t *testing.T) {
	t.Helper()
	lp := local.New(384)
	rs, err := retrieval.New(retrieval.Config{Store: b.st, Embedder: lp, Completer: lp, EmbedModel: lp.Model()})
	require.NoError(t, err)
	w, err := worker.New(worker.Config{Store: b.st, Summarizer: summarize.New(lp, summarize.Config{}), Retrieval: rs,
		Redis: testredis.Client(t), Enqueuer: b.enq, Queues: b.q, LLMConcurrency: 2, DefaultConcurrency: 2,
		Handlers: map[string]asynq.Handler{queue.TypeNotetakerFetch: b.fetcher}})
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done) })
}

func (b *bundle) connector(t *testing.T, kind, cfg, secrets string) crm.Connector {
	t.Helper()
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(fmt.Sprintf(`{"kind":%q,"name":"note-taker","config":%s,"secrets":%s}`, kind, cfg, secrets)), &in))
	c, err := b.svc.Create(context.Background(), b.orgID, in)
	require.NoError(t, err)
	return c
}

func (b *bundle) post(t *testing.T, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	b.api.ServeHTTP(rec, req)
	return rec
}

func recallHeaders(t *testing.T, id string, at time.Time, body []byte) map[string]string {
	key, err := vendorhook.StandardSecret(recallSecret)
	require.NoError(t, err)
	return map[string]string{"webhook-id": id, "webhook-timestamp": strconv.FormatInt(at.Unix(), 10),
		"webhook-signature": vendorhook.SignStandard(key, id, at, body)}
}

func zoomHeaders(at time.Time, body []byte) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": vendorhook.SignZoom(zoomToken, ts, body)}
}

// meeting finds the org's activity with external_id and its transcript's
// status ("" while there is none).
func (b *bundle) meeting(t *testing.T, externalID string) (activityID, accountID, status string) {
	t.Helper()
	err := b.pool.QueryRow(context.Background(), `
		SELECT a.id, a.account_id, coalesce(t.status, '') FROM activities a LEFT JOIN transcripts t ON t.org_id = a.org_id AND t.activity_id = a.id
		WHERE a.org_id = $1 AND a.external_id = $2`, b.orgID, externalID).Scan(&activityID, &accountID, &status)
	if err != nil {
		return "", "", ""
	}
	return activityID, accountID, status
}

func (b *bundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), query, append([]any{b.orgID}, args...)...).Scan(&n))
	return n
}

func (b *bundle) health(t *testing.T, id string) crm.ConnectorHealth {
	t.Helper()
	rec, err := b.st.ConnectorGet(context.Background(), b.orgID, id)
	require.NoError(t, err)
	return rec.Health
}

// recallFake speaks Recall's documented shapes: Retrieve Transcript at
// /api/v1/transcript/{id}/ (Authorization: Token <key>) and the download
// it links to (no key). fail answers the next metadata requests with
// that status first.
type recallFake struct {
	srv      *httptest.Server
	mu       sync.Mutex
	meta     int
	download int
	fail     []int
	problems []string
	words    []map[string]any
}

func newRecallFake(t *testing.T, participants []map[string]any) *recallFake {
	f := &recallFake{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/transcript/{id}/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.meta++
		if got := r.Header.Get("Authorization"); got != "Token "+recallKey {
			f.problems = append(f.problems, "metadata auth "+got)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if len(f.fail) > 0 {
			status := f.fail[0]
			f.fail = f.fail[1:]
			http.Error(w, `{"detail":"boom"}`, status)
			return
		}
		id := r.PathValue("id")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "created_at": "2026-03-02T16:00:00Z", "metadata": map[string]any{},
			"recording": map[string]any{"id": "rec_77aa", "metadata": map[string]any{}},
			"status":    map[string]any{"code": "done", "sub_code": nil, "updated_at": "2026-03-02T16:00:00Z"},
			"data":      map[string]any{"download_url": f.srv.URL + "/download/" + id + "?X-Amz-Signature=abc", "provider_data_download_url": nil}})
	})
	mux.HandleFunc("GET /download/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.download++
		if r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") != "abc" {
			f.problems = append(f.problems, "download sent a key or lost its signature")
		}
		_ = json.NewEncoder(w).Encode(participants)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *recallFake) failWith(statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = statuses
}

func (f *recallFake) counts() (int, int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.meta, f.download, append([]string(nil), f.problems...)
}

// recallEntries is the meeting as Recall's transcript download has it.
func recallEntries(emails bool) []map[string]any {
	var out []map[string]any
	ids := map[string]int{"Maya Patel": 100, "Dana Lee": 101}
	for i, l := range lines {
		p := map[string]any{"id": ids[l.who], "name": l.who, "is_host": l.who == "Maya Patel", "platform": "zoom", "extra_data": map[string]any{}, "email": nil}
		if emails {
			p["email"] = l.email
		}
		var words []map[string]any
		for j, w := range strings.Fields(l.text) {
			s := float64(i*15) + float64(j)*0.4
			word := map[string]any{"text": w, "start_timestamp": map[string]any{"relative": s}, "end_timestamp": map[string]any{"relative": s + 0.3}}
			if i == 0 && j == 0 {
				word["start_timestamp"] = map[string]any{"relative": s, "absolute": "2026-03-02T15:00:00Z"}
			}
			words = append(words, word)
		}
		out = append(out, map[string]any{"participant": p, "words": words})
	}
	return out
}

func recallEvent(event, transcriptID string) []byte {
	b, _ := json.Marshal(map[string]any{"event": event, "data": map[string]any{
		"data":       map[string]any{"code": "done", "sub_code": nil, "updated_at": "2026-03-02T16:00:00Z"},
		"transcript": map[string]any{"id": transcriptID, "metadata": map[string]any{}},
		"recording":  map[string]any{"id": "rec_77aa", "metadata": map[string]any{}},
		"bot":        map[string]any{"id": "bot_12cd", "metadata": map[string]any{}}}})
	return b
}

// TestRecallEndToEnd: a signed ping is queued, pulled (the vendor's 500
// first, retried), logged on the account and processed; the same ping
// again is one task and one activity, even after the first finished.
func TestRecallEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, loopback(t))
	fake := newRecallFake(t, recallEntries(true))
	fake.failWith(http.StatusInternalServerError)
	c := b.connector(t, "recall", fmt.Sprintf(`{"base_url":%q}`, fake.srv.URL+"/"), fmt.Sprintf(`{"api_key":%q,"webhook_secret":%q}`, recallKey, recallSecret))
	require.Equal(t, "pending", c.Health.Status)
	b.runWorker(t)

	path := "/v1/hooks/recall/" + b.orgID + "/" + c.ID
	body := recallEvent("transcript.done", "tr_8f1e")
	res := b.post(t, path, body, recallHeaders(t, "msg_1", time.Now(), body))
	require.Equal(t, http.StatusAccepted, res.Code, res.Body.String())
	require.JSONEq(t, `{"status":"queued","event":"transcript.done"}`, res.Body.String())

	var activityID, accountID, status string
	require.Eventually(t, func() bool {
		activityID, accountID, status = b.meeting(t, "recall:rec_77aa")
		return status == "done"
	}, 60*time.Second, 100*time.Millisecond, "transcript status %q", status)
	require.Equal(t, b.account, accountID)
	meta, download, problems := fake.counts()
	require.Empty(t, problems)
	require.Equal(t, 2, meta, "the 500, then the retry")
	require.Equal(t, 1, download)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM meeting_notes WHERE org_id = $1 AND activity_id = $2`, activityID))
	act, err := b.st.ActivityGet(ctx, b.orgID, activityID)
	require.NoError(t, err)
	require.Equal(t, crm.ActivityMeeting, act.Type)
	require.Equal(t, crm.SourceNotetaker, act.Source)
	require.True(t, act.OccurredAt.Equal(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)), "%v", act.OccurredAt)
	require.Contains(t, act.Participants, crm.Participant{Name: "Dana Lee", Email: "dana@acme.test"})
	require.Eventually(t, func() bool {
		h := b.health(t, c.ID)
		return h.Status == "ok" && h.ItemsCaptured == 1
	}, 10*time.Second, 50*time.Millisecond)

	// The same message again (a Svix retry: same webhook-id, signed anew)
	// after the first task finished: no second task.
	p := queue.NotetakerFetchPayload{Vendor: queue.VendorRecall, ConnectorID: c.ID, EventID: "msg_1"}
	require.Eventually(t, func() bool {
		info, err := b.insp.GetTaskInfo(b.q.Default, queue.NotetakerTaskID(p))
		return err == nil && info.State == asynq.TaskStateCompleted
	}, 10*time.Second, 50*time.Millisecond)
	res = b.post(t, path, body, recallHeaders(t, "msg_1", time.Now().Add(time.Second), body))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	require.JSONEq(t, `{"status":"duplicate","event":"transcript.done"}`, res.Body.String())
	info, err := b.insp.GetTaskInfo(b.q.Default, queue.NotetakerTaskID(p))
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStateCompleted, info.State, "the finished task, not a new one")

	// A new message about the same transcript is pulled again and changes
	// nothing: one activity, one transcript, nothing captured twice.
	res = b.post(t, path, body, recallHeaders(t, "msg_2", time.Now(), body))
	require.Equal(t, http.StatusAccepted, res.Code, res.Body.String())
	require.Eventually(t, func() bool { meta, _, _ := fake.counts(); return meta == 3 }, 30*time.Second, 50*time.Millisecond)
	p.EventID = "msg_2"
	require.Eventually(t, func() bool {
		info, err := b.insp.GetTaskInfo(b.q.Default, queue.NotetakerTaskID(p))
		return err == nil && info.State == asynq.TaskStateCompleted
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM activities WHERE org_id = $1 AND source = 'notetaker'`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM transcripts WHERE org_id = $1`))
	require.EqualValues(t, 1, b.health(t, c.ID).ItemsCaptured)
}

// TestZoomEndToEnd: the url_validation challenge is answered once signed,
// and a transcript_completed ping downloads the VTT with the event's
// token and logs the meeting, processed.
func TestZoomEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t, loopback(t))
	var mu sync.Mutex
	var downloads int
	var problems []string
	vtt := "WEBVTT\n\n"
	for i, l := range lines {
		vtt += fmt.Sprintf("%d\n00:00:%02d.000 --> 00:00:%02d.500\n%s: %s\n\n", i+1, i*5, i*5+4, l.who, l.text)
	}
	zoom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		downloads++
		if r.Method != http.MethodGet || r.URL.Path != "/rec/download/vtt-file" || r.Header.Get("Authorization") != "Bearer "+zoomDownload {
			problems = append(problems, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/vtt")
		_, _ = w.Write([]byte(vtt))
	}))
	t.Cleanup(zoom.Close)
	c := b.connector(t, "zoom", fmt.Sprintf(`{"base_url":%q}`, zoom.URL), fmt.Sprintf(`{"webhook_secret_token":%q}`, zoomToken))
	path := "/v1/hooks/zoom/" + b.orgID + "/" + c.ID

	challenge := []byte(`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`)
	res := b.post(t, path, challenge, nil)
	require.Equal(t, http.StatusUnauthorized, res.Code, "an unsigned challenge is not answered: %s", res.Body.String())
	res = b.post(t, path, challenge, zoomHeaders(time.Now(), challenge))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	var ans vendorhook.ZoomChallenge
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &ans))
	require.Equal(t, vendorhook.AnswerZoomChallenge(zoomToken, "qgg8vlvZRS6UYooatFL8Aw"), ans)

	b.runWorker(t)
	event, err := json.Marshal(map[string]any{"event": "recording.transcript_completed", "event_ts": 1772463600000,
		"payload": map[string]any{"account_id": "AAAA", "object": map[string]any{
			"uuid": "4444AAAiAAAAAiAiAiiAii==", "id": int64(84113334444), "topic": "Acme QBR", "start_time": "2026-03-02T15:00:00Z",
			"duration": 35, "host_email": "dana@acme.test", "timezone": "UTC",
			"recording_files": []map[string]any{
				{"id": "f-mp4", "file_type": "MP4", "file_extension": "MP4", "download_url": zoom.URL + "/rec/download/mp4", "status": "completed"},
				{"id": "f-vtt", "file_type": "TRANSCRIPT", "file_extension": "VTT", "download_url": zoom.URL + "/rec/download/vtt-file",
					"recording_start": "2026-03-02T15:00:05Z", "recording_end": "2026-03-02T15:35:00Z", "status": "completed"}}}},
		"download_token": zoomDownload})
	require.NoError(t, err)
	res = b.post(t, path, event, zoomHeaders(time.Now(), event))
	require.Equal(t, http.StatusAccepted, res.Code, res.Body.String())

	var activityID, accountID, status string
	require.Eventually(t, func() bool {
		activityID, accountID, status = b.meeting(t, "zoom:4444AAAiAAAAAiAiAiiAii==")
		return status == "done"
	}, 60*time.Second, 100*time.Millisecond, "transcript status %q", status)
	require.Equal(t, b.account, accountID)
	act, err := b.st.ActivityGet(context.Background(), b.orgID, activityID)
	require.NoError(t, err)
	require.Equal(t, "Acme QBR", *act.Subject)
	require.NotNil(t, act.DurationSeconds)
	require.Equal(t, 35*60, *act.DurationSeconds)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM meeting_notes WHERE org_id = $1 AND activity_id = $2`, activityID))
	mu.Lock()
	require.Empty(t, problems)
	require.Equal(t, 1, downloads)
	mu.Unlock()

	// Zoom sends the event again (same meeting and file): one task.
	res = b.post(t, path, event, zoomHeaders(time.Now().Add(time.Second), event))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	require.JSONEq(t, `{"status":"duplicate","event":"recording.transcript_completed"}`, res.Body.String())
}

// TestHookRefusals: every signature failure is 401 and queues nothing;
// a connector that is unknown, another org's, of the other kind or
// disabled is 404 alike; a verified body of another shape is 400; events
// not used are 200 ignored.
func TestHookRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, loopback(t))
	rc := b.connector(t, "recall", `{"base_url":"https://us-east-1.recall.ai"}`, fmt.Sprintf(`{"api_key":%q,"webhook_secret":%q}`, recallKey, recallSecret))
	zc := b.connector(t, "zoom", `{}`, fmt.Sprintf(`{"webhook_secret_token":%q}`, zoomToken))
	require.JSONEq(t, `{"base_url":"https://zoom.us"}`, string(zc.Config))
	recall := "/v1/hooks/recall/" + b.orgID + "/" + rc.ID
	zoomPath := "/v1/hooks/zoom/" + b.orgID + "/" + zc.ID
	body := recallEvent("transcript.done", "tr_1")
	zbody := []byte(`{"event":"recording.transcript_completed","payload":{"object":{"uuid":"u1","recording_files":[]}},"download_token":"t"}`)
	now := time.Now()

	bad := recallHeaders(t, "msg_1", now, body)
	bad["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	otherKey := map[string]string{"webhook-id": "msg_1", "webhook-timestamp": strconv.FormatInt(now.Unix(), 10),
		"webhook-signature": vendorhook.SignStandard([]byte("0123456789abcdef0123"), "msg_1", now, body)}
	zbad := zoomHeaders(now, zbody)
	zbad["x-zm-signature"] = vendorhook.SignZoom("another-token", zbad["x-zm-request-timestamp"], zbody)
	for _, c := range []struct {
		name   string
		path   string
		body   []byte
		header map[string]string
		detail string
	}{
		{"RecallBad", recall, body, bad, "does not match"},
		{"RecallOtherSecret", recall, body, otherKey, "does not match"},
		{"RecallTampered", recall, append([]byte(" "), body...), recallHeaders(t, "msg_1", now, body), "does not match"},
		{"RecallStale", recall, body, recallHeaders(t, "msg_1", now.Add(-6*time.Minute), body), "5 minutes"},
		{"RecallMissing", recall, body, nil, "missing"},
		{"ZoomBad", zoomPath, zbody, zbad, "does not match"},
		{"ZoomStale", zoomPath, zbody, zoomHeaders(now.Add(-10*time.Minute), zbody), "5 minutes"},
		{"ZoomMissing", zoomPath, zbody, nil, "missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := b.post(t, c.path, c.body, c.header)
			require.Equal(t, http.StatusUnauthorized, res.Code, res.Body.String())
			require.Contains(t, res.Body.String(), c.detail)
			require.NotContains(t, res.Body.String(), "MfKQ9r8")
		})
	}

	other, err := b.st.OrgCreate(context.Background(), "other "+t.Name())
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = b.st.OrgDelete(context.Background(), other.ID) })
	off := false
	_, err = b.svc.Update(context.Background(), b.orgID, zc.ID, crm.ConnectorInput{Enabled: crm.Opt[bool]{Set: true, V: off}})
	require.NoError(t, err)
	for _, p := range []string{
		"/v1/hooks/recall/" + b.orgID + "/" + store.NewID(), // unknown
		"/v1/hooks/recall/" + other.ID + "/" + rc.ID,        // another org's
		"/v1/hooks/zoom/" + b.orgID + "/" + rc.ID,           // the other kind
		zoomPath,                              // disabled
		"/v1/hooks/recall/not-an-id/" + rc.ID, // not an ID
	} {
		res := b.post(t, p, body, recallHeaders(t, "msg_1", now, body))
		require.Equal(t, http.StatusNotFound, res.Code, "%s: %s", p, res.Body.String())
	}

	ignored := recallEvent("bot.status_change", "")
	res := b.post(t, recall, ignored, recallHeaders(t, "msg_2", now, ignored))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	require.JSONEq(t, `{"status":"ignored","event":"bot.status_change"}`, res.Body.String())
	malformed := []byte(`{"event":"transcript.done","data":{"recording":{"id":"r"}}}`)
	res = b.post(t, recall, malformed, recallHeaders(t, "msg_3", now, malformed))
	require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())

	// Nothing of the above was queued.
	pending, err := b.insp.ListPendingTasks(b.q.Default)
	if !errors.Is(err, asynq.ErrQueueNotFound) {
		require.NoError(t, err)
	}
	require.Empty(t, pending)

	// The replay within the window: queued once.
	res = b.post(t, recall, body, recallHeaders(t, "msg_4", now, body))
	require.Equal(t, http.StatusAccepted, res.Code, res.Body.String())
	res = b.post(t, recall, body, recallHeaders(t, "msg_4", now, body))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	pending, err = b.insp.ListPendingTasks(b.q.Default)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.NotContains(t, string(pending[0].Payload), recallKey)
}

// fetch runs one notetaker:fetch task in the test's goroutine.
func (b *bundle) fetch(t *testing.T, p queue.NotetakerFetchPayload) error {
	t.Helper()
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	return b.fetcher.ProcessTask(context.Background(), asynq.NewTask(queue.TypeNotetakerFetch, raw))
}

// TestFetchFailures: a vendor's 4xx and a meeting no account matches are
// permanent and shown on the connector's health, readable and without
// the key; a 5xx is returned for a retry; a base_url on loopback is
// refused by the guard unless the operator allows it.
func TestFetchFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, loopback(t))
	fake := newRecallFake(t, recallEntries(false))
	c := b.connector(t, "recall", fmt.Sprintf(`{"base_url":%q}`, fake.srv.URL), fmt.Sprintf(`{"api_key":%q,"webhook_secret":%q}`, recallKey, recallSecret))
	p := queue.NotetakerFetchPayload{OrgID: b.orgID, ConnectorID: c.ID, Vendor: queue.VendorRecall, EventID: "msg_x", TranscriptID: "tr_9"}

	fake.failWith(http.StatusNotFound)
	err := b.fetch(t, p)
	require.ErrorIs(t, err, asynq.SkipRetry)
	h := b.health(t, c.ID)
	require.Equal(t, "failing", h.Status)
	require.NotNil(t, h.LastError)
	require.Contains(t, *h.LastError, "Recall.ai answered 404 Not Found for transcript tr_9")
	require.NotContains(t, *h.LastError, recallKey)

	fake.failWith(http.StatusBadGateway)
	err = b.fetch(t, p)
	require.Error(t, err)
	require.NotErrorIs(t, err, asynq.SkipRetry, "a 5xx is retried")
	require.Contains(t, *b.health(t, c.ID).LastError, "502")

	// The download has no emails and no account matches the names: the
	// meeting is not logged, and the connector says why.
	err = b.fetch(t, p)
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.Contains(t, *b.health(t, c.ID).LastError, "no contact or account domain matches")
	require.Zero(t, b.count(t, `SELECT count(*) FROM activities WHERE org_id = $1 AND source = 'notetaker'`))

	// The worker's guard without CONNECTOR_ALLOW_PRIVATE never connects to
	// the fake on loopback.
	meta, _, _ := fake.counts()
	strict := notetaker.NewFetcher(notetaker.Deps{Capture: b.svc, Enqueuer: b.enq, Guard: netguard.New(netguard.Options{})})
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	err = strict.ProcessTask(context.Background(), asynq.NewTask(queue.TypeNotetakerFetch, raw))
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.Contains(t, *b.health(t, c.ID).LastError, "not a public address")
	after, _, _ := fake.counts()
	require.Equal(t, meta, after, "the guard refused before connecting")

	// A Zoom download link off the connector's base_url is not fetched
	// (the token would go to another host).
	zc := b.connector(t, "zoom", fmt.Sprintf(`{"base_url":%q}`, fake.srv.URL), fmt.Sprintf(`{"webhook_secret_token":%q}`, zoomToken))
	err = b.fetch(t, queue.NotetakerFetchPayload{OrgID: b.orgID, ConnectorID: zc.ID, Vendor: queue.VendorZoom, EventID: "u:f",
		MeetingUUID: "u", MeetingID: "84113334444", DownloadURL: "https://files.example.net/rec/download/x", DownloadToken: zoomDownload})
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.Contains(t, *b.health(t, zc.ID).LastError, "is not under the connector's base_url")
	require.NotContains(t, *b.health(t, zc.ID).LastError, zoomDownload)

	// Nor may such a connector be created without the allow-list.
	strictSvc := capture.New(capture.Config{Store: b.st, Box: nil})
	strictSvc.Register(crm.ConnectorRecall, notetaker.Recall(netguard.New(netguard.Options{})))
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(fmt.Sprintf(`{"kind":"recall","name":"r","config":{"base_url":%q},"secrets":{"api_key":"k","webhook_secret":%q}}`,
		fake.srv.URL, recallSecret)), &in))
	_, err = strictSvc.Create(context.Background(), b.orgID, in)
	var ve *crm.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "config.base_url", ve.Fields[0].Field)
}

// TestKindChecks: the kinds' config and secrets rules.
func TestKindChecks(t *testing.T) {
	t.Parallel()
	recall, zoom := notetaker.Recall(netguard.New(netguard.Options{})), notetaker.Zoom(netguard.New(netguard.Options{}))
	fields := func(err error) []string {
		var ve *crm.ValidationError
		if !errors.As(err, &ve) {
			return nil
		}
		var out []string
		for _, f := range ve.Fields {
			out = append(out, f.Field)
		}
		return out
	}
	for _, c := range []struct {
		name         string
		kind         capture.Kind
		cfg, secrets string
		old          string
		want         []string
	}{
		{"RecallOK", recall, `{"base_url":"https://us-east-1.recall.ai/"}`, `{"api_key":"k","webhook_secret":"` + recallSecret + `"}`, "", nil},
		{"RecallNoBase", recall, `{}`, `{"api_key":"k","webhook_secret":"` + recallSecret + `"}`, "", []string{"config.base_url"}},
		{"RecallPrivate", recall, `{"base_url":"http://10.0.0.7"}`, `{"api_key":"k","webhook_secret":"` + recallSecret + `"}`, "", []string{"config.base_url"}},
		{"RecallUnknownField", recall, `{"base_url":"https://x.recall.ai","region":"us"}`, `{"api_key":"k","webhook_secret":"` + recallSecret + `"}`, "", []string{"config"}},
		{"RecallNotWhsec", recall, `{"base_url":"https://x.recall.ai"}`, `{"api_key":"k","webhook_secret":"hunter2"}`, "", []string{"secrets.webhook_secret"}},
		{"RecallMissingSecrets", recall, `{"base_url":"https://x.recall.ai"}`, ``, "", []string{"secrets.api_key"}},
		{"RecallUpdateKeepsSecrets", recall, `{"base_url":"https://eu-central-1.recall.ai"}`, ``, `{"base_url":"https://x.recall.ai"}`, nil},
		{"ZoomDefault", zoom, `{}`, `{"webhook_secret_token":"t"}`, "", nil},
		{"ZoomUnknownSecret", zoom, `{}`, `{"webhook_secret_token":"t","api_key":"x"}`, "", []string{"secrets.api_key"}},
		{"ZoomEmptyToken", zoom, `{}`, `{"webhook_secret_token":""}`, "", []string{"secrets.webhook_secret_token"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var old, sec json.RawMessage
			if c.old != "" {
				old = json.RawMessage(c.old)
			}
			if c.secrets != "" {
				sec = json.RawMessage(c.secrets)
			}
			cfg, secrets, err := c.kind.Check(json.RawMessage(c.cfg), old, sec)
			require.Equal(t, c.want, fields(err), "%v", err)
			if c.want == nil {
				require.NoError(t, err)
				require.NotContains(t, string(cfg), `/"`, "the trailing slash is trimmed")
				if sec == nil {
					require.Nil(t, secrets)
				}
			}
		})
	}
}
