// Package app is the wiring the two commands share: it loads the
// configuration, connects to PostgreSQL and Redis, migrates, creates orgs,
// and builds and runs the API and the worker in process. cmd/logbook (the
// server, the worker, the demo) and cmd/logbook-bench (bench, eval, quality)
// both build Logbook through it, so the tools measure exactly what the
// server runs. It also holds their command-line plumbing (cli.go) and the
// small JSON client they use against the API (client.go).
//
// It is the only package besides cmd/... that imports internal/config.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"

	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/migrations"
)

// App holds what every long-running role shares.
type App struct {
	// Cfg is the configuration the App was opened with.
	Cfg config.Config
	// Log is the structured logger of every role.
	Log *slog.Logger
	// Pool is the PostgreSQL pool.
	Pool *pgxpool.Pool
	// Redis is the Redis client of the queue (nil until set).
	Redis *redis.Client
	// Version is what the API reports and the server logs; empty is
	// BuildVersion("").
	Version string
	// Revision is the VCS revision logbook_build_info reports; empty is
	// BuildRevision("").
	Revision string

	// metrics is what Metrics returns, made on its first call under
	// metricsMu (RunPrivate's worker and its caller may both ask).
	metricsMu sync.Mutex
	metrics   *Metrics
}

// Close closes the Redis client and the pool, whichever are set.
func (a *App) Close() {
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
}

// version is what the API reports: a.Version, or the build's.
func (a *App) version() string {
	if a.Version != "" {
		return a.Version
	}
	return BuildVersion("")
}

// BuildVersion is stamped when it is set (-ldflags "-X main.version=…");
// otherwise the module version or VCS revision from the build info, or "dev".
func BuildVersion(stamped string) string {
	if stamped != "" {
		return stamped
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}

// NewLogger returns the JSON logger of every role, writing to w.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Open loads the configuration, connects to PostgreSQL and Redis, and
// makes sure the schema is current: it migrates when RUN_MIGRATIONS=1 and
// otherwise refuses to start on pending migrations.
func Open(ctx context.Context, stderr io.Writer, getenv func(string) string) (*App, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, Log: NewLogger(stderr, cfg.LogLevel)}
	a.Pool, err = store.Connect(ctx, cfg.DatabaseURL, store.PoolConfig{
		MaxConns: int32(cfg.DBMaxConns), MinConns: int32(cfg.DBMinConns),
		ConnectTimeout: cfg.DBConnectTimeout, StatementTimeout: cfg.DBStatementTimeout,
	})
	if err != nil {
		return nil, err
	}
	if err := a.EnsureSchema(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.CheckEmbedDim(ctx); err != nil {
		a.Close()
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	// Timeouts the URL does not set come from the configuration.
	opt.DialTimeout = cmp.Or(opt.DialTimeout, cfg.RedisDialTimeout)
	opt.ReadTimeout = cmp.Or(opt.ReadTimeout, cfg.RedisReadTimeout)
	opt.WriteTimeout = cmp.Or(opt.WriteTimeout, cfg.RedisWriteTimeout)
	a.Redis = redis.NewClient(opt)
	return a, nil
}

// EnsureSchema migrates when RUN_MIGRATIONS=1 and otherwise fails on
// pending migrations.
func (a *App) EnsureSchema(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(a.Pool)
	defer db.Close()
	if a.Cfg.RunMigrations {
		// Migrations (an index build) may outrun the serving pool's
		// statement_timeout: they get a small pool of their own without it.
		mpool, err := store.Connect(ctx, a.Cfg.DatabaseURL, store.PoolConfig{MaxConns: 2, ConnectTimeout: a.Cfg.DBConnectTimeout})
		if err != nil {
			return err
		}
		mdb := stdlib.OpenDBFromPool(mpool)
		n, err := migrations.Up(ctx, mdb, migrations.Options{Lock: true})
		if cerr := mdb.Close(); cerr != nil {
			a.Log.Warn("closing the migration connection", slog.Any("error", cerr))
		}
		mpool.Close()
		if err != nil {
			return err
		}
		if n > 0 {
			a.Log.Info("applied migrations", slog.Int("count", n))
			// Connections made before the vector type existed lack its codec.
			a.Pool.Reset()
		}
		return nil
	}
	n, err := migrations.Pending(ctx, db)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the database schema has %d pending migration(s): run `logbook migrate` first, or set RUN_MIGRATIONS=1", n)
	}
	return nil
}

// Migrate creates the database if needed and applies pending migrations
// under goose's advisory lock.
func Migrate(ctx context.Context, dbURL string) (int, error) {
	if err := EnsureDatabase(ctx, dbURL); err != nil {
		return 0, err
	}
	pool, err := store.Connect(ctx, dbURL, store.PoolConfig{MaxConns: 2})
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrations.Up(ctx, db, migrations.Options{Lock: true})
}

// DropDatabase drops the database name (if it exists), closing its
// connections, through a connection to adminURL.
func DropDatabase(ctx context.Context, adminURL, name string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to drop database %q: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}

// EnsureDatabase creates the database named in dbURL when it does not
// exist, connecting to the maintenance database "postgres" to do so. A
// fresh machine then needs no manual createdb.
func EnsureDatabase(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err == nil {
		return conn.Close(ctx)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to %s: %w", RedactURL(dbURL), err)
	}
	u, perr := url.Parse(dbURL)
	if perr != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", perr)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pe2 *pgconn.PgError
		if errors.As(err, &pe2) && pe2.Code == "42P04" { // created meanwhile
			return nil
		}
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// RedactURL is s without its password, for messages.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// CreateOrg makes an org and its first admin key in one transaction.
func CreateOrg(ctx context.Context, s *store.Store, name string) (orgID, key string, err error) {
	err = s.WithTx(ctx, func(tx *store.Store) error {
		org, err := tx.OrgCreate(ctx, name)
		if err != nil {
			return err
		}
		k, err := tx.APIKeyCreate(ctx, org.ID, "admin (created by logbook orgs create)", []crm.Scope{crm.ScopeAdmin})
		if err != nil {
			return err
		}
		orgID, key = org.ID, k.Key
		return nil
	})
	return orgID, key, err
}
