package app

import (
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/capture"
	"logbook/capture/calendar"
	capturemail "logbook/capture/mail"
	"logbook/capture/notetaker"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
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
	svc.Register(crm.ConnectorIMAP, capturemail.Kind(capturemail.Deps{Store: store.New(d.pool), Guard: d.guard}))
	svc.Register(crm.ConnectorICS, calendar.ICS(store.New(d.pool), d.guard, d.log))
	svc.Register(crm.ConnectorCalDAV, calendar.CalDAV(store.New(d.pool), d.guard, d.log))
	svc.Register(crm.ConnectorRecall, notetaker.Recall(d.guard))
	svc.Register(crm.ConnectorZoom, notetaker.Zoom(d.guard))
}

// notetakerFetch is the notetaker:fetch handler (capture/notetaker): the
// pulls the note-takers' pings announce, dialling through the connectors'
// guard.
func (a *App) notetakerFetch(svc *capture.Service, enq *queue.Enqueuer) (asynq.Handler, error) {
	guard, err := a.ConnectorGuard()
	if err != nil {
		return nil, err
	}
	return notetaker.NewFetcher(notetaker.Deps{Capture: svc, Enqueuer: enq, Guard: guard, Logger: a.Log}), nil
}
