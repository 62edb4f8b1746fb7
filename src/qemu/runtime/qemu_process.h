/* One domain's QEMU process: start from a definition, stop, destroy,
 * suspend, resume, watch for exit, reconnect after the manager restarts.
 *
 *   TvQemuProcessConfig cfg = { .state_dir = ..., .log_dir = ..., .caps = caps, .host = host };
 *   g_autoptr(TvQemuProcess) proc = tv_qemu_process_start(def, &cfg, NULL);
 *   ...
 *   tv_qemu_process_stop(proc, 5000);   // system_powerdown, then kill after 5 s
 *
 * Files (docs/architecture.rst, docs/runtime.rst): STATE_DIR/<name>.xml (status,
 * qemu_status.h), STATE_DIR/<name>.monitor (QMP socket), LOG_DIR/<name>.log.
 *
 * Every function is thread-safe.  A watcher thread per process follows QEMU's
 * pidfd and monitor events; state changes are reported through the callback
 * with libvirt's state and reason numbers, from the watcher or the calling
 * thread, never with a lock held.  QEMU runs in its own process group and
 * survives the manager; tv_qemu_process_free() leaves it running. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"
#include "domain_vocab.h"
#include "qemu_host.h"
#include "qemu_monitor_commands.h"
#include "qemu_monitor_events.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct _TvQemuProcess TvQemuProcess;
typedef struct _TvQemuMonitor TvQemuMonitor;

/* For <interface type='network'>: the network's bridge (see TvQemuProcessConfig). */
typedef char *(*TvQemuNetworkBridgeFunc)(const char *network, unsigned *mtu, void *opaque);

/* Called on every state change.  Must not call tv_qemu_process_free(). */
typedef void (*TvQemuProcessStateFunc)(TvQemuProcess *proc, int state, int reason, void *opaque);
/* Called for every QMP event (RESET, BALLOON_CHANGE, DEVICE_DELETED, ...),
 * in order, after the state changes it caused, with no lock held.  Must not
 * call tv_qemu_process_free(). */
typedef void (*TvQemuProcessEventFunc)(TvQemuProcess *proc, const TvQemuEvent *event, void *opaque);

typedef struct {
    const char *state_dir;       /* status file and monitor socket (created 0700) */
    const char *log_dir;         /* LOG_DIR/<name>.log, appended */
    const TvQemuCaps *caps;      /* of the definition's emulator */
    const TvHostFacts *host;     /* for resolution (MTE host/max) */
    unsigned monitor_timeout_ms; /* QMP connect + handshake at start/reconnect; 0: 10000 */
    int id;                      /* the live id; 0: 1 */
    TvQemuProcessStateFunc state_cb;
    void *state_opaque;
    TvQemuProcessEventFunc event_cb; /* optional */
    void *event_opaque;
    /* optional: a fork server for the emulator (qemu_zygote.h), used when
     * ready and when this process is a child subreaper; else QEMU is spawned */
    struct _TvQemuZygote *zygote;
    /* how QEMU is confined (qemu_security.h): its user, the sandbox, a
     * private mount namespace, ownership of its files; NULL: as the caller,
     * in its own session, no sandbox (tests) */
    const struct _TvQemuSecurity *security;
    /* optional, for reconnect: when the status file cannot be read, a QEMU
     * of the domain found by its command line is taken over if this
     * definition (resolved with caps and host, with id) gives exactly that
     * command line, and killed otherwise */
    const TvDomainDef *definition;
    /* optional: the bridge of the virtual network named for an <interface
     * type='network'> (newly allocated; NULL with a tv_error when it is
     * missing or not active) and its MTU (0: the default); without it such
     * an interface is refused at start */
    TvQemuNetworkBridgeFunc network_bridge;
    void *network_opaque;
    /* optional: migrate_tls_x509_cert_dir; under AppArmor the domain's
     * profile lets QEMU read that folder, for a later --tls migration */
    const char *migrate_tls_dir;
    /* where <tpm> state persists (SWTPM_DIR/<uuid>/tpm2, qemu_process_swtpm.c);
     * NULL: a <tpm> is refused at start */
    const char *swtpm_dir;
} TvQemuProcessConfig;

enum {
    TV_QEMU_PROCESS_START_PAUSED = 1 << 0,  /* leave vCPUs stopped (virsh start --paused) */
    TV_QEMU_PROCESS_START_CONSOLE = 1 << 1, /* open serial 0 before the guest runs */
};

/* Resolve a copy of def (MTE host/max -> a number), spawn QEMU paused with a
 * QMP socket, write the status file, then resume.  A refused configuration
 * fails before any process exists; any later failure kills and reaps QEMU,
 * removes the status file and socket, and reports the error with the tail of
 * QEMU's log. */
TvQemuProcess *tv_qemu_process_start(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                     unsigned flags);

/* TLS for QEMU's own migration stream (VIR_MIGRATE_TLS): QEMU reads the
 * x509 files of dir under libvirt's names (ca-cert.pem; server-cert.pem and
 * server-key.pem on the destination, client-cert.pem and client-key.pem on
 * the source; ca-crl.pem and dh-params.pem when there). */
typedef struct {
    const char *dir;                        /* migrate_tls_x509_cert_dir */
    bool server;                            /* the destination's end */
    bool verify;                            /* server: ask for the source's certificate */
    const char *hostname;                   /* client: the name the server's certificate
                                             * must carry (tls-hostname), or NULL */
    const struct _TvQemuSecurity *security; /* gives QEMU's user the files to read */
} TvQemuMigrationTls;

/* The files this end needs exist and can be read: 0, or -1 with an error
 * naming the first that cannot (before anything starts). */
int tv_qemu_migration_tls_check(const TvQemuMigrationTls *tls);
/* object-add tls-creds-x509 and migrate-set-parameters tls-creds (and
 * tls-hostname) in a running QEMU; the files are QEMU's user's only while
 * QEMU loads them.  End with tv_qemu_process_migration_tls_disable()
 * (tls-creds and tls-hostname "" and object-del; best effort, logged). */
int tv_qemu_process_migration_tls_enable(TvQemuProcess *proc, const TvQemuMigrationTls *tls);
void tv_qemu_process_migration_tls_disable(TvQemuProcess *proc);

/* An incoming QEMU (live migration, restore): where it reads the guest's
 * state from.  Exactly one of uri and fd. */
typedef struct {
    /* "tcp:HOST:PORT": QEMU listens there itself (migration) */
    const char *uri;
    /* used when uri is NULL: a readable stream (a saved image, read from
     * its position; a pipe; a connected socket), handed to QEMU; the caller
     * keeps (and closes) its own copy */
    int fd;
    /* the domain's paused reason while it receives (0: PAUSED_MIGRATION;
     * a restore gives e.g. TV_DOMAIN_PAUSED_STARTING_UP) */
    int paused_reason;
    /* with uri: TLS for the stream, set up before QEMU listens (or NULL) */
    const TvQemuMigrationTls *tls;
} TvQemuIncoming;

/* Like tv_qemu_process_start, but QEMU starts with "-incoming defer" and
 * stays paused: once the monitor is up and the status file written (state
 * paused, in->paused_reason), "migrate-incoming" is given in's URI (or
 * the descriptor's: "fd:NAME" after getfd, "file:/dev/fdset/N" after
 * add-fd for a regular file on QEMU 8.2 and later) and the call returns
 * while QEMU receives.  Then tv_qemu_process_incoming_wait(), and
 * tv_qemu_process_resume_as() to run the guest (or leave it paused), or
 * tv_qemu_process_destroy() to give up.  Resolution, start-up failures and
 * their clean-up are those of a start; a refused migrate-incoming kills
 * QEMU and fails the same way. */
TvQemuProcess *tv_qemu_process_start_incoming(const TvDomainDef *def,
                                              const TvQemuProcessConfig *cfg,
                                              const TvQemuIncoming *in);
/* Wait until the incoming QEMU has loaded the whole guest state (QEMU's
 * incoming migration status "completed"; the guest stays paused): 0.  -1
 * with an error when QEMU reports the load failed (QEMU's error-desc and
 * the tail of its log), when it exited, or after timeout_ms (0: no limit);
 * QEMU is not killed here. */
int tv_qemu_process_incoming_wait(TvQemuProcess *proc, unsigned timeout_ms);

/* An outgoing migration (or save): where QEMU sends the guest's state.
 * Exactly one of uri and fd. */
typedef struct {
    const char *uri;   /* "tcp:HOST:PORT" */
    int fd;            /* used when uri is NULL: a writable stream (a file, from its
                        * position; a pipe; a socket), handed to QEMU; the caller keeps
                        * its copy */
    int paused_reason; /* QEMU's pause at the end (0: PAUSED_MIGRATION; _SAVE) */
} TvQemuOutgoing;

/* Start sending (migration parameters and capabilities are the caller's,
 * through tv_qemu_process_with_monitor): returns once QEMU has begun.
 * Follow it with tv_qemu_process_migrate_query() until "completed" (the
 * guest is then paused with out->paused_reason) or "failed"/"cancelled"
 * (QEMU runs the guest again if it was running).  End with
 * tv_qemu_process_set_outgoing(proc, 0). */
int tv_qemu_process_migrate_start(TvQemuProcess *proc, const TvQemuOutgoing *out);
int tv_qemu_process_migrate_query(TvQemuProcess *proc, TvQmpMigrationInfo *info);
int tv_qemu_process_migrate_cancel(TvQemuProcess *proc);

/* Take over a QEMU started by an earlier manager, from STATE_DIR/<name>.xml.
 * Nothing is left running unmanaged: the QEMU of an interrupted start (the
 * file says "starting up") is killed, one that cannot be taken over is
 * killed, QEMUs of the domain the file does not name are found by their
 * command line and killed, an unreadable file is kept aside (never deleted)
 * and its QEMU taken over (cfg->definition) or killed; see
 * qemu_process_recover.c.  When no QEMU is left the files are removed and
 * the call fails with TV_ERR_NO_DOMAIN, a message saying what was done, and
 * *stale (optional) set. */
TvQemuProcess *tv_qemu_process_reconnect(const char *name, const TvQemuProcessConfig *cfg,
                                         bool *stale);

/* Change the live id (after a reconnect whose recorded id is taken, or
 * unknown); the status file is rewritten. */
int tv_qemu_process_set_id(TvQemuProcess *proc, int id);

/* Stop watching and close the monitor; QEMU keeps running and its status
 * file stays for the next reconnect.  NULL is accepted. */
void tv_qemu_process_free(TvQemuProcess *proc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuProcess, tv_qemu_process_free)

/* Ask the guest to power off (system_powerdown); does not wait. */
int tv_qemu_process_shutdown(TvQemuProcess *proc);
/* Graceful stop: system_powerdown, wait up to timeout_ms for the guest to
 * power off, then destroy.  Returns 0 once QEMU is gone. */
int tv_qemu_process_stop(TvQemuProcess *proc, unsigned timeout_ms);
/* SIGTERM, SIGKILL a few ms later if still there; returns once QEMU is
 * gone and reaped (shut off, reason destroyed). */
int tv_qemu_process_destroy(TvQemuProcess *proc);
int tv_qemu_process_suspend(TvQemuProcess *proc);
int tv_qemu_process_resume(TvQemuProcess *proc);
/* Resume with this running reason (TV_DOMAIN_RUNNING_MIGRATED after an
 * incoming migration, _RESTORED after a restore); resume() is UNPAUSED. */
int tv_qemu_process_resume_as(TvQemuProcess *proc, int reason);
/* Destroy, with this shut-off reason (TV_DOMAIN_SHUTOFF_MIGRATED for a
 * source whose guest now runs elsewhere, _SAVED). */
int tv_qemu_process_destroy_as(TvQemuProcess *proc, int reason);
/* An outgoing migration (or save) runs: while it does, QEMU's own pause at
 * its end is recorded as paused with this reason (TV_DOMAIN_PAUSED_MIGRATION,
 * _SAVE); 0 ends it. */
void tv_qemu_process_set_outgoing(TvQemuProcess *proc, int paused_reason);

/* Wait until the domain is shut off; 0, or -1 after timeout_ms (0: forever). */
int tv_qemu_process_wait(TvQemuProcess *proc, unsigned timeout_ms);

void tv_qemu_process_get_state(TvQemuProcess *proc, int *state, int *reason);
bool tv_qemu_process_is_active(TvQemuProcess *proc);
pid_t tv_qemu_process_pid(TvQemuProcess *proc);
const char *tv_qemu_process_name(TvQemuProcess *proc);
/* Exit status text once shut off ("exited with status 0", "killed by
 * signal 9 (Killed)", "exited (not our child: status unknown)"), else NULL. */
char *tv_qemu_process_exit_description(TvQemuProcess *proc);
/* The live definition (resolved MTE level) in the given format flags. */
char *tv_qemu_process_format_xml(TvQemuProcess *proc, unsigned format_flags);
/* A copy of the live definition (taps, resolved values), or NULL with a tv_error. */
TvDomainDef *tv_qemu_process_copy_def(TvQemuProcess *proc);
/* With TV_QEMU_PROCESS_START_CONSOLE: serial 0 as a raw, non-blocking fd
 * (ownership passes to the caller; -1 when there is none). */
int tv_qemu_process_steal_console(TvQemuProcess *proc);
/* A new raw, non-blocking fd on serial 0's pty for an interactive console
 * (virsh console), or -1 with a tv_error when the domain has no pty serial
 * or QEMU has gone. */
int tv_qemu_process_open_console(TvQemuProcess *proc);
/* fn with the running QEMU's monitor (a reference held for the call; the
 * typed commands of qemu_monitor_commands.h): fn's result, or -1 with
 * OPERATION_INVALID when QEMU is not running.  What fn reports gets the
 * domain's name in front. */
int tv_qemu_process_with_monitor(TvQemuProcess *proc, int (*fn)(TvQemuMonitor *mon, void *opaque),
                                 void *opaque);
/* fn reads the live definition under the process's lock (quick, no calls back). */
void tv_qemu_process_read_def(TvQemuProcess *proc, void (*fn)(const TvDomainDef *def, void *opaque),
                              void *opaque);
/* fn changes the live definition under the process's lock: 0 keeps the
 * change and rewrites the status file (a failed write is reported and the
 * change stays in memory), -1 means fn changed nothing and reported why. */
int tv_qemu_process_update_def(TvQemuProcess *proc, int (*fn)(TvDomainDef *def, void *opaque),
                               void *opaque);
/* A new socket already connected to the server of graphics device idx (VNC)
 * as one more client (socketpair, QMP getfd + add_client), for
 * virDomainOpenGraphicsFD; skipauth: no VNC password asked.  -1 with a
 * tv_error. */
int tv_qemu_process_open_graphics(TvQemuProcess *proc, unsigned idx, bool skipauth);
/* Hot-plug (qemu_process_hotplug.c; cfg: the process's configuration, for
 * its confinement and a network's bridge).  The device (its defaults and
 * address given by tv_qemu_domain_post_parse_hotplug) gets an alias, is
 * added to QEMU (blockdev-add and device_add; a tap opened and passed with
 * getfd, netdev_add and device_add), then to the live definition and the
 * status file; the device passes to the process.  On failure every step is
 * undone and the caller keeps the device. */
int tv_qemu_process_attach_disk(TvQemuProcess *proc, TvDomainDisk *disk,
                                const TvQemuProcessConfig *cfg);
int tv_qemu_process_attach_net(TvQemuProcess *proc, TvDomainNet *net,
                               const TvQemuProcessConfig *cfg);
/* A SCSI (virtio-scsi) or virtio-serial controller (index and PCI address
 * given by tv_qemu_domain_post_parse_hotplug): device_add, then the live
 * definition and status file; it passes to the process.  Other types:
 * OPERATION_UNSUPPORTED.  On failure the caller keeps it. */
int tv_qemu_process_attach_controller(TvQemuProcess *proc, TvDomainController *ctrl);
/* The same for an <rng> (object-add of its rng-random backend, given to
 * QEMU's user when it is a file, then device_add virtio-rng-pci), an
 * <input> (virtio on a root port, usb on the guest's USB controller), a
 * <watchdog> (set-action of its action, then device_add i6300esb)
 * (qemu_process_hotplug_misc.c) and a character device
 * (qemu_process_hotplug_chr.c): a <channel> (virtserialport), a virtio
 * <console> (virtconsole) or a pci-serial <serial>, type pty (its path
 * into the live definition) or unix (a socket tagvirt listens on for
 * QEMU, or one QEMU connects to): chardev-add, then device_add.  Other
 * targets and types: OPERATION_UNSUPPORTED naming them. */
int tv_qemu_process_attach_rng(TvQemuProcess *proc, TvDomainRng *rng,
                               const TvQemuProcessConfig *cfg);
int tv_qemu_process_attach_input(TvQemuProcess *proc, TvDomainInput *input);
int tv_qemu_process_attach_watchdog(TvQemuProcess *proc, TvDomainWatchdog *wd);
int tv_qemu_process_attach_chr(TvQemuProcess *proc, TvChrKind kind, TvDomainChr *chr,
                               const TvQemuProcessConfig *cfg);
/* set_link of the interface of that MAC (up for UP and DEFAULT); the live
 * definition and status file follow. */
int tv_qemu_process_set_link(TvQemuProcess *proc, const char *mac, TvNetLinkState link);
/* device_del of the device of that alias (a controller only when it is a
 * SCSI or virtio-serial one nothing uses: OPERATION_FAILED "device is busy"
 * naming what is on it; not the PL011 serial port), then up to
 * timeout_ms for QEMU's DEVICE_DELETED: 1 when it came (the backends deleted, the
 * device out of the live definition and status file), 0 when the guest has
 * not let it go yet (it is finished by tv_qemu_process_unplug_finish once
 * the event comes), -1 with an error (DEVICE_MISSING for an unknown
 * alias).  A second call for a pending unplug asks QEMU again. */
int tv_qemu_process_detach_device(TvQemuProcess *proc, const char *alias, unsigned timeout_ms);
/* After DEVICE_DELETED of alias: finish its unplug.  1: done now, 0:
 * nothing was pending (or done already). */
int tv_qemu_process_unplug_finish(TvQemuProcess *proc, const char *alias);
bool tv_qemu_process_unplug_pending(TvQemuProcess *proc, const char *alias);
/* A cdrom's media (updateDevice): the new medium's nodes added, the tray
 * opened (forced), the old medium removed, the new one inserted (media's
 * path; NULL ejects) and the tray closed, the old nodes deleted; the live
 * definition and status file follow.  A failure before the swap leaves the
 * old medium. */
int tv_qemu_process_change_media(TvQemuProcess *proc, const char *target, const TvDomainDisk *media,
                                 const TvQemuProcessConfig *cfg);
/* The last lines of this start's log (at most max_bytes). */
char *tv_qemu_process_log_tail(TvQemuProcess *proc, size_t max_bytes);

/* Paths the runtime uses for a domain name (newly allocated).  The monitor
 * socket is STATE_DIR/<name>.monitor, or STATE_DIR/<32 hex digits of the
 * name's SHA-256>.qmp when that path would not fit a unix socket address
 * (107 bytes), so that every name that can be defined can start. */
char *tv_qemu_process_status_path(const char *state_dir, const char *name);
char *tv_qemu_process_monitor_path(const char *state_dir, const char *name);
char *tv_qemu_process_log_path(const char *log_dir, const char *name);
/* STATE_DIR/<name>.dac: the files given to QEMU's user (qemu_security_dac.h) */
char *tv_qemu_process_dac_path(const char *state_dir, const char *name);

/* Make this process a child subreaper, so QEMU processes orphaned by a
 * previous manager, or left by a wrapper script, are reaped here at once. */
int tv_qemu_process_become_subreaper(void);

/* A domain's TPM state folder (SWTPM_DIR/<uuid>), and its removal (undefine;
 * nothing to do when there is none). */
char *tv_qemu_process_swtpm_state_dir(const char *swtpm_dir, const unsigned char *uuid);
int tv_qemu_process_swtpm_remove_state(const char *swtpm_dir, const unsigned char *uuid);
/* Undefine of a running domain: keep (undefine --keep-tpm) or not the TPM
 * state when that run ends, noted in SWTPM_DIR/<uuid>/kept (it survives a
 * daemon restart).  Nothing to do when there is no state. */
int tv_qemu_process_swtpm_mark_kept(const char *swtpm_dir, const unsigned char *uuid, bool keep);
/* A transient domain with a <tpm> ended: its TPM state is removed, unless
 * it was marked kept (then only the mark goes). */
int tv_qemu_process_swtpm_transient_ended(const char *swtpm_dir, const unsigned char *uuid);
