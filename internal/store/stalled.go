package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Stalled deals (GET /v1/deals/stalled, and the weekly digest): open deals
// nobody has touched for a while. What counts as a touch is an activity on
// the deal, on its account, or linked (activity_contacts) to a contact of
// its account, whichever account that activity is on; a handoff does not
// count (a reassignment is not contact with the customer).

// StalledFilter narrows StalledDealList. Zero values take the defaults in
// the field docs.
type StalledFilter struct {
	// Days is how long without a counting activity makes a deal stalled;
	// 0 is the org's settings.stalled_after_days.
	Days int
	// OwnerID keeps the deals this user owns.
	OwnerID string
	// AccountIDs keeps the deals of these accounts (nil: every account).
	AccountIDs []string
	// Now is the time inactivity is measured to; the zero value is the
	// store clock.
	Now time.Time
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// StalledDealRef is the deal of a StalledDeal.
type StalledDealRef struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Stage     *string        `json:"stage"`
	Amount    *crm.Decimal   `json:"amount"`
	Currency  *string        `json:"currency"`
	CloseDate *crm.Date      `json:"close_date"`
	OwnerID   *string        `json:"owner_id"`
	Status    crm.DealStatus `json:"status"`
}

// StalledAccount is the account of a StalledDeal.
type StalledAccount struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// StalledActivity is the newest activity that counts for a stalled deal.
type StalledActivity struct {
	ID         string           `json:"id"`
	Type       crm.ActivityType `json:"type"`
	OccurredAt time.Time        `json:"occurred_at"`
	Subject    *string          `json:"subject"`
	// Direction is kept for the digest's wording; the API does not show it.
	Direction *crm.Direction `json:"-"`
}

// StalledDeal is one open deal without a counting activity for the
// filter's days.
type StalledDeal struct {
	Deal      StalledDealRef `json:"deal"`
	Account   StalledAccount `json:"account"`
	OwnerName *string        `json:"owner_name"`
	// LastActivity is the newest counting activity; nil when there is none
	// (the deal is then measured from its creation).
	LastActivity *StalledActivity `json:"last_activity"`
	// DaysInactive is whole days from LastActivity (or the deal's creation)
	// to now.
	DaysInactive int `json:"days_inactive"`
	// Since is when the inactivity began: LastActivity's occurred_at, or
	// the deal's created_at.
	Since time.Time `json:"-"`
}

// StalledPage is a page of stalled deals and the days they were measured
// with.
type StalledPage struct {
	Items      []StalledDeal `json:"items"`
	NextCursor *string       `json:"next_cursor"`
	// Days is the threshold used: the days asked for, or the org's
	// stalled_after_days.
	Days int `json:"days"`
}

// stalledLastSQL finds, for deal d, the newest counting activity in two
// steps. b is the newest on the deal's account or on the deal: one LIMIT 1
// index scan each (activities_timeline_idx, activities_deal_idx). c is the
// newest linked to a contact of the account that is newer than b: it reads
// every activity linked to those contacts (activity_contacts_contact_idx,
// then the primary key), so the WHERE of stalledQuery keeps it for the
// deals b alone leaves stalled (the condition on b is applied below the
// join with c); a deal b keeps fresh never looks at its contacts.
const stalledLastSQL = `
	LEFT JOIN LATERAL (
		SELECT t.id, t.type, t.direction, t.occurred_at, t.subject FROM (
			(SELECT x.id, x.type, x.direction, x.occurred_at, x.subject FROM activities x
			 WHERE x.org_id = d.org_id AND x.account_id = d.account_id AND x.type <> 'handoff'
			 ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1)
			UNION ALL
			(SELECT x.id, x.type, x.direction, x.occurred_at, x.subject FROM activities x
			 WHERE x.org_id = d.org_id AND x.deal_id = d.id AND x.type <> 'handoff'
			 ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1)
		) t ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) b ON true
	LEFT JOIN LATERAL (
		SELECT x.id, x.type, x.direction, x.occurred_at, x.subject FROM contacts ct
		JOIN activity_contacts ac ON ac.org_id = ct.org_id AND ac.contact_id = ct.id
		JOIN activities x ON x.org_id = ac.org_id AND x.id = ac.activity_id
		WHERE ct.org_id = d.org_id AND ct.account_id = d.account_id AND x.type <> 'handoff'
		  AND (b.occurred_at IS NULL OR (x.occurred_at, x.id) > (b.occurred_at, b.id))
		ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1) c ON true`

// stalledLastColumns are the columns of the newest counting activity: c's
// when there is one, else b's.
const stalledLastColumns = `CASE WHEN c.id IS NULL THEN b.id ELSE c.id END,
	CASE WHEN c.id IS NULL THEN b.type ELSE c.type END,
	CASE WHEN c.id IS NULL THEN b.direction ELSE c.direction END,
	CASE WHEN c.id IS NULL THEN b.occurred_at ELSE c.occurred_at END,
	CASE WHEN c.id IS NULL THEN b.subject ELSE c.subject END`

// stalledQuery builds the statement of StalledDealList (and the digest's
// stalled section): the org's open deals, filtered, whose inactivity began
// at or before now − days, largest amount first (nulls last), then the
// longest inactive, then id. The keyset follows that order. limit 0 means
// no LIMIT.
//
// accountCol, when set, is an SQL expression the deal's account must equal
// (a correlated column of an outer query).
func stalledQuery(a *args, orgID string, days int, now time.Time, ownerID string, accountIDs []string,
	accountCol, cursor string, limit int) (string, error) {
	since := `COALESCE(c.occurred_at, b.occurred_at, d.created_at)`
	cutoff := a.add(now) + "::timestamptz - make_interval(days => " + a.add(days) + "::int)"
	where := []string{"d.org_id = " + a.add(orgID), "d.status = 'open'",
		"COALESCE(b.occurred_at, d.created_at) <= " + cutoff, since + " <= " + cutoff}
	if ownerID != "" {
		where = append(where, "d.owner_id = "+a.add(strings.ToLower(ownerID))+"::uuid")
	}
	if accountCol != "" {
		where = append(where, "d.account_id = "+accountCol)
	}
	if accountIDs != nil {
		where = append(where, "d.account_id = ANY("+a.add(accountIDs)+"::uuid[])")
	}
	if cursor != "" {
		parts, err := decodeCursor(cursor, 3)
		if err != nil {
			return "", err
		}
		at, terr := time.Parse(time.RFC3339Nano, parts[1])
		if terr != nil || !crm.ValidID(parts[2]) || (parts[0] != "" && !validDecimal(parts[0])) {
			return "", crm.Invalid("cursor", "is not a cursor returned by this list")
		}
		after := "(" + since + ", d.id) > (" + a.add(at) + "::timestamptz, " + a.add(parts[2]) + "::uuid)"
		if parts[0] == "" {
			where = append(where, "d.amount IS NULL AND "+after)
		} else {
			amt := a.add(parts[0]) + "::numeric"
			where = append(where, "(d.amount < "+amt+" OR d.amount IS NULL OR (d.amount = "+amt+" AND "+after+"))")
		}
	}
	q := `SELECT d.id, d.name, d.stage, d.amount::text, d.currency, d.close_date, d.owner_id, d.status,
			acc.id, acc.name, u.name, ` + stalledLastColumns + `, ` + since + `
		FROM deals d
		JOIN accounts acc ON acc.org_id = d.org_id AND acc.id = d.account_id
		LEFT JOIN users u ON u.org_id = d.org_id AND u.id = d.owner_id` + stalledLastSQL + `
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY d.amount DESC NULLS LAST, ` + since + `, d.id`
	if limit > 0 {
		q += ` LIMIT ` + a.add(limit)
	}
	return q, nil
}

// stalledScan reads a row of stalledQuery.
func stalledScan(now time.Time) pgx.RowToFunc[StalledDeal] {
	return func(r pgx.CollectableRow) (StalledDeal, error) {
		var (
			sd        StalledDeal
			d         = &sd.Deal
			amount    *string
			closeDate *time.Time
			status    string
			ref       briefRefScan
		)
		targets := []any{&d.ID, &d.Name, &d.Stage, &amount, &d.Currency, &closeDate, &d.OwnerID, &status,
			&sd.Account.ID, &sd.Account.Name, &sd.OwnerName}
		targets = append(targets, ref.targets()...)
		targets = append(targets, &sd.Since)
		if err := r.Scan(targets...); err != nil {
			return sd, err
		}
		if amount != nil {
			v := crm.Decimal(dealTrimAmount(*amount))
			d.Amount = &v
		}
		if closeDate != nil {
			d.CloseDate = &crm.Date{Time: *closeDate}
		}
		d.Status = crm.DealStatus(status)
		if last := ref.ref(); last != nil {
			sd.LastActivity = &StalledActivity{ID: last.ID, Type: last.Type, OccurredAt: last.OccurredAt,
				Subject: last.Subject, Direction: last.Direction}
		}
		sd.Since = sd.Since.UTC()
		sd.DaysInactive = int(now.Sub(sd.Since) / (24 * time.Hour))
		return sd, nil
	}
}

// stalledDays is days, or the org's stalled_after_days when days is 0.
func (s *Store) stalledDays(ctx context.Context, orgID string, days int) (int, error) {
	if days > 0 {
		return days, nil
	}
	err := s.db.QueryRow(ctx, `SELECT stalled_after_days FROM settings WHERE org_id = $1`, orgID).Scan(&days)
	return days, interpretError("get stalled_after_days", err)
}

// StalledDealList lists the org's open deals with no counting activity (on
// the deal, its account or its account's contacts; handoffs do not count)
// for f.Days days: a deal whose newest counting activity occurred at or
// before now − days, or, with none, that was created at or before then.
// Largest amount first (amounts compared as numbers whatever the currency;
// no amount last), then the longest inactive, then id; one keyset page at
// a time.
func (s *Store) StalledDealList(ctx context.Context, orgID string, f StalledFilter) (StalledPage, error) {
	const op = "list stalled deals"
	now := f.Now
	if now.IsZero() {
		now = s.clock()
	}
	days, err := s.stalledDays(ctx, orgID, f.Days)
	if err != nil {
		return StalledPage{}, err
	}
	limit := clampLimit(f.Limit)
	var a args
	q, err := stalledQuery(&a, orgID, days, now, f.OwnerID, f.AccountIDs, "", f.Cursor, limit+1)
	if err != nil {
		return StalledPage{}, err
	}
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return StalledPage{}, interpretError(op, err)
	}
	items, err := pgx.CollectRows(rows, stalledScan(now))
	if err != nil {
		return StalledPage{}, interpretError(op, err)
	}
	p := StalledPage{Items: items, Days: days}
	if len(items) > limit {
		p.Items = items[:limit]
		last := p.Items[limit-1]
		amount := ""
		if last.Deal.Amount != nil {
			amount = string(*last.Deal.Amount)
		}
		p.NextCursor = encodeCursor(amount, last.Since.Format(time.RFC3339Nano), last.Deal.ID)
	}
	if p.Items == nil {
		p.Items = []StalledDeal{}
	}
	return p, nil
}

// stalledByAccount lists every stalled deal of the accounts, in
// StalledDealList's order, by account.
func (s *Store) stalledByAccount(ctx context.Context, orgID string, days int, now time.Time, accountIDs []string) (map[string][]StalledDeal, error) {
	const op = "list stalled deals by account"
	var a args
	q, err := stalledQuery(&a, orgID, days, now, "", accountIDs, "", "", 0)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return nil, interpretError(op, err)
	}
	items, err := pgx.CollectRows(rows, stalledScan(now))
	if err != nil {
		return nil, interpretError(op, err)
	}
	out := map[string][]StalledDeal{}
	for _, it := range items {
		out[it.Account.ID] = append(out[it.Account.ID], it)
	}
	return out, nil
}

// validDecimal reports whether s reads as a deal amount (as a cursor
// carries it).
func validDecimal(s string) bool {
	_, err := crm.ParseDecimal(s)
	return err == nil
}
