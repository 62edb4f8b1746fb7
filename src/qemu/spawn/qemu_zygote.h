/* A fork server for the capability probe: one QEMU process, preloaded with
 * tagvirt-zygote.so, that forks a fresh-looking QEMU per request after its
 * dynamic linking and constructors are done (docs/performance.md,
 * "Capabilities probe").  Anything unusual (static or non-glibc binary, no
 * preload library, a wrapper that does not end in QEMU) makes it unusable and
 * callers silently use the plain spawn. */
#pragma once

#include "qemu_child.h"

typedef struct _TvQemuZygote TvQemuZygote;

/* False when TAGVIRT_PROBE_ZYGOTE=0 is set in the environment. */
bool tv_qemu_zygote_enabled(void);

/* Start the server for binary; returns at once (the handshake is awaited by
 * the first spawn).  NULL, with no error reported, when it cannot start. */
TvQemuZygote *tv_qemu_zygote_start(const char *binary);

/* Wait for the handshake; false if the server is not (or no longer) usable. */
bool tv_qemu_zygote_ready(TvQemuZygote *z);

/* Like tv_qemu_child_spawn(), through the server when it is ready (argv[0]
 * must be its binary), else the plain way.  Thread-safe. */
int tv_qemu_zygote_spawn(TvQemuZygote *z, TvQemuChild *child, const char *const *argv,
                         bool want_stdin);

/* A domain's QEMU through the server: argv (argv[0] its binary), exactly
 * this environment, fds as its stdin/stdout/stderr and nothing else; it gets
 * its own process group, is a child of the caller (which must be a child
 * subreaper: the server forks twice), and has no parent-death signal.
 * 0 with *pid set; 1 when the server cannot (not ready, gone, other binary,
 * refused): nothing was started then, spawn it the plain way. */
int tv_qemu_zygote_spawn_guest(TvQemuZygote *z, const char *const *argv, const char *const *envp,
                               const int fds[3], pid_t *pid);

/* The server failed a handshake or a request: it will not serve again.
 * *never_ready (optional): it ended by itself before its handshake (the
 * binary cannot host it: a wrapper script, static, not QEMU), as opposed to
 * dying by a signal or after serving. */
bool tv_qemu_zygote_broken(TvQemuZygote *z, bool *never_ready);

/* Wait status of a child the server forked (called by tv_qemu_child_reap
 * after it killed the child's group); SIGKILL's status if the server is gone. */
int tv_qemu_zygote_reap(TvQemuZygote *z, pid_t pid);

/* The server's pid (tests). */
pid_t tv_qemu_zygote_pid(const TvQemuZygote *z);

/* Stop the server and reap it. */
void tv_qemu_zygote_free(TvQemuZygote *z);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuZygote, tv_qemu_zygote_free)
