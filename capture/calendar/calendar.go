// Package calendar is the calendar connectors (issue #14): kind ics (an
// ICS feed fetched over HTTP) and kind caldav (a CalDAV server). Each
// instance of an event in the synced window that has at least one
// attendee outside the org's own domains becomes a meeting activity
// (source calendar_sync) through activity.Service.Upsert, keyed per
// instance so a moved instance updates its meeting and never duplicates
// it. What is cancelled or deleted in the calendar inside the window is
// deleted from the log, unless a transcript or recorded consent hangs on
// the meeting: that meeting stays, marked metadata.cancelled = true.
//
// Every connection dials through the connectors' netguard.Guard; the feed
// URL is a secret (it carries its own token) and only its host is ever
// shown or logged.
package calendar

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"logbook/activity"
	"logbook/capture"
	"logbook/internal/calfeed"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/store"
)

// Defaults and limits.
const (
	// DefaultSinceDays is how far back the window starts when config.since
	// is not set.
	DefaultSinceDays = 30
	// DefaultHorizonDays is how far ahead the window reaches by default.
	DefaultHorizonDays = 90
	// MaxHorizonDays bounds horizon_days.
	MaxHorizonDays = 730
	// MaxFeedBytes is the largest feed (or CalDAV answer) read.
	MaxFeedBytes = 20 << 20
	// batchSize is how many instances are written between checkpoints.
	batchSize = 100
	// fullPassEvery is how far the window's end may move before a sync
	// reads the whole calendar again (unchanged series gain instances as
	// the window moves).
	fullPassEvery = 24 * time.Hour
	// requestTimeout bounds one HTTP request.
	requestTimeout = 60 * time.Second
)

// config is the stored configuration of both kinds (the fields are the
// web UI's contract).
type config struct {
	URL         string   `json:"url,omitempty"`
	Username    string   `json:"username,omitempty"`
	Calendars   []string `json:"calendars,omitempty"`
	Since       string   `json:"since,omitempty"`
	HorizonDays int      `json:"horizon_days"`
	CACert      string   `json:"ca_cert,omitempty"`
}

func decodeConfig(raw json.RawMessage, p *crm.Problems) config {
	var c config
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		p.Add("config", "must be an object with the kind's fields: %v", err)
	}
	return c
}

// checkCommon checks since and horizon_days and fills the default.
func checkCommon(c *config, p *crm.Problems) {
	if c.Since != "" {
		if _, err := time.Parse("2006-01-02", c.Since); err != nil {
			p.Add("config.since", "must be a date YYYY-MM-DD")
		}
	}
	switch {
	case c.HorizonDays == 0:
		c.HorizonDays = DefaultHorizonDays
	case c.HorizonDays < 1 || c.HorizonDays > MaxHorizonDays:
		p.Add("config.horizon_days", "must be between 1 and %d", MaxHorizonDays)
	}
}

// checkURL checks a URL the guard must allow; field names the problem.
func checkURL(g *netguard.Guard, raw, field string, p *crm.Problems) string {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(strings.ToLower(raw), "webcal://") {
		raw = "https://" + raw[9:]
	}
	u, err := g.CheckURL(raw)
	var re *netguard.RefusedError
	switch {
	case errors.As(err, &re):
		p.Add(field, "points at %s, a private or local address this server may not reach (an operator can allow it with CONNECTOR_ALLOW_PRIVATE)", re.Host)
	case err != nil:
		msg := err.Error()
		var ue *netguard.URLError
		if errors.As(err, &ue) {
			msg = ue.Msg
		}
		p.Add(field, "%s", msg)
	case u == nil:
		p.Add(field, "must be an http or https URL")
	}
	return raw
}

func decodeSecrets(raw json.RawMessage, p *crm.Problems) map[string]string {
	if raw == nil {
		return nil
	}
	var sec map[string]string
	if err := json.Unmarshal(raw, &sec); err != nil {
		p.Add("secrets", "must be an object of strings")
	}
	return sec
}

// ICS returns the ics kind: config {since?, horizon_days?}, secrets {url}.
func ICS(st *store.Store, g *netguard.Guard, log *slog.Logger) capture.Kind {
	k := &kind{st: st, guard: g, log: orDiscard(log)}
	return capture.Kind{
		Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
			var p crm.Problems
			if cfg == nil {
				cfg = old
			}
			c := decodeConfig(cfg, &p)
			if c.URL != "" || c.Username != "" || len(c.Calendars) > 0 || c.CACert != "" {
				p.Add("config", "an ics connector takes only since and horizon_days (its URL is a secret: secrets.url)")
			}
			checkCommon(&c, &p)
			sec := decodeSecrets(secrets, &p)
			var out map[string]string
			switch {
			case secrets == nil && old == nil:
				p.Add("secrets.url", "is required")
			case secrets != nil:
				if strings.TrimSpace(sec["url"]) == "" {
					p.Add("secrets.url", "is required")
				} else {
					out = map[string]string{"url": checkURL(g, sec["url"], "secrets.url", &p)}
				}
			}
			if err := p.Err(); err != nil {
				return nil, nil, err
			}
			b, err := json.Marshal(c)
			return b, out, err
		},
		Sync: k.syncICS,
	}
}

// CalDAV returns the caldav kind: config {url, username, calendars?,
// since?, horizon_days?, ca_cert?}, secrets {password}.
func CalDAV(st *store.Store, g *netguard.Guard, log *slog.Logger) capture.Kind {
	k := &kind{st: st, guard: g, log: orDiscard(log)}
	return capture.Kind{
		Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
			var p crm.Problems
			if cfg == nil {
				cfg = old
			}
			c := decodeConfig(cfg, &p)
			if strings.TrimSpace(c.URL) == "" {
				p.Add("config.url", "is required")
			} else {
				c.URL = checkURL(g, c.URL, "config.url", &p)
			}
			c.Username = strings.TrimSpace(c.Username)
			if c.Username == "" {
				p.Add("config.username", "is required")
			}
			for i, path := range c.Calendars {
				if !strings.HasPrefix(path, "/") || len(path) > 1000 {
					p.Add(fmt.Sprintf("config.calendars[%d]", i), "must be a path on the server, such as /calendars/rep/work/")
				}
			}
			if c.CACert != "" {
				if _, err := certPool(c.CACert); err != nil {
					p.Add("config.ca_cert", "must be a PEM certificate")
				}
			}
			checkCommon(&c, &p)
			sec := decodeSecrets(secrets, &p)
			var out map[string]string
			switch {
			case secrets == nil && old == nil:
				p.Add("secrets.password", "is required")
			case secrets != nil:
				if sec["password"] == "" {
					p.Add("secrets.password", "is required")
				} else {
					out = map[string]string{"password": sec["password"]}
				}
			}
			if err := p.Err(); err != nil {
				return nil, nil, err
			}
			b, err := json.Marshal(c)
			return b, out, err
		},
		Sync: k.syncCalDAV,
	}
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func certPool(pem string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pem)) {
		return nil, errors.New("no certificate")
	}
	return pool, nil
}

type kind struct {
	st    *store.Store
	guard *netguard.Guard
	log   *slog.Logger
}

// httpClient dials through the guard, follows at most five redirects and
// only to URLs the guard allows, and bounds every request.
func (k *kind) httpClient(caCert string) (*http.Client, error) {
	tr := &http.Transport{
		DialContext:            k.guard.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    15 * time.Second,
		ResponseHeaderTimeout:  requestTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        30 * time.Second,
	}
	if caCert != "" {
		pool, err := certPool(caCert)
		if err != nil {
			return nil, errors.New("config.ca_cert is not a PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport: tr,
		Timeout:   requestTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if _, err := k.guard.CheckURL(req.URL.String()); err != nil {
				return &redirectError{host: req.URL.Hostname(), err: err}
			}
			return nil
		},
	}, nil
}

type redirectError struct {
	host string
	err  error
}

func (e *redirectError) Error() string {
	return "redirected to " + e.host + ", which this server may not reach"
}

func (e *redirectError) Unwrap() error { return e.err }

// errAuth is a 401 or 403 answer.
var errAuth = errors.New("authentication refused")

// transportError describes a failed request without its URL (which, for a
// feed, is a secret): the guard's refusal, a timeout, a TLS or connection
// failure.
func transportError(what, host string, err error) error {
	var re *netguard.RefusedError
	var rd *redirectError
	switch {
	case errors.As(err, &rd):
		return fmt.Errorf("%s at %s redirected to %s, which this server may not reach", what, host, rd.host)
	case errors.As(err, &re):
		return fmt.Errorf("%s at %s is at a %s address this server may not reach (an operator can allow it with CONNECTOR_ALLOW_PRIVATE)", what, host, re.Reason)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, http.ErrHandlerTimeout):
		return fmt.Errorf("%s at %s did not answer in time", what, host)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		if ue.Timeout() {
			return fmt.Errorf("%s at %s did not answer in time", what, host)
		}
	}
	return fmt.Errorf("could not reach %s at %s: %v", what, host, err)
}

// window is the span of instance starts a sync covers.
func window(c config, run *capture.Run, now time.Time) (time.Time, time.Time) {
	from := now.AddDate(0, 0, -DefaultSinceDays)
	if c.Since != "" {
		if d, err := time.Parse("2006-01-02", c.Since); err == nil {
			from = d
		}
	}
	to := now.AddDate(0, 0, c.HorizonDays)
	if run.Range != nil {
		from = run.Range.From
		if !run.Range.To.IsZero() {
			to = run.Range.To
		}
	}
	return from, to
}

// syncer writes one run's instances.
type syncer struct {
	k        *kind
	run      *capture.Run
	acts     *activity.Service
	orgID    string
	connID   string
	ownerID  *string
	own      []string // the org's own domains
	from, to time.Time
}

func (k *kind) newSyncer(ctx context.Context, run *capture.Run, c config) (*syncer, error) {
	rec := run.Connector
	s := &syncer{k: k, run: run, acts: activity.New(k.st), orgID: rec.OrgID, connID: rec.ID, ownerID: rec.UserID}
	s.from, s.to = window(c, run, time.Now())
	settings, err := k.st.SettingsGet(ctx, rec.OrgID)
	if err != nil {
		return nil, err
	}
	s.own = settings.OwnDomains
	if len(s.own) == 0 && rec.UserID != nil {
		// No own domains set: the calendar owner's domain is the org's.
		if u, err := k.st.UserGet(ctx, rec.OrgID, *rec.UserID); err == nil && u.Email != "" {
			s.own = []string{crm.EmailDomain(u.Email)}
		}
	}
	return s, nil
}

// ExternalID is a meeting's key: the UID for a single event, UID "/" the
// original start (RECURRENCE-ID) for an instance of a series, hashed when
// longer than crm.MaxExternalID.
func ExternalID(in calfeed.Instance) string {
	key := in.UID
	if in.RecurrenceID != "" {
		key += "/" + in.RecurrenceID
	}
	if len(key) > crm.MaxExternalID {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return key
}

func (s *syncer) isOwn(email string) bool {
	d := crm.EmailDomain(email)
	for _, o := range s.own {
		if strings.EqualFold(d, o) || strings.HasSuffix(d, "."+strings.ToLower(o)) {
			return true
		}
	}
	return false
}

// participants are the organizer and the attendees who did not decline
// (rooms and resources left out), and whether one is external.
func (s *syncer) participants(ev *calfeed.Event) ([]crm.Participant, bool) {
	var out []crm.Participant
	external := false
	seen := map[string]bool{}
	add := func(a calfeed.Attendee) {
		if a.Resource || a.Email == "" || a.PartStat == "DECLINED" || seen[a.Email] || len(out) >= crm.MaxContactIDs {
			return
		}
		seen[a.Email] = true
		out = append(out, crm.Participant{Name: a.Name, Email: a.Email})
		if !s.isOwn(a.Email) {
			external = true
		}
	}
	add(ev.Organizer)
	for _, a := range ev.Attendees {
		add(a)
	}
	return out, external
}

// calendarKeys are the metadata keys the calendar owns: rewritten on every
// sync (others, such as the note-taker's, are kept).
var calendarKeys = []string{"connector_id", "ical_uid", "recurrence_id", "conference_url", "conference_key",
	"location", "ends_at", "status", "all_day", "cancelled"}

// input builds the meeting activity of an instance, keeping the metadata
// keys of prev that the calendar does not own.
func (s *syncer) input(in calfeed.Instance, parts []crm.Participant, prev json.RawMessage) (crm.ActivityInput, error) {
	ev := in.Event
	md := map[string]any{}
	if len(prev) > 0 {
		_ = json.Unmarshal(prev, &md)
		for _, k := range calendarKeys {
			delete(md, k)
		}
	}
	md["connector_id"] = s.connID
	md["ical_uid"] = crm.ClipText(in.UID, 1000)
	md["recurrence_id"] = in.RecurrenceID
	md["ends_at"] = in.End.UTC().Format(time.RFC3339)
	md["status"] = ev.Status
	if in.AllDay {
		md["all_day"] = true
	}
	if ev.ConferenceURL != "" {
		md["conference_url"] = ev.ConferenceURL
		if key := crm.ConferenceKey(ev.ConferenceURL); key != "" {
			md["conference_key"] = key
		}
	}
	if ev.Location != "" {
		md["location"] = crm.ClipText(ev.Location, 1000)
	}
	b, err := json.Marshal(md)
	if err != nil {
		return crm.ActivityInput{}, err
	}
	a := crm.ActivityInput{
		Type:         crm.Some(crm.ActivityMeeting),
		OccurredAt:   crm.Some(in.Start.UTC().Format(time.RFC3339)),
		Source:       crm.Some(crm.SourceCalendarSync),
		ExternalID:   crm.Some(ExternalID(in)),
		Participants: crm.Some(parts),
		Metadata:     crm.Some(json.RawMessage(b)),
	}
	if ev.Summary != "" {
		a.Subject = crm.Some(crm.ClipText(ev.Summary, crm.MaxSubject))
	}
	if ev.Description != "" {
		a.Body = crm.Some(crm.ClipText(ev.Description, crm.MaxBody))
	}
	if d := int(in.End.Sub(in.Start) / time.Second); !in.AllDay && d >= 0 && d <= crm.MaxDuration {
		a.DurationSeconds = crm.Some(d)
	}
	if s.ownerID != nil {
		a.OwnerID = crm.Some(*s.ownerID)
	}
	return a, nil
}

// matchQuery describes an instance for NotetakerMeetingAdopt: its
// conference link, start and attendees' emails.
func (s *syncer) matchQuery(in calfeed.Instance, parts []crm.Participant) store.CalendarMatchQuery {
	q := store.CalendarMatchQuery{ConferenceKey: crm.ConferenceKey(in.Event.ConferenceURL), StartedAt: in.Start}
	for _, p := range parts {
		if p.Email != "" {
			q.Emails = append(q.Emails, crm.NormalizeEmail(p.Email))
		}
	}
	return q
}

// write upserts the meetings of instances in batches, checkpointing after
// each (state nil keeps the stored watermark), and returns the keys of the
// instances that are live meetings (for cancel).
func (s *syncer) write(ctx context.Context, instances []calfeed.Instance) (map[string]bool, error) {
	live := map[string]bool{}
	for start := 0; start < len(instances); start += batchSize {
		batch := instances[start:min(len(instances), start+batchSize)]
		keys := make([]string, len(batch))
		for i, in := range batch {
			keys[i] = ExternalID(in)
		}
		existing, err := s.k.st.CalendarMeetingsByExternalID(ctx, s.orgID, keys)
		if err != nil {
			return nil, err
		}
		for i, in := range batch {
			key := keys[i]
			parts, external := s.participants(in.Event)
			if !external {
				continue // internal meetings are not logged
			}
			live[key] = true
			prev, had := existing[key]
			if had && prev.ConnectorID != s.connID && prev.ConnectorLive {
				continue // another calendar connector of the org captured it
			}
			if !had && !in.AllDay {
				// New to the calendar: a note-taker's transcript may have
				// logged this meeting before the calendar was synced; it
				// becomes the calendar's meeting rather than a second one.
				md, err := s.k.st.NotetakerMeetingAdopt(ctx, s.orgID, key, s.matchQuery(in, parts))
				switch {
				case err == nil:
					prev.Metadata = md
				case !errors.Is(err, crm.ErrNotFound):
					return nil, err
				}
			}
			a, err := s.input(in, parts, prev.Metadata)
			if err != nil {
				return nil, err
			}
			_, res, deliveries, err := s.acts.Upsert(ctx, s.orgID, a)
			if err == nil {
				s.run.Deliver(deliveries)
			}
			var ve *crm.ValidationError
			if errors.As(err, &ve) {
				// No account matches these attendees (or a field the
				// calendar wrote is unusable): not a meeting to log.
				s.run.Log.DebugContext(ctx, "calendar instance not logged", slog.String("external_id", key), slog.Any("problem", err))
				continue
			}
			if err != nil {
				return nil, err
			}
			if res == store.UpsertCreated {
				s.run.Captured(1, in.Start)
			}
		}
		if err := s.run.Checkpoint(ctx, nil); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// cancel ends the connector's meetings in the window that are no longer
// live (deleted, cancelled, excluded, moved out of the window, or no
// longer with an external attendee); with uids, only those of these UIDs.
func (s *syncer) cancel(ctx context.Context, live map[string]bool, uids []string) error {
	if uids != nil && len(uids) == 0 {
		return nil
	}
	list, err := s.k.st.CalendarMeetingsInWindow(ctx, s.orgID, s.connID, s.from, s.to, uids)
	if err != nil {
		return err
	}
	for _, m := range list {
		if live[m.ExternalID] || m.Cancelled {
			continue
		}
		if _, err := s.k.st.CalendarMeetingCancel(ctx, s.orgID, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// readCapped reads at most MaxFeedBytes of r.
func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFeedBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFeedBytes {
		return nil, fmt.Errorf("larger than %d MiB", MaxFeedBytes>>20)
	}
	return b, nil
}

func uidsOf(cals ...*calfeed.Calendar) []string {
	var out []string
	for _, c := range cals {
		if c == nil {
			continue
		}
		for _, e := range c.Events {
			if !slices.Contains(out, e.UID) {
				out = append(out, e.UID)
			}
		}
	}
	return out
}
