package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"logbook/internal/crm"
	"logbook/internal/store"
)

const orgsDeleteSynopsis = "Delete an org completely: every row of every table that has its org_id, its API keys (revoked in every " +
	"running server at once), and its tasks still waiting in Redis. Without --yes it only says what it would delete."

// orgsDeleteResult is what `logbook orgs delete` prints (JSON).
type orgsDeleteResult struct {
	OrgID        string `json:"org_id"`
	Name         string `json:"name"`
	Deleted      bool   `json:"deleted"`
	TasksRemoved int    `json:"tasks_removed"`
}

func cmdOrgsDelete(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("orgs delete", orgsDeleteSynopsis, stderr)
	id := fs.String("id", "", "the org's ID (required)")
	yes := fs.Bool("yes", false, "really delete (without it nothing is changed)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !crm.ValidID(*id) {
		return usageError{Msg: "--id must be an org ID"}
	}
	// Deleting a large org is one long transaction: the statement timeout
	// that protects the API (DB_STATEMENT_TIMEOUT) would cut it off, so it
	// is off here unless the operator sets it.
	a, err := openApp(ctx, stderr, func(k string) string {
		if v := getenv(k); v != "" || k != "DB_STATEMENT_TIMEOUT" {
			return v
		}
		return "0"
	})
	if err != nil {
		return err
	}
	defer a.Close()
	st := store.New(a.Pool)
	org, err := st.OrgGet(ctx, *id)
	if errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("no org %s", *id)
	}
	if err != nil {
		return err
	}
	if !*yes {
		return usageError{Msg: fmt.Sprintf("this deletes org %s (%q) and all its data for good; run it again with --yes", org.ID, org.Name)}
	}
	d, err := st.OrgDelete(ctx, org.ID)
	if err != nil {
		return err
	}
	removed, err := removeOrgTasks(ctx, a.Redis, a.Cfg.QueuePrefix, d)
	if err != nil {
		// The data is gone; tasks left behind find nothing and stop.
		fmt.Fprintf(stderr, "logbook: org deleted; some of its queued tasks were not removed from Redis (they will find nothing to do): %v\n", err)
	}
	return json.NewEncoder(stdout).Encode(orgsDeleteResult{OrgID: org.ID, Name: org.Name, Deleted: true, TasksRemoved: removed})
}

// removeOrgTasks deletes the deleted org's unfinished tasks from every
// queue of this deployment (the queues whose names start with prefix): task
// IDs are the transcript and delivery IDs and "index:" + the activity ID. A
// task that is running cannot be deleted; it finds its rows gone and stops.
func removeOrgTasks(ctx context.Context, rdb redis.UniversalClient, prefix string, d store.OrgDeleted) (int, error) {
	ids := append(append([]string{}, d.Transcripts...), d.Deliveries...)
	for _, a := range d.Activities {
		ids = append(ids, "index:"+a)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	queues, err := insp.Queues()
	if err != nil {
		return 0, fmt.Errorf("list queues: %w", err)
	}
	n := 0
	var errs []error
	for _, q := range queues {
		if !strings.HasPrefix(q, prefix) {
			continue
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			err := insp.DeleteTask(q, id)
			switch {
			case err == nil:
				n++
			case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			default:
				if len(errs) < 5 {
					errs = append(errs, fmt.Errorf("delete task %s from %s: %w", id, q, err))
				}
			}
		}
	}
	return n, errors.Join(errs...)
}
