package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// The activity feed (GET /v1/activities, logbook export): every activity of
// an org and the tombstone of every deleted one, in change order, one keyset
// page at a time, so a client syncs incrementally without gaps or repeats.
//
// Change order is (change_xid, id): change_xid is the transaction that last
// changed what the feed exports of an activity (migration 00018 keeps it:
// the row's columns but bookkeeping, its contact links, a meeting's notes,
// action items and follow-up draft); a tombstone carries the deleting
// transaction's. A page serves only keys whose transaction is below its
// snapshot's xmin (the watermark): every such transaction has ended, and any
// transaction that commits later has a larger xid, so nothing can ever
// appear behind a cursor. A timestamp keyset cannot promise that: a
// transaction that began before a client read past its time and commits
// after lands behind the client. The cost is lag: the feed waits for the
// oldest transaction still open anywhere on the server (a long one holds
// the whole feed back until it ends; read-only transactions do not count).
//
// A page is read in one REPEATABLE READ, read-only transaction: first the
// page's last key (one index scan of keys), so its cursors are known before
// its rows are; then its rows, in chunks of feedChunk with their notes,
// handed to the caller one by one (bounded memory at any page size).

// Feed page sizes: JSON pages, and CSV or NDJSON (bulk) pages.
const (
	FeedDefaultLimit     = 50
	FeedMaxLimit         = 200
	FeedBulkDefaultLimit = 10000
	FeedBulkMaxLimit     = 100000
)

// feedChunk is how many rows a page reads (and holds) at a time.
const feedChunk = 500

// FeedFilter narrows and positions ActivityFeed.
type FeedFilter struct {
	// Types keeps activities (and tombstones) of any of these types.
	Types []crm.ActivityType
	// UpdatedSince keeps activities whose exported content changed at or
	// after it (changed_at: the row, its contacts or its notes) and
	// tombstones deleted at or after it.
	UpdatedSince *time.Time
	// Cursor resumes after a page (its NextCursor) or a sync (its
	// SyncCursor). It carries the filter it was made with: Types and
	// UpdatedSince may be left out (the cursor's apply) or given the same;
	// others are a validation error on "cursor".
	Cursor string
	// Limit is the page size, 1 to FeedBulkMaxLimit (the caller applies
	// its representation's default and maximum; 0 is FeedDefaultLimit).
	Limit int
}

// FeedPage is what a page is, known before its rows are streamed.
type FeedPage struct {
	// Items is how many items the page holds.
	Items int
	// NextCursor reads the next page; nil when the page reached the
	// watermark (the client is caught up).
	NextCursor *string
	// SyncCursor is where to resume next time: after the page's last item,
	// or, when caught up, at the watermark (so a later sync starts past
	// everything already ended, whatever the filter matched). Always set.
	SyncCursor string
}

// feedKey is a position in change order.
type feedKey struct {
	xid uint64
	id  string
}

const (
	minUUID = "00000000-0000-0000-0000-000000000000"
	maxUUID = "ffffffff-ffff-ffff-ffff-ffffffffffff"
)

func (k feedKey) less(o feedKey) bool {
	if k.xid != o.xid {
		return k.xid < o.xid
	}
	return k.id < o.id
}

func (k feedKey) xidText() string { return strconv.FormatUint(k.xid, 10) }

// feedQuery is a resolved filter: the position to read after and the
// filter the cursor carries on.
type feedQuery struct {
	after feedKey
	types []string // sorted, distinct
	since *time.Time
}

func (q feedQuery) cursor(k feedKey) string {
	since := ""
	if q.since != nil {
		since = q.since.UTC().Format(time.RFC3339Nano)
	}
	return *encodeCursor("f1", k.xidText(), k.id, strings.Join(q.types, ","), since)
}

func badFeedCursor() error {
	return crm.Invalid("cursor", "is not a cursor returned by GET /v1/activities")
}

// resolveFeed decodes f's cursor and checks the request's filter against
// the one it carries.
func resolveFeed(f FeedFilter) (feedQuery, error) {
	var types []string
	for _, t := range f.Types {
		types = append(types, string(t))
	}
	slices.Sort(types)
	types = slices.Compact(types)
	q := feedQuery{after: feedKey{0, minUUID}, types: types, since: f.UpdatedSince}
	if f.Cursor == "" {
		return q, nil
	}
	parts, err := decodeCursor(f.Cursor, 5)
	if err != nil || parts[0] != "f1" {
		return q, badFeedCursor()
	}
	xid, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil || !crm.ValidID(parts[2]) {
		return q, badFeedCursor()
	}
	c := feedQuery{after: feedKey{xid, strings.ToLower(parts[2])}}
	if parts[3] != "" {
		c.types = strings.Split(parts[3], ",")
		for _, t := range c.types {
			if !crm.ActivityType(t).Valid() {
				return q, badFeedCursor()
			}
		}
	}
	if parts[4] != "" {
		t, err := time.Parse(time.RFC3339Nano, parts[4])
		if err != nil {
			return q, badFeedCursor()
		}
		c.since = &t
	}
	if len(f.Types) > 0 && !slices.Equal(types, c.types) {
		return q, crm.Invalid("cursor", "was made with types=%s; send the same types, or none, with it", strings.Join(c.types, ","))
	}
	if f.UpdatedSince != nil && (c.since == nil || !f.UpdatedSince.Equal(*c.since)) {
		was := "no updated_since"
		if c.since != nil {
			was = "updated_since=" + c.since.UTC().Format(time.RFC3339Nano)
		}
		return q, crm.Invalid("cursor", "was made with %s; send the same updated_since, or none, with it", was)
	}
	return c, nil
}

// feedWhere is the condition of one source (activities a or tombstones t)
// for keys after q.after up to and including upTo (nil: no upper bound),
// below the watermark (or the reader's own transaction's).
func feedWhere(a *args, alias, orgID string, q feedQuery, wm feedWatermark, upTo *feedKey) string {
	w := []string{alias + ".org_id = " + a.add(orgID),
		"(" + alias + ".change_xid, " + alias + ".id) > (" + a.add(q.after.xidText()) + "::xid8, " + a.add(q.after.id) + "::uuid)"}
	vis := alias + ".change_xid < " + a.add(wm.xmin) + "::xid8"
	if wm.own != "" {
		vis = "(" + vis + " OR " + alias + ".change_xid = " + a.add(wm.own) + "::xid8)"
	}
	w = append(w, vis)
	if upTo != nil {
		w = append(w, "("+alias+".change_xid, "+alias+".id) <= ("+a.add(upTo.xidText())+"::xid8, "+a.add(upTo.id)+"::uuid)")
	}
	if len(q.types) > 0 {
		w = append(w, alias+".type = ANY("+a.add(q.types)+"::text[])")
	}
	if q.since != nil {
		// Rows stored before the feed existed have no changed_at.
		col := "coalesce(a.changed_at, a.updated_at)"
		if alias == "t" {
			col = "t.deleted_at"
		}
		w = append(w, col+" >= "+a.add(*q.since))
	}
	return strings.Join(w, " AND ")
}

// feedWatermark is a page's snapshot: its xmin, and the reader's own
// transaction when it has written (a test's transaction, whose rows it
// sees; a production read is read-only and has none).
type feedWatermark struct {
	xmin string
	own  string
}

// readSnapshot runs fn in one REPEATABLE READ, read-only transaction (in a
// savepoint when the Store already runs in a transaction, whose snapshot it
// shares).
func (s *Store) readSnapshot(ctx context.Context, fn func(*Store) error) error {
	if b, ok := s.db.(interface {
		BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
	}); ok {
		return pgx.BeginTxFunc(ctx, b, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
			func(tx pgx.Tx) error { return fn(&Store{db: tx, now: s.now, hooks: s.hooks, caches: s.caches}) })
	}
	return s.WithTx(ctx, fn)
}

// ActivityFeed reads one page of the org's feed: start learns the page
// (its size and cursors) before any item, then emit gets each item in
// change order. An error from start or emit ends the page with it. A bad
// cursor, or one given with another filter, is a validation error on
// "cursor".
func (s *Store) ActivityFeed(ctx context.Context, orgID string, f FeedFilter, start func(FeedPage) error, emit func(crm.FeedItem) error) error {
	const op = "read activity feed"
	q, err := resolveFeed(f)
	if err != nil {
		return err
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = FeedDefaultLimit
	case limit > FeedBulkMaxLimit:
		limit = FeedBulkMaxLimit
	}
	return s.readSnapshot(ctx, func(tx *Store) error {
		var wm feedWatermark
		if err := tx.db.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
			coalesce(pg_current_xact_id_if_assigned()::text, '')`).Scan(&wm.xmin, &wm.own); err != nil {
			return interpretError(op, err)
		}
		xmin, err := strconv.ParseUint(wm.xmin, 10, 64)
		if err != nil {
			return fmt.Errorf("store: %s: watermark %q: %w", op, wm.xmin, err)
		}
		page, last, err := tx.feedPage(ctx, orgID, q, wm, limit)
		if err != nil {
			return err
		}
		// Caught up: resume at the watermark, or after what was served
		// when that is later (never behind the cursor given).
		sync := feedKey{xmin - 1, maxUUID}
		if sync.less(q.after) {
			sync = q.after
		}
		if page.Items > 0 {
			if page.NextCursor != nil || sync.less(last) {
				sync = last
			}
			if page.NextCursor != nil {
				page.NextCursor = ptr(q.cursor(last))
			}
		}
		page.SyncCursor = q.cursor(sync)
		if err := start(page); err != nil {
			return err
		}
		if page.Items == 0 {
			return nil
		}
		return tx.feedStream(ctx, orgID, q, wm, last, emit)
	})
}

func ptr[T any](v T) *T { return &v }

// feedPage finds the page's size and last key, and whether more follows
// (NextCursor set to a placeholder), from keys alone.
func (s *Store) feedPage(ctx context.Context, orgID string, q feedQuery, wm feedWatermark, limit int) (FeedPage, feedKey, error) {
	var a args
	wa := feedWhere(&a, "a", orgID, q, wm, nil)
	wt := feedWhere(&a, "t", orgID, q, wm, nil)
	n := a.add(limit + 1)
	sql := `WITH k AS (SELECT x, id FROM (
			(SELECT a.change_xid AS x, a.id FROM activities a WHERE ` + wa + ` ORDER BY a.change_xid, a.id LIMIT ` + n + `)
			UNION ALL
			(SELECT t.change_xid, t.id FROM activity_tombstones t WHERE ` + wt + ` ORDER BY t.change_xid, t.id LIMIT ` + n + `)
		) u ORDER BY x, id LIMIT ` + n + `)
		SELECT k.x::text AS xt, k.id::text AS it, count(*) OVER () FROM k ORDER BY k.x DESC, k.id DESC LIMIT 2`
	rows, err := s.db.Query(ctx, sql, a...)
	if err != nil {
		return FeedPage{}, feedKey{}, interpretError("read activity feed", err)
	}
	type keyRow struct {
		x, id string
		n     int
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyRow, error) {
		var k keyRow
		return k, r.Scan(&k.x, &k.id, &k.n)
	})
	if err != nil {
		return FeedPage{}, feedKey{}, interpretError("read activity feed", err)
	}
	if len(got) == 0 {
		return FeedPage{}, feedKey{}, nil
	}
	at := 0
	p := FeedPage{Items: got[0].n}
	if got[0].n > limit {
		// The first row is the next page's first key.
		at, p.Items, p.NextCursor = 1, limit, new(string)
	}
	x, err := strconv.ParseUint(got[at].x, 10, 64)
	if err != nil {
		return FeedPage{}, feedKey{}, fmt.Errorf("store: read activity feed: key %q: %w", got[at].x, err)
	}
	return p, feedKey{x, got[at].id}, nil
}

// feedStream reads the page's rows after q.after up to last, a chunk at a
// time, and emits them in change order.
func (s *Store) feedStream(ctx context.Context, orgID string, q feedQuery, wm feedWatermark, last feedKey, emit func(crm.FeedItem) error) error {
	const op = "read activity feed"
	for q.after.less(last) {
		var a args
		wa := feedWhere(&a, "a", orgID, q, wm, &last)
		rows, err := s.db.Query(ctx, `SELECT `+activityColumns+`, a.change_xid::text FROM activities a WHERE `+wa+
			` ORDER BY a.change_xid, a.id LIMIT `+a.add(feedChunk), a...)
		if err != nil {
			return interpretError(op, err)
		}
		type keyed struct {
			key  feedKey
			item crm.FeedItem
		}
		var xid string
		scan := scanActivity(orgID)
		var acts []crm.Activity
		var actKeys []feedKey
		for rows.Next() {
			act, err := scan(feedRow{rows, &xid})
			if err != nil {
				rows.Close()
				return interpretError(op, err)
			}
			x, err := strconv.ParseUint(xid, 10, 64)
			if err != nil {
				rows.Close()
				return fmt.Errorf("store: %s: key %q: %w", op, xid, err)
			}
			acts = append(acts, act)
			actKeys = append(actKeys, feedKey{x, act.ID})
		}
		if err := rows.Err(); err != nil {
			return interpretError(op, err)
		}
		if err := s.NotesAttach(ctx, orgID, acts); err != nil {
			return err
		}
		var b args
		wt := feedWhere(&b, "t", orgID, q, wm, &last)
		trows, err := s.db.Query(ctx, `SELECT t.id::text, t.account_id::text, t.type, t.deleted_at, t.change_xid::text
			FROM activity_tombstones t WHERE `+wt+` ORDER BY t.change_xid, t.id LIMIT `+b.add(feedChunk), b...)
		if err != nil {
			return interpretError(op, err)
		}
		tombs, err := pgx.CollectRows(trows, func(r pgx.CollectableRow) (keyed, error) {
			var k keyed
			var at time.Time
			var x string
			if err := r.Scan(&k.item.ID, &k.item.AccountID, &k.item.Type, &at, &x); err != nil {
				return k, err
			}
			n, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return k, fmt.Errorf("key %q: %w", x, err)
			}
			at = at.UTC()
			k.key, k.item.Deleted, k.item.DeletedAt = feedKey{n, k.item.ID}, true, &at
			return k, nil
		})
		if err != nil {
			return interpretError(op, err)
		}
		if len(acts) == 0 && len(tombs) == 0 {
			// The page's rows are gone from the snapshot: cannot happen in
			// one transaction, but never loop.
			return fmt.Errorf("store: %s: page ended before its last key", op)
		}
		// Merge the two ordered lists; a chunk ends at the first list's end
		// (the other may hold keys past rows not read yet).
		i, j, emitted := 0, 0, 0
		for emitted < feedChunk && (i < len(acts) || j < len(tombs)) {
			var k keyed
			if j >= len(tombs) || (i < len(acts) && actKeys[i].less(tombs[j].key)) {
				if j >= len(tombs) && len(tombs) == feedChunk {
					break
				}
				act := acts[i]
				k = keyed{actKeys[i], crm.FeedItem{ID: act.ID, AccountID: act.AccountID, Type: act.Type, Activity: &acts[i]}}
				i++
			} else {
				if i >= len(acts) && len(acts) == feedChunk {
					break
				}
				k = tombs[j]
				j++
			}
			if err := emit(k.item); err != nil {
				return err
			}
			q.after = k.key
			emitted++
		}
	}
	return nil
}

// feedRow scans an activity row followed by its change_xid.
type feedRow struct {
	pgx.Rows
	xid *string
}

func (r feedRow) Scan(dest ...any) error { return r.Rows.Scan(append(dest, r.xid)...) }

// ActivityFeedCount estimates how many items the feed holds after f's
// cursor (for progress): every row that matches, written or not.
func (s *Store) ActivityFeedCount(ctx context.Context, orgID string, f FeedFilter) (int64, error) {
	q, err := resolveFeed(f)
	if err != nil {
		return 0, err
	}
	var a args
	wm := feedWatermark{xmin: strconv.FormatUint(1<<63, 10)}
	wa := feedWhere(&a, "a", orgID, q, wm, nil)
	wt := feedWhere(&a, "t", orgID, q, wm, nil)
	var n int64
	err = s.db.QueryRow(ctx, `SELECT (SELECT count(*) FROM activities a WHERE `+wa+`)
		+ (SELECT count(*) FROM activity_tombstones t WHERE `+wt+`)`, a...).Scan(&n)
	return n, interpretError("count activity feed", err)
}
