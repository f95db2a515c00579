package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/migrations"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("migrate", "Apply pending schema migrations to DATABASE_URL (creating the database if it is missing).", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	n, err := app.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); the schema is current\n", n)
	return nil
}

const orgsUsage = "usage: logbook orgs create --name NAME | logbook orgs delete --id ID [--yes]"

func cmdOrgs(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stderr, orgsUsage+"\n\nCreate an org; prints {\"org_id\",\"api_key\"} (an admin key). Or delete one and all its data.")
		return flag.ErrHelp
	}
	if len(args) > 0 && args[0] == "delete" {
		return cmdOrgsDelete(ctx, args[1:], stdout, stderr, getenv)
	}
	if len(args) == 0 || args[0] != "create" {
		return usageError{Msg: orgsUsage}
	}
	fs := newFlagSet("orgs create", "Create an org and its first admin API key; prints {\"org_id\",\"api_key\"}.", stderr)
	name := fs.String("name", "", "the org's name (required)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var p crm.Problems
	crm.CheckText(&p, "--name", *name, crm.MaxName, true)
	if err := p.Err(); err != nil {
		return usageError{Msg: err.Error()}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	pool, err := openMigrated(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	orgID, key, err := app.CreateOrg(ctx, store.New(pool), *name)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"org_id": orgID, "api_key": key})
}

// openMigrated connects to the database for a command that writes to it
// and refuses a schema with pending migrations (run `logbook migrate`).
func openMigrated(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	pool, err := store.Connect(ctx, databaseURL, store.PoolConfig{MaxConns: 2})
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	pending, err := migrations.Pending(ctx, db)
	_ = db.Close()
	if err == nil && pending > 0 {
		err = fmt.Errorf("the database schema has %d pending migration(s): run `logbook migrate` first", pending)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
