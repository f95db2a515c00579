package notetaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"logbook/activity"
	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/vendorhook"
)

// Deps is what a Fetcher is built from: the kinds' dependencies.
type Deps struct {
	// Capture opens the connectors' secrets and reaches their store.
	Capture *capture.Service
	// Enqueuer queues the ingested transcript's processing and webhook
	// deliveries.
	Enqueuer *queue.Enqueuer
	// Guard decides which addresses the pulls may connect to (the
	// connectors' guard: public addresses plus CONNECTOR_ALLOW_PRIVATE),
	// checked at every dial.
	Guard *netguard.Guard
	// Logger gets the fetches' logs (never a secret); nil discards.
	Logger *slog.Logger
	// Timeout bounds one HTTP request to the vendor (default 60s).
	Timeout time.Duration
}

// Fetcher is the notetaker:fetch task handler.
type Fetcher struct {
	capture *capture.Service
	store   *store.Store
	acts    *activity.Service
	enq     *queue.Enqueuer
	http    *http.Client
	log     *slog.Logger
	now     func() time.Time
}

// MaxDownload bounds what one pull reads from a vendor (a transcript's
// limit).
const MaxDownload = activity.MaxTranscriptBytes

// NewFetcher returns the notetaker:fetch handler.
func NewFetcher(d Deps) *Fetcher {
	if d.Guard == nil {
		d.Guard = netguard.New(netguard.Options{})
	}
	if d.Timeout <= 0 {
		d.Timeout = 60 * time.Second
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := d.Capture.Store()
	return &Fetcher{capture: d.Capture, store: st, acts: activity.New(st), enq: d.Enqueuer, log: log, now: time.Now,
		http: guardedClient(d.Guard, d.Timeout)}
}

// guardedClient connects only through the guard's dialer (the resolved
// address checked at every dial, redirects included), takes no proxy from
// the environment, and follows at most 5 redirects (Zoom's downloads
// redirect to its CDN; net/http drops Authorization when a redirect leaves
// the host).
func guardedClient(g *netguard.Guard, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:            g.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           20,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

// permanent marks an error that fails the same way on every attempt: the
// task is not retried (asynq.SkipRetry) and the connector shows it.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

func permanentf(format string, args ...any) error {
	return permanent{fmt.Errorf(format, args...)}
}

// ProcessTask runs one fetch: pull, ingest, enqueue processing, and record
// the outcome on the connector's health. A vendor's 5xx, 429, timeout or
// refused connection is returned for asynq to retry with backoff; a 4xx,
// a malformed answer or a meeting that resolves to no account is
// permanent (asynq.SkipRetry). Every failure is recorded on the connector
// (its last_error, readable and without secrets), every success clears it
// and counts the meeting when it is new or changed.
func (f *Fetcher) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := queue.ParseNotetakerFetchPayload(t.Payload())
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	log := f.log.With(slog.String("org_id", p.OrgID), slog.String("connector_id", p.ConnectorID), slog.String("vendor", p.Vendor))
	rec, err := f.store.ConnectorGet(ctx, p.OrgID, p.ConnectorID)
	switch {
	case errors.Is(err, crm.ErrNotFound):
		log.InfoContext(ctx, "note-taker fetch skipped: connector gone")
		return nil
	case err != nil:
		return err
	case string(rec.Kind) != p.Vendor || !rec.Enabled:
		log.InfoContext(ctx, "note-taker fetch skipped: connector disabled or changed")
		return nil
	}
	res, fetchErr := f.fetch(ctx, rec, p)
	if ctx.Err() != nil && fetchErr != nil {
		return fetchErr // shutting down or timed out: the retry says
	}
	var items int
	var newest *time.Time
	// A new or changed transcript counts, whether it is queued or held
	// for consent; a repeat of one already on record does not.
	if fetchErr == nil && res.Result != store.IngestUnchanged {
		items, newest = 1, res.startedAt
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := f.store.ConnectorRecordEvent(rctx, p.OrgID, p.ConnectorID, items, newest, fetchErr); err != nil && !errors.Is(err, crm.ErrNotFound) {
		log.WarnContext(ctx, "record note-taker fetch on the connector", slog.Any("error", err))
	}
	if fetchErr != nil {
		var perm permanent
		if errors.As(fetchErr, &perm) {
			log.WarnContext(ctx, "note-taker fetch failed for good", slog.Any("error", fetchErr))
			return fmt.Errorf("%w: %w", fetchErr, asynq.SkipRetry)
		}
		log.WarnContext(ctx, "note-taker fetch failed; retrying", slog.Any("error", fetchErr))
		return fetchErr
	}
	log.InfoContext(ctx, "note-taker transcript ingested", slog.String("transcript_id", res.Transcript.ID),
		slog.String("activity_id", res.Transcript.ActivityID), slog.String("result", string(res.Result)))
	f.enqueueAfter(ctx, log, p.OrgID, res.Ingested)
	return nil
}

type fetched struct {
	store.Ingested
	startedAt *time.Time
}

func (f *Fetcher) fetch(ctx context.Context, rec store.ConnectorRecord, p queue.NotetakerFetchPayload) (fetched, error) {
	var in *activity.TranscriptInput
	var err error
	switch p.Vendor {
	case queue.VendorRecall:
		in, err = f.pullRecall(ctx, rec, p)
	default:
		in, err = f.pullZoom(ctx, rec, p)
	}
	if err != nil {
		return fetched{}, err
	}
	if rec.UserID != nil && in.OwnerID == nil {
		in.OwnerID = rec.UserID
	}
	ing, err := activity.ParseTranscript(in)
	if err != nil {
		return fetched{}, permanentf("the %s transcript cannot be stored: %v", p.Vendor, err)
	}
	started := ing.StartedAt
	out, err := f.acts.IngestTranscript(ctx, rec.OrgID, ing)
	var ve *crm.ValidationError
	switch {
	case errors.As(err, &ve):
		return fetched{}, permanentf("the %s meeting %q was not logged: %v (add the account's domain or a contact with one of the participants' emails, then resend it from %s)",
			p.Vendor, crm.ClipText(meetingName(in), 100), err, vendorName(p.Vendor))
	case err != nil:
		return fetched{}, err
	}
	return fetched{Ingested: out, startedAt: &started}, nil
}

func meetingName(in *activity.TranscriptInput) string {
	if in.Title != "" {
		return in.Title
	}
	if in.ExternalID != nil {
		return *in.ExternalID
	}
	return ""
}

func vendorName(v string) string {
	if v == queue.VendorRecall {
		return "Recall.ai"
	}
	return "Zoom"
}

// enqueueAfter queues the transcript's processing and the webhook
// deliveries the ingest wrote; if Redis fails, the worker's reconciler
// enqueues them later.
func (f *Fetcher) enqueueAfter(ctx context.Context, log *slog.Logger, orgID string, res store.Ingested) {
	if f.enq == nil {
		return
	}
	if res.Result == store.IngestQueued {
		if err := f.enq.EnqueueTranscript(ctx, orgID, res.Transcript.ID); err != nil {
			log.WarnContext(ctx, "enqueue transcript; the reconciler will retry", slog.Any("error", err))
			return
		}
	}
	for _, id := range res.Deliveries {
		if err := f.enq.EnqueueWebhook(ctx, orgID, id); err != nil {
			log.WarnContext(ctx, "enqueue webhook delivery; the reconciler will retry", slog.Any("error", err))
			return
		}
	}
}

// pullRecall fetches the transcript's metadata with the API key, then its
// download (a presigned link: no key sent), and maps it to a meeting.
func (f *Fetcher) pullRecall(ctx context.Context, rec store.ConnectorRecord, p queue.NotetakerFetchPayload) (*activity.TranscriptInput, error) {
	secrets, err := f.capture.Open(rec)
	if err != nil {
		return nil, permanent{err}
	}
	key := secrets["api_key"]
	if key == "" {
		return nil, permanentf("the connector has no api_key: set its secrets again")
	}
	base, err := baseURL(rec.Config, "")
	if err != nil {
		return nil, permanent{err}
	}
	metaURL := base.JoinPath("api", "v1", "transcript", p.TranscriptID) // escapes the ID
	metaURL.Path += "/"
	body, err := f.get(ctx, "Recall.ai", metaURL.String(), "Token "+key, "transcript "+p.TranscriptID, "check the connector's api_key and base_url (the key's region)")
	if err != nil {
		return nil, err
	}
	meta, err := vendorhook.ParseRecallTranscriptMeta(body)
	if err != nil {
		return nil, permanentf("Recall.ai's answer for transcript %s is not of its documented shape: %v", p.TranscriptID, err)
	}
	if meta.Status != "" && meta.Status != "done" {
		return nil, fmt.Errorf("Recall.ai's transcript %s is %q, not done yet", p.TranscriptID, crm.ClipText(meta.Status, 40))
	}
	if _, err := url.Parse(meta.DownloadURL); err != nil {
		return nil, permanentf("Recall.ai's download link for transcript %s is not a URL", p.TranscriptID)
	}
	body, err = f.get(ctx, "Recall.ai", meta.DownloadURL, "", "the download of transcript "+p.TranscriptID, "")
	if err != nil {
		return nil, err
	}
	tr, err := vendorhook.ParseRecallTranscript(body)
	if err != nil {
		return nil, permanentf("Recall.ai's transcript %s is not of its documented shape: %v", p.TranscriptID, err)
	}
	if len(tr.Utterances) == 0 {
		return nil, permanentf("Recall.ai's transcript %s has no words", p.TranscriptID)
	}
	started := tr.StartedAt
	if started.IsZero() {
		started = meta.CreatedAt
	}
	if started.IsZero() {
		started = f.now().UTC().Truncate(time.Second)
	}
	ext := p.RecordingID
	if ext == "" {
		ext = meta.RecordingID
	}
	if ext == "" {
		ext = p.TranscriptID
	}
	in := &activity.TranscriptInput{Source: queue.VendorRecall, ExternalID: &ext, StartedAt: started.Format(time.RFC3339)}
	seen := map[string]bool{}
	for _, pt := range tr.Participants {
		key := strings.ToLower(pt.Email)
		if key == "" {
			key = "name:" + pt.Name
		}
		if seen[key] || (pt.Email == "" && pt.Name == "") || len(in.Participants) >= crm.MaxContactIDs {
			continue
		}
		seen[key] = true
		in.Participants = append(in.Participants, crm.Participant{Name: pt.Name, Email: pt.Email})
	}
	for _, u := range tr.Utterances {
		speaker := u.Participant.Name
		if speaker == "" && u.Participant.ID != "" {
			speaker = "Participant " + u.Participant.ID
		}
		in.Segments = append(in.Segments, activity.SegmentInput{Speaker: speaker, StartMS: u.StartMS, EndMS: u.EndMS, Text: u.Text})
	}
	return in, nil
}

// pullZoom downloads the VTT the event named, with the event's download
// token as Bearer, from under the connector's base_url.
func (f *Fetcher) pullZoom(ctx context.Context, rec store.ConnectorRecord, p queue.NotetakerFetchPayload) (*activity.TranscriptInput, error) {
	base, err := baseURL(rec.Config, DefaultZoomBaseURL)
	if err != nil {
		return nil, permanent{err}
	}
	u, err := url.Parse(p.DownloadURL)
	if err != nil || !under(u, base) {
		return nil, permanentf("Zoom's download link for meeting %s is not under the connector's base_url %s", p.MeetingID, base.Host)
	}
	body, err := f.get(ctx, "Zoom", u.String(), "Bearer "+p.DownloadToken, "the transcript of meeting "+p.MeetingID,
		"the event's download_token lasts 24 hours; resend the event from Zoom")
	if err != nil {
		return nil, err
	}
	content := string(body)
	started := time.Time{}
	if p.StartTime != nil {
		started = *p.StartTime
	}
	if started.IsZero() {
		started = f.now().UTC().Truncate(time.Second)
	}
	ext := p.MeetingUUID
	format := "vtt"
	in := &activity.TranscriptInput{Source: queue.VendorZoom, ExternalID: &ext, Title: crm.ClipText(p.Topic, 500),
		StartedAt: started.Format(time.RFC3339), Format: &format, Content: &content}
	if p.DurationMinutes > 0 {
		d := min(p.DurationMinutes*60, crm.MaxDuration)
		in.DurationSeconds = &d
	}
	if p.HostEmail != "" {
		in.Participants = []crm.Participant{{Name: "Host", Email: p.HostEmail}}
	}
	if id := strings.TrimSpace(p.MeetingID); id != "" && !strings.ContainsAny(id, "/?#") {
		// The meeting's join link, as a calendar invitation carries it:
		// the transcript lands on the calendar's meeting (its attendees
		// and account) when one was captured.
		link := "https://zoom.us/j/" + id
		in.ConferenceURL = &link
	}
	return in, nil
}

// under reports whether u is on base's scheme and host, or a subdomain of
// its host (Zoom's us02web.zoom.us under zoom.us), with base's port.
func under(u, base *url.URL) bool {
	if !strings.EqualFold(u.Scheme, base.Scheme) || u.Port() != base.Port() || u.User != nil {
		return false
	}
	h, b := strings.ToLower(u.Hostname()), strings.ToLower(base.Hostname())
	return h == b || strings.HasSuffix(h, "."+b)
}

// get fetches raw with auth (an Authorization value, or none) and returns
// the body. what names the object in errors and hint says what to check
// on a 401/403; neither the URL's query nor auth is ever put in an error.
func (f *Fetcher) get(ctx context.Context, vendor, raw, auth, what, hint string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, permanentf("%s's link for %s is not a URL", vendor, what)
	}
	if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
		return nil, permanentf("%s's link for %s is not an http or https URL", vendor, what)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/json, text/vtt, */*")
	req.Header.Set("User-Agent", "Logbook-notetaker/1")
	where := req.URL.Scheme + "://" + req.URL.Host
	resp, err := f.http.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrRefused) {
			return nil, permanentf("%s at %s is not a public address, so it was not contacted (an operator can allow it with CONNECTOR_ALLOW_PRIVATE)", vendor, where)
		}
		// Timeouts, refused or reset connections: retried.
		return nil, fmt.Errorf("%s at %s did not answer for %s (retrying)", vendor, where, what)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("%s at %s broke off %s (retrying)", vendor, where, what)
	}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		return nil, fmt.Errorf("%s answered %s for %s (retrying)", vendor, resp.Status, what)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		msg := fmt.Sprintf("%s refused %s: %s", vendor, what, resp.Status)
		if hint != "" {
			msg += " (" + hint + ")"
		}
		return nil, permanentf("%s", msg)
	case resp.StatusCode >= 300:
		return nil, permanentf("%s answered %s for %s", vendor, resp.Status, what)
	case int64(len(body)) > MaxDownload:
		return nil, permanentf("%s's %s is larger than %d MiB", vendor, what, MaxDownload>>20)
	}
	return body, nil
}
