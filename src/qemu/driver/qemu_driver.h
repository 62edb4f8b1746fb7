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
    /* <interface type='network'>: the bridge of an active virtual network
     * and its MTU (newly allocated; NULL with a tv_error naming what is
     * wrong).  The network driver answers it through the daemon, which
     * sets this; NULL: such interfaces are refused at start. */
    char *(*network_bridge)(const char *network, unsigned *mtu, void *opaque);
    void *network_opaque;
    /* how long a call waits for another one's job on the same domain before
     * it fails with "cannot acquire state change lock"; 0: libvirt's 30 s */
    unsigned job_wait_ms;
    /* incoming migrations: the TCP ports an incoming QEMU listens on (0:
     * libvirt's 49152..49215) and the address it binds when neither the
     * caller (listen_address, migrate_uri) nor the connection tells one
     * (NULL: the address the Prepare call came in on, 127.0.0.1 over a
     * unix socket) */
    unsigned migration_port_min, migration_port_max;
    const char *migration_address;
    /* seconds an incoming migration may wait for the source's stream after
     * Prepare before its QEMU is stopped (0: 120) */
    unsigned migration_incoming_timeout;
    /* VIR_MIGRATE_TLS: the folder of QEMU's x509 files (NULL: /etc/pki/qemu,
     * or ROOT/pki/qemu), and whether the destination's QEMU does not ask
     * for the source's certificate (migrate_tls_x509_verify = 0) */
    const char *migrate_tls_dir;
    bool migrate_tls_no_verify;
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

/* libvirt's VIR_DOMAIN_EVENT_ID_* numbers: a client may register for any of
 * them; tagvirt sends those it has a source for (docs/clients.rst). */
typedef enum {
    TV_DOMAIN_EVENT_ID_LIFECYCLE = 0,
    TV_DOMAIN_EVENT_ID_REBOOT = 1,
    TV_DOMAIN_EVENT_ID_RTC_CHANGE = 2,
    TV_DOMAIN_EVENT_ID_WATCHDOG = 3,
    TV_DOMAIN_EVENT_ID_IO_ERROR = 4,
    TV_DOMAIN_EVENT_ID_GRAPHICS = 5,
    TV_DOMAIN_EVENT_ID_IO_ERROR_REASON = 6,
    TV_DOMAIN_EVENT_ID_CONTROL_ERROR = 7,
    TV_DOMAIN_EVENT_ID_BLOCK_JOB = 8,
    TV_DOMAIN_EVENT_ID_DISK_CHANGE = 9,
    TV_DOMAIN_EVENT_ID_TRAY_CHANGE = 10,
    TV_DOMAIN_EVENT_ID_PMWAKEUP = 11,
    TV_DOMAIN_EVENT_ID_PMSUSPEND = 12,
    TV_DOMAIN_EVENT_ID_BALLOON_CHANGE = 13,
    TV_DOMAIN_EVENT_ID_PMSUSPEND_DISK = 14,
    TV_DOMAIN_EVENT_ID_DEVICE_REMOVED = 15,
    TV_DOMAIN_EVENT_ID_BLOCK_JOB_2 = 16,
    TV_DOMAIN_EVENT_ID_TUNABLE = 17,
    TV_DOMAIN_EVENT_ID_AGENT_LIFECYCLE = 18,
    TV_DOMAIN_EVENT_ID_DEVICE_ADDED = 19,
    TV_DOMAIN_EVENT_ID_MIGRATION_ITERATION = 20,
    TV_DOMAIN_EVENT_ID_JOB_COMPLETED = 21,
    TV_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED = 22,
    TV_DOMAIN_EVENT_ID_METADATA_CHANGE = 23,
    TV_DOMAIN_EVENT_ID_BLOCK_THRESHOLD = 24,
    TV_DOMAIN_EVENT_ID_MEMORY_FAILURE = 25,
    TV_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE = 26,
    TV_DOMAIN_EVENT_ID_LAST /* libvirt 9.0's count: a registration at or past it is refused */
} TvDomainEventId;

/* libvirt's typed parameter types (tunable and job-completed events). */
typedef enum {
    TV_TYPED_PARAM_INT = 1,
    TV_TYPED_PARAM_UINT = 2,
    TV_TYPED_PARAM_LLONG = 3,
    TV_TYPED_PARAM_ULLONG = 4,
    TV_TYPED_PARAM_DOUBLE = 5,
    TV_TYPED_PARAM_BOOLEAN = 6,
    TV_TYPED_PARAM_STRING = 7,
} TvTypedParamType;

typedef struct {
    char *field;
    TvTypedParamType type;
    long long i;          /* INT, LLONG, BOOLEAN */
    unsigned long long u; /* UINT, ULLONG */
    double d;
    char *s;
} TvTypedParam;

/* One domain event.  Which fields mean something depends on id:
 *   LIFECYCLE        event, detail (TvDomainEventType and libvirt's detail)
 *   REBOOT           -
 *   DEVICE_ADDED, DEVICE_REMOVED, DEVICE_REMOVAL_FAILED   str: device alias
 *   TRAY_CHANGE      str: device alias; detail: 0 opened, 1 closed
 *   BALLOON_CHANGE   value: the balloon's size now, KiB
 *   AGENT_LIFECYCLE  event: state (1 connected, 2 disconnected); detail: reason
 *   METADATA_CHANGE  event: type (0 description, 1 title, 2 element); str: namespace URI
 *   TUNABLE, JOB_COMPLETED   params */
typedef struct {
    TvDomainRef dom;
    TvDomainEventId id;
    int event;
    int detail;
    char *str;
    unsigned long long value;
    TvTypedParam *params;
    size_t nparams;
} TvDomainEvent;

void tv_domain_event_free(TvDomainEvent *ev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDomainEvent, tv_domain_event_free)

typedef void (*TvDomainEventFunc)(const TvDomainEvent *ev, void *opaque);

TvQemuDriver *tv_qemu_driver_open(const TvQemuDriverConfig *cfg);
/* Leaves running guests running (the next open reconnects to them). */
void tv_qemu_driver_close(TvQemuDriver *drv);
/* One callback for all domain events, in order, from the driver's event thread. */
void tv_qemu_driver_set_event_callback(TvQemuDriver *drv, TvDomainEventFunc cb, void *opaque);

unsigned long long
tv_qemu_driver_hypervisor_version(TvQemuDriver *drv); /* major*1e6+minor*1e3+micro */
char *tv_qemu_driver_capabilities(TvQemuDriver *drv);
char *tv_qemu_driver_domain_capabilities(TvQemuDriver *drv, const char *emulator, const char *arch,
                                         const char *machine, const char *virttype);
/* The QEMU command line of a domain XML; format "qemu-argv" only. */
char *tv_qemu_driver_domain_xml_to_native(TvQemuDriver *drv, const char *format, const char *xml,
                                          unsigned flags);
int tv_qemu_driver_node_info(TvQemuDriver *drv, TvNodeInfo *info);
/* TRUE when the host topology has been read once: node info and the CPU map
 * then read two small proc/sysfs files (and read the topology again only
 * when the online CPUs changed).  Never blocks. */
gboolean tv_qemu_driver_node_topology_known(TvQemuDriver *drv);
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
/* Save and restore (qemu_driver_save.c, docs/migration.rst "Save and
 * restore"); flags are libvirt's VIR_DOMAIN_SAVE_* (bypass cache 1,
 * running 2, paused 4).  Paths must be absolute. */
int tv_qemu_driver_save(TvQemuDriver *drv, const unsigned char *uuid, const char *path,
                        const char *dxml, unsigned flags);
int tv_qemu_driver_restore(TvQemuDriver *drv, const char *path, const char *dxml, unsigned flags,
                           TvDomainRef *out);
int tv_qemu_driver_managed_save(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
/* 1 when the domain has a managed save image, 0 when not, -1 on error. */
int tv_qemu_driver_has_managed_save(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_managed_save_remove(TvQemuDriver *drv, const unsigned char *uuid,
                                       unsigned flags);
char *tv_qemu_driver_managed_save_xml(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_managed_save_define_xml(TvQemuDriver *drv, const unsigned char *uuid,
                                           const char *dxml, unsigned flags);
char *tv_qemu_driver_save_image_xml(TvQemuDriver *drv, const char *path, unsigned flags);
int tv_qemu_driver_save_image_define_xml(TvQemuDriver *drv, const char *path, const char *dxml,
                                         unsigned flags);
/* tagvirt has no snapshots: 0 for every domain (after the flags check and
 * the lookup); -1 on error. */
/* Snapshots do not exist in tagvirt: lookup and current answer
 * NO_DOMAIN_SNAPSHOT, create OPERATION_UNSUPPORTED (each -1); a domain that
 * does not exist is NO_DOMAIN first. */
int tv_qemu_driver_snapshot_lookup(TvQemuDriver *drv, const unsigned char *uuid, const char *name,
                                   unsigned flags);
int tv_qemu_driver_snapshot_current(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_snapshot_create(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                   unsigned flags);
int tv_qemu_driver_snapshot_num(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
/* setTime / getTime (qemu_driver_agent.c): they need the QEMU guest agent,
 * which tagvirtd does not use; always -1 with libvirt's answer for it. */
int tv_qemu_driver_set_time(TvQemuDriver *drv, const unsigned char *uuid, long long seconds,
                            unsigned nseconds, unsigned flags);
int tv_qemu_driver_get_time(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);

/* attachDevice(Flags), detachDevice(Flags), detachDeviceAlias: flags are
 * libvirt's AFFECT_LIVE (1) and AFFECT_CONFIG (2), 0 for the current state
 * (live when running).  The persistent definition is redefined with the
 * device added or removed; a running guest gets or loses disks and
 * interfaces by hot-plug; a detach returns once QEMU deleted the device or
 * after 5 s (the removal then ends when the guest lets it go)
 * (qemu_driver_hotplug.c). */
int tv_qemu_driver_attach_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags);
int tv_qemu_driver_detach_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags);
int tv_qemu_driver_detach_device_alias(TvQemuDriver *drv, const unsigned char *uuid,
                                       const char *alias, unsigned flags);
/* updateDeviceFlags: a cdrom's media (live: tray and medium swapped over
 * QMP; config: the definition's disk replaced); flags also take 4 (force;
 * the tray is always forced open). */
int tv_qemu_driver_update_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags);

/* A running domain's network interfaces, for the guest addresses of
 * domifaddr (the remote layer asks the network driver for leases). */
typedef struct {
    int type;      /* TvNetType */
    char *network; /* type 'network': the network's name; else NULL */
    char *mac;
    char *ifname; /* the host's tap, NULL for 'user' */
} TvDomainIface;
void tv_domain_iface_clear(TvDomainIface *iface);
/* *out: *n interfaces (clear each, g_free); a shut-off domain is
 * OPERATION_INVALID. */
int tv_qemu_driver_interfaces(TvQemuDriver *drv, const unsigned char *uuid, TvDomainIface **out,
                              size_t *n);
/* ---- host and tuning (issue 9): node facts, CPU models, node devices,
 * vCPUs, memory, metadata, reset ---- */

/* One named value of the node's CPU or memory statistics. */
typedef struct {
    const char *field; /* static: "kernel", "user", "total", ... */
    unsigned long long value;
} TvNodeStat;

#define TV_NODE_STATS_MAX 16

/* libvirt's node statistics selectors */
enum {
    TV_NODE_CPU_STATS_ALL = -1,
    TV_NODE_MEMORY_STATS_ALL = -1,
};

/* The host's CPUs: returns how many exist (the map's bit count); *map (when
 * map is not NULL) gets a new bitmap of the online ones, *online (optional)
 * their count. */
int tv_qemu_driver_node_cpu_map(TvQemuDriver *drv, guint8 **map, unsigned *online, unsigned flags);
/* Linux's kernel/user/idle/iowait times (ns) of one CPU or all (-1): the
 * number of stats written to out[TV_NODE_STATS_MAX]. */
int tv_qemu_driver_node_cpu_stats(TvQemuDriver *drv, int cpu, unsigned flags, TvNodeStat *out);
/* total/free/buffers/cached (KiB) of all cells (-1), total/free of one. */
int tv_qemu_driver_node_memory_stats(TvQemuDriver *drv, int cell, unsigned flags, TvNodeStat *out);
/* Free bytes of cells start.. (at most max): the count written to out. */
int tv_qemu_driver_node_cells_free_memory(TvQemuDriver *drv, int start, int max,
                                          unsigned long long *out);
int tv_qemu_driver_node_free_memory(TvQemuDriver *drv, unsigned long long *bytes);

/* CPU models the default emulator offers for arch; NULL with an error. */
GStrv tv_qemu_driver_cpu_model_names(TvQemuDriver *drv, const char *arch, unsigned flags);
/* libvirt's virCPUCompareResult (0 incompatible, 1 identical, 2 superset),
 * or -1 with an error. */
int tv_qemu_driver_compare_cpu(TvQemuDriver *drv, const char *xml, unsigned flags);
char *tv_qemu_driver_baseline_cpu(TvQemuDriver *drv, char *const *xmls, size_t n, unsigned flags);

/* The root host facts are read under ("/" on a real host). */
const char *tv_qemu_driver_host_root(TvQemuDriver *drv);

int tv_qemu_driver_get_max_memory(TvQemuDriver *drv, const unsigned char *uuid,
                                  unsigned long long *kib);
char *tv_qemu_driver_get_os_type(TvQemuDriver *drv, const unsigned char *uuid);

/* libvirt's VIR_DOMAIN_AFFECT_* and the vCPU/memory modifiers */
enum {
    TV_AFFECT_CURRENT = 0,
    TV_AFFECT_LIVE = 1,
    TV_AFFECT_CONFIG = 2,
    TV_VCPU_MAXIMUM = 4, /* setVcpusFlags/getVcpusFlags */
    TV_VCPU_GUEST = 8,
    TV_VCPU_HOTPLUGGABLE = 16,
    TV_MEM_MAXIMUM = 4, /* setMemoryFlags */
};

typedef struct {
    unsigned number;
    int state; /* 0 offline, 1 running, 2 blocked */
    unsigned long long cpu_time_ns;
    int cpu; /* host CPU it last ran on */
} TvVcpuInfo;

/* A running domain's vCPUs: info[maxinfo] and, when maps is not NULL,
 * maxinfo maps of maplen bytes (each vCPU thread's host CPU affinity).
 * Returns how many vCPUs were written. */
int tv_qemu_driver_get_vcpus(TvQemuDriver *drv, const unsigned char *uuid, int maxinfo,
                             TvVcpuInfo *info, guint8 *maps, int maplen);
/* The vCPUs' pinning (live or config): ncpumaps maps of maplen bytes;
 * returns the number of vCPUs of the definition. */
int tv_qemu_driver_get_vcpu_pin_info(TvQemuDriver *drv, const unsigned char *uuid, int ncpumaps,
                                     guint8 *maps, int maplen, unsigned flags);
int tv_qemu_driver_get_vcpus_flags(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_qemu_driver_set_vcpus(TvQemuDriver *drv, const unsigned char *uuid, unsigned nvcpus,
                             unsigned flags);
int tv_qemu_driver_set_memory(TvQemuDriver *drv, const unsigned char *uuid, unsigned long long kib,
                              unsigned flags);
/* Hard reset of a running guest (QMP system_reset). */
int tv_qemu_driver_reset(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);

/* libvirt's virDomainMetadataType */
enum {
    TV_METADATA_DESCRIPTION = 0,
    TV_METADATA_TITLE = 1,
    TV_METADATA_ELEMENT = 2,
};

int tv_qemu_driver_set_metadata(TvQemuDriver *drv, const unsigned char *uuid, int type,
                                const char *metadata, const char *key, const char *uri,
                                unsigned flags);
char *tv_qemu_driver_get_metadata(TvQemuDriver *drv, const unsigned char *uuid, int type,
                                  const char *uri, unsigned flags);

/* Node devices as libvirt's node device API lists them, read from sysfs
 * under the host root: the machine ("computer"), PCI devices, network
 * interfaces.  cap: a capability name ("pci", "net", "system") or NULL for
 * all; list_flags: libvirt's VIR_CONNECT_LIST_NODE_DEVICES_CAP_* bits (0:
 * all).  Names are sorted. */
GStrv tv_qemu_driver_node_device_names(TvQemuDriver *drv, const char *cap, unsigned list_flags);
/* 0 when the device exists, else -1 with NO_NODE_DEVICE. */
int tv_qemu_driver_node_device_lookup(TvQemuDriver *drv, const char *name);
char *tv_qemu_driver_node_device_xml(TvQemuDriver *drv, const char *name, unsigned flags);
/* The parent's name (NULL for the root, with no error); -1 when unknown. */
int tv_qemu_driver_node_device_parent(TvQemuDriver *drv, const char *name, char **parent);
GStrv tv_qemu_driver_node_device_caps(TvQemuDriver *drv, const char *name);
/* TRUE when the last listing holds that name: then lookup, parent, caps and
 * XML of it scan nothing (they read at most a few sysfs attributes), so the
 * daemon may answer them on its reading thread.  Never blocks (FALSE while
 * another thread holds the listing). */
gboolean tv_qemu_driver_node_device_listed(TvQemuDriver *drv, const char *name);

/* ---- migration v3 with parameters (qemu_driver_migrate.c, docs/migration.rst) ----
 * flags are libvirt's VIR_MIGRATE_* (TV_MIGRATE_*, domain_vocab.h).  The
 * strings are borrowed from the caller's typed parameters. */
typedef struct {
    const char *dest_xml;       /* "destination_xml" */
    const char *dest_name;      /* "destination_name" */
    const char *persist_xml;    /* "persistent_xml" */
    const char *uri;            /* "migrate_uri" */
    const char *listen_address; /* "listen_address": where the incoming QEMU listens */
    const char *dom_name;       /* Finish: the domain's name as the caller knows it */
    bool has_bandwidth;
    unsigned long long bandwidth; /* "bandwidth", MiB/s */
    const char *local_addr;       /* the address the call came in on (TCP), NULL over unix */
    /* the connection the call came on (a number that is never reused; 0:
     * none): a Prepare's incoming QEMU and a client-managed Perform end
     * when it closes first (tv_qemu_driver_migrate_caller_gone) */
    guint64 caller;
    /* peer-to-peer Perform: asked while QEMU copies; 0 while the
     * destination's daemon answers, -1 with an error once its connection is
     * lost (the copy is then cancelled) */
    int (*peer_check)(void *opaque);
    void *peer_opaque;
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
 * names in use); a refusal names what differs and starts nothing.  When
 * every check passes: the incoming QEMU (paused, listening on a port of the
 * migration range) in the domain's MIGRATION_IN job, and *uri_out
 * ("tcp:HOST:PORT") for the source. */
int tv_qemu_driver_migrate_prepare(TvQemuDriver *drv, const TvMigrateParams *params,
                                   const char *cookie_in, size_t cookie_len, unsigned flags,
                                   char **cookie_out, char **uri_out);
/* Source, between Prepare and Finish: QEMU's migrate to params->uri in the
 * MIGRATION_OUT job (job info, abort), with AUTO_CONVERGE and the bandwidth
 * (params, else migrate-setspeed's, else unlimited).  0 once QEMU copied
 * the guest (paused here; the job stays for Confirm) and *cookie_out (the
 * guest and the figures of the copy, for Finish; NULL if it could not be
 * made); -1 with the guest running on here as before. */
int tv_qemu_driver_migrate_perform(TvQemuDriver *drv, const unsigned char *uuid,
                                   const TvMigrateParams *params, unsigned flags,
                                   char **cookie_out);
/* Destination, after Perform: wait for the guest, run it (unless PAUSED),
 * define it (PERSIST_DEST); cancelled, or on any failure: the incoming QEMU
 * is stopped and nothing of the migration stays (an error is returned).
 * cookie_in (Perform's, may be NULL) gives the completed job here the
 * source's figures (data, downtime); a cookie that does not parse only
 * loses them (the guest has arrived). */
int tv_qemu_driver_migrate_finish(TvQemuDriver *drv, const TvMigrateParams *params,
                                  const char *cookie_in, size_t cookie_len, unsigned flags,
                                  bool cancelled, TvDomainRef *out);
/* Source, at the end: the guest runs elsewhere, stop it here (shut off,
 * reason migrated; undefined with UNDEFINE_SOURCE); cancelled: it runs on
 * here (0). */
int tv_qemu_driver_migrate_confirm(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                                   bool cancelled);
/* Source, after Perform, when Finish's answer never came and the
 * destination cannot be asked: the guest stays paused here and the job
 * ends (docs/migration.rst, "A copy that completed but was never
 * confirmed"); why says who left. */
int tv_qemu_driver_migrate_unconfirmed(TvQemuDriver *drv, const unsigned char *uuid,
                                       const char *why);
/* The connection caller closed (qemu_driver_migrate_gone.c): the incoming
 * migrations it prepared and did not finish are stopped and leave nothing
 * here; a client-managed Perform it started is cancelled (the guest runs
 * on); a copy it completed without Confirm stays paused (docs/migration.rst,
 * "Nothing lost").  Never blocks: the work runs on a thread of the driver. */
void tv_qemu_driver_migrate_caller_gone(TvQemuDriver *drv, guint64 caller);

/* migrate-setmaxdowntime / -getmaxdowntime (ms; QEMU's downtime-limit of
 * the running domain), migrate-setspeed / -getspeed (MiB/s for this
 * domain's migrations, applied at once to one that runs; 0 or libvirt's
 * maximum, 8796093022207: unlimited).  flags must be 0. */
int tv_qemu_driver_migrate_set_max_downtime(TvQemuDriver *drv, const unsigned char *uuid,
                                            unsigned long long ms, unsigned flags);
int tv_qemu_driver_migrate_get_max_downtime(TvQemuDriver *drv, const unsigned char *uuid,
                                            unsigned flags, unsigned long long *ms);
int tv_qemu_driver_migrate_set_max_speed(TvQemuDriver *drv, const unsigned char *uuid,
                                         unsigned long long mib, unsigned flags);
int tv_qemu_driver_migrate_get_max_speed(TvQemuDriver *drv, const unsigned char *uuid,
                                         unsigned flags, unsigned long long *mib);

/* The name of a running domain that has path as a disk (newly allocated), or
 * NULL: the storage driver asks before it deletes, wipes or resizes a file. */
char *tv_qemu_driver_path_user(TvQemuDriver *drv, const char *path);

/* ---- statistics (qemu_driver_stats.c) ---- */

/* libvirt's VIR_DOMAIN_STATS_* groups; tagvirt answers these six */
enum {
    TV_DOMAIN_STATS_STATE = 1 << 0,
    TV_DOMAIN_STATS_CPU_TOTAL = 1 << 1,
    TV_DOMAIN_STATS_BALLOON = 1 << 2,
    TV_DOMAIN_STATS_VCPU = 1 << 3,
    TV_DOMAIN_STATS_INTERFACE = 1 << 4,
    TV_DOMAIN_STATS_BLOCK = 1 << 5,
    TV_DOMAIN_STATS_SUPPORTED = (1 << 6) - 1,
};

/* libvirt's VIR_CONNECT_GET_ALL_DOMAINS_STATS_* beside the list filters */
#define TV_STATS_NOWAIT        (1u << 29)
#define TV_STATS_BACKING       (1u << 30)
#define TV_STATS_ENFORCE_STATS (1u << 31)

typedef struct {
    TvDomainRef dom;
    GArray *params; /* TvTypedParam, in libvirt's order and names */
} TvDomainStatsRecord;

void tv_domain_stats_record_free(TvDomainStatsRecord *rec);

/* getAllDomainStats (uuids NULL: every domain) and domainListGetStats
 * (n uuids, each must exist): the groups asked (0: every group tagvirt
 * has) of the domains that pass flags' list filters (listAllDomains'
 * ACTIVE..OTHER).  A group tagvirt lacks is left out, or refused
 * (ARGUMENT_UNSUPPORTED) with ENFORCE_STATS.  A GPtrArray of
 * TvDomainStatsRecord (freeing it frees them), or NULL with an error. */
GPtrArray *tv_qemu_driver_domain_stats(TvQemuDriver *drv, const unsigned char (*uuids)[16],
                                       size_t n, unsigned groups, unsigned flags);

/* virDomainBlockStats(Flags): one disk of a running domain, named by its
 * target ("vda"), its source path or its alias.  -1: a field QEMU lacks. */
typedef struct {
    long long rd_req, rd_bytes, wr_req, wr_bytes, errs;
    long long rd_total_ns, wr_total_ns, flush_req, flush_total_ns;
} TvBlockStats;
int tv_qemu_driver_block_stats(TvQemuDriver *drv, const unsigned char *uuid, const char *disk,
                               TvBlockStats *out);

/* virDomainInterfaceStats: one interface of a running domain, named by its
 * host device (the tap), its MAC or its alias; counted from the guest's
 * side (the tap's transmit is the guest's receive). */
typedef struct {
    long long rx_bytes, rx_packets, rx_errs, rx_drop;
    long long tx_bytes, tx_packets, tx_errs, tx_drop;
} TvInterfaceStats;
int tv_qemu_driver_interface_stats(TvQemuDriver *drv, const unsigned char *uuid, const char *device,
                                   TvInterfaceStats *out);
