/* Internals of qemu_process*.c: the per-domain object and the helpers the
 * start, watch and spawn files share. */
#pragma once

#include "qemu_monitor.h"
#include "qemu_process.h"
#include "qemu_status.h"

#include <sys/types.h>

/* A QMP command on a running domain (suspend, resume, power button). */
#define TV_QEMU_PROCESS_COMMAND_TIMEOUT_MS 5000

/* Lock order: cb_lock, then lock, then the monitor's own lock (inside the
 * monitor layer).  cb_lock only around callbacks; lock is never held while
 * a monitor command waits for its reply. */
struct _TvQemuProcess {
    GMutex lock; /* everything below except the fixed fields */
    GCond cond;  /* broadcast on every state change */
    GRecMutex cb_lock;

    /* fixed once started / reconnected */
    char *name;
    char *status_path;
    char *monitor_path;
    char *log_path;
    char *dac_path;      /* files given to QEMU's user, given back when it is gone */
    char *apparmor_path; /* its AppArmor profile, unloaded when it is gone */
    char *swtpm_path;    /* its swtpm's "PID STARTTIME" while one runs (qemu_process_swtpm.c) */
    pid_t pid;
    unsigned long long start_time;
    bool is_child; /* waitpid works: we spawned it, or it was reparented to us */
    int pidfd;     /* closed by the watcher when it ends */
    int wake_fd;   /* eventfd: wakes the watcher */
    off_t log_offset;
    unsigned qemu_version; /* of cfg->caps (0: unknown) */
    gint64 qmp_ready_at;   /* start: monotonic time of the QMP handshake (for the log) */
    TvQemuCapsFingerprint fingerprint;
    TvQemuProcessStateFunc cb;
    void *cb_opaque;
    TvQemuProcessEventFunc event_cb;
    void *event_opaque;

    /* set before the watcher starts; taken (under lock) and closed by the
     * watcher at its end; users take a reference under lock */
    TvQemuMonitor *mon;

    TvDomainDef *def; /* live */
    char *console_path;
    int console_fd;
    int console_master_fd; /* START_CONSOLE: our reference to QEMU's pty master */
    int state, reason;
    bool exited;
    bool exit_status_known;
    int exit_status;
    bool destroy_requested;
    bool pausing;        /* a 'stop' of ours is in flight */
    int resume_reason;   /* the running reason of the next RESUME (0: UNPAUSED) */
    int outgoing_reason; /* an outgoing migration or save: the reason of its pause */
    int fdset_in;        /* add-fd set of an incoming stream (-1: none), removed once loaded */
    int fdset_out;       /* add-fd set of an outgoing stream (-1: none), removed at its end */
    bool shutdown_event; /* QMP SHUTDOWN seen */
    TvQmpShutdownCause shutdown_cause;
    bool guest_panicked;
    bool fake_reboot;     /* a lifecycle restart is in flight: its RESUME runs the guest again */
    int lifecycle_action; /* chosen in the event callback, carried out by the watcher */
    int lifecycle_reason; /* shut-off reason of a lifecycle action's quit; 0: none */
    bool quit;            /* the watcher should end (free) */
    GArray *pending;      /* state changes not yet given to the callback: int pairs */
    GPtrArray *pending_events; /* QMP events (TvQemuEvent) not yet given to event_cb */
    /* events ever queued / given to event_cb: a state change after a
     * WATCHDOG is given after that event (pending pair -1, number queued) */
    guint64 events_queued, events_given;
    GHashTable *unplugs; /* hot-plug: alias -> an unplug asked of QEMU, not finished */
    GThread *watcher;
};

#define DEFAULT_MONITOR_TIMEOUT_MS 10000

/* qemu_process.c */
/* tv_qemu_process_start, or with in an incoming QEMU. */
TvQemuProcess *tv_qemu_process_start_with(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                          unsigned flags, const TvQemuIncoming *in);
TvQemuProcess *tv_qemu_process_new(const char *name, const TvQemuProcessConfig *cfg);
int tv_qemu_process_prepare_dirs(const TvQemuProcessConfig *cfg);
/* Take over the live QEMU st describes (its pid checked again with a pidfd
 * held): monitor, real state, status file rewritten, watcher.  st's
 * definition, fingerprint and console move to proc. */
int tv_qemu_process_attach(TvQemuProcess *proc, TvQemuStatus *st, unsigned timeout);
/* Undo a failed attach (monitor, pidfd, what it took from st). */
void tv_qemu_process_detach(TvQemuProcess *proc);

/* qemu_process_recover.c: what an earlier manager left in STATE_DIR for
 * this name, before a start: a live QEMU refuses it ("already running");
 * the QEMU of an interrupted start, or one whose status file cannot be read
 * (kept aside), is killed; a stale file is removed. */
int tv_qemu_process_check_previous(TvQemuProcess *proc);

/* qemu_process_find.c */
typedef struct {
    pid_t pid;
    unsigned long long start_time;
} TvQemuFound;
/* Live QEMUs whose command line has "-name guest=NAME,..." and whose monitor
 * is the socket at monitor_path (in the command line, or a socket bound there
 * that QEMU holds, as /proc/net/unix and /proc/PID/fd tell): what starts of
 * that domain in this state directory made, recorded or not. */
GArray *tv_qemu_process_find(const char *name, const char *monitor_path);
/* End one found QEMU (SIGTERM first when graceful, then SIGKILL to it and
 * its process group), through a pidfd after checking its start time again;
 * 0 once it is gone (or was already). */
int tv_qemu_process_kill_found(const TvQemuFound *f, bool graceful);
/* "123, 456" */
char *tv_qemu_found_list(GArray *found);

/* qemu_process_state.c: under proc->lock.  Records the change, rewrites the
 * status file while QEMU runs, wakes waiters. */
void tv_qemu_process_set_state(TvQemuProcess *proc, int state, int reason);
/* Under proc->lock: the reason of a pause the user asked for; while an
 * outgoing migration runs it is the migration's, as libvirt says it. */
int tv_qemu_process_user_pause_reason(const TvQemuProcess *proc);
/* One QMP event (STOP, RESUME, SHUTDOWN, ...), under proc->lock. */
void tv_qemu_process_handle_event(TvQemuProcess *proc, const TvQemuEvent *ev);
/* QEMU is gone: reap, choose the shut-off reason, remove the status file
 * and socket.  Under proc->lock; idempotent. */
void tv_qemu_process_handle_exit(TvQemuProcess *proc);
char *tv_qemu_process_exit_description_locked(TvQemuProcess *proc);
/* Give recorded changes to the callback (no lock held by the caller). */
void tv_qemu_process_flush_callbacks(TvQemuProcess *proc);
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
/* Taps of bridge, network and ethernet interfaces (tv_netdev_guest_tap; a
 * network's bridge from cfg->network_bridge, named in the live definition): their
 * descriptors are appended to fds (passed to QEMU from fd 4 on, after the
 * channels'); *net_fds gets, per interface, the number QEMU sees (0: none).
 * A tap made here is gone when QEMU exits; the live definition names it. */
#define TV_QEMU_PASSED_FD_FIRST 4
int tv_qemu_process_prepare_nets(TvDomainDef *live, const TvQemuProcessConfig *cfg, GArray *fds,
                                 int **net_fds);
/* <vsock> (qemu_process_vsock.c): /dev/vhost-vsock opened here with the
 * guest's CID taken on it (auto: the lowest free one, written into the live
 * definition); the descriptor is appended to fds and *vsock_fd gets the
 * number QEMU sees (0: no vsock).  -1 with an error naming the device when
 * the host has none. */
int tv_qemu_process_prepare_vsock(TvDomainDef *live, GArray *fds, int *vsock_fd);
/* <smartcard> (qemu_process_smartcard.c): the NSS database of a host or
 * host-certificates card checked (a folder with cert9.db and key4.db, or
 * the start is refused naming it); a passthrough card's bind-mode unix
 * socket made, its descriptor appended to fds and *smartcard_fd the number
 * QEMU sees (0: none).  _remove: that socket gone (at stop). */
int tv_qemu_process_prepare_smartcard(const TvDomainDef *live, GArray *fds, int *smartcard_fd);
void tv_qemu_process_remove_smartcard(const TvDomainDef *def);
/* One interface's part of that, also for hot-plug: its network's bridge
 * (nothing for other types), its tap (the descriptor, or -1). */
int tv_qemu_process_net_bridge(TvDomainNet *n, const TvQemuProcessConfig *cfg);
int tv_qemu_process_net_tap(TvDomainNet *n);
bool tv_qemu_process_net_has_tap(const TvDomainNet *n);
int tv_qemu_process_devices_started(TvQemuProcess *proc);
/* A reference to the running QEMU's monitor, or NULL with "not running". */
TvQemuMonitor *tv_qemu_process_monitor(TvQemuProcess *proc);
void tv_qemu_process_remove_channels(const TvDomainDef *def);

/* qemu_process_swtpm.c: a <tpm>'s swtpm (TPM state made at the first start)
 * before QEMU: its socket's end for QEMU is appended to fds and *tpm_fd is
 * the number QEMU sees (0: no TPM); *state_new says this start made the
 * state folder (a failed start removes it again).  _stop ends the one
 * proc->swtpm_path records (idempotent; done when the domain's security is
 * released). */
int tv_qemu_process_swtpm_start(TvQemuProcess *proc, const TvDomainDef *live,
                                const TvQemuProcessConfig *cfg, GArray *fds, int *tpm_fd,
                                bool *state_new);
void tv_qemu_process_swtpm_stop(TvQemuProcess *proc);

/* qemu_process_hotplug.c: DEVICE_DELETED (under lock) marks an unplug
 * done; _free at the end.  Files given to QEMU's user at hot-plug are in
 * the domain's DAC record (dac_path), given back at detach or stop. */
void tv_qemu_process_hotplug_event(TvQemuProcess *proc, const TvQemuEvent *ev);
void tv_qemu_process_hotplug_free(TvQemuProcess *proc);

/* qemu_process_migrate.c: after the handshake of an incoming start,
 * under the start-up deadline: getfd (for an fd) and migrate-incoming. */
int tv_qemu_process_incoming_begin(TvQemuProcess *proc, const TvQemuIncoming *in);
/* qemu_process_migrate.c: the outgoing stream's descriptor set (if any) is
 * removed from QEMU, so that QEMU holds no descriptor of it any more. */
void tv_qemu_process_release_outgoing_fd(TvQemuProcess *proc);

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
 * guest's SHUTDOWN (guest-initiated) and GUEST_PANICKED events, and
 * <currentMemory> at start (before 'cont').  The event handlers run in the
 * monitor's event callback, under proc->lock, and only choose the action:
 * a callback must not wait for its own monitor.  The watcher carries it out
 * (tv_qemu_process_lifecycle_run) once the callback has returned, with no
 * lock held. */
void tv_qemu_process_lifecycle_shutdown(TvQemuProcess *proc, TvQmpShutdownCause cause);
void tv_qemu_process_lifecycle_panic(TvQemuProcess *proc, const char *action);
void tv_qemu_process_lifecycle_run(TvQemuProcess *proc);
/* An action is chosen and not carried out yet (QEMU still runs). */
bool tv_qemu_process_lifecycle_pending(TvQemuProcess *proc);
int tv_qemu_process_apply_balloon(TvQemuProcess *proc);
