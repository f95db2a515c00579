package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"logbook/api"
	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
)

const exportSynopsis = "Write an org's activity feed (what GET /v1/activities serves: every activity and the tombstone of every " +
	"deleted one, in change order) as NDJSON or CSV, page by page straight from the database, with progress on stderr. " +
	"With -state the run resumes from the sync cursor in FILE and writes the new one there at the end, so the next run " +
	"writes only what changed since."

// exportProgressEvery is the least time between two progress lines.
const exportProgressEvery = 500 * time.Millisecond

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("export", exportSynopsis, stderr)
	org := fs.String("org", "", "the org's ID (required)")
	format := fs.String("format", "ndjson", "ndjson (one JSON item a line) or csv (the columns of GET /v1/activities as text/csv)")
	since := fs.String("updated-since", "", "only activities changed at or after this time (RFC 3339), and deletions since")
	types := fs.String("types", "", "comma-separated activity types, e.g. call,meeting (deletions of those types too)")
	statePath := fs.String("state", "", "file holding the sync cursor: read to resume (a missing file starts from the beginning), "+
		"replaced with the new cursor when the export is complete")
	outPath := fs.String("o", "", "write to this file (replaced when the export is complete) instead of stdout")
	page := fs.Int("page", store.FeedBulkDefaultLimit, fmt.Sprintf("items read per page, 1 to %d", store.FeedBulkMaxLimit))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !crm.ValidID(*org) {
		return usageError{Msg: "-org must be an org ID"}
	}
	if *format != "ndjson" && *format != "csv" {
		return usageError{Msg: fmt.Sprintf("-format %q: use ndjson or csv", *format)}
	}
	if *page < 1 || *page > store.FeedBulkMaxLimit {
		return usageError{Msg: fmt.Sprintf("-page must be 1 to %d", store.FeedBulkMaxLimit)}
	}
	f := store.FeedFilter{Limit: *page}
	if *since != "" {
		t, err := time.Parse(time.RFC3339Nano, *since)
		if err != nil {
			return usageError{Msg: fmt.Sprintf("-updated-since %q is not an RFC 3339 time", *since)}
		}
		f.UpdatedSince = &t
	}
	for _, s := range strings.Split(*types, ",") {
		if t := crm.ActivityType(strings.TrimSpace(s)); t != "" {
			if !t.Valid() {
				return usageError{Msg: fmt.Sprintf("-types: %q is not an activity type", s)}
			}
			f.Types = append(f.Types, t)
		}
	}
	if *statePath != "" {
		b, err := os.ReadFile(*statePath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read the state file: %w", err)
		}
		f.Cursor = strings.TrimSpace(string(b))
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	a := &app.App{Cfg: cfg, Log: app.NewLogger(stderr, cfg.LogLevel)}
	if a.Pool, err = store.Connect(ctx, cfg.DatabaseURL, store.PoolConfig{MaxConns: 2, ConnectTimeout: cfg.DBConnectTimeout,
		StatementTimeout: cfg.DBStatementTimeout}); err != nil {
		return err
	}
	defer a.Close()
	if err := a.EnsureSchema(ctx); err != nil {
		return err
	}
	st := store.New(a.Pool)
	if _, err := st.OrgGet(ctx, *org); errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("no org %s", *org)
	} else if err != nil {
		return err
	}
	total, err := st.ActivityFeedCount(ctx, *org, f)
	if err != nil {
		return explainCursor(err, *statePath)
	}

	out, finish, err := exportOutput(*outPath, stdout)
	if err != nil {
		return err
	}
	defer finish(false)
	enc, err := api.NewFeedEncoder(out, *format == "csv", nil)
	if err != nil {
		return err
	}
	p := exportProgress{w: stderr, start: time.Now(), total: total}
	for {
		var pg store.FeedPage
		err := st.ActivityFeed(ctx, *org, f, func(x store.FeedPage) error { pg = x; return nil },
			func(it crm.FeedItem) error {
				if err := enc.Encode(it); err != nil {
					return fmt.Errorf("write: %w", err)
				}
				p.item(it.Deleted)
				return nil
			})
		if err != nil {
			return explainCursor(err, *statePath)
		}
		f.Cursor = pg.SyncCursor
		if pg.NextCursor == nil {
			break
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := finish(true); err != nil {
		return err
	}
	if *statePath != "" {
		if err := writeFileAtomic(*statePath, []byte(f.Cursor+"\n")); err != nil {
			return fmt.Errorf("write the state file (the export is complete; the next run repeats it): %w", err)
		}
	}
	p.done(*statePath)
	return nil
}

// explainCursor says where a refused cursor came from.
func explainCursor(err error, statePath string) error {
	var ve *crm.ValidationError
	if errors.As(err, &ve) && statePath != "" {
		return fmt.Errorf("the cursor in %s: %w (a state file works with the -types and -updated-since it was made with)", statePath, err)
	}
	return err
}

// exportOutput opens where the export goes: stdout, or a temporary file
// beside path that finish(true) renames to path (finish(false) removes it:
// a failed export leaves any earlier file as it was).
func exportOutput(path string, stdout io.Writer) (io.Writer, func(ok bool) error, error) {
	if path == "" {
		return stdout, func(bool) error { return nil }, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, nil, fmt.Errorf("create the output file: %w", err)
	}
	done := false
	return tmp, func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
			return nil
		}
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("write the output file: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("write the output file: %w", err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("write the output file: %w", err)
		}
		return nil
	}, nil
}

// writeFileAtomic replaces path with data: a temporary file beside it,
// synced, then renamed over it, so a crash leaves the old file or the new.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing to remove
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// exportProgress writes progress lines to w, at most one per
// exportProgressEvery, and the summary.
type exportProgress struct {
	w       io.Writer
	start   time.Time
	last    time.Time
	total   int64 // the estimate made at the start
	n       int64
	deleted int64
}

func (p *exportProgress) item(deleted bool) {
	p.n++
	if deleted {
		p.deleted++
	}
	if p.n%256 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < exportProgressEvery {
		return
	}
	p.last = now
	rate := p.rate(now)
	line := fmt.Sprintf("export: %d rows", p.n)
	if p.total > 0 {
		total := max(p.total, p.n)
		line += fmt.Sprintf(" of ~%d (%.0f%%)", total, 100*float64(p.n)/float64(total))
		if rate > 0 {
			eta := time.Duration(float64(total-p.n) / rate * float64(time.Second))
			line += fmt.Sprintf(", %.0f rows/s, ETA %s", rate, eta.Round(time.Second))
		}
	} else if rate > 0 {
		line += fmt.Sprintf(", %.0f rows/s", rate)
	}
	fmt.Fprintln(p.w, line)
}

func (p *exportProgress) rate(now time.Time) float64 {
	s := now.Sub(p.start).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(p.n) / s
}

func (p *exportProgress) done(statePath string) {
	now := time.Now()
	line := fmt.Sprintf("export: done: %d rows (%d deletions) in %s, %.0f rows/s", p.n, p.deleted,
		now.Sub(p.start).Round(time.Millisecond), p.rate(now))
	if statePath != "" {
		line += "; sync cursor saved in " + statePath
	}
	fmt.Fprintln(p.w, line)
}
