/* Changes to a domain's definition with libvirt's live/config semantics
 * (VIR_DOMAIN_AFFECT_*), and what uses them: memory, vCPU counts, reset,
 * the simple getters (maximum memory, OS type, vCPU counts).
 *
 * A config change edits a copy of the persistent definition, writes it, and
 * only then swaps it in; a live change edits the running QEMU's definition
 * (its status file is rewritten).  With both, the live side goes first and
 * a failure of the config side is reported after the live one took effect,
 * as libvirt does. */
#include "qemu_driver_priv.h"
#include "qemu_monitor.h"
#include "tv_error.h"

#include <string.h>

static int not_running(const char *name)
{
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running", name);
    return -1;
}

static int balloon(TvQemuMonitor *mon, void *opaque)
{
    return tv_qemu_monitor_balloon(mon, *(const guint64 *)opaque);
}

static int system_reset(TvQemuMonitor *mon, void *opaque)
{
    (void)opaque;
    return tv_qemu_monitor_system_reset(mon);
}

int tv_driver_affect(TvDriverDomain *dom, unsigned flags, bool setter, bool *live, bool *config)
{
    bool want_live = flags & TV_AFFECT_LIVE, want_config = flags & TV_AFFECT_CONFIG;
    if (want_live && want_config && !setter) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "flags 0x1 (live) and 0x2 (config) are mutually exclusive here: ask for "
                        "one definition");
        return -1;
    }
    g_mutex_lock(&dom->lock);
    bool running = dom->run != NULL, persistent = dom->def != NULL;
    g_mutex_unlock(&dom->lock);
    if (!want_live && !want_config) { /* current */
        want_live = running;
        want_config = !running;
    }
    if (want_live && !running) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_OPERATION_INVALID,
                        "domain '%s' is not running: its live definition cannot be used (flag "
                        "0x1)",
                        dom->name);
        return -1;
    }
    if (want_config && !persistent) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_OPERATION_INVALID,
                        "domain '%s' is transient: it has no persistent definition (flag 0x2)",
                        dom->name);
        return -1;
    }
    *live = want_live;
    *config = want_config;
    return 0;
}

TvDriverRun *tv_driver_run_get(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    TvDriverRun *run = dom->run;
    if (run)
        g_atomic_int_inc(&run->refs);
    g_mutex_unlock(&dom->lock);
    if (!run)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    return run;
}

int tv_driver_config_update(TvQemuDriver *drv, TvDriverDomain *dom, TvDriverDefEdit edit,
                            void *opaque)
{
    g_mutex_lock(&dom->lock);
    TvDomainDef *copy = dom->def ? tv_domain_def_copy(dom->def) : NULL;
    g_mutex_unlock(&dom->lock);
    if (!copy)
        return -1; /* the copy says why; transient domains are refused before */
    if (edit(copy, opaque) < 0 || tv_driver_persist_save(drv, copy) < 0) {
        tv_domain_def_free(copy);
        return -1;
    }
    g_mutex_lock(&dom->lock);
    TvDomainDef *old = g_steal_pointer(&dom->def);
    if (dom->run && !dom->run->def)
        dom->run->def = g_steal_pointer(&old); /* what runs keeps its definition */
    tv_domain_def_free(old);
    dom->def = copy;
    g_mutex_unlock(&dom->lock);
    return 0;
}

int tv_driver_live_update(TvDriverDomain *dom, TvDriverDefEdit edit, void *opaque)
{
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    int rc = run->proc ? tv_qemu_process_update_def(run->proc, edit, opaque) : -1;
    if (!run->proc)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    tv_driver_run_unref(run);
    return rc;
}

int tv_driver_read_def(TvDriverDomain *dom, bool live, void (*fn)(const TvDomainDef *, void *),
                       void *opaque)
{
    if (live) {
        TvDriverRun *run = tv_driver_run_get(dom);
        if (!run)
            return -1;
        if (run->proc) {
            tv_qemu_process_read_def(run->proc, fn, opaque);
        } else {
            g_mutex_lock(&dom->lock);
            fn(run->def ? run->def : dom->def, opaque);
            g_mutex_unlock(&dom->lock);
        }
        tv_driver_run_unref(run);
        return 0;
    }
    g_mutex_lock(&dom->lock);
    if (dom->def)
        fn(dom->def, opaque);
    g_mutex_unlock(&dom->lock);
    return 0;
}

static void copy_def(const TvDomainDef *def, void *opaque)
{
    *(TvDomainDef **)opaque = tv_domain_def_copy(def);
}

int tv_driver_update(TvQemuDriver *drv, TvDriverDomain *dom, bool live, bool config,
                     TvDriverDefEdit edit, void *opaque)
{
    if (live && config) { /* the live edit on a copy first: both apply, or neither */
        TvDomainDef *copy = NULL;
        if (tv_driver_read_def(dom, true, copy_def, &copy) < 0 || !copy)
            return -1;
        int rc = edit(copy, opaque);
        tv_domain_def_free(copy);
        if (rc < 0)
            return -1;
    }
    if (config && tv_driver_config_update(drv, dom, edit, opaque) < 0)
        return -1;
    if (live && tv_driver_live_update(dom, edit, opaque) < 0)
        return -1;
    return 0;
}

/* A copy of what a reader needs from the definition that describes the
 * domain now: the running QEMU's, else the persistent one. */
typedef struct {
    unsigned long long memory_kib, current_kib;
    unsigned vcpus, vcpus_current;
    bool balloon;
    char *machine;
} DefFacts;

static void facts_of(const TvDomainDef *def, void *opaque)
{
    DefFacts *f = opaque;
    f->memory_kib = def->memory_kib;
    f->current_kib = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    f->vcpus = def->vcpus;
    f->vcpus_current = tv_domain_def_vcpus_current(def);
    f->balloon = def->devices.memballoon == TV_BALLOON_MODEL_VIRTIO;
    f->machine = g_strdup(def->os.machine);
}

/* Facts of the live (live) or persistent definition; -1 when gone. */
static int read_facts(TvDriverDomain *dom, bool live, DefFacts *f)
{
    memset(f, 0, sizeof(*f));
    return tv_driver_read_def(dom, live, facts_of, f);
}

int tv_driver_domain_facts(TvDriverDomain *dom, unsigned long long *max_kib,
                           unsigned long long *cur_kib, unsigned *vcpus)
{
    g_mutex_lock(&dom->lock);
    bool running = dom->run != NULL;
    g_mutex_unlock(&dom->lock);
    DefFacts f;
    if (read_facts(dom, running, &f) < 0) {
        tv_error_reset(); /* stopped meanwhile: the persistent one */
        read_facts(dom, false, &f);
    }
    *max_kib = f.memory_kib;
    *cur_kib = f.current_kib;
    *vcpus = f.vcpus_current;
    g_free(f.machine);
    return 0;
}

int tv_qemu_driver_get_max_memory(TvQemuDriver *drv, const unsigned char *uuid,
                                  unsigned long long *kib)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    unsigned long long cur = 0;
    unsigned vcpus = 0;
    return tv_driver_domain_facts(dom, kib, &cur, &vcpus);
}

char *tv_qemu_driver_get_os_type(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    return dom ? g_strdup("hvm") : NULL;
}

#define VCPU_GET_FLAGS                                                                             \
    (TV_AFFECT_LIVE | TV_AFFECT_CONFIG | TV_VCPU_MAXIMUM | TV_VCPU_GUEST | TV_VCPU_HOTPLUGGABLE)

int tv_qemu_driver_get_vcpus_flags(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags & ~VCPU_GET_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "vCPU count flags 0x%x are not supported; accepted: 0x%x", flags,
                        VCPU_GET_FLAGS);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    bool live = false, config = false;
    if (!dom || tv_driver_affect(dom, flags, false, &live, &config) < 0)
        return -1;
    if (flags & TV_VCPU_GUEST) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "the guest's own vCPU count (flag 0x8) needs the QEMU guest agent, which "
                        "tagvirt does not talk to");
        return -1;
    }
    DefFacts f;
    if (read_facts(dom, live, &f) < 0)
        return -1;
    g_free(f.machine);
    return (int)((flags & TV_VCPU_MAXIMUM) ? f.vcpus : f.vcpus_current);
}

typedef struct {
    unsigned nvcpus;
    bool maximum;
} VcpuEdit;

static int edit_vcpus(TvDomainDef *def, void *opaque)
{
    const VcpuEdit *e = opaque;
    if (e->maximum) {
        if (def->cpu.sockets && def->cpu.sockets * def->cpu.cores * def->cpu.threads != e->nvcpus) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                            "cannot make the vCPU count %u: /domain/cpu/topology gives %u sockets "
                            "x %u cores x %u threads = %u; change the topology with it",
                            e->nvcpus, def->cpu.sockets, def->cpu.cores, def->cpu.threads,
                            def->cpu.sockets * def->cpu.cores * def->cpu.threads);
            return -1;
        }
        unsigned present = tv_domain_def_vcpus_current(def);
        def->vcpus = e->nvcpus;
        def->vcpus_current = present < e->nvcpus ? present : 0;
        return 0;
    }
    if (e->nvcpus > def->vcpus) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "requested vcpus is greater than max allowable vcpus for the persistent "
                        "domain: %u > %u (raise the maximum with flag 0x4 first)",
                        e->nvcpus, def->vcpus);
        return -1;
    }
    def->vcpus_current = e->nvcpus < def->vcpus ? e->nvcpus : 0;
    return 0;
}

/* The machine's vCPU limit for the definition's machine type (0: unknown). */
static unsigned machine_max_cpus(TvQemuDriver *drv, TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    const TvDomainDef *def = dom->def;
    g_autofree char *machine = def ? g_strdup(def->os.machine) : NULL;
    g_autofree char *emulator =
        def && def->devices.emulator ? g_strdup(def->devices.emulator) : NULL;
    g_mutex_unlock(&dom->lock);
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, emulator);
    const TvQemuMachine *m = caps && machine ? tv_qemu_caps_machine(caps, machine) : NULL;
    tv_error_reset();
    return m ? m->max_cpus : 0;
}

#define VCPU_SET_FLAGS                                                                             \
    (TV_AFFECT_LIVE | TV_AFFECT_CONFIG | TV_VCPU_MAXIMUM | TV_VCPU_GUEST | TV_VCPU_HOTPLUGGABLE)

int tv_qemu_driver_set_vcpus(TvQemuDriver *drv, const unsigned char *uuid, unsigned nvcpus,
                             unsigned flags)
{
    if (flags & ~VCPU_SET_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "vCPU flags 0x%x are not supported; accepted: 0x%x", flags, VCPU_SET_FLAGS);
        return -1;
    }
    if (nvcpus == 0) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "nvcpus must not be zero: a guest needs at least one vCPU");
        return -1;
    }
    if ((flags & TV_VCPU_MAXIMUM) && (flags & TV_AFFECT_LIVE)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "the maximum vCPU count (flag 0x4) can only change in the persistent "
                        "definition: add flag 0x2 (config), not 0x1 (live)");
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "set vCPUs") < 0)
        return -1;
    bool live = false, config = false;
    int rc = tv_driver_affect(dom, flags, true, &live, &config);
    if (rc == 0 && (flags & TV_VCPU_MAXIMUM) && live) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "the maximum vCPU count (flag 0x4) of running domain '%s' cannot "
                        "change: add flag 0x2 (config) for its next start",
                        dom->name);
        rc = -1;
    }
    unsigned limit = rc == 0 ? machine_max_cpus(drv, dom) : 0;
    if (rc == 0 && limit && nvcpus > limit) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "requested vCPU count %u exceeds the %u the machine type allows", nvcpus,
                        limit);
        rc = -1;
    }
    if (rc == 0 && (flags & TV_VCPU_GUEST)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "changing the guest's own vCPUs (flag 0x8) needs the QEMU guest agent, "
                        "which tagvirt does not talk to");
        rc = -1;
    }
    if (rc == 0 && live) {
        DefFacts f;
        rc = read_facts(dom, true, &f);
        if (rc == 0 && nvcpus != f.vcpus_current) {
            /* QEMU's virt machine has no CPU hot-plug (no hotpluggable CPUs) */
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                            "cpu hotplug is not supported: running domain '%s' keeps its %u "
                            "vCPUs (QEMU's aarch64 'virt' machine cannot add or remove one); "
                            "use flag 0x2 (config) for its next start",
                            dom->name, f.vcpus_current);
            rc = -1;
        }
        g_free(f.machine);
    }
    if (rc == 0 && config) {
        VcpuEdit e = { nvcpus, (flags & TV_VCPU_MAXIMUM) != 0 };
        rc = tv_driver_config_update(drv, dom, edit_vcpus, &e);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

typedef struct {
    unsigned long long kib;
    bool maximum;
} MemEdit;

static int edit_memory(TvDomainDef *def, void *opaque)
{
    const MemEdit *e = opaque;
    unsigned long long cur = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    if (e->maximum) {
        def->memory_kib = e->kib;
        def->current_memory_kib = cur < e->kib ? cur : 0;
        return 0;
    }
    if (e->kib > def->memory_kib) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "cannot set memory higher than max memory: %llu KiB > %llu KiB (raise "
                        "the maximum with flag 0x4 first)",
                        e->kib, def->memory_kib);
        return -1;
    }
    def->current_memory_kib = e->kib < def->memory_kib ? e->kib : 0;
    return 0;
}

static int edit_current_memory(TvDomainDef *def, void *opaque)
{
    const MemEdit *e = opaque;
    def->current_memory_kib = e->kib < def->memory_kib ? e->kib : 0;
    return 0;
}

void tv_driver_balloon_changed(TvDriverRun *run, unsigned long long kib)
{
    MemEdit e = { kib, false };
    if (run->proc && tv_qemu_process_update_def(run->proc, edit_current_memory, &e) < 0)
        tv_error_reset(); /* gone meanwhile */
}

/* The balloon target of a running domain (QMP balloon, bytes). */
static int balloon_live(TvDriverDomain *dom, unsigned long long kib)
{
    DefFacts f;
    if (read_facts(dom, true, &f) < 0)
        return -1;
    g_free(f.machine);
    if (kib > f.memory_kib) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "cannot set memory higher than max memory: %llu KiB > %llu KiB", kib,
                        f.memory_kib);
        return -1;
    }
    if (!f.balloon) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "Unable to change memory of active domain without the balloon device "
                        "and guest OS balloon driver: domain '%s' has no <memballoon "
                        "model='virtio'/>",
                        dom->name);
        return -1;
    }
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    guint64 bytes = kib * 1024;
    int rc = run->proc ? tv_qemu_process_with_monitor(run->proc, balloon, &bytes)
                       : not_running(dom->name);
    tv_driver_run_unref(run);
    /* the live currentMemory follows QEMU's BALLOON_CHANGE events (the guest's answer) */
    return rc;
}

#define MEM_SET_FLAGS (TV_AFFECT_LIVE | TV_AFFECT_CONFIG | TV_MEM_MAXIMUM)

int tv_qemu_driver_set_memory(TvQemuDriver *drv, const unsigned char *uuid, unsigned long long kib,
                              unsigned flags)
{
    if (flags & ~MEM_SET_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "memory flags 0x%x are not supported; accepted: 0x1 (live), 0x2 "
                        "(config), 0x4 (maximum)",
                        flags);
        return -1;
    }
    if (kib == 0) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "memory must not be zero: give a size in KiB");
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "set memory") < 0)
        return -1;
    bool live = false, config = false;
    int rc = tv_driver_affect(dom, flags, true, &live, &config);
    if (rc == 0 && live && (flags & TV_MEM_MAXIMUM)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot resize the maximum memory on an active domain: domain '%s' runs "
                        "(use flag 0x2, config, for its next start)",
                        dom->name);
        rc = -1;
    }
    if (rc == 0 && config) { /* checked before the live change: none is half done */
        g_mutex_lock(&dom->lock);
        unsigned long long max = dom->def->memory_kib;
        g_mutex_unlock(&dom->lock);
        if (!(flags & TV_MEM_MAXIMUM) && kib > max) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                            "cannot set memory higher than max memory: %llu KiB > %llu KiB "
                            "(raise the maximum with flag 0x4 first)",
                            kib, max);
            rc = -1;
        }
    }
    if (rc == 0 && live)
        rc = balloon_live(dom, kib);
    if (rc == 0 && config) {
        MemEdit e = { kib, (flags & TV_MEM_MAXIMUM) != 0 };
        rc = tv_driver_config_update(drv, dom, edit_memory, &e);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

int tv_qemu_driver_reset(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "reset flags 0x%x are not supported; accepted: 0", flags);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "reset") < 0)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    int rc = -1;
    if (run) {
        /* QEMU resets in place (as a guest reboot would) and says RESET: the reboot event */
        rc = run->proc ? tv_qemu_process_with_monitor(run->proc, system_reset, NULL)
                       : not_running(dom->name);
        tv_driver_run_unref(run);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}
