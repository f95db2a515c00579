package calendar

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"logbook/capture"
	"logbook/internal/calfeed"
)

// icsState is an ics connector's watermark: the feed's validators for a
// conditional GET, and the window end of the last full read.
type icsState struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Expanded     time.Time `json:"expanded_to,omitzero"`
}

// syncICS fetches the feed (conditionally: an unchanged feed answers 304
// and costs nothing, unless the window moved a day since the last full
// read), expands it, writes its meetings and cancels what is gone.
func (k *kind) syncICS(ctx context.Context, run *capture.Run) error {
	var c config
	if err := unmarshal(run.Connector.Config, &c); err != nil {
		return err
	}
	var st icsState
	if err := unmarshal(run.State, &st); err != nil {
		// A watermark this version cannot read: read the whole calendar
		// again (writes are idempotent, so nothing doubles).
		run.Log.WarnContext(ctx, "calendar sync state unreadable; starting over", slog.Any("error", err))
		st = icsState{}
	}
	raw := run.Secrets["url"]
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("the calendar feed URL is missing or unreadable: enter it again")
	}
	host := u.Hostname()
	const what = "the calendar feed"
	s, err := k.newSyncer(ctx, run, c)
	if err != nil {
		return err
	}
	conditional := run.Range == nil && s.to.Sub(st.Expanded) < fullPassEvery
	client, err := k.httpClient("")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return fmt.Errorf("the calendar feed URL is unreadable: enter it again")
	}
	req.Header.Set("Accept", "text/calendar, */*;q=0.5")
	req.Header.Set("User-Agent", "Logbook calendar sync")
	if conditional {
		if st.ETag != "" {
			req.Header.Set("If-None-Match", st.ETag)
		}
		if st.LastModified != "" {
			req.Header.Set("If-Modified-Since", st.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return transportError(what, host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && conditional:
		return run.Checkpoint(ctx, nil)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s at %s refused access (%s): the feed's URL may have been reset; enter the new one", what, host, resp.Status)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%s at %s answered %s: the feed's URL may have been reset; enter the new one", what, host, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s at %s answered %s", what, host, resp.Status)
	}
	body, err := readCapped(resp.Body)
	if err != nil {
		return fmt.Errorf("could not read %s at %s: %v", what, host, err)
	}
	cal, err := calfeed.Parse(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s at %s is not iCalendar data (%v)", what, host, err)
	}
	instances, stats := calfeed.Expand(cal.Events, s.from, s.to)
	if stats.Truncated+stats.Unexpanded+cal.Skipped > 0 {
		run.Log.InfoContext(ctx, "calendar feed partly expanded", "host", host,
			"truncated", stats.Truncated, "unexpanded", stats.Unexpanded, "skipped", cal.Skipped)
	}
	live, err := s.write(ctx, instances)
	if err != nil {
		return err
	}
	if err := s.cancel(ctx, live, nil); err != nil {
		return err
	}
	next := icsState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Expanded: s.to}
	if run.Range != nil {
		next = st // a backfill leaves the incremental watermark alone
	}
	return run.Checkpoint(ctx, next)
}
