package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
)

// TypeConnectorSync runs one sync of a pulled connector (IMAP, ICS, CalDAV),
// incremental from its watermark, or a backfill of a range.
const TypeConnectorSync = "connector:sync"

// Connector task limits. A sync checkpoints as it goes, so a timeout or a
// killed worker loses nothing: the next run goes on from the watermark.
const (
	ConnectorSyncTimeout  = 10 * time.Minute
	ConnectorSyncMaxRetry = 3
)

// ConnectorSyncPayload names the connector and, for a backfill, the range
// of item times to fetch again (From inclusive, To exclusive; zero To is
// now).
type ConnectorSyncPayload struct {
	OrgID       string     `json:"org_id"`
	ConnectorID string     `json:"connector_id"`
	From        *time.Time `json:"from,omitempty"`
	To          *time.Time `json:"to,omitempty"`
}

// ParseConnectorSyncPayload decodes and checks a payload.
func ParseConnectorSyncPayload(b []byte) (ConnectorSyncPayload, error) {
	var p ConnectorSyncPayload
	if err := strictJSON(b, &p); err != nil {
		return p, fmt.Errorf("queue: %s payload: %w", TypeConnectorSync, err)
	}
	if !crm.ValidID(p.OrgID) || !crm.ValidID(p.ConnectorID) {
		return p, fmt.Errorf("queue: %s payload: org_id and connector_id must be IDs", TypeConnectorSync)
	}
	return p, nil
}

// EnqueueConnectorSync queues a sync. An incremental sync already waiting
// or running for the connector is left alone; a backfill is its own task
// per range, so asking for the same range twice runs it once.
func (e *Enqueuer) EnqueueConnectorSync(ctx context.Context, p ConnectorSyncPayload) error {
	t, err := newTask(TypeConnectorSync, p)
	if err != nil {
		return err
	}
	id := "sync:" + p.ConnectorID
	if p.From != nil || p.To != nil {
		id = fmt.Sprintf("resync:%s:%d:%d", p.ConnectorID, unixOrZero(p.From), unixOrZero(p.To))
	}
	return e.enqueue(ctx, t, id, e.q.Default, asynq.MaxRetry(ConnectorSyncMaxRetry), asynq.Timeout(ConnectorSyncTimeout))
}

func unixOrZero(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.Unix()
}
