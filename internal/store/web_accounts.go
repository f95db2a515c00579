package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Reads of the web UI's account pages: the accounts list with what a person
// scans it for (owner, last activity, open deals and commitments), the
// names a timeline page shows, and a meeting's transcript by its activity.

// WebAccountRow is one row of the web UI's accounts list.
type WebAccountRow struct {
	crm.Account
	// OwnerName is the owning user's name (nil without an owner).
	OwnerName *string
	// LastActivityAt is when the latest activity occurred (nil: none).
	LastActivityAt *time.Time
	// OpenDeals counts the account's deals with status open.
	OpenDeals int
	// OpenCommitments counts the account's open action items.
	OpenCommitments int
}

// WebAccountFilter narrows WebAccountList.
type WebAccountFilter struct {
	// Q matches a substring of the name or of any domain, case-insensitively
	// (as AccountFilter.Q).
	Q string
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; one that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// WebAccountList lists the org's accounts by name (case-insensitive, then
// id), keyset-paginated, each with its owner's name, last activity and
// counts of open deals and open action items. One statement: the page is
// chosen first (accounts_name_idx order) and only its rows are summed up,
// each through an index (activities_timeline_idx, deals_account_idx,
// action_items_account_idx).
func (s *Store) WebAccountList(ctx context.Context, orgID string, f WebAccountFilter) (crm.Page[WebAccountRow], error) {
	const op = "list accounts for the web"
	var a args
	where := []string{"a.org_id = " + a.add(orgID)}
	if f.Q != "" {
		ph := a.add("%" + likeEscape(strings.ToLower(f.Q)) + "%")
		where = append(where, "(lower(a.name) LIKE "+ph+" OR EXISTS (SELECT 1 FROM account_domains d WHERE d.org_id = a.org_id AND d.account_id = a.id AND d.domain LIKE "+ph+"))")
	}
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 2)
		if err != nil {
			return crm.Page[WebAccountRow]{}, err
		}
		if !crm.ValidID(parts[1]) {
			return crm.Page[WebAccountRow]{}, crm.Invalid("cursor", "is not a cursor returned by this list")
		}
		where = append(where, "(lower(a.name), a.id) > ("+a.add(parts[0])+"::text, "+a.add(parts[1])+"::uuid)")
	}
	limit := clampLimit(f.Limit)
	q := `SELECT p.id, p.name, p.segment, p.owner_id, p.created_at, p.updated_at,
			COALESCE((SELECT array_agg(d.domain ORDER BY d.domain) FROM account_domains d
			          WHERE d.org_id = p.org_id AND d.account_id = p.id), '{}'),
			u.name,
			(SELECT x.occurred_at FROM activities x WHERE x.org_id = p.org_id AND x.account_id = p.id
			 ORDER BY x.occurred_at DESC LIMIT 1),
			(SELECT count(*) FROM deals dl WHERE dl.org_id = p.org_id AND dl.account_id = p.id AND dl.status = 'open'),
			(SELECT count(*) FROM action_items i WHERE i.org_id = p.org_id AND i.account_id = p.id AND i.status = 'open'),
			p.name_key
		FROM (SELECT a.org_id, a.id, a.name, a.segment, a.owner_id, a.created_at, a.updated_at, lower(a.name) AS name_key
		      FROM accounts a WHERE ` + strings.Join(where, " AND ") + `
		      ORDER BY lower(a.name), a.id LIMIT ` + a.add(limit+1) + `) p
		LEFT JOIN users u ON u.org_id = p.org_id AND u.id = p.owner_id
		ORDER BY p.name_key, p.id`
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[WebAccountRow]{}, interpretError(op, err)
	}
	var keys []string
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebAccountRow, error) {
		x := WebAccountRow{Account: crm.Account{OrgID: orgID}}
		var key string
		err := r.Scan(&x.ID, &x.Name, &x.Segment, &x.OwnerID, &x.CreatedAt, &x.UpdatedAt, &x.Domains,
			&x.OwnerName, &x.LastActivityAt, &x.OpenDeals, &x.OpenCommitments, &key)
		keys = append(keys, key)
		return x, err
	})
	if err != nil {
		return crm.Page[WebAccountRow]{}, interpretError(op, err)
	}
	p := crm.Page[WebAccountRow]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = encodeCursor(keys[limit-1], items[limit-1].ID)
	}
	if p.Items == nil {
		p.Items = []WebAccountRow{}
	}
	return p, nil
}

// WebNames returns the names of the org's contacts and deals among the
// given IDs (those of a timeline page), in one statement. IDs that are not
// the org's are left out.
func (s *Store) WebNames(ctx context.Context, orgID string, contactIDs, dealIDs []string) (contacts, deals map[string]string, err error) {
	const op = "get names for the web"
	contacts, deals = map[string]string{}, map[string]string{}
	if len(contactIDs) == 0 && len(dealIDs) == 0 {
		return contacts, deals, nil
	}
	if contactIDs == nil {
		contactIDs = []string{}
	}
	if dealIDs == nil {
		dealIDs = []string{}
	}
	rows, err := s.db.Query(ctx, `
		SELECT 'c', c.id::text, c.name FROM contacts c WHERE c.org_id = $1 AND c.id = ANY($2::uuid[])
		UNION ALL
		SELECT 'd', d.id::text, d.name FROM deals d WHERE d.org_id = $1 AND d.id = ANY($3::uuid[])`,
		orgID, contactIDs, dealIDs)
	if err != nil {
		return nil, nil, interpretError(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id, name string
		if err := rows.Scan(&kind, &id, &name); err != nil {
			return nil, nil, interpretError(op, err)
		}
		if kind == "c" {
			contacts[id] = name
		} else {
			deals[id] = name
		}
	}
	return contacts, deals, interpretError(op, rows.Err())
}

// WebTranscriptByActivity returns a meeting activity's transcript with its
// segments (none once purged). An activity without a transcript, or not
// the org's, is crm.ErrNotFound.
func (s *Store) WebTranscriptByActivity(ctx context.Context, orgID, activityID string) (crm.Transcript, error) {
	const op = "get transcript by activity"
	rows, err := s.db.Query(ctx, `SELECT `+transcriptColumns+`, t.segments FROM transcripts t
		WHERE t.org_id = $1 AND t.activity_id = $2`, orgID, activityID)
	if err != nil {
		return crm.Transcript{}, interpretError(op, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTranscript(orgID, true))
	return t, interpretError(op, err)
}
