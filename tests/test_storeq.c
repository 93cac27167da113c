/*
 * test_storeq.c - the store's worker thread (daemon/storeq.c): jobs run in
 * order on another thread with a handle of its own, their done callbacks
 * come on the loop in the same order, the queue limit holds, free
 * reports everything.
 */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"
#include "storeq.h"
#include "testutil.h"

#define NJOBS 40

struct job {
	struct storeq_node node;
	int n;
	pthread_t ran_on;
	int64_t feed_id; /* added by the worker through its own handle */
};

struct ctx {
	struct store *loop_store;
	pthread_mutex_t mu;
	int ran[NJOBS], nran;
	size_t max_run; /* the largest run handed to work */
	int done[NJOBS], ndone;
	bool seen_by_loop[NJOBS]; /* the worker's write was visible on the loop's handle */
	struct event_base *base;
};

static char *dir;
static char dbpath[512];
static struct event_base *base;
static struct store *st;

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(dbpath, sizeof dbpath, "%s/feedd.db", dir);
	ck_assert_int_eq(store_open(dbpath, NULL, &st), STORE_OK);
	base = event_base_new();
}

static void teardown(void)
{
	store_close(st);
	event_base_free(base);
	tu_rmtree(dir);
	free(dir);
}

static struct job *job_of(struct storeq_node *n)
{
	return (struct job *)((char *)n - offsetof(struct job, node));
}

static void work(void *ud, struct store *s, struct storeq_node **jobs, size_t n)
{
	struct ctx *c = ud;
	pthread_mutex_lock(&c->mu);
	if (n > c->max_run)
		c->max_run = n;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		struct job *j = job_of(jobs[i]);
		char url[64];
		snprintf(url, sizeof url, "https://example.org/%d", j->n);
		struct store_feed_new nf = {.url = url};
		ck_assert_int_eq(store_feed_add(s, &nf, 1000, &j->feed_id), STORE_OK);
		j->ran_on = pthread_self();
		pthread_mutex_lock(&c->mu);
		c->ran[c->nran++] = j->n;
		pthread_mutex_unlock(&c->mu);
	}
}

static void done(void *ud, struct storeq_node *node)
{
	struct ctx *c = ud;
	struct job *j = job_of(node);
	struct store_feed f;
	c->seen_by_loop[j->n] = store_feed_get(c->loop_store, j->feed_id, &f) == STORE_OK;
	store_feed_clear(&f);
	ck_assert(!pthread_equal(j->ran_on, pthread_self()));
	c->done[c->ndone++] = j->n;
	free(j);
}

static void submit_all(struct storeq *q)
{
	for (int i = 0; i < NJOBS; i++) {
		struct job *j = calloc(1, sizeof *j);
		j->n = i;
		storeq_submit(q, &j->node);
	}
}

START_TEST(jobs_run_on_the_worker_and_are_reported_in_order_after_their_work)
{
	struct ctx c = {.loop_store = st};
	pthread_mutex_init(&c.mu, NULL);
	char err[256];
	struct storeq *q = storeq_new(base, st, 4, work, done, &c, err, sizeof err);
	ck_assert_msg(q != NULL, "%s", err);
	submit_all(q);
	while (c.ndone < NJOBS)
		event_base_loop(base, EVLOOP_ONCE);
	for (int i = 0; i < NJOBS; i++) {
		ck_assert_int_eq(c.ran[i], i);
		ck_assert_int_eq(c.done[i], i);
		ck_assert(c.seen_by_loop[i]);
	}
	ck_assert_uint_le(c.max_run, 4); /* never more than max_jobs queued or running */
	storeq_free(q);
	pthread_mutex_destroy(&c.mu);
}
END_TEST

START_TEST(free_reports_every_job_submitted)
{
	struct ctx c = {.loop_store = st};
	pthread_mutex_init(&c.mu, NULL);
	char err[256];
	struct storeq *q = storeq_new(base, st, 1, work, done, &c, err, sizeof err);
	ck_assert_msg(q != NULL, "%s", err);
	submit_all(q);  /* max_jobs 1: every submit waits for the previous job */
	storeq_free(q); /* no loop ran: free delivers them */
	ck_assert_uint_eq(c.max_run, 1);
	ck_assert_int_eq(c.ndone, NJOBS);
	for (int i = 0; i < NJOBS; i++)
		ck_assert_int_eq(c.done[i], i);
	pthread_mutex_destroy(&c.mu);
}
END_TEST

/* A gate the first run waits at, so that the worker is busy while the test submits. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;

static void gated_work(void *ud, struct store *s, struct storeq_node **jobs, size_t n)
{
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	work(ud, s, jobs, n);
}

START_TEST(uncounted_jobs_never_wait_for_the_limit)
{
	struct ctx c = {.loop_store = st};
	pthread_mutex_init(&c.mu, NULL);
	gate_open = false;
	char err[256];
	struct storeq *q = storeq_new(base, st, 1, gated_work, done, &c, err, sizeof err);
	ck_assert_msg(q != NULL, "%s", err);
	for (int i = 0; i < NJOBS; i++) {
		struct job *j = calloc(1, sizeof *j);
		j->n = i;
		/* the first fills the limit and the worker is stuck: the others must not wait */
		if (i == 0)
			storeq_submit(q, &j->node);
		else
			storeq_submit_small(q, &j->node);
	}
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	storeq_free(q);
	ck_assert_int_eq(c.ndone, NJOBS);
	for (int i = 0; i < NJOBS; i++)
		ck_assert_int_eq(c.done[i], i);
	pthread_mutex_destroy(&c.mu);
}
END_TEST

/*
 * Early hand-back: the work function reports each job as soon as it is
 * done (storeq_done_upto), and the loop gets it while the rest of the run
 * is still being worked on.  Run 1 (one job) holds the worker at the gate
 * until three more jobs are queued, so that they make run 2; in run 2 the
 * worker waits after its first job until the loop has reported that job.
 */
static struct storeq *early_q;
static bool early_reported, early_waited_in_vain;

static void early_work(void *ud, struct store *s, struct storeq_node **jobs, size_t n)
{
	if (job_of(jobs[0])->n == 0) { /* run 1 */
		gated_work(ud, s, jobs, n);
		return;
	}
	work(ud, s, jobs, 1);
	storeq_done_upto(early_q, 1);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&gate_mu);
	while (!early_reported && !early_waited_in_vain)
		if (pthread_cond_timedwait(&gate_cv, &gate_mu, &until) != 0)
			early_waited_in_vain = true;
	pthread_mutex_unlock(&gate_mu);
	work(ud, s, jobs + 1, n - 1);
}

static void early_done(void *ud, struct storeq_node *node)
{
	bool first_of_run_2 = job_of(node)->n == 1;
	done(ud, node);
	if (first_of_run_2) {
		pthread_mutex_lock(&gate_mu);
		early_reported = true;
		pthread_cond_broadcast(&gate_cv);
		pthread_mutex_unlock(&gate_mu);
	}
}

START_TEST(a_job_handed_back_early_is_reported_while_its_run_goes_on)
{
	struct ctx c = {.loop_store = st};
	pthread_mutex_init(&c.mu, NULL);
	gate_open = gate_entered = early_reported = early_waited_in_vain = false;
	char err[256];
	early_q = storeq_new(base, st, 8, early_work, early_done, &c, err, sizeof err);
	ck_assert_msg(early_q != NULL, "%s", err);
	for (int i = 0; i < 4; i++) {
		struct job *j = calloc(1, sizeof *j);
		j->n = i;
		storeq_submit(early_q, &j->node);
		if (i == 0) { /* the worker holds run 1 at the gate before the others come */
			pthread_mutex_lock(&gate_mu);
			while (!gate_entered)
				pthread_cond_wait(&gate_cv, &gate_mu);
			pthread_mutex_unlock(&gate_mu);
		}
	}
	pthread_mutex_lock(&gate_mu);
	gate_open = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	while (c.ndone < 4)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_msg(!early_waited_in_vain, "job 1 was not reported before its run ended");
	ck_assert_int_eq(c.nran, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(c.done[i], i);
	storeq_free(early_q);
	pthread_mutex_destroy(&c.mu);
}
END_TEST

static Suite *storeq_suite(void)
{
	Suite *s = suite_create("storeq");
	TCase *tc = tcase_create("storeq");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, jobs_run_on_the_worker_and_are_reported_in_order_after_their_work);
	tcase_add_test(tc, free_reports_every_job_submitted);
	tcase_add_test(tc, uncounted_jobs_never_wait_for_the_limit);
	tcase_add_test(tc, a_job_handed_back_early_is_reported_while_its_run_goes_on);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(storeq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
