package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"logbook/internal/crm"
)

// DBTX is what a Store runs statements on: a pool, a connection or a
// transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Store runs Logbook's SQL on a DBTX.
type Store struct {
	db DBTX

	// now is the clock every write stamps rows with (created_at,
	// updated_at, generated_at). New sets time.Now; tests set their own with
	// SetClock. It is never nil.
	now func() time.Time

	// hooks is a cost hint for single-activity writes (see hookOrgs),
	// shared by the Stores WithTx derives.
	hooks *hookOrgs
	// caches are the running KeyCaches built on this Store (or one it
	// derives from), which APIKeyRevoke tells at once.
	caches *keyCaches
}

// New returns a Store on db whose clock is the wall clock.
func New(db DBTX) *Store {
	return &Store{db: db, now: time.Now, hooks: &hookOrgs{}, caches: &keyCaches{}}
}

// SetClock makes s (and the Stores WithTx derives from it) read the time from
// now instead of the wall clock. It is for tests; call it before s is shared.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// clock returns the current time in UTC, truncated to PostgreSQL's
// microsecond precision so a value read back equals the value written.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// WithTx runs fn in a transaction (a savepoint when the Store already runs
// on one) and commits when fn returns nil, rolls back otherwise.
func (s *Store) WithTx(ctx context.Context, fn func(*Store) error) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		return fn(&Store{db: tx, now: s.now, hooks: s.hooks, caches: s.caches})
	})
}

// NewID returns a new UUIDv7: time-ordered, so fresh rows land at the right
// edge of the primary key index.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ErrUnavailable marks an error that says the database could not answer
// now (it is down, unreachable, frozen, out of connections, or a statement
// or request ran out of time), not that the request was wrong: the API
// answers 503 with Retry-After. Errors the Store returns wrap it; Classify
// finds it in errors from elsewhere (a pool, a KeyCache, a transaction).
var ErrUnavailable = errors.New("database unavailable")

// Classify returns err wrapped with ErrUnavailable when it is a connection
// failure, a timeout or the server refusing work for now, and err itself
// otherwise (nil stays nil). A context.Canceled (the caller gave up) is
// not unavailability and is returned as it is.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// unavailable reports whether err says the database cannot answer now.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources (too many connections, out of memory, disk full)
			return true
		case pe.Code == "57014", // query_canceled: statement_timeout
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, crash, cannot connect now
			pe.Code == "55P03", // lock_not_available (lock_timeout)
			pe.Code == "40P01": // deadlock_detected
			return true
		}
		return false
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// A pool closed under a request, or a connection pgx already knows is
	// dead ("conn closed", "conn busy" after a broken read).
	msg := err.Error()
	return strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "failed to connect") || strings.Contains(msg, "failed to deallocate")
}

// interpretError translates driver errors into crm errors. op names the
// operation for the message ("get account"). A database that cannot answer
// now wraps ErrUnavailable.
func interpretError(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("store: %s: %w: %w", op, ErrUnavailable, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("store: %s: %w", op, conflictError(pe))
		case "23503": // foreign_key_violation: a referenced row is not in this org
			field := fkField(pe)
			return fmt.Errorf("store: %s: %w", op, crm.Invalid(field, "does not exist"))
		case "22P02", "22001", "22021", "22007", "22008", "22003", "23514", "54000":
			// invalid text, too long, bad encoding, bad datetime, out of range,
			// check violation, value too large: the client's input.
			return fmt.Errorf("store: %s: %w", op, crm.Invalid("", "%s", pe.Message))
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// fkField turns a constraint named <table>_<field>_fk into the field name.
func fkField(pe *pgconn.PgError) string {
	c := strings.TrimSuffix(pe.ConstraintName, "_fk")
	return strings.TrimPrefix(c, pe.TableName+"_")
}

// conflictError describes a unique violation by its constraint.
func conflictError(pe *pgconn.PgError) *crm.ConflictError {
	switch pe.ConstraintName {
	case "users_email_key":
		return &crm.ConflictError{Field: "email", Detail: "a user with this email already exists"}
	case "contacts_email_key":
		return &crm.ConflictError{Field: "email", Detail: "a contact with this email already exists"}
	case "account_domains_pkey":
		return &crm.ConflictError{Field: "domains", Detail: "a domain is already claimed by another account"}
	case "activities_source_external_id_key":
		return &crm.ConflictError{Field: "external_id", Detail: "an activity with this source and external_id already exists"}
	}
	return &crm.ConflictError{Detail: pe.ConstraintName}
}

// execOne runs a statement that must touch exactly one row of the org.
func (s *Store) execOne(ctx context.Context, op, sql string, args ...any) error {
	tag, err := s.db.Exec(ctx, sql, args...)
	if err != nil {
		return interpretError(op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
	}
	return nil
}
