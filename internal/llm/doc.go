// Package llm declares Logbook's two seams to a language model, Completer
// and Embedder (one method each), their request and response types, the
// structured outputs each prompt purpose must return, and ErrPermanent,
// which a provider wraps around failures that retrying cannot fix (a bad
// request, a wrong key) so the worker stops retrying them.
//
// The package imports only the standard library and internal/crm. The
// providers live in the subpackages openai (any OpenAI-compatible server)
// and local (offline, deterministic); callers depend on these interfaces,
// never on a provider.
package llm
