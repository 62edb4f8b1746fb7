/* Internals of the QEMU driver (qemu_driver*.c): the driver object, the
 * domain objects of its list, and what the files share.
 *
 * Locks, in the order they may be taken: drv->define_lock, drv->lock (the
 * maps), dom->lock.  None of them is held while QEMU is talked to, while a
 * job waits, or while the event callback runs (events are delivered by a
 * dispatcher thread).  Jobs (dom->job, qemu_driver_job.h) are claims, not
 * locks: one state change at a time per domain, held across its slow part;
 * queries only take dom->lock (or a QUERY job when they ask QEMU). */
#pragma once

#include "qemu_boot.h"
#include "qemu_driver_job.h"
#include "qemu_domain.h"
#include "qemu_driver.h"
#include "qemu_host_topology.h"
#include "tv_xml.h"
#include "qemu_process.h"

#include <glib.h>
#include <stdbool.h>

typedef struct _TvDriverDomain TvDriverDomain;

/* One running QEMU of a domain; shared by the domain, jobs using it and the
 * reaper, freed with the last reference (never on the QEMU watcher thread). */
typedef struct {
    gint refs;
    TvQemuDriver *drv;
    TvDriverDomain *dom; /* holds a reference */
    TvQemuProcess *proc; /* NULL until the start returned */
    TvDomainDef *def;    /* the definition it runs (NULL: the domain's persistent one) */
    int id;
    /* under dom->lock */
    bool attached; /* dom->run == this and STARTED was announced */
    bool exited;
    int state, reason; /* last state seen */
    bool reboot_pending;
    bool watchdog_poweroff; /* QEMU's watchdog action ends it: STOPPED (failed), as libvirt */
    GArray *vcpu_tids;      /* vCPU thread ids by index, once asked (qemu_driver_vcpu.c) */
} TvDriverRun;

struct _TvDriverDomain {
    gint refs;
    char *name; /* fixed: define never renames */
    unsigned char uuid[TV_UUID_LEN];

    GMutex lock;
    TvDriverJob job;       /* under lock: who changes the domain now */
    bool removed;          /* no longer in the list */
    TvDomainDef *def;      /* persistent definition; NULL: transient */
    TvDriverRun *run;      /* NULL while shut off */
    TvDriverRun *starting; /* the start in progress (borrowed from it), or NULL */
    int shutoff_reason;    /* TvDomainShutoffReason, while shut off */
    bool autostart;
    gint xml_size; /* atomic: see tv_qemu_driver_xml_size_hint() */
    /* under lock: an outgoing migration copied the guest (between Perform
     * and Confirm; qemu_driver_migrate_out.c), and the bandwidth limit in
     * MiB/s for its migrations (migrate-setspeed; 0: unlimited) */
    bool migrated_out;
    unsigned migrate_flags;
    unsigned long long migrate_bandwidth;
    /* under lock: the connection of a client-managed Perform, from its start
     * to Confirm (0: none), and whether it closed while QEMU copied */
    guint64 migrate_caller;
    bool migrate_caller_lost;
    /* readers: get_xml formatting def without dom->lock (taken under it);
     * writer: freeing a def taken out of dom (no other lock held) */
    GRWLock def_lock;
};

struct TvQemuDriver {
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
    char *cache_dir;
    char *log_dir;
    char *nvram_dir; /* UEFI variable stores (qemu_boot.h) */
    char *save_dir;  /* managed save images, NAME.save (qemu_driver_save.c) */
    char *swtpm_dir; /* <tpm> state, <uuid>/tpm2 (qemu_process_swtpm.c) */
    char *emulator;
    unsigned job_wait_ms; /* TvQemuDriverConfig.job_wait_ms */
    TvHostFacts *host;
    TvQemuCapsCache *caps_cache; /* the driver's own: capabilities per emulator binary */
    TvQemuPipeline pipe;

    GMutex define_lock;  /* name/uuid checks and their insertion, atomically */
    gint hv_version;     /* default emulator's version at its last caps lookup (atomic) */
    GMutex lock;         /* the maps below and next_id */
    GHashTable *by_uuid; /* uuid bytes -> TvDriverDomain (holds a reference) */
    GHashTable *by_name; /* name -> TvDriverDomain (borrowed) */
    GHashTable *by_id;   /* id -> TvDriverDomain (borrowed), running only */
    int next_id;
    bool closing; /* no new reaper work: close() is freeing everything */

    /* events: queued under the domain's lock, delivered by one thread */
    GMutex event_lock;
    GCond event_cond;
    TvDomainEventFunc event_cb;
    void *event_opaque;
    bool event_busy;
    GAsyncQueue *events;
    GThread *event_thread;

    /* incoming migrations (qemu_driver_migrate_in.c): QEMU's ports and
     * address (TvQemuDriverConfig), those between Prepare and Finish */
    unsigned migration_port_min, migration_port_max;
    char *migration_address;
    char *migrate_tls_dir; /* VIR_MIGRATE_TLS: QEMU's x509 files */
    bool migrate_tls_verify;
    GHashTable *incoming; /* under lock: domain name -> TvDriverIncoming */
    GCond incoming_cond;  /* with lock: an incoming migration ended, or closing */
    unsigned incoming_timeout_s;
    guint64 incoming_serial;     /* under lock: the last TvDriverIncoming's */
    GThreadPool *migration_work; /* qemu_driver_migrate_gone.c */

    GThreadPool *reaper; /* frees runs whose QEMU went away, restarts reboots */
    GList *orphans;      /* reaper tasks that arrived while closing (under lock) */

    /* the host's topology, until its online CPUs change (qemu_driver_node.c) */
    GMutex topo_lock;
    struct _TvDriverTopology *topo;
    guint topo_generation;

    /* node devices until sysfs lists others (qemu_driver_nodedev.c) */
    GMutex nodedev_lock;
    struct _TvDriverNodeDevs *nodedevs;

    /* host answers kept in memory (their inputs do not change while open) */
    GMutex host_lock;
    char *caps_xml;
    TvQemuCaps *caps_xml_from; /* a reference */
    guint caps_xml_topo;       /* the generation of the topology it was written from */
    GHashTable *domcaps;       /* "emulator\narch\nmachine\nvirttype" -> DomCapsEntry */

    const struct _TvQemuSecurity *security; /* TvQemuDriverConfig.security */
    TvQemuNetworkBridgeFunc network_bridge; /* TvQemuDriverConfig.network_bridge */
    void *network_opaque;

    /* preforked QEMUs (qemu_driver_prefork.c) */
    bool prefork_enabled;
    GMutex prefork_lock;
    GHashTable *preforks; /* binary path -> its fork server */
};

/* qemu_driver_lifecycle.c: shared with the reaper and reconnect */
typedef struct {
    TvDriverRun *run;
    bool restart;
} TvDriverReapTask; /* a run whose QEMU went away (restart it for a reboot) */
TvDriverRun *tv_driver_run_new(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def);
/* Under drv->lock and dom->lock: the run's QEMU is gone. */
void tv_driver_run_detach_locked(TvQemuDriver *drv, TvDriverRun *run, int reason, bool *remove,
                                 TvDriverReapTask **reap);
/* Under drv->lock: hand a task to the reaper (NULL: nothing). */
void tv_driver_reap_locked(TvQemuDriver *drv, TvDriverReapTask *task);
TvQemuProcessConfig tv_driver_process_config(TvQemuDriver *drv, const TvQemuCaps *caps,
                                             TvDriverRun *run);
/* The sync modify job of a domain that must not be running. */
int tv_driver_begin_inactive_job(TvDriverDomain *dom, const char *owner);
/* Start dom (def: a transient definition, NULL: the persistent one) inside its job. */
int tv_driver_start_in_job(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def,
                           unsigned flags);
/* The domain def names (the same name and uuid; it must be shut off), or a
 * new transient one listed now: either way in a MODIFY job named owner
 * (*created says which).  NULL with DOM_EXIST ("domain 'x' already exists
 * with uuid ...") or the job's error. */
TvDriverDomain *tv_driver_domain_for_start(TvQemuDriver *drv, const TvDomainDef *def,
                                           const char *owner, bool *created);
/* Its end: a created domain that did not start leaves the list; the job
 * ends and the reference goes. */
void tv_driver_domain_for_start_end(TvQemuDriver *drv, TvDriverDomain *dom, bool created,
                                    bool started);
/* The same for a QEMU that receives the guest's state (restore, incoming
 * migration): started paused with in (tv_qemu_process_start_incoming), the
 * STARTED event's detail is started_detail (libvirt's RESTORED 2, MIGRATED
 * 1).  The caller waits for the load and resumes or destroys. */
int tv_driver_start_incoming_in_job(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def,
                                    const TvQemuIncoming *in, int started_detail);

/* qemu_driver_migrate.c: what def would give the guest on this host (its
 * caps, resolved as a start would) against a recorded guest ABI (a
 * migration cookie's, a save image's): the MTE level and every recorded
 * field.  -1 with CONFIG_UNSUPPORTED naming the field and both values
 * ("guest ABI: <field> differs: <src_label> V, <dst_label> W (...)");
 * a refused resolution gets "<refused>: " in front. */
int tv_driver_check_guest_abi_here(TvQemuDriver *drv, const TvDomainDef *def, TvQemuCaps *caps,
                                   const TvDomainGuestAbi *record, const char *refused,
                                   const char *src_label, const char *dst_label);

/* qemu_driver_save.c */
/* SAVE_DIR/NAME.save */
char *tv_driver_managed_save_path(TvQemuDriver *drv, const char *name);
bool tv_driver_has_managed_save(TvQemuDriver *drv, const char *name);
/* Start dom from its managed save image, inside its job (start, autostart):
 * 1 when there is none (nothing done), 0 once restored (the image is then
 * removed), -1 with an error (nothing runs, the image is kept).  paused:
 * leave the guest paused. */
int tv_driver_start_managed_save(TvQemuDriver *drv, TvDriverDomain *dom, bool paused);

/* qemu_driver.c */
/* A reference to emulator's caps (NULL: the default emulator's) from the
 * driver's cache; tv_qemu_caps_unref it. */
TvQemuCaps *tv_driver_caps(TvQemuDriver *drv, const char *emulator);
const char *tv_driver_emulator_of(TvQemuDriver *drv, const TvDomainDef *def);

/* qemu_driver_domains.c: objects, maps, jobs */
guint tv_driver_uuid_hash(gconstpointer uuid);
gboolean tv_driver_uuid_equal(gconstpointer a, gconstpointer b);
TvDriverDomain *tv_driver_domain_new(TvQemuDriver *drv, const char *name,
                                     const unsigned char *uuid);
/* Frees a definition taken out of dom->def, once no get_xml formats it any
 * more; call it with no lock held. */
void tv_driver_domain_def_retire(TvDriverDomain *dom, TvDomainDef *old);
/* A reference to every domain, taken under the list lock. */
GPtrArray *tv_driver_domains_snapshot(TvQemuDriver *drv);
TvDriverDomain *tv_driver_domain_ref(TvDriverDomain *dom);
void tv_driver_domain_unref(TvDriverDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDriverDomain, tv_driver_domain_unref)
/* Under drv->lock. */
void tv_driver_list_add_locked(TvQemuDriver *drv, TvDriverDomain *dom);
void tv_driver_list_remove_locked(TvQemuDriver *drv, TvDriverDomain *dom);
/* A transient domain ended (under drv->lock, in the hold that takes it off
 * the list, so that no new domain of its uuid starts meanwhile), after its
 * swtpm: the TPM state it ran with goes as libvirt removes it, unless
 * undefine --keep-tpm marked it kept (qemu_driver_lifecycle.c). */
void tv_driver_tpm_transient_ended(TvQemuDriver *drv, TvDriverDomain *dom, bool had_tpm);
/* A referenced domain, or NULL with NO_DOMAIN. */
TvDriverDomain *tv_driver_find_uuid(TvQemuDriver *drv, const unsigned char *uuid);
/* The definition that describes the domain now: the running one, else the
 * persistent one.  Under dom->lock. */
const TvDomainDef *tv_driver_domain_current_def(TvDriverDomain *dom);
bool tv_driver_domain_active_locked(TvDriverDomain *dom);
void tv_driver_domain_ref_fill(TvDriverDomain *dom, TvDomainRef *out); /* under dom->lock */
/* qemu_driver_domains.c: does the domain pass libvirt's list filters
 * (listAllDomains' flags)?  Under dom->lock. */
bool tv_driver_list_match(TvQemuDriver *drv, TvDriverDomain *dom, unsigned flags);
/* User and system CPU time (ns) of all of a process's threads, from
 * /proc/PID/stat; false when it cannot be read. */
bool tv_driver_process_cpu(pid_t pid, unsigned long long *user_ns, unsigned long long *system_ns);
void tv_driver_domains_free_all(TvQemuDriver *drv);

/* qemu_driver_define.c: in dom's job, def (taken) becomes its persistent
 * definition, written first (the DEFINED event queued). */
int tv_driver_define_update(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def,
                            TvDomainRef *out);
/* qemu_driver_hotplug.c: QEMU's DEVICE_DELETED of alias (no lock held):
 * an unplug that detach stopped waiting for is finished in the domain's
 * job (DEVICE_REMOVED). */
void tv_driver_device_deleted(TvDriverRun *run, const char *alias);

/* qemu_driver_persist.c */
int tv_driver_persist_save(TvQemuDriver *drv, const TvDomainDef *def);
int tv_driver_persist_remove(TvQemuDriver *drv, const char *name);
int tv_driver_persist_set_autostart(TvQemuDriver *drv, const char *name, bool on);
bool tv_driver_persist_autostart(TvQemuDriver *drv, const char *name);
/* Definitions from CONFIG/<name>.xml; broken ones are logged and skipped. */
void tv_driver_persist_load_all(TvQemuDriver *drv);
/* Before loading: remove the temporary files of writes that a kill
 * interrupted (CONFIG/<name>.xml.XXXXXX; in STATE: status files, the
 * records of files given to QEMU's user, AppArmor profiles). */
void tv_driver_persist_init(TvQemuDriver *drv);

/* qemu_driver_prefork.c */
void tv_driver_prefork_init(TvQemuDriver *drv, bool enabled);
typedef struct _TvDriverPrefork TvDriverPrefork;
/* A reference to the fork server for caps' binary, when one was started
 * (it may still be loading: then the start spawns QEMU); starts one for later
 * starts when there is none or the binary changed.  NULL when disabled. */
TvDriverPrefork *tv_driver_prefork_get(TvQemuDriver *drv, const TvQemuCaps *caps);
struct _TvQemuZygote *tv_driver_prefork_zygote(TvDriverPrefork *p);
void tv_driver_prefork_unref(TvDriverPrefork *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDriverPrefork, tv_driver_prefork_unref)
void tv_driver_prefork_clear(TvQemuDriver *drv);

/* qemu_driver_lifecycle.c */
void tv_driver_run_unref(TvDriverRun *run);
/* qemu_driver_devices.c: the running QEMU of dom (a reference), or NULL
 * with OPERATION_INVALID "not running" */
TvDriverRun *tv_driver_running(TvDriverDomain *dom);
/* Take over QEMUs that were running when the driver was last closed. */
void tv_driver_reconnect_all(TvQemuDriver *drv);
void tv_driver_autostart_all(TvQemuDriver *drv);
int tv_driver_reaper_init(TvQemuDriver *drv);
void tv_driver_reaper_shutdown(TvQemuDriver *drv);
void tv_driver_reaper_free_orphans(TvQemuDriver *drv);

/* qemu_driver_events.c */
int tv_driver_events_init(TvQemuDriver *drv);
void tv_driver_events_shutdown(TvQemuDriver *drv);
/* Queue an event (any lock may be held: delivery happens on another thread).
 * id is the domain's run id (-1 when not running).  A lifecycle event: */
void tv_driver_event_queue(TvQemuDriver *drv, TvDriverDomain *dom, int id, int event, int detail);
/* Any other event without parameters (TvDomainEvent says which fields count). */
void tv_driver_event_queue_other(TvQemuDriver *drv, TvDriverDomain *dom, int run_id,
                                 TvDomainEventId id, int event, int detail, const char *str,
                                 unsigned long long value);
/* A tunable or job-completed event; params (g_new'd, each field and string
 * g_malloc'd) are taken. */
void tv_driver_event_queue_params(TvQemuDriver *drv, TvDriverDomain *dom, int run_id,
                                  TvDomainEventId id, TvTypedParam *params, size_t nparams);
/* libvirt's STOPPED detail for a shut-off reason. */
int tv_driver_event_stopped_detail(int shutoff_reason);

/* qemu_driver_node.c: a reference to the host's topology (current online CPUs) */
typedef struct _TvDriverTopology TvDriverTopology;
TvDriverTopology *tv_driver_topology_get(TvQemuDriver *drv);
const TvHostTopology *tv_driver_topology_of(TvDriverTopology *t);
guint tv_driver_topology_generation(TvDriverTopology *t); /* 1, 2, ...: a re-read is newer */
void tv_driver_topology_put(TvDriverTopology *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDriverTopology, tv_driver_topology_put)
void tv_driver_topology_clear(TvQemuDriver *drv);

/* qemu_driver_tune.c: libvirt's live/config semantics.  Which definitions
 * flags (TV_AFFECT_*) select for the domain: a setter may take both, a
 * getter one; LIVE needs it running, CONFIG persistent.  0 or -1 with
 * libvirt's error. */
int tv_driver_affect(TvDriverDomain *dom, unsigned flags, bool setter, bool *live, bool *config);
/* A reference to the domain's run, or NULL with "not running". */
TvDriverRun *tv_driver_run_get(TvDriverDomain *dom);
/* Changes a definition: 0, or -1 with an error and nothing changed. */
typedef int (*TvDriverDefEdit)(TvDomainDef *def, void *opaque);
/* In the domain's job: edit a copy of the persistent definition, write it,
 * swap it in (a running domain keeps what it runs). */
int tv_driver_config_update(TvQemuDriver *drv, TvDriverDomain *dom, TvDriverDefEdit edit,
                            void *opaque);
/* In the domain's job: edit the running QEMU's definition. */
int tv_driver_live_update(TvDriverDomain *dom, TvDriverDefEdit edit, void *opaque);
/* fn reads the live (running QEMU's) or persistent definition; -1 when
 * live and not running. */
int tv_driver_read_def(TvDriverDomain *dom, bool live, void (*fn)(const TvDomainDef *, void *),
                       void *opaque);
/* In the domain's job: edit the live and/or persistent definition, both or
 * neither (the live edit is tried on a copy first when both are asked). */
int tv_driver_update(TvQemuDriver *drv, TvDriverDomain *dom, bool live, bool config,
                     TvDriverDefEdit edit, void *opaque);
/* Memory and present vCPUs of the definition that describes the domain now
 * (the running QEMU's, else the persistent one): what info reports. */
int tv_driver_domain_facts(TvDriverDomain *dom, unsigned long long *max_kib,
                           unsigned long long *cur_kib, unsigned *vcpus);

/* The balloon now holds kib: the live currentMemory (QEMU's BALLOON_CHANGE). */
void tv_driver_balloon_changed(TvDriverRun *run, unsigned long long kib);

/* qemu_driver_migrate.c: VIR_MIGRATE_TLS's settings of this host for one
 * end (server: the destination; hostname: the source's tls-hostname). */
void tv_driver_migrate_tls(TvQemuDriver *drv, bool server, const char *hostname,
                           TvQemuMigrationTls *tls);
/* qemu_driver_migrate_in.c: after Prepare's checks, the incoming QEMU
 * (def taken); *uri_out is where the source's QEMU sends. */
int tv_driver_migrate_incoming(TvQemuDriver *drv, TvDomainDef *def, const TvMigrateParams *params,
                               unsigned flags, char **uri_out);
/* qemu_driver_migrate_out.c: OPERATION_INVALID when the domain has an
 * async job (a migration, a save) running. */
int tv_driver_migrate_check_idle(TvDriverDomain *dom);
/* The job statistics of a QEMU migration stream (a migration or a save, as
 * operation says) from query-migrate's answer: type, operation and the RAM
 * figures; the caller adds what only its operation reports. */
void tv_driver_job_stats_from_migration(const TvQmpMigrationInfo *info, int operation,
                                        TvDomainJobStats *st);
/* At close: forget the incoming migrations (their QEMUs stay, as every QEMU). */
void tv_driver_migrations_free_all(TvQemuDriver *drv);
/* qemu_driver_migrate_in.c: how many incoming migrations caller prepared
 * and did not finish (under drv->lock), and stopping them (no lock held:
 * their QEMUs are killed, what Prepare made is removed). */
unsigned tv_driver_incoming_count_locked(TvQemuDriver *drv, guint64 caller);
void tv_driver_incoming_stop_caller(TvQemuDriver *drv, guint64 caller);
/* The expiry of an incoming migration (a task of migration_work): waits
 * until the incoming of that serial ends, or its QEMU has received nothing
 * after incoming_timeout_s and is stopped. */
void tv_driver_incoming_expiry(TvQemuDriver *drv, guint64 serial);
/* qemu_driver_migrate_out.c: caller closed: a copy it performs is
 * cancelled, a copy it completed without Confirm ends its job paused. */
void tv_driver_outgoing_caller_gone(TvQemuDriver *drv, guint64 caller);
/* qemu_driver_migrate_gone.c: threads for migration work no caller waits
 * for (a closed connection's incoming migrations, expiries). */
int tv_driver_migration_work_init(TvQemuDriver *drv);
void tv_driver_migration_work_shutdown(TvQemuDriver *drv);
/* A task: stop the incoming migrations of caller (caller != 0), or watch
 * the expiry of the incoming migration of serial.  false when closing. */
bool tv_driver_migration_work_push(TvQemuDriver *drv, guint64 caller, guint64 serial);
/* qemu_driver_migrate_out.c: STATE_DIR/NAME.migrated-out, which exists
 * from Perform's successful answer to Confirm (the destination may run the
 * guest meanwhile). */
char *tv_driver_migrated_out_path(TvQemuDriver *drv, const char *name);
/* qemu_driver_migrate_recover.c: after a reconnect, a QEMU that an
 * earlier daemon left migrating (outgoing: cancelled and run on; incoming:
 * stopped and its domain removed when Prepare made it). */
void tv_driver_migration_recover(TvQemuDriver *drv, TvDriverDomain *dom);

/* qemu_driver_nodedev.c */
typedef struct _TvDriverNodeDevs TvDriverNodeDevs;
void tv_driver_nodedevs_free(TvDriverNodeDevs *nd);

/* qemu_driver_hostcaps.c: <host> of the capabilities */
void tv_driver_format_host(TvQemuDriver *drv, const TvHostTopology *topo, TvXmlWriter *w);

/* qemu_driver_host.c */
void tv_driver_host_init(TvQemuDriver *drv);
void tv_driver_host_clear(TvQemuDriver *drv);
