package app

import (
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/capture"
	"logbook/capture/notetaker"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
)

// kindDeps is what the connector kinds are built from.
type kindDeps struct {
	pool  *pgxpool.Pool
	guard *netguard.Guard
	log   *slog.Logger
}

// registerKinds registers every connector kind with svc. Each kind's
// package adds its line here.
func registerKinds(svc *capture.Service, d kindDeps) {
	_ = svc
	_ = d
	svc.Register(crm.ConnectorRecall, notetaker.Recall(d.guard))
	svc.Register(crm.ConnectorZoom, notetaker.Zoom(d.guard))
}

// notetakerFetch is the notetaker:fetch handler (capture/notetaker): the
// pulls the note-takers' pings announce, dialling through the connectors'
// guard. Capture has already refused a CONNECTOR_ALLOW_PRIVATE that does
// not parse; were it to fail here, the strictest guard (public addresses
// only) is used.
func (a *App) notetakerFetch(svc *capture.Service, enq *queue.Enqueuer) asynq.Handler {
	guard, err := a.ConnectorGuard()
	if err != nil {
		guard = netguard.New(netguard.Options{})
	}
	return notetaker.NewFetcher(notetaker.Deps{Capture: svc, Enqueuer: enq, Guard: guard, Logger: a.Log})
}
