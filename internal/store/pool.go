package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"logbook/internal/crm"
)

// PoolConfig tunes Connect. Zero values keep pgx's defaults (no statement
// timeout, no connect timeout) so that tools such as migrate, whose
// statements may run long, are not cut short; the serving roles pass the
// configured values.
type PoolConfig struct {
	// MaxConns caps the pool; zero keeps pgxpool's default (max(4, NumCPU)).
	MaxConns int32
	// MinConns is how many connections the pool keeps open while idle.
	MinConns int32
	// ConnectTimeout bounds dialling and the startup handshake of one
	// connection, unless the URL sets connect_timeout itself.
	ConnectTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout on every
	// connection: a statement running longer is cancelled by the server
	// (SQLSTATE 57014, which ErrUnavailable classifies).
	StatementTimeout time.Duration
	// SearchPath, when set, is the search_path of every connection (tests
	// use it to run in a private schema).
	SearchPath string
}

// Connect opens a pool on url and registers pgvector's types on every
// connection. It pings once so a wrong URL fails here, not on first use.
// Acquiring a connection is bounded by the caller's context (pgxpool waits
// for a free connection only as long as the context lives).
func Connect(ctx context.Context, url string, pc PoolConfig) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	if pc.MaxConns > 0 {
		cfg.MaxConns = pc.MaxConns
	}
	if pc.MinConns > 0 {
		cfg.MinConns = min(pc.MinConns, cfg.MaxConns)
	}
	if pc.ConnectTimeout > 0 && cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = pc.ConnectTimeout
	}
	if pc.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(pc.StatementTimeout.Milliseconds(), 10)
	}
	if pc.SearchPath != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pc.SearchPath
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		registerClampedTimes(conn.TypeMap())
		// The vector type exists only once the extension is created; before
		// the first migration there is nothing to register.
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'vector')`).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return nil
		}
		return pgxvec.RegisterTypes(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: ping %s: %w", cfg.ConnConfig.Host, err)
	}
	return pool, nil
}

// registerClampedTimes makes every timestamptz and date read on a
// connection land within crm.TimeInRange: a value stored before the API
// refused such times (year 10000, say, which encoding/json cannot write),
// or PostgreSQL's ±infinity, reads as the nearest end of the range instead
// of breaking every read that touches its row.
func registerClampedTimes(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: clampedTimestamptzCodec{&pgtype.TimestamptzCodec{}}})
	m.RegisterType(&pgtype.Type{Name: "date", OID: pgtype.DateOID, Codec: clampedDateCodec{pgtype.DateCodec{}}})
}

// clampedTimestamptzCodec is pgx's timestamptz codec whose scans clamp.
type clampedTimestamptzCodec struct{ *pgtype.TimestamptzCodec }

func (c clampedTimestamptzCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(pgtype.TimestamptzScanner); !ok {
		return c.TimestamptzCodec.PlanScan(m, oid, format, target)
	}
	inner := c.TimestamptzCodec.PlanScan(m, oid, format, &clampTimestamptz{})
	if inner == nil {
		return nil
	}
	return clampPlan{inner: inner, wrap: func(dst any) any { return &clampTimestamptz{dst: dst.(pgtype.TimestamptzScanner)} }}
}

// clampedDateCodec is pgx's date codec whose scans clamp.
type clampedDateCodec struct{ pgtype.DateCodec }

func (c clampedDateCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(pgtype.DateScanner); !ok {
		return c.DateCodec.PlanScan(m, oid, format, target)
	}
	inner := c.DateCodec.PlanScan(m, oid, format, &clampDate{})
	if inner == nil {
		return nil
	}
	return clampPlan{inner: inner, wrap: func(dst any) any { return &clampDate{dst: dst.(pgtype.DateScanner)} }}
}

// clampPlan runs the codec's own plan into a clamping scanner in front of
// the real destination.
type clampPlan struct {
	inner pgtype.ScanPlan
	wrap  func(dst any) any
}

func (p clampPlan) Scan(src []byte, dst any) error { return p.inner.Scan(src, p.wrap(dst)) }

type clampTimestamptz struct{ dst pgtype.TimestamptzScanner }

func (c *clampTimestamptz) ScanTimestamptz(v pgtype.Timestamptz) error {
	if v.Valid {
		switch v.InfinityModifier {
		case pgtype.Infinity:
			v = pgtype.Timestamptz{Time: crm.ClampTime(time.Date(crm.MaxYear+1, 1, 1, 0, 0, 0, 0, time.UTC)), Valid: true}
		case pgtype.NegativeInfinity:
			v = pgtype.Timestamptz{Time: crm.ClampTime(time.Time{}), Valid: true}
		default:
			if !crm.TimeInRange(v.Time) {
				v.Time = crm.ClampTime(v.Time)
			}
		}
	}
	return c.dst.ScanTimestamptz(v)
}

type clampDate struct{ dst pgtype.DateScanner }

func (c *clampDate) ScanDate(v pgtype.Date) error {
	if v.Valid {
		switch v.InfinityModifier {
		case pgtype.Infinity:
			v = pgtype.Date{Time: time.Date(crm.MaxYear, 12, 31, 0, 0, 0, 0, time.UTC), Valid: true}
		case pgtype.NegativeInfinity:
			v = pgtype.Date{Time: time.Date(crm.MinYear, 1, 1, 0, 0, 0, 0, time.UTC), Valid: true}
		default:
			if !crm.TimeInRange(v.Time) {
				c := crm.ClampTime(v.Time)
				v.Time = time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)
			}
		}
	}
	return c.dst.ScanDate(v)
}
