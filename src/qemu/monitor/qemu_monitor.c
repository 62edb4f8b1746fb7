/* QMP client over fds or a unix socket; see qemu_monitor.h for the API. */
#include "qemu_monitor.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct _TvQemuMonitor {
    int rfd;
    int wfd;
    GString *in;   /* bytes read, not yet a full line */
    GQueue events; /* json_object * */
    unsigned dropped;
    guint64 next_id;
    json_object *greeting;
    char *err_class;
    TvQemuMonitorRecordFunc record;
    void *record_opaque;
};

static TvQemuMonitor *monitor_new(int rfd, int wfd)
{
    TvQemuMonitor *mon = g_new0(TvQemuMonitor, 1);
    mon->rfd = rfd;
    mon->wfd = wfd;
    mon->in = g_string_sized_new(4096);
    g_queue_init(&mon->events);
    mon->next_id = 1;
    fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
    if (wfd != rfd)
        fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
    return mon;
}

TvQemuMonitor *tv_qemu_monitor_open_fds(int read_fd, int write_fd)
{
    return monitor_new(read_fd, write_fd);
}

TvQemuMonitor *tv_qemu_monitor_open_unix(const char *path, unsigned timeout_ms)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "monitor socket path '%s' is longer than %zu bytes", path,
                        sizeof(addr.sun_path) - 1);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create a socket");
            return NULL;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return monitor_new(fd, fd);
        int err = errno;
        close(fd);
        /* QEMU creates the socket during start-up: retry until the deadline */
        if ((err != ENOENT && err != ECONNREFUSED) || g_get_monotonic_time() >= deadline) {
            tv_error_report_errno(TV_FROM_QEMU, err, "cannot connect to QEMU monitor '%s'", path);
            return NULL;
        }
        g_usleep(2000);
    }
}

static void json_put(gpointer obj)
{
    json_object_put(obj);
}

void tv_qemu_monitor_free(TvQemuMonitor *mon)
{
    if (!mon)
        return;
    if (mon->rfd >= 0)
        close(mon->rfd);
    if (mon->wfd >= 0 && mon->wfd != mon->rfd)
        close(mon->wfd);
    g_string_free(mon->in, TRUE);
    g_queue_clear_full(&mon->events, json_put);
    json_object_put(mon->greeting);
    g_free(mon->err_class);
    g_free(mon);
}

static int remaining_ms(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, G_MAXINT);
}

/* Write without letting SIGPIPE kill the process when QEMU went away. */
static ssize_t write_nosigpipe(int fd, const char *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(fd, buf, len);
    int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        struct timespec zero = { 0, 0 };
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return n;
}

static int send_all(TvQemuMonitor *mon, const char *buf, size_t len, gint64 deadline)
{
    while (len > 0) {
        ssize_t n = write_nosigpipe(mon->wfd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            tv_error_report_errno(TV_FROM_QEMU, errno, "cannot write to QEMU monitor");
            return -1;
        }
        struct pollfd p = { .fd = mon->wfd, .events = POLLOUT };
        int ms = remaining_ms(deadline);
        if (ms == 0 || poll(&p, 1, ms) == 0) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                            "timed out writing to QEMU monitor");
            return -1;
        }
    }
    return 0;
}

/* The next complete non-empty line as JSON, reading until deadline. */
static json_object *read_message(TvQemuMonitor *mon, gint64 deadline, const char *waiting_for)
{
    size_t scanned = 0;
    for (;;) {
        char *nl = memchr(mon->in->str + scanned, '\n', mon->in->len - scanned);
        if (nl) {
            size_t line_len = (size_t)(nl - mon->in->str);
            g_autofree char *line = g_strndup(mon->in->str, line_len);
            g_string_erase(mon->in, 0, (gssize)line_len + 1);
            scanned = 0;
            g_strstrip(line);
            if (!*line)
                continue;
            enum json_tokener_error jerr;
            json_object *obj = json_tokener_parse_verbose(line, &jerr);
            if (!obj || !json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                                "QEMU monitor sent something that is not a JSON object while "
                                "waiting for %s: '%.80s'",
                                waiting_for, line);
                return NULL;
            }
            return obj;
        }
        scanned = mon->in->len;
        if (mon->in->len > TV_QEMU_MONITOR_LINE_MAX) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "QEMU monitor message longer than %d bytes while waiting for %s",
                            TV_QEMU_MONITOR_LINE_MAX, waiting_for);
            return NULL;
        }
        char chunk[65536];
        ssize_t n = read(mon->rfd, chunk, sizeof(chunk));
        if (n > 0) {
            g_string_append_len(mon->in, chunk, n);
            continue;
        }
        /* ECONNRESET: QEMU exited with our last bytes unread (unix sockets) */
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "QEMU closed the monitor while waiting for %s", waiting_for);
            return NULL;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            tv_error_report_errno(TV_FROM_QEMU, errno, "cannot read from QEMU monitor");
            return NULL;
        }
        struct pollfd p = { .fd = mon->rfd, .events = POLLIN };
        int ms = remaining_ms(deadline);
        if (ms == 0 || poll(&p, 1, ms) == 0) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                            "timed out waiting for %s from QEMU monitor", waiting_for);
            return NULL;
        }
    }
}

static void queue_event(TvQemuMonitor *mon, json_object *ev)
{
    g_queue_push_tail(&mon->events, ev);
    while (g_queue_get_length(&mon->events) > TV_QEMU_MONITOR_EVENTS_MAX) {
        json_object_put(g_queue_pop_head(&mon->events));
        mon->dropped++;
    }
}

int tv_qemu_monitor_handshake(TvQemuMonitor *mon, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    json_object *msg = read_message(mon, deadline, "the QMP greeting");
    json_object *event = NULL;
    /* an event can come first: QEMU sends the greeting from its main loop, and
     * one that resumes the machine just then (RESUME without -S) writes its
     * event at once (seen with -machine none) */
    while (msg && json_object_object_get_ex(msg, "event", &event)) {
        queue_event(mon, msg);
        msg = read_message(mon, deadline, "the QMP greeting");
    }
    if (!msg)
        return -1;
    json_object *qmp = NULL;
    if (!json_object_object_get_ex(msg, "QMP", &qmp)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU monitor did not start with a QMP greeting (it sent '%.120s')",
                        json_object_to_json_string(msg));
        json_object_put(msg);
        return -1;
    }
    if (mon->record)
        mon->record(mon->record_opaque, "greeting", msg);
    json_object_put(mon->greeting);
    mon->greeting = json_object_get(qmp);
    json_object_put(msg);
    int left = remaining_ms(deadline);
    json_object *ret = tv_qemu_monitor_execute(mon, "qmp_capabilities", NULL, left ? left : 1);
    if (!ret)
        return -1;
    json_object_put(ret);
    return 0;
}

json_object *tv_qemu_monitor_greeting(TvQemuMonitor *mon)
{
    return mon->greeting;
}

json_object *tv_qemu_monitor_reply_value(const char *command, json_object *reply,
                                         const char **err_class)
{
    json_object *ret = NULL, *err = NULL;
    if (err_class)
        *err_class = NULL;
    if (json_object_object_get_ex(reply, "return", &ret))
        return json_object_get(ret);
    if (json_object_object_get_ex(reply, "error", &err)) {
        json_object *cls = NULL, *desc = NULL;
        json_object_object_get_ex(err, "class", &cls);
        json_object_object_get_ex(err, "desc", &desc);
        if (err_class)
            *err_class = cls ? json_object_get_string(cls) : "GenericError";
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED, "QEMU command '%s' failed: %s",
                        command, desc ? json_object_get_string(desc) : "(no description)");
        return NULL;
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                    "QEMU reply to '%s' has neither 'return' nor 'error': '%.120s'", command,
                    json_object_to_json_string(reply));
    return NULL;
}

json_object *tv_qemu_monitor_execute(TvQemuMonitor *mon, const char *command, json_object *args,
                                     unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_clear_pointer(&mon->err_class, g_free);

    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "execute", json_object_new_string(command));
    if (args)
        json_object_object_add(cmd, "arguments", args);
    if (mon->record)
        mon->record(mon->record_opaque, "command", cmd);
    guint64 id = mon->next_id++;
    json_object_object_add(cmd, "id", json_object_new_uint64(id));
    g_autofree char *text =
        g_strdup_printf("%s\n", json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN));
    json_object_put(cmd);
    if (send_all(mon, text, strlen(text), deadline) < 0) {
        tv_error_prefix("QEMU command '%s'", command);
        return NULL;
    }

    g_autofree char *what = g_strdup_printf("the reply to '%s'", command);
    for (;;) {
        json_object *msg = read_message(mon, deadline, what);
        if (!msg)
            return NULL;
        if (json_object_object_get_ex(msg, "event", NULL)) {
            queue_event(mon, msg);
            continue;
        }
        json_object *idobj = NULL;
        if (json_object_object_get_ex(msg, "id", &idobj) &&
            (guint64)json_object_get_uint64(idobj) != id) {
            json_object_put(msg);
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "QEMU monitor answered another command while waiting for %s", what);
            return NULL;
        }
        json_object_object_del(msg, "id");
        if (mon->record)
            mon->record(mon->record_opaque, "reply", msg);
        const char *cls = NULL;
        json_object *value = tv_qemu_monitor_reply_value(command, msg, &cls);
        if (cls)
            mon->err_class = g_strdup(cls);
        json_object_put(msg);
        return value;
    }
}

const char *tv_qemu_monitor_last_error_class(TvQemuMonitor *mon)
{
    return mon->err_class;
}

json_object *tv_qemu_monitor_next_event(TvQemuMonitor *mon)
{
    return g_queue_pop_head(&mon->events);
}

static bool event_named(json_object *ev, const char *name)
{
    json_object *n = NULL;
    return json_object_object_get_ex(ev, "event", &n) &&
           g_strcmp0(json_object_get_string(n), name) == 0;
}

int tv_qemu_monitor_wait_event(TvQemuMonitor *mon, const char *name, unsigned timeout_ms,
                               json_object **event)
{
    for (GList *l = mon->events.head; l; l = l->next) {
        if (event_named(l->data, name)) {
            json_object *ev = l->data;
            g_queue_delete_link(&mon->events, l);
            if (event)
                *event = ev;
            else
                json_object_put(ev);
            return 0;
        }
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *what = g_strdup_printf("event %s", name);
    for (;;) {
        json_object *msg = read_message(mon, deadline, what);
        if (!msg)
            return -1;
        if (event_named(msg, name)) {
            if (event)
                *event = msg;
            else
                json_object_put(msg);
            return 0;
        }
        if (json_object_object_get_ex(msg, "event", NULL))
            queue_event(mon, msg);
        else
            json_object_put(msg); /* a stray reply: nothing waits for it */
    }
}

unsigned tv_qemu_monitor_dropped_events(TvQemuMonitor *mon)
{
    return mon->dropped;
}

int tv_qemu_monitor_read_fd(TvQemuMonitor *mon)
{
    return mon->rfd;
}

void tv_qemu_monitor_set_recorder(TvQemuMonitor *mon, TvQemuMonitorRecordFunc func, void *opaque)
{
    mon->record = func;
    mon->record_opaque = opaque;
}
