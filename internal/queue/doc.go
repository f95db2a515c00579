// Package queue holds Logbook's Asynq task types: their names
// ("domain:verb"), payloads and constructors, and the Enqueuer that puts
// tasks on Redis with a TaskID, so a task is never queued twice.
//
// Two queues keep LLM-bound work from holding back the rest: transcripts
// (which wait on a model) go to Queues.LLM, webhooks and indexing to
// Queues.Default, and a worker serves each with its own concurrency.
package queue
