/* The status file of a running domain (STATE_DIR/<name>.xml): what a
 * restarted manager needs to take QEMU over again.
 *
 *   <domstatus state='running' reason='booted' pid='1234' starttime='567890'
 *              monitor='/run/tagvirt/d.monitor' log='/var/log/tagvirt/d.log'>
 *     <fingerprint path='/usr/bin/qemu-system-aarch64' size='..' mtime='..' ctime='..'
 *                  tagvirt='0.1.0' kernel='6.1.0' kvm='no'/>
 *     <console port='0' path='/dev/pts/3'/>
 *     <domain type='qemu' id='1'> ... STATUS format: resolved MTE level + ABI ... </domain>
 *   </domstatus>
 *
 * Written with tv_file_write_atomic (flushed, renamed, folder flushed): a
 * reader sees the old or the new file, never half of one.
 *
 * A start writes the file before it spawns QEMU, with state 'paused', reason
 * 'starting up' and pid 0 (tv_qemu_status_is_start), so a manager killed
 * before the start finished knows to look for that QEMU; the file gets the
 * pid and the real state once QMP answered, before the guest runs. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    int state;  /* TvDomainState */
    int reason; /* the state's reason number */
    pid_t pid;
    unsigned long long start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
    char *monitor_path;
    char *log_path;
    TvQemuCapsFingerprint fingerprint; /* of the emulator the domain was started with */
    char *console_path;                /* serial 0's pty, or NULL */
    TvDomainDef *def;                  /* the live definition */
} TvQemuStatus;

void tv_qemu_status_free(TvQemuStatus *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuStatus, tv_qemu_status_free)

/* The largest status file or persistent definition tagvirt writes, and the
 * largest it reads: one limit for the writers and the loaders, so that what
 * was accepted is always read back. */
#define TV_QEMU_STATE_FILE_MAX (4 * 1024 * 1024)
/* What a status file holds beside its domain (the <domstatus>, <fingerprint>
 * and <console> lines with their paths) and what a start adds to a
 * definition (the resolved MTE level and register fields, the id). */
#define TV_QEMU_STATUS_RESERVE (64 * 1024)

/* Will def, stored as a persistent definition and as a running domain's
 * status file, fit TV_QEMU_STATE_FILE_MAX?  Formats it as both files hold
 * it; CONFIG_UNSUPPORTED with the sizes when not.  Define and create call
 * it, so nothing accepted is lost at the next load. */
int tv_qemu_state_check_def(const TvDomainDef *def);
/* len > TV_QEMU_STATE_FILE_MAX: an error naming what ("status file 'x'"). */
int tv_qemu_state_check_len(const char *what, size_t len);

/* Is this the record of a start in progress (QEMU maybe not yet spawned,
 * pid 0 or not yet answering QMP)? */
bool tv_qemu_status_is_start(const TvQemuStatus *st);

char *tv_qemu_status_format(const TvQemuStatus *st);
TvQemuStatus *tv_qemu_status_parse(const char *xml, size_t len);
int tv_qemu_status_write(const char *path, const TvQemuStatus *st);
TvQemuStatus *tv_qemu_status_read(const char *path);

typedef enum {
    TV_QEMU_STATUS_PID_ALIVE = 0, /* the same QEMU is still there */
    TV_QEMU_STATUS_PID_GONE,      /* no such process (or only a zombie) */
    TV_QEMU_STATUS_PID_OTHER,     /* the pid now belongs to another program */
} TvQemuStatusPid;

/* Is the process the status file names still that domain's QEMU?  Checks
 * /proc/PID/stat (start time, zombie) and /proc/PID/cmdline ("-name
 * guest=<name>,").  *why (optional) gets a sentence for messages. */
TvQemuStatusPid tv_qemu_status_check_pid(const TvQemuStatus *st, char **why);

/* QEMU command lines (/proc/PID/cmdline: NUL-separated arguments): does it
 * hold "-name guest=<name>,...", and a -chardev with "path=<monitor_path>"? */
bool tv_qemu_cmdline_names_guest(const char *cmdline, size_t len, const char *name);
bool tv_qemu_cmdline_has_monitor(const char *cmdline, size_t len, const char *monitor_path);

/* Field 22 of /proc/PID/stat and its state letter; -1 when unreadable. */
int tv_qemu_proc_stat(pid_t pid, unsigned long long *start_time, char *state, pid_t *ppid);
