/* Scripted QMP sessions; see qemumonitorsession.h. */
#include "qemumonitorsession.h"
#include "tv_error.h"

#include <string.h>

/* Waiting for an event a live guest sends by itself (the demo's tests run
 * for a few seconds under TCG); a replay has it at once or never. */
#define EVENT_WAIT_MS 60000

const char *const tv_mon_session_names[] = { "run", "guest-shutdown", NULL };

void tv_mon_session_clear(TvMonSession *s)
{
    if (s->events)
        g_ptr_array_unref(s->events);
    g_free(s->pty);
    g_free(s->no_command_error);
    g_free(s->no_type_error);
    memset(s, 0, sizeof(*s));
}

GPtrArray *tv_mon_session_argv(const char *name, const char *binary, const char *firmware_dir,
                               const char *sock)
{
    const char *guest = g_str_equal(name, "guest-shutdown") ? "demo.elf" : "demo-loop.elf";
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

int tv_mon_session_run(const char *name, TvQemuMonitor *mon, TvMonSession *out)
{
    memset(out, 0, sizeof(*out));
    out->events = g_ptr_array_new_with_free_func((GDestroyNotify)tv_qemu_event_free);
    tv_qemu_monitor_set_event_callback(mon, keep_event, out);
    if (tv_qemu_monitor_handshake(mon, 10000) < 0)
        return -1;
    tv_qemu_monitor_set_timeout(mon, 10000);
    int rc;
    if (g_str_equal(name, "run"))
        rc = session_run(mon, out);
    else if (g_str_equal(name, "guest-shutdown"))
        rc = session_guest_shutdown(mon, out);
    else {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no QMP session '%s'", name);
        return -1;
    }
    if (rc < 0)
        tv_error_prefix("session '%s'", name);
    return rc;
}
