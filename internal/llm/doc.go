// Package llm declares Logbook's two seams to a language model, Completer
// and Embedder (one method each), their request and response types, the
// structured outputs each prompt purpose must return, ErrPermanent, which a
// provider wraps around failures that retrying cannot fix (a bad request, a
// wrong key) so the worker stops retrying them, and RetryAfterError, which
// says how long a server asked the caller to wait.
//
// A request carries what package prompts owns: the prompt's Purpose
// (prompts.PurposeNotes…, its name and version) and, in Data, the
// prompts input it was rendered from. The outputs (NotesOutput,
// FollowUpOutput, AnswerOutput) are declared here, not in prompts: they are
// what every provider must answer with and what the callers decode and
// validate, whatever rendered the request; the local provider builds them
// without any prompt text.
//
// The package imports only the standard library and prompts. The
// providers live in the subpackages openai (any OpenAI-compatible server)
// and local (offline, deterministic); callers depend on these interfaces,
// never on a provider.
package llm
