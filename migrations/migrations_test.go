package migrations_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"logbook/internal/testdb"
	"logbook/migrations"
)

// TestDownAndUpAgain rolls every migration back on a migrated schema and
// applies them again: each Down undoes its Up exactly enough for the Up to
// run a second time.
func TestDownAndUpAgain(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Schema(t)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	pending, err := migrations.Pending(ctx, db)
	require.NoError(t, err)
	require.Zero(t, pending)
	down, err := migrations.DownTo(ctx, db, 0, migrations.Options{})
	require.NoError(t, err)
	require.Positive(t, down)
	pending, err = migrations.Pending(ctx, db)
	require.NoError(t, err)
	require.Equal(t, down, pending)
	require.Zero(t, tables(t, db), "Down leaves no table but goose's own")

	up, err := migrations.Up(ctx, db, migrations.Options{})
	require.NoError(t, err)
	require.Equal(t, down, up)
}

func tables(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM pg_tables
		WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`).Scan(&n))
	return n
}
