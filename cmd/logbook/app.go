package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"

	"logbook/internal/config"
	"logbook/internal/store"
	"logbook/migrations"
)

// app holds what every long-running role shares.
type app struct {
	cfg  config.Config
	log  *slog.Logger
	pool *pgxpool.Pool
	rdb  *redis.Client
}

func (a *app) close() {
	if a.rdb != nil {
		_ = a.rdb.Close()
	}
	if a.pool != nil {
		a.pool.Close()
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// openApp loads the configuration, connects to PostgreSQL and Redis, and
// makes sure the schema is current: it migrates when RUN_MIGRATIONS=1 and
// otherwise refuses to start on pending migrations.
func openApp(ctx context.Context, stderr io.Writer, getenv func(string) string) (*app, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: newLogger(stderr, cfg.LogLevel)}
	a.pool, err = store.Connect(ctx, cfg.DatabaseURL, store.PoolConfig{})
	if err != nil {
		return nil, err
	}
	if err := a.ensureSchema(ctx); err != nil {
		a.close()
		return nil, err
	}
	if err := a.checkEmbedDim(ctx); err != nil {
		a.close()
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	a.rdb = redis.NewClient(opt)
	return a, nil
}

func (a *app) ensureSchema(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(a.pool)
	defer db.Close()
	if a.cfg.RunMigrations {
		n, err := migrations.Up(ctx, db, migrations.Options{Lock: true})
		if err != nil {
			return err
		}
		if n > 0 {
			a.log.Info("applied migrations", slog.Int("count", n))
			// Connections made before the vector type existed lack its codec.
			a.pool.Reset()
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

// ensureDatabase creates the database named in url when it does not exist,
// connecting to the maintenance database "postgres" to do so. A fresh
// machine then needs no manual createdb.
func ensureDatabase(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err == nil {
		return conn.Close(ctx)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("connect to %s: %w", redactURL(dbURL), err)
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

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
