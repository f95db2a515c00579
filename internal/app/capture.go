package app

import (
	"fmt"

	"logbook/capture"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/store"
)

// SecretBox seals connector secrets with LOGBOOK_SECRET_KEY (a box without
// a key when it is unset: connectors with secrets are refused).
func (a *App) SecretBox() (*secretbox.Box, error) {
	b, err := secretbox.New(a.Cfg.SecretKey, a.Cfg.SecretKeysOld...)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b, nil
}

// ConnectorGuard is the outbound guard of the connectors' connections:
// public addresses plus CONNECTOR_ALLOW_PRIVATE.
func (a *App) ConnectorGuard() (*netguard.Guard, error) {
	allow, err := netguard.ParseAllowList(a.Cfg.ConnectorAllowPrivate)
	if err != nil {
		return nil, fmt.Errorf("config: CONNECTOR_ALLOW_PRIVATE: %w", err)
	}
	return netguard.New(netguard.Options{Allow: allow}), nil
}

// Capture builds the connectors' service with every kind this server
// runs, on the enqueuer enq.
func (a *App) Capture(enq *queue.Enqueuer) (*capture.Service, error) {
	box, err := a.SecretBox()
	if err != nil {
		return nil, err
	}
	guard, err := a.ConnectorGuard()
	if err != nil {
		return nil, err
	}
	svc := capture.New(capture.Config{Store: store.New(a.Pool), Box: box, Enqueuer: enq, Logger: a.Log})
	registerKinds(svc, kindDeps{pool: a.Pool, guard: guard, log: a.Log})
	return svc, nil
}

// captureFor builds the connectors' service for the API and the web UI on
// enq when it is the task queue's enqueuer (what Pipeline makes), else on
// one of its own over a.Redis and a.Queues().
func (a *App) captureFor(enq any) (*capture.Service, error) {
	qe, ok := enq.(*queue.Enqueuer)
	if !ok || qe == nil {
		qe = queue.NewEnqueuer(a.Redis, a.Queues())
	}
	return a.Capture(qe)
}
