/* vCPU information: the running vCPU threads (QMP query-cpus-fast gives
 * their ids once per QEMU; /proc gives their CPU time and the host CPU
 * they last ran on; sched_getaffinity their CPU map) and the pinning of
 * the definition (tagvirt pins nothing: every host CPU). */
#include "qemu_driver_priv.h"
#include "qemu_monitor.h"
#include "tv_error.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int query_cpus(TvQemuMonitor *mon, void *opaque)
{
    return tv_qemu_monitor_query_cpus_fast(mon, opaque);
}

/* The vCPU threads of a run, by vCPU index (kept: QEMU's virt machine has
 * no CPU hot-plug, so they live as long as the QEMU). */
static GArray *vcpu_threads(TvDriverRun *run)
{
    g_mutex_lock(&run->dom->lock);
    GArray *tids = run->vcpu_tids ? g_array_ref(run->vcpu_tids) : NULL;
    g_mutex_unlock(&run->dom->lock);
    if (tids)
        return tids;
    g_auto(TvQmpCpuList) list = { 0 };
    if (tv_qemu_process_with_monitor(run->proc, query_cpus, &list) < 0)
        return NULL;
    tids = g_array_sized_new(FALSE, TRUE, sizeof(int), (guint)list.n);
    g_array_set_size(tids, (guint)list.n);
    for (size_t i = 0; i < list.n; i++) {
        gint64 index = list.items[i].cpu_index;
        if (index >= 0 && (size_t)index < list.n)
            g_array_index(tids, int, index) = (int)list.items[i].thread_id;
    }
    g_mutex_lock(&run->dom->lock);
    if (!run->vcpu_tids)
        run->vcpu_tids = g_array_ref(tids);
    g_mutex_unlock(&run->dom->lock);
    return tids;
}

/* utime + stime (ns) and the last host CPU of one thread of pid. */
static void thread_stat(pid_t pid, int tid, unsigned long long *ns, int *cpu)
{
    char path[64], buf[1024];
    g_snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tid);
    *ns = 0;
    *cpu = -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')'); /* the thread name may hold spaces */
    unsigned long long utime = 0, stime = 0;
    int processor = -1;
    /* fields 3.. after the name: state(3) ... utime(14) stime(15) ... processor(39) */
    if (!p || sscanf(p + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                     "%*d %*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*d %d",
                     &utime, &stime, &processor) < 2)
        return;
    long hz = sysconf(_SC_CLK_TCK);
    *ns = (utime + stime) * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
    *cpu = processor;
}

/* A thread's host CPU affinity as maplen bytes (all host CPUs when unknown). */
static void thread_map(int tid, unsigned ncpus, guint8 *map, int maplen)
{
    memset(map, 0, (size_t)maplen);
    cpu_set_t set;
    CPU_ZERO(&set);
    bool known = tid > 0 && sched_getaffinity(tid, sizeof(set), &set) == 0;
    for (unsigned c = 0; c < ncpus && c / 8 < (unsigned)maplen; c++)
        if (!known || CPU_ISSET(c, &set))
            map[c / 8] |= (guint8)(1u << (c % 8));
}

static unsigned host_cpus(TvQemuDriver *drv)
{
    g_autoptr(TvDriverTopology) t = tv_driver_topology_get(drv);
    return tv_driver_topology_of(t)->ncpus;
}

int tv_qemu_driver_get_vcpus(TvQemuDriver *drv, const unsigned char *uuid, int maxinfo,
                             TvVcpuInfo *info, guint8 *maps, int maplen)
{
    if (maxinfo < 1 || maplen < 0) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "invalid vCPU info request: maxinfo %d (at least 1), maplen %d", maxinfo,
                        maplen);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run || !run->proc) {
        tv_error_reset();
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot retrieve vcpu information for inactive domain '%s'", dom->name);
        tv_driver_run_unref(run);
        return -1;
    }
    g_autoptr(GArray) tids = vcpu_threads(run);
    pid_t pid = tv_qemu_process_pid(run->proc);
    tv_driver_run_unref(run);
    if (!tids)
        return -1;
    unsigned ncpus = maps ? host_cpus(drv) : 0;
    int n = MIN(maxinfo, (int)tids->len);
    for (int i = 0; i < n; i++) {
        int tid = g_array_index(tids, int, i);
        info[i].number = (unsigned)i;
        info[i].state = 1; /* VIR_VCPU_RUNNING: every present vCPU has its thread */
        thread_stat(pid, tid, &info[i].cpu_time_ns, &info[i].cpu);
        if (maps && maplen > 0)
            thread_map(tid, ncpus, maps + (size_t)i * (size_t)maplen, maplen);
    }
    return n;
}

typedef struct {
    unsigned vcpus;
} VcpuCount;

static void count_vcpus(const TvDomainDef *def, void *opaque)
{
    ((VcpuCount *)opaque)->vcpus = def->vcpus;
}

int tv_qemu_driver_get_vcpu_pin_info(TvQemuDriver *drv, const unsigned char *uuid, int ncpumaps,
                                     guint8 *maps, int maplen, unsigned flags)
{
    if (flags & ~(unsigned)(TV_AFFECT_LIVE | TV_AFFECT_CONFIG)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "vCPU pinning flags 0x%x are not supported; accepted: 0x1 (live), 0x2 "
                        "(config)",
                        flags);
        return -1;
    }
    if (ncpumaps < 1 || maplen < 1) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "invalid vCPU pinning request: ncpumaps %d and maplen %d must be at "
                        "least 1",
                        ncpumaps, maplen);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    bool live = false, config = false;
    if (!dom || tv_driver_affect(dom, flags, false, &live, &config) < 0)
        return -1;
    VcpuCount c = { 0 };
    if (tv_driver_read_def(dom, live, count_vcpus, &c) < 0)
        return -1;
    /* no <cputune>/<vcpupin> in tagvirt: each vCPU may run on every host CPU */
    unsigned ncpus = host_cpus(drv);
    int n = MIN(ncpumaps, (int)c.vcpus);
    for (int i = 0; i < n; i++) {
        guint8 *map = maps + (size_t)i * (size_t)maplen;
        memset(map, 0, (size_t)maplen);
        for (unsigned cpu = 0; cpu < ncpus && cpu / 8 < (unsigned)maplen; cpu++)
            map[cpu / 8] |= (guint8)(1u << (cpu % 8));
    }
    return n;
}
