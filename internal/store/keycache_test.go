package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// keyQueryTracer counts the key lookups (SELECTs by key_hash) run through
// its pool, and can hold one just after it has read its row.
type keyQueryTracer struct {
	lookups atomic.Int64
	// hold, when set, is waited on by the next lookup once it has its row.
	hold atomic.Pointer[chan struct{}]
	held chan struct{} // a lookup is being held
}

func isKeyLookup(sql string) bool { return strings.Contains(sql, "FROM api_keys WHERE key_hash") }

func (tr *keyQueryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if isKeyLookup(d.SQL) {
		tr.lookups.Add(1)
		return context.WithValue(ctx, keyQueryTracer{}, true)
	}
	return ctx
}

func (tr *keyQueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if ctx.Value(keyQueryTracer{}) == nil {
		return
	}
	if h := tr.hold.Swap(nil); h != nil {
		tr.held <- struct{}{}
		<-*h
	}
}

func TestKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		admin  *pgxpool.Pool // the schema's pool: setup, revocations, raw SQL
		store  *store.Store  // on admin
		tracer *keyQueryTracer
		cache  *store.KeyCache
		// cacheStore is the Store cache authenticates through: a revocation
		// made through it reaches cache at once.
		cacheStore *store.Store
		orgID      string
		// listenerApp is the application_name of the cache's listener
		// connection, which is the only connection of its pool.
		listenerApp string
		// gate, while false, makes the listener's pool fail to connect.
		gate *atomic.Bool
	}

	// newCache returns a cache on its own pools of the bundle's schema: one
	// traced for lookups, one for the listener (as another process would
	// have). It is not started.
	newCache := func(t *testing.T, b *testBundle, opts store.KeyCacheOptions) (*store.KeyCache, *store.Store, *keyQueryTracer, string, *atomic.Bool) {
		t.Helper()
		tracer := &keyQueryTracer{held: make(chan struct{})}
		cfg := b.admin.Config()
		cfg.MaxConns = 4
		cfg.ConnConfig.Tracer = tracer
		lookups, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(lookups.Close)

		app := fmt.Sprintf("keycache_test_%s", store.NewID())
		gate := &atomic.Bool{}
		gate.Store(true)
		lcfg := b.admin.Config()
		lcfg.MaxConns = 2
		lcfg.ConnConfig.RuntimeParams["application_name"] = app
		lcfg.BeforeConnect = func(context.Context, *pgx.ConnConfig) error {
			if !gate.Load() {
				return fmt.Errorf("test: connecting is switched off")
			}
			return nil
		}
		listen, err := pgxpool.NewWithConfig(ctx, lcfg)
		require.NoError(t, err)
		t.Cleanup(listen.Close)
		st := store.New(lookups)
		return store.NewKeyCache(listen, st, opts), st, tracer, app, gate
	}

	// start runs c until the test ends and waits for it to go live.
	start := func(t *testing.T, c *store.KeyCache) {
		t.Helper()
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Run(runCtx) }()
		t.Cleanup(func() {
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
		})
		require.Eventually(t, c.Live, 5*time.Second, 5*time.Millisecond, "the cache never went live")
	}

	setupOpts := func(t *testing.T, opts store.KeyCacheOptions) *testBundle {
		t.Helper()
		pool := testdb.Schema(t)
		b := &testBundle{admin: pool, store: store.New(pool)}
		org, err := b.store.OrgCreate(ctx, "Org "+t.Name())
		require.NoError(t, err)
		b.orgID = org.ID
		b.cache, b.cacheStore, b.tracer, b.listenerApp, b.gate = newCache(t, b, opts)
		return b
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return setupOpts(t, store.KeyCacheOptions{})
	}

	newKey := func(t *testing.T, b *testBundle, scopes ...crm.Scope) crm.APIKey {
		t.Helper()
		if len(scopes) == 0 {
			scopes = []crm.Scope{crm.ScopeIngest}
		}
		k, err := b.store.APIKeyCreate(ctx, b.orgID, "key", scopes)
		require.NoError(t, err)
		return k
	}

	// accepted authenticates through c and checks the principal.
	accepted := func(t *testing.T, c *store.KeyCache, k crm.APIKey) {
		t.Helper()
		p, err := c.Authenticate(ctx, k.Key)
		require.NoError(t, err)
		require.Equal(t, crm.Principal{OrgID: k.OrgID, KeyID: k.ID, Scopes: k.Scopes}, p)
	}
	rejected := func(t *testing.T, c *store.KeyCache, k crm.APIKey) {
		t.Helper()
		_, err := c.Authenticate(ctx, k.Key)
		require.ErrorIs(t, err, crm.ErrNotFound)
	}

	// deleteBehindItsBack removes the key without any notification (triggers
	// off for this one transaction), so only a cache still holding it can
	// accept it.
	deleteBehindItsBack := func(t *testing.T, b *testBundle, k crm.APIKey) {
		t.Helper()
		tx, err := b.admin.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, `SET LOCAL session_replication_role = replica`)
		require.NoError(t, err)
		tag, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE org_id = $1 AND id = $2`, k.OrgID, k.ID)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
		require.NoError(t, tx.Commit(ctx))
	}

	t.Run("RevocationByHandInSQLIsSeen", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b.cache)
		revoked, deleted := newKey(t, b), newKey(t, b)
		accepted(t, b.cache, revoked)
		accepted(t, b.cache, deleted)
		require.Equal(t, 2, b.cache.Len())
		// An operator's SQL, not APIKeyRevoke: the trigger notifies.
		_, err := b.admin.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, revoked.ID)
		require.NoError(t, err)
		_, err = b.admin.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, deleted.ID)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return b.cache.Len() == 0 }, time.Second, time.Millisecond)
		rejected(t, b.cache, revoked)
		rejected(t, b.cache, deleted)
	})

	t.Run("BoundedSize", func(t *testing.T) {
		t.Parallel()
		b := setupOpts(t, store.KeyCacheOptions{MaxEntries: 3})
		start(t, b.cache)
		var keys []crm.APIKey
		for range 5 {
			k := newKey(t, b)
			keys = append(keys, k)
			accepted(t, b.cache, k)
			require.LessOrEqual(t, b.cache.Len(), 3)
		}
		require.Equal(t, 3, b.cache.Len())
		// Evicted keys still authenticate, from the database.
		for _, k := range keys {
			accepted(t, b.cache, k)
		}
		require.Equal(t, 3, b.cache.Len())
	})

	t.Run("CachedKeyNeedsNoQuery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b.cache)
		k := newKey(t, b, crm.ScopeRead, crm.ScopeWrite)

		accepted(t, b.cache, k)
		require.EqualValues(t, 1, b.tracer.lookups.Load())
		require.Equal(t, 1, b.cache.Len())
		for range 20 {
			accepted(t, b.cache, k)
		}
		require.EqualValues(t, 1, b.tracer.lookups.Load(), "a cached key was looked up again")

		// The answer is a copy: changing it changes nothing cached.
		p, err := b.cache.Authenticate(ctx, k.Key)
		require.NoError(t, err)
		p.Scopes[0] = crm.ScopeAdmin
		accepted(t, b.cache, k)

		// Gone from the database without a notification, the key is still
		// accepted: the answer comes from the cache.
		deleteBehindItsBack(t, b, k)
		accepted(t, b.cache, k)
		require.EqualValues(t, 1, b.tracer.lookups.Load())
	})

	t.Run("HeartbeatPingsAnIdleListener", func(t *testing.T) {
		t.Parallel()
		b := setupOpts(t, store.KeyCacheOptions{Heartbeat: 20 * time.Millisecond})
		start(t, b.cache)
		// The idle listener pings (pgx's Ping sends "-- ping").
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, b.admin.QueryRow(ctx,
				`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query = '-- ping'`,
				b.listenerApp).Scan(&n))
			return n == 1
		}, 5*time.Second, 10*time.Millisecond)

		// Heartbeats leave it working: a key is cached, and a revocation
		// still gets through. (A ping slower than 20 ms on a loaded machine
		// counts as a lost connection, so a reconnect may happen meanwhile;
		// that only flushes.)
		k := newKey(t, b)
		tx, err := b.admin.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		require.NoError(t, store.New(tx).APIKeyRevoke(ctx, b.orgID, k.ID))
		require.Eventually(t, func() bool {
			accepted(t, b.cache, k) // not committed yet: cached again
			return b.cache.Len() == 1
		}, 5*time.Second, 10*time.Millisecond)
		require.NoError(t, tx.Commit(ctx))
		require.Eventually(t, func() bool { return b.cache.Len() == 0 }, time.Second, time.Millisecond)
		rejected(t, b.cache, k)
	})

	t.Run("ListenerLostBypassesCacheUntilResubscribed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b.cache)
		gone, kept := newKey(t, b), newKey(t, b)
		accepted(t, b.cache, gone)
		accepted(t, b.cache, kept)
		deleteBehindItsBack(t, b, gone)
		accepted(t, b.cache, gone) // cached
		require.Equal(t, 2, b.cache.Len())

		// Kill the listener's backend, and keep it from reconnecting.
		b.gate.Store(false)
		var pid int32
		require.Eventually(t, func() bool {
			rows, err := b.admin.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, b.listenerApp)
			require.NoError(t, err)
			pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
			require.NoError(t, err)
			if len(pids) != 1 {
				return false
			}
			pid = pids[0]
			return true
		}, 5*time.Second, 10*time.Millisecond)
		var killed bool
		require.NoError(t, b.admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed))
		require.True(t, killed)
		require.Eventually(t, func() bool { return !b.cache.Live() }, 5*time.Second, time.Millisecond)
		require.Zero(t, b.cache.Len(), "losing the listener must flush the cache")

		// Not live: every request goes to the database, nothing is stored.
		rejected(t, b.cache, gone)
		before := b.tracer.lookups.Load()
		for range 3 {
			accepted(t, b.cache, kept)
		}
		require.Equal(t, before+3, b.tracer.lookups.Load())
		require.Zero(t, b.cache.Len())
		require.False(t, b.cache.Live())

		// Let it reconnect: it goes live again, empty, and caches again.
		b.gate.Store(true)
		require.Eventually(t, b.cache.Live, 10*time.Second, 5*time.Millisecond)
		rejected(t, b.cache, gone)
		before = b.tracer.lookups.Load()
		accepted(t, b.cache, kept)
		accepted(t, b.cache, kept)
		require.Equal(t, before+1, b.tracer.lookups.Load())
		require.Equal(t, 1, b.cache.Len())
	})

	t.Run("NotRunningIsAPassThrough", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k := newKey(t, b)
		require.False(t, b.cache.Live())
		accepted(t, b.cache, k)
		accepted(t, b.cache, k)
		require.EqualValues(t, 2, b.tracer.lookups.Load())
		require.Zero(t, b.cache.Len())
	})

	t.Run("RevocationDuringLookupIsNotCached", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b.cache)
		k, canary := newKey(t, b), newKey(t, b)

		// Revoke both in a transaction left open for now: until it commits,
		// both keys are live to everyone, so the canary gets cached.
		tx, err := b.admin.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		require.NoError(t, store.New(tx).APIKeyRevoke(ctx, b.orgID, k.ID))
		require.NoError(t, store.New(tx).APIKeyRevoke(ctx, b.orgID, canary.ID))
		accepted(t, b.cache, canary)
		require.Equal(t, 1, b.cache.Len())

		// Hold k's lookup once it has read k as live.
		release := make(chan struct{})
		var releaseOnce sync.Once
		releaseLookup := func() { releaseOnce.Do(func() { close(release) }) }
		t.Cleanup(releaseLookup) // before the pools close, should the test fail early
		b.tracer.hold.Store(&release)
		type result struct {
			p   crm.Principal
			err error
		}
		res := make(chan result, 1)
		go func() {
			p, err := b.cache.Authenticate(ctx, k.Key)
			res <- result{p, err}
		}()
		<-b.tracer.held

		// Commit: once the canary's notification is applied, k's (sent
		// first in the same transaction) has been too.
		require.NoError(t, tx.Commit(ctx))
		require.Eventually(t, func() bool { return b.cache.Len() == 0 }, time.Second, time.Millisecond)

		releaseLookup()
		r := <-res
		require.NoError(t, r.err) // the lookup read k before the commit
		require.Zero(t, b.cache.Len(), "a lookup overlapping its key's revocation was cached")
		rejected(t, b.cache, k)
		rejected(t, b.cache, canary)
	})

	t.Run("RevokeIsSeenAtOnceByTheRevokingStoresCaches", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other, _, _, _, _ := newCache(t, b, store.KeyCacheOptions{})
		start(t, b.cache)
		start(t, other)
		k := newKey(t, b)
		accepted(t, b.cache, k)
		accepted(t, other, k)

		// The running caches built on the revoking Store (serve builds its
		// KeyCache on the API's Store) drop the key before APIKeyRevoke
		// returns, not when the notification comes; a cache on another
		// Store, as in another process, drops it when the notification
		// comes. There is no process-wide registry of caches.
		require.NoError(t, b.cacheStore.APIKeyRevoke(ctx, b.orgID, k.ID))
		rejected(t, b.cache, k)
		require.Eventually(t, func() bool {
			_, err := other.Authenticate(ctx, k.Key)
			return errors.Is(err, crm.ErrNotFound)
		}, 5*time.Second, 5*time.Millisecond, "the notification never reached the other cache")
		require.ErrorIs(t, b.cacheStore.APIKeyRevoke(ctx, b.orgID, k.ID), crm.ErrNotFound)
	})

	t.Run("RevokeReachesOtherProcessesByNotification", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other, _, otherTracer, _, _ := newCache(t, b, store.KeyCacheOptions{})
		start(t, b.cache)
		start(t, other)
		k, bystander := newKey(t, b), newKey(t, b)

		// Revoke in a transaction and cache the key while it is open (the
		// key is live until the commit): the in-process drop is then spent,
		// as it would be in another process, and only the notification that
		// comes with the commit can take the key out of the caches.
		tx, err := b.admin.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		require.NoError(t, store.New(tx).APIKeyRevoke(ctx, b.orgID, k.ID))
		for _, c := range []*store.KeyCache{b.cache, other} {
			accepted(t, c, k)
			accepted(t, c, bystander)
			accepted(t, c, k)
			require.Equal(t, 2, c.Len())
		}
		require.EqualValues(t, 2, otherTracer.lookups.Load())

		require.NoError(t, tx.Commit(ctx))
		committed := time.Now()
		for _, c := range []*store.KeyCache{b.cache, other} {
			require.Eventually(t, func() bool {
				_, err := c.Authenticate(ctx, k.Key)
				return err != nil
			}, time.Second, time.Millisecond)
		}
		t.Logf("both caches rejected the revoked key %s after the commit", time.Since(committed))
		for range 50 {
			rejected(t, b.cache, k)
			rejected(t, other, k)
		}
		// The other key stays cached.
		before := otherTracer.lookups.Load()
		accepted(t, other, bystander)
		require.Equal(t, before, otherTracer.lookups.Load())
		require.Equal(t, 1, other.Len())
	})

	t.Run("UnknownKeyIsNotCached", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b.cache)
		unknown := crm.APIKey{Key: store.KeyPrefix + "no-such-key"}
		rejected(t, b.cache, unknown)
		rejected(t, b.cache, unknown)
		require.EqualValues(t, 2, b.tracer.lookups.Load())
		require.Zero(t, b.cache.Len())

		// Without the prefix it is not even looked up.
		rejected(t, b.cache, crm.APIKey{Key: "not-a-key"})
		require.EqualValues(t, 2, b.tracer.lookups.Load())

		// Neither is a key that becomes valid later cached as invalid.
		k := newKey(t, b)
		accepted(t, b.cache, k)
	})

	t.Run("CacheKeyIsTheHash", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b.cache)
		k := newKey(t, b)
		accepted(t, b.cache, k)
		h := sha256.Sum256([]byte(k.Key))
		b.cache.Forget(h[:])
		require.Zero(t, b.cache.Len())

		// Anything but a hash flushes everything, as an unparseable
		// notification does. (A real one would reach every cache of the
		// database, other tests' too.)
		accepted(t, b.cache, k)
		require.Equal(t, 1, b.cache.Len())
		b.cache.Forget([]byte("not a hash"))
		require.Zero(t, b.cache.Len())
		require.True(t, b.cache.Live())
	})
}
