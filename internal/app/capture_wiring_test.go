package app

import (
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

// TestCaptureWiring: the worker the app builds serves the connectors'
// tasks, and the capture service has every kind this issue ships.
func TestCaptureWiring(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(t, err)
	a := &App{Cfg: cfg, Pool: testdb.Schema(t), Redis: testredis.Client(t)}
	enq, w, err := a.Pipeline(queue.Prefixed(testredis.Name(t) + ":"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = enq.Close() })
	mux := w.Mux()
	for _, typ := range []string{queue.TypeConnectorSync, queue.TypeNotetakerFetch, queue.TypeTranscriptProcess} {
		_, pattern := mux.Handler(asynq.NewTask(typ, nil))
		require.Equal(t, typ, pattern, "the worker serves %s", typ)
	}
	svc, err := a.Capture(enq)
	require.NoError(t, err)
	require.ElementsMatch(t, crm.ConnectorKinds, svc.Kinds())
}
