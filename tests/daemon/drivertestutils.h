/* Shared set-up of the driver tests: a private --root per test, the real
 * QEMU's capabilities (cached once under the build tree), domain XML for the
 * bundled demo guest, a recorder for lifecycle events, process checks. */
#pragma once

#include "qemu_driver.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    char *root;      /* private, removed by dt_env_clear */
    char *cache_dir; /* shared by all tests of the run: one probe */
    char *demo;      /* demo.elf: tag tests, then powers off */
    char *demo_loop; /* demo-loop.elf: stays up */
    TvQemuDriver *drv;
    bool no_prefork;      /* dt_open: execute QEMU for every start (default: fork server) */
    unsigned job_wait_ms; /* dt_open: TvQemuDriverConfig.job_wait_ms (0: 30 s) */
    char *host_root;      /* dt_open: host facts from this fixture root (NULL: the real host) */

    GMutex lock; /* the events below */
    GCond cond;
    GArray *events; /* DtEvent */
} DtEnv;

typedef struct {
    char name[64];
    int id;   /* the domain's run id */
    int kind; /* TvDomainEventId */
    int event;
    int detail;
    char str[128];
} DtEvent;

/* Runs the tests in a child; afterwards (pass, fail or crash) every QEMU
 * this run started is killed.  Returns the exit status for main(). */
int dt_run_guarded(int (*run)(void));

/* Skips the test (and returns false) when the firmware was not built. */
bool dt_env_init(DtEnv *env);
void dt_env_clear(DtEnv *env); /* destroys what still runs, closes, removes the root */
TvQemuDriver *dt_open(DtEnv *env, bool autostart);
void dt_close(DtEnv *env);

/* <domain> for the demo guest; features: extra <features> content (NULL:
 * none); extra: more elements inside <domain> (NULL: none). */
char *dt_domain_xml(const DtEnv *env, const char *name, const char *uuid, const char *kernel,
                    const char *features, const char *extra);

/* Define, start: a failure ends the test with the error.  dt_start_ok sets
 * ref->id. */
void dt_define_ok(DtEnv *env, const char *xml, TvDomainRef *ref);
void dt_start_ok(DtEnv *env, TvDomainRef *ref);

/* Wait (bounded) for an event of the domain; true when it came. */
bool dt_wait_event(DtEnv *env, const char *name, int event, int detail, unsigned timeout_ms);
/* Wait (bounded) for an event of id kind (TvDomainEventId) of the domain;
 * true when it came, with a copy in *out (optional). */
bool dt_wait_event_kind(DtEnv *env, const char *name, int kind, DtEvent *out, unsigned timeout_ms);
void dt_events_reset(DtEnv *env);

/* The QEMU pid from the domain's status file; 0 when there is none. */
pid_t dt_qemu_pid(const DtEnv *env, const char *name);
/* Is a QEMU of this run (under one of its roots) with "-name guest=NAME,"
 * running (any pid)? */
bool dt_qemu_running(const char *name);
/* How many live QEMUs of this run have "-name guest=NAME,". */
int dt_qemu_count(const char *name);
bool dt_pid_alive(pid_t pid);

/* list_all into a sorted "a,b,c" of names. */
char *dt_list_names(TvQemuDriver *drv, unsigned flags);
