package app

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/capture"
	"logbook/internal/netguard"
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
}
