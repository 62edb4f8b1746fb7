/* Internals of the monitor layer (qemu_monitor*.c): the JSON side that does
 * not leave it. */
#pragma once

#include "qemu_monitor.h"

#include <json-c/json.h>

/* Runs one command; args (may be NULL) is consumed.  Returns the "return"
 * value (a new reference; {} for commands without data) or NULL with an
 * error reported. */
json_object *tv_qemu_monitor_command(TvQemuMonitor *mon, const char *command, json_object *args);
/* The same with its own timeout instead of the monitor's. */
json_object *tv_qemu_monitor_command_timeout(TvQemuMonitor *mon, const char *command,
                                             json_object *args, unsigned timeout_ms);
/* A command whose reply must be an object (else an error). */
json_object *tv_qemu_monitor_command_object(TvQemuMonitor *mon, const char *command,
                                            json_object *args);
/* A command whose reply carries nothing of interest. */
int tv_qemu_monitor_command_void(TvQemuMonitor *mon, const char *command, json_object *args);
/* Like tv_qemu_monitor_command, with fd passed along (SCM_RIGHTS; the caller
 * keeps its copy): for getfd. */
json_object *tv_qemu_monitor_command_fd(TvQemuMonitor *mon, const char *command, json_object *args,
                                        int fd);

/* Reading replies: each helper reports "QEMU's reply to 'COMMAND' ..." when
 * a required member is missing or has another type. */
int tv_qmp_expect(json_object *v, json_type type, const char *command, const char *what);
/* Optional members: NULL / false / dflt when absent or of another type. */
const char *tv_qmp_str(json_object *obj, const char *key);
bool tv_qmp_bool(json_object *obj, const char *key);
gint64 tv_qmp_int(json_object *obj, const char *key, gint64 dflt);
/* Required members: -1 with the error when absent or of another type. */
int tv_qmp_need_str(json_object *obj, const char *key, const char *command, char **out);
int tv_qmp_need_int(json_object *obj, const char *key, const char *command, gint64 *out);
/* A command whose reply is a list: each entry through parse into an array
 * of item_size elements (*items, *n).  On failure *n counts the entries
 * parsed (an item that failed must leave nothing to free): the caller
 * clears the list. */
typedef int (*TvQmpItemParser)(json_object *entry, const char *command, void *item);
int tv_qmp_command_items(TvQemuMonitor *mon, const char *command, json_object *args,
                         size_t item_size, TvQmpItemParser parse, void **items, size_t *n);
/* Index of name in a string table of n entries whose entry 0 is the
 * "unknown" value (returned when name is not there). */
int tv_qmp_enum_lookup(const char *const *table, int n, const char *name);
/* {key: value} (a new object), for the common one-argument commands. */
json_object *tv_qmp_args_str(const char *key, const char *value);

/* qemu_monitor_events.c: a typed event from {"event", "data", "timestamp"}. */
TvQemuEvent *tv_qemu_event_from_json(json_object *msg);

/* qemu_monitor_replay.c: the script's entries, for the replay transport and
 * the recorder. */
typedef enum {
    TV_QMP_SCRIPT_GREETING,
    TV_QMP_SCRIPT_COMMAND,
    TV_QMP_SCRIPT_REPLY,
    TV_QMP_SCRIPT_EVENT,
} TvQmpScriptKind;
typedef struct {
    TvQmpScriptKind kind;
    json_object *msg;
} TvQmpScriptEntry;
guint tv_qemu_monitor_script_length(const TvQemuMonitorScript *script);
const TvQmpScriptEntry *tv_qemu_monitor_script_entry(const TvQemuMonitorScript *script, guint i);
/* Appends a copy of msg. */
void tv_qemu_monitor_script_append(TvQemuMonitorScript *script, TvQmpScriptKind kind,
                                   json_object *msg);
/* One line of plain JSON (new string). */
char *tv_qmp_to_line(json_object *obj);
