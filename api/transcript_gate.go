package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// TranscriptLimits bound the memory posted transcripts take (issue #11): a
// transcript's body is read, decoded, parsed and stored only while it holds
// a share of a budget of Parses maximum-size transcripts.
type TranscriptLimits struct {
	// Parses is how many maximum-size transcripts (activity.
	// MaxTranscriptBytes of body) are read, parsed and stored at once; 0
	// means DefaultTranscriptParses. A transcript weighs what its
	// Content-Length says (a body without one weighs the maximum), so
	// smaller ones share the budget: Parses × 16 MiB of posted transcripts
	// are in memory at most, however many arrive together.
	Parses int
	// Wait is how long a posted transcript waits for its share before the
	// answer is 503 with Retry-After; 0 means DefaultTranscriptWait. The
	// wait also ends when the client goes away.
	Wait time.Duration
}

// Defaults of TranscriptLimits.
const (
	// DefaultTranscriptParses: one maximum-size transcript at a time
	// keeps a server that was idle under 300 MB however many are posted
	// together (the memory bench: storing one allocates about fifteen
	// times its size, most of it encoding it for PostgreSQL), while
	// transcripts of ordinary size (tens to hundreds of KB) still go
	// through side by side.
	DefaultTranscriptParses = 1
	// DefaultTranscriptWait covers a queue of a dozen or more
	// maximum-size transcripts (one to two seconds each) and is shorter
	// than a client's usual timeout.
	DefaultTranscriptWait = 30 * time.Second
)

// transcriptLimitsDoc is what the OpenAPI document says of the limits.
const transcriptLimitsDoc = "A body over 16 MiB is 413 (at once when its Content-Length says so). Transcripts are read and " +
	"parsed a few at a time (by size); one that waits too long for its turn is 503 with Retry-After."

// transcriptRetryAfter is the Retry-After of a 503 when the wait ends.
const transcriptRetryAfter = 10 * time.Second

// transcriptGate is the budget of TranscriptLimits.
type transcriptGate struct {
	sem   *semaphore.Weighted
	limit int64 // the weight of one maximum-size transcript
	wait  time.Duration
}

func newTranscriptGate(l TranscriptLimits, limit int64) *transcriptGate {
	if l.Parses <= 0 {
		l.Parses = DefaultTranscriptParses
	}
	if l.Wait <= 0 {
		l.Wait = DefaultTranscriptWait
	}
	return &transcriptGate{sem: semaphore.NewWeighted(int64(l.Parses) * limit), limit: limit, wait: l.Wait}
}

// enter waits for r's share of the budget and returns the function that
// gives it back (only its first call does). It reads nothing of the body.
// A Content-Length over the limit is 413 at once; a wait longer than the
// gate's is 503 with Retry-After; a client that goes away while waiting
// gets its context's error.
func (g *transcriptGate) enter(w http.ResponseWriter, r *http.Request) (func(), error) {
	if err := checkContentLength(r, g.limit); err != nil {
		return nil, err
	}
	weight := g.limit
	if r.ContentLength >= 0 {
		weight = max(r.ContentLength, 1)
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.wait)
	defer cancel()
	if err := g.sem.Acquire(ctx, weight); err != nil {
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			w.Header().Set("Retry-After", strconv.Itoa(int(transcriptRetryAfter/time.Second)))
			return nil, errStatus(http.StatusServiceUnavailable,
				"the server is busy reading other transcripts; retry in %d seconds", int(transcriptRetryAfter/time.Second))
		}
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { g.sem.Release(weight) }) }, nil
}

// checkContentLength is 413 when the request declares a body longer than
// limit, before any of it is read.
func checkContentLength(r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	return nil
}

func tooLarge(limit int64) error {
	return errStatus(http.StatusRequestEntityTooLarge, "request body is over the limit of %d bytes", limit)
}
