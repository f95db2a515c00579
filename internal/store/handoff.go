package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// A reassignment (DealReassign, DealReassignBatch) writes a handoff note
// for the new owner. The store reads its facts inside the reassignment's
// transaction, after the deal is locked and before anything is written, and
// hands them to a HandoffComposer (package brief composes the note); the
// note it returns goes into the handoff activity. Only SQL and the fact
// types live here.

// HandoffWeek is the span of a handoff's "last week": activities that
// occurred in the 7×24 hours up to the reassignment, both ends included.
const HandoffWeek = 7 * 24 * time.Hour

// handoffLoad bounds each list of HandoffFacts; the totals count them all.
const handoffLoad = 50

// HandoffFacts is what a handoff note is composed from, read from SQL.
type HandoffFacts struct {
	// Now is the time of the reassignment (the store's clock, UTC): the
	// week and what is overdue are counted from it.
	Now time.Time
	// Deal is the deal as it was before the change.
	Deal crm.Deal
	// AccountName is the deal's account's name.
	AccountName string
	// FromName is the previous owner's name, nil when the deal had none;
	// ToName is the new owner's.
	FromName *string
	ToName   string

	// OpenActionItems are the account's open action items as
	// AccountBriefFacts loads them (side, meeting; by due date, undated
	// last, then newest meeting first); at most 50 of OpenTotal,
	// OpenOverdue of which were due before Now's UTC date.
	OpenActionItems        []BriefActionItem
	OpenTotal, OpenOverdue int

	// Week are the account's activities of the HandoffWeek up to Now,
	// newest first; at most 50 of WeekTotal.
	Week      []HandoffActivity
	WeekTotal int

	// NextSteps are the account's activities with a next step, by due date
	// (undated last), then newest activity first; at most 50 of
	// NextStepsTotal.
	NextSteps      []HandoffNextStep
	NextStepsTotal int

	// Meetings are the account's newest processed meetings (at most 5),
	// newest first, with their risks: AccountBriefFacts' Meetings.
	Meetings []BriefMeeting
}

// HandoffActivity is an activity of a handoff's last week.
type HandoffActivity struct {
	Ref BriefRef
	// Disposition is the call's disposition code and DispositionLabel its
	// label in the org's codes (nil when the code is not one of them).
	Disposition, DispositionLabel *string
	// OwnerName is the name of the user who owns the activity.
	OwnerName *string
	// Contacts are the names of the linked contacts, by name.
	Contacts []string
}

// HandoffNextStep is an activity's next step.
type HandoffNextStep struct {
	Ref       BriefRef
	Text      string
	Due       *crm.Date
	OwnerName *string
}

// HandoffNote is a composed handoff note as the store keeps it: Text is
// appended to the handoff activity's body (after the free-text note), and
// Structured is marshalled into its metadata as "handoff".
type HandoffNote struct {
	Text       string
	Structured any
}

// HandoffComposer composes a handoff note from its facts. It runs inside
// the reassignment's transaction, once per deal; an error rolls the whole
// reassignment back.
type HandoffComposer func(HandoffFacts) (HandoffNote, error)

// DealReassigned is one deal of a reassignment: the deal with its new owner
// and the handoff activity logged for it.
type DealReassigned struct {
	Deal     crm.Deal
	Activity crm.Activity
}

// DealReassignBatch moves several deals to one new owner in one
// transaction, all or nothing: each as DealReassign does (with the same
// compose), in the order of in.DealIDs, and answers in that order. Every
// deal is locked (in id order, so two batches never deadlock) and every
// handoff note is composed before any deal changes, so a note never shows
// another handoff of the same batch. deliveries are the activity.created
// deliveries of every handoff, to enqueue after commit.
//
// Validate in first. An owner_id that is not a user of the org is a
// validation error on "owner_id"; a deal id that is not a deal of the org,
// or names a deal the new owner already owns, is one on "deal_ids[i]" (all
// of them are named).
func (s *Store) DealReassignBatch(ctx context.Context, orgID string, in crm.ReassignBatchInput, compose HandoffComposer) (out []DealReassigned, deliveries []string, err error) {
	const op = "reassign deals"
	to := strings.ToLower(in.OwnerID)
	ids := make([]string, len(in.DealIDs))
	for i, id := range in.DealIDs {
		ids[i] = strings.ToLower(id)
	}
	err = s.WithTx(ctx, func(tx *Store) error {
		rows, err := tx.db.Query(ctx, `SELECT `+dealColumns+` FROM deals WHERE org_id = $1 AND id = ANY($2::uuid[])
			ORDER BY id FOR UPDATE`, orgID, ids)
		if err != nil {
			return interpretError(op, err)
		}
		locked, err := pgx.CollectRows(rows, scanDeal(orgID))
		if err != nil {
			return interpretError(op, err)
		}
		byID := make(map[string]crm.Deal, len(locked))
		for _, d := range locked {
			byID[d.ID] = d
		}
		var pr crm.Problems
		toName, err := tx.userName(ctx, orgID, to)
		if err != nil {
			return interpretError(op, err)
		}
		if toName == nil {
			pr.Add("owner_id", "does not exist")
		}
		olds := make([]crm.Deal, len(ids))
		first := make(map[string]int, len(ids))
		for i, id := range ids {
			d, ok := byID[id]
			j, seen := first[id]
			switch {
			case seen:
				pr.Add(fmt.Sprintf("deal_ids[%d]", i), "repeats deal_ids[%d]", j)
			case !ok:
				pr.Add(fmt.Sprintf("deal_ids[%d]", i), "does not exist")
			case d.OwnerID != nil && *d.OwnerID == to:
				pr.Add(fmt.Sprintf("deal_ids[%d]", i), "is already owned by owner_id; leave it out")
			}
			if !seen {
				first[id] = i
			}
			olds[i] = d
		}
		if err := pr.Err(); err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		notes := make([]*HandoffNote, len(olds))
		froms := make([]string, len(olds))
		for i, old := range olds {
			if notes[i], froms[i], err = tx.handoffCompose(ctx, old, *toName, compose); err != nil {
				return err
			}
		}
		now := tx.clock()
		for i, old := range olds {
			r, ds, err := tx.dealHandOver(ctx, old, to, froms[i], *toName, in.Note, notes[i], now)
			if err != nil {
				return err
			}
			out = append(out, r)
			deliveries = append(deliveries, ds...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, deliveries, nil
}

// userName is the name of a user of the org, nil when there is none.
func (s *Store) userName(ctx context.Context, orgID, userID string) (*string, error) {
	rows, err := s.db.Query(ctx, `SELECT name FROM users WHERE org_id = $1 AND id = $2`, orgID, userID)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return &names[0], nil
}

// handoffCompose reads the previous owner's name ("unassigned" when none)
// and, with a composer, the handoff facts of a locked deal and composes its
// note (nil without one).
func (s *Store) handoffCompose(ctx context.Context, old crm.Deal, toName string, compose HandoffComposer) (*HandoffNote, string, error) {
	const op = "compose handoff"
	var from *string
	if old.OwnerID != nil {
		name, err := s.userName(ctx, old.OrgID, *old.OwnerID)
		if err != nil {
			return nil, "", interpretError(op, err)
		}
		from = name
	}
	fromName := "unassigned"
	if from != nil {
		fromName = *from
	}
	if compose == nil {
		return nil, fromName, nil
	}
	f, err := s.handoffFacts(ctx, old, from, toName)
	if err != nil {
		return nil, "", err
	}
	n, err := compose(f)
	if err != nil {
		return nil, "", fmt.Errorf("store: %s: %w", op, err)
	}
	return &n, fromName, nil
}

// dealHandOver changes a locked deal's owner, logs its handoff activity and
// records its activity.created deliveries.
func (s *Store) dealHandOver(ctx context.Context, old crm.Deal, to, fromName, toName, note string, hn *HandoffNote, now time.Time) (DealReassigned, []string, error) {
	const op = "reassign deal"
	deal, err := s.dealOne(ctx, op, old.OrgID,
		`UPDATE deals SET owner_id = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 RETURNING `+dealColumns,
		old.OrgID, old.ID, to, now)
	if err != nil {
		return DealReassigned{}, nil, err
	}
	act, err := s.dealLogHandoff(ctx, old, to, fromName, toName, note, hn, now)
	if err != nil {
		return DealReassigned{}, nil, err
	}
	deliveries, err := s.WebhookEventRecord(ctx, old.OrgID, EventActivityCreated, ActivityCreatedData{
		ActivityID: act.ID, AccountID: act.AccountID, Type: act.Type, OccurredAt: act.OccurredAt,
		Source: act.Source, ExternalID: act.ExternalID,
	})
	if err != nil {
		return DealReassigned{}, nil, err
	}
	return DealReassigned{Deal: deal, Activity: act}, deliveries, nil
}

// handoffBody is the handoff activity's body: the free-text note (when not
// blank), then the composed note's text; nil when both are empty.
func handoffBody(note string, hn *HandoffNote) *string {
	var parts []string
	if strings.TrimSpace(note) != "" {
		parts = append(parts, note)
	}
	if hn != nil && strings.TrimSpace(hn.Text) != "" {
		parts = append(parts, hn.Text)
	}
	if len(parts) == 0 {
		return nil
	}
	b := strings.Join(parts, "\n\n")
	return &b
}

// handoffMetadata is the handoff activity's metadata: both owners, and the
// composed note's structure under "handoff" when there is one.
func handoffMetadata(from *string, to string, hn *HandoffNote) ([]byte, error) {
	m := struct {
		From    *string `json:"from_owner_id"`
		To      string  `json:"to_owner_id"`
		Handoff any     `json:"handoff,omitempty"`
	}{From: from, To: to}
	if hn != nil {
		m.Handoff = hn.Structured
	}
	return json.Marshal(m)
}

// handoffFacts reads the facts of a locked deal's handoff note.
func (s *Store) handoffFacts(ctx context.Context, old crm.Deal, fromName *string, toName string) (HandoffFacts, error) {
	const op = "get handoff facts"
	now := s.clock()
	f := HandoffFacts{Now: now, Deal: old, FromName: fromName, ToName: toName}
	orgID, accountID := old.OrgID, old.AccountID
	if err := s.db.QueryRow(ctx, `SELECT name FROM accounts WHERE org_id = $1 AND id = $2`, orgID, accountID).
		Scan(&f.AccountName); err != nil {
		return f, interpretError(op, err)
	}
	o := BriefOptions{Today: now, ActionItems: handoffLoad}.withDefaults(now)
	var bf BriefFacts
	if err := s.briefActionItems(ctx, orgID, accountID, o, &bf); err != nil {
		return f, err
	}
	if err := s.briefMeetings(ctx, orgID, accountID, o.Meetings, &bf); err != nil {
		return f, err
	}
	f.OpenActionItems, f.OpenTotal, f.OpenOverdue, f.Meetings = bf.OpenActionItems, bf.OpenTotal, bf.OpenOverdue, bf.Meetings
	if err := s.handoffWeek(ctx, orgID, accountID, now, &f); err != nil {
		return f, err
	}
	if err := s.handoffNextSteps(ctx, orgID, accountID, &f); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Store) handoffWeek(ctx context.Context, orgID, accountID string, now time.Time, f *HandoffFacts) error {
	const op = "get handoff week"
	rows, err := s.db.Query(ctx, `
		SELECT `+briefRefColumns("x")+`, x.disposition, dc.label, u.name,
		       COALESCE((SELECT array_agg(c.name ORDER BY c.name, c.id) FROM activity_contacts ac
		                 JOIN contacts c ON c.org_id = ac.org_id AND c.id = ac.contact_id
		                 WHERE ac.org_id = x.org_id AND ac.activity_id = x.id), '{}'),
		       count(*) OVER ()
		FROM activities x
		LEFT JOIN users u ON u.org_id = x.org_id AND u.id = x.owner_id
		LEFT JOIN dispositions dc ON dc.org_id = x.org_id AND dc.code = x.disposition
		WHERE x.org_id = $1 AND x.account_id = $2 AND x.occurred_at >= $3 AND x.occurred_at <= $4
		ORDER BY x.occurred_at DESC, x.id DESC
		LIMIT $5`, orgID, accountID, now.Add(-HandoffWeek), now, handoffLoad)
	if err != nil {
		return interpretError(op, err)
	}
	f.Week, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (HandoffActivity, error) {
		var (
			ha  HandoffActivity
			ref briefRefScan
		)
		targets := append(ref.targets(), &ha.Disposition, &ha.DispositionLabel, &ha.OwnerName, &ha.Contacts, &f.WeekTotal)
		if err := r.Scan(targets...); err != nil {
			return ha, err
		}
		if a := ref.ref(); a != nil {
			ha.Ref = *a
		}
		return ha, nil
	})
	return interpretError(op, err)
}

func (s *Store) handoffNextSteps(ctx context.Context, orgID, accountID string, f *HandoffFacts) error {
	const op = "get handoff next steps"
	rows, err := s.db.Query(ctx, `
		SELECT `+briefRefColumns("x")+`, x.next_step_text, x.next_step_due, u.name, count(*) OVER ()
		FROM activities x
		LEFT JOIN users u ON u.org_id = x.org_id AND u.id = x.owner_id
		WHERE x.org_id = $1 AND x.account_id = $2 AND btrim(COALESCE(x.next_step_text, '')) <> ''
		      AND x.next_step_done_at IS NULL
		ORDER BY x.next_step_due NULLS LAST, x.occurred_at DESC, x.id DESC
		LIMIT $3`, orgID, accountID, handoffLoad)
	if err != nil {
		return interpretError(op, err)
	}
	f.NextSteps, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (HandoffNextStep, error) {
		var (
			ns  HandoffNextStep
			ref briefRefScan
			due *time.Time
		)
		if err := r.Scan(append(ref.targets(), &ns.Text, &due, &ns.OwnerName, &f.NextStepsTotal)...); err != nil {
			return ns, err
		}
		if a := ref.ref(); a != nil {
			ns.Ref = *a
		}
		if due != nil {
			ns.Due = &crm.Date{Time: *due}
		}
		return ns, nil
	})
	return interpretError(op, err)
}
