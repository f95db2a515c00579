package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/internal/crm"
)

// APIKeysChannel is the PostgreSQL NOTIFY channel on which APIKeyRevoke
// announces a revocation; the payload is the key's SHA-256 hash in hex.
const APIKeysChannel = "logbook_api_keys"

// KeyCacheOptions tunes NewKeyCache.
type KeyCacheOptions struct {
	// MaxEntries bounds the cache; zero is 10,000. When it is full, an
	// arbitrary entry is evicted to make room.
	MaxEntries int
	// Logger gets the listener's connection problems; nil discards.
	Logger *slog.Logger
	// Heartbeat is how long the listener waits for a notification before it
	// pings its connection to prove it is still alive; zero is 1 s. A ping
	// that takes longer than Heartbeat counts as a lost connection.
	Heartbeat time.Duration
}

// KeyCache is an in-process cache of API key authentications in front of
// Store.APIKeyAuthenticate, kept correct across processes by LISTEN/NOTIFY:
// APIKeyRevoke sends the revoked key's hash on APIKeysChannel in its own
// transaction, and PostgreSQL delivers a NOTIFY only once that transaction
// has committed, so every listening process drops the key the moment the
// revocation is visible. In the revoking process itself APIKeyRevoke also
// drops the key from every running KeyCache before it returns, so the
// revoking client's very next request is refused whichever way it races the
// notification.
//
// The cache is used only while it is live, that is while Run holds a
// subscribed listener connection:
//
//   - While the listener is disconnected (not started yet, connection lost,
//     reconnecting) the cache is bypassed entirely: every Authenticate
//     queries the database and nothing is stored. On losing the connection
//     the cache is flushed, and on subscribing again it is flushed before it
//     goes live, so a notification missed while disconnected can never let a
//     revoked key through.
//   - A silently dead connection (no reset from the network) is caught by the
//     heartbeat: an idle listener pings every Heartbeat and treats a ping
//     slower than Heartbeat as a lost connection, so the cache cannot stay
//     live on a dead connection for longer than about two heartbeats.
//   - The only window in which a revoked key is still accepted, by another
//     process than the one that revoked it, is the gap between the revoking
//     COMMIT and the notification's delivery to that process: normally well
//     under a millisecond. (A revocation inside a longer transaction, on a
//     Store made on a pgx.Tx, is announced at that transaction's commit.)
//
// Only successful authentications are cached (an unknown or revoked key
// always goes to the database), keyed by the key's SHA-256 hash, never by
// the secret. A query whose result could be stale is not stored: one that
// overlapped a notification for the same key, a flush, or a change of
// subscription.
//
// The zero value is not usable; call NewKeyCache. A KeyCache is safe for
// concurrent use.
type KeyCache struct {
	pool      *pgxpool.Pool
	store     *Store
	max       int
	log       *slog.Logger
	heartbeat time.Duration

	mu      sync.RWMutex
	live    bool
	gen     uint64 // bumped on every flush and change of liveness
	entries map[[sha256.Size]byte]crm.Principal
	// inflight tracks the database lookups under way per hash, so that a
	// notification for a hash arriving while its lookup runs keeps the
	// (possibly stale) result out of the cache.
	inflight map[[sha256.Size]byte]*keyFlight
}

type keyFlight struct {
	refs  int
	stale bool
}

// NewKeyCache returns a cache that authenticates through s and listens for
// revocations on a connection of pool. It is not live (so it is a plain
// pass-through to s) until Run has subscribed.
func NewKeyCache(pool *pgxpool.Pool, s *Store, opts KeyCacheOptions) *KeyCache {
	c := &KeyCache{
		pool: pool, store: s, max: opts.MaxEntries, log: opts.Logger, heartbeat: opts.Heartbeat,
		entries:  map[[sha256.Size]byte]crm.Principal{},
		inflight: map[[sha256.Size]byte]*keyFlight{},
	}
	if c.max <= 0 {
		c.max = 10_000
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.heartbeat <= 0 {
		c.heartbeat = time.Second
	}
	return c
}

// Live reports whether the cache is subscribed and so in use.
func (c *KeyCache) Live() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

// Len is the number of cached keys.
func (c *KeyCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// Authenticate is Store.APIKeyAuthenticate, answered from the cache when it
// is live and holds the key.
func (c *KeyCache) Authenticate(ctx context.Context, secret string) (crm.Principal, error) {
	if !strings.HasPrefix(secret, KeyPrefix) {
		return crm.Principal{}, fmt.Errorf("store: authenticate: %w", crm.ErrNotFound)
	}
	h := sha256.Sum256([]byte(secret))

	c.mu.RLock()
	p, hit := c.entries[h]
	live := c.live
	c.mu.RUnlock()
	if live && hit {
		p.Scopes = slices.Clone(p.Scopes)
		return p, nil
	}
	if !live {
		return c.store.APIKeyAuthenticate(ctx, secret)
	}

	// Live and not cached: look it up, and store the answer only if nothing
	// that could make it stale happened while the query ran.
	c.mu.Lock()
	gen, live := c.gen, c.live
	var f *keyFlight
	if live {
		f = c.inflight[h]
		if f == nil {
			f = &keyFlight{}
			c.inflight[h] = f
		}
		f.refs++
	}
	c.mu.Unlock()

	p, err := c.store.APIKeyAuthenticate(ctx, secret)

	if f != nil {
		c.mu.Lock()
		f.refs--
		if f.refs == 0 {
			delete(c.inflight, h)
		}
		if err == nil && c.live && c.gen == gen && !f.stale {
			c.put(h, p)
		}
		c.mu.Unlock()
	}
	if err != nil {
		return crm.Principal{}, err
	}
	p.Scopes = slices.Clone(p.Scopes)
	return p, nil
}

// put stores p under h, evicting an arbitrary entry when full. c.mu is held.
func (c *KeyCache) put(h [sha256.Size]byte, p crm.Principal) {
	if _, ok := c.entries[h]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[h] = p
}

// Forget drops the key with this SHA-256 hash from the cache and keeps a
// lookup of it under way from being stored. Anything but a SHA-256 hash
// flushes the whole cache. APIKeyRevoke calls it on every running KeyCache
// of the process; nothing else needs to.
func (c *KeyCache) Forget(hash []byte) {
	var h [sha256.Size]byte
	if len(hash) != len(h) {
		c.flush()
		return
	}
	copy(h[:], hash)
	c.mu.Lock()
	delete(c.entries, h)
	if f := c.inflight[h]; f != nil {
		f.stale = true
	}
	c.mu.Unlock()
}

// flush empties the cache; no lookup under way is stored.
func (c *KeyCache) flush() {
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.mu.Unlock()
}

// setLive flushes the cache and marks it live or not.
func (c *KeyCache) setLive(live bool) {
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.live = live
	c.mu.Unlock()
}

// notified applies a notification's payload: the hex hash of a revoked key;
// anything else flushes the whole cache.
func (c *KeyCache) notified(payload string) {
	b, err := hex.DecodeString(payload)
	if err != nil || len(b) != sha256.Size {
		c.log.Warn("api key cache: unexpected notification payload; flushing", slog.String("payload", payload))
		c.flush()
		return
	}
	c.Forget(b)
}

// keyCaches are the KeyCaches built on a Store (NewKeyCache) whose Run is
// running. APIKeyRevoke drops the revoked key from each of them before it
// returns, so that a revocation is seen at once by the process that made it:
// the notification alone races the revoking client's next request, and
// within one process loses that race often (two times in three in the API's
// test). Other processes rely on the notification. Each Store made by New
// has one set, shared with the Stores WithTx derives from it.
type keyCaches struct {
	mu     sync.Mutex
	caches map[*KeyCache]struct{}
}

func (k *keyCaches) add(c *KeyCache) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.caches == nil {
		k.caches = map[*KeyCache]struct{}{}
	}
	k.caches[c] = struct{}{}
}

func (k *keyCaches) remove(c *KeyCache) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.caches, c)
}

// forget drops hash from every running KeyCache of the set.
func (k *keyCaches) forget(hash []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for c := range k.caches {
		c.Forget(hash)
	}
}

// Run keeps the cache subscribed until ctx is done, then returns ctx's
// error. It holds one connection taken out of the pool for LISTEN. On any
// error the cache stops being live and is flushed, and Run reconnects after
// a back-off growing from 100 ms to 5 s; once subscribed again the cache is
// flushed and goes live.
func (c *KeyCache) Run(ctx context.Context) error {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 5 * time.Second
	c.store.caches.add(c)
	defer c.store.caches.remove(c)
	backoff := minBackoff
	for {
		subscribed, err := c.listen(ctx)
		c.setLive(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if subscribed {
			backoff = minBackoff
		}
		c.log.Warn("api key cache: listener lost; authenticating against the database until it reconnects",
			slog.Any("error", err), slog.Duration("retry_in", backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listen subscribes on a connection of its own and applies notifications
// until an error. subscribed tells whether it got as far as going live.
func (c *KeyCache) listen(ctx context.Context) (subscribed bool, err error) {
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// A listening connection must never go back to the pool: it would
	// deliver notifications to whoever gets it next.
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()

	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{APIKeysChannel}.Sanitize()); err != nil {
		return false, err
	}
	c.setLive(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, c.heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			c.notified(n.Payload)
		}
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Idle for a heartbeat: prove the connection is alive. Any
			// notification read meanwhile is queued on conn and comes out
			// of the next WaitForNotification.
			pctx, cancel := context.WithTimeout(ctx, c.heartbeat)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, fmt.Errorf("heartbeat: %w", err)
			}
		default:
			return true, err
		}
	}
}
