/* Scripted QMP sessions with a real QEMU and a real guest: the same code
 * records them (qemucapsrecord --qmp-sessions, against a live QEMU) and
 * replays them (qemumonitortest, against tests/qemumonitordata/), so every
 * typed command and event is parsed from what a real QEMU sent.
 *
 * Sessions:
 *   run             demo-loop.elf started with -S: status, chardevs, cont,
 *                   stop, power button, reset, two error replies, quit
 *   guest-shutdown  demo.elf runs its tests and powers off (PSCI): SHUTDOWN
 *                   from the guest, then EOF */
#pragma once

#include "qemu_monitor.h"

#include <glib.h>

typedef struct {
    GPtrArray *events; /* TvQemuEvent *, in the order QEMU sent them */
    TvQmpStatus prelaunch, running, paused;
    char *pty; /* serial 0 ("charserial0") */
    size_t nchardevs;
    /* error replies: the class and message of each */
    TvQmpErrorClass no_command_class;
    char *no_command_error;
    TvQmpErrorClass no_type_class;
    char *no_type_error;
    bool eof; /* the session ended with QEMU closing the monitor */
} TvMonSession;

void tv_mon_session_clear(TvMonSession *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvMonSession, tv_mon_session_clear)

/* The session names, NULL-terminated. */
extern const char *const tv_mon_session_names[];

/* QEMU's arguments for a session (after the binary): firmware_dir holds the
 * demo guests, sock is the monitor socket to create. */
GPtrArray *tv_mon_session_argv(const char *name, const char *binary, const char *firmware_dir,
                               const char *sock);

/* Runs the session on mon (live or replayed) from the handshake on; fills
 * *out.  0, or -1 with a tv_error saying which step failed. */
int tv_mon_session_run(const char *name, TvQemuMonitor *mon, TvMonSession *out);
