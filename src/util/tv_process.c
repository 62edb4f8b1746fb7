#include "tv_process.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

int tv_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int tv_pidfd_send_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* "Z" and the command name of /proc/PID/stat: "PID (COMM) STATE ..." */
static bool zombie_named(pid_t pid, const char *comm)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return false;
    const char *open = strchr(stat, '(');
    const char *close = strrchr(stat, ')');
    if (!open || !close || close < open || close[1] != ' ' || close[2] != 'Z')
        return false;
    return (size_t)(close - open - 1) == strlen(comm) && strncmp(open + 1, comm, strlen(comm)) == 0;
}

int tv_process_reap_zombies(const char *comm)
{
    int reaped = 0;
    g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, NULL);
    const char *tid;
    while (tasks && (tid = g_dir_read_name(tasks))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/children", tid);
        g_autofree char *children = NULL;
        if (!g_file_get_contents(path, &children, NULL, NULL))
            continue;
        g_auto(GStrv) pids = g_strsplit(g_strstrip(children), " ", -1);
        for (char **p = pids; *p && **p; p++) {
            pid_t pid = (pid_t)g_ascii_strtoll(*p, NULL, 10);
            if (pid > 0 && zombie_named(pid, comm) && waitpid(pid, NULL, WNOHANG) == pid)
                reaped++;
        }
    }
    return reaped;
}
