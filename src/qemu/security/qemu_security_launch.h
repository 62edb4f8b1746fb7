/* Starting a QEMU confined as a TvQemuSecurity says: fork, then in the child
 * its own session (setsid: a terminal's or the manager's hang-up does not
 * reach it), default signal dispositions, an optional private mount
 * namespace with a minimal /dev, the AppArmor exec label, the user's groups,
 * group and user, a check that it can open the files it needs, and exec.
 * Every step that fails is reported to the parent through a pipe, so the
 * error names the step, the file and the user instead of a QEMU that died. */
#pragma once

#include "qemu_security.h"

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    const char *path;
    bool write; /* QEMU opens it read-write */
    bool dir;   /* a folder QEMU shares (<filesystem>): labelled like a file */
} TvQemuLaunchFile;

#define TV_QEMU_LAUNCH_EXTRA_FDS_MAX 32

typedef struct {
    const char *const *argv; /* argv[0] is executed */
    const char *const *envp;
    int stdin_fd;  /* -1: /dev/null */
    int stdout_fd; /* -1: /dev/null */
    int stderr_fd; /* -1: /dev/null */
    int pass_fd;   /* dup'd to fd 3 in QEMU (the monitor's listening socket), or -1 */
    /* more descriptors for QEMU (channels' listening sockets), dup'd to 4, 5, ...;
     * only with pass_fd; at most TV_QEMU_LAUNCH_EXTRA_FDS_MAX */
    const int *extra_fds;
    size_t nextra_fds;
    /* files QEMU opens by path, checked as its user before the exec; device
     * nodes among them are also made in the private /dev */
    const TvQemuLaunchFile *files;
    size_t nfiles;
    const char *apparmor_label; /* exec label, or NULL */
    /* an existing folder the private /dev is assembled on before it is
     * moved over /dev (only inside the new namespace; e.g. the state dir) */
    const char *staging_dir;
} TvQemuLaunch;

/* 0 and the child's pid (its own session and process group), or -1 with a
 * tv_error; nothing is left running on failure. */
int tv_qemu_security_launch(const TvQemuSecurity *sec, const TvQemuLaunch *launch, pid_t *pid);
