/* The guest's state in and out of a QEMU (docs/migration.rst, "The
 * incoming QEMU"): an incoming QEMU started with "-incoming defer" and
 * paused, told where to read with migrate-incoming and followed until the
 * state is loaded; an outgoing migration (or save) started, followed and
 * cancelled.  QEMU runs in its own mount namespace as its own user, so a
 * file reaches it as a descriptor, never as a path: "fd:NAME" after getfd
 * for pipes and sockets and for QEMU before 8.2, "file:/dev/fdset/N" after
 * add-fd for a regular file from 8.2 (QEMU 11.1 refuses fd: on a file). */
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INCOMING_FD_NAME "tagvirt-incoming"
#define OUTGOING_FD_NAME "tagvirt-outgoing"
#define INCOMING_POLL_MS 20
#define LOG_TAIL_BYTES   2048

TvQemuProcess *tv_qemu_process_start_incoming(const TvDomainDef *def,
                                              const TvQemuProcessConfig *cfg,
                                              const TvQemuIncoming *in)
{
    if (!in || (!in->uri && in->fd < 0) || (in->uri && strncmp(in->uri, "tcp:", 4) != 0)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "incoming QEMU for domain '%s': give a 'tcp:HOST:PORT' URI or a "
                        "descriptor, got %s",
                        def->name, in && in->uri ? in->uri : "neither");
        return NULL;
    }
    return tv_qemu_process_start_with(def, cfg, 0, in);
}

/* QEMU 8.2 has the file: transport, 11.1 refuses fd: on a regular file. */
#define FILE_URI_VERSION 8002000

/* The URI under which QEMU reaches fd (handed over here): "fd:NAME", or
 * "file:/dev/fdset/N,offset=POS" for a regular file (from its position).
 * A descriptor set stays in QEMU, holding its copy of fd open, until it is
 * removed: *set is its id (-1 for "fd:", which QEMU closes itself). */
static char *fd_uri(TvQemuMonitor *mon, unsigned qemu_version, int fd, const char *name, int *set)
{
    *set = -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && qemu_version >= FILE_URI_VERSION) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        if (tv_qemu_monitor_add_fd(mon, fd, name, set) < 0)
            return NULL;
        return g_strdup_printf("file:/dev/fdset/%d,offset=%lld", *set,
                               (long long)(pos > 0 ? pos : 0));
    }
    if (tv_qemu_monitor_getfd(mon, name, fd) < 0)
        return NULL;
    return g_strdup_printf("fd:%s", name);
}

int tv_qemu_process_incoming_begin(TvQemuProcess *proc, const TvQemuIncoming *in)
{
    if (in->uri && in->tls && tv_qemu_process_migration_tls_enable(proc, in->tls) < 0)
        return -1;
    g_autofree char *uri =
        in->uri ? g_strdup(in->uri)
                : fd_uri(proc->mon, proc->qemu_version, in->fd, INCOMING_FD_NAME, &proc->fdset_in);
    if (!uri || tv_qemu_monitor_migrate_incoming(proc->mon, uri) < 0) {
        tv_error_prefix("QEMU refused to receive the guest from %s",
                        in->uri ? in->uri : "a descriptor");
        return -1;
    }
    tv_qemu_process_log_line(proc->log_path, "receiving the guest from %s", uri);
    return 0;
}

/* QEMU went away or said the load failed: the error, with its log. */
static void report_failed(TvQemuProcess *proc, const char *why)
{
    g_autofree char *tail =
        tv_qemu_process_read_log_tail(proc->log_path, proc->log_offset, LOG_TAIL_BYTES);
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                    "domain '%s': the incoming QEMU did not receive the guest: %s%s%s", proc->name,
                    why, tail ? "; the end of its log:\n" : "", tail ? tail : "");
}

static int mon_remove_fdset(TvQemuMonitor *mon, void *opaque)
{
    return tv_qemu_monitor_remove_fdset(mon, *(int *)opaque);
}

/* Remove the descriptor set *slot (taken under the lock) from QEMU; a
 * failure is only logged (a QEMU that is gone holds nothing). */
static void release_fd_set(TvQemuProcess *proc, int *slot)
{
    g_mutex_lock(&proc->lock);
    int set = *slot;
    *slot = -1;
    g_mutex_unlock(&proc->lock);
    if (set < 0)
        return;
    g_autoptr(TvError) saved = tv_error_steal();
    if (tv_qemu_process_with_monitor(proc, mon_remove_fdset, &set) < 0) {
        g_message("domain '%s': cannot remove descriptor set %d from QEMU: %s", proc->name, set,
                  tv_error_message());
        tv_error_reset();
    } else {
        tv_qemu_process_log_line(proc->log_path, "descriptor set %d removed", set);
    }
    tv_error_restore(g_steal_pointer(&saved));
}

/* The image a restore read from is loaded: QEMU keeps no descriptor of it. */
static void release_incoming_fd(TvQemuProcess *proc)
{
    release_fd_set(proc, &proc->fdset_in);
}

void tv_qemu_process_release_outgoing_fd(TvQemuProcess *proc)
{
    release_fd_set(proc, &proc->fdset_out);
}

int tv_qemu_process_incoming_wait(TvQemuProcess *proc, unsigned timeout_ms)
{
    gint64 deadline = timeout_ms ? g_get_monotonic_time() + (gint64)timeout_ms * 1000 : 0;
    for (;;) {
        TvQemuMonitor *mon = tv_qemu_process_monitor(proc);
        if (!mon) {
            tv_error_reset();
            /* let the watcher see the exit, so that the reason is known */
            (void)tv_qemu_process_wait(proc, 1000);
            tv_error_reset();
            g_autofree char *how = tv_qemu_process_exit_description(proc);
            g_autofree char *why = g_strdup_printf("QEMU %s", how ? how : "went away");
            report_failed(proc, why);
            return -1;
        }
        TvQmpMigrationInfo info = { 0 };
        int rc = tv_qemu_monitor_query_migrate(mon, &info);
        tv_qemu_monitor_free(mon);
        if (rc == 0 && info.status == TV_QMP_MIGRATION_STATUS_COMPLETED) {
            tv_qmp_migration_info_clear(&info);
            tv_qemu_process_log_line(proc->log_path, "the guest was received");
            release_incoming_fd(proc);
            return 0;
        }
        if (rc == 0 && (info.status == TV_QMP_MIGRATION_STATUS_FAILED ||
                        info.status == TV_QMP_MIGRATION_STATUS_CANCELLED)) {
            g_autofree char *why = g_strdup_printf(
                "QEMU says the load %s%s%s", tv_qmp_migration_status_to_string(info.status),
                info.error_desc ? ": " : "", info.error_desc ? info.error_desc : "");
            tv_qmp_migration_info_clear(&info);
            report_failed(proc, why);
            return -1;
        }
        tv_qmp_migration_info_clear(&info);
        if (rc < 0) /* the monitor closed under us (QEMU is exiting: seen next time round) */
            tv_error_reset();
        if (deadline && g_get_monotonic_time() >= deadline) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                            "domain '%s': the incoming QEMU has not received the guest after "
                            "%u ms",
                            proc->name, timeout_ms);
            return -1;
        }
        g_usleep(INCOMING_POLL_MS * 1000);
    }
}

typedef struct {
    const TvQemuOutgoing *out;
    unsigned qemu_version;
    int set; /* the descriptor set QEMU was given (-1: none) */
} MigrateStart;

static int migrate_start(TvQemuMonitor *mon, void *opaque)
{
    MigrateStart *m = opaque;
    g_autofree char *uri =
        m->out->uri ? g_strdup(m->out->uri)
                    : fd_uri(mon, m->qemu_version, m->out->fd, OUTGOING_FD_NAME, &m->set);
    if (!uri)
        return -1;
    return tv_qemu_monitor_migrate(mon, uri);
}

int tv_qemu_process_migrate_start(TvQemuProcess *proc, const TvQemuOutgoing *out)
{
    if (!out->uri && out->fd < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration of domain '%s': no URI and no descriptor", proc->name);
        return -1;
    }
    tv_qemu_process_set_outgoing(proc, out->paused_reason ? out->paused_reason
                                                          : TV_DOMAIN_PAUSED_MIGRATION);
    MigrateStart m = { out, proc->qemu_version, -1 };
    int rc = tv_qemu_process_with_monitor(proc, migrate_start, &m);
    g_mutex_lock(&proc->lock);
    proc->fdset_out = m.set;
    g_mutex_unlock(&proc->lock);
    if (rc < 0) {
        tv_qemu_process_set_outgoing(proc, 0); /* removes the set too */
        return -1;
    }
    tv_qemu_process_log_line(proc->log_path, "sending the guest to %s",
                             out->uri ? out->uri : "a descriptor");
    return 0;
}

static int migrate_query(TvQemuMonitor *mon, void *opaque)
{
    return tv_qemu_monitor_query_migrate(mon, opaque);
}

int tv_qemu_process_migrate_query(TvQemuProcess *proc, TvQmpMigrationInfo *info)
{
    memset(info, 0, sizeof(*info));
    return tv_qemu_process_with_monitor(proc, migrate_query, info);
}

static int migrate_cancel(TvQemuMonitor *mon, void *opaque)
{
    (void)opaque;
    return tv_qemu_monitor_migrate_cancel(mon);
}

int tv_qemu_process_migrate_cancel(TvQemuProcess *proc)
{
    return tv_qemu_process_with_monitor(proc, migrate_cancel, NULL);
}
