package calendar

import (
	"bytes"
	"context"
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

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"logbook/capture"
	"logbook/internal/calfeed"
)

// multigetBatch is how many calendar objects one REPORT fetches.
const multigetBatch = 50

// caldavState is a caldav connector's watermark: per calendar, each
// object's ETag and UID (what changed is fetched; a vanished object's UID
// finds the meetings to cancel), and the window end of the last full read.
type caldavState struct {
	Expanded  time.Time                `json:"expanded_to,omitzero"`
	Calendars map[string]*calendarSeen `json:"calendars,omitempty"`
}

type calendarSeen struct {
	Objects map[string]objectSeen `json:"objects"`
}

type objectSeen struct {
	ETag string   `json:"e"`
	UIDs []string `json:"u,omitempty"`
}

func unmarshal(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// authClient sets basic auth on every request and turns a 401 or 403
// into errAuth, and caps what a response body may carry.
type authClient struct {
	c              *http.Client
	user, password string
}

func (a *authClient) Do(req *http.Request) (*http.Response, error) {
	req.SetBasicAuth(a.user, a.password)
	resp, err := a.c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		resp.Body.Close()
		return nil, errAuth
	}
	resp.Body = &cappedBody{rc: resp.Body, left: MaxFeedBytes}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("answer larger than %d MiB", MaxFeedBytes>>20)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// syncCalDAV lists each calendar's objects with their ETags, fetches those
// new or changed (all of them once the window moved a day), writes their
// meetings and cancels those of changed or vanished objects that are gone,
// checkpointing after each batch.
func (k *kind) syncCalDAV(ctx context.Context, run *capture.Run) error {
	var c config
	if err := unmarshal(run.Connector.Config, &c); err != nil {
		return err
	}
	var st caldavState
	if err := unmarshal(run.State, &st); err != nil {
		// A watermark this version cannot read: read the whole calendar
		// again (writes are idempotent, so nothing doubles).
		run.Log.WarnContext(ctx, "calendar sync state unreadable; starting over", slog.Any("error", err))
		st = caldavState{}
	}
	if st.Calendars == nil {
		st.Calendars = map[string]*calendarSeen{}
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("the calendar server URL is unreadable")
	}
	host := u.Hostname()
	s, err := k.newSyncer(ctx, run, c)
	if err != nil {
		return err
	}
	hc, err := k.httpClient(c.CACert)
	if err != nil {
		return err
	}
	describe := func(err error) error {
		if errors.Is(err, errAuth) {
			return fmt.Errorf("the calendar server at %s refused the credentials for %s", host, c.Username)
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		var ue *url.Error
		if errors.As(err, &ue) || strings.Contains(err.Error(), "netguard") {
			return transportError("the calendar server", host, err)
		}
		return fmt.Errorf("the calendar server at %s: %v", host, err)
	}
	cd, err := caldav.NewClient(&authClient{c: hc, user: c.Username, password: run.Secrets["password"]}, c.URL)
	if err != nil {
		return fmt.Errorf("the calendar server URL is unreadable")
	}
	paths := c.Calendars
	if len(paths) == 0 {
		paths, err = discover(ctx, cd)
		if err != nil {
			return describe(err)
		}
	}
	full := run.Range != nil || s.to.Sub(st.Expanded) >= fullPassEvery
	for _, p := range paths {
		if err := k.syncCalendar(ctx, run, s, cd, p, &st, full); err != nil {
			return describe(err)
		}
	}
	for p := range st.Calendars {
		if !slices.Contains(paths, p) {
			delete(st.Calendars, p)
		}
	}
	if full && run.Range == nil {
		st.Expanded = s.to
	}
	return run.Checkpoint(ctx, st)
}

// discover finds the user's calendars that hold events.
func discover(ctx context.Context, cd *caldav.Client) ([]string, error) {
	principal, err := cd.FindCurrentUserPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	home, err := cd.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		return nil, err
	}
	cals, err := cd.FindCalendars(ctx, home)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, cal := range cals {
		if len(cal.SupportedComponentSet) == 0 || slices.Contains(cal.SupportedComponentSet, "VEVENT") {
			out = append(out, cal.Path)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (k *kind) syncCalendar(ctx context.Context, run *capture.Run, s *syncer, cd *caldav.Client, calPath string, st *caldavState, full bool) error {
	seen := st.Calendars[calPath]
	if seen == nil {
		seen = &calendarSeen{Objects: map[string]objectSeen{}}
		st.Calendars[calPath] = seen
	}
	files, err := cd.ReadDir(ctx, calPath, false)
	if err != nil {
		return err
	}
	etags := map[string]string{}
	var changed []string
	for _, f := range files {
		if f.IsDir || strings.TrimSuffix(f.Path, "/") == strings.TrimSuffix(calPath, "/") {
			continue
		}
		etags[f.Path] = f.ETag
		if old, ok := seen.Objects[f.Path]; full || !ok || old.ETag != f.ETag || f.ETag == "" {
			changed = append(changed, f.Path)
		}
	}
	slices.Sort(changed)
	for start := 0; start < len(changed); start += multigetBatch {
		batch := changed[start:min(len(changed), start+multigetBatch)]
		cals, err := fetchObjects(ctx, cd, calPath, batch)
		if err != nil {
			return err
		}
		var events []calfeed.Event
		var uids []string
		for _, h := range batch {
			uids = append(uids, seen.Objects[h].UIDs...)
			if cal := cals[h]; cal != nil {
				events = append(events, cal.Events...)
			}
		}
		for _, h := range batch {
			got := uidsOf(cals[h])
			uids = append(uids, got...)
			seen.Objects[h] = objectSeen{ETag: etags[h], UIDs: got}
		}
		instances, _ := calfeed.Expand(events, s.from, s.to)
		live, err := s.write(ctx, instances)
		if err != nil {
			return err
		}
		if err := s.cancel(ctx, live, compact(uids)); err != nil {
			return err
		}
		if err := run.Checkpoint(ctx, st); err != nil {
			return err
		}
	}
	var gone []string
	var goneUIDs []string
	for h, o := range seen.Objects {
		if _, ok := etags[h]; !ok {
			gone = append(gone, h)
			goneUIDs = append(goneUIDs, o.UIDs...)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if err := s.cancel(ctx, map[string]bool{}, compact(goneUIDs)); err != nil {
		return err
	}
	for _, h := range gone {
		delete(seen.Objects, h)
	}
	return run.Checkpoint(ctx, st)
}

func compact(s []string) []string {
	out := []string{}
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// fetchObjects fetches calendar objects with one calendar-multiget REPORT;
// if the server's answer does not decode (one malformed object spoils the
// lot), each is fetched alone and the malformed ones are left out.
func fetchObjects(ctx context.Context, cd *caldav.Client, calPath string, hrefs []string) (map[string]*calfeed.Calendar, error) {
	out := map[string]*calfeed.Calendar{}
	objs, err := multiget(ctx, cd, calPath, hrefs)
	if err == nil {
		for _, o := range objs {
			if cal, err := calfeed.FromICal(o.Data); err == nil {
				out[o.Path] = cal
			}
		}
		return out, nil
	}
	if errors.Is(err, errAuth) || ctx.Err() != nil {
		return nil, err
	}
	for _, h := range hrefs {
		rc, err := cd.Open(ctx, h)
		if err != nil {
			if strings.HasPrefix(err.Error(), "404 ") {
				continue // gone since the listing
			}
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if cal, err := calfeed.Parse(bytes.NewReader(b)); err == nil {
			out[h] = cal
		}
	}
	return out, nil
}

// multiget runs the client's calendar-multiget, whose iCalendar decoder
// can panic on malformed data.
func multiget(ctx context.Context, cd *caldav.Client, calPath string, hrefs []string) (objs []caldav.CalendarObject, err error) {
	defer func() {
		if p := recover(); p != nil {
			objs, err = nil, fmt.Errorf("malformed calendar data: %v", p)
		}
	}()
	return cd.MultiGetCalendar(ctx, calPath, &caldav.CalendarMultiGet{
		Paths:       hrefs,
		CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
	})
}

var _ webdav.HTTPClient = (*authClient)(nil)
