package activity

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// Service writes activities by the rules of package activity. It is safe for
// concurrent use.
type Service struct {
	store *store.Store
}

// New returns a Service writing through st.
func New(st *store.Store) *Service { return &Service{store: st} }

// Upsert validates a create input (Validate(true)), applies the org's
// disposition rules, resolves the account and contacts (see resolve) and
// stores the activity. With an external_id it is idempotent per (source,
// external_id): the same content again is store.UpsertUnchanged (the stored
// activity is returned as is), other content is store.UpsertUpdated. Source
// defaults to api. Problems are a *crm.ValidationError naming the fields,
// including a missing account, deal or owner.
//
// A created activity also gets, in the same statement, a pending
// activity.created delivery for every webhook of the org subscribed to it
// (an outbox); the third result lists their IDs, for the caller to enqueue
// after commit. An update or an unchanged re-post writes none.
//
// An activity with account_id and no contacts or participants to resolve
// costs one statement (its disposition, if any, checked inside it).
func (s *Service) Upsert(ctx context.Context, orgID string, in crm.ActivityInput) (crm.Activity, store.UpsertResult, []string, error) {
	return upsert(ctx, s.store, orgID, in)
}

// upsert is Upsert on st, which may be a transaction's Store.
func upsert(ctx context.Context, st *store.Store, orgID string, in crm.ActivityInput) (crm.Activity, store.UpsertResult, []string, error) {
	if err := in.Validate(true); err != nil {
		return crm.Activity{}, "", nil, err
	}
	var q store.ActivityRefsQuery
	addRefs(&q, &in)
	// When the settings are all the lookup would fetch, the INSERT checks
	// them instead.
	guard := q.Settings && len(q.ContactIDs) == 0 && len(q.Emails) == 0
	if guard {
		q.Settings = false
	}
	lk, err := st.ActivityRefs(ctx, orgID, q)
	if err != nil {
		return crm.Activity{}, "", nil, err
	}
	var p crm.Problems
	if !guard {
		p.Merge("", crm.CheckDisposition(lk.Settings, in.Type.V, in.Direction.Ptr(), in.Disposition.Ptr()))
	}
	account, links := resolve(&lk, &in, &p)
	row := newRow(0, &in, account, links)
	if p.Len() > 0 {
		// Name a missing account, deal or owner in the same answer.
		if missing, err := st.ActivityMissingRefs(ctx, orgID, []store.ActivityRow{row}); err == nil {
			for _, f := range missing[0] {
				p.Add(f, "does not exist")
			}
		}
		return crm.Activity{}, "", nil, p.Err()
	}
	a, res, deliveries, err := st.ActivityWrite(ctx, orgID, &row, guard)
	if errors.Is(err, store.ErrGuardRefused) {
		// The settings refused the disposition, or the row is an unchanged
		// re-post: check the settings here, then write unguarded (which
		// tells unchanged from created).
		settings, serr := st.ActivityRefs(ctx, orgID, store.ActivityRefsQuery{Settings: true})
		if serr != nil {
			return crm.Activity{}, "", nil, serr
		}
		if derr := crm.CheckDisposition(settings.Settings, row.Type, row.Direction, row.Disposition); derr != nil {
			return crm.Activity{}, "", nil, derr
		}
		a, res, deliveries, err = st.ActivityWrite(ctx, orgID, &row, false)
	}
	if err != nil {
		return crm.Activity{}, "", nil, missingAsProblems(err, func(int) string { return "" })
	}
	return a, res, deliveries, nil
}

// missingAsProblems turns a *store.MissingRefsError into a
// *crm.ValidationError ("<prefix(item)>account_id: does not exist"); any
// other error is returned as is.
func missingAsProblems(err error, prefix func(item int) string) error {
	var me *store.MissingRefsError
	if !errors.As(err, &me) {
		return err
	}
	var p crm.Problems
	for _, item := range slices.Sorted(maps.Keys(me.Items)) { // input order, every time
		for _, f := range me.Items[item] {
			p.Add(prefix(item)+f, "does not exist")
		}
	}
	return p.Err()
}

// UpsertBatch stores up to crm.MaxBatch activities, all or nothing, with
// Upsert's rules for each (the activity.created outbox included: each
// created item's DeliveryIDs). Problems of every item are reported together
// in one *crm.ValidationError whose fields are prefixed "activities[i].".
// Two items with the same source and external_id are one activity when their
// content is the same (the second is reported unchanged) and a problem on the
// second's external_id otherwise. The result lists what happened to each
// item, in input order.
func (s *Service) UpsertBatch(ctx context.Context, orgID string, ins []crm.ActivityInput) ([]store.ActivityUpserted, error) {
	if len(ins) == 0 || len(ins) > crm.MaxBatch {
		return nil, crm.Invalid("activities", "must list from 1 to %d activities (got %d)", crm.MaxBatch, len(ins))
	}
	prefix := func(i int) string { return "activities[" + strconv.Itoa(i) + "]." }
	itemErrs := make([]crm.Problems, len(ins))
	var q store.ActivityRefsQuery
	for i := range ins {
		itemErrs[i].Merge("", ins[i].Validate(true))
		if itemErrs[i].Len() == 0 {
			addRefs(&q, &ins[i])
		}
	}
	lk, err := s.store.ActivityRefs(ctx, orgID, q)
	if err != nil {
		return nil, err
	}
	type key struct{ source, externalID string }
	rows := make([]store.ActivityRow, 0, len(ins))
	firstByKey := map[key]int{} // index into rows
	dupOf := map[int]int{}      // item → the earlier item it repeats
	for i := range ins {
		in, p := &ins[i], &itemErrs[i]
		if p.Len() > 0 {
			continue
		}
		p.Merge("", crm.CheckDisposition(lk.Settings, in.Type.V, in.Direction.Ptr(), in.Disposition.Ptr()))
		account, links := resolve(&lk, in, p)
		if p.Len() > 0 {
			continue
		}
		row := newRow(i, in, account, links)
		if row.ExternalID != nil {
			k := key{string(row.Source), *row.ExternalID}
			if j, seen := firstByKey[k]; seen {
				if !rows[j].SameContent(&row) {
					p.Add("external_id", "repeats activities[%d]'s source and external_id with different content", rows[j].Item)
					continue
				}
				dupOf[i] = rows[j].Item
				continue
			}
			firstByKey[k] = len(rows)
		}
		rows = append(rows, row)
	}
	for i := range itemErrs {
		if itemErrs[i].Len() == 0 {
			continue
		}
		// Merge the item problems in input order, adding the missing
		// references of the rows that got this far.
		if missing, err := s.store.ActivityMissingRefs(ctx, orgID, rows); err == nil {
			for item, fields := range missing {
				for _, f := range fields {
					itemErrs[item].Add(f, "does not exist")
				}
			}
		}
		var all crm.Problems
		for i := range itemErrs {
			all.Merge(prefix(i), itemErrs[i].Err())
		}
		return nil, all.Err()
	}
	out, err := s.store.ActivityWriteBatch(ctx, orgID, rows, len(ins))
	if err != nil {
		return nil, missingAsProblems(err, prefix)
	}
	for i, j := range dupOf {
		out[i] = store.ActivityUpserted{ID: out[j].ID, ExternalID: out[j].ExternalID, Result: store.UpsertUnchanged}
	}
	return out, nil
}

// Update applies the set fields of a PATCH (validated with Validate(false))
// and returns the result. The org's disposition rules are checked against
// the resulting type and direction; a new account_id must be the org's. When
// contact_ids, participants or account_id is set, the links are recomputed:
// the contacts named in contact_ids (or, when it is absent, the current
// links) plus those whose email matches a participant, limited to the
// activity's account; a contact_id that is not a contact of the org is a
// problem. The content hash and updated_at are refreshed.
func (s *Service) Update(ctx context.Context, orgID, id string, in crm.ActivityInput) (crm.Activity, error) {
	if err := in.Validate(false); err != nil {
		return crm.Activity{}, err
	}
	err := s.store.WithTx(ctx, func(tx *store.Store) error {
		cur, err := tx.ActivityGetForUpdate(ctx, orgID, id)
		if err != nil {
			return err
		}
		row := patchedRow(cur, &in)
		relink := in.ContactIDs.Set || in.Participants.Set || in.AccountID.Set
		base := cur.ContactIDs
		if in.ContactIDs.Set {
			base = ptrSlice(in.ContactIDs.Ptr())
		}
		q := store.ActivityRefsQuery{Settings: needsSettings(row.Type, row.Direction, row.Disposition)}
		if relink {
			for _, c := range base {
				q.ContactIDs = append(q.ContactIDs, strings.ToLower(c))
			}
			for _, pt := range row.Participants {
				if pt.Email != "" {
					q.Emails = append(q.Emails, pt.Email)
				}
			}
		}
		lk, err := tx.ActivityRefs(ctx, orgID, q)
		if err != nil {
			return err
		}
		var p crm.Problems
		st := lk.Settings
		if row.Disposition != nil && cur.Disposition != nil && *row.Disposition == *cur.Disposition {
			// The code the activity already carries stays valid on it
			// even after the org retired it: editing an old call must
			// not force a new code on it.
			st.Dispositions = append(slices.Clone(st.Dispositions), *row.Disposition)
		}
		p.Merge("", crm.CheckDisposition(st, row.Type, row.Direction, row.Disposition))
		if relink {
			var named []store.ContactRef
			if in.ContactIDs.Set {
				named = namedContacts(&lk, base, &p)
			} else {
				for _, c := range base {
					if ref, ok := lk.ContactsByID[c]; ok {
						named = append(named, ref)
					}
				}
			}
			row.ContactIDs = linkable(row.AccountID, named, matchedContacts(&lk, row.Participants))
		}
		if err := p.Err(); err != nil {
			return err
		}
		row.Finish()
		return tx.ActivityReplace(ctx, orgID, &row, cur, relink)
	})
	if err != nil {
		return crm.Activity{}, err
	}
	return s.store.ActivityGet(ctx, orgID, id)
}
