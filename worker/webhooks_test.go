package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"logbook/api"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/testredis"
	"logbook/summarize"
)

// receiver is a webhook endpoint on loopback that counts what reaches it.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		switch req.URL.Path {
		case "/redirect":
			http.Redirect(w, req, "/elsewhere", http.StatusFound)
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) port() int { return r.Listener.Addr().(*net.TCPAddr).Port }

func (r *receiver) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// plantDelivery stores a webhook at url with one pending delivery and
// returns the delivery's ID.
func (b *testBundle) plantDelivery(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	hook, id := store.NewID(), store.NewID()
	_, err := b.pool.Exec(ctx, `INSERT INTO webhooks (org_id, id, url, events, secret) VALUES ($1, $2, $3, $4, $5)`,
		b.orgID, hook, url, []string{store.EventActivityCreated}, "whsec-0123456789abcdef")
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO webhook_deliveries (org_id, id, webhook_id, event, payload) VALUES ($1, $2, $3, $4, $5)`,
		b.orgID, id, hook, store.EventActivityCreated, `{"event":"activity.created","data":{}}`)
	require.NoError(t, err)
	return id
}

// deliveryState is a delivery as the org's delivery log shows it.
type deliveryState struct {
	Status    string
	Attempts  int
	Code      *int
	Error     *string
	NextDueIn time.Duration
}

func (b *testBundle) delivery(t *testing.T, id string) deliveryState {
	t.Helper()
	var d deliveryState
	var secs float64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status, attempts, last_status_code, last_error,
		extract(epoch FROM next_attempt_at - now()) FROM webhook_deliveries WHERE org_id = $1 AND id = $2`, b.orgID, id).
		Scan(&d.Status, &d.Attempts, &d.Code, &d.Error, &secs))
	d.NextDueIn = time.Duration(secs * float64(time.Second))
	return d
}

func (b *testBundle) deliver(t *testing.T, w *Worker, id string) error {
	t.Helper()
	task, err := queue.NewWebhookDeliverTask(queue.WebhookPayload{OrgID: b.orgID, DeliveryID: id})
	require.NoError(t, err)
	return w.HandleWebhookDeliver(context.Background(), task)
}

// TestWebhookInternalTargetsAreNotDialed is the SSRF finding at delivery:
// with the default configuration (no allow-list), a webhook that points at
// loopback in any spelling (stored before URLs were checked, or by SQL)
// never reaches the receiver listening there, and its log says only that
// the delivery failed.
func TestWebhookInternalTargetsAreNotDialed(t *testing.T) {
	t.Parallel()
	b := setup(t, local.New(256))
	rdb := testredis.Client(t)
	w, err := New(Config{Store: b.store, Summarizer: summarize.New(local.New(256), summarize.Config{}), Redis: rdb, Enqueuer: b.enq,
		Queues: b.queues})
	require.NoError(t, err)
	r := newReceiver(t)
	p := r.port()
	for _, u := range []string{r.URL + "/hook", fmt.Sprintf("http://localhost:%d/", p), fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", p),
		fmt.Sprintf("http://2130706433:%d/", p), fmt.Sprintf("http://0x7f.1:%d/", p), fmt.Sprintf("http://127.1:%d/", p),
		fmt.Sprintf("http://0177.0.0.1:%d/", p), fmt.Sprintf("http://127.0.0.1.:%d/", p)} {
		id := b.plantDelivery(t, u)
		err := b.deliver(t, w, id)
		require.Error(t, err, u)
		require.False(t, errors.Is(err, asynq.SkipRetry), "%s: retried like any failure to connect", u)
		d := b.delivery(t, id)
		require.Equal(t, "pending", d.Status, u)
		require.Equal(t, 1, d.Attempts, u)
		require.Nil(t, d.Code, u)
		require.NotNil(t, d.Error, u)
		require.Equal(t, noResponse, *d.Error, u)
	}
	require.Empty(t, r.seen(), "nothing reached the loopback receiver")
}

// mutableResolver answers from a map that a test changes between the
// check at creation and the delivery, as a rebinding DNS server would.
type mutableResolver struct {
	mu    sync.Mutex
	hosts map[string]string
}

func (m *mutableResolver) set(host, addr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hosts[host] = addr
}

func (m *mutableResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.hosts[strings.TrimSuffix(strings.ToLower(host), ".")]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

// TestWebhookDeliveryOutcomes runs real asynq servers on a webhooks queue
// of its own, each delivery on its last attempt, against a receiver on
// loopback that the allow-list trusts by name:
//   - a name that resolved to a public address when the webhook was created
//     (through the API) and resolves to loopback when it is sent (DNS
//     rebinding) is refused at dial time, and the receiver sees nothing;
//   - a closed port, a connection closed before any answer (EOF), an
//     endpoint that never answers (timeout) and that refusal all fail with
//     the same words and no status code, so the log maps no port;
//   - a 302 is a failed delivery and is not followed; a 500 says 500; a 200
//     is delivered.
func TestWebhookDeliveryOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, local.New(256))
	r := newReceiver(t)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := closed.Addr().(*net.TCPAddr).Port
	require.NoError(t, closed.Close())
	eof, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns sync.WaitGroup
	var held []net.Conn
	var heldMu sync.Mutex
	for _, ln := range []net.Listener{eof, hang} {
		conns.Add(1)
		go func() {
			defer conns.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				if ln == eof {
					_ = c.Close()
					continue
				}
				heldMu.Lock()
				held = append(held, c)
				heldMu.Unlock()
			}
		}()
	}
	t.Cleanup(func() {
		_ = eof.Close()
		_ = hang.Close()
		conns.Wait()
		heldMu.Lock()
		for _, c := range held {
			_ = c.Close()
		}
		heldMu.Unlock()
	})

	res := &mutableResolver{hosts: map[string]string{"receiver.test": "127.0.0.1", "rebind.example.com": "93.184.216.34"}}
	allow, err := netguard.ParseAllowList("receiver.test")
	require.NoError(t, err)
	guard := netguard.New(netguard.Options{Allow: allow, Resolver: res})

	// Created through the API while the name is public.
	h, err := api.NewHandler(api.Deps{Store: b.store, WebhookGuard: guard})
	require.NoError(t, err)
	key, err := b.store.APIKeyCreate(ctx, b.orgID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	req := httptest.NewRequest("POST", "/v1/webhooks", strings.NewReader(fmt.Sprintf(
		`{"url":"http://rebind.example.com:%d/rebound","events":["activity.created"]}`, r.port())))
	req.Header.Set("Authorization", "Bearer "+key.Key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code, "%s", rec.Body)
	res.set("rebind.example.com", "127.0.0.1") // rebound after the check

	var rebound string
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO webhook_deliveries (org_id, id, webhook_id, event, payload)
		SELECT org_id, $2, id, 'activity.created', '{}' FROM webhooks WHERE org_id = $1 RETURNING id`, b.orgID, store.NewID()).Scan(&rebound))
	ids := map[string]string{
		"rebound":   rebound,
		"refused":   b.plantDelivery(t, fmt.Sprintf("http://receiver.test:%d/", closedPort)),
		"eof":       b.plantDelivery(t, fmt.Sprintf("http://receiver.test:%d/", eof.Addr().(*net.TCPAddr).Port)),
		"timeout":   b.plantDelivery(t, fmt.Sprintf("http://receiver.test:%d/", hang.Addr().(*net.TCPAddr).Port)),
		"redirect":  b.plantDelivery(t, fmt.Sprintf("http://receiver.test:%d/redirect", r.port())),
		"error":     b.plantDelivery(t, fmt.Sprintf("http://receiver.test:%d/fail", r.port())),
		"delivered": b.plantDelivery(t, fmt.Sprintf("http://receiver.test:%d/ok", r.port())),
	}

	rdb := testredis.Client(t)
	q := queue.Queues{LLM: testredis.Name(t), Default: testredis.Name(t), Webhooks: testredis.Name(t), Index: testredis.Name(t)}
	t.Cleanup(func() { _ = queue.NewInspector(rdb).DeleteQueues(q) })
	enq := queue.NewEnqueuer(rdb, q)
	t.Cleanup(func() { _ = enq.Close() })
	metrics, err := NewMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	w, err := New(Config{Store: b.store, Summarizer: summarize.New(local.New(256), summarize.Config{}), Redis: rdb, Enqueuer: enq,
		Queues: q, Guard: guard, WebhookTimeout: 500 * time.Millisecond, ReconcileEvery: time.Hour, Metrics: metrics})
	require.NoError(t, err)
	client := asynq.NewClientFromRedisClient(rdb)
	for _, id := range ids {
		task, err := queue.NewWebhookDeliverTask(queue.WebhookPayload{OrgID: b.orgID, DeliveryID: id})
		require.NoError(t, err)
		// Each on its last attempt, so a failure marks it failed.
		_, err = client.EnqueueContext(ctx, task, asynq.Queue(q.Webhooks), asynq.TaskID(id), asynq.MaxRetry(0))
		require.NoError(t, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx, 5*time.Second) }()
	t.Cleanup(func() { stop(); <-done })
	require.Eventually(t, func() bool {
		for _, id := range ids {
			if b.delivery(t, id).Status == "pending" {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond)

	for _, name := range []string{"rebound", "refused", "eof", "timeout"} {
		d := b.delivery(t, ids[name])
		require.Equal(t, "failed", d.Status, name)
		require.Nil(t, d.Code, name)
		require.Equal(t, noResponse, *d.Error, "%s: the same words whatever happened", name)
	}
	d := b.delivery(t, ids["redirect"])
	require.Equal(t, "failed", d.Status)
	require.Equal(t, 302, *d.Code)
	require.Equal(t, "delivery failed: HTTP 302 (redirects are not followed)", *d.Error)
	d = b.delivery(t, ids["error"])
	require.Equal(t, "failed", d.Status)
	require.Equal(t, 500, *d.Code)
	require.Equal(t, "delivery failed: HTTP 500", *d.Error)
	d = b.delivery(t, ids["delivered"])
	require.Equal(t, "delivered", d.Status)
	require.Nil(t, d.Error)

	require.ElementsMatch(t, []string{"/redirect", "/fail", "/ok"}, r.seen(),
		"the rebound name reached nothing, and the redirect was not followed")

	// The metric counts what the delivery log says.
	for _, c := range []struct {
		result, answer string
		want           float64
	}{{"failed", "none", 4}, {"failed", "3xx", 1}, {"failed", "5xx", 1}, {"delivered", "2xx", 1}, {"pending", "none", 0}} {
		require.Equal(t, c.want, testutil.ToFloat64(metrics.webhooks.WithLabelValues(c.result, c.answer)), "%s %s", c.result, c.answer)
	}
}

// TestWebhookRetries checks the schedule (over a day in all, each wait
// with at most a tenth of jitter) and that a failed attempt records when
// its retry is due, so the reconciler leaves it alone until then.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	task := asynq.NewTask(queue.TypeWebhookDeliver, nil)
	var total time.Duration
	for n := range queue.WebhookMaxRetry {
		d := retryDelay(n, errors.New("endpoint answered 503"), task)
		base := queue.WebhookRetryDelay(n)
		require.GreaterOrEqual(t, d, base, "retry %d", n)
		require.LessOrEqual(t, d, base+base/10, "retry %d", n)
		total += d
	}
	require.GreaterOrEqual(t, total, 24*time.Hour, "a day's outage loses no event")

	ctx := context.Background()
	b := setup(t, local.New(256))
	r := newReceiver(t)
	failing := b.plantDelivery(t, r.URL+"/fail")
	require.Error(t, b.deliver(t, b.w, failing))
	d := b.delivery(t, failing)
	require.Equal(t, "pending", d.Status)
	require.Equal(t, 500, *d.Code)
	require.Greater(t, d.NextDueIn, 20*time.Second, "due after the first wait")
	lost := b.plantDelivery(t, r.URL+"/ok") // its task never made it to Redis
	time.Sleep(5 * time.Millisecond)        // past the bundle's 1 ms grace

	n, err := b.w.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the lost delivery, not the one waiting for its retry")
	info, err := b.insp.GetTaskInfo(b.enq.Queues().Webhooks, lost)
	require.NoError(t, err)
	require.Equal(t, queue.TypeWebhookDeliver, info.Type)
	_, err = b.insp.GetTaskInfo(b.enq.Queues().Webhooks, failing)
	require.ErrorIs(t, err, asynq.ErrTaskNotFound)
}
