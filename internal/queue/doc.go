// Package queue holds Logbook's Asynq task types: their names
// ("domain:verb"), payloads and constructors, and the Enqueuer that puts
// tasks on Redis with a TaskID, so a task is never queued twice.
//
// Separate queues keep one kind of work from holding back the others:
// transcripts (which wait on a model) go to Queues.LLM, webhook deliveries
// (which wait on other people's servers, retried for over a day) to
// Queues.Webhooks, activity indexing to Queues.Index, anything else to
// Queues.Default; a worker serves each with its own concurrency.
package queue
