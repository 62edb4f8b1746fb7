/* QMP client over fds, a unix socket or a replayed conversation; see
 * qemu_monitor.h for the API.
 *
 * Who reads: at most one thread at a time is the reader (mon->reader).  With
 * an I/O thread set, only it reads (tv_qemu_monitor_dispatch() from its poll
 * loop) and everyone else waits on mon->cond; without one, the thread that
 * waits for something (a reply, the greeting, input) reads itself.  The
 * input buffer belongs to the reader; everything else is under mon->lock,
 * which is never held while reading from the fd or while an event callback
 * runs. */
#include "qemu_monitor_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct _TvQemuMonitor {
    gint refs;
    GMutex lock;
    GCond cond; /* a reply, the greeting, the reader or the command slot changed */
    int rfd;
    int wfd;

    /* replay: what QEMU "sends" after each command */
    const TvQemuMonitorScript *replay;
    char *replay_who;
    guint replay_pos; /* next script entry */
    guint replay_commands;
    GString *replay_out;

    GString *in;    /* the reader's: bytes read, not yet a full line */
    size_t scanned; /* the reader's: the first bytes of in hold no newline */
    bool closed;
    char *closed_why; /* "QEMU closed the monitor", a protocol error, ... */
    int closed_code;
    unsigned timeout_ms;
    GThread *io_thread;
    GThread *reader;

    bool busy; /* a command is outstanding */
    guint64 next_id;
    guint64 wait_id;
    json_object *reply; /* its reply, once read */

    TvQmpGreeting *greeting;
    GQueue events; /* TvQemuEvent *, read before a callback was set */
    unsigned dropped;
    TvQemuMonitorEventFunc event_cb;
    void *event_opaque;

    TvQemuMonitorScript *rec;
    bool rec_events;
};

static __thread TvQmpErrorClass last_error_class;
static __thread TvQemuMonitor *in_callback; /* a callback of this monitor runs here */

static const char *const error_class_names[TV_QMP_ERROR_LAST] = {
    [TV_QMP_ERROR_NONE] = "",
    [TV_QMP_ERROR_GENERIC] = "GenericError",
    [TV_QMP_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [TV_QMP_ERROR_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [TV_QMP_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [TV_QMP_ERROR_KVM_MISSING_CAP] = "KVMMissingCap",
};

const char *tv_qmp_error_class_to_string(TvQmpErrorClass cls)
{
    return cls < TV_QMP_ERROR_LAST ? error_class_names[cls] : "";
}

static TvQmpErrorClass error_class_from_string(const char *name)
{
    for (int i = TV_QMP_ERROR_GENERIC; i < TV_QMP_ERROR_LAST; i++) {
        if (g_strcmp0(name, error_class_names[i]) == 0)
            return (TvQmpErrorClass)i;
    }
    return TV_QMP_ERROR_GENERIC; /* QEMU documents GenericError for anything new */
}

TvQmpErrorClass tv_qemu_monitor_error_class(void)
{
    return last_error_class;
}

static TvQemuMonitor *monitor_new(int rfd, int wfd)
{
    TvQemuMonitor *mon = g_new0(TvQemuMonitor, 1);
    mon->refs = 1;
    g_mutex_init(&mon->lock);
    g_cond_init(&mon->cond);
    mon->rfd = rfd;
    mon->wfd = wfd;
    mon->in = g_string_sized_new(4096);
    g_queue_init(&mon->events);
    /* ids of our own: the reply to a command a killed manager sent comes to
     * the next connection, and must not pass for ours (seen: a reconnect
     * after the manager was SIGKILLed mid-start got the reply to its 'cont') */
    mon->next_id = ((guint64)g_random_int() << 24) + 1;
    mon->timeout_ms = TV_QEMU_MONITOR_TIMEOUT_DEFAULT;
    if (rfd >= 0)
        fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
    if (wfd >= 0 && wfd != rfd)
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

/* Replay: queue what the script has up to its next command. */
static void replay_feed_locked(TvQemuMonitor *mon)
{
    guint n = tv_qemu_monitor_script_length(mon->replay);
    while (mon->replay_pos < n) {
        const TvQmpScriptEntry *e = tv_qemu_monitor_script_entry(mon->replay, mon->replay_pos);
        if (e->kind == TV_QMP_SCRIPT_COMMAND)
            break;
        g_autofree char *line = tv_qmp_to_line(e->msg);
        g_string_append_printf(mon->replay_out, "%s\n", line);
        mon->replay_pos++;
    }
}

TvQemuMonitor *tv_qemu_monitor_open_replay(const TvQemuMonitorScript *script, const char *who)
{
    TvQemuMonitor *mon = monitor_new(-1, -1);
    mon->replay = script;
    mon->replay_who = g_strdup(who ? who : "the client");
    mon->replay_out = g_string_new(NULL);
    replay_feed_locked(mon);
    return mon;
}

int tv_qemu_monitor_replay_check_done(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    guint n = tv_qemu_monitor_script_length(mon->replay);
    guint left = 0;
    const TvQmpScriptEntry *first = NULL;
    for (guint i = mon->replay_pos; mon->replay && i < n; i++) {
        const TvQmpScriptEntry *e = tv_qemu_monitor_script_entry(mon->replay, i);
        if (e->kind == TV_QMP_SCRIPT_COMMAND) {
            left++;
            if (!first)
                first = e;
        }
    }
    g_autofree char *first_line = first ? tv_qmp_to_line(first->msg) : NULL;
    g_mutex_unlock(&mon->lock);
    if (!left)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                    "recording has %u commands %s did not ask, from %s on", left, mon->replay_who,
                    first_line);
    return -1;
}

void tv_qemu_monitor_record(TvQemuMonitor *mon, TvQemuMonitorScript *script, bool events)
{
    g_mutex_lock(&mon->lock);
    mon->rec = script;
    mon->rec_events = events;
    g_mutex_unlock(&mon->lock);
}

TvQemuMonitor *tv_qemu_monitor_ref(TvQemuMonitor *mon)
{
    g_atomic_int_inc(&mon->refs);
    return mon;
}

static void greeting_free(TvQmpGreeting *g)
{
    if (!g)
        return;
    g_free(g->package);
    g_free(g);
}

void tv_qemu_monitor_free(TvQemuMonitor *mon)
{
    if (!mon || !g_atomic_int_dec_and_test(&mon->refs))
        return;
    if (mon->rfd >= 0)
        close(mon->rfd);
    if (mon->wfd >= 0 && mon->wfd != mon->rfd)
        close(mon->wfd);
    g_string_free(mon->in, TRUE);
    if (mon->replay_out)
        g_string_free(mon->replay_out, TRUE);
    g_free(mon->replay_who);
    g_queue_clear_full(&mon->events, (GDestroyNotify)tv_qemu_event_free);
    json_object_put(mon->reply);
    greeting_free(mon->greeting);
    g_free(mon->closed_why);
    g_cond_clear(&mon->cond);
    g_mutex_clear(&mon->lock);
    g_free(mon);
}

/* Under mon->lock: no more I/O; waiters give up with why. */
static void close_locked(TvQemuMonitor *mon, int code, const char *why)
{
    if (mon->closed)
        return;
    mon->closed = true;
    mon->closed_code = code;
    mon->closed_why = g_strdup(why);
    /* a reader blocked in poll() on another thread wakes up (sockets) */
    if (mon->rfd >= 0)
        shutdown(mon->rfd, SHUT_RDWR);
    g_cond_broadcast(&mon->cond);
}

void tv_qemu_monitor_close(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    close_locked(mon, TV_ERR_OPERATION_FAILED, "the monitor was closed");
    g_mutex_unlock(&mon->lock);
}

void tv_qemu_monitor_set_timeout(TvQemuMonitor *mon, unsigned timeout_ms)
{
    g_mutex_lock(&mon->lock);
    mon->timeout_ms = timeout_ms ? timeout_ms : 1;
    g_mutex_unlock(&mon->lock);
}

static int remaining_ms(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, G_MAXINT);
}

/* ---- the reader: lines in, replies and events out ---- */

static void record_locked(TvQemuMonitor *mon, TvQmpScriptKind kind, json_object *msg)
{
    if (mon->rec && (kind != TV_QMP_SCRIPT_EVENT || mon->rec_events))
        tv_qemu_monitor_script_append(mon->rec, kind, msg);
}

static TvQmpGreeting *greeting_parse(json_object *qmp)
{
    TvQmpGreeting *g = g_new0(TvQmpGreeting, 1);
    json_object *version = NULL, *qemu = NULL, *caps = NULL;
    json_object_object_get_ex(qmp, "version", &version);
    json_object_object_get_ex(version, "qemu", &qemu);
    g->major = (unsigned)tv_qmp_int(qemu, "major", 0);
    g->minor = (unsigned)tv_qmp_int(qemu, "minor", 0);
    g->micro = (unsigned)tv_qmp_int(qemu, "micro", 0);
    g->package = g_strdup(tv_qmp_str(version, "package"));
    if (json_object_object_get_ex(qmp, "capabilities", &caps) &&
        json_object_is_type(caps, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(caps); i++)
            g->oob |=
                g_strcmp0(json_object_get_string(json_object_array_get_idx(caps, i)), "oob") == 0;
    }
    return g;
}

/* Hand events to the callback, or keep them for one (bounded). */
static void deliver_events(TvQemuMonitor *mon, GQueue *events)
{
    TvQemuEvent *ev;
    while ((ev = g_queue_pop_head(events))) {
        g_mutex_lock(&mon->lock);
        TvQemuMonitorEventFunc cb = mon->event_cb;
        void *opaque = mon->event_opaque;
        if (!cb) {
            g_queue_push_tail(&mon->events, ev);
            while (g_queue_get_length(&mon->events) > TV_QEMU_MONITOR_EVENTS_MAX) {
                tv_qemu_event_free(g_queue_pop_head(&mon->events));
                mon->dropped++;
            }
        }
        g_mutex_unlock(&mon->lock);
        if (cb) {
            TvQemuMonitor *outer = in_callback;
            in_callback = mon;
            cb(mon, ev, opaque);
            in_callback = outer;
            tv_qemu_event_free(ev);
        }
    }
}

/* One message (consumed); events are appended to *events.  -1: a protocol
 * error (reported; the monitor is closed). */
static int handle_message(TvQemuMonitor *mon, json_object *msg, GQueue *events)
{
    json_object *v = NULL;
    if (json_object_object_get_ex(msg, "event", &v)) {
        g_mutex_lock(&mon->lock);
        record_locked(mon, TV_QMP_SCRIPT_EVENT, msg);
        g_mutex_unlock(&mon->lock);
        g_queue_push_tail(events, tv_qemu_event_from_json(msg));
        json_object_put(msg);
        return 0;
    }
    g_mutex_lock(&mon->lock);
    if (!mon->greeting) {
        if (!json_object_object_get_ex(msg, "QMP", &v)) {
            g_autofree char *text =
                g_strdup_printf("QEMU monitor did not start with a QMP greeting (it sent '%.120s')",
                                json_object_to_json_string(msg));
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "%s", text);
            close_locked(mon, TV_ERR_INTERNAL_ERROR, text);
            g_mutex_unlock(&mon->lock);
            json_object_put(msg);
            return -1;
        }
        record_locked(mon, TV_QMP_SCRIPT_GREETING, msg);
        mon->greeting = greeting_parse(v);
        g_cond_broadcast(&mon->cond);
        g_mutex_unlock(&mon->lock);
        json_object_put(msg);
        return 0;
    }
    json_object *idobj = NULL;
    bool has_id = json_object_object_get_ex(msg, "id", &idobj);
    guint64 id = has_id ? (guint64)json_object_get_uint64(idobj) : 0;
    if (!mon->busy || mon->reply || (has_id && id != mon->wait_id)) {
        /* the late answer to a command of ours that timed out, or to one a
         * client before us sent on this socket: nobody waits for it */
        g_debug("QEMU monitor: dropping a reply nobody waits for: %.80s",
                json_object_to_json_string(msg));
        g_mutex_unlock(&mon->lock);
        json_object_put(msg);
        return 0;
    }
    json_object_object_del(msg, "id");
    record_locked(mon, TV_QMP_SCRIPT_REPLY, msg);
    mon->reply = msg;
    g_cond_broadcast(&mon->cond);
    g_mutex_unlock(&mon->lock);
    return 0;
}

/* Complete lines of the input buffer.  -1 on a protocol error. */
static int handle_lines(TvQemuMonitor *mon, GQueue *events, const char *what)
{
    for (;;) {
        char *nl = memchr(mon->in->str + mon->scanned, '\n', mon->in->len - mon->scanned);
        if (!nl) {
            mon->scanned = mon->in->len;
            break;
        }
        size_t line_len = (size_t)(nl - mon->in->str);
        g_autofree char *line = g_strndup(mon->in->str, line_len);
        g_string_erase(mon->in, 0, (gssize)line_len + 1);
        mon->scanned = 0;
        g_strstrip(line);
        if (!*line)
            continue;
        enum json_tokener_error jerr;
        json_object *obj = json_tokener_parse_verbose(line, &jerr);
        if (!obj || !json_object_is_type(obj, json_type_object)) {
            json_object_put(obj);
            g_autofree char *text =
                g_strdup_printf("QEMU monitor sent something that is not a JSON object while "
                                "waiting for %s: '%.80s'",
                                what, line);
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "%s", text);
            g_mutex_lock(&mon->lock);
            close_locked(mon, TV_ERR_INTERNAL_ERROR, text);
            g_mutex_unlock(&mon->lock);
            return -1;
        }
        if (handle_message(mon, obj, events) < 0)
            return -1;
        /* in order: a reply waited for is seen after the events before it */
        deliver_events(mon, events);
    }
    if (mon->in->len > TV_QEMU_MONITOR_LINE_MAX) {
        g_autofree char *text =
            g_strdup_printf("QEMU monitor message longer than %d bytes while waiting for %s",
                            TV_QEMU_MONITOR_LINE_MAX, what);
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "%s", text);
        g_mutex_lock(&mon->lock);
        close_locked(mon, TV_ERR_INTERNAL_ERROR, text);
        g_mutex_unlock(&mon->lock);
        return -1;
    }
    return 0;
}

/* Bytes from the fd or the replay: >0 read, 0 nothing yet, -1 EOF (errno 0)
 * or an error (errno set). */
static ssize_t read_bytes(TvQemuMonitor *mon, char *buf, size_t size)
{
    if (mon->replay) {
        g_mutex_lock(&mon->lock);
        ssize_t n = (ssize_t)MIN(size, mon->replay_out->len);
        memcpy(buf, mon->replay_out->str, (size_t)n);
        g_string_erase(mon->replay_out, 0, n);
        bool end = n == 0 && mon->replay_pos >= tv_qemu_monitor_script_length(mon->replay);
        g_mutex_unlock(&mon->lock);
        errno = 0;
        return end ? -1 : n;
    }
    for (;;) {
        ssize_t n = read(mon->rfd, buf, size);
        if (n > 0)
            return n;
        /* ECONNRESET: QEMU exited with our last bytes unread (unix sockets) */
        if (n == 0 || errno == ECONNRESET) {
            errno = 0;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}

/* As the reader: waits until deadline (0: not at all) for input, then reads
 * what is there and handles it.  1 something read, 0 nothing (timeout), -1
 * closed (reported). */
static int read_input(TvQemuMonitor *mon, gint64 deadline, const char *what)
{
    if (!mon->replay) {
        struct pollfd p = { .fd = mon->rfd, .events = POLLIN };
        int ms = deadline ? remaining_ms(deadline) : 0;
        int r;
        while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
            ;
        if (r == 0)
            return 0;
    }
    g_autoptr(GQueue) events = g_queue_new();
    int rc = 0;
    for (;;) {
        char chunk[65536];
        ssize_t n = read_bytes(mon, chunk, sizeof(chunk));
        if (n > 0) {
            g_string_append_len(mon->in, chunk, n);
            rc = 1;
            if ((size_t)n == sizeof(chunk))
                continue;
            break;
        }
        if (n == 0)
            break;
        int err = errno;
        g_autofree char *text =
            err ? g_strdup_printf("cannot read from QEMU monitor: %s", g_strerror(err))
                : g_strdup("QEMU closed the monitor");
        g_mutex_lock(&mon->lock);
        close_locked(mon, TV_ERR_OPERATION_FAILED, text);
        g_mutex_unlock(&mon->lock);
        rc = -1;
        break;
    }
    /* lines that came before an EOF still count (the last events say why) */
    if (handle_lines(mon, events, what) < 0)
        rc = -2;
    if (rc == -1)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED, "%s while waiting for %s",
                        mon->closed_why, what);
    return rc < 0 ? -1 : rc;
}

/* Report why the monitor is closed, for a waiter that did not read it. */
static void report_closed_locked(TvQemuMonitor *mon, const char *what)
{
    tv_error_report(TV_FROM_QEMU, mon->closed_code, "%s while waiting for %s", mon->closed_why,
                    what);
}

typedef bool (*WaitDone)(TvQemuMonitor *mon);

/* Waits until done(mon) (checked under the lock), reading when no one else
 * does.  0, or -1 with the error (timeout, closed). */
static int wait_until(TvQemuMonitor *mon, WaitDone done, gint64 deadline, const char *what)
{
    if (in_callback == mon) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "an event callback of the QEMU monitor waits for %s: it would wait for "
                        "itself",
                        what);
        return -1;
    }
    GThread *self = g_thread_self();
    g_mutex_lock(&mon->lock);
    for (;;) {
        if (done(mon)) {
            g_mutex_unlock(&mon->lock);
            return 0;
        }
        if (mon->closed) {
            /* the reader that saw it reported it already on its own thread */
            report_closed_locked(mon, what);
            g_mutex_unlock(&mon->lock);
            return -1;
        }
        bool other_reads = (mon->io_thread && mon->io_thread != self) || mon->reader;
        if (other_reads) {
            if (!g_cond_wait_until(&mon->cond, &mon->lock, deadline) && !done(mon) &&
                !mon->closed) {
                g_mutex_unlock(&mon->lock);
                tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                                "timed out waiting for %s from QEMU monitor", what);
                return -1;
            }
            continue;
        }
        mon->reader = self;
        g_mutex_unlock(&mon->lock);
        int rc = read_input(mon, deadline, what);
        g_mutex_lock(&mon->lock);
        mon->reader = NULL;
        g_cond_broadcast(&mon->cond);
        if (rc < 0) {
            g_mutex_unlock(&mon->lock);
            return -1;
        }
        /* a replay has nothing more before the next command: no use waiting */
        if (rc == 0 && !done(mon) && (mon->replay || remaining_ms(deadline) == 0)) {
            g_mutex_unlock(&mon->lock);
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                            "timed out waiting for %s from QEMU monitor", what);
            return -1;
        }
    }
}

bool tv_qemu_monitor_is_closed(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    bool closed = mon->closed;
    g_mutex_unlock(&mon->lock);
    return closed;
}

int tv_qemu_monitor_fd(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    int fd = mon->closed ? -1 : mon->rfd;
    g_mutex_unlock(&mon->lock);
    return fd;
}

void tv_qemu_monitor_set_io_thread(TvQemuMonitor *mon, GThread *thread)
{
    g_mutex_lock(&mon->lock);
    mon->io_thread = thread;
    g_cond_broadcast(&mon->cond);
    g_mutex_unlock(&mon->lock);
}

/* Become the reader, or say that another thread is (0).  -1: closed. */
static int take_reader(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    if (mon->closed) {
        g_mutex_unlock(&mon->lock);
        return -1;
    }
    if (mon->reader) {
        g_mutex_unlock(&mon->lock);
        return 0;
    }
    mon->reader = g_thread_self();
    g_mutex_unlock(&mon->lock);
    return 1;
}

static void drop_reader(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    mon->reader = NULL;
    g_cond_broadcast(&mon->cond);
    g_mutex_unlock(&mon->lock);
}

int tv_qemu_monitor_wait_input(TvQemuMonitor *mon, unsigned timeout_ms)
{
    int took = take_reader(mon);
    if (took < 0) {
        g_mutex_lock(&mon->lock);
        report_closed_locked(mon, "events");
        g_mutex_unlock(&mon->lock);
    }
    if (took <= 0)
        return took;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int rc = read_input(mon, timeout_ms ? deadline : 0, "events");
    drop_reader(mon);
    return rc;
}

int tv_qemu_monitor_dispatch(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_wait_input(mon, 0) < 0 ? -1 : 0;
}

/* ---- events ---- */

void tv_qemu_monitor_set_event_callback(TvQemuMonitor *mon, TvQemuMonitorEventFunc cb, void *opaque)
{
    GQueue kept = G_QUEUE_INIT;
    g_mutex_lock(&mon->lock);
    mon->event_cb = cb;
    mon->event_opaque = opaque;
    if (cb) {
        kept = mon->events;
        g_queue_init(&mon->events);
    }
    g_mutex_unlock(&mon->lock);
    deliver_events(mon, &kept);
}

unsigned tv_qemu_monitor_dropped_events(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    unsigned n = mon->dropped;
    g_mutex_unlock(&mon->lock);
    return n;
}

/* ---- commands ---- */

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

/* Replay: the command must be the next one recorded. */
static int replay_send(TvQemuMonitor *mon, json_object *cmd)
{
    g_mutex_lock(&mon->lock);
    guint n = tv_qemu_monitor_script_length(mon->replay);
    const TvQmpScriptEntry *e =
        mon->replay_pos < n ? tv_qemu_monitor_script_entry(mon->replay, mon->replay_pos) : NULL;
    g_autofree char *asked = tv_qmp_to_line(cmd);
    if (!e) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "recording has no more commands, but %s asks %s", mon->replay_who, asked);
        g_mutex_unlock(&mon->lock);
        return -1;
    }
    if (!json_object_equal(e->msg, cmd)) {
        g_autofree char *recorded = tv_qmp_to_line(e->msg);
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "recording has command %u = %s, but %s asks %s", mon->replay_commands + 1,
                        recorded, mon->replay_who, asked);
        g_mutex_unlock(&mon->lock);
        return -1;
    }
    mon->replay_pos++;
    mon->replay_commands++;
    replay_feed_locked(mon);
    g_mutex_unlock(&mon->lock);
    return 0;
}

static bool slot_free(TvQemuMonitor *mon)
{
    return !mon->busy;
}

static bool reply_arrived(TvQemuMonitor *mon)
{
    return mon->reply != NULL;
}

static bool greeting_arrived(TvQemuMonitor *mon)
{
    return mon->greeting != NULL;
}

/* The value of one reply (shared by live and replayed conversations). */
static json_object *reply_value(const char *command, json_object *reply)
{
    json_object *ret = NULL, *err = NULL;
    if (json_object_object_get_ex(reply, "return", &ret))
        return json_object_get(ret);
    if (json_object_object_get_ex(reply, "error", &err)) {
        const char *cls = tv_qmp_str(err, "class"), *desc = tv_qmp_str(err, "desc");
        last_error_class = error_class_from_string(cls);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED, "QEMU command '%s' failed: %s",
                        command, desc ? desc : "(no description)");
        return NULL;
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                    "QEMU reply to '%s' has neither 'return' nor 'error': '%.120s'", command,
                    json_object_to_json_string(reply));
    return NULL;
}

/* pass_fd >= 0: sent with the command's first byte (a replayed conversation
 * has no QEMU to take it). */
static json_object *command_deadline_fd(TvQemuMonitor *mon, const char *command, json_object *args,
                                        gint64 deadline, int pass_fd)
{
    last_error_class = TV_QMP_ERROR_NONE;
    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "execute", json_object_new_string(command));
    if (args)
        json_object_object_add(cmd, "arguments", args);
    g_autofree char *what = g_strdup_printf("the reply to '%s'", command);

    /* one command at a time: QMP answers in order.  The slot is taken under
     * the same lock that saw it free: another thread may take it between
     * wait_until's return and this lock, and two commands in flight would
     * each get the other's reply. */
    for (;;) {
        if (wait_until(mon, slot_free, deadline, what) < 0) {
            json_object_put(cmd);
            return NULL;
        }
        g_mutex_lock(&mon->lock);
        if (mon->closed) {
            report_closed_locked(mon, what);
            g_mutex_unlock(&mon->lock);
            json_object_put(cmd);
            return NULL;
        }
        if (!mon->busy)
            break;
        g_mutex_unlock(&mon->lock);
    }
    mon->busy = true;
    guint64 id = mon->next_id++;
    mon->wait_id = id;
    record_locked(mon, TV_QMP_SCRIPT_COMMAND, cmd);
    g_mutex_unlock(&mon->lock);

    int rc;
    if (mon->replay) {
        rc = replay_send(mon, cmd);
    } else {
        json_object_object_add(cmd, "id", json_object_new_uint64(id));
        g_autofree char *line = tv_qmp_to_line(cmd);
        g_autofree char *text = g_strdup_printf("%s\n", line);
        const char *rest = text;
        rc = 0;
        if (pass_fd >= 0) {
            if (tv_socket_send_fd(mon->wfd, text, pass_fd, 0) != 1) {
                tv_error_report_errno(TV_FROM_QEMU, errno,
                                      "cannot pass a descriptor to QEMU's monitor");
                rc = -1;
            }
            rest++;
        }
        if (rc == 0)
            rc = send_all(mon, rest, strlen(rest), deadline);
        if (rc < 0)
            tv_error_prefix("QEMU command '%s'", command);
    }
    json_object_put(cmd);
    if (rc == 0)
        rc = wait_until(mon, reply_arrived, deadline, what);

    g_mutex_lock(&mon->lock);
    json_object *reply = g_steal_pointer(&mon->reply);
    mon->busy = false;
    g_cond_broadcast(&mon->cond);
    g_mutex_unlock(&mon->lock);
    if (rc < 0) {
        json_object_put(reply);
        return NULL;
    }
    json_object *value = reply_value(command, reply);
    json_object_put(reply);
    return value;
}

static json_object *command_deadline(TvQemuMonitor *mon, const char *command, json_object *args,
                                     gint64 deadline)
{
    return command_deadline_fd(mon, command, args, deadline, -1);
}

json_object *tv_qemu_monitor_command_fd(TvQemuMonitor *mon, const char *command, json_object *args,
                                        int fd)
{
    g_mutex_lock(&mon->lock);
    unsigned timeout = mon->timeout_ms;
    g_mutex_unlock(&mon->lock);
    return command_deadline_fd(mon, command, args, g_get_monotonic_time() + (gint64)timeout * 1000,
                               fd);
}

json_object *tv_qemu_monitor_command(TvQemuMonitor *mon, const char *command, json_object *args)
{
    g_mutex_lock(&mon->lock);
    unsigned timeout = mon->timeout_ms;
    g_mutex_unlock(&mon->lock);
    return command_deadline(mon, command, args, g_get_monotonic_time() + (gint64)timeout * 1000);
}

json_object *tv_qemu_monitor_command_timeout(TvQemuMonitor *mon, const char *command,
                                             json_object *args, unsigned timeout_ms)
{
    return command_deadline(mon, command, args, g_get_monotonic_time() + (gint64)timeout_ms * 1000);
}

int tv_qemu_monitor_command_void(TvQemuMonitor *mon, const char *command, json_object *args)
{
    json_object *r = tv_qemu_monitor_command(mon, command, args);
    if (!r)
        return -1;
    json_object_put(r);
    return 0;
}

int tv_qemu_monitor_handshake(TvQemuMonitor *mon, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    /* events before the greeting are kept: QEMU sends the greeting from its
     * main loop, and one that resumes the machine just then (RESUME without
     * -S) writes its event at once (seen with -machine none) */
    if (wait_until(mon, greeting_arrived, deadline, "the QMP greeting") < 0)
        return -1;
    json_object *ret = command_deadline(mon, "qmp_capabilities", NULL, deadline);
    if (!ret)
        return -1;
    json_object_put(ret);
    return 0;
}

const TvQmpGreeting *tv_qemu_monitor_greeting(TvQemuMonitor *mon)
{
    g_mutex_lock(&mon->lock);
    const TvQmpGreeting *g = mon->greeting;
    g_mutex_unlock(&mon->lock);
    return g;
}
