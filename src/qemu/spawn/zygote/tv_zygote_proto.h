/* The wire format between the probe (qemu_zygote.c) and the preloaded fork
 * server (tagvirt-zygote.c), over a SOCK_SEQPACKET socketpair.  Both ends are
 * built from one tree, so there is no versioning beyond the magic. */
#pragma once

#include <stdint.h>

#define TV_ZYGOTE_MAGIC   0x5456597aU /* "TVYz" */
#define TV_ZYGOTE_ENV_FD  "TAGVIRT_ZYGOTE_FD"
#define TV_ZYGOTE_ENV_EXE "TAGVIRT_ZYGOTE_EXE" /* the binary the probe named */
/* the LD_PRELOAD the probe had, restored in QEMU ("" when there was none) */
#define TV_ZYGOTE_ENV_PRELOAD "TAGVIRT_ZYGOTE_PRELOAD"
#define TV_ZYGOTE_MAX_ARGS    65536 /* bytes of NUL-terminated argv per request */
#define TV_ZYGOTE_READY       0x7e4d59

enum {
    TV_ZYGOTE_REPLY = 1, /* value: READY once, then a pid/wait status or -errno */
    TV_ZYGOTE_SPAWN = 2, /* payload: argv, NUL-terminated strings; fds: stdin, stdout, stderr */
    TV_ZYGOTE_REAP = 3,  /* value: pid; reply: its wait status after waitpid() */
    /* A domain's QEMU (qemu_process_spawn.c): value: argc; payload: argc
     * argv strings, then the environment's strings, each NUL-terminated; fds:
     * stdin, stdout, stderr, and one end of a socket pair on which the child
     * waits for one byte before it runs QEMU (EOF: it exits), so that nothing
     * runs that the manager does not know.  The child is forked twice so that
     * it becomes a child of the nearest subreaper (tagvirtd); it gets its own
     * process group, no parent-death signal, only fds 0-2, and the request's
     * argv and environment, in /proc/PID/cmdline and /proc/PID/environ too.
     * Reply: its pid, or -errno (nothing is left running). */
    TV_ZYGOTE_SPAWN_GUEST = 4,
};

typedef struct {
    uint32_t magic;
    uint32_t op;
    int32_t value;
    uint32_t pad;
} TvZygoteMsg;
