/*
 * storeq.h - store writes on a worker thread, reported back on the event
 * loop.
 *
 * The poller parses on the event loop; committing a document (the WAL
 * fsync that synchronous=FULL asks for, index updates, checkpoints) runs
 * on a thread of its own with a store handle of its own
 * (store_open_peer), so that the loop parses the next documents
 * meanwhile.  DESIGN.md foresaw this step once the loop was measured
 * stalling on commits; bench/RESULTS.md has the measurements.
 *
 * Order: jobs run in submission order, one run at a time, and their done
 * callbacks are called on the loop thread in that same order, each after
 * its work returned.  So an event is announced only after its COMMIT, and
 * announcements come in seq order.  The worker takes every job queued at
 * once (a run) and gives the run to the work function, which may group
 * jobs into fewer transactions.
 *
 * Memory: at most max_jobs jobs that hold memory (storeq_submit) are
 * queued or running at once; beyond that storeq_submit
 * blocks the loop until the worker finished a run (the loop then waits as
 * it waited for its own commits before).  Small jobs
 * (storeq_submit_small) never wait: a 304 must not wait behind the
 * database check.
 *
 * Jobs embed a struct storeq_node (container_of style); the queue neither
 * allocates nor frees them.
 */
#ifndef FEEDD_STOREQ_H
#define FEEDD_STOREQ_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct store;
struct storeq;

struct storeq_node {
	struct storeq_node *next; /* the queue's */
	bool counted;             /* the queue's: counts against max_jobs */
};

/* On the worker thread: jobs[0..n) in submission order, with the worker's own handle st. */
typedef void (*storeq_work_fn)(void *ctx, struct store *st, struct storeq_node **jobs, size_t n);
/* On the loop thread, once per job, after its work: the job is the caller's again. */
typedef void (*storeq_done_fn)(void *ctx, struct storeq_node *job);

/*
 * Starts the worker with a handle of its own on st's database
 * (store_open_peer; st itself stays the loop's).  max_jobs >= 1.  base and
 * st are borrowed and must outlive the queue.  NULL on failure, with the
 * reason in err.
 */
struct storeq *storeq_new(struct event_base *base, struct store *st, size_t max_jobs,
                          storeq_work_fn work, storeq_done_fn done, void *ctx, char *err,
                          size_t errlen);

/*
 * From the work function, on the worker thread: jobs[0..k) of the run it
 * was given are done, so their done callbacks may run on the loop now
 * instead of after the whole run (a commit is announced as soon as it
 * returned, not after the commits queued behind it).  Optional: whatever
 * was not handed back is when the work function returns.
 */
void storeq_done_upto(struct storeq *q, size_t k);

/* Queues job; blocks while max_jobs counted jobs are queued or running.  From the loop
 * thread only. */
void storeq_submit(struct storeq *q, struct storeq_node *job);

/* The same for a job that holds next to no memory: it never waits for the limit. */
void storeq_submit_small(struct storeq *q, struct storeq_node *job);

/* Waits until every job submitted has run and calls their done callbacks now.
 * Not from inside a done callback (later jobs would be reported before the
 * rest of the current delivery). */
void storeq_flush(struct storeq *q);

/* Flushes, stops the worker, closes its handle, frees.  NULL is fine. */
void storeq_free(struct storeq *q);

#endif
