/* What an earlier manager left behind for a domain: taken over, ended or
 * cleaned up, never left running unmanaged and never doubled.
 *
 *   status file             its QEMU               reconnect                 start
 *   none                    -                      not running               go
 *   start record (pid 0,    found by command line  killed: the start was     killed, go
 *   "starting up")                                 never acknowledged
 *   readable, pid alive     the recorded one       taken over (or killed     refused: already
 *                                                  when that fails)          running
 *   readable, pid gone      found by command line  killed (not recorded),    killed, go
 *                                                  file removed: not running
 *   unreadable (truncated,  found by command line  kept aside; taken over    kept aside; killed,
 *   over the size limit)                           when the caller's         go
 *                                                  definition gives its
 *                                                  exact command line, else
 *                                                  killed
 *
 * Every action is written to the domain's QEMU log and said in the error or
 * the message the caller gets. */
#include "qemu_command.h"
#include "qemu_domain.h"
#include "qemu_process_priv.h"
#include "qemu_security.h"
#include "qemu_status.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Kill every QEMU of the domain found by its command line, except keep
 * (0: none); why goes to the log.  Appends "QEMU pid N, found by its
 * command line, killed<tail>" to note; returns how many were killed, -1
 * when one survived. */
static int kill_unrecorded(TvQemuProcess *proc, pid_t keep, bool graceful, const char *why,
                           const char *tail, GString *note)
{
    g_autoptr(GArray) found = tv_qemu_process_find(proc->name, proc->monitor_path);
    g_autoptr(GArray) killed = g_array_new(FALSE, FALSE, sizeof(TvQemuFound));
    int rc = 0;
    for (guint i = 0; i < found->len; i++) {
        TvQemuFound *f = &g_array_index(found, TvQemuFound, i);
        if (f->pid == keep)
            continue;
        if (tv_qemu_process_kill_found(f, graceful) < 0) {
            tv_error_prefix("domain '%s'", proc->name);
            rc = -1;
            continue;
        }
        tv_qemu_process_log_line(
            proc->log_path, "QEMU pid %d found by its command line: killed (%s)", (int)f->pid, why);
        g_array_append_val(killed, *f);
    }
    if (killed->len > 0) {
        g_autofree char *pids = tv_qemu_found_list(killed);
        g_string_append_printf(note, "%sQEMU pid %s, found by its command line, killed%s",
                               note->len ? "; " : "", pids, tail);
    }
    return rc < 0 ? -1 : (int)killed->len;
}

/* Rename an unreadable status file out of the way (never delete it: it is
 * evidence, and its QEMU may live).  Appends the new name to note. */
static void set_aside(TvQemuProcess *proc, const char *why, GString *note)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");
    g_autofree char *aside = g_strdup_printf("%s.unreadable-%s", proc->status_path, stamp);
    for (int i = 1; g_file_test(aside, G_FILE_TEST_EXISTS); i++) {
        g_free(aside);
        aside = g_strdup_printf("%s.unreadable-%s-%d", proc->status_path, stamp, i);
    }
    if (rename(proc->status_path, aside) == 0) {
        g_string_append_printf(note, "status file '%s' cannot be read (%s) and is kept as '%s'",
                               proc->status_path, why, aside);
        tv_qemu_process_log_line(proc->log_path, "status file cannot be read (%s): kept as %s", why,
                                 aside);
    } else {
        g_string_append_printf(note, "status file '%s' cannot be read (%s) nor moved aside: %s",
                               proc->status_path, why, g_strerror(errno));
    }
}

/* The end of every path that leaves nothing running: the files go, and
 * what was given to QEMU's user is given back. */
static void remove_files(TvQemuProcess *proc)
{
    tv_file_remove(proc->status_path);
    tv_file_remove(proc->monitor_path);
    tv_qemu_process_release_security(proc);
    tv_error_reset();
}

int tv_qemu_process_check_previous(TvQemuProcess *proc)
{
    if (!g_file_test(proc->status_path, G_FILE_TEST_EXISTS)) {
        /* the start record comes before any QEMU: none of it ran */
        tv_qemu_process_release_security(proc);
        tv_file_remove(proc->monitor_path);
        return 0;
    }
    g_autoptr(GString) note = g_string_new(NULL);
    g_autoptr(TvQemuStatus) old = tv_qemu_status_read(proc->status_path);
    if (old && g_strcmp0(old->def->name, proc->name) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "it names domain '%s'", old->def->name);
        g_clear_pointer(&old, tv_qemu_status_free);
    }
    const char *why = "an earlier start of it was interrupted";
    if (!old) {
        g_autofree char *err = g_strdup(tv_error_message());
        tv_error_reset();
        set_aside(proc, err, note);
        why = "its status file cannot be read";
    } else if (!tv_qemu_status_is_start(old)) {
        if (tv_qemu_status_check_pid(old, NULL) == TV_QEMU_STATUS_PID_ALIVE) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                            "domain '%s' is already running (QEMU pid %d, status file '%s')",
                            proc->name, (int)old->pid, proc->status_path);
            return -1;
        }
        why = "its status file names another pid";
    }
    if (kill_unrecorded(proc, 0, old == NULL, why, "", note) < 0) {
        tv_error_prefix("cannot start domain '%s': a QEMU of it that nobody manages is left "
                        "running (%s)",
                        proc->name, note->str);
        return -1;
    }
    if (old) {
        remove_files(proc);
    } else { /* the unreadable file is kept aside */
        tv_file_remove(proc->monitor_path);
        tv_qemu_process_release_security(proc);
    }
    if (note->len) {
        tv_qemu_process_log_line(proc->log_path, "before this start: %s", note->str);
        g_message("domain '%s', before its start: %s", proc->name, note->str);
    }
    tv_error_reset();
    return 0;
}

/* Compare the command line a start of def would have with QEMU pid's. */
static bool runs_definition(TvQemuProcess *proc, const TvQemuProcessConfig *cfg, pid_t pid,
                            TvDomainDef **live_out, char **why)
{
    g_autoptr(TvDomainDef) live = tv_domain_def_copy(cfg->definition);
    TvQemuMtePlan plan;
    if (!live || tv_qemu_domain_resolve(live, cfg->caps, cfg->host, &plan) < 0) {
        *why = g_strdup_printf("the definition cannot be resolved: %s", tv_error_message());
        tv_error_reset();
        return false;
    }
    live->id = cfg->id > 0 ? cfg->id : 1;
    tv_qemu_assign_aliases(live); /* the ids a start gives, as its command line has them */
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *have = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &have, &len, NULL)) {
        *why = g_strdup("its command line cannot be read");
        return false;
    }
    /* as a start made it: the monitor socket passed as fd 3, or by its path
     * (the fork server's QEMUs bind it themselves) */
    bool same = false;
    for (int passed = 0; passed < 2 && !same; passed++) {
        TvQemuCommandOptions opts = { .monitor_path = proc->monitor_path,
                                      .monitor_fd = passed ? 3 : 0,
                                      .paused = true,
                                      .sandbox = tv_qemu_security_sandbox(cfg->security) };
        g_autoptr(GPtrArray) argv = tv_qemu_build_command(live, cfg->caps, &plan, &opts);
        if (!argv) {
            *why = g_strdup(tv_error_message());
            tv_error_reset();
            return false;
        }
        /* /proc/PID/cmdline: each argument with its NUL */
        g_autoptr(GString) want = g_string_new(NULL);
        for (guint i = 0; i < argv->len && g_ptr_array_index(argv, i); i++) {
            const char *arg = g_ptr_array_index(argv, i);
            g_string_append_len(want, arg, (gssize)strlen(arg) + 1);
        }
        same = len == want->len && memcmp(have, want->str, len) == 0;
    }
    if (!same) {
        *why = g_strdup("its command line is not the one the definition gives");
        return false;
    }
    *live_out = g_steal_pointer(&live);
    return true;
}

/* A QEMU found by its command line, with no readable status file: take it
 * over when the caller's definition gives exactly that command line. */
static int adopt(TvQemuProcess *proc, const TvQemuProcessConfig *cfg, const TvQemuFound *f,
                 unsigned timeout, char **why)
{
    if (!cfg->definition || !cfg->caps) {
        *why = g_strdup("there is no definition to compare its command line with");
        return -1;
    }
    TvDomainDef *live = NULL;
    if (!runs_definition(proc, cfg, f->pid, &live, why))
        return -1;
    g_autoptr(TvQemuStatus) st = g_new0(TvQemuStatus, 1);
    /* not 'running': an unrecorded QEMU still in "prelaunch" is not resumed */
    st->state = TV_DOMAIN_STATE_PAUSED;
    st->reason = TV_DOMAIN_PAUSED_UNKNOWN;
    st->pid = f->pid;
    st->start_time = f->start_time;
    st->monitor_path = g_strdup(proc->monitor_path);
    st->log_path = g_strdup(proc->log_path);
    tv_qemu_caps_fingerprint_copy(&st->fingerprint, &cfg->caps->fingerprint);
    st->def = live;
    if (tv_qemu_process_attach(proc, st, timeout) < 0) {
        *why = g_strdup_printf("it could not be taken over: %s", tv_error_message());
        tv_error_reset();
        tv_qemu_process_detach(proc);
        return -1;
    }
    return 0;
}

/* The status file cannot be read: keep it, find the QEMU, adopt or kill.
 * 0 when proc took a QEMU over. */
static int reconnect_unreadable(TvQemuProcess *proc, const TvQemuProcessConfig *cfg,
                                const char *error, unsigned timeout, bool *stale)
{
    g_autoptr(GString) note = g_string_new(NULL);
    set_aside(proc, error, note);
    g_autoptr(GArray) found = tv_qemu_process_find(proc->name, proc->monitor_path);
    g_autofree char *why = NULL;
    pid_t adopted = 0;
    for (guint i = 0; i < found->len && !adopted; i++) {
        TvQemuFound *f = &g_array_index(found, TvQemuFound, i);
        g_clear_pointer(&why, g_free);
        if (adopt(proc, cfg, f, timeout, &why) == 0)
            adopted = f->pid;
    }
    g_autofree char *reason = why ? g_strdup_printf("its status file cannot be read and %s", why)
                                  : g_strdup("its status file cannot be read");
    g_autofree char *tail = why ? g_strdup_printf(": %s", why) : g_strdup("");
    int killed = kill_unrecorded(proc, adopted, true, reason, tail, note);
    if (killed < 0) {
        tv_error_prefix("%s", note->str);
        return -1;
    }
    if (adopted) {
        g_string_append_printf(note,
                               "; QEMU pid %d, found by its command line, runs the domain's "
                               "definition: taken over",
                               (int)adopted);
        tv_qemu_process_log_line(proc->log_path, "%s", note->str);
        g_message("domain '%s': %s", proc->name, note->str);
        return 0;
    }
    if (killed == 0)
        g_string_append(note, "; no QEMU of it is running");
    remove_files(proc);
    if (stale)
        *stale = true;
    tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN, "domain '%s' is not running: %s", proc->name,
                    note->str);
    return -1;
}

TvQemuProcess *tv_qemu_process_reconnect(const char *name, const TvQemuProcessConfig *cfg,
                                         bool *stale)
{
    if (stale)
        *stale = false;
    if (tv_domain_name_check(name) < 0 || tv_qemu_process_prepare_dirs(cfg) < 0)
        return NULL;
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_new(name, cfg);
    if (!g_file_test(proc->status_path, G_FILE_TEST_EXISTS)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain '%s' is not running (no status file '%s')", name,
                        proc->status_path);
        return NULL;
    }
    unsigned timeout =
        cfg->monitor_timeout_ms ? cfg->monitor_timeout_ms : DEFAULT_MONITOR_TIMEOUT_MS;
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(proc->status_path);
    if (st && g_strcmp0(st->def->name, name) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "it names domain '%s'", st->def->name);
        g_clear_pointer(&st, tv_qemu_status_free);
    }
    if (!st) {
        g_autofree char *error = g_strdup(tv_error_message());
        tv_error_reset();
        if (reconnect_unreadable(proc, cfg, error, timeout, stale) < 0)
            return NULL;
        return g_steal_pointer(&proc);
    }

    g_autoptr(GString) note = g_string_new(NULL);
    g_autofree char *why = NULL;
    if (tv_qemu_status_is_start(st)) {
        /* the start was never acknowledged: end it (its guest never ran) */
        g_string_append(note, "its start was interrupted (the manager stopped before QEMU "
                              "answered)");
        g_autoptr(GString) killed_note = g_string_new(NULL);
        int killed = kill_unrecorded(proc, 0, false, "its start was interrupted", "", killed_note);
        if (killed < 0)
            return NULL;
        g_string_append_printf(note, ": %s",
                               killed ? killed_note->str : "no QEMU of it was running");
    } else if (tv_qemu_status_check_pid(st, &why) == TV_QEMU_STATUS_PID_ALIVE) {
        TvQemuFound recorded = { .pid = st->pid, .start_time = st->start_time };
        if (tv_qemu_process_attach(proc, st, timeout) == 0) {
            tv_qemu_process_log_line(proc->log_path, "reconnected to QEMU pid %d (%s)",
                                     (int)proc->pid, tv_domain_state_to_string(proc->state));
            return g_steal_pointer(&proc);
        }
        /* never left running unmanaged (as libvirt: a QEMU that cannot be
         * taken over is stopped) */
        g_autofree char *error = g_strdup(tv_error_message());
        tv_error_reset();
        if (tv_qemu_process_kill_found(&recorded, true) < 0) {
            tv_error_prefix("domain '%s': QEMU pid %d cannot be taken over (%s) nor killed", name,
                            (int)recorded.pid, error);
            return NULL;
        }
        tv_qemu_process_log_line(proc->log_path, "QEMU pid %d cannot be taken over (%s): killed",
                                 (int)recorded.pid, error);
        g_string_printf(note, "QEMU pid %d cannot be taken over (%s) and was killed",
                        (int)recorded.pid, error);
    } else {
        g_string_printf(note, "stale status file '%s' removed (%s)", proc->status_path, why);
        if (kill_unrecorded(proc, 0, true, "its status file names another pid",
                            " (the status file does not name it)", note) < 0)
            return NULL;
    }
    remove_files(proc);
    if (stale)
        *stale = true;
    tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN, "domain '%s' is not running: %s", name,
                    note->str);
    return NULL;
}
