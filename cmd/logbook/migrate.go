package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/migrations"
)

func storeOf(pool *pgxpool.Pool) *store.Store { return store.New(pool) }

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("migrate", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	n, err := migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); the schema is current\n", n)
	return nil
}

// migrate creates the database if needed and applies pending migrations
// under goose's advisory lock.
func migrate(ctx context.Context, dbURL string) (int, error) {
	if err := ensureDatabase(ctx, dbURL); err != nil {
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

func cmdOrgs(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: logbook orgs create --name NAME"}
	}
	fs := newFlagSet("orgs create", stderr)
	name := fs.String("name", "", "the org's name (required)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var p crm.Problems
	crm.CheckText(&p, "--name", *name, crm.MaxName, true)
	if err := p.Err(); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	pool, err := store.Connect(ctx, cfg.DatabaseURL, store.PoolConfig{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	pending, err := migrations.Pending(ctx, db)
	_ = db.Close()
	if err != nil {
		return err
	}
	if pending > 0 {
		return fmt.Errorf("the database schema has %d pending migration(s): run `logbook migrate` first", pending)
	}
	orgID, key, err := createOrg(ctx, store.New(pool), *name)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"org_id": orgID, "api_key": key})
}

// createOrg makes an org and its first admin key in one transaction.
func createOrg(ctx context.Context, s *store.Store, name string) (orgID, key string, err error) {
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
