package retrievalbench

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"logbook/internal/store"
)

// stmt is a statement the store sent: its SQL and arguments.
type stmt struct {
	sql  string
	args []any
}

// recorder is a store.DBTX that runs every statement on db and records
// the ones sent with Exec, Query and QueryRow (in transactions too). The
// bench measures the product through its exported methods; a Store on a
// recorder shows it the statements those methods send, which it explains
// and replays instead of holding copies of the store's SQL. Timed paths
// run on a plain Store: recording is never measured.
type recorder struct {
	db    store.DBTX
	mu    sync.Mutex
	stmts []stmt
}

func newRecorder(db store.DBTX) *recorder { return &recorder{db: db} }

func (r *recorder) add(sql string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = append(r.stmts, stmt{sql, slices.Clone(args)})
}

// take returns the statements recorded since the last take.
func (r *recorder) take() []stmt {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

func (r *recorder) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.add(sql, args)
	return r.db.Exec(ctx, sql, args...)
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.add(sql, args)
	return r.db.Query(ctx, sql, args...)
}

func (r *recorder) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	r.add(sql, args)
	return r.db.QueryRow(ctx, sql, args...)
}

func (r *recorder) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return recordedTx{tx, r}, nil
}

func (r *recorder) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return r.db.CopyFrom(ctx, table, columns, src)
}

func (r *recorder) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return r.db.SendBatch(ctx, b)
}

// recordedTx is a transaction begun on a recorder: its statements are
// recorded too.
type recordedTx struct {
	pgx.Tx
	r *recorder
}

func (t recordedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	t.r.add(sql, args)
	return t.Tx.Exec(ctx, sql, args...)
}

func (t recordedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	t.r.add(sql, args)
	return t.Tx.Query(ctx, sql, args...)
}

func (t recordedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	t.r.add(sql, args)
	return t.Tx.QueryRow(ctx, sql, args...)
}

// stmtDiff is how one statement of the store differs from another of the
// same shape: the argument positions that differ and their values in the
// other.
type stmtDiff struct {
	sql  string
	args map[int]any
}

// diffStmts returns how b differs from a, which must have as many
// arguments.
func diffStmts(a, b stmt) (stmtDiff, error) {
	if len(a.args) != len(b.args) {
		return stmtDiff{}, fmt.Errorf("the statements have %d and %d arguments", len(a.args), len(b.args))
	}
	d := stmtDiff{sql: b.sql, args: map[int]any{}}
	for i := range a.args {
		if !reflect.DeepEqual(a.args[i], b.args[i]) {
			d.args[i] = b.args[i]
		}
	}
	return d, nil
}

// apply turns s, a statement of the same shape as the diff's first one,
// into the matching form of its second.
func (d stmtDiff) apply(s stmt) (stmt, error) {
	out := stmt{sql: d.sql, args: slices.Clone(s.args)}
	for i, v := range d.args {
		if i >= len(out.args) {
			return stmt{}, fmt.Errorf("argument $%d of %d", i+1, len(out.args))
		}
		out.args[i] = v
	}
	return out, nil
}
