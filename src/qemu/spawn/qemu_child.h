/* A short-lived QEMU child (capability probes): spawned with pipes in its own
 * process group, watched through a pidfd, killed (the whole group, so a
 * wrapper script's children go too) and reaped by us, never left behind. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <spawn.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;  /* also the process group id; 0 when not running */
    int pidfd;  /* readable when the child exits; -1 after reaping */
    int in_fd;  /* write end of the child's stdin, or -1 */
    int out_fd; /* read end of stdout, or -1 after EOF */
    int err_fd; /* read end of stderr, or -1 after EOF */
    GString *out;
    GString *err;
    size_t max_output; /* bytes kept per stream; more is dropped */
    bool reaped;
    int status;                   /* waitpid status once reaped */
    struct _TvQemuZygote *zygote; /* forked by the fork server, which reaps it (qemu_zygote.h) */
} TvQemuChild;

/* The manager's environment for a QEMU child (a GStrv): the entries that do
 * not start with one of drop, then extra (both NULL-terminated, may be NULL),
 * plus malloc on transparent huge pages unless the user set glibc tunables:
 * QEMU's start-up is mostly page faults (docs/performance.md). */
char **tv_qemu_child_environ(const char *const *drop, const char *const *extra);

/* posix_spawn attributes for a QEMU child: its own process group, an empty
 * signal mask and default dispositions (whatever the manager had). */
void tv_qemu_child_spawnattr_setup(posix_spawnattr_t *attr);

/* Checks that argv[0] exists and is an executable file first, so the error
 * says which.  want_stdin: a pipe to stdin (else /dev/null).  Output fds are
 * non-blocking. */
int tv_qemu_child_spawn(TvQemuChild *child, const char *const *argv, bool want_stdin);

/* Read what is available on out_fd/err_fd (non-blocking); at EOF the fd is
 * closed and set to -1. */
void tv_qemu_child_drain(TvQemuChild *child);

/* The child has exited (pidfd readable): kill what is left of its group, reap
 * it and read the rest of its output.  Never blocks for long. */
void tv_qemu_child_reap(TvQemuChild *child);

/* Poll the child's output and pidfd until it exits or deadline (monotonic
 * µs) passes; returns 0 when reaped, -1 on timeout (child still running). */
int tv_qemu_child_wait(TvQemuChild *child, gint64 deadline);

/* SIGKILL the group and reap. */
void tv_qemu_child_kill(TvQemuChild *child);

/* Kill if still running, close fds, free buffers. */
void tv_qemu_child_clear(TvQemuChild *child);

/* "exited with status 1", "was killed by signal 11 (Segmentation fault)" */
char *tv_qemu_child_describe_status(int status);

/* First line of stderr with QEMU's "<program>: " prefix removed, or NULL. */
char *tv_qemu_child_first_error(const TvQemuChild *child);
