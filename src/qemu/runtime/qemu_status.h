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
 * Written atomically for readers (tv_file_write_volatile), so a reader sees
 * the old or the new file, never half of one; not fsync'd, since after a
 * crash of the machine the QEMU is gone too (an unreadable file then is
 * stale and removed like any other). */
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

/* Field 22 of /proc/PID/stat and its state letter; -1 when unreadable. */
int tv_qemu_proc_stat(pid_t pid, unsigned long long *start_time, char *state, pid_t *ppid);
