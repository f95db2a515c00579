package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"logbook/internal/testdb"
	"logbook/migrations"
)

// TestDispositionsMigration: 00014 turns each org's settings.dispositions
// into rows of dispositions, in order, labelled, with the default connect
// rule, and keeps a code that only history still carries as retired; Down
// gives the list back.
func TestDispositionsMigration(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Schema(t)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	_, err := migrations.DownTo(ctx, db, 13, migrations.Options{})
	require.NoError(t, err)
	const org = "0190f1e2-0000-7000-8000-000000000001"
	const acct = "0190f1e2-0000-7000-8000-000000000002"
	for _, q := range []string{
		`INSERT INTO orgs (id, name) VALUES ('` + org + `', 'Org')`,
		`INSERT INTO settings (org_id, dispositions) VALUES ('` + org + `', ARRAY['no_answer', 'connected', 'left_message'])`,
		`INSERT INTO accounts (org_id, id, name) VALUES ('` + org + `', '` + acct + `', 'Acme')`,
		`INSERT INTO activities (org_id, id, type, direction, account_id, occurred_at, disposition, source)
		 VALUES ('` + org + `', '0190f1e2-0000-7000-8000-000000000003', 'call', 'outbound', '` + acct + `', now(), 'meeting_booked', 'api'),
		        ('` + org + `', '0190f1e2-0000-7000-8000-000000000004', 'call', 'outbound', '` + acct + `', now(), 'connected', 'api')`,
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	_, err = migrations.Up(ctx, db, migrations.Options{})
	require.NoError(t, err)

	rows, err := db.QueryContext(ctx, `SELECT code, label, connect, retired_at IS NOT NULL FROM dispositions
		WHERE org_id = $1 ORDER BY retired_at IS NOT NULL, position`, org)
	require.NoError(t, err)
	type row struct {
		code, label      string
		connect, retired bool
	}
	var got []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.code, &r.label, &r.connect, &r.retired))
		got = append(got, r)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []row{
		{"no_answer", "No answer", false, false},
		{"connected", "Connected", true, false},
		{"left_message", "Left message", false, false},
		{"meeting_booked", "Meeting booked", true, true},
	}, got)

	_, err = migrations.DownTo(ctx, db, 13, migrations.Options{})
	require.NoError(t, err)
	var list []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT dispositions FROM settings WHERE org_id = $1`, org).Scan(&list))
	require.Equal(t, []string{"no_answer", "connected", "left_message"}, list)
}
