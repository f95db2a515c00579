// Package api serves Logbook's HTTP API (API.md): one route table on the
// standard library mux, bearer-key auth with scopes, tenancy (another org's
// resource is always 404), JSON in and problem+json (RFC 9457) errors out,
// Prometheus metrics, and an OpenAPI 3.1 document built from the same route
// table and Go types, so the spec cannot drift from what is served.
//
// The package never imports llm/*, summarize or worker: anything the API
// needs from them reaches it through small interfaces in Deps.
package api
