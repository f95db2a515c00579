package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// The account brief (package brief, served at GET /v1/accounts/{id}/brief)
// reads its facts here and keeps the last one built in account_briefs.
// AccountBriefState says whether the kept one is still current;
// AccountBriefFacts loads what a new one is composed from (package brief
// composes it); AccountBriefSave keeps it. Only SQL and the fact types live
// here.

// BriefSide is whose commitment an open action item is.
type BriefSide string

// The sides of an action item. See AccountBriefFacts for the rule.
const (
	BriefOurs    BriefSide = "ours"
	BriefTheirs  BriefSide = "theirs"
	BriefUnknown BriefSide = "unknown"
)

// BriefSides lists every side.
var BriefSides = []BriefSide{BriefOurs, BriefTheirs, BriefUnknown}

// BriefRef is the activity a fact of the brief cites.
type BriefRef struct {
	ID         string
	Type       crm.ActivityType
	Direction  *crm.Direction
	OccurredAt time.Time
	Subject    *string
}

// BriefDeal is a deal of the account with its owner's name and its latest
// activity on the account (nil when nothing is logged on the deal).
type BriefDeal struct {
	Deal      crm.Deal
	OwnerName *string
	Last      *BriefRef
}

// BriefActionItem is an open action item with whose it is and the meeting
// it was agreed in.
type BriefActionItem struct {
	Item    crm.ActionItem
	Side    BriefSide
	Meeting BriefRef
}

// BriefMeeting is a processed meeting's summary and the risks its notes
// raised.
type BriefMeeting struct {
	Meeting BriefRef
	Summary string
	Risks   []crm.Point
}

// BriefTouch is a contact of the account and the latest activity linked to
// them.
type BriefTouch struct {
	ContactID string
	Name      string
	Title     *string
	Last      BriefRef
}

// BriefFacts is everything a brief is composed from, read from SQL.
type BriefFacts struct {
	Account crm.Account
	// OwnerName is the account owner's name (nil without an owner).
	OwnerName *string
	// Activities and Contacts count the account's activities and contacts.
	Activities, Contacts int
	// First and Last are the account's oldest and newest activity by
	// occurred_at (nil when it has none).
	First, Last *BriefRef

	// Deals are the account's deals, open ones first by close date (soonest
	// first, undated last), then closed ones most recently changed first; at
	// most BriefOptions.Deals of them, of DealsTotal (DealsOpen open).
	Deals                 []BriefDeal
	DealsTotal, DealsOpen int

	// OpenActionItems are the account's open action items by due date
	// (undated last), then newest meeting first; at most
	// BriefOptions.ActionItems of OpenTotal, OpenOverdue of which were due
	// before BriefOptions.Today.
	OpenActionItems        []BriefActionItem
	OpenTotal, OpenOverdue int

	// Meetings are the account's newest processed meetings, newest first, at
	// most BriefOptions.Meetings.
	Meetings []BriefMeeting

	// Touches are the contacts with a linked activity, most recently
	// touched first; at most BriefOptions.Touches of TouchedTotal.
	Touches      []BriefTouch
	TouchedTotal int
}

// BriefOptions bounds what AccountBriefFacts loads. Zero values take the
// defaults in the field docs.
type BriefOptions struct {
	// Today decides what is overdue (an action item due before it); the zero
	// value is today in UTC.
	Today time.Time
	// Deals: 50. ActionItems: 50. Meetings: 5. Touches: 50.
	Deals, ActionItems, Meetings, Touches int
}

func (o BriefOptions) withDefaults(now time.Time) BriefOptions {
	if o.Today.IsZero() {
		o.Today = now
	}
	def := func(n *int, d int) {
		if *n <= 0 {
			*n = d
		}
	}
	def(&o.Deals, 50)
	def(&o.ActionItems, 50)
	def(&o.Meetings, 5)
	def(&o.Touches, 50)
	return o
}

// briefRefColumns are the columns of a BriefRef from activities aliased x.
func briefRefColumns(x string) string {
	return x + ".id, " + x + ".type, " + x + ".direction, " + x + ".occurred_at, " + x + ".subject"
}

// briefRefScan receives a BriefRef's columns, NULL when an outer join found
// no activity.
type briefRefScan struct {
	id, typ, dir, subject *string
	at                    *time.Time
}

func (r *briefRefScan) targets() []any { return []any{&r.id, &r.typ, &r.dir, &r.at, &r.subject} }

func (r *briefRefScan) ref() *BriefRef {
	if r.id == nil || r.typ == nil || r.at == nil {
		return nil
	}
	ref := &BriefRef{ID: *r.id, Type: crm.ActivityType(*r.typ), OccurredAt: r.at.UTC(), Subject: r.subject}
	if r.dir != nil {
		d := crm.Direction(*r.dir)
		ref.Direction = &d
	}
	return ref
}

// AccountBrief is a brief as kept in account_briefs. The JSON fields are
// stored as given and returned as stored.
type AccountBrief struct {
	Brief           json.RawMessage
	OpenActionItems json.RawMessage
	Deals           json.RawMessage
	LastActivityAt  *time.Time
	// Fingerprint is AccountBriefState's fingerprint when the facts were
	// read.
	Fingerprint string
	GeneratedAt time.Time
}

// epoch renders a timestamptz for a fingerprint without depending on the
// session's TimeZone.
func epoch(col string) string { return "extract(epoch FROM " + col + ")" }

// accountBriefStateSQL fingerprints in one statement everything a brief
// reads: per source the row count and latest change, the open counts (a
// status change inside one transaction keeps updated_at = now() as it was),
// the org's users (names decide sides and owners) and the day (overdue and
// the risk window move with the date). It also returns the kept brief.
var accountBriefStateSQL = `
	SELECT md5(format('%s|%s|%s/%s|%s/%s/%s|%s/%s/%s|%s/%s|%s/%s|%s/%s',
	           $3::text, ` + epoch("a.updated_at") + `,
	           act.n, ` + epoch("act.u") + `,
	           ai.n, ai.open, ` + epoch("ai.u") + `,
	           d.n, d.open, ` + epoch("d.u") + `,
	           c.n, ` + epoch("c.u") + `,
	           mn.n, ` + epoch("mn.u") + `,
	           us.n, ` + epoch("us.u") + `)),
	       b.fingerprint, b.brief, b.open_action_items, b.deals, b.last_activity_at, b.generated_at
	FROM accounts a
	CROSS JOIN LATERAL (SELECT count(*) AS n, max(x.updated_at) AS u FROM activities x
	                    WHERE x.org_id = a.org_id AND x.account_id = a.id) act
	CROSS JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE i.status = 'open') AS open, max(i.updated_at) AS u
	                    FROM action_items i WHERE i.org_id = a.org_id AND i.account_id = a.id) ai
	CROSS JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE dl.status = 'open') AS open, max(dl.updated_at) AS u
	                    FROM deals dl WHERE dl.org_id = a.org_id AND dl.account_id = a.id) d
	CROSS JOIN LATERAL (SELECT count(*) AS n, max(ct.updated_at) AS u FROM contacts ct
	                    WHERE ct.org_id = a.org_id AND ct.account_id = a.id) c
	CROSS JOIN LATERAL (SELECT count(*) AS n, max(n.generated_at) AS u FROM meeting_notes n
	                    JOIN activities x ON x.org_id = n.org_id AND x.id = n.activity_id
	                    WHERE x.org_id = a.org_id AND x.account_id = a.id) mn
	CROSS JOIN LATERAL (SELECT count(*) AS n, max(u.updated_at) AS u FROM users u WHERE u.org_id = a.org_id) us
	LEFT JOIN account_briefs b ON b.org_id = a.org_id AND b.account_id = a.id
	WHERE a.org_id = $1 AND a.id = $2`

// AccountBriefState returns the fingerprint of what an account's brief is
// built from as of day (a UTC date: the brief depends on it), and the kept
// brief (nil when none was built). When the kept brief's Fingerprint equals
// fingerprint it is current. An account that is not the org's is
// crm.ErrNotFound.
func (s *Store) AccountBriefState(ctx context.Context, orgID, accountID string, day time.Time) (fingerprint string, kept *AccountBrief, err error) {
	const op = "get account brief state"
	var (
		fp       *string
		b        AccountBrief
		brief    []byte
		items    []byte
		deals    []byte
		lastAt   *time.Time
		genAt    *time.Time
		dayParam = day.UTC().Format(time.DateOnly)
	)
	err = s.db.QueryRow(ctx, accountBriefStateSQL, orgID, accountID, dayParam).
		Scan(&fingerprint, &fp, &brief, &items, &deals, &lastAt, &genAt)
	if err != nil {
		return "", nil, interpretError(op, err)
	}
	if fp == nil || genAt == nil {
		return fingerprint, nil, nil
	}
	b.Fingerprint, b.Brief, b.OpenActionItems, b.Deals = *fp, brief, items, deals
	b.GeneratedAt = genAt.UTC()
	if lastAt != nil {
		t := lastAt.UTC()
		b.LastActivityAt = &t
	}
	return fingerprint, &b, nil
}

// AccountBriefSave keeps b as the account's brief, replacing the one kept
// before. Two readers rebuilding at once both write; the last write wins and
// both are built from current facts. An account deleted meanwhile keeps
// nothing (and is no error: the next read is a 404).
func (s *Store) AccountBriefSave(ctx context.Context, orgID, accountID string, b AccountBrief) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO account_briefs (org_id, account_id, brief, open_action_items, deals, last_activity_at,
		                            fingerprint, generated_at)
		SELECT a.org_id, a.id, $3::jsonb, $4::jsonb, $5::jsonb, $6::timestamptz, $7::text, $8::timestamptz
		FROM accounts a WHERE a.org_id = $1 AND a.id = $2
		ON CONFLICT (org_id, account_id) DO UPDATE SET brief = EXCLUDED.brief,
			open_action_items = EXCLUDED.open_action_items, deals = EXCLUDED.deals,
			last_activity_at = EXCLUDED.last_activity_at, fingerprint = EXCLUDED.fingerprint,
			generated_at = EXCLUDED.generated_at`,
		orgID, accountID, string(b.Brief), string(orEmptyJSON(b.OpenActionItems)), string(orEmptyJSON(b.Deals)),
		b.LastActivityAt, b.Fingerprint, b.GeneratedAt)
	return interpretError("save account brief", err)
}

func orEmptyJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("[]")
	}
	return b
}

// AccountBriefFacts reads what an account's brief is composed from; see
// BriefFacts for what each field holds and in which order. Read it after
// AccountBriefState: facts at least as new as the fingerprint only ever make
// the next read rebuild once more, never serve stale facts.
//
// The side of an open action item, by its owner (the name the transcript
// gave, compared case-insensitively):
//   - no owner: unknown;
//   - the name or email of a user of the org: ours;
//   - the name or email of a contact of the account: theirs;
//   - else the meeting participant of that name: theirs when their email's
//     domain is one of the account's domains; ours when their email is a
//     user's or shares its domain with a user's email (the vendor's domain);
//   - else unknown.
//
// An account that is not the org's is crm.ErrNotFound.
func (s *Store) AccountBriefFacts(ctx context.Context, orgID, accountID string, o BriefOptions) (BriefFacts, error) {
	const op = "get account brief facts"
	o = o.withDefaults(s.clock())
	var f BriefFacts

	rows, err := s.db.Query(ctx, `SELECT `+accountColumns+`, u.name,
			(SELECT count(*) FROM activities x WHERE x.org_id = a.org_id AND x.account_id = a.id),
			(SELECT count(*) FROM contacts c WHERE c.org_id = a.org_id AND c.account_id = a.id)
		FROM accounts a LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.owner_id
		WHERE a.org_id = $1 AND a.id = $2`, orgID, accountID)
	if err != nil {
		return f, interpretError(op, err)
	}
	_, err = pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (struct{}, error) {
		a := &f.Account
		a.OrgID = orgID
		err := r.Scan(&a.ID, &a.Name, &a.Segment, &a.OwnerID, &a.CreatedAt, &a.UpdatedAt, &a.Domains,
			&f.OwnerName, &f.Activities, &f.Contacts)
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		return struct{}{}, err
	})
	if err != nil {
		return f, interpretError(op, err)
	}

	if err := s.briefFirstLast(ctx, orgID, accountID, &f); err != nil {
		return f, err
	}
	if err := s.briefDeals(ctx, orgID, accountID, o.Deals, &f); err != nil {
		return f, err
	}
	if err := s.briefActionItems(ctx, orgID, accountID, o, &f); err != nil {
		return f, err
	}
	if err := s.briefMeetings(ctx, orgID, accountID, o.Meetings, &f); err != nil {
		return f, err
	}
	if err := s.briefTouches(ctx, orgID, accountID, o.Touches, &f); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Store) briefFirstLast(ctx context.Context, orgID, accountID string, f *BriefFacts) error {
	const op = "get account brief first and last activity"
	if f.Activities == 0 {
		return nil
	}
	// Each half is one end of activities_timeline_idx.
	rows, err := s.db.Query(ctx, `
		(SELECT true, `+briefRefColumns("x")+` FROM activities x WHERE x.org_id = $1 AND x.account_id = $2
		 ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1)
		UNION ALL
		(SELECT false, `+briefRefColumns("x")+` FROM activities x WHERE x.org_id = $1 AND x.account_id = $2
		 ORDER BY x.occurred_at, x.id LIMIT 1)`, orgID, accountID)
	if err != nil {
		return interpretError(op, err)
	}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var last bool
		var ref briefRefScan
		if err := r.Scan(append([]any{&last}, ref.targets()...)...); err != nil {
			return struct{}{}, err
		}
		if last {
			f.Last = ref.ref()
		} else {
			f.First = ref.ref()
		}
		return struct{}{}, nil
	})
	return interpretError(op, err)
}

func (s *Store) briefDeals(ctx context.Context, orgID, accountID string, limit int, f *BriefFacts) error {
	const op = "get account brief deals"
	rows, err := s.db.Query(ctx, `
		SELECT d.id, d.account_id, d.name, d.stage, d.amount::text, d.currency, d.close_date, d.owner_id, d.status,
		       d.created_at, d.updated_at, u.name, `+briefRefColumns("t")+`,
		       count(*) OVER (), count(*) FILTER (WHERE d.status = 'open') OVER ()
		FROM deals d
		LEFT JOIN users u ON u.org_id = d.org_id AND u.id = d.owner_id
		LEFT JOIN LATERAL (
			SELECT `+briefRefColumns("x")+` FROM activities x
			WHERE x.org_id = d.org_id AND x.deal_id = d.id AND x.account_id = d.account_id
			ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1) t ON true
		WHERE d.org_id = $1 AND d.account_id = $2
		ORDER BY d.status <> 'open', CASE WHEN d.status = 'open' THEN d.close_date END NULLS LAST,
		         d.updated_at DESC, d.id DESC
		LIMIT $3`, orgID, accountID, limit)
	if err != nil {
		return interpretError(op, err)
	}
	f.Deals, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BriefDeal, error) {
		bd := BriefDeal{Deal: crm.Deal{OrgID: orgID}}
		d := &bd.Deal
		var (
			amount    *string
			closeDate *time.Time
			status    string
			ref       briefRefScan
		)
		targets := []any{&d.ID, &d.AccountID, &d.Name, &d.Stage, &amount, &d.Currency, &closeDate, &d.OwnerID,
			&status, &d.CreatedAt, &d.UpdatedAt, &bd.OwnerName}
		targets = append(targets, ref.targets()...)
		targets = append(targets, &f.DealsTotal, &f.DealsOpen)
		if err := r.Scan(targets...); err != nil {
			return bd, err
		}
		if amount != nil {
			a := crm.Decimal(dealTrimAmount(*amount))
			d.Amount = &a
		}
		if closeDate != nil {
			d.CloseDate = &crm.Date{Time: *closeDate}
		}
		d.Status = crm.DealStatus(status)
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		bd.Last = ref.ref()
		return bd, nil
	})
	return interpretError(op, err)
}

// briefSideSQL decides an open action item's side (AccountBriefFacts has
// the rule in words); i is the action item, m its meeting, and $1 must be
// the org's ID (both callers have it there). The users' names, emails and
// email domains are read as uncorrelated sets of the org ($1), which the
// planner hashes once per statement instead of scanning the users for
// every item: ActionItemList computes the side of every item of the org.
const briefSideSQL = `
	CASE
	WHEN i.owner IS NULL OR btrim(i.owner) = '' THEN 'unknown'
	WHEN lower(btrim(i.owner)) IN (SELECT lower(u.name) FROM users u WHERE u.org_id = $1
	                               UNION ALL SELECT lower(u.email) FROM users u WHERE u.org_id = $1) THEN 'ours'
	WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.org_id = i.org_id AND c.account_id = i.account_id
	             AND (lower(c.name) = lower(btrim(i.owner)) OR c.email = lower(btrim(i.owner)))) THEN 'theirs'
	ELSE COALESCE((
		SELECT CASE
			WHEN EXISTS (SELECT 1 FROM account_domains ad WHERE ad.org_id = i.org_id
			             AND ad.account_id = i.account_id AND ad.domain = p.domain) THEN 'theirs'
			WHEN p.email IN (SELECT lower(u.email) FROM users u WHERE u.org_id = $1)
			  OR p.domain IN (SELECT split_part(lower(u.email), '@', 2) FROM users u WHERE u.org_id = $1) THEN 'ours'
			END
		FROM (SELECT lower(e->>'email') AS email, split_part(lower(e->>'email'), '@', 2) AS domain
		      FROM jsonb_array_elements(m.participants) AS e
		      WHERE lower(btrim(e->>'name')) = lower(btrim(i.owner)) AND COALESCE(e->>'email', '') LIKE '%_@_%'
		      LIMIT 1) p), 'unknown')
	END`

func (s *Store) briefActionItems(ctx context.Context, orgID, accountID string, o BriefOptions, f *BriefFacts) error {
	const op = "get account brief action items"
	today := o.Today.UTC().Format(time.DateOnly)
	rows, err := s.db.Query(ctx, `
		SELECT i.id, i.activity_id, i.account_id, i.text, i.owner, i.due_date, i.status, i.tentative, i.evidence,
		       i.created_at, i.updated_at, `+briefRefColumns("m")+`, `+briefSideSQL+`,
		       count(*) OVER (), count(*) FILTER (WHERE i.due_date < $3::date) OVER ()
		FROM action_items i
		JOIN activities m ON m.org_id = i.org_id AND m.id = i.activity_id
		WHERE i.org_id = $1 AND i.account_id = $2 AND i.status = 'open'
		ORDER BY i.due_date NULLS LAST, m.occurred_at DESC, m.id DESC, i.position
		LIMIT $4`, orgID, accountID, today, o.ActionItems)
	if err != nil {
		return interpretError(op, err)
	}
	f.OpenActionItems, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BriefActionItem, error) {
		bi := BriefActionItem{Item: crm.ActionItem{OrgID: orgID}}
		it := &bi.Item
		var (
			due  *time.Time
			ref  briefRefScan
			side string
		)
		targets := []any{&it.ID, &it.ActivityID, &it.AccountID, &it.Text, &it.Owner, &due, &it.Status, &it.Tentative,
			&it.Evidence, &it.CreatedAt, &it.UpdatedAt}
		targets = append(targets, ref.targets()...)
		targets = append(targets, &side, &f.OpenTotal, &f.OpenOverdue)
		if err := r.Scan(targets...); err != nil {
			return bi, err
		}
		if due != nil {
			it.DueDate = &crm.Date{Time: *due}
		}
		if it.Evidence == nil {
			it.Evidence = []crm.Evidence{}
		}
		it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
		bi.Side = BriefSide(side)
		if m := ref.ref(); m != nil {
			bi.Meeting = *m
		}
		return bi, nil
	})
	return interpretError(op, err)
}

func (s *Store) briefMeetings(ctx context.Context, orgID, accountID string, limit int, f *BriefFacts) error {
	const op = "get account brief meetings"
	rows, err := s.db.Query(ctx, `
		SELECT `+briefRefColumns("x")+`, n.summary, n.risks
		FROM activities x JOIN meeting_notes n ON n.org_id = x.org_id AND n.activity_id = x.id
		WHERE x.org_id = $1 AND x.account_id = $2
		ORDER BY x.occurred_at DESC, x.id DESC
		LIMIT $3`, orgID, accountID, limit)
	if err != nil {
		return interpretError(op, err)
	}
	f.Meetings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BriefMeeting, error) {
		var (
			bm  BriefMeeting
			ref briefRefScan
		)
		if err := r.Scan(append(ref.targets(), &bm.Summary, &bm.Risks)...); err != nil {
			return bm, err
		}
		if m := ref.ref(); m != nil {
			bm.Meeting = *m
		}
		return bm, nil
	})
	return interpretError(op, err)
}

func (s *Store) briefTouches(ctx context.Context, orgID, accountID string, limit int, f *BriefFacts) error {
	const op = "get account brief touches"
	rows, err := s.db.Query(ctx, `
		SELECT c.id, c.name, c.title, `+briefRefColumns("t")+`, count(*) OVER ()
		FROM contacts c
		JOIN LATERAL (
			SELECT `+briefRefColumns("x")+` FROM activity_contacts ac
			JOIN activities x ON x.org_id = ac.org_id AND x.id = ac.activity_id
			WHERE ac.org_id = c.org_id AND ac.contact_id = c.id AND x.account_id = c.account_id
			ORDER BY x.occurred_at DESC, x.id DESC LIMIT 1) t ON true
		WHERE c.org_id = $1 AND c.account_id = $2
		ORDER BY t.occurred_at DESC, t.id DESC, c.name, c.id
		LIMIT $3`, orgID, accountID, limit)
	if err != nil {
		return interpretError(op, err)
	}
	f.Touches, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BriefTouch, error) {
		var (
			bt  BriefTouch
			ref briefRefScan
		)
		targets := append([]any{&bt.ContactID, &bt.Name, &bt.Title}, ref.targets()...)
		if err := r.Scan(append(targets, &f.TouchedTotal)...); err != nil {
			return bt, err
		}
		if t := ref.ref(); t != nil {
			bt.Last = *t
		}
		return bt, nil
	})
	if err != nil {
		return interpretError(op, err)
	}
	if len(f.Touches) == 0 {
		f.TouchedTotal = 0
	}
	return nil
}
