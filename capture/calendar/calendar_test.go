package calendar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/capture"
	"logbook/capture/calendar"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

type bundle struct {
	pool    *pgxpool.Pool
	st      *store.Store
	svc     *capture.Service
	box     *secretbox.Box
	orgID   string
	userID  string
	account string
}

func loopbackGuard(t *testing.T) *netguard.Guard {
	allow, err := netguard.ParseAllowList("127.0.0.1")
	require.NoError(t, err)
	return netguard.New(netguard.Options{Allow: allow})
}

func setup(t *testing.T, g *netguard.Guard) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := testdb.Pool(t)
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "calendar "+t.Name())
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = st.OrgDelete(context.WithoutCancel(ctx), org.ID) })
	_, err = st.SettingsUpdate(ctx, org.ID, crm.SettingsInput{OwnDomains: crm.Some([]string{"logbook.test"})})
	require.NoError(t, err)
	u, err := st.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("rep1@logbook.test"), Name: crm.Some("Rep One")})
	require.NoError(t, err)
	acc, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.example"})})
	require.NoError(t, err)
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	b := &bundle{pool: pool, st: st, box: box, orgID: org.ID, userID: u.ID, account: acc.ID}
	b.svc = b.service(g)
	return b
}

func (b *bundle) service(g *netguard.Guard) *capture.Service {
	svc := capture.New(capture.Config{Store: b.st, Box: b.box})
	svc.Register(crm.ConnectorICS, calendar.ICS(b.st, g, nil))
	svc.Register(crm.ConnectorCalDAV, calendar.CalDAV(b.st, g, nil))
	return svc
}

func (b *bundle) create(t *testing.T, body string) crm.Connector {
	t.Helper()
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(body), &in))
	in.UserID = crm.Some(b.userID)
	c, err := b.svc.Create(context.Background(), b.orgID, in)
	require.NoError(t, err)
	return c
}

func (b *bundle) sync(t *testing.T, svc *capture.Service, c crm.Connector) store.ConnectorRecord {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: b.orgID, ConnectorID: c.ID}))
	rec, err := b.st.ConnectorGet(ctx, b.orgID, c.ID)
	require.NoError(t, err)
	return rec
}

type meeting struct {
	ExternalID string
	Start      time.Time
	Subject    string
	Cancelled  bool
	Account    string
	Owner      string
}

// meetings lists the org's calendar meetings, by start.
func (b *bundle) meetings(t *testing.T) []meeting {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT external_id, occurred_at, coalesce(subject, ''),
		coalesce((metadata->>'cancelled')::boolean, false), account_id::text, coalesce(owner_id::text, '')
		FROM activities WHERE org_id = $1 AND source = 'calendar_sync' AND type = 'meeting' ORDER BY occurred_at, external_id`, b.orgID)
	require.NoError(t, err)
	defer rows.Close()
	var out []meeting
	for rows.Next() {
		var m meeting
		require.NoError(t, rows.Scan(&m.ExternalID, &m.Start, &m.Subject, &m.Cancelled, &m.Account, &m.Owner))
		out = append(out, m)
	}
	require.NoError(t, rows.Err())
	return out
}

func ics(events ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//logbook test//EN\r\n" + strings.Join(events, "") + "END:VCALENDAR\r\n"
}

func ts(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// vevent writes one VEVENT; extra lines are appended as given.
func vevent(uid string, start time.Time, summary string, extra ...string) string {
	lines := []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z", "DTSTART:" + ts(start),
		"DTEND:" + ts(start.Add(30*time.Minute)), "SUMMARY:" + summary,
		"ORGANIZER;CN=Rep One:mailto:rep1@logbook.test"}
	lines = append(lines, extra...)
	lines = append(lines, "END:VEVENT")
	return strings.Join(lines, "\r\n") + "\r\n"
}

const ann = "ATTENDEE;CN=Ann Buyer;PARTSTAT=ACCEPTED:mailto:ann@acme.example"

// feedServer serves body (changeable) with an ETag, answering 304 to a
// matching If-None-Match; it counts full and conditional answers.
type feedServer struct {
	mu          sync.Mutex
	body        string
	full, notMo atomic.Int32
}

func (f *feedServer) set(body string) { f.mu.Lock(); f.body = body; f.mu.Unlock() }

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("token") != "s3cret-token" {
		http.Error(w, "no", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	body := f.body
	f.mu.Unlock()
	etag := fmt.Sprintf(`"%x"`, len(body)*31+int(body[len(body)/2]))
	if r.Header.Get("If-None-Match") == etag {
		f.notMo.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f.full.Add(1)
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "text/calendar")
	_, _ = w.Write([]byte(body))
}

func TestICSFeedSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, loopbackGuard(t))
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2).Add(15 * time.Hour)
	day := 24 * time.Hour
	series := func(extra ...string) string {
		return vevent("wk-1", base.Add(-14*day), "Weekly Acme sync", append([]string{ann,
			"RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE:" + ts(base.Add(7*day))}, extra...)...)
	}
	override := func(rid, start time.Time, extra ...string) string {
		return vevent("wk-1", start, "Weekly Acme sync (moved)", append([]string{ann, "RECURRENCE-ID:" + ts(rid)}, extra...)...)
	}
	single := func(extra ...string) string {
		return vevent("one-1", base.Add(3*day), "Acme demo", append([]string{
			"ATTENDEE;CN=Bob:mailto:bob@acme.example", "LOCATION:https://acme.zoom.us/j/987654321?pwd=x"}, extra...)...)
	}
	internal := vevent("int-1", base.Add(day), "Team standup", "ATTENDEE:mailto:rep2@logbook.test")
	unknown := vevent("unk-1", base.Add(day), "Someone else", "ATTENDEE:mailto:x@unknown.example")
	feed := &feedServer{}
	feed.set(ics(series(), override(base.Add(14*day), base.Add(15*day)), single(), internal, unknown))
	srv := httptest.NewServer(feed)
	t.Cleanup(srv.Close)

	c := b.create(t, `{"kind":"ics","name":"Rep's calendar","config":{},"secrets":{"url":"`+srv.URL+`/feed.ics?token=s3cret-token"}}`)
	require.NotContains(t, string(c.Config), "s3cret")
	rec := b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError, "%v", rec.Health.LastError)
	got := b.meetings(t)
	var ids []string
	for _, m := range got {
		ids = append(ids, m.ExternalID)
		require.Equal(t, b.account, m.Account)
		require.Equal(t, b.userID, m.Owner)
	}
	rid := func(d int) string { return "wk-1/" + ts(base.Add(time.Duration(d)*day)) }
	// Weekly: -14, -7, 0, (+7 excluded), +14 moved to +15, +21; the demo;
	// not the internal standup nor the meeting with no known account.
	require.Equal(t, []string{rid(-14), rid(-7), rid(0), "one-1", rid(14), rid(21)}, ids)
	require.Equal(t, base.Add(15*day), got[4].Start.UTC())
	require.Equal(t, "Weekly Acme sync (moved)", got[4].Subject)
	require.EqualValues(t, 6, rec.Health.ItemsCaptured)

	// Unchanged: a conditional GET answered 304; nothing written or counted.
	rec = b.sync(t, b.svc, c)
	require.EqualValues(t, 1, feed.full.Load())
	require.EqualValues(t, 1, feed.notMo.Load())
	require.EqualValues(t, 6, rec.Health.ItemsCaptured)
	require.Len(t, b.meetings(t), 6)

	// A note-taker's transcript of the demo lands on the calendar's
	// meeting (conference link), so the demo's cancellation keeps it.
	acts := activity.New(b.st)
	ext := "zm-555"
	ing, err := activity.ParseTranscript(&activity.TranscriptInput{Source: "zoom", ExternalID: &ext, Title: "Zoom meeting",
		StartedAt: base.Add(3*day + 2*time.Minute).Format(time.RFC3339), Content: ptr("Ann: hello there.\nBob: hi."),
		ConferenceURL: ptr("https://us06web.zoom.us/j/987654321")})
	require.NoError(t, err)
	out, err := acts.IngestTranscript(ctx, b.orgID, ing)
	require.NoError(t, err)
	demo, err := b.st.ActivityGet(ctx, b.orgID, out.Transcript.ActivityID)
	require.NoError(t, err)
	require.Equal(t, crm.SourceCalendarSync, demo.Source)
	require.Equal(t, "Acme demo", *demo.Subject)

	// The feed changes: the moved instance moves again, +21 is excluded,
	// -7 is cancelled by an override, the demo is cancelled.
	feed.set(ics(
		strings.Replace(series(), "EXDATE:"+ts(base.Add(7*day)), "EXDATE:"+ts(base.Add(7*day))+","+ts(base.Add(21*day)), 1),
		override(base.Add(14*day), base.Add(16*day), "SEQUENCE:2"),
		override(base.Add(-7*day), base.Add(-7*day), "STATUS:CANCELLED"),
		single("STATUS:CANCELLED"), internal, unknown))
	rec = b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError)
	got = b.meetings(t)
	ids = ids[:0]
	for _, m := range got {
		ids = append(ids, m.ExternalID)
	}
	require.Equal(t, []string{rid(-14), rid(0), "one-1", rid(14)}, ids)
	require.Equal(t, base.Add(16*day), got[3].Start.UTC(), "moved again: updated, not duplicated")
	require.True(t, got[2].Cancelled, "the demo has a transcript: kept, marked cancelled")
	require.EqualValues(t, 6, rec.Health.ItemsCaptured, "nothing new")

	// The same note-taker post again lands on the same meeting.
	ing2, err := activity.ParseTranscript(&activity.TranscriptInput{Source: "zoom", ExternalID: &ext, Title: "Zoom meeting",
		StartedAt: base.Add(3*day + 2*time.Minute).Format(time.RFC3339), Content: ptr("Ann: hello there.\nBob: hi.")})
	require.NoError(t, err)
	out2, err := acts.IngestTranscript(ctx, b.orgID, ing2)
	require.NoError(t, err)
	require.Equal(t, out.Transcript.ActivityID, out2.Transcript.ActivityID)
	require.Equal(t, store.IngestUnchanged, out2.Result)
}

func ptr[T any](v T) *T { return &v }

func TestICSRestartMidSync(t *testing.T) {
	t.Parallel()
	b := setup(t, loopbackGuard(t))
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20).Add(9 * time.Hour)
	feed := &feedServer{}
	feed.set(ics(vevent("daily-1", start, "Daily Acme onboarding", ann, "RRULE:FREQ=DAILY;COUNT=300")))
	srv := httptest.NewServer(feed)
	t.Cleanup(srv.Close)
	c := b.create(t, `{"kind":"ics","name":"cal","config":{"horizon_days":100},"secrets":{"url":"`+srv.URL+`/x.ics?token=s3cret-token"}}`)

	// The first run is killed (its context ends) once some meetings are
	// written.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var n int
			_ = b.pool.QueryRow(context.Background(), `SELECT count(*) FROM activities WHERE org_id = $1`, b.orgID).Scan(&n)
			if n >= 20 {
				cancel()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	require.NoError(t, b.svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: b.orgID, ConnectorID: c.ID}))
	cancel()
	<-done
	partial := len(b.meetings(t))
	require.Less(t, partial, 120, "the first run stopped part way")

	rec := b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError)
	got := b.meetings(t)
	// 20 days back to 100 ahead: one meeting a day, once each.
	want := 0
	for d := start; d.Before(time.Now().AddDate(0, 0, 100)); d = d.Add(24 * time.Hour) {
		want++
	}
	require.Len(t, got, want)
	seen := map[string]bool{}
	for _, m := range got {
		require.False(t, seen[m.ExternalID])
		seen[m.ExternalID] = true
	}
	// A run killed between a meeting's commit and its count may lose that
	// count; never a meeting, never a duplicate.
	require.LessOrEqual(t, rec.Health.ItemsCaptured, int64(want))
	require.GreaterOrEqual(t, rec.Health.ItemsCaptured, int64(want-1))
}

func TestICSGuardAndErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, loopbackGuard(t))
	feed := &feedServer{}
	feed.set(ics(vevent("e-1", time.Now().Add(time.Hour), "x", ann)))
	srv := httptest.NewServer(feed)
	t.Cleanup(srv.Close)

	// Created where loopback is allowed, synced by a server where it is not.
	c := b.create(t, `{"kind":"ics","name":"cal","config":{},"secrets":{"url":"`+srv.URL+`/x.ics?token=s3cret-token"}}`)
	rec := b.sync(t, b.service(netguard.New(netguard.Options{})), c)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "loopback")
	require.Contains(t, *rec.Health.LastError, "127.0.0.1")
	require.NotContains(t, *rec.Health.LastError, "s3cret")
	require.Empty(t, b.meetings(t))

	// A wrong token: the feed's error, with its host only.
	c2 := b.create(t, `{"kind":"ics","name":"cal2","config":{},"secrets":{"url":"`+srv.URL+`/x.ics?token=wrong-secret"}}`)
	rec = b.sync(t, b.svc, c2)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "404")
	require.NotContains(t, *rec.Health.LastError, "wrong-secret")

	// A redirect to an address the guard refuses is not followed.
	redirect := httptest.NewServer(http.RedirectHandler("http://10.0.0.7/feed.ics?token=leaked-token", http.StatusFound))
	t.Cleanup(redirect.Close)
	c3 := b.create(t, `{"kind":"ics","name":"cal3","config":{},"secrets":{"url":"`+redirect.URL+`/x.ics?token=s3cret-token"}}`)
	rec = b.sync(t, b.svc, c3)
	require.NotNil(t, rec.Health.LastError)
	require.Contains(t, *rec.Health.LastError, "redirected to 10.0.0.7")
	require.NotContains(t, *rec.Health.LastError, "token")

	// Check refuses a non-http URL, and loopback where it is not allowed.
	refusing := b.service(netguard.New(netguard.Options{}))
	for _, url := range []string{"ftp://x.example/a.ics", srv.URL + "/x.ics"} {
		var in crm.ConnectorInput
		require.NoError(t, json.Unmarshal([]byte(`{"kind":"ics","name":"x","config":{},"secrets":{"url":"`+url+`"}}`), &in))
		_, err := refusing.Create(context.Background(), b.orgID, in)
		var ve *crm.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "secrets.url", ve.Fields[0].Field)
	}
}

func TestTranscriptMatchByTimeAndAttendees(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, loopbackGuard(t))
	base := time.Now().UTC().Truncate(time.Hour).Add(-48 * time.Hour)
	feed := &feedServer{}
	feed.set(ics(vevent("m-1", base, "Acme pricing call", ann)))
	srv := httptest.NewServer(feed)
	t.Cleanup(srv.Close)
	c := b.create(t, `{"kind":"ics","name":"cal","config":{},"secrets":{"url":"`+srv.URL+`/x.ics?token=s3cret-token"}}`)
	b.sync(t, b.svc, c)
	require.Len(t, b.meetings(t), 1)
	acts := activity.New(b.st)
	post := func(ext string, at time.Time, email string) string {
		ing, err := activity.ParseTranscript(&activity.TranscriptInput{Source: "otter", ExternalID: &ext,
			StartedAt: at.Format(time.RFC3339), Content: ptr("Ann: the price works."),
			Participants: []crm.Participant{{Name: "Ann", Email: email}}, AccountID: ptr(b.account)})
		require.NoError(t, err)
		out, err := acts.IngestTranscript(ctx, b.orgID, ing)
		require.NoError(t, err)
		a, err := b.st.ActivityGet(ctx, b.orgID, out.Transcript.ActivityID)
		require.NoError(t, err)
		return string(a.Source)
	}
	// 20 minutes off, same attendee: outside the window, its own meeting.
	require.Equal(t, "notetaker", post("o-0", base.Add(20*time.Minute), "ann@acme.example"))
	// 10 minutes off, no shared attendee: its own meeting.
	require.Equal(t, "notetaker", post("o-1", base.Add(10*time.Minute), "zed@acme.example"))
	// 10 minutes off, a shared attendee: the calendar's meeting.
	require.Equal(t, "calendar_sync", post("o-2", base.Add(10*time.Minute), "ANN@acme.example"))
	require.Len(t, b.meetings(t), 1)
}

// radicale is the local test server scripts/services.sh runs.
const radicale = "http://127.0.0.1:5232"

func davDo(t *testing.T, method, path, body, user, password string) int {
	t.Helper()
	req, err := http.NewRequest(method, radicale+path, strings.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(user, password)
	if body != "" {
		req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "Radicale must run on %s: scripts/services.sh starts it", radicale)
	resp.Body.Close()
	return resp.StatusCode
}

func TestCalDAVRadicale(t *testing.T) {
	t.Parallel()
	b := setup(t, loopbackGuard(t))
	col := "/rep1/logbook-test-" + uuid.NewString() + "/"
	require.Equal(t, http.StatusCreated, davDo(t, "MKCALENDAR", col, "", "rep1", "rep1-password"))
	t.Cleanup(func() { davDo(t, http.MethodDelete, col, "", "rep1", "rep1-password") })
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 3).Add(14 * time.Hour)
	put := func(name, data string) {
		code := davDo(t, http.MethodPut, col+name, data, "rep1", "rep1-password")
		require.Contains(t, []int{http.StatusCreated, http.StatusNoContent}, code)
	}
	put("series.ics", ics(vevent("dav-series", base, "Acme weekly", ann, "RRULE:FREQ=WEEKLY;COUNT=3")))
	put("single.ics", ics(vevent("dav-single", base.Add(24*time.Hour), "Acme kickoff", ann)))
	put("internal.ics", ics(vevent("dav-int", base, "1:1", "ATTENDEE:mailto:rep2@logbook.test")))

	c := b.create(t, `{"kind":"caldav","name":"Radicale","config":{"url":"`+radicale+`/","username":"rep1","calendars":["`+col+`"]},"secrets":{"password":"rep1-password"}}`)
	rec := b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError, "%v", rec.Health.LastError)
	require.Len(t, b.meetings(t), 4)
	require.EqualValues(t, 4, rec.Health.ItemsCaptured)

	// Unchanged: nothing new.
	rec = b.sync(t, b.svc, c)
	require.EqualValues(t, 4, rec.Health.ItemsCaptured)
	require.Len(t, b.meetings(t), 4)

	// The kickoff moves, the series is deleted.
	put("single.ics", ics(vevent("dav-single", base.Add(26*time.Hour), "Acme kickoff", ann, "SEQUENCE:1")))
	require.Equal(t, http.StatusOK, davDo(t, http.MethodDelete, col+"series.ics", "", "rep1", "rep1-password"))
	rec = b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError)
	got := b.meetings(t)
	require.Len(t, got, 1)
	require.Equal(t, "dav-single", got[0].ExternalID)
	require.Equal(t, base.Add(26*time.Hour), got[0].Start.UTC())

	// Bad credentials: a clear error on the connector's health.
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(`{"secrets":{"password":"wrong"}}`), &in))
	_, err := b.svc.Update(context.Background(), b.orgID, c.ID, in)
	require.NoError(t, err)
	rec = b.sync(t, b.svc, c)
	require.NotNil(t, rec.Health.LastError)
	require.Equal(t, "the calendar server at 127.0.0.1 refused the credentials for rep1", *rec.Health.LastError)
	require.Equal(t, "failing", rec.Health.Status)
}

func TestCalDAVDiscovery(t *testing.T) {
	t.Parallel()
	b := setup(t, loopbackGuard(t))
	// rep2's calendars are found from the server's root: the principal,
	// its calendar home, its calendars.
	col := "/rep2/logbook-test-" + uuid.NewString() + "/"
	require.Equal(t, http.StatusCreated, davDo(t, "MKCALENDAR", col, "", "rep2", "rep2-password"))
	t.Cleanup(func() { davDo(t, http.MethodDelete, col, "", "rep2", "rep2-password") })
	uid := "disc-" + uuid.NewString()
	code := davDo(t, http.MethodPut, col+"e.ics", ics(vevent(uid, time.Now().Add(48*time.Hour), "Acme QBR", ann)), "rep2", "rep2-password")
	require.Equal(t, http.StatusCreated, code)

	c := b.create(t, `{"kind":"caldav","name":"Radicale","config":{"url":"`+radicale+`/","username":"rep2"},"secrets":{"password":"rep2-password"}}`)
	rec := b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError, "%v", rec.Health.LastError)
	var found bool
	for _, m := range b.meetings(t) {
		found = found || m.ExternalID == uid
	}
	require.True(t, found, "the event of the discovered calendar is a meeting")
	var state struct {
		Calendars map[string]any `json:"calendars"`
	}
	require.NoError(t, json.Unmarshal(rec.State, &state))
	require.Contains(t, state.Calendars, col)
}

func TestTwoCalendarsOneMeeting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, loopbackGuard(t))
	feed := &feedServer{}
	feed.set(ics(vevent("shared-1", time.Now().Add(72*time.Hour).Truncate(time.Minute), "Acme review", ann,
		"ATTENDEE:mailto:rep2@logbook.test")))
	srv := httptest.NewServer(feed)
	t.Cleanup(srv.Close)
	rep2, err := b.st.UserCreate(ctx, b.orgID, crm.UserInput{Email: crm.Some("rep2@logbook.test"), Name: crm.Some("Rep Two")})
	require.NoError(t, err)
	body := `{"kind":"ics","name":"cal","config":{},"secrets":{"url":"` + srv.URL + `/x.ics?token=s3cret-token"}}`
	c1 := b.create(t, body)
	var in crm.ConnectorInput
	require.NoError(t, json.Unmarshal([]byte(body), &in))
	in.UserID = crm.Some(rep2.ID)
	c2, err := b.svc.Create(ctx, b.orgID, in)
	require.NoError(t, err)

	// Both reps are invited: one meeting, the first calendar's.
	b.sync(t, b.svc, c1)
	rec2 := b.sync(t, b.svc, c2)
	got := b.meetings(t)
	require.Len(t, got, 1)
	require.Equal(t, b.userID, got[0].Owner)
	require.EqualValues(t, 0, rec2.Health.ItemsCaptured)

	// The first connector goes: the second takes the meeting over at its
	// next full read (here a backfill; else once the window moved a day).
	require.NoError(t, b.st.ConnectorDelete(ctx, b.orgID, c1.ID))
	from := time.Now().AddDate(0, 0, -1)
	require.NoError(t, b.svc.SyncNow(ctx, queue.ConnectorSyncPayload{OrgID: b.orgID, ConnectorID: c2.ID, From: &from}))
	got = b.meetings(t)
	require.Len(t, got, 1)
	require.Equal(t, rep2.ID, got[0].Owner)
}

// TestCalendarAfterTranscript: the note-taker's transcript came first (the
// calendar was connected later), so its meeting is on record as the
// note-taker's; the calendar's sync takes it over instead of logging a
// second meeting, by conference link or by time and a shared attendee, and
// a re-post of the transcript still lands on it.
func TestCalendarAfterTranscript(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, loopbackGuard(t))
	base := time.Now().UTC().Truncate(time.Hour).Add(-72 * time.Hour)
	acts := activity.New(b.st)
	post := func(ext string, at time.Time, email, link string) string {
		in := &activity.TranscriptInput{Source: "otter", ExternalID: &ext,
			StartedAt: at.Format(time.RFC3339), Content: ptr("Ann: the price works."),
			Participants: []crm.Participant{{Name: "Ann", Email: email}}, AccountID: ptr(b.account)}
		if link != "" {
			in.ConferenceURL = &link
		}
		ing, err := activity.ParseTranscript(in)
		require.NoError(t, err)
		out, err := acts.IngestTranscript(ctx, b.orgID, ing)
		require.NoError(t, err)
		return out.Transcript.ActivityID
	}
	count := func() int {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM activities WHERE org_id = $1 AND type = 'meeting'`, b.orgID).Scan(&n))
		return n
	}
	// Three recordings first: one with the meeting's link (the note-taker
	// joined 3 minutes late, without the attendee's email), one by time
	// and attendee, and one the calendar does not have.
	byLink := post("o-link", base.Add(3*time.Minute), "", "https://us02web.zoom.us/j/5551234?pwd=x")
	byTime := post("o-time", base.Add(24*time.Hour+5*time.Minute), "ann@acme.example", "")
	other := post("o-other", base.Add(48*time.Hour), "ann@acme.example", "")
	require.Equal(t, 3, count())

	feed := &feedServer{}
	feed.set(ics(
		vevent("link-1", base, "Acme pricing call", ann, "LOCATION:https://zoom.us/j/5551234"),
		vevent("time-1", base.Add(24*time.Hour), "Acme follow-up", ann),
		vevent("cal-only", base.Add(30*time.Hour), "Acme roadmap", ann)))
	srv := httptest.NewServer(feed)
	t.Cleanup(srv.Close)
	c := b.create(t, `{"kind":"ics","name":"cal","config":{},"secrets":{"url":"`+srv.URL+`/x.ics?token=s3cret-token"}}`)
	rec := b.sync(t, b.svc, c)
	require.Nil(t, rec.Health.LastError)
	require.Equal(t, 4, count(), "two recordings taken over, one calendar-only meeting added, one recording left alone")

	get := func(id string) crm.Activity {
		a, err := b.st.ActivityGet(ctx, b.orgID, id)
		require.NoError(t, err)
		return a
	}
	for id, want := range map[string]string{byLink: "link-1", byTime: "time-1"} {
		a := get(id)
		require.Equal(t, crm.SourceCalendarSync, a.Source)
		require.Equal(t, want, *a.ExternalID)
		var md map[string]any
		require.NoError(t, json.Unmarshal(a.Metadata, &md))
		require.Equal(t, "otter", md["notetaker_source"])
		require.NotEmpty(t, md["notetaker_external_id"])
		require.Equal(t, c.ID, md["connector_id"])
	}
	require.Equal(t, "Acme pricing call", *get(byLink).Subject, "the calendar's title")
	require.Equal(t, base, get(byLink).OccurredAt.UTC(), "the calendar's time")
	require.Equal(t, crm.SourceNotetaker, get(other).Source)

	// A second sync and a re-post of a recording change nothing.
	b.sync(t, b.svc, c)
	require.Equal(t, byLink, post("o-link", base.Add(3*time.Minute), "", "https://us02web.zoom.us/j/5551234?pwd=x"))
	require.Equal(t, 4, count())
}
