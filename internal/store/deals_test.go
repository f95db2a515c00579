package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestDeal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		tx           pgx.Tx
		store        *store.Store
		orgID        string
		accountID    string
		dana, lee    crm.User // users of orgID
		other        string   // a second org
		otherAccount string   // an account of the second org
		otherUser    crm.User // a user of the second org
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.Tx(t)
		s := store.New(tx)
		org, err := s.OrgCreate(ctx, "Org A")
		require.NoError(t, err)
		other, err := s.OrgCreate(ctx, "Org B")
		require.NoError(t, err)
		a, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
		require.NoError(t, err)
		oa, err := s.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("Globex")})
		require.NoError(t, err)
		user := func(orgID, email, name string) crm.User {
			u, err := s.UserCreate(ctx, orgID, crm.UserInput{Email: crm.Some(email), Name: crm.Some(name)})
			require.NoError(t, err)
			return u
		}
		return &testBundle{
			tx: tx, store: s, orgID: org.ID, accountID: a.ID,
			dana: user(org.ID, "dana@seller.test", "Dana Lee"), lee: user(org.ID, "lee@seller.test", "Lee Park"),
			other: other.ID, otherAccount: oa.ID, otherUser: user(other.ID, "olga@other.test", "Olga"),
		}
	}

	// input validates in as the API would, which parses amount and
	// close_date into AmountValue and CloseDateValue.
	input := func(t *testing.T, create bool, in crm.DealInput) crm.DealInput {
		t.Helper()
		require.NoError(t, in.Validate(create))
		return in
	}

	create := func(t *testing.T, b *testBundle, in crm.DealInput) crm.Deal {
		t.Helper()
		if !in.AccountID.Set {
			in.AccountID = crm.Some(b.accountID)
		}
		if !in.Name.Set {
			in.Name = crm.Some("Acme renewal")
		}
		d, err := b.store.DealCreate(ctx, b.orgID, input(t, true, in))
		require.NoError(t, err)
		return d
	}

	requireInvalidField := func(t *testing.T, err error, field string) {
		t.Helper()
		require.ErrorIs(t, err, crm.ErrInvalid)
		var ve *crm.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		require.Len(t, ve.Fields, 1)
		require.Equal(t, field, ve.Fields[0].Field)
	}

	null := crm.Opt[string]{Set: true, Null: true}

	t.Run("CreateAmountReadsBackTrimmed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, tc := range []struct{ in, want string }{
			{"1200.5", "1200.5"},
			{"1200.5000", "1200.5"},
			{"1200.0000", "1200"},
			{"1200", "1200"},
			{"0", "0"},
			{"0.0001", "0.0001"},
			{"9999999999999999.9999", "9999999999999999.9999"},
			{"1e3", "1000"},
		} {
			d := create(t, b, crm.DealInput{Amount: crm.Some(json.Number(tc.in))})
			require.NotNil(t, d.Amount, tc.in)
			require.Equal(t, crm.Decimal(tc.want), *d.Amount, tc.in)
			got, err := b.store.DealGet(ctx, b.orgID, d.ID)
			require.NoError(t, err)
			require.Equal(t, crm.Decimal(tc.want), *got.Amount, tc.in)
		}
	})

	t.Run("CreateDefaultsAndFields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bare := create(t, b, crm.DealInput{})
		require.Equal(t, crm.DealOpen, bare.Status)
		require.Nil(t, bare.Amount)
		require.Nil(t, bare.CloseDate)
		require.Nil(t, bare.OwnerID)
		require.Nil(t, bare.Stage)
		require.Nil(t, bare.Currency)
		require.Equal(t, b.accountID, bare.AccountID)
		require.Equal(t, b.orgID, bare.OrgID)

		full := create(t, b, crm.DealInput{
			Name: crm.Some("Big one"), Stage: crm.Some("negotiation"), Amount: crm.Some(json.Number("50000.25")),
			Currency: crm.Some("EUR"), CloseDate: crm.Some("2026-06-30"), OwnerID: crm.Some(b.dana.ID),
			Status: crm.Some(crm.DealWon),
		})
		require.Equal(t, "Big one", full.Name)
		require.Equal(t, "negotiation", *full.Stage)
		require.Equal(t, crm.Decimal("50000.25"), *full.Amount)
		require.Equal(t, "EUR", *full.Currency)
		require.Equal(t, "2026-06-30", full.CloseDate.String())
		require.Equal(t, b.dana.ID, *full.OwnerID)
		require.Equal(t, crm.DealWon, full.Status)

		got, err := b.store.DealGet(ctx, b.orgID, full.ID)
		require.NoError(t, err)
		require.Equal(t, full, got)
	})

	t.Run("CreateWithOtherOrgsRecordsIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.store.DealCreate(ctx, b.orgID, input(t, true, crm.DealInput{AccountID: crm.Some(b.otherAccount), Name: crm.Some("X")}))
		requireInvalidField(t, err, "account_id")
		_, err = b.store.DealCreate(ctx, b.orgID, input(t, true, crm.DealInput{AccountID: crm.Some(b.accountID), Name: crm.Some("X"), OwnerID: crm.Some(b.otherUser.ID)}))
		requireInvalidField(t, err, "owner_id")
		// The failed inserts ran in savepoints: the store goes on working.
		create(t, b, crm.DealInput{})
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{})
		require.ErrorIs(t, b.store.DealDelete(ctx, b.other, d.ID), crm.ErrNotFound)
		require.NoError(t, b.store.DealDelete(ctx, b.orgID, d.ID))
		require.ErrorIs(t, b.store.DealDelete(ctx, b.orgID, d.ID), crm.ErrNotFound)
		_, err := b.store.DealGet(ctx, b.orgID, d.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("DeleteKeepsHandoffUnlinked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{})
		_, act, _, err := b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: b.lee.ID}, nil)
		require.NoError(t, err)
		require.NoError(t, b.store.DealDelete(ctx, b.orgID, d.ID))
		var dealID *string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT deal_id::text FROM activities WHERE org_id = $1 AND id = $2`, b.orgID, act.ID).Scan(&dealID))
		require.Nil(t, dealID)
	})

	t.Run("GetOtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{})
		_, err := b.store.DealGet(ctx, b.other, d.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		second, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Initech")})
		require.NoError(t, err)
		for i := range 5 {
			create(t, b, crm.DealInput{Name: crm.Some(fmt.Sprintf("Deal %d", i)), Stage: crm.Some("discovery")})
		}
		won := create(t, b, crm.DealInput{AccountID: crm.Some(second.ID), OwnerID: crm.Some(b.lee.ID), Status: crm.Some(crm.DealWon), Stage: crm.Some("closed")})
		_, err = b.store.DealCreate(ctx, b.other, input(t, true, crm.DealInput{AccountID: crm.Some(b.otherAccount), Name: crm.Some("Other")}))
		require.NoError(t, err)

		seen := map[string]bool{}
		cursor := ""
		for range 10 {
			page, err := b.store.DealList(ctx, b.orgID, store.DealFilter{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, d := range page.Items {
				require.False(t, seen[d.ID], "deal listed twice")
				seen[d.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 6)

		for _, f := range []store.DealFilter{
			{AccountID: second.ID},
			{OwnerID: b.lee.ID},
			{Status: crm.DealWon},
			{Stage: "closed"},
			{AccountID: second.ID, OwnerID: b.lee.ID, Status: crm.DealWon, Stage: "closed"},
		} {
			page, err := b.store.DealList(ctx, b.orgID, f)
			require.NoError(t, err)
			require.Equal(t, []crm.Deal{won}, page.Items, "%+v", f)
		}
		open, err := b.store.DealList(ctx, b.orgID, store.DealFilter{Status: crm.DealOpen, Stage: "discovery"})
		require.NoError(t, err)
		require.Len(t, open.Items, 5)
		none, err := b.store.DealList(ctx, b.orgID, store.DealFilter{Status: crm.DealLost})
		require.NoError(t, err)
		require.NotNil(t, none.Items)
		require.Empty(t, none.Items)

		_, err = b.store.DealList(ctx, b.orgID, store.DealFilter{Cursor: "garbage!"})
		require.ErrorIs(t, err, crm.ErrInvalid)
	})

	t.Run("Reassign", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{Name: crm.Some("Acme renewal"), OwnerID: crm.Some(b.dana.ID), Amount: crm.Some(json.Number("10.5"))})
		before := time.Now()
		got, act, _, err := b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: b.lee.ID, Note: "Dana is on leave"}, nil)
		require.NoError(t, err)
		require.Equal(t, b.lee.ID, *got.OwnerID)
		require.Equal(t, d.Name, got.Name)
		require.Equal(t, crm.Decimal("10.5"), *got.Amount)

		require.True(t, crm.ValidID(act.ID))
		require.Equal(t, crm.ActivityHandoff, act.Type)
		require.Equal(t, crm.DirectionInternal, *act.Direction)
		require.Equal(t, b.accountID, act.AccountID)
		require.Equal(t, d.ID, *act.DealID)
		require.Equal(t, b.lee.ID, *act.OwnerID)
		require.Equal(t, "Deal Acme renewal reassigned from Dana Lee to Lee Park", *act.Subject)
		require.Equal(t, "Dana is on leave", *act.Body)
		require.Equal(t, crm.SourceAPI, act.Source)
		require.WithinDuration(t, before, act.OccurredAt, time.Minute)
		require.JSONEq(t, fmt.Sprintf(`{"from_owner_id":%q,"to_owner_id":%q}`, b.dana.ID, b.lee.ID), string(act.Metadata))

		stored, err := b.store.DealGet(ctx, b.orgID, d.ID)
		require.NoError(t, err)
		require.Equal(t, b.lee.ID, *stored.OwnerID)

		// Exactly one activity, and it is what the method returned.
		n, err := b.store.DealHandoffCount(ctx, b.orgID, d.ID)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		var (
			typ, dir, source, subject, body, accountID, dealID, ownerID string
			meta                                                        map[string]any
			occurred                                                    time.Time
			total                                                       int
		)
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM activities WHERE org_id = $1`, b.orgID).Scan(&total))
		require.Equal(t, 1, total)
		require.NoError(t, b.tx.QueryRow(ctx, `
			SELECT type, direction, source, subject, body, account_id::text, deal_id::text, owner_id::text, metadata, occurred_at
			FROM activities WHERE org_id = $1 AND id = $2`, b.orgID, act.ID).
			Scan(&typ, &dir, &source, &subject, &body, &accountID, &dealID, &ownerID, &meta, &occurred))
		require.Equal(t, "handoff", typ)
		require.Equal(t, "internal", dir)
		require.Equal(t, "api", source)
		require.Equal(t, *act.Subject, subject)
		require.Equal(t, "Dana is on leave", body)
		require.Equal(t, b.accountID, accountID)
		require.Equal(t, d.ID, dealID)
		require.Equal(t, b.lee.ID, ownerID)
		require.Equal(t, map[string]any{"from_owner_id": b.dana.ID, "to_owner_id": b.lee.ID}, meta)
		require.True(t, act.OccurredAt.Equal(occurred))

		// And back again: a second handoff.
		_, act2, _, err := b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: b.dana.ID}, nil)
		require.NoError(t, err)
		require.Equal(t, "Deal Acme renewal reassigned from Lee Park to Dana Lee", *act2.Subject)
		n, err = b.store.DealHandoffCount(ctx, b.orgID, d.ID)
		require.NoError(t, err)
		require.Equal(t, 2, n)
	})

	t.Run("ReassignErrorsChangeNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{OwnerID: crm.Some(b.dana.ID)})

		_, _, _, err := b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: b.dana.ID}, nil)
		requireInvalidField(t, err, "owner_id")
		require.Contains(t, err.Error(), "already owns this deal")
		_, _, _, err = b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: b.otherUser.ID}, nil)
		requireInvalidField(t, err, "owner_id")
		_, _, _, err = b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: store.NewID()}, nil)
		requireInvalidField(t, err, "owner_id")
		_, _, _, err = b.store.DealReassign(ctx, b.other, d.ID, crm.ReassignInput{OwnerID: b.otherUser.ID}, nil)
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, _, _, err = b.store.DealReassign(ctx, b.orgID, store.NewID(), crm.ReassignInput{OwnerID: b.lee.ID}, nil)
		require.ErrorIs(t, err, crm.ErrNotFound)

		got, err := b.store.DealGet(ctx, b.orgID, d.ID)
		require.NoError(t, err)
		require.Equal(t, d, got)
		n, err := b.store.DealHandoffCount(ctx, b.orgID, d.ID)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("ReassignUnassignedDealWithoutNote", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{Name: crm.Some("Acme pilot")})
		got, act, _, err := b.store.DealReassign(ctx, b.orgID, d.ID, crm.ReassignInput{OwnerID: b.lee.ID, Note: "  "}, nil)
		require.NoError(t, err)
		require.Equal(t, b.lee.ID, *got.OwnerID)
		require.Equal(t, "Deal Acme pilot reassigned from unassigned to Lee Park", *act.Subject)
		require.Nil(t, act.Body)
		require.JSONEq(t, fmt.Sprintf(`{"from_owner_id":null,"to_owner_id":%q}`, b.lee.ID), string(act.Metadata))
		var body *string
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT body FROM activities WHERE org_id = $1 AND id = $2`, b.orgID, act.ID).Scan(&body))
		require.Nil(t, body)
	})

	t.Run("UpdateNullClearsAbsentKeeps", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{
			Stage: crm.Some("discovery"), Amount: crm.Some(json.Number("100")), Currency: crm.Some("USD"),
			CloseDate: crm.Some("2026-01-31"), OwnerID: crm.Some(b.dana.ID),
		})
		got, err := b.store.DealUpdate(ctx, b.orgID, d.ID, input(t, false, crm.DealInput{
			Amount: crm.Opt[json.Number]{Set: true, Null: true}, CloseDate: null, Stage: crm.Some("proposal"),
		}))
		require.NoError(t, err)
		require.Nil(t, got.Amount)
		require.Nil(t, got.CloseDate)
		require.Equal(t, "proposal", *got.Stage)
		require.Equal(t, "USD", *got.Currency)
		require.Equal(t, b.dana.ID, *got.OwnerID)
		require.Equal(t, d.Name, got.Name)
		require.Equal(t, crm.DealOpen, got.Status)

		got, err = b.store.DealUpdate(ctx, b.orgID, d.ID, input(t, false, crm.DealInput{
			Amount: crm.Some(json.Number("99.9900")), CloseDate: crm.Some("2026-02-28"), OwnerID: null,
			Status: crm.Some(crm.DealLost), Name: crm.Some("Renamed"), Currency: null, Stage: null,
		}))
		require.NoError(t, err)
		require.Equal(t, crm.Decimal("99.99"), *got.Amount)
		require.Equal(t, "2026-02-28", got.CloseDate.String())
		require.Nil(t, got.OwnerID)
		require.Nil(t, got.Currency)
		require.Nil(t, got.Stage)
		require.Equal(t, crm.DealLost, got.Status)
		require.Equal(t, "Renamed", got.Name)
	})

	t.Run("UpdateErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := create(t, b, crm.DealInput{})
		_, err := b.store.DealUpdate(ctx, b.orgID, d.ID, input(t, false, crm.DealInput{AccountID: crm.Some(b.otherAccount)}))
		requireInvalidField(t, err, "account_id")
		_, err = b.store.DealUpdate(ctx, b.orgID, d.ID, input(t, false, crm.DealInput{OwnerID: crm.Some(b.otherUser.ID)}))
		requireInvalidField(t, err, "owner_id")
		_, err = b.store.DealUpdate(ctx, b.other, d.ID, input(t, false, crm.DealInput{Name: crm.Some("X")}))
		require.ErrorIs(t, err, crm.ErrNotFound)
		got, err := b.store.DealGet(ctx, b.orgID, d.ID)
		require.NoError(t, err)
		require.Equal(t, d, got)
	})
}
