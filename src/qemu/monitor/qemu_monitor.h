/* The QMP client: a connection to one QEMU monitor and typed commands.
 *
 * Transport: a pair of fds (the capability probe runs `qemu-system-aarch64
 * ... -qmp stdio` through pipes), a unix socket (a running domain:
 * `-chardev socket,id=mon,path=P,server=on,wait=off -mon chardev=mon,mode=control`)
 * or a recorded conversation (tests, the probe's replay).  All are driven the
 * same way:
 *
 *   g_autoptr(TvQemuMonitor) mon = tv_qemu_monitor_open_unix(path, 3000);
 *   if (!mon || tv_qemu_monitor_handshake(mon, 3000) < 0)
 *       return -1;                               // error already reported
 *   g_auto(TvQmpStatus) st = { 0 };
 *   if (tv_qemu_monitor_query_status(mon, &st) < 0) ...
 *   tv_qemu_monitor_cont(mon);
 *
 * Every command has one function and, when QEMU answers with data, one reply
 * struct (qemu_monitor_commands.h); no JSON leaves this layer.  Events are
 * typed (qemu_monitor_events.h) and go to a callback.
 *
 * Reading never blocks a thread that did not ask for it: a monitor is either
 * driven by the thread that waits for a reply (the probe, a start before its
 * watcher runs), or by one I/O thread that polls tv_qemu_monitor_fd() and
 * calls tv_qemu_monitor_dispatch() when it is readable (the runtime's watcher,
 * see tv_qemu_monitor_set_io_thread()); commands from other threads then wait
 * for their reply on a condition.  One command is outstanding at a time (QMP
 * answers in order): a second caller waits for the first.
 *
 * Every failure is reported with tv_error_report(): a QMP error reply as
 * "QEMU command 'X' failed: <desc>" (TV_ERR_OPERATION_FAILED; its class is
 * kept, see tv_qemu_monitor_error_class()), a timeout as
 * TV_ERR_OPERATION_TIMEOUT, EOF as "QEMU closed the monitor", a reply that
 * is not what the command returns as "QEMU's reply to 'X' ...".
 *
 * Thread-safe; the lock inside is taken last and never held while an event
 * callback runs. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _TvQemuMonitor TvQemuMonitor;

/* Largest reply/event line accepted, and events kept before dropping. */
#define TV_QEMU_MONITOR_LINE_MAX   (16 * 1024 * 1024)
#define TV_QEMU_MONITOR_EVENTS_MAX 1024
/* Per-command timeout until tv_qemu_monitor_set_timeout() says otherwise. */
#define TV_QEMU_MONITOR_TIMEOUT_DEFAULT 5000

/* QEMU's error classes (QapiErrorClass); NONE: the failure was not an error
 * reply (timeout, EOF, garbage, or no failure). */
typedef enum {
    TV_QMP_ERROR_NONE = 0,
    TV_QMP_ERROR_GENERIC,
    TV_QMP_ERROR_COMMAND_NOT_FOUND,
    TV_QMP_ERROR_DEVICE_NOT_ACTIVE,
    TV_QMP_ERROR_DEVICE_NOT_FOUND,
    TV_QMP_ERROR_KVM_MISSING_CAP,
    TV_QMP_ERROR_LAST
} TvQmpErrorClass;
const char *tv_qmp_error_class_to_string(TvQmpErrorClass cls);

/* Takes ownership of both fds (they may be equal, e.g. a socket). */
TvQemuMonitor *tv_qemu_monitor_open_fds(int read_fd, int write_fd);
/* Connects, retrying while the socket does not exist yet, until timeout_ms. */
TvQemuMonitor *tv_qemu_monitor_open_unix(const char *path, unsigned timeout_ms);

/* A recorded conversation (qemu_monitor_replay.c): greeting, commands with
 * their replies, and events, in the order QEMU sent them. */
typedef struct _TvQemuMonitorScript TvQemuMonitorScript;
TvQemuMonitorScript *tv_qemu_monitor_script_new(void);
void tv_qemu_monitor_script_free(TvQemuMonitorScript *script);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuMonitorScript, tv_qemu_monitor_script_free)
/* Adds one section of a recording file: kind "greeting", "command", "reply"
 * or "event", body one JSON object; errors name the line. */
int tv_qemu_monitor_script_add(TvQemuMonitorScript *script, const char *kind, const char *body,
                               unsigned lineno);
/* A reply cannot be the last section added: 0, or -1 with an error. */
int tv_qemu_monitor_script_check(const TvQemuMonitorScript *script);
/* Appends the sections in the recording file's form ("@kind\n<JSON>\n"). */
void tv_qemu_monitor_script_format(const TvQemuMonitorScript *script, GString *out);
bool tv_qemu_monitor_script_has_greeting(const TvQemuMonitorScript *script);
/* Several named conversations in one file ("@session NAME" before each),
 * e.g. tests/qemumonitordata/: returns name -> script (owned). */
GHashTable *tv_qemu_monitor_sessions_parse(const char *text, size_t len);
/* The text of such a file: comment lines ("# ..."), then each session. */
char *tv_qemu_monitor_sessions_format(const char *comment, const char *const *names,
                                      TvQemuMonitorScript *const *scripts, size_t n);

/* Replays script (borrowed; must outlive the monitor): each command sent must
 * be the next recorded one (else "recording has command N = X, but <who>
 * asks Y"); what QEMU sent after it (reply, events) is then read as if from
 * QEMU.  Waiting for more than was recorded before the next command times
 * out at once; past the end of the script the monitor is closed (EOF). */
TvQemuMonitor *tv_qemu_monitor_open_replay(const TvQemuMonitorScript *script, const char *who);
/* Replay only: -1 with an error naming the first recorded command not asked. */
int tv_qemu_monitor_replay_check_done(TvQemuMonitor *mon);

/* Records the conversation into script (borrowed, until the monitor is
 * freed or recording is set again): greeting, commands as sent (without
 * their id), replies, and with events also events. */
void tv_qemu_monitor_record(TvQemuMonitor *mon, TvQemuMonitorScript *script, bool events);

TvQemuMonitor *tv_qemu_monitor_ref(TvQemuMonitor *mon);
/* Drops a reference; the last one closes the fds. */
void tv_qemu_monitor_free(TvQemuMonitor *mon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuMonitor, tv_qemu_monitor_free)
/* No more I/O: a command waiting for its reply fails with "closed". */
void tv_qemu_monitor_close(TvQemuMonitor *mon);

/* Timeout of each later command (default TV_QEMU_MONITOR_TIMEOUT_DEFAULT). */
void tv_qemu_monitor_set_timeout(TvQemuMonitor *mon, unsigned timeout_ms);

/* Reads the greeting ({"QMP": {"version": ...}}) and negotiates with
 * qmp_capabilities.  timeout_ms covers both. */
int tv_qemu_monitor_handshake(TvQemuMonitor *mon, unsigned timeout_ms);

typedef struct {
    unsigned major, minor, micro;
    char *package; /* as QEMU says it, e.g. "Debian 1:10.0.13+ds-0+deb13u1" */
    bool oob;      /* the "oob" capability is offered */
} TvQmpGreeting;
/* The greeting, or NULL before the handshake (owned by the monitor). */
const TvQmpGreeting *tv_qemu_monitor_greeting(TvQemuMonitor *mon);

/* Class of the last failed command of the calling thread (any monitor);
 * NONE when it did not fail with an error reply.  Reset by each command. */
TvQmpErrorClass tv_qemu_monitor_error_class(void);

/* ---- events and non-blocking reads ---- */

typedef struct _TvQemuEvent TvQemuEvent;
/* Called for every event, in order, on the thread that read it, with no lock
 * of the monitor held.  It must not wait for mon (a command on it fails with
 * an internal error): hand such work to another thread. */
typedef void (*TvQemuMonitorEventFunc)(TvQemuMonitor *mon, const TvQemuEvent *event, void *opaque);
/* Events read before a callback is set are kept (at most
 * TV_QEMU_MONITOR_EVENTS_MAX, the oldest are dropped) and given to it here,
 * on the calling thread. */
void tv_qemu_monitor_set_event_callback(TvQemuMonitor *mon, TvQemuMonitorEventFunc cb,
                                        void *opaque);
/* Events dropped because none took them. */
unsigned tv_qemu_monitor_dropped_events(TvQemuMonitor *mon);

/* EOF, a protocol error or tv_qemu_monitor_close() happened. */
bool tv_qemu_monitor_is_closed(TvQemuMonitor *mon);
/* The fd to poll for input (-1 for a replay or once closed). */
int tv_qemu_monitor_fd(TvQemuMonitor *mon);
/* From now on only thread reads (NULL: whichever thread waits reads). */
void tv_qemu_monitor_set_io_thread(TvQemuMonitor *mon, GThread *thread);
/* Reads what is there without waiting: replies go to the command waiting for
 * them, events to the callback.  0, or -1 when the monitor is closed (EOF, a
 * protocol error: reported) or already was. */
int tv_qemu_monitor_dispatch(TvQemuMonitor *mon);
/* Waits up to timeout_ms for input and dispatches it: 1 when something was
 * read, 0 on timeout, -1 when closed (reported). */
int tv_qemu_monitor_wait_input(TvQemuMonitor *mon, unsigned timeout_ms);

#include "qemu_monitor_commands.h"
#include "qemu_monitor_events.h"
