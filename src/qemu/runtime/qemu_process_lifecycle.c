/* What happens when the guest powers off, reboots or panics, as
 * <on_poweroff>, <on_reboot> and <on_crash> say, and the balloon target of
 * <currentMemory>.  The command line (qemu_lifecycle.h) keeps QEMU running
 * where tagvirt must act: -no-shutdown for restart/preserve on power-off,
 * -action panic=pause for a handled panic.
 *
 * Restart is libvirt's "fake reboot": the same QEMU is reset and continued,
 * so the domain stays running (booted) with the same id, as with libvirtd.
 * Everything here runs on the thread that drains the monitor's events, with
 * mon_lock and proc->lock held. */
#include "qemu_lifecycle.h"
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIFECYCLE_QMP_TIMEOUT_MS 5000
#define COREDUMP_TIMEOUT_MS      600000

static json_object *execute(TvQemuProcess *proc, const char *command, json_object *args,
                            unsigned timeout_ms)
{
    if (!proc->mon || proc->mon_dead) {
        json_object_put(args);
        return NULL;
    }
    json_object *r = tv_qemu_monitor_execute(proc->mon, command, args, timeout_ms);
    if (!r)
        tv_qemu_process_log_line(proc->log_path, "lifecycle action: %s failed: %s", command,
                                 tv_error_message());
    tv_error_reset();
    return r;
}

/* Reset and continue the same QEMU; STOP/RESUME of our own are not state
 * changes (qemu_process_state.c checks fake_reboot). */
static void fake_reboot(TvQemuProcess *proc, const char *why)
{
    proc->fake_reboot = true;
    json_object *r = execute(proc, "system_reset", NULL, LIFECYCLE_QMP_TIMEOUT_MS);
    if (!r) {
        proc->fake_reboot = false;
        return;
    }
    json_object_put(r);
    /* 'cont' right after the reset request may still find the old run state */
    for (int i = 0; i < 50; i++) {
        r = execute(proc, "cont", NULL, LIFECYCLE_QMP_TIMEOUT_MS);
        if (r)
            break;
        g_usleep(20000);
    }
    if (!r) {
        proc->fake_reboot = false;
        return;
    }
    json_object_put(r);
    proc->shutdown_event = false;
    g_clear_pointer(&proc->shutdown_cause, g_free);
    proc->guest_panicked = false;
    tv_qemu_process_log_line(proc->log_path, "%s: guest restarted in the same QEMU", why);
    tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_BOOTED);
}

/* QEMU stays after the event but the domain must shut off: quit it, with
 * the reason the shut-off will carry. */
static void quit(TvQemuProcess *proc, int reason, const char *why)
{
    proc->lifecycle_reason = reason;
    tv_qemu_process_log_line(proc->log_path, "%s: stopping QEMU", why);
    json_object *r = execute(proc, "quit", NULL, LIFECYCLE_QMP_TIMEOUT_MS);
    json_object_put(r);
}

void tv_qemu_process_lifecycle_shutdown(TvQemuProcess *proc, const char *cause)
{
    const TvDomainDef *def = proc->def;
    if (!tv_qemu_lifecycle_no_shutdown(def))
        return; /* QEMU exits by itself: on_poweroff destroy */
    if (g_strcmp0(cause, "guest-reset") == 0) {
        /* -no-reboot made a reboot a shutdown: on_reboot='destroy' */
        quit(proc, TV_DOMAIN_SHUTOFF_SHUTDOWN, "guest rebooted, on_reboot destroy");
        return;
    }
    switch (def->on_poweroff) {
    case TV_LIFECYCLE_RESTART:
        fake_reboot(proc, "guest powered off, on_poweroff restart");
        break;
    case TV_LIFECYCLE_PRESERVE:
        tv_qemu_process_log_line(proc->log_path,
                                 "guest powered off, on_poweroff preserve: QEMU kept");
        break;
    case TV_LIFECYCLE_DEFAULT:
    case TV_LIFECYCLE_DESTROY:
    case TV_LIFECYCLE_RENAME_RESTART:
    case TV_LIFECYCLE_COREDUMP_DESTROY:
    case TV_LIFECYCLE_COREDUMP_RESTART:
    case TV_LIFECYCLE_LAST:
        break;
    }
}

/* LOG_DIR/NAME-YYYYmmdd-HHMMSS.core (libvirt writes to its auto dump path). */
static void coredump(TvQemuProcess *proc)
{
    g_autofree char *dir = g_path_get_dirname(proc->log_path);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    g_autofree char *path = g_strdup_printf("%s/%s-%s.core", dir, proc->name, stamp);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "paging", json_object_new_boolean(0));
    g_autofree char *protocol = g_strdup_printf("file:%s", path);
    json_object_object_add(args, "protocol", json_object_new_string(protocol));
    json_object *r = execute(proc, "dump-guest-memory", args, COREDUMP_TIMEOUT_MS);
    if (r)
        tv_qemu_process_log_line(proc->log_path, "guest panicked: memory dumped to %s", path);
    json_object_put(r);
}

void tv_qemu_process_lifecycle_panic(TvQemuProcess *proc, const char *action)
{
    /* "pause": QEMU waits for us (-action panic=pause or -no-shutdown);
     * "poweroff": it is exiting by itself and the shut-off says crashed */
    if (g_strcmp0(action, "pause") != 0)
        return;
    switch (proc->def->on_crash) {
    case TV_LIFECYCLE_RESTART:
        fake_reboot(proc, "guest panicked, on_crash restart");
        break;
    case TV_LIFECYCLE_PRESERVE:
        tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_CRASHED, TV_DOMAIN_CRASHED_PANICKED);
        break;
    case TV_LIFECYCLE_COREDUMP_RESTART:
        coredump(proc);
        fake_reboot(proc, "guest panicked, on_crash coredump-restart");
        break;
    case TV_LIFECYCLE_COREDUMP_DESTROY:
        coredump(proc);
        quit(proc, TV_DOMAIN_SHUTOFF_CRASHED, "guest panicked, on_crash coredump-destroy");
        break;
    case TV_LIFECYCLE_DEFAULT:
    case TV_LIFECYCLE_DESTROY:
    case TV_LIFECYCLE_RENAME_RESTART:
    case TV_LIFECYCLE_LAST:
        quit(proc, TV_DOMAIN_SHUTOFF_CRASHED, "guest panicked, on_crash destroy");
        break;
    }
}

void tv_qemu_process_lifecycle_balloon_change(TvQemuProcess *proc, json_object *ev)
{
    json_object *data = NULL, *actual = NULL;
    if (!json_object_object_get_ex(ev, "data", &data) ||
        !json_object_object_get_ex(data, "actual", &actual))
        return;
    long long bytes = json_object_get_int64(actual);
    if (bytes > 0 && proc->def)
        proc->def->current_memory_kib = (unsigned long long)bytes / 1024;
}

int tv_qemu_process_apply_balloon(TvQemuProcess *proc, unsigned timeout_ms)
{
    const TvDomainDef *def = proc->def;
    if (def->devices.memballoon != TV_BALLOON_MODEL_VIRTIO || !def->current_memory_kib ||
        def->current_memory_kib >= def->memory_kib)
        return 0;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "value",
                           json_object_new_int64((int64_t)def->current_memory_kib * 1024));
    json_object *r = tv_qemu_monitor_execute(proc->mon, "balloon", args, timeout_ms);
    if (!r) {
        tv_error_prefix("cannot set the balloon to /domain/currentMemory (%llu KiB)",
                        def->current_memory_kib);
        return -1;
    }
    json_object_put(r);
    return 0;
}
