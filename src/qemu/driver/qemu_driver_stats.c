/* Domain statistics as libvirt's clients poll them: getAllDomainStats and
 * domainListGetStats (the state, cpu-total, balloon, vcpu, interface and
 * block groups with libvirt's typed parameter names), domblkstat and
 * domifstat.  The figures are the ones the other calls answer: the state of
 * getState, the CPU time and memory of getInfo, the vCPUs of getVcpus,
 * QEMU's query-blockstats for disks, the tap's counters for interfaces. */
#include "qemu_driver_priv.h"
#include "qemu_monitor_commands.h"
#include "tv_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- what the definition says, copied out under its lock ---- */

typedef struct {
    char *target, *path, *alias;
    TvDiskFormat format;
} DiskFacts;

typedef struct {
    char *ifname, *mac, *alias;
} NetFacts;

typedef struct {
    GPtrArray *disks; /* DiskFacts */
    GPtrArray *nets;  /* NetFacts */
    unsigned vcpus_max;
} DefFacts;

static void disk_facts_free(gpointer p)
{
    DiskFacts *d = p;
    g_free(d->target);
    g_free(d->path);
    g_free(d->alias);
    g_free(d);
}

static void net_facts_free(gpointer p)
{
    NetFacts *n = p;
    g_free(n->ifname);
    g_free(n->mac);
    g_free(n->alias);
    g_free(n);
}

static void def_facts_clear(DefFacts *f)
{
    g_clear_pointer(&f->disks, g_ptr_array_unref);
    g_clear_pointer(&f->nets, g_ptr_array_unref);
}

static void copy_facts(const TvDomainDef *def, void *opaque)
{
    DefFacts *f = opaque;
    f->vcpus_max = def->vcpus;
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        const TvDomainDisk *src = def->devices.disks[i];
        DiskFacts *d = g_new0(DiskFacts, 1);
        d->target = g_strdup(src->target_dev);
        d->path = g_strdup(src->path);
        d->alias = g_strdup(src->alias);
        d->format = src->format;
        g_ptr_array_add(f->disks, d);
    }
    for (size_t i = 0; i < def->devices.nnets; i++) {
        const TvDomainNet *src = def->devices.nets[i];
        NetFacts *n = g_new0(NetFacts, 1);
        n->ifname = g_strdup(src->ifname);
        n->mac = g_strdup(src->mac);
        n->alias = g_strdup(src->alias);
        g_ptr_array_add(f->nets, n);
    }
}

/* The running QEMU's definition (live) or the persistent one. */
static int read_facts(TvDriverDomain *dom, bool live, DefFacts *f)
{
    f->disks = g_ptr_array_new_with_free_func(disk_facts_free);
    f->nets = g_ptr_array_new_with_free_func(net_facts_free);
    return tv_driver_read_def(dom, live, copy_facts, f);
}

/* ---- typed parameters ---- */

static void param_clear(gpointer p)
{
    TvTypedParam *t = p;
    g_free(t->field);
    g_free(t->s);
}

static TvTypedParam *param(GArray *params, TvTypedParamType type, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static TvTypedParam *param(GArray *params, TvTypedParamType type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    TvTypedParam p = { .field = g_strdup_vprintf(fmt, ap), .type = type };
    va_end(ap);
    g_array_append_val(params, p);
    return &g_array_index(params, TvTypedParam, params->len - 1);
}

#define ADD_INT(a, v, ...)  (param(a, TV_TYPED_PARAM_INT, __VA_ARGS__)->i = (v))
#define ADD_UINT(a, v, ...) (param(a, TV_TYPED_PARAM_UINT, __VA_ARGS__)->u = (v))
#define ADD_ULL(a, v, ...)  (param(a, TV_TYPED_PARAM_ULLONG, __VA_ARGS__)->u = (v))
#define ADD_STR(a, v, ...)  (param(a, TV_TYPED_PARAM_STRING, __VA_ARGS__)->s = g_strdup(v))

void tv_domain_stats_record_free(TvDomainStatsRecord *rec)
{
    if (!rec)
        return;
    tv_domain_ref_clear(&rec->dom);
    if (rec->params)
        g_array_unref(rec->params);
    g_free(rec);
}

/* ---- host-side counters ---- */

/* A tap's counters from /proc/net/dev of the daemon's network namespace,
 * where tagvirtd made it; turned to the guest's side. */
static bool tap_counters(const char *ifname, TvInterfaceStats *out)
{
    FILE *f = fopen("/proc/net/dev", "re");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        if (strcmp(g_strstrip(line), ifname) != 0)
            continue;
        unsigned long long v[16] = { 0 };
        if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                   &v[11]) != 12)
            break;
        /* host receive 0..3 is what the guest sent, host transmit 8..11 what it got */
        out->rx_bytes = (long long)v[8];
        out->rx_packets = (long long)v[9];
        out->rx_errs = (long long)v[10];
        out->rx_drop = (long long)v[11];
        out->tx_bytes = (long long)v[0];
        out->tx_packets = (long long)v[1];
        out->tx_errs = (long long)v[2];
        out->tx_drop = (long long)v[3];
        found = true;
    }
    fclose(f);
    return found;
}

typedef struct {
    TvQmpBlockList block;
    TvQmpBlockStatsList stats;
} BlockAnswers;

static int query_blocks(TvQemuMonitor *mon, void *opaque)
{
    BlockAnswers *a = opaque;
    if (tv_qemu_monitor_query_block(mon, &a->block) < 0)
        return -1;
    return tv_qemu_monitor_query_blockstats(mon, &a->stats);
}

static void block_answers_clear(BlockAnswers *a)
{
    tv_qmp_block_list_clear(&a->block);
    tv_qmp_block_stats_list_clear(&a->stats);
}

/* query-block and query-blockstats of a running domain; false (and no
 * error left) when QEMU cannot answer now */
static bool blocks_of(TvDriverRun *run, BlockAnswers *a)
{
    if (run->proc && tv_qemu_process_with_monitor(run->proc, query_blocks, a) == 0)
        return true;
    block_answers_clear(a);
    tv_error_reset();
    return false;
}

/* ---- the groups ---- */

typedef struct {
    TvQemuDriver *drv;
    TvDriverDomain *dom;
    TvDriverRun *run; /* NULL: shut off */
    int state, reason;
    GArray *params;
} Collect;

static void group_state(Collect *c)
{
    ADD_INT(c->params, c->state, "state.state");
    ADD_INT(c->params, c->reason, "state.reason");
}

static void group_cpu(Collect *c)
{
    unsigned long long user = 0, sys = 0;
    if (!c->run || !c->run->proc ||
        !tv_driver_process_cpu(tv_qemu_process_pid(c->run->proc), &user, &sys))
        return;
    ADD_ULL(c->params, user + sys, "cpu.time");
    ADD_ULL(c->params, user, "cpu.user");
    ADD_ULL(c->params, sys, "cpu.system");
}

static void group_balloon(Collect *c)
{
    unsigned long long max_kib = 0, cur_kib = 0;
    unsigned vcpus = 0;
    if (tv_driver_domain_facts(c->dom, &max_kib, &cur_kib, &vcpus) < 0) {
        tv_error_reset();
        return;
    }
    ADD_ULL(c->params, cur_kib, "balloon.current");
    ADD_ULL(c->params, max_kib, "balloon.maximum");
}

static void group_vcpu(Collect *c)
{
    unsigned long long max_kib = 0, cur_kib = 0;
    unsigned vcpus = 0;
    DefFacts f = { 0 };
    if (tv_driver_domain_facts(c->dom, &max_kib, &cur_kib, &vcpus) < 0 ||
        read_facts(c->dom, c->run != NULL, &f) < 0) {
        def_facts_clear(&f);
        tv_error_reset();
        return;
    }
    ADD_UINT(c->params, vcpus, "vcpu.current");
    ADD_UINT(c->params, f.vcpus_max, "vcpu.maximum");
    def_facts_clear(&f);
    if (!c->run || vcpus == 0)
        return;
    g_autofree TvVcpuInfo *info = g_new0(TvVcpuInfo, vcpus);
    int n = tv_qemu_driver_get_vcpus(c->drv, c->dom->uuid, (int)vcpus, info, NULL, 0);
    if (n < 0) {
        tv_error_reset();
        return;
    }
    for (int i = 0; i < n; i++) {
        ADD_INT(c->params, info[i].state, "vcpu.%u.state", info[i].number);
        ADD_ULL(c->params, info[i].cpu_time_ns, "vcpu.%u.time", info[i].number);
    }
}

static void group_interface(Collect *c)
{
    DefFacts f = { 0 };
    if (!c->run || read_facts(c->dom, true, &f) < 0) {
        def_facts_clear(&f);
        tv_error_reset();
        return;
    }
    ADD_UINT(c->params, f.nets->len, "net.count");
    for (guint i = 0; i < f.nets->len; i++) {
        const NetFacts *n = g_ptr_array_index(f.nets, i);
        TvInterfaceStats st = { 0 };
        /* user networking has no host device: named and counted by nothing */
        if (!n->ifname)
            continue;
        ADD_STR(c->params, n->ifname, "net.%u.name", i);
        if (!tap_counters(n->ifname, &st))
            continue;
        ADD_ULL(c->params, (unsigned long long)st.rx_bytes, "net.%u.rx.bytes", i);
        ADD_ULL(c->params, (unsigned long long)st.rx_packets, "net.%u.rx.pkts", i);
        ADD_ULL(c->params, (unsigned long long)st.rx_errs, "net.%u.rx.errs", i);
        ADD_ULL(c->params, (unsigned long long)st.rx_drop, "net.%u.rx.drop", i);
        ADD_ULL(c->params, (unsigned long long)st.tx_bytes, "net.%u.tx.bytes", i);
        ADD_ULL(c->params, (unsigned long long)st.tx_packets, "net.%u.tx.pkts", i);
        ADD_ULL(c->params, (unsigned long long)st.tx_errs, "net.%u.tx.errs", i);
        ADD_ULL(c->params, (unsigned long long)st.tx_drop, "net.%u.tx.drop", i);
    }
    def_facts_clear(&f);
}

static void group_block(Collect *c)
{
    DefFacts f = { 0 };
    if (read_facts(c->dom, c->run != NULL, &f) < 0) {
        def_facts_clear(&f);
        tv_error_reset();
        return;
    }
    BlockAnswers a = { 0 };
    bool live = c->run && blocks_of(c->run, &a);
    ADD_UINT(c->params, f.disks->len, "block.count");
    for (guint i = 0; i < f.disks->len; i++) {
        const DiskFacts *d = g_ptr_array_index(f.disks, i);
        ADD_STR(c->params, d->target, "block.%u.name", i);
        if (d->path)
            ADD_STR(c->params, d->path, "block.%u.path", i);
        const TvQmpBlockStats *st =
            live && d->alias ? tv_qmp_block_stats_find(&a.stats, d->alias) : NULL;
        if (st) {
            ADD_ULL(c->params, st->rd_operations, "block.%u.rd.reqs", i);
            ADD_ULL(c->params, st->rd_bytes, "block.%u.rd.bytes", i);
            ADD_ULL(c->params, st->rd_total_time_ns, "block.%u.rd.times", i);
            ADD_ULL(c->params, st->wr_operations, "block.%u.wr.reqs", i);
            ADD_ULL(c->params, st->wr_bytes, "block.%u.wr.bytes", i);
            ADD_ULL(c->params, st->wr_total_time_ns, "block.%u.wr.times", i);
            ADD_ULL(c->params, st->flush_operations, "block.%u.fl.reqs", i);
            ADD_ULL(c->params, st->flush_total_time_ns, "block.%u.fl.times", i);
        }
        struct stat sb;
        bool file = d->path && stat(d->path, &sb) == 0 && S_ISREG(sb.st_mode);
        if (file)
            ADD_ULL(c->params, (unsigned long long)sb.st_blocks * 512ULL, "block.%u.allocation", i);
        const TvQmpBlock *blk =
            live && d->alias ? tv_qmp_block_list_find(&a.block, d->alias) : NULL;
        if (blk && blk->virtual_size)
            ADD_ULL(c->params, blk->virtual_size, "block.%u.capacity", i);
        else if (file && d->format != TV_DISK_FORMAT_QCOW2)
            ADD_ULL(c->params, (unsigned long long)sb.st_size, "block.%u.capacity", i);
        if (file)
            ADD_ULL(c->params, (unsigned long long)sb.st_size, "block.%u.physical", i);
    }
    block_answers_clear(&a);
    def_facts_clear(&f);
}

static const struct {
    unsigned bit;
    void (*fn)(Collect *c);
} groups_table[] = {
    { TV_DOMAIN_STATS_STATE, group_state },         { TV_DOMAIN_STATS_CPU_TOTAL, group_cpu },
    { TV_DOMAIN_STATS_BALLOON, group_balloon },     { TV_DOMAIN_STATS_VCPU, group_vcpu },
    { TV_DOMAIN_STATS_INTERFACE, group_interface }, { TV_DOMAIN_STATS_BLOCK, group_block },
};

/* Every other list filter of listAllDomains is also accepted, as libvirt
 * passes the flags on to its list filter. */
#define STATS_FILTERS                                                                              \
    (TV_LIST_ACTIVE | TV_LIST_INACTIVE | TV_LIST_PERSISTENT | TV_LIST_TRANSIENT |                  \
     TV_LIST_RUNNING | TV_LIST_PAUSED | TV_LIST_SHUTOFF | 128u)
#define STATS_FLAGS (STATS_FILTERS | TV_STATS_NOWAIT | TV_STATS_BACKING | TV_STATS_ENFORCE_STATS)

static TvDomainStatsRecord *collect(TvQemuDriver *drv, TvDriverDomain *dom, unsigned groups,
                                    unsigned filters)
{
    Collect c = { .drv = drv, .dom = dom };
    TvDomainStatsRecord *rec = g_new0(TvDomainStatsRecord, 1);
    g_mutex_lock(&dom->lock);
    bool match = tv_driver_list_match(drv, dom, filters);
    if (match) {
        tv_driver_domain_ref_fill(dom, &rec->dom);
        if (dom->run) {
            c.state = dom->run->state;
            c.reason = dom->run->reason;
        } else {
            c.state = TV_DOMAIN_STATE_SHUTOFF;
            c.reason = dom->shutoff_reason;
        }
    }
    bool running = dom->run != NULL;
    g_mutex_unlock(&dom->lock);
    if (!match) {
        g_free(rec);
        return NULL;
    }
    if (running) {
        c.run = tv_driver_run_get(dom);
        if (!c.run)
            tv_error_reset(); /* stopped meanwhile: the stats of a shut off domain */
    }
    rec->params = g_array_new(FALSE, TRUE, sizeof(TvTypedParam));
    g_array_set_clear_func(rec->params, param_clear);
    c.params = rec->params;
    for (size_t i = 0; i < G_N_ELEMENTS(groups_table); i++)
        if (groups & groups_table[i].bit)
            groups_table[i].fn(&c);
    if (c.run)
        tv_driver_run_unref(c.run);
    return rec;
}

GPtrArray *tv_qemu_driver_domain_stats(TvQemuDriver *drv, const unsigned char (*uuids)[16],
                                       size_t n, unsigned groups, unsigned flags)
{
    if (flags & ~STATS_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "domain statistics flags 0x%x are not supported; accepted: 0x%x", flags,
                        STATS_FLAGS);
        return NULL;
    }
    if ((flags & TV_STATS_ENFORCE_STATS) && (groups & ~(unsigned)TV_DOMAIN_STATS_SUPPORTED)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "statistics groups 0x%x are not supported by tagvirtd; it has 0x%x "
                        "(state, cpu-total, balloon, vcpu, interface, block)",
                        groups & ~(unsigned)TV_DOMAIN_STATS_SUPPORTED,
                        (unsigned)TV_DOMAIN_STATS_SUPPORTED);
        return NULL;
    }
    if (groups == 0)
        groups = TV_DOMAIN_STATS_SUPPORTED;
    groups &= TV_DOMAIN_STATS_SUPPORTED;
    unsigned filters = flags & STATS_FILTERS;

    g_autoptr(GPtrArray) doms = NULL;
    if (uuids) {
        doms = g_ptr_array_new_with_free_func((GDestroyNotify)tv_driver_domain_unref);
        for (size_t i = 0; i < n; i++) {
            TvDriverDomain *dom = tv_driver_find_uuid(drv, uuids[i]);
            if (!dom)
                return NULL;
            g_ptr_array_add(doms, dom);
        }
    } else {
        doms = tv_driver_domains_snapshot(drv);
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tv_domain_stats_record_free);
    for (guint i = 0; i < doms->len; i++) {
        TvDomainStatsRecord *rec = collect(drv, g_ptr_array_index(doms, i), groups, filters);
        if (rec)
            g_ptr_array_add(out, rec);
    }
    return out;
}

/* ---- one device ---- */

/* The running domain's run and its live facts in *f; NULL with the error
 * ("no domain", "not running") and *f cleared otherwise. */
static TvDriverRun *running_facts(TvQemuDriver *drv, const unsigned char *uuid, DefFacts *f,
                                  TvDriverDomain **domp)
{
    TvDriverDomain *dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return NULL;
    TvDriverRun *run = tv_driver_run_get(dom);
    if (run && read_facts(dom, true, f) < 0) {
        tv_driver_run_unref(run);
        run = NULL;
    }
    if (!run)
        def_facts_clear(f);
    *domp = dom;
    return run;
}

int tv_qemu_driver_block_stats(TvQemuDriver *drv, const unsigned char *uuid, const char *disk,
                               TvBlockStats *out)
{
    DefFacts f = { 0 };
    g_autoptr(TvDriverDomain) dom = NULL;
    TvDriverRun *run = running_facts(drv, uuid, &f, &dom);
    if (!run)
        return -1;
    const DiskFacts *d = NULL;
    for (guint i = 0; i < f.disks->len && !d; i++) {
        const DiskFacts *x = g_ptr_array_index(f.disks, i);
        if (g_strcmp0(x->target, disk) == 0 || g_strcmp0(x->path, disk) == 0 ||
            g_strcmp0(x->alias, disk) == 0)
            d = x;
    }
    int rc = -1;
    BlockAnswers a = { 0 };
    const TvQmpBlockStats *st = NULL;
    if (!d) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "invalid path: '%s' is not a disk of domain '%s' (a target such as "
                        "'vda', a source path or an alias)",
                        disk, dom->name);
    } else if (!run->proc || tv_qemu_process_with_monitor(run->proc, query_blocks, &a) < 0) {
        if (!run->proc)
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                            dom->name);
    } else if (!(st = d->alias ? tv_qmp_block_stats_find(&a.stats, d->alias) : NULL)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU of domain '%s' reports no statistics of disk '%s'", dom->name,
                        d->target);
    } else {
        out->rd_req = (long long)st->rd_operations;
        out->rd_bytes = (long long)st->rd_bytes;
        out->wr_req = (long long)st->wr_operations;
        out->wr_bytes = (long long)st->wr_bytes;
        out->errs = -1; /* as libvirt's QEMU driver: QEMU has no such total */
        out->rd_total_ns = (long long)st->rd_total_time_ns;
        out->wr_total_ns = (long long)st->wr_total_time_ns;
        out->flush_req = (long long)st->flush_operations;
        out->flush_total_ns = (long long)st->flush_total_time_ns;
        rc = 0;
    }
    block_answers_clear(&a);
    def_facts_clear(&f);
    tv_driver_run_unref(run);
    return rc;
}

int tv_qemu_driver_interface_stats(TvQemuDriver *drv, const unsigned char *uuid, const char *device,
                                   TvInterfaceStats *out)
{
    DefFacts f = { 0 };
    g_autoptr(TvDriverDomain) dom = NULL;
    TvDriverRun *run = running_facts(drv, uuid, &f, &dom);
    if (!run)
        return -1;
    tv_driver_run_unref(run);
    const NetFacts *n = NULL;
    for (guint i = 0; i < f.nets->len && !n; i++) {
        const NetFacts *x = g_ptr_array_index(f.nets, i);
        if (g_strcmp0(x->ifname, device) == 0 ||
            (x->mac && g_ascii_strcasecmp(x->mac, device) == 0) || g_strcmp0(x->alias, device) == 0)
            n = x;
    }
    int rc = -1;
    if (!n) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "invalid path, '%s' is not a known interface of domain '%s' (its host "
                        "device, MAC or alias)",
                        device, dom->name);
    } else if (!n->ifname) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "interface '%s' of domain '%s' is user-mode networking: it has no host "
                        "device to count",
                        device, dom->name);
    } else if (!tap_counters(n->ifname, out)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "cannot read the counters of host device '%s' of domain '%s'", n->ifname,
                        dom->name);
    } else {
        rc = 0;
    }
    def_facts_clear(&f);
    return rc;
}
