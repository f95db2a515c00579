// Package openai adapts go-openai (github.com/sashabaranov/go-openai) to the
// llm.Completer and llm.Embedder interfaces. It is the only package in the
// module that imports go-openai: everything else sees the two one-method
// interfaces and the errors described below.
//
// # Servers
//
// Any OpenAI-compatible server works: api.openai.com (the default when
// Config.BaseURL is empty), vLLM, Ollama, LM Studio or the llama.cpp server,
// each reached through its /v1 base URL (OPENAI_BASE_URL, for example
// http://127.0.0.1:11434/v1 for Ollama). Tests point BaseURL at the fake
// server of package llmtest on loopback, never at the internet.
//
// # Structured output
//
// A request with a Schema is sent as strict structured output
// (response_format json_schema, strict true); a request with only JSON set is
// sent in JSON mode (response_format json_object). Many self-hosted servers
// refuse json_schema. When a server answers such a request with a 400 (or
// 422) that names response_format, json_schema, an unknown parameter or
// "not supported", the provider repeats the call once, at once, in JSON mode
// with the schema written into the system prompt, and remembers that for its
// lifetime, so later calls go straight to JSON mode (unless JSON mode was
// refused as well: then the 400 was about something else). The caller
// validates the JSON either way.
//
// # Streaming
//
// CompleteStream sends the same request with "stream": true and hands each
// piece of the answer to a callback as it arrives (retrieval streams account
// answers through it). It asks for the token usage in a last chunk
// (stream_options.include_usage) and stops asking, for the Provider's
// lifetime, once a server refuses that parameter. The json_schema fallback
// above applies too; both fallbacks happen only on a refusal that comes
// before the stream, so the callback never sees two answers. Config.Timeout
// bounds the whole stream, not the pause between chunks. The answer is
// checked at the end as Complete checks it; a stream that ends without a
// finish_reason (cut, or closed early) is a retryable error, never a
// partial answer.
//
// # Errors
//
// Failures are classified here, once, for both methods:
//
//   - HTTP 400, 401, 403, 404, 422 (and any other 4xx except 408, 409 and
//     429) wrap llm.ErrPermanent: retrying the same request cannot succeed.
//     The message carries the status and the server's message.
//   - HTTP 408, 409, 429 and 5xx, a per-request timeout (Config.Timeout), a
//     dropped connection, a cut or unreadable body, an answer without
//     content, and an answer cut by the token limit when JSON was asked for
//     (ErrTruncated) are plain, retryable errors.
//   - A 429 (or 503) that carries Retry-After or Retry-After-Ms comes back as
//     an *llm.RetryAfterError, so the worker can wait as long as the server asked
//     before retrying.
//   - When the caller's own context ends, the error wraps ctx.Err(), so
//     errors.Is(err, context.Canceled) holds.
//
// Error messages never contain the API key: go-openai's errors are not
// wrapped (their text is copied with the key removed). Config's String,
// GoString and LogValue methods mask it, and a Provider keeps it in no field
// that fmt could print.
//
// Retries are not done here: they belong to the worker, which sees
// llm.ErrPermanent and llm.RetryAfter and decides. The one exception is the
// json_schema fallback above, which is a change of request, not a retry.
package openai
