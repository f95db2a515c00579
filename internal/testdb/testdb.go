// Package testdb gives tests a real PostgreSQL (with pgvector) in a private,
// migrated schema. Only _test.go files import it.
//
// Pool(t) migrates one schema per test package (once, with sync.Once) and
// returns its pool; Tx(t) hands each test a transaction on it that is rolled
// back in Cleanup, so tests own their data and run in parallel. Schema(t) is
// for the few tests that need commits visible across connections (workers,
// concurrency): a schema of its own, dropped in Cleanup.
//
// Schemas left by crashed runs are dropped at the start of the next run once
// they are an hour old (River's riverdbtest does the same), never at the end.
//
// When PostgreSQL or pgvector is missing, tests fail with a message that
// says how to fix it; they never skip.
package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"logbook/internal/store"
	"logbook/migrations"
)

// URL is the test database: TEST_DATABASE_URL or the local default.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	once     sync.Once
	pkgPool  *pgxpool.Pool
	pkgErr   error
	schemaNo atomic.Int64
)

// pkgName is the test binary's package name ("store" for store.test).
func pkgName() string {
	n := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	n = regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(n), "_")
	if n == "" {
		n = "pkg"
	}
	return n
}

// Pool returns the package's pool on its migrated schema.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	once.Do(func() {
		pkgPool, pkgErr = newSchema(context.Background(), "t_"+pkgName(), 20)
	})
	if pkgErr != nil {
		t.Fatalf("testdb: %v", pkgErr)
	}
	return pkgPool
}

// Tx returns a transaction on the package schema, rolled back after the test.
func Tx(t testing.TB) pgx.Tx {
	t.Helper()
	pool := Pool(t)
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatalf("testdb: begin: %v", err)
	}
	t.Cleanup(func() {
		_ = tx.Rollback(context.WithoutCancel(context.Background()))
	})
	return tx
}

// Schema returns a pool on a private migrated schema that is dropped when
// the test ends. Use it where commits must be seen by other connections.
func Schema(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	prefix := fmt.Sprintf("t_%s_s%d", pkgName(), schemaNo.Add(1))
	pool, err := newSchema(ctx, prefix, 10)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	schema = strings.Split(schema, ",")[0]
	t.Cleanup(func() {
		pool.Close()
		admin, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			return
		}
		defer admin.Close(context.Background())
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	return pool
}

// newSchema creates <prefix>_<unix>_<pid>, migrates it and returns a pool
// whose search_path is that schema, then public (where the vector
// extension lives).
func newSchema(ctx context.Context, prefix string, maxConns int32) (*pgxpool.Pool, error) {
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL at %s: %w (run scripts/services.sh)", URL(), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public`); err != nil {
		return nil, fmt.Errorf("pgvector is not installed in PostgreSQL (CREATE EXTENSION vector: %w); run scripts/services.sh, which builds it", err)
	}
	if _, err := admin.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public`); err != nil {
		return nil, fmt.Errorf("btree_gin (PostgreSQL's contrib) is not installed (CREATE EXTENSION btree_gin: %w); run scripts/services.sh", err)
	}
	if err := dropStale(ctx, admin, prefix); err != nil {
		return nil, err
	}
	schema := fmt.Sprintf("%s_%d_%d", prefix, time.Now().Unix(), os.Getpid())
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	pool, err := store.Connect(ctx, URL(), store.PoolConfig{MaxConns: maxConns, SearchPath: schema + ",public"})
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if _, err := migrations.Up(ctx, db, migrations.Options{}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	// Connections opened before the migration created the vector type in
	// the search path have no pgvector codecs: start afresh.
	pool.Reset()
	return pool, nil
}

var stampRE = regexp.MustCompile(`_(\d{9,})_\d+$`)

// dropStale drops schemas with this prefix older than an hour: left by a
// crashed or killed run.
func dropStale(ctx context.Context, admin *pgx.Conn, prefix string) error {
	rows, err := admin.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, prefix+"\\_%")
	if err != nil {
		return fmt.Errorf("list schemas: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list schemas: %w", err)
	}
	cutoff := time.Now().Add(-time.Hour).Unix()
	for _, n := range names {
		m := stampRE.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		ts, _ := strconv.ParseInt(m[1], 10, 64)
		if ts < cutoff {
			_, _ = admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{n}.Sanitize()+" CASCADE")
		}
	}
	return nil
}

// SchemaURL returns a database URL whose connections use a private schema
// (search_path in the URL), for tests that run the logbook command itself.
// With migrated false the schema is left empty, to test what happens before
// `logbook migrate`. The schema is dropped when the test ends.
func SchemaURL(t testing.TB, migrated bool) string {
	t.Helper()
	ctx := context.Background()
	var schema string
	if migrated {
		pool := Schema(t)
		schema = strings.Split(pool.Config().ConnConfig.RuntimeParams["search_path"], ",")[0]
	} else {
		admin, err := pgx.Connect(ctx, URL())
		if err != nil {
			t.Fatalf("testdb: cannot connect to PostgreSQL at %s: %v (run scripts/services.sh)", URL(), err)
		}
		defer admin.Close(ctx)
		schema = fmt.Sprintf("t_%s_e%d_%d_%d", pkgName(), schemaNo.Add(1), time.Now().Unix(), os.Getpid())
		if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatalf("testdb: create schema: %v", err)
		}
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), URL())
			if err != nil {
				return
			}
			defer c.Close(context.Background())
			_, _ = c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		})
	}
	sep := "?"
	if strings.Contains(URL(), "?") {
		sep = "&"
	}
	return URL() + sep + "search_path=" + schema + ",public"
}

// DatabaseURL returns the URL of a private, migrated database, dropped when
// the test ends. Use it where the test needs the database to itself: VACUUM
// marks pages all-visible (what an index-only scan needs) only once no
// transaction of the same database could still see their old versions, and
// the other tests of the run keep transactions open in the shared test
// database (Tx). PostgreSQL ≥ 14 does not let transactions of other
// databases hold VACUUM back.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatalf("testdb: cannot connect to PostgreSQL at %s: %v (run scripts/services.sh)", URL(), err)
	}
	defer admin.Close(ctx)
	prefix := fmt.Sprintf("t_%s_d", pkgName())
	if err := dropStaleDatabases(ctx, admin, prefix); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := fmt.Sprintf("%s%d_%d_%d", prefix, schemaNo.Add(1), time.Now().Unix(), os.Getpid())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	u, err := url.Parse(URL())
	if err != nil {
		t.Fatalf("testdb: parse %s: %v", URL(), err)
	}
	u.Path = "/" + name
	dbURL := u.String()

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", name, err)
	}
	defer conn.Close(ctx)
	for _, ext := range []string{"vector", "btree_gin"} {
		if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+ext); err != nil {
			t.Fatalf("testdb: CREATE EXTENSION %s in %s: %v (run scripts/services.sh)", ext, name, err)
		}
	}
	db := stdlib.OpenDB(*conn.Config())
	defer db.Close()
	if _, err := migrations.Up(ctx, db, migrations.Options{}); err != nil {
		t.Fatalf("testdb: migrate %s: %v", name, err)
	}
	return dbURL
}

// dropStaleDatabases drops databases with this prefix older than an hour:
// left by a crashed or killed run.
func dropStaleDatabases(ctx context.Context, admin *pgx.Conn, prefix string) error {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1`, prefix+"%")
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	cutoff := time.Now().Add(-time.Hour).Unix()
	for _, n := range names {
		m := stampRE.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		if ts, _ := strconv.ParseInt(m[1], 10, 64); ts < cutoff {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
		}
	}
	return nil
}
