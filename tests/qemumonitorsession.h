/* Scripted QMP sessions with a real QEMU and a real guest: the same code
 * records them (qemucapsrecord --qmp-sessions, against a live QEMU) and
 * replays them (qemumonitortest, against tests/qemumonitordata/), so every
 * typed command and event is parsed from what a real QEMU sent.
 *
 * Sessions:
 *   run             demo-loop.elf started with -S: status, chardevs, cont,
 *                   stop, power button, reset, two error replies, quit
 *   guest-shutdown  demo.elf runs its tests and powers off (PSCI): SHUTDOWN
 *                   from the guest, then EOF
 *   devices         balloon, vCPUs, device_add/del of a USB keyboard
 *                   (DEVICE_DELETED), object, blockdev and netdev add/del,
 *                   qom-get/set, error replies
 *   migrate         two QEMUs (files: migrate-source, migrate-dest): the
 *                   source's capabilities and parameters, a migration to a
 *                   sink at 1 MiB/s cancelled, then a real one into the
 *                   destination (started with -incoming defer), followed by
 *                   query-migrate and events until completed, and the
 *                   destination resumed */
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

    /* devices */
    TvQmpBalloon balloon;
    TvQmpCpuList cpus;
    TvQmpErrorClass no_device_class;
    char *no_device_error;
    TvQmpValue qom_type, qom_before, qom_after;
    char *qom_object_error;

    /* migrate (source and destination each fill their part) */
    TvQmpStatus before, after;
    TvQmpMigrationCapList caps;
    TvQmpMigrationParams params_before, params_after;
    TvQmpMigrationInfo idle, cancelling, active, completed;
    int polls;
} TvMonSession;

void tv_mon_session_clear(TvMonSession *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvMonSession, tv_mon_session_clear)

/* The conversations of a recording file (one per QEMU), NULL-terminated:
 * the sessions above, "migrate" as its two sides. */
extern const char *const tv_mon_session_files[];

/* QEMU's arguments for one conversation (after the binary): firmware_dir
 * holds the demo guests, sock is the monitor socket to create.  QEMU runs
 * in the directory of sock (the migration's sockets are relative to it). */
GPtrArray *tv_mon_session_argv(const char *file, const char *binary, const char *firmware_dir,
                               const char *sock);

/* Runs the session on mon (live or replayed) from the handshake on; fills
 * *out.  0, or -1 with a tv_error saying which step failed. */
int tv_mon_session_run(const char *name, TvQemuMonitor *mon, TvMonSession *out);
/* "migrate": both sides at once. */
int tv_mon_session_run_migrate(TvQemuMonitor *src, TvQemuMonitor *dst, TvMonSession *src_out,
                               TvMonSession *dst_out);
