/* Running a capability probe: live (QMP process and guest-ABI boots in
 * parallel, optionally recorded) or replayed from a recording. */
#include "qemu_capabilities_priv.h"
#include "qemu_child.h"
#include "qemu_monitor.h"
#include "qemu_zygote.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    const char *binary;
    const char *firmware;
    TvGuestAbiQueue *queue;
    unsigned parallel;
    unsigned timeout_ms;
    TvQemuZygote *zygote; /* NULL: plain spawns */
    TvError *error;       /* tv_error is per thread: handed back to the caller */
} BootJob;

static gpointer boot_thread(gpointer data)
{
    BootJob *job = data;
    gint64 t0 = g_get_monotonic_time();
    int rc = tv_guest_abi_run(job->binary, job->firmware, job->queue, job->parallel,
                              job->timeout_ms, job->zygote);
    g_debug("caps: %u guest-ABI boots, %u at once: done at %.1f ms",
            tv_guest_abi_queue_boots(job->queue)->len, job->parallel,
            (g_get_monotonic_time() - t0) / 1000.0);
    if (rc < 0)
        job->error = tv_error_steal();
    return NULL;
}

/* The QMP process failed: say how it ended, with its own first error line. */
static void report_qmp_failure(const char *binary, TvQemuChild *child)
{
    g_autoptr(TvError) err = tv_error_steal();
    /* a monitor failure (EOF, timeout, garbage) is explained by how the process ended */
    bool transport =
        err && err->domain == TV_FROM_QEMU && tv_qemu_monitor_error_class() == TV_QMP_ERROR_NONE;
    if (transport && err->code != TV_ERR_OPERATION_TIMEOUT)
        tv_qemu_child_wait(child, g_get_monotonic_time() + 300 * 1000);
    bool ended_itself = child->reaped;
    tv_qemu_child_kill(child);
    g_autofree char *first = tv_qemu_child_first_error(child);
    if (!transport) {
        tv_error_report(
            err ? err->domain : TV_FROM_CAPABILITIES, err ? err->code : TV_ERR_INTERNAL_ERROR,
            "cannot probe QEMU binary '%s': %s", binary, err ? err->message : "unknown error");
        return;
    }
    g_autofree char *status =
        ended_itself ? tv_qemu_child_describe_status(child->status) : g_strdup("was killed");
    tv_error_report(TV_FROM_CAPABILITIES, err->code,
                    "cannot probe QEMU binary '%s': %s; the process %s%s%s", binary, err->message,
                    status, first ? "; its stderr says: " : "", first ? first : "");
}

static char *recording_comment(const TvQemuCaps *caps, const TvHostFacts *host)
{
    return g_strdup_printf("binary: %s\n"
                           "QEMU %u.%u.%u (%s)\n"
                           "host: %s, kernel %s\n"
                           "recorded with tagvirt %s; see docs/capabilities.rst",
                           caps->binary, caps->version / 1000000, caps->version / 1000 % 1000,
                           caps->version % 1000, caps->package ? caps->package : "", host->arch,
                           host->kernel_release, TAGVIRT_VERSION);
}

TvQemuCaps *tv_qemu_caps_probe(const char *binary, const TvHostFacts *host,
                               const TvQemuCapsProbeOptions *opts)
{
    TvQemuCapsProbeOptions dflt = { 0 };
    if (!opts)
        opts = &dflt;
    unsigned timeout = opts->timeout_ms ? opts->timeout_ms : TV_QEMU_CAPS_TIMEOUT_DEFAULT;
    /* one more than the CPUs: each QEMU spends part of its start blocked (measured) */
    unsigned parallel = opts->parallel ? opts->parallel : g_get_num_processors() + 1;
    g_autoptr(TvHostFacts) own_host = NULL;
    if (!host) {
        if (!(own_host = tv_host_facts_read(NULL)))
            return NULL;
        host = own_host;
    }

    g_autofree char *firmware = tv_guest_abi_firmware_path(opts->probe_firmware);
    if (!firmware)
        return NULL;
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_new();
    caps->binary = g_strdup(binary);
    if (tv_qemu_caps_fingerprint_read(binary, host, &caps->fingerprint) < 0)
        return NULL;

    /* QEMU's loading paid once for every boot (docs/performance.md); NULL: plain */
    g_autoptr(TvQemuZygote) zygote = NULL;
    if (!opts->no_zygote && tv_qemu_zygote_enabled())
        zygote = tv_qemu_zygote_start(binary);
    const char *argv[] = { binary,     "-machine", "none",        "-accel",          "tcg",
                           "-display", "none",     "-nodefaults", "-no-user-config", "-qmp",
                           "stdio",    NULL };
    TvQemuChild child;
    if (tv_qemu_child_spawn(&child, argv, true) < 0) {
        tv_qemu_child_clear(&child);
        return NULL;
    }
    g_autoptr(TvQemuMonitor) mon = tv_qemu_monitor_open_fds(child.out_fd, child.in_fd);
    child.out_fd = child.in_fd = -1; /* the monitor owns them now */
    g_autoptr(TvQemuCapsRecording) rec = NULL;
    if (opts->record_path) {
        rec = tv_qemu_caps_recording_new();
        tv_qemu_monitor_record(mon, rec->qmp, false);
    }
    /* the runner boots each 64-bit model as soon as QMP has named it */
    g_autoptr(TvGuestAbiQueue) queue = tv_guest_abi_queue_new();
    TvCapsQmp q = {
        .mon = mon, .boots = queue, .kvm = tv_host_kvm_usable(host), .timeout_ms = timeout
    };
    BootJob job = { binary, firmware, queue, parallel, timeout, zygote, NULL };
    gint64 t0 = g_get_monotonic_time();
    GThread *thread = g_thread_new("caps-boots", boot_thread, &job);

    int rc = tv_caps_qmp_probe_cpus(&q, caps);
    g_debug("caps: QMP up to the CPU models: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    if (rc == 0)
        rc = tv_caps_qmp_probe_rest(&q, caps);
    if (rc < 0)
        report_qmp_failure(binary, &child);
    else if (tv_qemu_child_wait(&child, g_get_monotonic_time() + (gint64)timeout * 1000) < 0)
        tv_qemu_child_kill(&child); /* answered 'quit' but lingers: not worth failing */
    g_debug("caps: QMP done: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    g_thread_join(thread);
    tv_qemu_child_clear(&child);
    if (rc < 0) {
        tv_error_free(job.error);
        return NULL;
    }
    if (job.error) {
        tv_error_restore(job.error);
        return NULL;
    }
    GPtrArray *boots = tv_guest_abi_queue_boots(queue);
    if (tv_guest_abi_apply(caps, boots) < 0)
        return NULL;

    if (rec) {
        rec->comment = recording_comment(caps, host);
        for (guint i = 0; i < boots->len; i++) {
            TvGuestAbiBoot *b = boots->pdata[i], *copy = g_new0(TvGuestAbiBoot, 1);
            *copy = *b;
            copy->cpu_model = g_strdup(b->cpu_model);
            copy->text = g_strdup(b->text);
            g_ptr_array_add(rec->boots, copy);
        }
        g_autofree char *text = tv_qemu_caps_recording_format(rec);
        if (tv_file_write_atomic(opts->record_path, text, strlen(text), 0644) < 0)
            return NULL;
    }
    return g_steal_pointer(&caps);
}

/* Fill the plan's boots from the recording; every one must be there once. */
static int replay_boots(TvQemuCapsRecording *rec, GPtrArray *plan)
{
    g_autofree bool *used = g_new0(bool, rec->boots->len + 1);
    for (guint i = 0; i < plan->len; i++) {
        TvGuestAbiBoot *b = plan->pdata[i];
        for (guint j = 0; j < rec->boots->len && !b->done; j++) {
            TvGuestAbiBoot *r = rec->boots->pdata[j];
            if (used[j] || r->again || r->accel != b->accel || r->mte != b->mte ||
                !g_str_equal(r->cpu_model, b->cpu_model))
                continue;
            used[j] = true;
            b->done = true;
            b->refused = r->refused;
            b->text = g_strdup(r->text);
        }
        if (!b->done) {
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                            "recording has no boot of CPU model '%s' with %s and mte=%s",
                            b->cpu_model, tv_accel_to_string(b->accel), b->mte ? "on" : "off");
            return -1;
        }
    }
    for (guint j = 0; j < rec->boots->len; j++) {
        TvGuestAbiBoot *r = rec->boots->pdata[j];
        if (!used[j] && r->again) { /* repeats: checked against their first boot */
            TvGuestAbiBoot *copy = g_new0(TvGuestAbiBoot, 1);
            *copy = *r;
            copy->cpu_model = g_strdup(r->cpu_model);
            copy->text = g_strdup(r->text);
            g_ptr_array_add(plan, copy);
            continue;
        }
        if (!used[j]) {
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                            "recording has a boot the probe does not make: '%s' %s mte=%s",
                            r->cpu_model, tv_accel_to_string(r->accel), r->mte ? "on" : "off");
            return -1;
        }
    }
    return 0;
}

TvQemuCaps *tv_qemu_caps_replay(const char *recording, size_t len, const char *binary)
{
    g_autoptr(TvQemuCapsRecording) rec = tv_qemu_caps_recording_parse(recording, len);
    if (!rec)
        return NULL;
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_new();
    caps->binary = g_strdup(binary);
    g_autoptr(TvGuestAbiQueue) queue = tv_guest_abi_queue_new();
    if (!tv_qemu_monitor_script_has_greeting(rec->qmp)) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "recording has no QMP greeting");
        return NULL;
    }
    g_autoptr(TvQemuMonitor) mon = tv_qemu_monitor_open_replay(rec->qmp, "the probe");
    TvCapsQmp q = { .mon = mon, .boots = queue, .timeout_ms = TV_QEMU_CAPS_TIMEOUT_DEFAULT };
    /* the live probe booted 'host' under KVM only where the host could */
    for (guint j = 0; j < rec->boots->len; j++)
        q.kvm |= ((TvGuestAbiBoot *)rec->boots->pdata[j])->accel == TV_ACCEL_KVM;

    if (tv_caps_qmp_probe_cpus(&q, caps) < 0)
        return NULL;
    GPtrArray *boots = tv_guest_abi_queue_boots(queue);
    if (replay_boots(rec, boots) < 0 || tv_caps_qmp_probe_rest(&q, caps) < 0)
        return NULL;
    if (tv_qemu_monitor_replay_check_done(mon) < 0)
        return NULL;
    if (tv_guest_abi_apply(caps, boots) < 0)
        return NULL;
    return g_steal_pointer(&caps);
}
