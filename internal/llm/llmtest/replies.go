package llmtest

import (
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Reply scripts the answer to one request. The zero Reply answers 200 with
// an empty assistant message (chat) or default vectors (embeddings).
//
// A chat request with "stream": true gets the same reply as server-sent
// events when its status is 2xx: a first chunk with the assistant role, the
// content in small deltas, a chunk with the finish_reason, a usage chunk
// when the request asked for one (stream_options.include_usage), then
// "data: [DONE]". A non-2xx status (and RejectSchema) is answered before
// any stream, as a JSON error body, the way OpenAI does. The fields marked
// "for a stream" script the faults a streaming client must handle.
type Reply struct {
	// BadChunk, for a stream, sends a chunk whose JSON is cut off halfway
	// through the content deltas, as a broken proxy might, then carries on.
	BadChunk bool
	// Body, when set, is sent as the raw response body instead of one
	// built from the other fields (for a 2xx stream: the raw event stream,
	// with Content-Type text/event-stream).
	Body string
	// ChunkDelay, for a stream, is the pause before each chunk after the
	// first (each content delta, the finish chunk and the usage chunk); it
	// ends early, answering nothing more, when the client gives up.
	ChunkDelay time.Duration
	// Content is the assistant message content of a chat answer. A stream
	// sends it in deltas of at most four characters unless Deltas is set.
	Content string
	// Delay holds the answer back; it ends early, answering nothing, when
	// the client gives up.
	Delay time.Duration
	// Deltas, for a stream, are the content deltas to send, in order,
	// instead of Content cut into pieces.
	Deltas []string
	// Dim, for an embeddings answer, makes the default vectors this long
	// instead of the requested dimension.
	Dim int
	// Embeddings, for an embeddings answer, are the vectors to return.
	Embeddings [][]float32
	// Error is the message of the OpenAI-style error body sent with a
	// non-2xx Status.
	Error string
	// FinishReason is the chat answer's finish_reason; default "stop".
	FinishReason string
	// Header holds extra response headers (Retry-After…).
	Header map[string]string
	// Hold, for a stream, holds back the last content delta and all that
	// follows until it is closed, so a test can see what a client does
	// with the deltas before the answer is over. The stream ends early,
	// answering nothing more, when the client gives up.
	Hold <-chan struct{}
	// RejectSchema answers 400 "response_format json_schema is not
	// supported", in vLLM's error format, as servers without structured
	// output do.
	RejectSchema bool
	// Status is the HTTP status; zero means 200.
	Status int
	// Truncate sends only the first half of the body, then cuts the
	// connection. For a stream it sends the first half of the content
	// deltas, then cuts the connection with neither a finish_reason nor
	// [DONE].
	Truncate bool
	// Usage is the chat answer's token usage; when zero, rough counts
	// (four bytes a token) are reported. A stream reports it only when the
	// request asked (stream_options.include_usage).
	Usage Usage
}

// Reply429 returns a 429 rate-limit answer with a Retry-After header (none
// when retryAfter is zero).
func Reply429(retryAfter time.Duration) Reply {
	r := Reply{
		Status: http.StatusTooManyRequests,
		Error:  "Rate limit reached for requests. Please try again later.",
	}
	if retryAfter > 0 {
		r.Header = map[string]string{
			"Retry-After": strconv.FormatInt(int64(math.Ceil(retryAfter.Seconds())), 10),
		}
		if retryAfter%time.Second != 0 {
			r.Header["Retry-After-Ms"] = strconv.FormatInt(retryAfter.Milliseconds(), 10)
		}
	}
	return r
}

// Reply500 returns a 500 server-error answer.
func Reply500() Reply {
	return Reply{
		Status: http.StatusInternalServerError,
		Error:  "The server had an error while processing your request.",
	}
}

// ReplyContent returns a successful chat answer with content as the
// assistant message.
func ReplyContent(content string) Reply { return Reply{Content: content} }

// ReplyMalformed returns a successful chat answer whose content is not
// JSON, as a model that ignored the response format would send.
func ReplyMalformed() Reply {
	return Reply{Content: `Sure! Here are the notes you asked for: {"summary": [`}
}

// ReplyNoChoices returns a successful chat answer with an empty choices
// list.
func ReplyNoChoices() Reply {
	return Reply{Body: `{"id":"chatcmpl-llmtest","object":"chat.completion","created":1700000000,` +
		`"model":"test-chat","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`}
}

// ReplyTimeout returns a chat answer ("{}") held back for d, to outlast a
// client's timeout.
func ReplyTimeout(d time.Duration) Reply { return Reply{Delay: d, Content: "{}"} }

// Vector returns the default embedding of text at dimension dim: a
// deterministic pseudo-random vector seeded by the text, L2-normalised.
func Vector(text string, dim int) []float32 {
	h1, h2 := fnv.New64a(), fnv.New64()
	_, _ = io.WriteString(h1, text)
	_, _ = io.WriteString(h2, text)
	rng := rand.New(rand.NewPCG(h1.Sum64(), h2.Sum64())) //nolint:gosec // deterministic test vectors, not security
	v := make([]float64, dim)
	var sum float64
	for i := range v {
		v[i] = rng.NormFloat64()
		sum += v[i] * v[i]
	}
	norm := math.Sqrt(sum)
	out := make([]float32, dim)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}
