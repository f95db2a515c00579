// Package worker runs Logbook's background work on Asynq: turning stored
// transcripts into meeting notes (summarize), delivering webhooks, and the
// reconciler that re-enqueues anything whose task was lost (Redis down at
// ingest, a flushed Redis, a crashed enqueue).
//
// Every handler is idempotent: it reads the state from PostgreSQL, does its
// work, and writes the result in one transaction that replaces what an
// earlier attempt wrote, so a retry, a duplicate delivery or a worker killed
// mid-task leaves exactly one result.
//
// LLM-bound tasks run on their own asynq server (queue Queues.LLM, with
// WORKER_CONCURRENCY slots) so that a slow model never takes the slots of
// webhooks and other short work (queue Queues.Default).
package worker
