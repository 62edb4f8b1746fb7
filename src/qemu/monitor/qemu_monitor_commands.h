/* One C function per QMP command tagvirt sends, and one struct per reply
 * that carries data (included by qemu_monitor.h).
 *
 * Every function returns 0, or -1 with the error reported (see
 * qemu_monitor.h).  A reply struct is filled only on success and freed with
 * its *_clear() function (or g_auto()).  Lists are plain arrays with a count.
 * Field names are QEMU's, with '-' as '_'; a field QEMU may leave out has a
 * has_ flag or a documented "absent" value. */
#pragma once

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

/* query-cpus-fast: the vCPUs and the host threads that run them */
typedef struct {
    gint64 cpu_index; /* 0, 1, ... */
    gint64 thread_id; /* the host thread (TID) */
} TvQmpCpuFast;
typedef struct {
    TvQmpCpuFast *items;
    size_t n;
} TvQmpCpuFastList;
void tv_qmp_cpu_fast_list_clear(TvQmpCpuFastList *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvQmpCpuFastList, tv_qmp_cpu_fast_list_clear)
int tv_qemu_monitor_query_cpus_fast(TvQemuMonitor *mon, TvQmpCpuFastList *out);

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

/* qom-set of an integer property of the object at path (a typed value
 * setter for any scalar comes with device hot-plug) */
int tv_qemu_monitor_qom_set_int(TvQemuMonitor *mon, const char *path, const char *property,
                                gint64 value);

/* balloon: the guest's target size in bytes */
int tv_qemu_monitor_balloon(TvQemuMonitor *mon, guint64 bytes);

/* dump-guest-memory without paging to protocol ("file:PATH"), waiting up to
 * timeout_ms (a dump takes longer than the monitor's timeout). */
int tv_qemu_monitor_dump_guest_memory(TvQemuMonitor *mon, const char *protocol,
                                      unsigned timeout_ms);
