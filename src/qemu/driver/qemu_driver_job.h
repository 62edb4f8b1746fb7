/* Jobs: who may change a domain now (docs/architecture.rst, "Threads, jobs
 * and locks").
 *
 * libvirt's model, per domain:
 *  - one synchronous job at a time that changes the domain (MODIFY, DESTROY,
 *    SUSPEND, ABORT, MIGRATION_OP, NESTED): taken around the slow part of a
 *    call and given back before it returns;
 *  - QUERY jobs, any number, beside it (reading from QEMU: the monitor
 *    serializes the commands themselves);
 *  - one asynchronous job (migration out or in, save, dump, snapshot) that
 *    lasts across many steps; while it runs, only the synchronous jobs its
 *    type allows may start (a query, an abort, migration settings such as
 *    speed and downtime, and the async job's own NESTED steps).
 * A job that cannot start waits, at most the driver's job wait (libvirt's
 * 30 s), then fails with TV_ERR_OPERATION_TIMEOUT: "cannot acquire state
 * change lock (held by ...)" naming the holder and how long it has held it.
 *
 * Everything here takes dom->lock itself; none is called with it held. */
#pragma once

#include "qemu_driver.h"

#include <glib.h>
#include <stdbool.h>

typedef struct _TvDriverDomain TvDriverDomain;

/* Synchronous jobs (libvirt's virDomainJob). */
typedef enum {
    TV_JOB_SYNC_NONE = 0,
    TV_JOB_SYNC_QUERY,        /* reads from QEMU; beside anything */
    TV_JOB_SYNC_DESTROY,      /* destroy */
    TV_JOB_SYNC_SUSPEND,      /* suspend (libvirt allows it during migration) */
    TV_JOB_SYNC_MODIFY,       /* any other change */
    TV_JOB_SYNC_ABORT,        /* abort the async job */
    TV_JOB_SYNC_MIGRATION_OP, /* migration settings: speed, downtime, ... */
    TV_JOB_SYNC_NESTED,       /* a step of the async job, by its owner */
    TV_JOB_SYNC_LAST
} TvJobSync;

/* Asynchronous jobs (libvirt's virDomainAsyncJob). */
typedef enum {
    TV_JOB_ASYNC_NONE = 0,
    TV_JOB_ASYNC_MIGRATION_OUT,
    TV_JOB_ASYNC_MIGRATION_IN,
    TV_JOB_ASYNC_SAVE,
    TV_JOB_ASYNC_DUMP,
    TV_JOB_ASYNC_SNAPSHOT,
    TV_JOB_ASYNC_LAST
} TvJobAsync;

const char *tv_job_sync_to_string(TvJobSync job);
const char *tv_job_async_to_string(TvJobAsync job);

/* Called (by abort_job, in an ABORT job, no lock held) to stop the async
 * job: e.g. migrate_cancel.  0, or -1 with an error. */
typedef int (*TvJobAbortFunc)(TvDriverDomain *dom, void *opaque);

/* The job state of one domain (a member of TvDriverDomain, under its lock). */
typedef struct {
    GCond cond;     /* any change below */
    gint64 wait_us; /* the driver's job wait */
    /* the synchronous job that changes the domain */
    TvJobSync active;
    const char *owner; /* the call holding it, e.g. "start" (static string) */
    GThread *thread;   /* holding it */
    gint64 started;    /* monotonic µs */
    unsigned nqueries; /* QUERY jobs running */
    /* the asynchronous job */
    TvJobAsync async;
    const char *async_owner;
    GThread *async_thread;
    gint64 async_started;      /* monotonic µs */
    gint64 async_started_wall; /* real time, µs */
    TvJobAbortFunc abort_cb;
    void *abort_opaque;
    bool abort_requested;
    TvDomainJobStats progress;  /* the async job's figures, as its owner reports them */
    TvDomainJobStats completed; /* the last async job that ended */
    bool has_completed;
} TvDriverJob;

/* wait_ms: how long a job waits for another before it fails (0: 30 s). */
void tv_driver_job_init(TvDriverJob *job, unsigned wait_ms);
void tv_driver_job_clear(TvDriverJob *job);

/* Starts a synchronous job (not NONE) named owner.  QUERY never waits for a
 * changing job; the others wait while one runs or while the async job does
 * not allow them.  -1 with an error on timeout or when the domain left the
 * list meanwhile (NO_DOMAIN). */
int tv_driver_job_begin(TvDriverDomain *dom, TvJobSync job, const char *owner);
/* For a domain that nobody else can see yet (a transient domain being
 * created): takes the MODIFY job without waiting. */
void tv_driver_job_begin_new(TvDriverDomain *dom, const char *owner);
void tv_driver_job_end(TvDriverDomain *dom, TvJobSync job);

/* Starts the async job (waits like begin, for the changing job and an
 * earlier async job).  The caller then runs its steps in NESTED jobs. */
int tv_driver_async_begin(TvDriverDomain *dom, TvJobAsync job, const char *owner);
/* The next phase of the async job runs in this call (migration's Begin,
 * Perform and Confirm are separate calls): its NESTED jobs come from here. */
void tv_driver_async_continue(TvDriverDomain *dom, const char *owner);
/* Ends it; result (TV_JOB_COMPLETED, TV_JOB_FAILED or TV_JOB_CANCELLED)
 * and the last progress become the completed job's statistics.  Waits for
 * an abort in progress to return first. */
void tv_driver_async_end(TvDriverDomain *dom, int result);
/* The async job's owner: how it can be aborted (NULL: it cannot). */
void tv_driver_async_set_abort(TvDriverDomain *dom, TvJobAbortFunc cb, void *opaque);
/* The async job's owner: its figures so far (type, operation, data, ...). */
void tv_driver_async_set_progress(TvDriverDomain *dom, const TvDomainJobStats *stats);
bool tv_driver_async_abort_requested(TvDriverDomain *dom);

/* The current async job's statistics, or with TV_JOB_STATS_COMPLETED the
 * last completed one's (KEEP_COMPLETED: not forgotten afterwards). */
void tv_driver_job_stats(TvDriverDomain *dom, unsigned flags, TvDomainJobStats *out);
/* Abort the async job: an ABORT job, then its abort function. */
int tv_driver_job_abort(TvDriverDomain *dom);
