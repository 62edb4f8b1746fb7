/* Internals of qemu_process*.c: the per-domain object and the helpers the
 * start, watch and spawn files share. */
#pragma once

#include "qemu_monitor.h"
#include "qemu_process.h"

#include <sys/types.h>

/* Lock order: mon_lock, then lock.  cb_lock only around callbacks. */
struct _TvQemuProcess {
    GMutex lock;     /* everything below except mon and the fixed fields */
    GCond cond;      /* broadcast on every state change */
    GMutex mon_lock; /* one thread drives the monitor at a time */
    GRecMutex cb_lock;

    /* fixed once started / reconnected */
    char *name;
    char *status_path;
    char *monitor_path;
    char *log_path;
    char *dac_path;      /* files given to QEMU's user, given back when it is gone */
    char *apparmor_path; /* its AppArmor profile, unloaded when it is gone */
    pid_t pid;
    unsigned long long start_time;
    bool is_child; /* waitpid works: we spawned it, or it was reparented to us */
    int pidfd;     /* closed by the watcher when it ends */
    int wake_fd;   /* eventfd: wakes the watcher */
    off_t log_offset;
    gint64 qmp_ready_at; /* start: monotonic time of the QMP handshake (for the log) */
    TvQemuCapsFingerprint fingerprint;
    TvQemuProcessStateFunc cb;
    void *cb_opaque;
    TvQemuProcessEventFunc event_cb;
    void *event_opaque;

    TvQemuMonitor *mon; /* under mon_lock; freed by the watcher at its end */
    bool mon_dead;      /* EOF or protocol error: stop reading it */

    TvDomainDef *def; /* live */
    char *console_path;
    int console_fd;
    int console_tty_fd; /* START_CONSOLE: our own open of the tty QEMU writes to */
    int state, reason;
    bool exited;
    bool exit_status_known;
    int exit_status;
    bool destroy_requested;
    bool pausing;        /* a 'stop' of ours is in flight */
    bool shutdown_event; /* QMP SHUTDOWN seen */
    char *shutdown_cause;
    bool guest_panicked;
    bool fake_reboot;          /* a lifecycle restart's own STOP/RESUME are in flight */
    int lifecycle_reason;      /* shut-off reason of a lifecycle action's quit; 0: none */
    bool quit;                 /* the watcher should end (free) */
    GArray *pending;           /* state changes not yet given to the callback: int pairs */
    GPtrArray *pending_events; /* QMP events (json_object) not yet given to event_cb */
    GThread *watcher;
};

/* qemu_process_state.c: under proc->lock.  Records the change, rewrites the
 * status file while QEMU runs, wakes waiters. */
void tv_qemu_process_set_state(TvQemuProcess *proc, int state, int reason);
/* One QMP event (STOP, RESUME, SHUTDOWN, ...), under proc->lock. */
void tv_qemu_process_handle_event(TvQemuProcess *proc, json_object *ev);
/* QEMU is gone: reap, choose the shut-off reason, remove the status file
 * and socket.  Under proc->lock; idempotent. */
void tv_qemu_process_handle_exit(TvQemuProcess *proc);
char *tv_qemu_process_exit_description_locked(TvQemuProcess *proc);
/* Give recorded changes to the callback (no lock held by the caller). */
void tv_qemu_process_flush_callbacks(TvQemuProcess *proc);
/* Take events queued in the monitor and handle them; under mon_lock. */
void tv_qemu_process_drain_events(TvQemuProcess *proc);
int tv_qemu_process_write_status(TvQemuProcess *proc);
/* QEMU is gone (or never ran): give its files back, unload its profile. */
void tv_qemu_process_release_security(TvQemuProcess *proc);

/* qemu_process_devices.c.  Before the command line: bind-mode unix
 * channels get a path in the state folder when they have none, and their
 * listening sockets are made here and passed to QEMU (*fds, in channel
 * order; QEMU confined to its own user could not create them there).
 * After the QMP handshake at start (mon_lock held): the live definition
 * learns what QEMU chose (the VNC port), balloon statistics are switched on.
 * At stop: the channel sockets made here are removed. */
int tv_qemu_process_prepare_channels(TvDomainDef *live, const char *state_dir, GArray *fds);
int tv_qemu_process_devices_started(TvQemuProcess *proc, unsigned timeout_ms);
void tv_qemu_process_remove_channels(const TvDomainDef *def);

/* qemu_process_watch.c */
int tv_qemu_process_watch_start(TvQemuProcess *proc);
void tv_qemu_process_watch_stop(TvQemuProcess *proc);

/* qemu_process_spawn.c */
int tv_qemu_process_log_open(const char *path, GPtrArray *argv, off_t *offset);
/* Spawn argv with stdout/stderr on log_fd, in its own process group; through
 * the fork server when one is given and usable. */
typedef struct {
    int log_fd;
    struct _TvQemuZygote *zygote; /* tried first when given */
    const struct _TvQemuSecurity *security;
    int monitor_fd;       /* listening socket passed as fd 3, or -1 */
    const int *extra_fds; /* passed as fd 4, 5, ... (with monitor_fd) */
    size_t nextra_fds;
    const GArray *files;        /* TvQemuLaunchFile: checked as QEMU's user before exec */
    const char *apparmor_label; /* or NULL */
    const char *staging_dir;    /* for the private /dev */
} TvQemuSpawnArgs;
int tv_qemu_process_spawn(GPtrArray *argv, const TvQemuSpawnArgs *args, pid_t *pid, bool *forked);
/* The QMP socket bound and listening at path (replacing a stale file), for
 * QEMU to inherit; -1 with a tv_error. */
int tv_qemu_process_monitor_listen(const char *path);
/* The same for any socket QEMU serves (what: "monitor", "channel"). */
int tv_qemu_process_listen(const char *path, const char *what);
int tv_qemu_process_pidfd_open(pid_t pid);
/* Append "<time>: text" to the log (best effort). */
void tv_qemu_process_log_line(const char *path, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
char *tv_qemu_process_read_log_tail(const char *path, off_t from, size_t max_bytes);
/* Reap zombies of process group pgid (a wrapper's leftovers) without blocking. */
void tv_qemu_process_reap_group(pid_t pgid);

/* Before a start: create the UEFI variable store from its template when it
 * does not exist yet (qemu_process_nvram.c). */
int tv_qemu_process_prepare_nvram(const TvDomainDef *def);

/* qemu_process_lifecycle.c: <on_poweroff>/<on_reboot>/<on_crash> on the
 * guest's SHUTDOWN (guest-initiated) and GUEST_PANICKED events, the live
 * balloon size, and <currentMemory> at start (before 'cont').  The first
 * three under mon_lock and proc->lock. */
void tv_qemu_process_lifecycle_shutdown(TvQemuProcess *proc, const char *cause);
void tv_qemu_process_lifecycle_panic(TvQemuProcess *proc, const char *action);
void tv_qemu_process_lifecycle_balloon_change(TvQemuProcess *proc, json_object *ev);
int tv_qemu_process_apply_balloon(TvQemuProcess *proc, unsigned timeout_ms);
