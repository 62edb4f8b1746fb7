/* Finding a domain's QEMU processes without their pid (a start interrupted
 * before the status file had it, an unreadable status file) by their command
 * line, and ending one that nobody manages. */
#include "qemu_process_priv.h"
#include "qemu_status.h"
#include "tv_error.h"
#include "tv_process.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CMDLINE_MAX (256 * 1024)
/* SIGTERM lets QEMU flush its disks; SIGKILL follows when it did not go. */
#define KILL_TERM_WAIT_MS 1000
#define KILL_WAIT_MS      10000

/* The inodes of the unix sockets bound at path (/proc/net/unix: "Num
 * RefCount Protocol Flags Type St Inode Path"), whether the path is still
 * there or not: the monitor socket of each start of the domain. */
static GHashTable *sockets_bound_at(const char *path)
{
    GHashTable *inodes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_autofree char *table = NULL;
    if (!g_file_get_contents("/proc/net/unix", &table, NULL, NULL))
        return inodes;
    g_auto(GStrv) lines = g_strsplit(table, "\n", -1);
    for (size_t i = 1; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(lines[i], " ", -1);
        /* fields are separated by single spaces; the path is the rest */
        guint n = 0, k = 0;
        const char *fields[7] = { 0 };
        for (; f[k] && n < 7; k++) {
            if (*f[k])
                fields[n++] = f[k];
        }
        if (n < 7 || !f[k])
            continue;
        g_autofree char *bound = g_strjoinv(" ", f + k);
        if (strcmp(bound, path) != 0)
            continue;
        gint64 *inode = g_new(gint64, 1);
        *inode = g_ascii_strtoll(fields[6], NULL, 10);
        g_hash_table_add(inodes, inode);
    }
    return inodes;
}

/* Does pid hold one of these sockets (listening on it, or connected)? */
static bool holds_socket(pid_t pid, GHashTable *inodes)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) fds = g_dir_open(dir, 0, NULL);
    const char *entry;
    while (fds && (entry = g_dir_read_name(fds))) {
        g_autofree char *link = g_build_filename(dir, entry, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        gint64 inode = 0;
        if (target && sscanf(target, "socket:[%" G_GINT64_FORMAT "]", &inode) == 1 &&
            g_hash_table_contains(inodes, &inode))
            return true;
    }
    return false;
}

GArray *tv_qemu_process_find(const char *name, const char *monitor_path)
{
    GArray *found = g_array_new(FALSE, FALSE, sizeof(TvQemuFound));
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    g_autoptr(GHashTable) sockets = NULL;
    const char *entry;
    pid_t self = getpid();
    while (proc && (entry = g_dir_read_name(proc))) {
        if (!g_ascii_isdigit(entry[0]))
            continue;
        pid_t pid = (pid_t)atoi(entry);
        if (pid == self)
            continue;
        g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", entry);
        g_autofree char *cmdline = NULL;
        gsize len = 0;
        if (!g_file_get_contents(path, &cmdline, &len, NULL) || len == 0 || len > CMDLINE_MAX ||
            !tv_qemu_cmdline_names_guest(cmdline, len, name))
            continue;
        /* ours (this state directory), not a namesake of another manager:
         * its monitor is our socket, given as a path or passed as an fd */
        if (!tv_qemu_cmdline_has_monitor(cmdline, len, monitor_path)) {
            if (!sockets)
                sockets = sockets_bound_at(monitor_path);
            if (!holds_socket(pid, sockets))
                continue;
        }
        TvQemuFound f = { .pid = pid };
        char state = 0;
        if (tv_qemu_proc_stat(pid, &f.start_time, &state, NULL) < 0 || state == 'Z' || state == 'X')
            continue; /* gone meanwhile, or only waiting to be reaped */
        g_array_append_val(found, f);
    }
    return found;
}

/* Wait until the process of pidfd has exited; false after timeout_ms. */
static bool wait_gone(int pidfd, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        int rc = poll(&p, 1, (int)MAX(left, 0));
        if (rc > 0)
            return true;
        if (rc == 0)
            return false;
        if (errno != EINTR)
            return false;
    }
}

int tv_qemu_process_kill_found(const TvQemuFound *f, bool graceful)
{
    int fd = tv_pidfd_open(f->pid);
    if (fd < 0) {
        if (errno == ESRCH)
            return 0; /* gone */
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot open QEMU process %d", (int)f->pid);
        return -1;
    }
    /* with the pidfd held the pid cannot be reused: is it still that QEMU? */
    unsigned long long start = 0;
    char state = 0;
    pid_t ppid = 0;
    if (tv_qemu_proc_stat(f->pid, &start, &state, &ppid) < 0 || start != f->start_time ||
        state == 'Z' || state == 'X') {
        close(fd);
        return 0;
    }
    bool gone = false;
    if (graceful && tv_pidfd_send_signal(fd, SIGTERM) == 0)
        gone = wait_gone(fd, KILL_TERM_WAIT_MS);
    if (!gone) {
        if (tv_pidfd_send_signal(fd, SIGKILL) < 0 && errno != ESRCH) {
            int err = errno;
            close(fd);
            tv_error_report_errno(TV_FROM_QEMU, err, "cannot kill QEMU process %d", (int)f->pid);
            return -1;
        }
        if (getpgid(f->pid) == f->pid)
            kill(-f->pid, SIGKILL); /* its helpers, in its process group */
        gone = wait_gone(fd, KILL_WAIT_MS);
    }
    close(fd);
    if (gone && ppid == getpid()) { /* re-parented to us (child subreaper): reap it */
        while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        tv_qemu_process_reap_group(f->pid);
    }
    if (!gone) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                        "QEMU process %d did not die within %d ms of SIGKILL", (int)f->pid,
                        KILL_WAIT_MS);
        return -1;
    }
    return 0;
}

char *tv_qemu_found_list(GArray *found)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < found->len; i++)
        g_string_append_printf(out, "%s%d", i ? ", " : "",
                               (int)g_array_index(found, TvQemuFound, i).pid);
    return g_string_free(out, FALSE);
}
