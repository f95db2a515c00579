package store

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// The weekly digest (GET /v1/digest; package brief composes it): per
// account, what happened in a time range, what is due and what is stalled.
// DigestFacts reads one page of accounts and their facts; only SQL lives
// here.

// Digest caps: how many facts of each kind are loaded per account.
const (
	// DigestCiteMax is how many activities of the range the count line
	// cites (the newest), and how many due items are loaded per account.
	DigestCiteMax = 50
	// DigestNotableMax is how many notable activities (meetings, connected
	// calls, emails) are loaded per account.
	DigestNotableMax = 5
)

// DigestFilter says which digest to read. Since and Until are required
// (the API resolves their defaults); zero values of the others take the
// defaults in the field docs.
type DigestFilter struct {
	// OwnerID keeps the accounts this user owns, or where they own an open
	// deal, or where they own an activity in [Since, Until).
	OwnerID string
	// Since (inclusive) and Until (exclusive) bound what happened.
	Since, Until time.Time
	// Now decides what is overdue and stalled; the zero value is the store
	// clock.
	Now time.Time
	// StalledDays is the stalled threshold; 0 is the org's
	// stalled_after_days.
	StalledDays int
	// Limit is the number of accounts per page: 0 is DefaultLimit, more
	// than MaxLimit is MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// DigestTypeCount is how many activities of a type happened in the range.
type DigestTypeCount struct {
	Type  crm.ActivityType
	Count int
}

// DigestNotable is a notable activity of the range: a meeting (with its
// notes' summary when processed), a connected call (with its disposition's
// label) or an email.
type DigestNotable struct {
	Ref BriefRef
	// Summary is the meeting notes' summary (nil without notes).
	Summary *string
	// DispositionLabel is a call's disposition label.
	DispositionLabel *string
}

// DigestDueKind says what a due item is.
type DigestDueKind string

// The kinds of due items.
const (
	DigestNextStep   DigestDueKind = "next_step"
	DigestActionItem DigestDueKind = "action_item"
)

// DigestDue is an open next step or action item due before the digest's
// DueBefore.
type DigestDue struct {
	Kind DigestDueKind
	// Text is the next step's or action item's text.
	Text string
	// Owner is the activity owner's name (next step) or the owner named in
	// the meeting (action item); nil when none.
	Owner   *string
	DueDate crm.Date
	// Activity is the activity carrying the next step, or the meeting the
	// action item was agreed in.
	Activity BriefRef
}

// DigestAccountFacts is one account's facts for the digest.
type DigestAccountFacts struct {
	ID      string
	Name    string
	OwnerID *string
	// Counts are the activities of the range by type, most first (ties by
	// type), adding up to Total.
	Counts []DigestTypeCount
	Total  int
	// Recent are the IDs of the range's newest activities, newest first,
	// at most DigestCiteMax.
	Recent []string
	// Notable are the range's meetings, then connected calls, then emails,
	// each newest first, at most DigestNotableMax.
	Notable []DigestNotable
	// Due are the open items due before DueBefore, soonest first, at most
	// DigestCiteMax of DueTotal.
	Due      []DigestDue
	DueTotal int
	// Stalled are the account's stalled deals in StalledDealList's order.
	Stalled []StalledDeal
}

// DigestFacts is a page of the digest's accounts with their facts.
type DigestFacts struct {
	Accounts   []DigestAccountFacts
	NextCursor *string
	// Since, Until and Now are as read; DueBefore is the bound of the due
	// items (exclusive): the later of Until + 7 days and today (so
	// everything overdue is due); StalledDays the threshold used.
	Since, Until, Now time.Time
	DueBefore         crm.Date
	StalledDays       int
}

// DigestFacts reads a page of the digest: the org's accounts with
// something to say (an activity in the range, an open next step or action
// item due before DueBefore, or a stalled deal), narrowed by f.OwnerID,
// ordered by name then id, and for each its facts. An owner that is not the
// org's lists nothing.
func (s *Store) DigestFacts(ctx context.Context, orgID string, f DigestFilter) (DigestFacts, error) {
	const op = "get digest facts"
	now := f.Now
	if now.IsZero() {
		now = s.clock()
	}
	out := DigestFacts{Since: f.Since.UTC(), Until: f.Until.UTC(), Now: now.UTC(), Accounts: []DigestAccountFacts{}}
	dueBefore := utcDate(f.Until.AddDate(0, 0, 7))
	if today := utcDate(now); today.After(dueBefore) {
		dueBefore = today
	}
	out.DueBefore = crm.Date{Time: dueBefore}
	days, err := s.stalledDays(ctx, orgID, f.StalledDays)
	if err != nil {
		return out, err
	}
	out.StalledDays = days
	due := dueBefore.Format(time.DateOnly)

	// The page of accounts.
	limit := clampLimit(f.Limit)
	q, a, err := digestAccountsQuery(orgID, f, days, now, due, limit)
	if err != nil {
		return out, err
	}
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return out, interpretError(op, err)
	}
	accts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DigestAccountFacts, error) {
		var af DigestAccountFacts
		err := r.Scan(&af.ID, &af.Name, &af.OwnerID)
		return af, err
	})
	if err != nil {
		return out, interpretError(op, err)
	}
	if len(accts) > limit {
		accts = accts[:limit]
		last := accts[limit-1]
		// The name is encoded on its own: it may hold the cursor's "|".
		out.NextCursor = encodeCursor(base64.RawURLEncoding.EncodeToString([]byte(last.Name)), last.ID)
	}
	if len(accts) == 0 {
		return out, nil
	}
	ids := make([]string, len(accts))
	byID := make(map[string]*DigestAccountFacts, len(accts))
	for i := range accts {
		ids[i] = accts[i].ID
		byID[accts[i].ID] = &accts[i]
	}
	if err := s.digestHappened(ctx, orgID, ids, f.Since, f.Until, byID); err != nil {
		return out, err
	}
	if err := s.digestDue(ctx, orgID, ids, due, byID); err != nil {
		return out, err
	}
	stalled, err := s.stalledByAccount(ctx, orgID, days, now, ids)
	if err != nil {
		return out, err
	}
	for id, sd := range stalled {
		if af := byID[id]; af != nil {
			af.Stalled = sd
		}
	}
	out.Accounts = accts
	return out, nil
}

// digestHappened loads the counts, the newest IDs and the notable
// activities of the range for the accounts; each part is a range scan of
// activities_timeline_idx per account.
func (s *Store) digestHappened(ctx context.Context, orgID string, ids []string, since, until time.Time, byID map[string]*DigestAccountFacts) error {
	const op = "get digest activities"
	rows, err := s.db.Query(ctx, `
		SELECT x.account_id, x.type, count(*) FROM activities x
		WHERE x.org_id = $1 AND x.account_id = ANY($2::uuid[]) AND x.occurred_at >= $3 AND x.occurred_at < $4
		GROUP BY x.account_id, x.type
		ORDER BY x.account_id, count(*) DESC, x.type`, orgID, ids, since, until)
	if err != nil {
		return interpretError(op, err)
	}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var (
			acc string
			tc  DigestTypeCount
		)
		if err := r.Scan(&acc, &tc.Type, &tc.Count); err != nil {
			return struct{}{}, err
		}
		if af := byID[acc]; af != nil {
			af.Counts = append(af.Counts, tc)
			af.Total += tc.Count
		}
		return struct{}{}, nil
	})
	if err != nil {
		return interpretError(op, err)
	}

	rows, err = s.db.Query(ctx, `
		SELECT acc, r.id FROM unnest($2::uuid[]) AS acc
		CROSS JOIN LATERAL (
			SELECT x.id FROM activities x
			WHERE x.org_id = $1 AND x.account_id = acc AND x.occurred_at >= $3 AND x.occurred_at < $4
			ORDER BY x.occurred_at DESC, x.id DESC LIMIT $5) r`, orgID, ids, since, until, DigestCiteMax)
	if err != nil {
		return interpretError(op, err)
	}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var acc, id string
		if err := r.Scan(&acc, &id); err != nil {
			return struct{}{}, err
		}
		if af := byID[acc]; af != nil {
			af.Recent = append(af.Recent, id)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return interpretError(op, err)
	}

	rows, err = s.db.Query(ctx, `
		SELECT acc, `+briefRefColumns("t")+`, t.summary, t.label FROM unnest($2::uuid[]) AS acc
		CROSS JOIN LATERAL (
			SELECT `+briefRefColumns("x")+`, n.summary, dp.label,
			       CASE WHEN x.type = 'meeting' THEN 0 WHEN x.type = 'call' THEN 1 ELSE 2 END AS rank
			FROM activities x
			LEFT JOIN meeting_notes n ON n.org_id = x.org_id AND n.activity_id = x.id
			LEFT JOIN dispositions dp ON dp.org_id = x.org_id AND dp.code = x.disposition
			WHERE x.org_id = $1 AND x.account_id = acc AND x.occurred_at >= $3 AND x.occurred_at < $4
			  AND (x.type IN ('meeting', 'email') OR (x.type = 'call' AND dp.connect))
			ORDER BY rank, x.occurred_at DESC, x.id DESC LIMIT $5) t`, orgID, ids, since, until, DigestNotableMax)
	if err != nil {
		return interpretError(op, err)
	}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var (
			acc string
			ref briefRefScan
			n   DigestNotable
		)
		if err := r.Scan(append(append([]any{&acc}, ref.targets()...), &n.Summary, &n.DispositionLabel)...); err != nil {
			return struct{}{}, err
		}
		if x := ref.ref(); x != nil {
			n.Ref = *x
		}
		if af := byID[acc]; af != nil {
			af.Notable = append(af.Notable, n)
		}
		return struct{}{}, nil
	})
	return interpretError(op, err)
}

// digestDue loads the open next steps and action items of the accounts due
// before due (a date), soonest first, at most DigestCiteMax per account,
// with each account's total.
func (s *Store) digestDue(ctx context.Context, orgID string, ids []string, due string, byID map[string]*DigestAccountFacts) error {
	const op = "get digest due items"
	rows, err := s.db.Query(ctx, `
		SELECT account_id, kind, text, owner, due_date, id, type, direction, occurred_at, subject, total FROM (
			SELECT q.*, row_number() OVER w AS n, count(*) OVER (PARTITION BY q.account_id) AS total FROM (
				SELECT x.account_id, 'next_step' AS kind, x.next_step_text AS text, u.name AS owner,
				       x.next_step_due AS due_date, `+briefRefColumns("x")+`
				FROM activities x LEFT JOIN users u ON u.org_id = x.org_id AND u.id = x.owner_id
				WHERE x.org_id = $1 AND x.account_id = ANY($2::uuid[]) AND x.next_step_due IS NOT NULL
				  AND x.next_step_done_at IS NULL AND x.next_step_due < $3::date
				UNION ALL
				SELECT i.account_id, 'action_item', i.text, i.owner, i.due_date, `+briefRefColumns("m")+`
				FROM action_items i JOIN activities m ON m.org_id = i.org_id AND m.id = i.activity_id
				WHERE i.org_id = $1 AND i.account_id = ANY($2::uuid[]) AND i.status = 'open' AND i.due_date < $3::date
			) q
			WINDOW w AS (PARTITION BY q.account_id ORDER BY q.due_date, q.occurred_at, q.id, q.kind DESC, q.text)
		) r WHERE n <= $4
		ORDER BY account_id, n`, orgID, ids, due, DigestCiteMax)
	if err != nil {
		return interpretError(op, err)
	}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var (
			acc, kind string
			d         DigestDue
			dueDate   time.Time
			ref       briefRefScan
			total     int
		)
		targets := append([]any{&acc, &kind, &d.Text, &d.Owner, &dueDate}, ref.targets()...)
		if err := r.Scan(append(targets, &total)...); err != nil {
			return struct{}{}, err
		}
		d.Kind = DigestDueKind(kind)
		d.DueDate = crm.Date{Time: utcDate(dueDate)}
		if x := ref.ref(); x != nil {
			d.Activity = *x
		}
		if af := byID[acc]; af != nil {
			af.Due = append(af.Due, d)
			af.DueTotal = total
		}
		return struct{}{}, nil
	})
	return interpretError(op, err)
}

// digestAccountsQuery is the statement of a page of the digest's accounts
// (see DigestFacts): the org's accounts, narrowed by the owner, that have
// something to say, by name then id. Whether an account had activity in
// the range (and, with an owner, whether the owner has an open deal or an
// activity there) is one index probe per account; the accounts with
// something due, or with a stalled deal, are each one set (hashed) read
// once per statement, from the org's rows only.
func digestAccountsQuery(orgID string, f DigestFilter, days int, now time.Time, due string, limit int) (string, args, error) {
	var a args
	org, since, until, dueP := a.add(orgID), a.add(f.Since), a.add(f.Until), a.add(due)
	// Which accounts (the org's, after the cursor, the owner's), fenced
	// (OFFSET 0) so that the owner's narrowing runs before the probes.
	where := []string{"ac.org_id = " + org}
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 2)
		if err != nil {
			return "", nil, err
		}
		name, nerr := base64.RawURLEncoding.DecodeString(parts[0])
		if nerr != nil || !crm.ValidID(parts[1]) || !utf8.Valid(name) || strings.ContainsRune(string(name), 0) {
			return "", nil, crm.Invalid("cursor", "is not a cursor returned by this list")
		}
		where = append(where, "(ac.name, ac.id) > ("+a.add(string(name))+"::text, "+a.add(parts[1])+"::uuid)")
	}
	if f.OwnerID != "" {
		o := a.add(strings.ToLower(f.OwnerID)) + "::uuid"
		where = append(where, `(ac.owner_id = `+o+`
			OR (SELECT true FROM deals dl WHERE dl.org_id = ac.org_id AND dl.account_id = ac.id
			    AND dl.owner_id = `+o+` AND dl.status = 'open' LIMIT 1)
			OR (SELECT true FROM activities x WHERE x.org_id = ac.org_id AND x.owner_id = `+o+`
			    AND x.account_id = ac.id AND x.occurred_at >= `+since+` AND x.occurred_at < `+until+` LIMIT 1))`)
	}
	stalledQ, err := stalledQuery(&a, orgID, days, now, "", nil, "ac.id", "", 0)
	if err != nil {
		return "", nil, err
	}
	// Something to say, cheapest first (an OR stops at the first true).
	// The per-account probes are scalar subqueries, not EXISTS: PostgreSQL
	// may turn an EXISTS under OR into a hashed subplan, which reads the
	// whole activities table (every org's) to build its hash. The stalled
	// probe runs only for accounts with nothing else to say.
	q := `SELECT ac.id, ac.name, ac.owner_id FROM (
			SELECT ac.org_id, ac.id, ac.name, ac.owner_id FROM accounts ac WHERE ` + strings.Join(where, " AND ") + ` OFFSET 0
		) ac
		WHERE (SELECT true FROM activities x WHERE x.org_id = ac.org_id AND x.account_id = ac.id
			AND x.occurred_at >= ` + since + ` AND x.occurred_at < ` + until + ` LIMIT 1)
		OR ac.id IN (SELECT x.account_id FROM activities x WHERE x.org_id = ` + org + `
			AND x.next_step_due IS NOT NULL AND x.next_step_done_at IS NULL AND x.next_step_due < ` + dueP + `::date)
		OR ac.id IN (SELECT i.account_id FROM action_items i WHERE i.org_id = ` + org + `
			AND i.status = 'open' AND i.due_date < ` + dueP + `::date)
		OR (SELECT true FROM (` + stalledQ + `) st LIMIT 1)
		ORDER BY ac.name, ac.id LIMIT ` + a.add(limit+1)
	return q, a, nil
}
