/* The driver API: what tagvirtd's remote layer calls for each procedure.
 * Every function is thread-safe (calls come from a worker pool); one job at a
 * time changes a domain, queries run beside it.  On failure a function reports
 * a tv_error (libvirt code + domain, which the remote layer sends as is) and
 * returns -1 or NULL. */
#pragma once

#include "domain_vocab.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TV_DRIVER_UUID_LEN 16

typedef struct TvQemuDriver TvQemuDriver;

typedef struct {
    const char *root;       /* NULL: system paths; else everything under it */
    const char *config_dir; /* persistent definitions (NULL: derived from root) */
    const char *state_dir;  /* status files, monitor sockets */
    const char *cache_dir;  /* capabilities cache */
    const char *log_dir;    /* one QEMU log per domain */
    const char *host_root;  /* host facts root (tests: fixture hosts); NULL: "/" */
    const char *emulator;   /* default emulator; NULL: /usr/bin/qemu-system-aarch64 */
    bool autostart;         /* start autostart domains when opened */
    bool prefork;           /* fork domains' QEMUs from a preloaded one (qemu_driver_prefork.c) */
    /* offer MTE on an emulator whose tag storage failed the probe's self-test
     * (QEMU 7.2), with a warning at every start */
    bool allow_broken_tag_storage;
    /* how QEMU is confined (qemu_security.h; borrowed, outlives the driver);
     * NULL: as the driver's own user, no sandbox */
    const struct _TvQemuSecurity *security;
    /* how long a call waits for another one's job on the same domain before
     * it fails with "cannot acquire state change lock"; 0: libvirt's 30 s */
    unsigned job_wait_ms;
} TvQemuDriverConfig;

typedef struct {
    char *name;
    unsigned char uuid[TV_DRIVER_UUID_LEN];
    int id; /* -1 when not running */
} TvDomainRef;

void tv_domain_ref_clear(TvDomainRef *ref);

typedef struct {
    int state; /* TvDomainState */
    unsigned long long max_mem_kib;
    unsigned long long mem_kib;
    unsigned vcpus;
    unsigned long long cpu_time_ns;
} TvDomainInfo;

typedef struct {
    char model[32];
    unsigned long long memory_kib;
    int cpus, mhz, nodes, sockets, cores, threads;
} TvNodeInfo;

typedef void (*TvDomainEventFunc)(const TvDomainRef *dom, int event, int detail, void *opaque);

TvQemuDriver *tv_qemu_driver_open(const TvQemuDriverConfig *cfg);
/* Leaves running guests running (the next open reconnects to them). */
void tv_qemu_driver_close(TvQemuDriver *drv);
/* One callback for all lifecycle events; called from any thread. */
void tv_qemu_driver_set_event_callback(TvQemuDriver *drv, TvDomainEventFunc cb, void *opaque);

unsigned long long
tv_qemu_driver_hypervisor_version(TvQemuDriver *drv); /* major*1e6+minor*1e3+micro */
char *tv_qemu_driver_capabilities(TvQemuDriver *drv);
char *tv_qemu_driver_domain_capabilities(TvQemuDriver *drv, const char *emulator, const char *arch,
                                         const char *machine, const char *virttype);
int tv_qemu_driver_node_info(TvQemuDriver *drv, TvNodeInfo *info);
int tv_qemu_driver_max_vcpus(TvQemuDriver *drv, const char *type);

int tv_qemu_driver_define(TvQemuDriver *drv, const char *xml, unsigned flags, TvDomainRef *out);
int tv_qemu_driver_undefine(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_lookup_by_name(TvQemuDriver *drv, const char *name, TvDomainRef *out);
int tv_qemu_driver_lookup_by_uuid(TvQemuDriver *drv, const unsigned char *uuid, TvDomainRef *out);
int tv_qemu_driver_lookup_by_id(TvQemuDriver *drv, int id, TvDomainRef *out);
/* *out is a newly allocated array of *n refs (free each with tv_domain_ref_clear, then g_free). */
int tv_qemu_driver_list_all(TvQemuDriver *drv, unsigned flags, TvDomainRef **out, size_t *n);

/* A new raw, non-blocking fd on the running domain's serial console (dev_name
 * NULL, "serial0" or "console0"); -1 with a tv_error. */
int tv_qemu_driver_open_console(TvQemuDriver *drv, const unsigned char *uuid, const char *dev_name);
/* virDomainOpenGraphicsFD: a new socket connected to the running domain's
 * graphics device idx (its VNC server); flags: 0 or 1 (skipauth).  -1 with a
 * tv_error. */
int tv_qemu_driver_open_graphics_fd(TvQemuDriver *drv, const unsigned char *uuid, unsigned idx,
                                    unsigned flags);
int tv_qemu_driver_get_state(TvQemuDriver *drv, const unsigned char *uuid, int *state, int *reason);
int tv_qemu_driver_get_info(TvQemuDriver *drv, const unsigned char *uuid, TvDomainInfo *info);
char *tv_qemu_driver_get_xml(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
/* What the calls below cost, for the daemon's choice of thread; all three
 * are cheap and never wait for a job or a domain's lock.
 * The largest XML tv_qemu_driver_get_xml() returned for the domain since its
 * definition last changed, in bytes; 0 when unknown (not formatted since, or
 * no such domain). */
size_t tv_qemu_driver_xml_size_hint(TvQemuDriver *drv, const unsigned char *uuid);
/* Domains in the list. */
size_t tv_qemu_driver_domain_count(TvQemuDriver *drv);
/* The default emulator's version is known: hypervisor_version() will not probe. */
bool tv_qemu_driver_hypervisor_version_known(TvQemuDriver *drv);
int tv_qemu_driver_is_active(TvQemuDriver *drv, const unsigned char *uuid);
int tv_qemu_driver_is_persistent(TvQemuDriver *drv, const unsigned char *uuid);
int tv_qemu_driver_get_autostart(TvQemuDriver *drv, const unsigned char *uuid);
int tv_qemu_driver_set_autostart(TvQemuDriver *drv, const unsigned char *uuid, bool autostart);

int tv_qemu_driver_create(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                          TvDomainRef *out);
int tv_qemu_driver_create_xml(TvQemuDriver *drv, const char *xml, unsigned flags, TvDomainRef *out);
int tv_qemu_driver_destroy(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_shutdown(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_reboot(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_suspend(TvQemuDriver *drv, const unsigned char *uuid);
int tv_qemu_driver_resume(TvQemuDriver *drv, const unsigned char *uuid);
/* job_info flags: libvirt's DOMAIN_JOB_STATS_* numbers */
enum {
    TV_JOB_STATS_COMPLETED = 1,      /* the last completed job, not the current one */
    TV_JOB_STATS_KEEP_COMPLETED = 2, /* with COMPLETED: do not forget it afterwards */
};

/* libvirt's virDomainJobType numbers */
enum {
    TV_JOB_NONE = 0,
    TV_JOB_BOUNDED = 1,
    TV_JOB_UNBOUNDED = 2,
    TV_JOB_COMPLETED = 3,
    TV_JOB_FAILED = 4,
    TV_JOB_CANCELLED = 5,
};

/* libvirt's virDomainJobOperation numbers */
enum {
    TV_JOB_OPERATION_UNKNOWN = 0,
    TV_JOB_OPERATION_START = 1,
    TV_JOB_OPERATION_SAVE = 2,
    TV_JOB_OPERATION_RESTORE = 3,
    TV_JOB_OPERATION_MIGRATION_IN = 4,
    TV_JOB_OPERATION_MIGRATION_OUT = 5,
    TV_JOB_OPERATION_SNAPSHOT = 6,
    TV_JOB_OPERATION_SNAPSHOT_REVERT = 7,
    TV_JOB_OPERATION_DUMP = 8,
};

/* A long-running job's figures: libvirt's job statistics (virDomainJobInfo
 * and the VIR_DOMAIN_JOB_* typed parameters); times in ms, data in bytes; a
 * figure the job does not know is 0. */
typedef struct {
    int type;      /* TV_JOB_* */
    int operation; /* TV_JOB_OPERATION_* */
    unsigned long long time_elapsed_ms, time_remaining_ms;
    unsigned long long data_total, data_processed, data_remaining;
    unsigned long long mem_total, mem_processed, mem_remaining;
    unsigned long long disk_total, disk_processed, disk_remaining;
    bool has_downtime; /* a migration's downtime (also when it is 0 ms) */
    unsigned long long downtime_ms, setup_time_ms;
    unsigned long long mem_bps, mem_dirty_rate, mem_iteration, mem_page_size;
    unsigned long long mem_constant, mem_normal, mem_normal_bytes;
} TvDomainJobStats;

/* The current long-running (async) job, or with TV_JOB_STATS_COMPLETED the
 * last one that ended (type COMPLETED, FAILED or CANCELLED); TV_JOB_NONE
 * when there is none.  State changes such as start or destroy are not jobs
 * in this sense (libvirt's answer for them is NONE too). */
int tv_qemu_driver_job_stats(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                             TvDomainJobStats *out);
/* The same as virDomainJobInfo: *type TV_JOB_*; values in its order (time
 * elapsed, time remaining, data total/processed/remaining, memory ..., file
 * ...), ms and bytes. */
int tv_qemu_driver_job_info(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags, int *type,
                            unsigned long long values[11]);
/* Aborts the async job (e.g. a migration: migrate_cancel): OPERATION_INVALID
 * "no job is active on domain 'x'" when there is none or it cannot be
 * aborted, "not running" for a shut-off domain. */
int tv_qemu_driver_abort_job(TvQemuDriver *drv, const unsigned char *uuid);
/* tagvirt has no managed save and no snapshots: 0 for every domain (after
 * the flags check and the lookup); -1 on error. */
int tv_qemu_driver_has_managed_save(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_snapshot_num(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);

/* ---- migration v3 with parameters (qemu_driver_migrate.c, docs/migration.rst) ----
 * flags are libvirt's VIR_MIGRATE_* (TV_MIGRATE_*, domain_vocab.h).  The
 * strings are borrowed from the caller's typed parameters. */
typedef struct {
    const char *dest_xml;    /* "destination_xml" */
    const char *dest_name;   /* "destination_name" */
    const char *persist_xml; /* "persistent_xml" */
    const char *uri;         /* "migrate_uri" */
    const char *dom_name;    /* Finish: the domain's name as the caller knows it */
} TvMigrateParams;

/* Source: the definition the destination gets (the running one in
 * migratable form, or params->dest_xml once it passed the ABI check against
 * the running one) and the cookie (domain_migration_cookie.h).  Reads the
 * guest only.  Refuses a domain that is not running, a KVM guest with MTE,
 * and flags tagvirt does not support. */
int tv_qemu_driver_migrate_begin(TvQemuDriver *drv, const unsigned char *uuid,
                                 const TvMigrateParams *params, unsigned flags, char **xml_out,
                                 char **cookie_out);
/* Destination: the cookie and params->dest_xml against this host (its
 * capabilities, the MTE level, the recorded guest ABI against its own probe,
 * names in use).  Today every Prepare ends in an error: a refusal naming what
 * differs, or, when all checks pass, OPERATION_UNSUPPORTED because the
 * incoming QEMU is not built yet.  Starts nothing. */
int tv_qemu_driver_migrate_prepare(TvQemuDriver *drv, const TvMigrateParams *params,
                                   const char *cookie_in, size_t cookie_len, unsigned flags,
                                   char **cookie_out, char **uri_out);
/* Destination, after Perform: NO_DOMAIN (no Prepare leaves a guest behind). */
int tv_qemu_driver_migrate_finish(TvQemuDriver *drv, const TvMigrateParams *params, unsigned flags,
                                  bool cancelled, TvDomainRef *out);
/* Source, at the end: 0 for a cancelled migration (the guest runs on). */
int tv_qemu_driver_migrate_confirm(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                                   bool cancelled);

/* The name of a running domain that has path as a disk (newly allocated), or
 * NULL: the storage driver asks before it deletes, wipes or resizes a file. */
char *tv_qemu_driver_path_user(TvQemuDriver *drv, const char *path);
