/* The per-domain job model (src/qemu/driver/qemu_driver_job.c) on its own,
 * with threads and no QEMU: one changing job at a time, queries beside it,
 * the timeout that names the holder, an async job and what it lets in,
 * nested steps of its owner, statistics of the current and the completed
 * job, abort.  The driver with real guests is driverruntest's business. */
#include "qemu_driver_job.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

#define WAIT_MS 300

static TvDriverDomain *new_domain(void)
{
    TvQemuDriver drv = { .job_wait_ms = WAIT_MS };
    static const unsigned char uuid[TV_UUID_LEN] = { 1, 2, 3 };
    return tv_driver_domain_new(&drv, "jobs", uuid);
}

static void expect_error(int code, const char *needle)
{
    g_assert_cmpint(tv_error_code(), ==, code);
    if (!strstr(tv_error_message(), needle))
        g_error("expected '%s' in '%s'", needle, tv_error_message());
    tv_error_reset();
}

/* A job taken on another thread, held until released. */
typedef struct {
    TvDriverDomain *dom;
    TvJobSync job;
    TvJobAsync async;
    const char *owner;
    int rc;
    gint64 took_us; /* how long begin waited */
    GMutex lock;
    GCond cond;
    bool taken, release;
} Holder;

static gpointer hold(gpointer data)
{
    Holder *h = data;
    gint64 t0 = g_get_monotonic_time();
    h->rc = h->async ? tv_driver_async_begin(h->dom, h->async, h->owner)
                     : tv_driver_job_begin(h->dom, h->job, h->owner);
    g_mutex_lock(&h->lock);
    h->took_us = g_get_monotonic_time() - t0;
    h->taken = true;
    g_cond_broadcast(&h->cond);
    while (!h->release)
        g_cond_wait(&h->cond, &h->lock);
    g_mutex_unlock(&h->lock);
    if (h->rc == 0) {
        if (h->async)
            tv_driver_async_end(h->dom, TV_JOB_COMPLETED);
        else
            tv_driver_job_end(h->dom, h->job);
    }
    if (h->rc < 0)
        tv_error_reset();
    return NULL;
}

static GThread *hold_start(Holder *h, TvDriverDomain *dom, TvJobSync job, TvJobAsync async,
                           const char *owner)
{
    memset(h, 0, sizeof(*h));
    h->dom = dom;
    h->job = job;
    h->async = async;
    h->owner = owner;
    g_mutex_init(&h->lock);
    g_cond_init(&h->cond);
    GThread *t = g_thread_new("holder", hold, h);
    g_mutex_lock(&h->lock);
    while (!h->taken)
        g_cond_wait(&h->cond, &h->lock);
    g_mutex_unlock(&h->lock);
    return t;
}

static void hold_release(Holder *h, GThread *t)
{
    g_mutex_lock(&h->lock);
    h->release = true;
    g_cond_broadcast(&h->cond);
    g_mutex_unlock(&h->lock);
    g_thread_join(t);
    g_mutex_clear(&h->lock);
    g_cond_clear(&h->cond);
}

static void test_one_change_at_a_time(void)
{
    g_autoptr(TvDriverDomain) dom = new_domain();
    Holder h;
    GThread *t = hold_start(&h, dom, TV_JOB_SYNC_MODIFY, TV_JOB_ASYNC_NONE, "start");
    g_assert_cmpint(h.rc, ==, 0);

    /* another change waits the job wait, then names the holder */
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "resume"), ==, -1);
    gint64 waited_ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_cmpint(waited_ms, >=, WAIT_MS - 5);
    expect_error(TV_ERR_OPERATION_TIMEOUT,
                 "domain 'jobs': cannot acquire state change lock for 'resume' (a modify job) "
                 "within 0.3 s (held by 'start', a modify job, for 0.");
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_DESTROY, "destroy"), ==, -1);
    expect_error(TV_ERR_OPERATION_TIMEOUT, "held by 'start', a modify job");

    /* queries run beside it, several at once */
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_QUERY, "vcpu info"), ==, 0);
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_QUERY, "balloon info"), ==, 0);
    tv_driver_job_end(dom, TV_JOB_SYNC_QUERY);
    tv_driver_job_end(dom, TV_JOB_SYNC_QUERY);

    /* a waiter gets the job as soon as the holder ends */
    Holder w;
    memset(&w, 0, sizeof(w));
    w.dom = dom;
    w.job = TV_JOB_SYNC_MODIFY;
    w.owner = "suspend";
    g_mutex_init(&w.lock);
    g_cond_init(&w.cond);
    GThread *wt = g_thread_new("waiter", hold, &w);
    g_usleep(50 * 1000);
    hold_release(&h, t);
    g_mutex_lock(&w.lock);
    while (!w.taken)
        g_cond_wait(&w.cond, &w.lock);
    g_mutex_unlock(&w.lock);
    g_assert_cmpint(w.rc, ==, 0);
    g_assert_cmpint(w.took_us / 1000, <, WAIT_MS);
    hold_release(&w, wt);

    /* nothing held: no wait */
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "define"), ==, 0);
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
}

static void test_removed_while_waiting(void)
{
    g_autoptr(TvDriverDomain) dom = new_domain();
    Holder h;
    GThread *t = hold_start(&h, dom, TV_JOB_SYNC_MODIFY, TV_JOB_ASYNC_NONE, "undefine");
    g_mutex_lock(&dom->lock);
    dom->removed = true;
    g_cond_broadcast(&dom->job.cond);
    g_mutex_unlock(&dom->lock);
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "start"), ==, -1);
    expect_error(TV_ERR_NO_DOMAIN, "domain 'jobs' was undefined meanwhile");
    hold_release(&h, t);
}

/* What a migration out lets in, from another thread. */
static void test_async_allows(void)
{
    g_autoptr(TvDriverDomain) dom = new_domain();
    Holder h;
    GThread *t = hold_start(&h, dom, TV_JOB_SYNC_NONE, TV_JOB_ASYNC_MIGRATION_OUT, "migrate");
    g_assert_cmpint(h.rc, ==, 0);
    const TvJobSync allowed[] = { TV_JOB_SYNC_QUERY, TV_JOB_SYNC_MIGRATION_OP, TV_JOB_SYNC_SUSPEND,
                                  TV_JOB_SYNC_DESTROY, TV_JOB_SYNC_ABORT };
    for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++) {
        if (tv_driver_job_begin(dom, allowed[i], "beside") < 0)
            g_error("%s during a migration: %s", tv_job_sync_to_string(allowed[i]),
                    tv_error_message());
        tv_driver_job_end(dom, allowed[i]);
    }
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "set memory"), ==, -1);
    expect_error(TV_ERR_OPERATION_TIMEOUT,
                 "cannot acquire state change lock for 'set memory' (a modify job) within 0.3 s "
                 "(held by 'migrate', a migration out job, for 0.");
    /* the owner's steps only come from the owner (or whom it hands over to) */
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_NESTED, "not the owner"), ==, -1);
    expect_error(TV_ERR_OPERATION_TIMEOUT, "held by 'migrate', a migration out job");
    /* a second async job waits for the first */
    g_assert_cmpint(tv_driver_async_begin(dom, TV_JOB_ASYNC_SAVE, "save"), ==, -1);
    expect_error(TV_ERR_OPERATION_TIMEOUT, "for 'save' (a save job)");
    hold_release(&h, t);

    /* a save allows no suspend and no migration settings */
    t = hold_start(&h, dom, TV_JOB_SYNC_NONE, TV_JOB_ASYNC_SAVE, "managedsave");
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_SUSPEND, "suspend"), ==, -1);
    expect_error(TV_ERR_OPERATION_TIMEOUT, "held by 'managedsave', a save job");
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_MIGRATION_OP, "migrate-setspeed"), ==, -1);
    tv_error_reset();
    hold_release(&h, t);
}

typedef struct {
    int calls;
    gint64 sleep_us;
} AbortLog;

static int abort_cb(TvDriverDomain *dom, void *opaque)
{
    AbortLog *log = opaque;
    log->calls++;
    g_usleep(log->sleep_us);
    return 0;
}

static gpointer abort_thread(gpointer data)
{
    int rc = tv_driver_job_abort(data);
    if (rc < 0)
        g_error("abort: %s", tv_error_message());
    return NULL;
}

/* The owner's own thread: nested steps, figures, abort, the completed job. */
static void test_async_owner(void)
{
    g_autoptr(TvDriverDomain) dom = new_domain();
    TvDomainJobStats st;
    tv_driver_job_stats(dom, 0, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_NONE);
    g_assert_cmpint(tv_driver_job_abort(dom), ==, -1);
    expect_error(TV_ERR_OPERATION_INVALID, "no job is active on domain 'jobs'");

    g_assert_cmpint(tv_driver_async_begin(dom, TV_JOB_ASYNC_MIGRATION_OUT, "migrate"), ==, 0);
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_NESTED, "migrate: begin"), ==, 0);
    tv_driver_job_end(dom, TV_JOB_SYNC_NESTED);
    /* not abortable until the owner says how */
    g_assert_cmpint(tv_driver_job_abort(dom), ==, -1);
    expect_error(TV_ERR_OPERATION_INVALID, "no job is active");

    g_usleep(20 * 1000);
    tv_driver_job_stats(dom, 0, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_UNBOUNDED);
    g_assert_cmpint(st.operation, ==, TV_JOB_OPERATION_MIGRATION_OUT);
    g_assert_cmpuint(st.time_elapsed_ms, >=, 20);
    TvDomainJobStats p = { .data_total = 1000,
                           .data_processed = 400,
                           .data_remaining = 600,
                           .mem_total = 1000,
                           .mem_processed = 400,
                           .mem_remaining = 600,
                           .mem_bps = 12345,
                           .mem_iteration = 2 };
    tv_driver_async_set_progress(dom, &p);
    tv_driver_job_stats(dom, 0, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_UNBOUNDED);
    g_assert_cmpint(st.operation, ==, TV_JOB_OPERATION_MIGRATION_OUT);
    g_assert_cmpuint(st.data_processed, ==, 400);
    g_assert_cmpuint(st.mem_bps, ==, 12345);
    /* the last completed job: none yet */
    tv_driver_job_stats(dom, TV_JOB_STATS_COMPLETED, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_NONE);

    /* abort: waits for the owner's nested step, then calls the abort function */
    AbortLog log = { 0, 0 };
    tv_driver_async_set_abort(dom, abort_cb, &log);
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_NESTED, "migrate: perform"), ==, 0);
    GThread *a = g_thread_new("abort", abort_thread, dom);
    g_usleep(50 * 1000);
    g_assert_cmpint(log.calls, ==, 0);
    g_assert_false(tv_driver_async_abort_requested(dom));
    tv_driver_job_end(dom, TV_JOB_SYNC_NESTED);
    g_thread_join(a);
    g_assert_cmpint(log.calls, ==, 1);
    g_assert_true(tv_driver_async_abort_requested(dom));

    /* the end waits for an abort in progress */
    log.sleep_us = 100 * 1000;
    a = g_thread_new("abort", abort_thread, dom);
    g_usleep(20 * 1000);
    gint64 t0 = g_get_monotonic_time();
    tv_driver_async_end(dom, TV_JOB_CANCELLED);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 50 * 1000);
    g_thread_join(a);
    g_assert_cmpint(log.calls, ==, 2);

    tv_driver_job_stats(dom, 0, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_NONE);
    /* the completed job, kept once, then forgotten */
    tv_driver_job_stats(dom, TV_JOB_STATS_COMPLETED | TV_JOB_STATS_KEEP_COMPLETED, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_CANCELLED);
    g_assert_cmpint(st.operation, ==, TV_JOB_OPERATION_MIGRATION_OUT);
    g_assert_cmpuint(st.data_processed, ==, 400);
    g_assert_cmpuint(st.time_elapsed_ms, >=, 70);
    tv_driver_job_stats(dom, TV_JOB_STATS_COMPLETED, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_CANCELLED);
    tv_driver_job_stats(dom, TV_JOB_STATS_COMPLETED, &st);
    g_assert_cmpint(st.type, ==, TV_JOB_NONE);

    /* a phase in another call hands the nested steps over */
    Holder h;
    GThread *t = hold_start(&h, dom, TV_JOB_SYNC_NONE, TV_JOB_ASYNC_MIGRATION_IN, "prepare");
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_NESTED, "finish"), ==, -1);
    tv_error_reset();
    tv_driver_async_continue(dom, "finish");
    g_assert_cmpint(tv_driver_job_begin(dom, TV_JOB_SYNC_NESTED, "finish"), ==, 0);
    tv_driver_job_end(dom, TV_JOB_SYNC_NESTED);
    hold_release(&h, t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/driver/job/one-change-at-a-time", test_one_change_at_a_time);
    g_test_add_func("/driver/job/removed-while-waiting", test_removed_while_waiting);
    g_test_add_func("/driver/job/async-allows", test_async_allows);
    g_test_add_func("/driver/job/async-owner", test_async_owner);
    return g_test_run();
}
