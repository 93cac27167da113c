/*
 * storeq.c - the store's worker thread; see storeq.h.
 *
 * One mutex guards both lists.  The worker sleeps on work_cv until jobs
 * are queued, takes them all (a run), works without the lock, then moves
 * the run to the done list (each finished prefix of it as soon as the
 * work function says so: storeq_done_upto), wakes the loop through an
 * eventfd watched by libevent, and wakes a blocked storeq_submit or
 * storeq_flush (idle_cv).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "storeq.h"
#include "store.h"

struct storeq_list {
	struct storeq_node *head, *tail;
	size_t n;
};

struct storeq {
	struct store *st; /* the worker's own handle */
	storeq_work_fn work;
	storeq_done_fn done;
	void *ctx;
	size_t max_jobs;
	struct storeq_node **run; /* cap_run slots, the worker's */
	size_t cap_run;
	size_t run_n, released; /* the run in work: jobs, and how many were handed back */
	int efd;
	struct event *ev;
	pthread_t thread;

	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* jobs queued, or stop */
	pthread_cond_t idle_cv; /* a run finished */
	struct storeq_list queued, finished;
	size_t busy;    /* counted jobs queued + running */
	size_t pending; /* all jobs queued + running */
	bool stop;
};

static void storeq_push(struct storeq_list *l, struct storeq_node *n)
{
	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	l->n++;
}

static void storeq_append(struct storeq_list *l, struct storeq_list *more)
{
	if (!more->head)
		return;
	if (l->tail)
		l->tail->next = more->head;
	else
		l->head = more->head;
	l->tail = more->tail;
	l->n += more->n;
	*more = (struct storeq_list){0};
}

/* The run array grows with the longest run (uncounted jobs have no bound but the caller's). */
static int storeq_grow_run(struct storeq *q)
{
	size_t cap = q->cap_run * 2;
	struct storeq_node **r = realloc(q->run, cap * sizeof *r);
	if (!r)
		return -1;
	q->run = r;
	q->cap_run = cap;
	return 0;
}

static void storeq_wake_loop(struct storeq *q)
{
	uint64_t one = 1;
	while (write(q->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void *storeq_main(void *arg)
{
	struct storeq *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->queued.head && !q->stop)
			pthread_cond_wait(&q->work_cv, &q->mu);
		if (!q->queued.head)
			break;
		struct storeq_list run = q->queued;
		q->queued = (struct storeq_list){0};
		pthread_mutex_unlock(&q->mu);

		size_t n = 0;
		for (struct storeq_node *j = run.head; j; j = j->next) {
			if (n == q->cap_run && storeq_grow_run(q) != 0)
				break; /* out of memory: the rest in the next run */
			q->run[n++] = j;
		}
		if (n < run.n) { /* put back what did not fit */
			struct storeq_node *rest = q->run[n - 1]->next;
			q->run[n - 1]->next = NULL;
			pthread_mutex_lock(&q->mu);
			struct storeq_list back = {rest, run.tail, run.n - n};
			storeq_append(&back, &q->queued);
			q->queued = back;
			pthread_mutex_unlock(&q->mu);
			run.tail = q->run[n - 1];
			run.n = n;
		}
		q->run_n = n;
		q->released = 0;
		q->work(q->ctx, q->st, q->run, n);
		storeq_done_upto(q, n);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

void storeq_done_upto(struct storeq *q, size_t k)
{
	if (k > q->run_n)
		k = q->run_n;
	if (k <= q->released)
		return;
	pthread_mutex_lock(&q->mu);
	for (size_t i = q->released; i < k; i++) {
		struct storeq_node *j = q->run[i];
		q->busy -= j->counted;
		q->pending--;
		storeq_push(&q->finished, j);
	}
	q->released = k;
	pthread_cond_broadcast(&q->idle_cv);
	storeq_wake_loop(q);
	pthread_mutex_unlock(&q->mu);
}

/* Calls done for every finished job, in order (loop thread). */
static void storeq_deliver(struct storeq *q)
{
	pthread_mutex_lock(&q->mu);
	struct storeq_list l = q->finished;
	q->finished = (struct storeq_list){0};
	pthread_mutex_unlock(&q->mu);
	for (struct storeq_node *j = l.head, *next; j; j = next) {
		next = j->next;
		q->done(q->ctx, j);
	}
}

static void storeq_on_wake(evutil_socket_t fd, short what, void *arg)
{
	uint64_t v;
	(void)what;
	while (read(fd, &v, sizeof v) < 0 && errno == EINTR)
		;
	storeq_deliver(arg);
}

static void storeq_queue(struct storeq *q, struct storeq_node *job, bool counted)
{
	pthread_mutex_lock(&q->mu);
	while (counted && q->busy >= q->max_jobs)
		pthread_cond_wait(&q->idle_cv, &q->mu);
	job->counted = counted;
	storeq_push(&q->queued, job);
	q->busy += counted;
	q->pending++;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
}

void storeq_submit(struct storeq *q, struct storeq_node *job)
{
	storeq_queue(q, job, true);
}

void storeq_submit_small(struct storeq *q, struct storeq_node *job)
{
	storeq_queue(q, job, false);
}

void storeq_flush(struct storeq *q)
{
	pthread_mutex_lock(&q->mu);
	while (q->pending)
		pthread_cond_wait(&q->idle_cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
	storeq_deliver(q);
}

static void storeq_release(struct storeq *q)
{
	if (q->ev)
		event_free(q->ev);
	if (q->efd >= 0)
		close(q->efd);
	store_close(q->st);
	pthread_cond_destroy(&q->work_cv);
	pthread_cond_destroy(&q->idle_cv);
	pthread_mutex_destroy(&q->mu);
	free(q->run);
	free(q);
}

struct storeq *storeq_new(struct event_base *base, struct store *st, size_t max_jobs,
                          storeq_work_fn work, storeq_done_fn done, void *ctx, char *err,
                          size_t errlen)
{
	struct storeq *q = calloc(1, sizeof *q);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*q = (struct storeq){
	    .work = work, .done = done, .ctx = ctx, .max_jobs = max_jobs ? max_jobs : 1, .efd = -1};
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->idle_cv, NULL);
	if (store_open_peer(st, &q->st) != STORE_OK) {
		snprintf(err, errlen, "store: %s", store_errmsg(q->st));
		storeq_release(q);
		return NULL;
	}
	q->cap_run = q->max_jobs;
	q->run = calloc(q->cap_run, sizeof *q->run);
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->ev =
	    q->efd >= 0 ? event_new(base, q->efd, EV_READ | EV_PERSIST, storeq_on_wake, q) : NULL;
	if (!q->run || !q->ev || event_add(q->ev, NULL) != 0 ||
	    pthread_create(&q->thread, NULL, storeq_main, q) != 0) {
		snprintf(err, errlen, "cannot start the store thread: out of memory or threads");
		storeq_release(q);
		return NULL;
	}
	return q;
}

void storeq_free(struct storeq *q)
{
	if (!q)
		return;
	storeq_flush(q);
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	storeq_deliver(q); /* jobs a done callback submitted during the flush */
	storeq_release(q);
}
