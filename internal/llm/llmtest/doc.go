// Package llmtest is the test kit for language-model providers: a fake
// OpenAI-compatible server and the conformance test every provider passes.
//
// Only _test.go files import it (internal/archtest enforces that). It uses
// the standard library, testify's require, and the module's internal/llm and
// internal/crm packages.
//
// # The fake server
//
// NewServer starts an httptest.Server on loopback that speaks the two
// endpoints Logbook uses, POST /v1/chat/completions and POST /v1/embeddings,
// the way api.openai.com does. Every request is checked — bearer token, JSON
// body, expected model, message roles, response_format (json_schema must be
// strict, named, and a valid strict-mode object schema; json_object needs the
// word "JSON" in the messages, as OpenAI requires) — and a malformed one fails
// the test with t.Errorf. Requests are recorded for assertions.
//
// Answers are scripted with Server.Reply (chat) and Server.ReplyEmbed
// (embeddings), consumed in order, and cover the failures a provider must
// classify: error statuses with Retry-After, delays past the client's
// timeout, bodies cut mid-JSON, a server that refuses json_schema, answers
// cut by the token limit, malformed content.
//
// A chat request with "stream": true is answered with server-sent events
// the way OpenAI streams (chat.completion.chunk objects, the content in
// small deltas, the finish_reason in the last chunk, a usage chunk when
// stream_options.include_usage asks for one, then "data: [DONE]"), after
// the same request checks. Its faults are scripted on the same Reply: an
// error status before the stream, a pause between chunks (ChunkDelay), a
// connection cut halfway without [DONE] (Truncate), a chunk that is not
// valid JSON (BadChunk), and Hold, which keeps the end of the answer back
// until the test lets it go. With an empty queue a chat
// request is answered by Server.Default (or a 500 saying nothing was
// scripted) and an embeddings request by deterministic, L2-normalised
// vectors (Vector).
//
// # Conformance
//
// Conformance is the one test both providers (openai against the fake
// server, local offline) must pass, after River's riverdrivertest: right
// number and dimension of vectors, unit norm, determinism, empty input,
// cancelled contexts, and a follow-up completion that decodes into
// llm.FollowUpOutput.
package llmtest
