/* Scripted QMP sessions; see qemumonitorsession.h. */
#include "qemumonitorsession.h"
#include "tv_error.h"

#include <string.h>

/* Waiting for an event a live guest sends by itself (the demo's tests run
 * for a few seconds under TCG); a replay has it at once or never. */
#define EVENT_WAIT_MS 60000

const char *const tv_mon_session_files[] = { "run",          "guest-shutdown",
                                             "devices",      "migrate-source",
                                             "migrate-dest", NULL };

/* The migration's sockets, relative to QEMU's working directory. */
#define MIGRATE_URI "unix:migrate.sock"
#define SINK_URI    "exec:cat >/dev/null"
#define MIB         (1024 * 1024)

void tv_mon_session_clear(TvMonSession *s)
{
    if (s->events)
        g_ptr_array_unref(s->events);
    g_free(s->pty);
    g_free(s->no_command_error);
    g_free(s->no_type_error);
    tv_qmp_cpu_list_clear(&s->cpus);
    g_free(s->no_device_error);
    tv_qmp_value_clear(&s->qom_type);
    tv_qmp_value_clear(&s->qom_before);
    tv_qmp_value_clear(&s->qom_after);
    g_free(s->qom_object_error);
    tv_qmp_migration_cap_list_clear(&s->caps);
    tv_qmp_migration_params_clear(&s->params_before);
    tv_qmp_migration_params_clear(&s->params_after);
    tv_qmp_migration_info_clear(&s->idle);
    tv_qmp_migration_info_clear(&s->cancelling);
    tv_qmp_migration_info_clear(&s->active);
    tv_qmp_migration_info_clear(&s->completed);
    memset(s, 0, sizeof(*s));
}

GPtrArray *tv_mon_session_argv(const char *file, const char *binary, const char *firmware_dir,
                               const char *sock)
{
    const char *guest = g_str_equal(file, "guest-shutdown") ? "demo.elf" : "demo-loop.elf";
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    const char *fixed[] = {
        "-machine",
        "virt,gic-version=3",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        "128",
        "-smp",
        "1",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-S",
        "-chardev",
        "pty,id=charserial0",
        "-serial",
        "chardev:charserial0",
    };
    g_ptr_array_add(argv, g_strdup(binary));
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, g_strdup(fixed[i]));
    g_ptr_array_add(argv, g_strdup("-kernel"));
    g_ptr_array_add(argv, g_build_filename(firmware_dir, guest, NULL));
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_strdup_printf("socket,id=mon,path=%s,server=on,wait=off", sock));
    g_ptr_array_add(argv, g_strdup("-mon"));
    g_ptr_array_add(argv, g_strdup("chardev=mon,mode=control"));
    if (g_str_equal(file, "devices")) {
        const char *devs[] = { "-device", "virtio-balloon-pci,id=balloon0", "-device",
                               "qemu-xhci,id=usb" };
        for (size_t i = 0; i < G_N_ELEMENTS(devs); i++)
            g_ptr_array_add(argv, g_strdup(devs[i]));
    }
    if (g_str_equal(file, "migrate-dest")) {
        g_ptr_array_add(argv, g_strdup("-incoming"));
        g_ptr_array_add(argv, g_strdup("defer"));
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

static void keep_event(TvQemuMonitor *mon, const TvQemuEvent *ev, void *opaque)
{
    TvMonSession *s = opaque;
    g_ptr_array_add(s->events, tv_qemu_event_copy(ev));
}

/* Waits until an event of that type arrived after the first *seen events;
 * *seen moves past it. */
static int wait_event(TvQemuMonitor *mon, TvMonSession *s, TvQemuEventType type, guint *seen)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)EVENT_WAIT_MS * 1000;
    for (;;) {
        for (guint i = *seen; i < s->events->len; i++) {
            if (((TvQemuEvent *)s->events->pdata[i])->type == type) {
                *seen = i + 1;
                return 0;
            }
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        int rc = left > 0 ? tv_qemu_monitor_wait_input(mon, (unsigned)left) : 0;
        if (rc < 0) {
            tv_error_prefix("waiting for event %s", tv_qemu_event_type_to_string(type));
            return -1;
        }
        if (rc == 0 && (left <= 0 || tv_qemu_monitor_fd(mon) < 0)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT, "no event %s came",
                            tv_qemu_event_type_to_string(type));
            return -1;
        }
    }
}

/* Reads until QEMU closes the monitor (it exits). */
static int wait_eof(TvQemuMonitor *mon, TvMonSession *s)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)EVENT_WAIT_MS * 1000;
    while (g_get_monotonic_time() < deadline) {
        int rc = tv_qemu_monitor_wait_input(mon, 1000);
        if (rc < 0) {
            s->eof = tv_qemu_monitor_is_closed(mon);
            tv_error_reset();
            return s->eof ? 0 : -1;
        }
        if (rc == 0 && tv_qemu_monitor_fd(mon) < 0)
            break; /* a replay that does not end */
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT, "QEMU did not close the monitor");
    return -1;
}

/* A command that must fail with an error reply: its class and message. */
static int expect_error(int rc, TvQmpErrorClass *cls, char **message)
{
    if (rc == 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "a command expected to fail worked");
        return -1;
    }
    *cls = tv_qemu_monitor_error_class();
    *message = g_strdup(tv_error_message());
    tv_error_reset();
    return *cls == TV_QMP_ERROR_NONE ? -1 : 0;
}

static int session_run(TvQemuMonitor *mon, TvMonSession *s)
{
    guint seen = 0;
    g_auto(TvQmpChardevList) chardevs = { 0 };
    g_auto(TvQmpMteCapabilityList) mte = { 0 };
    g_auto(TvQmpPropertyList) props = { 0 };
    if (tv_qemu_monitor_query_status(mon, &s->prelaunch) < 0 ||
        tv_qemu_monitor_query_chardev(mon, &chardevs) < 0)
        return -1;
    s->pty = g_strdup(tv_qmp_chardev_list_pty(&chardevs, "charserial0"));
    s->nchardevs = chardevs.n;
    if (tv_qemu_monitor_cont(mon) < 0 || wait_event(mon, s, TV_QEMU_EVENT_RESUME, &seen) < 0 ||
        tv_qemu_monitor_query_status(mon, &s->running) < 0 || tv_qemu_monitor_stop(mon) < 0 ||
        wait_event(mon, s, TV_QEMU_EVENT_STOP, &seen) < 0 ||
        tv_qemu_monitor_query_status(mon, &s->paused) < 0 || tv_qemu_monitor_cont(mon) < 0 ||
        wait_event(mon, s, TV_QEMU_EVENT_RESUME, &seen) < 0 ||
        tv_qemu_monitor_system_powerdown(mon) < 0 ||
        wait_event(mon, s, TV_QEMU_EVENT_POWERDOWN, &seen) < 0 ||
        tv_qemu_monitor_system_reset(mon) < 0 || wait_event(mon, s, TV_QEMU_EVENT_RESET, &seen) < 0)
        return -1;
    if (expect_error(tv_qemu_monitor_query_mte_capabilities(mon, &mte), &s->no_command_class,
                     &s->no_command_error) < 0 ||
        expect_error(tv_qemu_monitor_qom_list_properties(mon, "no-such-type", &props),
                     &s->no_type_class, &s->no_type_error) < 0)
        return -1;
    if (tv_qemu_monitor_quit(mon) < 0 || wait_event(mon, s, TV_QEMU_EVENT_SHUTDOWN, &seen) < 0)
        return -1;
    return wait_eof(mon, s);
}

static int session_guest_shutdown(TvQemuMonitor *mon, TvMonSession *s)
{
    guint seen = 0;
    if (tv_qemu_monitor_cont(mon) < 0 || wait_event(mon, s, TV_QEMU_EVENT_SHUTDOWN, &seen) < 0)
        return -1;
    return wait_eof(mon, s);
}

static int session_devices(TvQemuMonitor *mon, TvMonSession *s)
{
    guint seen = 0;
    const TvQmpProp kbd[] = { TV_QMP_PROP_STR("bus", "usb.0") };
    const TvQmpProp secret[] = { TV_QMP_PROP_STR("data", "tagvirt") };
    const TvQmpProp null_blk[] = { TV_QMP_PROP_INT("size", MIB),
                                   TV_QMP_PROP_BOOL("read-zeroes", true) };
    const TvQmpProp hub[] = { TV_QMP_PROP_INT("hubid", 0) };
    const char *balloon = "/machine/peripheral/balloon0",
               *interval = "guest-stats-polling-interval";
    TvQmpValue two = { .type = TV_QMP_VALUE_INT, .i = 2 };
    g_auto(TvQmpValue) stats = { 0 };
    if (tv_qemu_monitor_cont(mon) < 0 || tv_qemu_monitor_query_balloon(mon, &s->balloon) < 0 ||
        tv_qemu_monitor_balloon(mon, 96 * MIB) < 0 ||
        tv_qemu_monitor_query_cpus_fast(mon, &s->cpus) < 0 ||
        tv_qemu_monitor_device_add(mon, "usb-kbd", "kbd0", kbd, G_N_ELEMENTS(kbd)) < 0)
        return -1;
    /* paused: under TCG a busy vCPU holds off the RCU grace period that ends
     * the unplug, and DEVICE_DELETED came only at quit (seen with 7.2) */
    if (tv_qemu_monitor_stop(mon) < 0 || tv_qemu_monitor_device_del(mon, "kbd0") < 0 ||
        wait_event(mon, s, TV_QEMU_EVENT_DEVICE_DELETED, &seen) < 0 ||
        tv_qemu_monitor_cont(mon) < 0)
        return -1;
    if (expect_error(tv_qemu_monitor_device_del(mon, "kbd0"), &s->no_device_class,
                     &s->no_device_error) < 0)
        return -1;
    if (tv_qemu_monitor_object_add(mon, "secret", "sec0", secret, G_N_ELEMENTS(secret)) < 0 ||
        tv_qemu_monitor_object_del(mon, "sec0") < 0 ||
        tv_qemu_monitor_blockdev_add(mon, "null-co", "null0", null_blk, G_N_ELEMENTS(null_blk)) <
            0 ||
        tv_qemu_monitor_blockdev_del(mon, "null0") < 0 ||
        tv_qemu_monitor_netdev_add(mon, "hubport", "hub0", hub, G_N_ELEMENTS(hub)) < 0 ||
        tv_qemu_monitor_netdev_del(mon, "hub0") < 0 ||
        tv_qemu_monitor_qom_get(mon, "/machine", "type", &s->qom_type) < 0 ||
        tv_qemu_monitor_qom_get(mon, balloon, interval, &s->qom_before) < 0 ||
        tv_qemu_monitor_qom_set(mon, balloon, interval, &two) < 0 ||
        tv_qemu_monitor_qom_get(mon, balloon, interval, &s->qom_after) < 0)
        return -1;
    if (tv_qemu_monitor_qom_get(mon, balloon, "guest-stats", &stats) == 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "an object read as a scalar");
        return -1;
    }
    s->qom_object_error = g_strdup(tv_error_message());
    tv_error_reset();
    if (tv_qemu_monitor_quit(mon) < 0)
        return -1;
    return wait_eof(mon, s);
}

/* query-migrate until done(info), each reply kept in *last. */
static int poll_migration(TvQemuMonitor *mon, TvMonSession *s, TvQmpMigrationInfo *last,
                          bool (*done)(const TvQmpMigrationInfo *info), bool live)
{
    for (int i = 0; i < 10000; i++) {
        tv_qmp_migration_info_clear(last);
        if (tv_qemu_monitor_query_migrate(mon, last) < 0)
            return -1;
        s->polls++;
        if (done(last))
            return 0;
        if (live)
            g_usleep(50 * 1000); /* a few polls, not hundreds, in the recording */
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT, "the migration did not get on");
    return -1;
}

static bool copying(const TvQmpMigrationInfo *info)
{
    return (info->status == TV_QMP_MIGRATION_STATUS_ACTIVE && info->ram.transferred > 0) ||
           info->status == TV_QMP_MIGRATION_STATUS_COMPLETED ||
           info->status == TV_QMP_MIGRATION_STATUS_FAILED;
}

static bool finished(const TvQmpMigrationInfo *info)
{
    return info->status == TV_QMP_MIGRATION_STATUS_COMPLETED ||
           info->status == TV_QMP_MIGRATION_STATUS_FAILED ||
           info->status == TV_QMP_MIGRATION_STATUS_CANCELLED;
}

/* Waits for the MIGRATION event with that status. */
static int wait_migration(TvQemuMonitor *mon, TvMonSession *s, TvQmpMigrationStatus status,
                          guint *seen)
{
    for (;;) {
        if (wait_event(mon, s, TV_QEMU_EVENT_MIGRATION, seen) < 0)
            return -1;
        const TvQemuEvent *ev = s->events->pdata[*seen - 1];
        if (ev->migration_status == status)
            return 0;
    }
}

static void session_start(TvQemuMonitor *mon, TvMonSession *out)
{
    memset(out, 0, sizeof(*out));
    out->events = g_ptr_array_new_with_free_func((GDestroyNotify)tv_qemu_event_free);
    tv_qemu_monitor_set_event_callback(mon, keep_event, out);
}

int tv_mon_session_run_migrate(TvQemuMonitor *src, TvQemuMonitor *dst, TvMonSession *so,
                               TvMonSession *d)
{
    bool live = tv_qemu_monitor_fd(src) >= 0;
    guint src_seen = 0, dst_seen = 0;
    const TvQmpMigrationCapState events[] = { { TV_QMP_MIGRATION_CAP_EVENTS, true } };
    TvQmpMigrationParams slow = { .has_max_bandwidth = true,
                                  .max_bandwidth = MIB,
                                  .has_downtime_limit = true,
                                  .downtime_limit = 400 };
    TvQmpMigrationParams fast = { .has_max_bandwidth = true, .max_bandwidth = 1024 * MIB };
    session_start(src, so);
    session_start(dst, d);
    tv_qemu_monitor_set_timeout(src, 10000);
    tv_qemu_monitor_set_timeout(dst, 10000);
    /* the destination listens first */
    if (tv_qemu_monitor_handshake(dst, 10000) < 0 ||
        tv_qemu_monitor_query_status(dst, &d->before) < 0 ||
        tv_qemu_monitor_migrate_set_capabilities(dst, events, 1) < 0 ||
        tv_qemu_monitor_migrate_incoming(dst, MIGRATE_URI) < 0)
        goto fail;
    if (tv_qemu_monitor_handshake(src, 10000) < 0 || tv_qemu_monitor_cont(src) < 0 ||
        tv_qemu_monitor_query_migrate(src, &so->idle) < 0 ||
        tv_qemu_monitor_query_migrate_capabilities(src, &so->caps) < 0 ||
        tv_qemu_monitor_migrate_set_capabilities(src, events, 1) < 0 ||
        tv_qemu_monitor_query_migrate_parameters(src, &so->params_before) < 0 ||
        tv_qemu_monitor_migrate_set_parameters(src, &slow) < 0 ||
        tv_qemu_monitor_query_migrate_parameters(src, &so->params_after) < 0)
        goto fail;
    /* a migration that would take two minutes, cancelled */
    if (tv_qemu_monitor_migrate(src, SINK_URI) < 0 ||
        wait_migration(src, so, TV_QMP_MIGRATION_STATUS_ACTIVE, &src_seen) < 0 ||
        poll_migration(src, so, &so->cancelling, copying, live) < 0 ||
        tv_qemu_monitor_migrate_cancel(src) < 0 ||
        wait_migration(src, so, TV_QMP_MIGRATION_STATUS_CANCELLED, &src_seen) < 0)
        goto fail;
    /* the real one */
    if (tv_qemu_monitor_migrate_set_parameters(src, &fast) < 0 ||
        tv_qemu_monitor_migrate(src, MIGRATE_URI) < 0 ||
        poll_migration(src, so, &so->active, copying, live) < 0 ||
        poll_migration(src, so, &so->completed, finished, live) < 0 ||
        wait_migration(src, so, TV_QMP_MIGRATION_STATUS_COMPLETED, &src_seen) < 0 ||
        tv_qemu_monitor_query_status(src, &so->after) < 0)
        goto fail;
    if (wait_migration(dst, d, TV_QMP_MIGRATION_STATUS_COMPLETED, &dst_seen) < 0 ||
        tv_qemu_monitor_query_migrate(dst, &d->completed) < 0 || tv_qemu_monitor_cont(dst) < 0 ||
        wait_event(dst, d, TV_QEMU_EVENT_RESUME, &dst_seen) < 0 ||
        tv_qemu_monitor_query_status(dst, &d->after) < 0)
        goto fail;
    if (tv_qemu_monitor_quit(src) < 0 || wait_eof(src, so) < 0 || tv_qemu_monitor_quit(dst) < 0 ||
        wait_eof(dst, d) < 0)
        goto fail;
    return 0;
fail:
    tv_error_prefix("session 'migrate'");
    return -1;
}

int tv_mon_session_run(const char *name, TvQemuMonitor *mon, TvMonSession *out)
{
    session_start(mon, out);
    if (tv_qemu_monitor_handshake(mon, 10000) < 0)
        return -1;
    tv_qemu_monitor_set_timeout(mon, 10000);
    int rc;
    if (g_str_equal(name, "run"))
        rc = session_run(mon, out);
    else if (g_str_equal(name, "guest-shutdown"))
        rc = session_guest_shutdown(mon, out);
    else if (g_str_equal(name, "devices"))
        rc = session_devices(mon, out);
    else {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no QMP session '%s'", name);
        return -1;
    }
    if (rc < 0)
        tv_error_prefix("session '%s'", name);
    return rc;
}
