// Package testredis gives tests a real Redis. Only _test.go files import it.
//
// Tests never flush shared state: each takes a unique key prefix or queue
// name and cleans up only what it made. When Redis is down, tests fail with
// a message that says how to start it; they never skip.
package testredis

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// URL is the test Redis: TEST_REDIS_URL or the local default.
func URL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Client returns a client on the test Redis, closed after the test.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("testredis: parse %s: %v", URL(), err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("testredis: Redis is not reachable at %s: %v (run scripts/services.sh)", URL(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var seq atomic.Int64

// Name returns a name unique to this test run, for a queue or key prefix.
func Name(t testing.TB) string {
	return fmt.Sprintf("test-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000, seq.Add(1))
}
