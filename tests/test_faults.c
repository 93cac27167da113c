/*
 * test_faults.c - faults from below: a full disk, and allocations that
 * fail inside expat and inside SQLite.
 *
 * Disk full: `feedd poll` runs under a file-size limit (RLIMIT_FSIZE with
 * SIGXFSZ ignored, so writes fail with EFBIG as on a full disk) against a
 * store that already holds items.  The batch is rolled back, the error is
 * recorded on the feed, no seq of it ever becomes visible, the database
 * stays intact, and the next poll without the limit stores the items.
 * The same for the running daemon: its subscriber sees nothing of the
 * failed batches, the control socket still answers, and when the limit is
 * raised (prlimit from the test) the next poll stores and announces all.
 *
 * Allocation failure: for N = 1, 2, ... the Nth allocation fails (once;
 * and in a second run every allocation from the Nth on), until the
 * operation completes without reaching N.
 *  - expat: through XML_ParserCreate_MM (xr_new_mm), over a document
 *    that uses namespaces, attributes, internal entities, CDATA and then
 *    breaks (recovery).  Every block expat allocated is freed again.
 *  - SQLite: through sqlite3_config(SQLITE_CONFIG_MALLOC), set before
 *    sqlite3_initialize, over store_open of a new database (schema
 *    creation) and over a store transaction (new, updated and unchanged
 *    items, feed state).  SQLite's own count of outstanding memory is back
 *    to zero after store_close, and the batch is all or nothing.
 * Leaks outside these counters are caught by LeakSanitizer when the suite
 * runs under -DFEEDD_SANITIZE=ON (CI stage 2).
 */
#define XML_DTD 1
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <expat.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "httpd.h"
#include "poller.h"
#include "store.h"
#include "testutil.h"
#include "xmlreader.h"

/* Iterations stop here even if the operation never completed (a test failure). */
#define FAULTS_MAX_N 20000

static char *dir;
static char dbpath[600];

/* A temporary directory, on tmpfs when there is one (thousands of fsyncs below). */
static char *faults_tmpdir(void)
{
	char tmpl[] = "/dev/shm/feedd-faults-XXXXXX";
	if (!access("/dev/shm", W_OK) && mkdtemp(tmpl))
		return strdup(tmpl);
	return tu_tmpdir();
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	dir = faults_tmpdir();
	snprintf(dbpath, sizeof dbpath, "%s/feedd.db", dir);
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

static struct store *open_store(void)
{
	struct store *st = NULL;
	enum store_err e = store_open(dbpath, NULL, &st);
	ck_assert_msg(e == STORE_OK, "store_open: %s", store_errmsg(st));
	return st;
}

static int64_t head(void)
{
	struct store *st = open_store();
	int64_t h = -1;
	ck_assert_int_eq(store_head(st, &h), STORE_OK);
	store_close(st);
	return h;
}

/* PRAGMA integrity_check through SQLite itself. */
static void assert_integrity(void)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* ---- disk full ---- */

static struct event_base *base;
static struct httpd *srv;
static volatile int srv_stop;

static void srv_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (srv_stop)
		event_base_loopbreak(arg);
}

static void *srv_thread(void *arg)
{
	struct event *t = event_new(base, -1, EV_PERSIST, srv_tick, base);
	struct timeval tv = {0, 20000};
	(void)arg;
	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return NULL;
}

/* feedd poll --all under a file-size limit of fsize bytes (0: none); its exit status. */
static int poll_limited(const char *conf, rlim_t fsize)
{
	pthread_t th;
	srv_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (fsize) {
			struct rlimit rl = {fsize, fsize};
			signal(SIGXFSZ, SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &rl))
				_exit(126);
		}
		int n = open("/dev/null", O_RDWR);
		dup2(n, 0), dup2(n, 1);
		execl(FEEDD_BIN, FEEDD_BIN, "poll", "--all", "--db", dbpath, "--config", conf,
		      (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	srv_stop = 1;
	pthread_join(th, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int count_cb(void *ud, const struct store_event *ev)
{
	(void)ev;
	(*(size_t *)ud)++;
	return 0;
}

static size_t events(void)
{
	struct store *st = open_store();
	size_t n = 0;
	ck_assert_int_eq(store_events_after(st, 0, NULL, 0, 0, count_cb, &n, NULL, NULL), STORE_OK);
	store_close(st);
	return n;
}

START_TEST(a_full_disk_rolls_back_records_the_error_and_recovers_when_space_returns)
{
	base = event_base_new();
	srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	char conf[700];
	snprintf(conf, sizeof conf, "%s/feedd.conf", dir);
	FILE *cf = fopen(conf, "w");
	fprintf(cf, "allow_private = yes\n");
	fclose(cf);

	struct httpd_route r = {.path = "/f",
	                        .body = "<rss version=\"2.0\"><channel><title>F</title>"
	                                "<item><guid>old</guid><title>kept</title></item>"
	                                "</channel></rss>"};
	httpd_route(srv, &r);
	struct store *st = open_store();
	int64_t id;
	struct store_feed_new nf = {.url = httpd_url(srv, "/f")};
	ck_assert_int_eq(store_feed_add(st, &nf, (int64_t)time(NULL), &id), STORE_OK);
	store_close(st);
	ck_assert_int_eq(poll_limited(conf, 0), 0);
	ck_assert_uint_eq(events(), 1);
	int64_t h0 = head();

	/* about 1.3 MB of items; the database may not grow past 600 KB */
	size_t n = 3000;
	char *big = malloc(n * 420 + 200), *p = big;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>F</title>"
	                "<item><guid>old</guid><title>kept</title></item>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p,
		             "<item><guid>g%zu</guid><title>item %zu</title><description>"
		             "%0300zu</description></item>",
		             i, i, i);
	sprintf(p, "</channel></rss>");
	r.body = big;
	httpd_route(srv, &r);
	free(big);

	ck_assert_int_eq(poll_limited(conf, 600 << 10), 1); /* the store failed: exit 1 */
	assert_integrity();
	ck_assert_int_eq(head(), h0); /* no seq of the failed batch is visible */
	ck_assert_uint_eq(events(), 1);
	st = open_store();
	struct store_feed f = {0};
	ck_assert_int_eq(store_feed_get(st, id, &f), STORE_OK);
	ck_assert_msg(f.last_error && !strncmp(f.last_error, "store: ", 7), "last_error %s",
	              f.last_error);
	ck_assert_int_eq(f.consecutive_errors, 1);
	store_feed_clear(&f);
	store_close(st);

	/* space returns: the next poll stores everything by itself */
	ck_assert_int_eq(poll_limited(conf, 0), 0);
	assert_integrity();
	ck_assert_uint_eq(events(), 1 + n);
	ck_assert_int_gt(head(), h0);
	st = open_store();
	ck_assert_int_eq(store_feed_get(st, id, &f), STORE_OK);
	ck_assert_ptr_null(f.last_error);
	ck_assert_int_eq(f.consecutive_errors, 0);
	store_feed_clear(&f);
	store_close(st);
	httpd_free(srv);
	event_base_free(base);
}
END_TEST

/* ---- disk full under the running daemon ---- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Counts the "ev":"item" lines arriving on fd within ms (then what is there at once). */
static size_t count_items(int fd, int ms)
{
	static char buf[1 << 16];
	static size_t len;
	size_t n = 0;
	struct pollfd p = {fd, POLLIN, 0};
	while (poll(&p, 1, ms) > 0) {
		ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = 0;
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			n += strstr(line, "\"ev\":\"item\"") != NULL;
			line = nl + 1;
		}
		len -= (size_t)(line - buf);
		memmove(buf, line, len);
		ck_assert_uint_lt(len, sizeof buf - 1);
		ms = 0;
	}
	return n;
}

START_TEST(the_daemon_keeps_serving_through_a_full_disk_and_recovers_by_itself)
{
	base = event_base_new();
	srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	char conf[700], sub[120], ctl[120], logpath[700];
	snprintf(conf, sizeof conf, "%s/feedd.conf", dir);
	snprintf(sub, sizeof sub, "%s/sub.sock", dir);
	snprintf(ctl, sizeof ctl, "%s/control.sock", dir);
	snprintf(logpath, sizeof logpath, "%s/feedd.log", dir);
	struct httpd_route r = {.path = "/f",
	                        .body = "<rss version=\"2.0\"><channel><title>F</title>"
	                                "<item><guid>old</guid><title>kept</title></item>"
	                                "</channel></rss>"};
	httpd_route(srv, &r);
	FILE *cf = fopen(conf, "w");
	fprintf(cf,
	        "allow_private = yes\ninterval = 1s\ninterval_floor = 1s\ninterval_max = 1s\n"
	        "backoff_base = 1s\nbackoff_max = 1s\njitter = 0\nheartbeat = 1s\n"
	        "retain_items = 0\n[feed \"%s\"]\n",
	        httpd_url(srv, "/f"));
	fclose(cf);
	unsetenv("CONFIGURATION_DIRECTORY");
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	pthread_t th;
	srv_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);

	/* the daemon may not grow a file past 600 KB until the limit is raised from here */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {600 << 10, RLIM_INFINITY};
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(fd, 2);
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(126);
		execl(FEEDD_BIN, FEEDD_BIN, "run", "--config", conf, "--db", dbpath, "--socket",
		      sub, "--control-socket", ctl, (char *)NULL);
		_exit(127);
	}
	int fd = -1;
	for (int i = 0; fd < 0 && i < 1000; i++) {
		int st;
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "feedd exited: %s",
		              tu_read_file(logpath, NULL));
		if ((fd = unix_connect(sub)) < 0)
			usleep(10000);
	}
	ck_assert_int_ge(fd, 0);
	const char *req = "{\"op\":\"sub\",\"after\":\"oldest\"}\n";
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	size_t got = 0;
	for (int i = 0; i < 100 && got < 1; i++)
		got += count_items(fd, 100);
	ck_assert_uint_eq(got, 1);

	/* a document too big for the space left */
	size_t n = 3000;
	char *big = malloc(n * 420 + 200), *p = big;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>F</title>"
	                "<item><guid>old</guid><title>kept</title></item>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p,
		             "<item><guid>g%zu</guid><title>item %zu</title><description>"
		             "%0300zu</description></item>",
		             i, i, i);
	sprintf(p, "</channel></rss>");
	srv_stop = 1;
	pthread_join(th, NULL);
	r.body = big;
	httpd_route(srv, &r);
	free(big);
	int64_t hits = httpd_hits(srv, "/f");
	srv_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);

	/* wait until two polls failed for the store; nothing of them reaches the subscriber */
	bool failed = false;
	for (int i = 0; i < 300 && !failed; i++) {
		got += count_items(fd, 100);
		struct store *st = NULL;
		if (store_open(dbpath, NULL, &st) == STORE_OK) {
			struct store_feed f = {0};
			if (store_feed_get(st, 1, &f) == STORE_OK)
				failed = f.last_error && !strncmp(f.last_error, "store: ", 7) &&
				         f.consecutive_errors >= 2;
			store_feed_clear(&f);
		}
		store_close(st);
	}
	ck_assert_msg(failed, "the store never failed: %s", tu_read_file(logpath, NULL));
	ck_assert_int_gt(httpd_hits(srv, "/f"), hits);
	got += count_items(fd, 200);
	ck_assert_uint_eq(got, 1);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0); /* still serving */
	int c = unix_connect(ctl);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(write(c, "{\"op\":\"status\"}\n", 16), 16);
	char reply[4096] = "";
	struct pollfd pc = {c, POLLIN, 0};
	ck_assert_int_gt(poll(&pc, 1, 10000), 0);
	ck_assert_int_gt(read(c, reply, sizeof reply - 1), 0);
	ck_assert_msg(strstr(reply, "\"ok\":true"), "%s", reply);
	close(c);

	/* space returns: the next poll stores and announces everything */
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	ck_assert_int_eq(prlimit(pid, RLIMIT_FSIZE, &rl, NULL), 0);
	for (int i = 0; i < 600 && got < 1 + n; i++)
		got += count_items(fd, 100);
	ck_assert_uint_eq(got, 1 + n);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	srv_stop = 1;
	pthread_join(th, NULL);
	assert_integrity();
	ck_assert_uint_eq(events(), 1 + n);
	httpd_free(srv);
	event_base_free(base);
}
END_TEST

/* ---- expat: the Nth allocation fails ---- */

static long xm_count, xm_fail_at, xm_live;
static bool xm_persist; /* every allocation from the Nth on fails */

static bool xm_fails(void)
{
	++xm_count;
	return xm_count == xm_fail_at || (xm_persist && xm_count > xm_fail_at);
}

static void *xm_malloc(size_t n)
{
	if (xm_fails())
		return NULL;
	void *p = malloc(n);
	if (p)
		xm_live++;
	return p;
}

static void *xm_realloc(void *old, size_t n)
{
	if (xm_fails())
		return NULL;
	void *p = realloc(old, n);
	if (p && !old)
		xm_live++;
	return p;
}

static void xm_free(void *p)
{
	if (p)
		xm_live--;
	free(p);
}

static const XML_Memory_Handling_Suite xm_suite = {xm_malloc, xm_realloc, xm_free};

static size_t xm_events;

static void xm_start(void *ud, const char *ns, const char *local, const char *prefix,
                     const struct xr_attr *attrs, size_t nattrs)
{
	(void)ud, (void)ns, (void)local, (void)prefix, (void)attrs, (void)nattrs;
	xm_events++;
}

static void xm_end(void *ud, const char *ns, const char *local)
{
	(void)ud, (void)ns, (void)local;
	xm_events++;
}

static void xm_text(void *ud, const char *s, size_t len)
{
	(void)ud, (void)s, (void)len;
	xm_events++;
}

static const char xm_doc[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<!DOCTYPE rss [<!ENTITY me \"Jos&#233; &amp; co\"><!ENTITY twice \"&me;&me;\">]>\n"
    "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
    "     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "<channel><title>Allocation &twice;</title><link>http://example.org/</link>\n"
    "<item><guid isPermaLink=\"false\">one</guid><title a=\"1\" b=\"2\" c=\"3\">first</title>\n"
    "<dc:creator>&me;</dc:creator><content:encoded><![CDATA[<p>some <b>html</b></p>]]>"
    "</content:encoded></item>\n"
    "<item><guid>two</guid><title>second &twice; &twice;</title>"
    "<description>a long text a long text a long text a long text a long text a long text "
    "a long text a long text a long text a long text a long text a long text</description>"
    "</item>\n"
    "<item><guid>three</guid><title>broken &nbsp; here</title><p>unclosed <b>tags</item>\n"
    "</channel></rss>\n";

START_TEST(expat_allocation_failures_never_crash_or_leak)
{
	xm_persist = _i == 1;
	struct xr_opts o = {
	    .amplification_threshold = 1u << 20, .max_amplification = 20.0f, .max_depth = 256};
	struct xr_handlers h = {xm_start, xm_end, xm_text};
	long n;
	for (n = 1; n < FAULTS_MAX_N; n++) {
		xm_count = xm_live = 0;
		xm_fail_at = n;
		xm_events = 0;
		struct xr *x = xr_new_mm(&o, &h, NULL, &xm_suite);
		if (x) {
			/* in pieces, so that expat grows its buffers as it goes */
			for (size_t off = 0; off < sizeof xm_doc - 1; off += 61) {
				size_t k =
				    sizeof xm_doc - 1 - off < 61 ? sizeof xm_doc - 1 - off : 61;
				if (xr_feed(x, xm_doc + off, k))
					break;
			}
			xr_finish(x);
			xr_free(x);
		}
		ck_assert_msg(xm_live == 0, "failing allocation %ld: %ld blocks leaked", n,
		              xm_live);
		if (xm_count < n)
			break; /* completed without reaching the failure */
	}
	ck_assert_int_lt(n, FAULTS_MAX_N);
	ck_assert_uint_gt(xm_events, 20);
	fprintf(stderr, "test_faults: expat: failed each of %ld allocations in turn%s\n", n - 1,
	        xm_persist ? " (and every one after it)" : "");
}
END_TEST

/* ---- SQLite: the Nth allocation fails ---- */

static sqlite3_mem_methods sm_orig;
static long sm_count, sm_fail_at;
static bool sm_persist; /* every allocation from the Nth on fails */

static bool sm_fails(void)
{
	if (!sm_fail_at)
		return false;
	++sm_count;
	return sm_count == sm_fail_at || (sm_persist && sm_count > sm_fail_at);
}

static void *sm_malloc(int n)
{
	if (sm_fails())
		return NULL;
	return sm_orig.xMalloc(n);
}

static void *sm_realloc(void *p, int n)
{
	if (sm_fails())
		return NULL;
	return sm_orig.xRealloc(p, n);
}

static void sm_install(void)
{
	static sqlite3_mem_methods m;
	ck_assert_int_eq(sqlite3_shutdown(), SQLITE_OK);
	ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sm_orig), SQLITE_OK);
	m = sm_orig;
	m.xMalloc = sm_malloc;
	m.xRealloc = sm_realloc;
	ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
	ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1), SQLITE_OK);
	ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
}

static void sm_arm(long n)
{
	sm_count = 0;
	sm_fail_at = n;
}

START_TEST(sqlite_allocation_failures_while_creating_a_store_never_crash_or_leak)
{
	sm_install();
	sqlite3_int64 base_used = sqlite3_memory_used();
	long n;
	for (n = 1; n < FAULTS_MAX_N; n++) {
		unlink(dbpath);
		char side[700];
		snprintf(side, sizeof side, "%s-wal", dbpath);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", dbpath);
		unlink(side);
		sm_arm(n);
		struct store *st = NULL;
		enum store_err e = store_open(dbpath, NULL, &st);
		if (e == STORE_OK) {
			int64_t id;
			struct store_feed_new nf = {.url = "http://example.org/feed"};
			e = store_feed_add(st, &nf, 1000, &id);
		}
		store_close(st);
		long reached = sm_count;
		sm_arm(0);
		ck_assert_msg(sqlite3_memory_used() == base_used,
		              "failing allocation %ld: %lld bytes of SQLite memory leaked", n,
		              (long long)(sqlite3_memory_used() - base_used));
		if (reached < n) {
			ck_assert_int_eq(e, STORE_OK);
			break;
		}
	}
	ck_assert_int_lt(n, FAULTS_MAX_N);
	/* what was finally created is sound */
	assert_integrity();
	fprintf(stderr, "test_faults: SQLite store_open: failed each of %ld allocations in turn\n",
	        n - 1);
}
END_TEST

static struct feed_item sm_item(const char *id, const char *title)
{
	struct feed_item it = {.id = (char *)id,
	                       .title = (char *)title,
	                       .link = "http://example.org/x",
	                       .summary = "summary",
	                       .published = 1600000000,
	                       .updated = FEED_NO_DATE};
	return it;
}

static int sm_titles(void *ud, const struct store_event *ev)
{
	char *s = ud;
	strcat(s, ev->item->title);
	strcat(s, ";");
	return 0;
}

START_TEST(sqlite_allocation_failures_in_a_transaction_are_all_or_nothing)
{
	/* a store with a feed, two items ("a" will change, "b" will not) */
	struct store *st = open_store();
	int64_t id;
	struct store_feed_new nf = {.url = "http://example.org/feed"};
	ck_assert_int_eq(store_feed_add(st, &nf, 1000, &id), STORE_OK);
	struct store_batch *b;
	ck_assert_int_eq(store_batch_begin(st, id, 1000, &b), STORE_OK);
	struct feed_item a = sm_item("a", "A1"), bb = sm_item("b", "B"), c = sm_item("c", "C");
	ck_assert_int_eq(store_batch_item(b, &a, NULL), STORE_OK);
	ck_assert_int_eq(store_batch_item(b, &bb, NULL), STORE_OK);
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, NULL, NULL), STORE_OK);
	store_close(st);
	char pristine[700];
	snprintf(pristine, sizeof pristine, "%s/pristine.db", dir);
	ck_assert_int_eq(rename(dbpath, pristine), 0);

	sm_install();
	sm_persist = _i == 1;
	sqlite3_int64 base_used = sqlite3_memory_used();
	long n;
	for (n = 1; n < FAULTS_MAX_N; n++) {
		char cmd[1600];
		snprintf(cmd, sizeof cmd, "cp %s %s", pristine, dbpath);
		ck_assert_int_eq(system(cmd), 0);
		st = open_store();
		sm_arm(n);
		a = sm_item("a", "A2");
		struct feed_meta meta = {.title = "Feed", .updated = FEED_NO_DATE};
		struct store_fetch_update fu = {.fetched_at = 2000,
		                                .http_status = 200,
		                                .ok = true,
		                                .set_validators = true,
		                                .etag = "\"e\"",
		                                .next_poll = 5600,
		                                .next_poll_reason = "interval"};
		int64_t first = 0, last = 0;
		enum store_err e = store_batch_begin(st, id, 2000, &b);
		if (e == STORE_OK) {
			e = store_batch_item(b, &a, NULL);
			if (e == STORE_OK)
				e = store_batch_item(b, &bb, NULL);
			if (e == STORE_OK)
				e = store_batch_item(b, &c, NULL);
			enum store_err ce = store_batch_commit(b, &meta, &fu, &first, &last);
			if (e == STORE_OK)
				e = ce;
		}
		long reached = sm_count;
		/* the handle still works after the failure */
		sm_arm(0);
		int64_t h = 0;
		ck_assert_int_eq(store_head(st, &h), STORE_OK);
		store_close(st);
		ck_assert_msg(sqlite3_memory_used() == base_used,
		              "failing allocation %ld: %lld bytes of SQLite memory leaked", n,
		              (long long)(sqlite3_memory_used() - base_used));
		/* all or nothing */
		char titles[256] = "";
		st = open_store();
		ck_assert_int_eq(
		    store_events_after(st, 0, NULL, 0, 0, sm_titles, titles, NULL, NULL), STORE_OK);
		store_close(st);
		if (e == STORE_OK)
			ck_assert_msg(!strcmp(titles, "A2;B;A2;C;") && last > first, "%ld: %s", n,
			              titles);
		else
			ck_assert_msg(!strcmp(titles, "A1;B;"), "failing allocation %ld (%s): %s",
			              n, store_err_name(e), titles);
		assert_integrity();
		if (reached < n) {
			ck_assert_int_eq(e, STORE_OK);
			break;
		}
	}
	ck_assert_int_lt(n, FAULTS_MAX_N);
	fprintf(stderr, "test_faults: SQLite batch: failed each of %ld allocations in turn%s\n",
	        n - 1, sm_persist ? " (and every one after it)" : "");
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc,
	               a_full_disk_rolls_back_records_the_error_and_recovers_when_space_returns);
	tcase_add_test(tc, the_daemon_keeps_serving_through_a_full_disk_and_recovers_by_itself);
	tcase_add_loop_test(tc, expat_allocation_failures_never_crash_or_leak, 0, 2);
	tcase_add_test(tc, sqlite_allocation_failures_while_creating_a_store_never_crash_or_leak);
	tcase_add_loop_test(tc, sqlite_allocation_failures_in_a_transaction_are_all_or_nothing, 0,
	                    2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	SRunner *sr = srunner_create(faults_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
