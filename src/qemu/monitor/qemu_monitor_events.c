/* QMP events into TvQemuEvent, and the vocabularies they use (run states,
 * shutdown causes, migration states), each one table. */
#include "qemu_monitor_priv.h"

#include <string.h>

static const char *const event_names[TV_QEMU_EVENT_LAST] = {
    [TV_QEMU_EVENT_OTHER] = "",
    [TV_QEMU_EVENT_SHUTDOWN] = "SHUTDOWN",
    [TV_QEMU_EVENT_POWERDOWN] = "POWERDOWN",
    [TV_QEMU_EVENT_RESET] = "RESET",
    [TV_QEMU_EVENT_STOP] = "STOP",
    [TV_QEMU_EVENT_RESUME] = "RESUME",
    [TV_QEMU_EVENT_SUSPEND] = "SUSPEND",
    [TV_QEMU_EVENT_WAKEUP] = "WAKEUP",
    [TV_QEMU_EVENT_GUEST_PANICKED] = "GUEST_PANICKED",
    [TV_QEMU_EVENT_DEVICE_DELETED] = "DEVICE_DELETED",
    [TV_QEMU_EVENT_BALLOON_CHANGE] = "BALLOON_CHANGE",
    [TV_QEMU_EVENT_MIGRATION] = "MIGRATION",
    [TV_QEMU_EVENT_MIGRATION_PASS] = "MIGRATION_PASS",
    [TV_QEMU_EVENT_WATCHDOG] = "WATCHDOG",
};

static const char *const shutdown_cause_names[TV_QMP_SHUTDOWN_CAUSE_LAST] = {
    [TV_QMP_SHUTDOWN_CAUSE_UNKNOWN] = "",
    [TV_QMP_SHUTDOWN_CAUSE_NONE] = "none",
    [TV_QMP_SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
    [TV_QMP_SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
    [TV_QMP_SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
    [TV_QMP_SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
    [TV_QMP_SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
    [TV_QMP_SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic",
    [TV_QMP_SHUTDOWN_CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
    [TV_QMP_SHUTDOWN_CAUSE_SNAPSHOT_LOAD] = "snapshot-load",
};

static const char *const migration_status_names[TV_QMP_MIGRATION_STATUS_LAST] = {
    [TV_QMP_MIGRATION_STATUS_UNKNOWN] = "",
    [TV_QMP_MIGRATION_STATUS_NONE] = "none",
    [TV_QMP_MIGRATION_STATUS_SETUP] = "setup",
    [TV_QMP_MIGRATION_STATUS_CANCELLING] = "cancelling",
    [TV_QMP_MIGRATION_STATUS_CANCELLED] = "cancelled",
    [TV_QMP_MIGRATION_STATUS_ACTIVE] = "active",
    [TV_QMP_MIGRATION_STATUS_POSTCOPY_ACTIVE] = "postcopy-active",
    [TV_QMP_MIGRATION_STATUS_POSTCOPY_PAUSED] = "postcopy-paused",
    [TV_QMP_MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP] = "postcopy-recover-setup",
    [TV_QMP_MIGRATION_STATUS_POSTCOPY_RECOVER] = "postcopy-recover",
    [TV_QMP_MIGRATION_STATUS_COMPLETED] = "completed",
    [TV_QMP_MIGRATION_STATUS_FAILED] = "failed",
    [TV_QMP_MIGRATION_STATUS_COLO] = "colo",
    [TV_QMP_MIGRATION_STATUS_PRE_SWITCHOVER] = "pre-switchover",
    [TV_QMP_MIGRATION_STATUS_DEVICE] = "device",
    [TV_QMP_MIGRATION_STATUS_WAIT_UNPLUG] = "wait-unplug",
};

const char *tv_qemu_event_type_to_string(TvQemuEventType type)
{
    return type < TV_QEMU_EVENT_LAST ? event_names[type] : "";
}

TvQemuEventType tv_qemu_event_type_from_string(const char *name)
{
    return (TvQemuEventType)tv_qmp_enum_lookup(event_names, TV_QEMU_EVENT_LAST, name);
}

const char *tv_qmp_shutdown_cause_to_string(TvQmpShutdownCause cause)
{
    return cause < TV_QMP_SHUTDOWN_CAUSE_LAST ? shutdown_cause_names[cause] : "";
}

TvQmpShutdownCause tv_qmp_shutdown_cause_from_string(const char *name)
{
    return (TvQmpShutdownCause)tv_qmp_enum_lookup(shutdown_cause_names, TV_QMP_SHUTDOWN_CAUSE_LAST,
                                                  name);
}

bool tv_qmp_shutdown_cause_is_host(TvQmpShutdownCause cause)
{
    switch (cause) {
    case TV_QMP_SHUTDOWN_CAUSE_HOST_ERROR:
    case TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_QUIT:
    case TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET:
    case TV_QMP_SHUTDOWN_CAUSE_HOST_SIGNAL:
    case TV_QMP_SHUTDOWN_CAUSE_HOST_UI:
        return true;
    case TV_QMP_SHUTDOWN_CAUSE_UNKNOWN:
    case TV_QMP_SHUTDOWN_CAUSE_NONE:
    case TV_QMP_SHUTDOWN_CAUSE_GUEST_SHUTDOWN:
    case TV_QMP_SHUTDOWN_CAUSE_GUEST_RESET:
    case TV_QMP_SHUTDOWN_CAUSE_GUEST_PANIC:
    case TV_QMP_SHUTDOWN_CAUSE_SUBSYSTEM_RESET:
    case TV_QMP_SHUTDOWN_CAUSE_SNAPSHOT_LOAD:
    case TV_QMP_SHUTDOWN_CAUSE_LAST:
        break;
    }
    return false;
}

const char *tv_qmp_migration_status_to_string(TvQmpMigrationStatus status)
{
    return status < TV_QMP_MIGRATION_STATUS_LAST ? migration_status_names[status] : "";
}

TvQmpMigrationStatus tv_qmp_migration_status_from_string(const char *name)
{
    return (TvQmpMigrationStatus)tv_qmp_enum_lookup(migration_status_names,
                                                    TV_QMP_MIGRATION_STATUS_LAST, name);
}

TvQemuEvent *tv_qemu_event_copy(const TvQemuEvent *event)
{
    TvQemuEvent *copy = g_memdup2(event, sizeof(*event));
    copy->name = g_strdup(event->name);
    copy->panic.action = g_strdup(event->panic.action);
    copy->watchdog_action = g_strdup(event->watchdog_action);
    copy->device_deleted.device = g_strdup(event->device_deleted.device);
    copy->device_deleted.path = g_strdup(event->device_deleted.path);
    return copy;
}

void tv_qemu_event_free(TvQemuEvent *event)
{
    if (!event)
        return;
    g_free(event->name);
    g_free(event->panic.action);
    g_free(event->watchdog_action);
    g_free(event->device_deleted.device);
    g_free(event->device_deleted.path);
    g_free(event);
}

TvQemuEvent *tv_qemu_event_from_json(json_object *msg)
{
    TvQemuEvent *ev = g_new0(TvQemuEvent, 1);
    ev->name = g_strdup(tv_qmp_str(msg, "event"));
    ev->type = tv_qemu_event_type_from_string(ev->name);
    json_object *ts = NULL, *data = NULL;
    if (json_object_object_get_ex(msg, "timestamp", &ts))
        ev->timestamp_us =
            tv_qmp_int(ts, "seconds", 0) * G_USEC_PER_SEC + tv_qmp_int(ts, "microseconds", 0);
    json_object_object_get_ex(msg, "data", &data);
    switch (ev->type) {
    case TV_QEMU_EVENT_SHUTDOWN:
    case TV_QEMU_EVENT_RESET:
        ev->shutdown.guest = tv_qmp_bool(data, "guest");
        ev->shutdown.reason = tv_qmp_shutdown_cause_from_string(tv_qmp_str(data, "reason"));
        break;
    case TV_QEMU_EVENT_GUEST_PANICKED:
        ev->panic.action = g_strdup(tv_qmp_str(data, "action"));
        break;
    case TV_QEMU_EVENT_DEVICE_DELETED:
        ev->device_deleted.device = g_strdup(tv_qmp_str(data, "device"));
        ev->device_deleted.path = g_strdup(tv_qmp_str(data, "path"));
        break;
    case TV_QEMU_EVENT_BALLOON_CHANGE:
        ev->balloon_actual = (guint64)tv_qmp_int(data, "actual", 0);
        break;
    case TV_QEMU_EVENT_MIGRATION:
        ev->migration_status = tv_qmp_migration_status_from_string(tv_qmp_str(data, "status"));
        break;
    case TV_QEMU_EVENT_MIGRATION_PASS:
        ev->migration_pass = tv_qmp_int(data, "pass", 0);
        break;
    case TV_QEMU_EVENT_WATCHDOG:
        ev->watchdog_action = g_strdup(tv_qmp_str(data, "action"));
        break;
    case TV_QEMU_EVENT_OTHER:
    case TV_QEMU_EVENT_POWERDOWN:
    case TV_QEMU_EVENT_STOP:
    case TV_QEMU_EVENT_RESUME:
    case TV_QEMU_EVENT_SUSPEND:
    case TV_QEMU_EVENT_WAKEUP:
    case TV_QEMU_EVENT_LAST:
        break;
    }
    return ev;
}
