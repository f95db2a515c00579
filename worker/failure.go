package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/store"
	"logbook/summarize"
)

// errPanic marks a handler's recovered panic: a bug, which the same input
// hits again on every retry.
var errPanic = errors.New("worker: internal error (panic)")

// failure is what a task's error means for its transcript: whether any
// retry could succeed, and the reason in words a user understands (it is
// stored in transcripts.error and shown by GET /v1/transcripts/{id}; the
// Go error, with its internals, goes to the log only).
type failure struct {
	permanent bool
	reason    string
}

// classify is the one place that decides whether an error is worth a
// retry. Permanent, because the same input fails the same way again:
//
//   - a transcript summarize refuses before any call (*summarize.RejectedError:
//     empty, too long, a turn of text without breaks, no words);
//   - a validation error (crm.ErrInvalid, *crm.ValidationError), from the
//     payload, the summarizer or the store;
//   - a request the model refused (llm.ErrPermanent: 400/401/403/404 and the
//     like);
//   - a model answer that was still unusable after summarize's immediate
//     repair call (summarize.ErrInvalidOutput);
//   - a bad task payload and a panic (a bug);
//   - anything already wrapping asynq.SkipRetry.
//
// Transient (asynq retries with backoff): timeouts, a 429 or 5xx from the
// model, a database or network that is unavailable, a cancelled context
// (shutdown), and any error not known to be permanent.
func classify(err error) failure {
	var rej *summarize.RejectedError
	var ve *crm.ValidationError
	switch {
	case err == nil:
		return failure{}
	case errors.As(err, &rej):
		return failure{permanent: true, reason: rej.Reason}
	case errors.Is(err, errPanic):
		return failure{permanent: true, reason: "internal error (panic); the details are in the worker's log"}
	case errors.Is(err, llm.ErrPermanent):
		return failure{permanent: true, reason: "the language model refused the request" + providerDetail(err)}
	case errors.Is(err, summarize.ErrInvalidOutput):
		return failure{permanent: true, reason: "the language model's answer could not be used (not the JSON asked for, twice in a row); " +
			"send the transcript again to retry"}
	case errors.As(err, &ve):
		return failure{permanent: true, reason: "the transcript cannot be processed: " + ve.Error()}
	case errors.Is(err, crm.ErrInvalid):
		return failure{permanent: true, reason: "the transcript cannot be processed: it is not valid"}
	case errors.Is(err, asynq.SkipRetry):
		return failure{permanent: true, reason: "the task cannot be processed; the details are in the worker's log"}
	}
	msg := strings.ToLower(err.Error())
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return failure{reason: "processing was interrupted (the worker stopped); it will be retried"}
	case errors.Is(err, store.ErrUnavailable): // the store says so (interpretError); its other errors are not outages
		return failure{reason: "the database was unavailable; it will be retried"}
	case strings.Contains(msg, "status 429"):
		return failure{reason: "the language model is rate limited (429); it will be retried"}
	case strings.Contains(msg, "status 5"):
		return failure{reason: "the language model failed" + providerDetail(err) + "; it will be retried"}
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "timeout"), errors.As(err, &netErr) && netErr.Timeout():
		return failure{reason: "the language model did not answer in time (timeout); it will be retried"}
	}
	return failure{reason: "a temporary error; it will be retried (the details are in the worker's log)"}
}

// providerDetail returns " (status 401: Incorrect API key provided)" when
// err carries the model server's HTTP status and message (the provider
// removes the API key from it), else "".
func providerDetail(err error) string {
	msg := err.Error()
	i := strings.LastIndex(msg, "status ")
	if i < 0 {
		return ""
	}
	d := msg[i:]
	// Cut what wrapping appended after the server's message.
	for _, tail := range []string{": " + llm.ErrPermanent.Error(), ": " + asynq.SkipRetry.Error()} {
		d = strings.TrimSuffix(d, tail)
	}
	if len(d) > 300 {
		d = d[:300] + "…"
	}
	return fmt.Sprintf(" (%s)", strings.ToValidUTF8(d, ""))
}
