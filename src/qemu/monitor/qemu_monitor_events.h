/* QMP events, typed (included by qemu_monitor.h; parsing in
 * qemu_monitor_events.c).  Each event has its type, QEMU's time stamp and
 * the fields of its data that tagvirt uses; an event this table does not
 * know arrives as TV_QEMU_EVENT_OTHER with its name. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TV_QEMU_EVENT_OTHER = 0,
    TV_QEMU_EVENT_SHUTDOWN,
    TV_QEMU_EVENT_POWERDOWN,
    TV_QEMU_EVENT_RESET,
    TV_QEMU_EVENT_STOP,
    TV_QEMU_EVENT_RESUME,
    TV_QEMU_EVENT_SUSPEND,
    TV_QEMU_EVENT_WAKEUP,
    TV_QEMU_EVENT_GUEST_PANICKED,
    TV_QEMU_EVENT_DEVICE_DELETED,
    TV_QEMU_EVENT_BALLOON_CHANGE,
    TV_QEMU_EVENT_MIGRATION,
    TV_QEMU_EVENT_MIGRATION_PASS,
    TV_QEMU_EVENT_WATCHDOG,
    TV_QEMU_EVENT_LAST
} TvQemuEventType;
const char *tv_qemu_event_type_to_string(TvQemuEventType type);
TvQemuEventType tv_qemu_event_type_from_string(const char *name);

/* QEMU's ShutdownCause (SHUTDOWN and RESET say why). */
typedef enum {
    TV_QMP_SHUTDOWN_CAUSE_UNKNOWN = 0, /* absent, or a name this table does not know */
    TV_QMP_SHUTDOWN_CAUSE_NONE,
    TV_QMP_SHUTDOWN_CAUSE_HOST_ERROR,
    TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    TV_QMP_SHUTDOWN_CAUSE_HOST_SIGNAL,
    TV_QMP_SHUTDOWN_CAUSE_HOST_UI,
    TV_QMP_SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    TV_QMP_SHUTDOWN_CAUSE_GUEST_RESET,
    TV_QMP_SHUTDOWN_CAUSE_GUEST_PANIC,
    TV_QMP_SHUTDOWN_CAUSE_SUBSYSTEM_RESET,
    TV_QMP_SHUTDOWN_CAUSE_SNAPSHOT_LOAD,
    TV_QMP_SHUTDOWN_CAUSE_LAST
} TvQmpShutdownCause;
const char *tv_qmp_shutdown_cause_to_string(TvQmpShutdownCause cause);
TvQmpShutdownCause tv_qmp_shutdown_cause_from_string(const char *name);
/* The host ended it (a signal, QMP quit or reset, the UI, a host error). */
bool tv_qmp_shutdown_cause_is_host(TvQmpShutdownCause cause);

/* QEMU's MigrationStatus (query-migrate and the MIGRATION event). */
typedef enum {
    TV_QMP_MIGRATION_STATUS_UNKNOWN = 0, /* a name this table does not know */
    TV_QMP_MIGRATION_STATUS_NONE,
    TV_QMP_MIGRATION_STATUS_SETUP,
    TV_QMP_MIGRATION_STATUS_CANCELLING,
    TV_QMP_MIGRATION_STATUS_CANCELLED,
    TV_QMP_MIGRATION_STATUS_ACTIVE,
    TV_QMP_MIGRATION_STATUS_POSTCOPY_ACTIVE,
    TV_QMP_MIGRATION_STATUS_POSTCOPY_PAUSED,
    TV_QMP_MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP,
    TV_QMP_MIGRATION_STATUS_POSTCOPY_RECOVER,
    TV_QMP_MIGRATION_STATUS_COMPLETED,
    TV_QMP_MIGRATION_STATUS_FAILED,
    TV_QMP_MIGRATION_STATUS_COLO,
    TV_QMP_MIGRATION_STATUS_PRE_SWITCHOVER,
    TV_QMP_MIGRATION_STATUS_DEVICE,
    TV_QMP_MIGRATION_STATUS_WAIT_UNPLUG,
    TV_QMP_MIGRATION_STATUS_LAST
} TvQmpMigrationStatus;
const char *tv_qmp_migration_status_to_string(TvQmpMigrationStatus status);
TvQmpMigrationStatus tv_qmp_migration_status_from_string(const char *name);

struct _TvQemuEvent {
    TvQemuEventType type;
    char *name;          /* QEMU's name, also for OTHER */
    gint64 timestamp_us; /* QEMU's wall-clock time stamp; 0 when absent */
    struct {             /* SHUTDOWN, RESET */
        bool guest;      /* the guest asked for it */
        TvQmpShutdownCause reason;
    } shutdown;
    struct {          /* GUEST_PANICKED */
        char *action; /* "pause", "poweroff", "run" */
    } panic;
    char *watchdog_action; /* WATCHDOG: QEMU's WatchdogAction ("reset", "pause", ...) */
    struct {               /* DEVICE_DELETED */
        char *device;      /* the id given to device_add; NULL without one */
        char *path;        /* the QOM path */
    } device_deleted;
    guint64 balloon_actual;                /* BALLOON_CHANGE: guest RAM in bytes */
    TvQmpMigrationStatus migration_status; /* MIGRATION */
    gint64 migration_pass;                 /* MIGRATION_PASS: 1, 2, ... */
};
typedef struct _TvQemuEvent TvQemuEvent;

TvQemuEvent *tv_qemu_event_copy(const TvQemuEvent *event);
void tv_qemu_event_free(TvQemuEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuEvent, tv_qemu_event_free)
