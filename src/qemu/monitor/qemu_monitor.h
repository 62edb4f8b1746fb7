/* A small synchronous QMP client.
 *
 * Transport: either a pair of fds (the capability probe runs
 * `qemu-system-aarch64 ... -qmp stdio` through pipes) or a unix socket (a
 * running domain: `-chardev socket,id=mon,path=P,server=on,wait=off
 * -mon chardev=mon,mode=control`).  Both are driven the same way:
 *
 *   g_autoptr(TvQemuMonitor) mon = tv_qemu_monitor_open_unix(path, 3000);
 *   if (!mon || tv_qemu_monitor_handshake(mon, 3000) < 0)
 *       return -1;                        // error already reported
 *   json_object *st = tv_qemu_monitor_execute(mon, "query-status", NULL, 3000);
 *   ... json_object_put(st);
 *   tv_qemu_monitor_execute(mon, "cont", NULL, 3000);             // {} reply
 *   tv_qemu_monitor_execute(mon, "system_powerdown", NULL, 3000);
 *   json_object *ev = NULL;
 *   tv_qemu_monitor_wait_event(mon, "SHUTDOWN", 10000, &ev);      // or STOP/RESUME
 *
 * One command is outstanding at a time (QMP answers in order); asynchronous
 * events that arrive meanwhile are queued (bounded: the oldest are dropped)
 * and can be taken with tv_qemu_monitor_next_event() or waited for by name.
 * Replies and events are bounded in size: a longer line is a protocol error.
 * Every failure is reported with tv_error_report(): a QMP error reply as
 * "QEMU command 'X' failed: <desc>" (TV_ERR_OPERATION_FAILED; the class is
 * kept for tv_qemu_monitor_last_error_class()), a timeout as
 * TV_ERR_OPERATION_TIMEOUT, EOF as "QEMU closed the monitor".
 *
 * Not thread-safe: one thread drives a monitor. */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stdbool.h>

typedef struct _TvQemuMonitor TvQemuMonitor;

/* Largest reply/event line accepted, and events kept before dropping. */
#define TV_QEMU_MONITOR_LINE_MAX   (16 * 1024 * 1024)
#define TV_QEMU_MONITOR_EVENTS_MAX 1024

/* Takes ownership of both fds (they may be equal, e.g. a socket). */
TvQemuMonitor *tv_qemu_monitor_open_fds(int read_fd, int write_fd);
/* Connects, retrying while the socket does not exist yet, until timeout_ms. */
TvQemuMonitor *tv_qemu_monitor_open_unix(const char *path, unsigned timeout_ms);
void tv_qemu_monitor_free(TvQemuMonitor *mon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuMonitor, tv_qemu_monitor_free)

/* Reads the greeting ({"QMP": {"version": ...}}) and negotiates with
 * qmp_capabilities.  timeout_ms covers both. */
int tv_qemu_monitor_handshake(TvQemuMonitor *mon, unsigned timeout_ms);
/* The greeting's "QMP" object (borrowed), or NULL before the handshake. */
json_object *tv_qemu_monitor_greeting(TvQemuMonitor *mon);

/* Runs one command; args (may be NULL) is consumed.  Returns the "return"
 * value (a new reference; {} for commands without data) or NULL with an
 * error reported. */
json_object *tv_qemu_monitor_execute(TvQemuMonitor *mon, const char *command, json_object *args,
                                     unsigned timeout_ms);
/* Class of the last QMP error reply ("CommandNotFound", "GenericError"), or
 * NULL when the last failure was not an error reply. */
const char *tv_qemu_monitor_last_error_class(TvQemuMonitor *mon);

/* The oldest queued event (a new reference: {"event","data","timestamp"}), or
 * NULL when none is queued.  Does not read. */
json_object *tv_qemu_monitor_next_event(TvQemuMonitor *mon);
/* Waits until an event named name arrives (queued ones first; others stay
 * queued).  *event gets a new reference when event is not NULL. */
int tv_qemu_monitor_wait_event(TvQemuMonitor *mon, const char *name, unsigned timeout_ms,
                               json_object **event);
/* Events dropped because the queue was full. */
unsigned tv_qemu_monitor_dropped_events(TvQemuMonitor *mon);

/* The fd to poll for input (a later main-loop integration). */
int tv_qemu_monitor_read_fd(TvQemuMonitor *mon);

/* Observes the conversation (recordings): kind is "greeting", "command" (as
 * sent, without the id) or "reply" (without the id); events are not passed. */
typedef void (*TvQemuMonitorRecordFunc)(void *opaque, const char *kind, json_object *msg);
void tv_qemu_monitor_set_recorder(TvQemuMonitor *mon, TvQemuMonitorRecordFunc func, void *opaque);

/* Interprets one reply object (shared by live and replayed conversations):
 * returns the "return" value (new reference) or NULL with the error reported;
 * *err_class gets the class of an error reply (borrowed from reply). */
json_object *tv_qemu_monitor_reply_value(const char *command, json_object *reply,
                                         const char **err_class);
