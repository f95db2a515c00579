package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"logbook/internal/llm"
)

// ErrTruncated is wrapped by the retryable error Complete returns when the
// server stopped the answer at the token limit (finish_reason "length")
// although JSON was asked for: a cut JSON object cannot be parsed, so the
// caller may retry, raise MaxTokens or send less text.
var ErrTruncated = errors.New("openai: answer truncated at the token limit")

// statusError is an HTTP error answer, with the server's message copied in
// (the API key removed). It matches llm.ErrPermanent when permanent.
type statusError struct {
	op        string
	status    int
	msg       string
	permanent bool
}

// Error reports the operation, the status and the server's message.
func (e *statusError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("openai: %s: status %d %s", e.op, e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("openai: %s: status %d: %s", e.op, e.status, e.msg)
}

// Is makes errors.Is(err, llm.ErrPermanent) true for permanent statuses.
func (e *statusError) Is(target error) bool {
	return e.permanent && target == llm.ErrPermanent
}

// permanentStatus reports whether retrying a request answered with status
// can never succeed. 408, 409 and 429 are the client errors that can clear
// by themselves; every 5xx is worth another try.
func permanentStatus(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusConflict, status == http.StatusTooManyRequests:
		return false
	case status >= 400 && status < 500:
		return true
	default:
		return false
	}
}

// clientSideErrors are go-openai's own refusals, raised before anything is
// sent: the same request is refused every time.
var clientSideErrors = []error{ //nolint:gochecknoglobals // read-only table of go-openai sentinels
	goopenai.ErrChatCompletionInvalidModel,
	goopenai.ErrChatCompletionStreamNotSupported,
	goopenai.ErrContentFieldsMisused,
	goopenai.ErrReasoningEffortUnsupported,
	goopenai.ErrReasoningToolsRequireResponses,
	goopenai.ErrReasoningSamplingUnsupported,
	goopenai.ErrReasoningModelMaxTokensDeprecated,
	goopenai.ErrReasoningModelLimitationsLogprobs,
	goopenai.ErrReasoningModelLimitationsOther,
}

// classify turns a failed go-openai call into one of this package's errors.
// parent is the caller's context, reqCtx the per-request one derived from it,
// header the answer's headers (nil when there was no answer). go-openai's
// errors are never wrapped: their text is copied, with the API key removed.
func (p *Provider) classify(parent, reqCtx context.Context, op string, err error, header http.Header) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("openai: %s: %w", op, perr)
	}

	var (
		apiErr *goopenai.APIError
		reqErr *goopenai.RequestError
	)
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode > 0:
		return p.statusErr(op, apiErr.HTTPStatusCode, apiErr.Message, header)
	case errors.As(err, &reqErr) && reqErr.HTTPStatusCode > 0:
		return p.statusErr(op, reqErr.HTTPStatusCode, bodyMessage(reqErr.Body), header)
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("openai: %s: no answer within %s (per-request timeout)", op, p.timeout)
	}

	var marshalErr *json.MarshalerError
	var unsupported *json.UnsupportedValueError
	if errors.As(err, &marshalErr) || errors.As(err, &unsupported) {
		return fmt.Errorf("openai: %s: encode request: %s: %w", op, p.redact(err.Error()), llm.ErrPermanent)
	}
	for _, sentinel := range clientSideErrors {
		if errors.Is(err, sentinel) {
			return fmt.Errorf("openai: %s: %s: %w", op, p.redact(err.Error()), llm.ErrPermanent)
		}
	}
	// A dropped connection, a timeout of the caller's http.Client, a cut or
	// unreadable body: all may clear on the next attempt.
	return fmt.Errorf("openai: %s: %s", op, p.redact(err.Error()))
}

// statusErr builds the error for an HTTP error answer, as an
// *llm.RetryAfterError
// when the server said how long to wait.
func (p *Provider) statusErr(op string, status int, msg string, header http.Header) error {
	se := &statusError{op: op, status: status, msg: p.redact(clip(msg)), permanent: permanentStatus(status)}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if after, ok := retryAfter(header, time.Now()); ok {
			return &llm.RetryAfterError{After: after, Err: se}
		}
	}
	return se
}

// bodyMessage extracts something readable from an error body go-openai
// could not parse as {"error": {...}}: the "message" or "detail" field some
// servers send (llama.cpp, FastAPI-based servers), or else the raw text.
func bodyMessage(body []byte) string {
	var v struct {
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		switch {
		case v.Message != "":
			return v.Message
		case len(v.Detail) > 0:
			return rawText(v.Detail)
		case len(v.Error) > 0:
			return rawText(v.Error)
		}
	}
	return strings.TrimSpace(string(body))
}

// rawText returns a JSON string's value, or the JSON itself.
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// clip shortens a server message (an HTML error page, say) to what fits in
// a log line.
func clip(msg string) string {
	const limit = 500
	msg = strings.TrimSpace(msg)
	if len(msg) <= limit {
		return msg
	}
	return strings.ToValidUTF8(msg[:limit], "") + "…"
}

// retryAfter reads how long the server asked to wait: Retry-After-Ms
// (OpenAI), else Retry-After as seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// schemaRejected reports whether err is a server's refusal of the
// json_schema response format, as vLLM, older Ollama or llama.cpp builds and
// other OpenAI-compatible servers word it.
func schemaRejected(err error) bool {
	var se *statusError
	if !refused(err) || !errors.As(err, &se) {
		return false
	}
	msg := strings.ToLower(se.msg)
	for _, hint := range []string{
		"response_format", "response format", "json_schema", "json schema",
		"not supported", "unsupported", "unknown parameter", "unrecognized", "extra inputs",
	} {
		if strings.Contains(msg, hint) {
			return true
		}
	}
	return false
}

// refused reports whether err is a 400 or 422 answer: the server refused
// the request as sent.
func refused(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.status == http.StatusBadRequest || se.status == http.StatusUnprocessableEntity)
}

// redact removes the API key from s.
func (p *Provider) redact(s string) string { return p.scrub(s) }
