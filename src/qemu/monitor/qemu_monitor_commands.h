/* One C function per QMP command tagvirt sends, and one struct per reply
 * that carries data (included by qemu_monitor.h).
 *
 * Every function returns 0, or -1 with the error reported (see
 * qemu_monitor.h).  A reply struct is filled only on success and freed with
 * its *_clear() function (or g_auto()).  Lists are plain arrays with a count.
 * Field names are QEMU's, with '-' as '_'; a field QEMU may leave out has a
 * has_ flag or a documented "absent" value. */
#pragma once

#include "qemu_monitor_events.h" /* the vocabularies replies share with events */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _TvQemuMonitor TvQemuMonitor;

/* ---- the capabilities probe (qemu_monitor_query.c) ---- */

/* query-target */
typedef struct {
    char *arch; /* "aarch64" */
} TvQmpTarget;
void tv_qmp_target_clear(TvQmpTarget *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpTarget, tv_qmp_target_clear)
int tv_qemu_monitor_query_target(TvQemuMonitor *mon, TvQmpTarget *out);

/* query-version */
typedef struct {
    unsigned major, minor, micro;
    char *package; /* as sent: may have surrounding blanks */
} TvQmpVersion;
void tv_qmp_version_clear(TvQmpVersion *v);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpVersion, tv_qmp_version_clear)
int tv_qemu_monitor_query_version(TvQemuMonitor *mon, TvQmpVersion *out);

/* query-kvm */
typedef struct {
    bool enabled; /* this QEMU runs with KVM */
    bool present; /* KVM is compiled in */
} TvQmpKvm;
int tv_qemu_monitor_query_kvm(TvQemuMonitor *mon, TvQmpKvm *out);

/* query-cpu-definitions */
typedef struct {
    char *name;      /* "max", "cortex-a710" */
    char *type_name; /* QOM type, "max-arm-cpu" */
    bool is_static;
    bool deprecated;
} TvQmpCpuDefinition;
typedef struct {
    TvQmpCpuDefinition *items;
    size_t n;
} TvQmpCpuDefinitionList;
void tv_qmp_cpu_definition_list_clear(TvQmpCpuDefinitionList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpCpuDefinitionList, tv_qmp_cpu_definition_list_clear)
int tv_qemu_monitor_query_cpu_definitions(TvQemuMonitor *mon, TvQmpCpuDefinitionList *out);

/* qom-list-properties and device-list-properties (the same reply) */
typedef struct {
    char *name;
    char *type;        /* "bool", "string", "link<...>", ... */
    char *description; /* NULL when QEMU gives none */
} TvQmpProperty;
typedef struct {
    TvQmpProperty *items;
    size_t n;
} TvQmpPropertyList;
void tv_qmp_property_list_clear(TvQmpPropertyList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpPropertyList, tv_qmp_property_list_clear)
bool tv_qmp_property_list_has(const TvQmpPropertyList *l, const char *name);
/* An unknown type is an error reply (class GENERIC). */
int tv_qemu_monitor_qom_list_properties(TvQemuMonitor *mon, const char *type_name,
                                        TvQmpPropertyList *out);
int tv_qemu_monitor_device_list_properties(TvQemuMonitor *mon, const char *type_name,
                                           TvQmpPropertyList *out);

/* qom-list-types (implements: NULL for all; abstract: include abstract types) */
typedef struct {
    char *name;
    char *parent; /* NULL at the root */
    bool abstract;
} TvQmpObjectType;
typedef struct {
    TvQmpObjectType *items;
    size_t n;
} TvQmpObjectTypeList;
void tv_qmp_object_type_list_clear(TvQmpObjectTypeList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpObjectTypeList, tv_qmp_object_type_list_clear)
int tv_qemu_monitor_qom_list_types(TvQemuMonitor *mon, const char *implements, bool abstract,
                                   TvQmpObjectTypeList *out);

/* query-machines */
typedef struct {
    char *name;  /* "virt-11.1" */
    char *alias; /* "virt"; NULL when none */
    bool is_default;
    bool deprecated;
    bool hotpluggable_cpus;
    unsigned cpu_max;
    char *default_cpu_type; /* NULL when QEMU gives none */
    char *default_ram_id;   /* NULL when QEMU gives none */
} TvQmpMachine;
typedef struct {
    TvQmpMachine *items;
    size_t n;
} TvQmpMachineList;
void tv_qmp_machine_list_clear(TvQmpMachineList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpMachineList, tv_qmp_machine_list_clear)
int tv_qemu_monitor_query_machines(TvQemuMonitor *mon, TvQmpMachineList *out);

/* query-gic-capabilities */
typedef struct {
    int version; /* 2, 3, 4 */
    bool emulated;
    bool kernel;
} TvQmpGicCapability;
typedef struct {
    TvQmpGicCapability *items;
    size_t n;
} TvQmpGicCapabilityList;
void tv_qmp_gic_capability_list_clear(TvQmpGicCapabilityList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpGicCapabilityList, tv_qmp_gic_capability_list_clear)
int tv_qemu_monitor_query_gic_capabilities(TvQemuMonitor *mon, TvQmpGicCapabilityList *out);

/* query-commands: the names, sorted, NULL-terminated */
typedef struct {
    char **names;
    size_t n;
} TvQmpCommandList;
void tv_qmp_command_list_clear(TvQmpCommandList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpCommandList, tv_qmp_command_list_clear)
int tv_qemu_monitor_query_commands(TvQemuMonitor *mon, TvQmpCommandList *out);

/* query-mte-capabilities: the proposed interface no released QEMU has
 * (tests/qemucapabilitiesdata/caps_hypothetical-*).  Entries of an
 * accelerator name other than tcg/kvm are kept with accel 0. */
typedef struct {
    char *accelerator; /* "tcg", "kvm" */
    int *versions;     /* sorted */
    size_t nversions;
} TvQmpMteCapability;
typedef struct {
    TvQmpMteCapability *items;
    size_t n;
} TvQmpMteCapabilityList;
void tv_qmp_mte_capability_list_clear(TvQmpMteCapabilityList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpMteCapabilityList, tv_qmp_mte_capability_list_clear)
int tv_qemu_monitor_query_mte_capabilities(TvQemuMonitor *mon, TvQmpMteCapabilityList *out);

/* ---- running guests (qemu_monitor_control.c) ---- */

/* QEMU's RunState, as query-status reports it. */
typedef enum {
    TV_QMP_RUN_STATE_UNKNOWN = 0, /* a name this table does not know */
    TV_QMP_RUN_STATE_DEBUG,
    TV_QMP_RUN_STATE_INMIGRATE,
    TV_QMP_RUN_STATE_INTERNAL_ERROR,
    TV_QMP_RUN_STATE_IO_ERROR,
    TV_QMP_RUN_STATE_PAUSED,
    TV_QMP_RUN_STATE_POSTMIGRATE,
    TV_QMP_RUN_STATE_PRELAUNCH,
    TV_QMP_RUN_STATE_FINISH_MIGRATE,
    TV_QMP_RUN_STATE_RESTORE_VM,
    TV_QMP_RUN_STATE_RUNNING,
    TV_QMP_RUN_STATE_SAVE_VM,
    TV_QMP_RUN_STATE_SHUTDOWN,
    TV_QMP_RUN_STATE_SUSPENDED,
    TV_QMP_RUN_STATE_WATCHDOG,
    TV_QMP_RUN_STATE_GUEST_PANICKED,
    TV_QMP_RUN_STATE_COLO,
    TV_QMP_RUN_STATE_LAST
} TvQmpRunState;
const char *tv_qmp_run_state_to_string(TvQmpRunState s);
TvQmpRunState tv_qmp_run_state_from_string(const char *s);

/* query-status */
typedef struct {
    bool running;
    TvQmpRunState status;
} TvQmpStatus;
int tv_qemu_monitor_query_status(TvQemuMonitor *mon, TvQmpStatus *out);

int tv_qemu_monitor_cont(TvQemuMonitor *mon);
int tv_qemu_monitor_stop(TvQemuMonitor *mon);
int tv_qemu_monitor_system_powerdown(TvQemuMonitor *mon);
int tv_qemu_monitor_system_reset(TvQemuMonitor *mon);
/* QEMU answers, then exits: the monitor reaches EOF soon after. */
int tv_qemu_monitor_quit(TvQemuMonitor *mon);

/* query-chardev */
typedef struct {
    char *label;    /* "charserial0" */
    char *filename; /* "pty:/dev/pts/3", "unix:/run/x.sock,server=on" */
    bool frontend_open;
} TvQmpChardev;
typedef struct {
    TvQmpChardev *items;
    size_t n;
} TvQmpChardevList;
void tv_qmp_chardev_list_clear(TvQmpChardevList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpChardevList, tv_qmp_chardev_list_clear)
int tv_qemu_monitor_query_chardev(TvQemuMonitor *mon, TvQmpChardevList *out);
/* The pty path of chardev label ("pty:/dev/pts/3" -> "/dev/pts/3"), or NULL. */
const char *tv_qmp_chardev_list_pty(const TvQmpChardevList *l, const char *label);

/* query-vnc */
typedef struct {
    bool enabled;
    char *host;    /* the address it listens on */
    char *service; /* the port, as text ("5900") */
    char *family;  /* "ipv4", "ipv6", "unix" */
    char *auth;    /* "none", "vnc", ... */
} TvQmpVnc;
void tv_qmp_vnc_clear(TvQmpVnc *v);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpVnc, tv_qmp_vnc_clear)
int tv_qemu_monitor_query_vnc(TvQemuMonitor *mon, TvQmpVnc *out);

/* getfd: fd (the caller keeps its copy) becomes QEMU's descriptor fdname */
int tv_qemu_monitor_getfd(TvQemuMonitor *mon, const char *fdname, int fd);
/* add-fd: fd (the caller keeps its copy) joins a new file descriptor set;
 * *fdset_id gets its number (QEMU opens it as "/dev/fdset/N") */
int tv_qemu_monitor_add_fd(TvQemuMonitor *mon, int fd, const char *opaque, int *fdset_id);
/* remove-fd: the whole set fdset_id */
int tv_qemu_monitor_remove_fdset(TvQemuMonitor *mon, int fdset_id);
/* closefd: drop QEMU's descriptor fdname */
int tv_qemu_monitor_closefd(TvQemuMonitor *mon, const char *fdname);
/* add_client: the connected socket fdname (from getfd; QEMU takes it over)
 * becomes a client of protocol ("vnc"), without TLS; skipauth: no password */
int tv_qemu_monitor_add_client(TvQemuMonitor *mon, const char *protocol, const char *fdname,
                               bool skipauth);

/* balloon: the guest's target size in bytes */
int tv_qemu_monitor_balloon(TvQemuMonitor *mon, guint64 bytes);

/* dump-guest-memory without paging to protocol ("file:PATH", "fd:NAME"), waiting up to
 * timeout_ms (a dump takes longer than the monitor's timeout). */
int tv_qemu_monitor_dump_guest_memory(TvQemuMonitor *mon, const char *protocol,
                                      unsigned timeout_ms);

/* query-balloon; without a balloon device an error reply (DeviceNotActive) */
typedef struct {
    guint64 actual; /* bytes the guest has now */
} TvQmpBalloon;
int tv_qemu_monitor_query_balloon(TvQemuMonitor *mon, TvQmpBalloon *out);

/* query-cpus-fast */
typedef struct {
    int cpu_index;
    char *qom_path;
    gint64 thread_id; /* the vCPU's host thread */
    char *target;     /* "aarch64" */
} TvQmpCpu;
typedef struct {
    TvQmpCpu *items;
    size_t n;
} TvQmpCpuList;
void tv_qmp_cpu_list_clear(TvQmpCpuList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpCpuList, tv_qmp_cpu_list_clear)
int tv_qemu_monitor_query_cpus_fast(TvQemuMonitor *mon, TvQmpCpuList *out);

/* ---- devices and objects (qemu_monitor_device.c) ---- */

/* A scalar as QMP carries it: properties of device_add and friends, qom-set
 * and qom-get. */
typedef enum {
    TV_QMP_VALUE_NONE = 0,
    TV_QMP_VALUE_STRING,
    TV_QMP_VALUE_INT,
    TV_QMP_VALUE_BOOL,
    TV_QMP_VALUE_DOUBLE,
} TvQmpValueType;
typedef struct {
    TvQmpValueType type;
    char *s; /* STRING (owned by a value that qom-get filled) */
    gint64 i;
    bool b;
    double d;
} TvQmpValue;
void tv_qmp_value_clear(TvQmpValue *v);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpValue, tv_qmp_value_clear)

/* One property of an object to add.  name may hold dots for nested objects
 * ("file.filename" -> {"file": {"filename": ...}}), as blockdev-add wants. */
typedef struct {
    const char *name;
    TvQmpValue value;
} TvQmpProp;
#define TV_QMP_PROP_STR(n, v)                                                                      \
    {                                                                                              \
        .name = (n), .value = {.type = TV_QMP_VALUE_STRING, .s = (char *)(v) }                     \
    }
#define TV_QMP_PROP_INT(n, v)                                                                      \
    {                                                                                              \
        .name = (n), .value = {.type = TV_QMP_VALUE_INT, .i = (v) }                                \
    }
#define TV_QMP_PROP_BOOL(n, v)                                                                     \
    {                                                                                              \
        .name = (n), .value = {.type = TV_QMP_VALUE_BOOL, .b = (v) }                               \
    }

/* device_add driver=DRIVER id=ID props...; device_del ID (the device goes
 * when the guest lets it: DEVICE_DELETED says so). */
int tv_qemu_monitor_device_add(TvQemuMonitor *mon, const char *driver, const char *id,
                               const TvQmpProp *props, size_t nprops);
int tv_qemu_monitor_device_del(TvQemuMonitor *mon, const char *id);
/* netdev_add type=TYPE id=ID props...; netdev_del ID */
int tv_qemu_monitor_netdev_add(TvQemuMonitor *mon, const char *type, const char *id,
                               const TvQmpProp *props, size_t nprops);
int tv_qemu_monitor_netdev_del(TvQemuMonitor *mon, const char *id);
/* blockdev-add driver=DRIVER node-name=NODE props...; blockdev-del NODE */
int tv_qemu_monitor_blockdev_add(TvQemuMonitor *mon, const char *driver, const char *node_name,
                                 const TvQmpProp *props, size_t nprops);
int tv_qemu_monitor_blockdev_del(TvQemuMonitor *mon, const char *node_name);
/* object-add qom-type=TYPE id=ID props...; object-del ID */
int tv_qemu_monitor_object_add(TvQemuMonitor *mon, const char *qom_type, const char *id,
                               const TvQmpProp *props, size_t nprops);
int tv_qemu_monitor_object_del(TvQemuMonitor *mon, const char *id);
/* chardev-add id=ID backend={props (dotted: "type", "data.addr.type")};
 * *pty (may be NULL) gets the pty QEMU opened for a pty backend, else NULL;
 * chardev-remove ID. */
int tv_qemu_monitor_chardev_add(TvQemuMonitor *mon, const char *id, const TvQmpProp *backend,
                                size_t nprops, char **pty);
int tv_qemu_monitor_chardev_remove(TvQemuMonitor *mon, const char *id);
/* set-action watchdog=ACTION (QEMU >= 6.0): what a watchdog's expiry does */
int tv_qemu_monitor_set_watchdog_action(TvQemuMonitor *mon, const char *action);

/* qom-set / qom-get of one scalar property of the object at path
 * ("/machine", "/machine/peripheral/balloon0"); a property whose value is
 * not a scalar is an error. */
int tv_qemu_monitor_qom_set(TvQemuMonitor *mon, const char *path, const char *property,
                            const TvQmpValue *value);
int tv_qemu_monitor_qom_get(TvQemuMonitor *mon, const char *path, const char *property,
                            TvQmpValue *out);

/* query-block: the block devices QEMU's guest devices use */
typedef struct {
    char *device;   /* the legacy drive name; "" with -blockdev */
    char *qdev;     /* the guest device: its id, or a QOM path under it */
    bool removable; /* a cdrom */
    bool tray_open;
    char *node_name;      /* the medium's top node; NULL: no medium */
    char *file;           /* the medium's file name; NULL: no medium */
    guint64 virtual_size; /* the medium's size as the guest sees it (bytes); 0: no medium */
} TvQmpBlock;
typedef struct {
    TvQmpBlock *items;
    size_t n;
} TvQmpBlockList;
void tv_qmp_block_list_clear(TvQmpBlockList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpBlockList, tv_qmp_block_list_clear)
int tv_qemu_monitor_query_block(TvQemuMonitor *mon, TvQmpBlockList *out);
/* The entry of the guest device of that id (virtio-blk-pci names its inner
 * device "/machine/peripheral/ID/virtio-backend"), or NULL. */
const TvQmpBlock *tv_qmp_block_list_find(const TvQmpBlockList *l, const char *id);
/* query-blockstats: the I/O counters of each guest device's block backend */
typedef struct {
    char *qdev; /* the guest device, as query-block names it */
    guint64 rd_bytes, wr_bytes, rd_operations, wr_operations, flush_operations;
    guint64 rd_total_time_ns, wr_total_time_ns, flush_total_time_ns;
    guint64 failed_rd_operations, failed_wr_operations, failed_flush_operations;
} TvQmpBlockStats;
typedef struct {
    TvQmpBlockStats *items;
    size_t n;
} TvQmpBlockStatsList;
void tv_qmp_block_stats_list_clear(TvQmpBlockStatsList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpBlockStatsList, tv_qmp_block_stats_list_clear)
int tv_qemu_monitor_query_blockstats(TvQemuMonitor *mon, TvQmpBlockStatsList *out);
/* The entry of the guest device of that id (as tv_qmp_block_list_find), or NULL. */
const TvQmpBlockStats *tv_qmp_block_stats_find(const TvQmpBlockStatsList *l, const char *id);

/* Removable media of the guest device id (a cdrom): blockdev-open-tray,
 * blockdev-remove-medium, blockdev-insert-medium NODE, blockdev-close-tray. */
int tv_qemu_monitor_blockdev_open_tray(TvQemuMonitor *mon, const char *id, bool force);
int tv_qemu_monitor_blockdev_close_tray(TvQemuMonitor *mon, const char *id);
int tv_qemu_monitor_blockdev_remove_medium(TvQemuMonitor *mon, const char *id);
int tv_qemu_monitor_blockdev_insert_medium(TvQemuMonitor *mon, const char *id,
                                           const char *node_name);
/* set_link: the link of NIC name (its device id) up or down */
int tv_qemu_monitor_set_link(TvQemuMonitor *mon, const char *name, bool up);

/* ---- migration (qemu_monitor_migration.c) ---- */

/* migrate to uri ("tcp:HOST:PORT", "unix:PATH", "exec:CMD"); returns once
 * QEMU has started it: follow it with query-migrate or MIGRATION events. */
int tv_qemu_monitor_migrate(TvQemuMonitor *mon, const char *uri);
/* On a QEMU started with -incoming defer: listen on uri. */
int tv_qemu_monitor_migrate_incoming(TvQemuMonitor *mon, const char *uri);
int tv_qemu_monitor_migrate_cancel(TvQemuMonitor *mon);
int tv_qemu_monitor_migrate_start_postcopy(TvQemuMonitor *mon);

/* query-migrate; a field QEMU does not send is 0 (has_ram tells whether the
 * RAM counters were sent at all). */
typedef struct {
    TvQmpMigrationStatus status;
    gint64 total_time_ms; /* so far, or in all once completed */
    gint64 setup_time_ms;
    gint64 expected_downtime_ms; /* while active */
    gint64 downtime_ms;          /* once completed */
    bool has_ram;
    struct {
        guint64 transferred, remaining, total; /* bytes */
        guint64 duplicate, normal, normal_bytes;
        guint64 dirty_pages_rate, dirty_sync_count, postcopy_requests, page_size;
        double mbps;
    } ram;
    int cpu_throttle_percentage;
    char *error_desc; /* failed: QEMU's reason */
} TvQmpMigrationInfo;
void tv_qmp_migration_info_clear(TvQmpMigrationInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpMigrationInfo, tv_qmp_migration_info_clear)
int tv_qemu_monitor_query_migrate(TvQemuMonitor *mon, TvQmpMigrationInfo *out);

/* QEMU's MigrationCapability names tagvirt may set. */
typedef enum {
    TV_QMP_MIGRATION_CAP_UNKNOWN = 0, /* a name this table does not know */
    TV_QMP_MIGRATION_CAP_XBZRLE,
    TV_QMP_MIGRATION_CAP_AUTO_CONVERGE,
    TV_QMP_MIGRATION_CAP_EVENTS,
    TV_QMP_MIGRATION_CAP_POSTCOPY_RAM,
    TV_QMP_MIGRATION_CAP_PAUSE_BEFORE_SWITCHOVER,
    TV_QMP_MIGRATION_CAP_MULTIFD,
    TV_QMP_MIGRATION_CAP_RETURN_PATH,
    TV_QMP_MIGRATION_CAP_ZERO_COPY_SEND,
    TV_QMP_MIGRATION_CAP_DIRTY_BITMAPS,
    TV_QMP_MIGRATION_CAP_LATE_BLOCK_ACTIVATE,
    TV_QMP_MIGRATION_CAP_LAST
} TvQmpMigrationCap;
const char *tv_qmp_migration_cap_to_string(TvQmpMigrationCap cap);
TvQmpMigrationCap tv_qmp_migration_cap_from_string(const char *name);

typedef struct {
    TvQmpMigrationCap cap;
    bool state;
} TvQmpMigrationCapState;
int tv_qemu_monitor_migrate_set_capabilities(TvQemuMonitor *mon, const TvQmpMigrationCapState *caps,
                                             size_t n);
/* query-migrate-capabilities: every capability this QEMU has */
typedef struct {
    char *name;            /* QEMU's name, also for UNKNOWN */
    TvQmpMigrationCap cap; /* UNKNOWN: one this table does not know */
    bool state;
} TvQmpMigrationCapInfo;
typedef struct {
    TvQmpMigrationCapInfo *items;
    size_t n;
} TvQmpMigrationCapList;
void tv_qmp_migration_cap_list_clear(TvQmpMigrationCapList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpMigrationCapList, tv_qmp_migration_cap_list_clear)
int tv_qemu_monitor_query_migrate_capabilities(TvQemuMonitor *mon, TvQmpMigrationCapList *out);
/* The state of cap in l; false when this QEMU does not have it. */
bool tv_qmp_migration_cap_list_get(const TvQmpMigrationCapList *l, TvQmpMigrationCap cap,
                                   bool *present);

/* migrate-set-parameters (the has_ members say which are sent) and
 * query-migrate-parameters (has_ set for what QEMU reported). */
typedef struct {
    bool has_max_bandwidth;
    guint64 max_bandwidth; /* bytes per second */
    bool has_downtime_limit;
    guint64 downtime_limit; /* ms */
    bool has_max_postcopy_bandwidth;
    guint64 max_postcopy_bandwidth;
    bool has_multifd_channels;
    guint64 multifd_channels;
    bool has_cpu_throttle_initial;
    guint64 cpu_throttle_initial; /* percent */
    bool has_cpu_throttle_increment;
    guint64 cpu_throttle_increment;
    char *tls_creds; /* NULL: not sent; "" turns TLS off */
    char *tls_hostname;
} TvQmpMigrationParams;
void tv_qmp_migration_params_clear(TvQmpMigrationParams *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpMigrationParams, tv_qmp_migration_params_clear)
int tv_qemu_monitor_migrate_set_parameters(TvQemuMonitor *mon, const TvQmpMigrationParams *p);
int tv_qemu_monitor_query_migrate_parameters(TvQemuMonitor *mon, TvQmpMigrationParams *out);
