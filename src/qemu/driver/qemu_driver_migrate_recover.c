/* After a daemon restart: a QEMU the earlier daemon left in a migration
 * (docs/migration.rst, "Nothing lost").  Nobody can finish that migration
 * any more, so:
 *  - an incoming QEMU that has not been finished (QEMU "inmigrate", or
 *    loaded and still "paused (migration)") is stopped; its transient
 *    domain leaves the list;
 *  - an outgoing copy still running is cancelled and the guest runs on;
 *  - a failed or cancelled copy that left the guest paused runs it on;
 *  - a completed copy ("postmigrate") whose Perform had answered
 *    (STATE_DIR/NAME.migrated-out) stays paused: the destination may run
 *    the guest already (libvirt leaves it so too); one whose Perform never
 *    answered cannot have been finished there: the guest runs on. */
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#define CANCEL_WAIT_MS 10000
#define CANCEL_POLL_MS 50

typedef struct {
    TvQmpStatus qs;
    TvQmpMigrationInfo mi;
} Seen;

static int look(TvQemuMonitor *mon, void *opaque)
{
    Seen *s = opaque;
    if (tv_qemu_monitor_query_status(mon, &s->qs) < 0)
        return -1;
    tv_qmp_migration_info_clear(&s->mi);
    return tv_qemu_monitor_query_migrate(mon, &s->mi);
}

static bool copying(TvQmpMigrationStatus st)
{
    return st == TV_QMP_MIGRATION_STATUS_SETUP || st == TV_QMP_MIGRATION_STATUS_ACTIVE ||
           st == TV_QMP_MIGRATION_STATUS_PRE_SWITCHOVER || st == TV_QMP_MIGRATION_STATUS_DEVICE ||
           st == TV_QMP_MIGRATION_STATUS_CANCELLING || st == TV_QMP_MIGRATION_STATUS_WAIT_UNPLUG;
}

/* Cancel the copy and wait (bounded) until QEMU says it ended. */
static void cancel_copy(TvQemuProcess *proc, Seen *seen)
{
    if (tv_qemu_process_migrate_cancel(proc) < 0)
        tv_error_reset();
    for (int waited = 0; waited < CANCEL_WAIT_MS; waited += CANCEL_POLL_MS) {
        g_usleep(CANCEL_POLL_MS * 1000);
        if (tv_qemu_process_with_monitor(proc, look, seen) < 0) {
            tv_error_reset();
            return;
        }
        if (!copying(seen->mi.status))
            return;
    }
}

void tv_driver_migration_recover(TvQemuDriver *drv, TvDriverDomain *dom)
{
    TvDriverRun *run = tv_driver_run_get(dom);
    TvQemuProcess *proc = run ? run->proc : NULL;
    Seen seen = { 0 };
    if (!proc || !tv_qemu_process_is_active(proc) ||
        tv_qemu_process_with_monitor(proc, look, &seen) < 0) {
        tv_error_reset();
        tv_qmp_migration_info_clear(&seen.mi);
        tv_driver_run_unref(run);
        return;
    }
    int state = 0, reason = 0;
    tv_qemu_process_get_state(proc, &state, &reason);
    bool by_migration = state == TV_DOMAIN_STATE_PAUSED && reason == TV_DOMAIN_PAUSED_MIGRATION;
    TvQmpRunState rs = seen.qs.status;
    if (rs == TV_QMP_RUN_STATE_INMIGRATE || (by_migration && rs == TV_QMP_RUN_STATE_PAUSED)) {
        g_message("QEMU driver: domain '%s': its incoming migration was not finished before "
                  "tagvirtd restarted (QEMU %s, migration %s): its QEMU is stopped",
                  dom->name, tv_qmp_run_state_to_string(rs),
                  tv_qmp_migration_status_to_string(seen.mi.status));
        if (tv_qemu_process_destroy_as(proc, TV_DOMAIN_SHUTOFF_FAILED) < 0) {
            g_warning("QEMU driver: domain '%s': %s", dom->name, tv_error_message());
            tv_error_reset();
        }
    } else if (copying(seen.mi.status) || seen.mi.status == TV_QMP_MIGRATION_STATUS_FAILED ||
               seen.mi.status == TV_QMP_MIGRATION_STATUS_CANCELLED) {
        bool was_copying = copying(seen.mi.status);
        if (was_copying)
            cancel_copy(proc, &seen);
        /* QEMU runs the guest again itself after a failed copy; a guest
         * still paused by the migration is run here (a user's pause stays) */
        bool paused_by_it = rs == TV_QMP_RUN_STATE_POSTMIGRATE ||
                            rs == TV_QMP_RUN_STATE_FINISH_MIGRATE || by_migration;
        if (!seen.qs.running && paused_by_it &&
            tv_qemu_process_resume_as(proc, TV_DOMAIN_RUNNING_MIGRATION_CANCELED) < 0) {
            g_warning("QEMU driver: domain '%s': %s", dom->name, tv_error_message());
            tv_error_reset();
        }
        if (was_copying || paused_by_it)
            g_message("QEMU driver: domain '%s': its outgoing migration was interrupted by a "
                      "restart of tagvirtd: %s, the guest runs on here",
                      dom->name, was_copying ? "cancelled" : "it had failed");
    } else if (seen.mi.status == TV_QMP_MIGRATION_STATUS_COMPLETED &&
               rs == TV_QMP_RUN_STATE_POSTMIGRATE) {
        g_autofree char *mark = tv_driver_migrated_out_path(drv, dom->name);
        if (g_file_test(mark, G_FILE_TEST_EXISTS)) {
            g_warning("QEMU driver: domain '%s': its outgoing migration completed but was not "
                      "confirmed before tagvirtd restarted: the guest stays paused here (the "
                      "destination may run it; resume it here only if it does not)",
                      dom->name);
        } else if (tv_qemu_process_resume_as(proc, TV_DOMAIN_RUNNING_MIGRATION_CANCELED) < 0) {
            g_warning("QEMU driver: domain '%s': %s", dom->name, tv_error_message());
            tv_error_reset();
        } else {
            g_message("QEMU driver: domain '%s': its outgoing migration completed but Perform "
                      "never answered before tagvirtd restarted (so no destination runs it): "
                      "the guest runs on here",
                      dom->name);
        }
    } else {
        /* no migration of it is pending: an old mark means nothing */
        g_autofree char *mark = tv_driver_migrated_out_path(drv, dom->name);
        (void)tv_file_remove(mark);
        tv_error_reset();
    }
    tv_qmp_migration_info_clear(&seen.mi);
    tv_driver_run_unref(run);
}
