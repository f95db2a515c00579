package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// ContactRef is a contact as resolving an activity needs it.
type ContactRef struct {
	ID, AccountID string
}

// ActivityRefsQuery names what resolving a set of activities must look up:
// the org's settings (for its disposition rules), contacts by ID and by
// email, and accounts by email domain. IDs and emails may repeat.
type ActivityRefsQuery struct {
	Settings   bool
	ContactIDs []string
	Emails     []string
	Domains    []string
}

// ActivityRefs is what ActivityRefs found. Settings are the defaults when
// they were not asked for (or the org has no settings row); maps are never
// nil.
type ActivityRefs struct {
	Settings        crm.Settings
	ContactsByID    map[string]ContactRef
	ContactsByEmail map[string]ContactRef
	AccountByDomain map[string]string
}

// ActivityRefs fetches everything q names in one round trip (a pipelined
// batch of at most four queries; none when nothing is needed).
func (s *Store) ActivityRefs(ctx context.Context, orgID string, q ActivityRefsQuery) (ActivityRefs, error) {
	lk := ActivityRefs{
		Settings:        crm.DefaultSettings(),
		ContactsByID:    map[string]ContactRef{},
		ContactsByEmail: map[string]ContactRef{},
		AccountByDomain: map[string]string{},
	}
	b := &pgx.Batch{}
	if q.Settings {
		b.Queue(`SELECT `+dispositionCodesSQL("s")+`, s.require_disposition, s.stalled_after_days, s.updated_at
			FROM settings s WHERE s.org_id = $1`,
			orgID).QueryRow(func(row pgx.Row) error {
			var st crm.Settings
			err := row.Scan(&st.DispositionCodes, &st.RequireDisposition, &st.StalledAfterDays, &st.UpdatedAt)
			st.Dispositions = activeCodes(st.DispositionCodes)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // an org without a settings row has the defaults
			}
			lk.Settings = st
			return err
		})
	}
	if ids := distinct(q.ContactIDs); len(ids) > 0 {
		b.Queue(`SELECT id, account_id FROM contacts WHERE org_id = $1 AND id = ANY($2::uuid[])`,
			orgID, ids).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var c ContactRef
				if err := rows.Scan(&c.ID, &c.AccountID); err != nil {
					return err
				}
				lk.ContactsByID[c.ID] = c
			}
			return rows.Err()
		})
	}
	if emails := distinct(q.Emails); len(emails) > 0 {
		b.Queue(`SELECT email, id, account_id FROM contacts WHERE org_id = $1 AND email = ANY($2::text[])`,
			orgID, emails).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var email string
				var c ContactRef
				if err := rows.Scan(&email, &c.ID, &c.AccountID); err != nil {
					return err
				}
				lk.ContactsByEmail[email] = c
			}
			return rows.Err()
		})
	}
	if domains := distinct(q.Domains); len(domains) > 0 {
		b.Queue(`SELECT domain, account_id FROM account_domains WHERE org_id = $1 AND domain = ANY($2::text[])`,
			orgID, domains).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var d, acc string
				if err := rows.Scan(&d, &acc); err != nil {
					return err
				}
				lk.AccountByDomain[d] = acc
			}
			return rows.Err()
		})
	}
	if b.Len() == 0 {
		return lk, nil
	}
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return lk, interpretError("resolve activity references", err)
	}
	return lk, nil
}

// MissingRefsError is a write the foreign keys refused: Items maps a row's
// Item to the fields among account_id, deal_id and owner_id that name no row
// of the org. It matches crm.ErrInvalid; package activity turns it into
// field problems.
type MissingRefsError struct {
	Items map[int][]string
}

// Error lists the missing references.
func (e *MissingRefsError) Error() string {
	var parts []string
	for _, item := range slices.Sorted(maps.Keys(e.Items)) {
		parts = append(parts, fmt.Sprintf("item %d: %s", item, strings.Join(e.Items[item], ", ")))
	}
	return "store: references do not exist: " + strings.Join(parts, "; ")
}

// Is reports that a MissingRefsError is a crm.ErrInvalid.
func (e *MissingRefsError) Is(target error) bool { return target == crm.ErrInvalid }

// ActivityMissingRefs returns, by row Item, the fields among account_id,
// deal_id and owner_id that name no row of the org (an account not resolved
// yet, "", is skipped). It runs after a foreign key refused a row, or when a
// request is refused anyway, so a 422 names every bad reference; the happy
// path leaves these checks to the foreign keys.
func (s *Store) ActivityMissingRefs(ctx context.Context, orgID string, rows []ActivityRow) (map[int][]string, error) {
	var accounts, deals, owners []string
	for _, r := range rows {
		if r.AccountID != "" {
			accounts = append(accounts, r.AccountID)
		}
		if r.DealID != nil {
			deals = append(deals, *r.DealID)
		}
		if r.OwnerID != nil {
			owners = append(owners, *r.OwnerID)
		}
	}
	found := map[string]map[string]bool{"accounts": {}, "deals": {}, "users": {}}
	b := &pgx.Batch{}
	for _, q := range []struct {
		table string
		ids   []string
	}{{"accounts", distinct(accounts)}, {"deals", distinct(deals)}, {"users", distinct(owners)}} {
		if len(q.ids) == 0 {
			continue
		}
		seen := found[q.table]
		b.Queue(`SELECT id FROM `+q.table+` WHERE org_id = $1 AND id = ANY($2::uuid[])`, orgID, q.ids).
			Query(func(rs pgx.Rows) error {
				for rs.Next() {
					var id string
					if err := rs.Scan(&id); err != nil {
						return err
					}
					seen[id] = true
				}
				return rs.Err()
			})
	}
	if b.Len() > 0 {
		if err := s.db.SendBatch(ctx, b).Close(); err != nil {
			return nil, interpretError("find missing references", err)
		}
	}
	missing := map[int][]string{}
	for _, r := range rows {
		if r.AccountID != "" && !found["accounts"][r.AccountID] {
			missing[r.Item] = append(missing[r.Item], "account_id")
		}
		if r.DealID != nil && !found["deals"][*r.DealID] {
			missing[r.Item] = append(missing[r.Item], "deal_id")
		}
		if r.OwnerID != nil && !found["users"][*r.OwnerID] {
			missing[r.Item] = append(missing[r.Item], "owner_id")
		}
	}
	return missing, nil
}

// missingRefsError is what a write refused by a foreign key returns: a
// *MissingRefsError naming the missing references when they can be found,
// else err as the store reports any error.
func (s *Store) missingRefsError(ctx context.Context, op, orgID string, rows []ActivityRow, err error) error {
	if missing, merr := s.ActivityMissingRefs(ctx, orgID, rows); merr == nil && len(missing) > 0 {
		return &MissingRefsError{Items: missing}
	}
	return interpretError(op, err)
}

func distinct(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}
