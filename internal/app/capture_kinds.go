package app

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/capture"
	capturemail "logbook/capture/mail"
	"logbook/internal/crm"
	"logbook/internal/netguard"
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
	_ = svc
	_ = d
	svc.Register(crm.ConnectorIMAP, capturemail.Kind(capturemail.Deps{Store: store.New(d.pool), Guard: d.guard}))
}
