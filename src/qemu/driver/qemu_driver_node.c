/* Node facts as libvirt's node API answers them: node info, the CPU map,
 * CPU and memory statistics, free memory per cell.  The topology is read
 * under the host root (caps/qemu_host_topology.h) and kept until the set
 * of online CPUs changes. */
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>
#include <sys/utsname.h>

#define CPUINFO_MAX (4 * 1024 * 1024)

struct _TvDriverTopology {
    gint refs;
    TvHostTopology *topo;
    char *online; /* the online list it was read with */
    guint generation;
};

static void topology_unref(TvDriverTopology *t)
{
    if (!t || !g_atomic_int_dec_and_test(&t->refs))
        return;
    tv_host_topology_free(t->topo);
    g_free(t->online);
    g_free(t);
}

void tv_driver_topology_put(TvDriverTopology *t)
{
    topology_unref(t);
}

const TvHostTopology *tv_driver_topology_of(TvDriverTopology *t)
{
    return t->topo;
}

guint tv_driver_topology_generation(TvDriverTopology *t)
{
    return t->generation;
}

static char *online_list(TvQemuDriver *drv)
{
    g_autofree char *path =
        g_build_filename(drv->host->root, "sys/devices/system/cpu/online", NULL);
    char *text = NULL;
    if (tv_file_read_all(path, 65536, &text, NULL) < 0) {
        tv_error_reset();
        return g_strdup("");
    }
    return text;
}

TvDriverTopology *tv_driver_topology_get(TvQemuDriver *drv)
{
    g_autofree char *online = online_list(drv);
    g_mutex_lock(&drv->topo_lock);
    TvDriverTopology *t = drv->topo;
    if (!t || strcmp(t->online, online) != 0) {
        /* read without the lock (a walk of sysfs): the daemon's reading
         * thread may take the lock for node info meanwhile, and never waits */
        g_mutex_unlock(&drv->topo_lock);
        TvDriverTopology *fresh = g_new0(TvDriverTopology, 1);
        fresh->refs = 1;
        fresh->topo = tv_host_topology_read(drv->host->root);
        fresh->online = g_steal_pointer(&online);
        g_mutex_lock(&drv->topo_lock);
        fresh->generation = ++drv->topo_generation;
        topology_unref(drv->topo);
        drv->topo = t = fresh;
    }
    g_atomic_int_inc(&t->refs);
    g_mutex_unlock(&drv->topo_lock);
    return t;
}

gboolean tv_qemu_driver_node_topology_known(TvQemuDriver *drv)
{
    if (!g_mutex_trylock(&drv->topo_lock))
        return FALSE;
    gboolean known = drv->topo != NULL;
    g_mutex_unlock(&drv->topo_lock);
    return known;
}

void tv_driver_topology_clear(TvQemuDriver *drv)
{
    g_clear_pointer(&drv->topo, topology_unref);
}

static int no_flags(const char *what, unsigned flags)
{
    if (flags == 0)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                    "%s flags 0x%x are not supported; accepted: 0", what, flags);
    return -1;
}

/* MHz as libvirt's node info has it: "cpu MHz" (x86), "BogoMIPS" (arm). */
static int host_mhz(TvQemuDriver *drv)
{
    g_autofree char *path = g_build_filename(drv->host->root, "proc/cpuinfo", NULL);
    g_autofree char *data = NULL;
    if (tv_file_read_all(path, CPUINFO_MAX, &data, NULL) < 0) {
        tv_error_reset();
        return 0;
    }
    const char *key = g_strcmp0(drv->host->arch, "aarch64") == 0 ? "BogoMIPS" : "cpu MHz";
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *colon = strchr(*l, ':');
        if (!colon)
            continue;
        g_autofree char *k = g_strstrip(g_strndup(*l, (gsize)(colon - *l)));
        if (strcmp(k, key) == 0)
            return (int)g_ascii_strtod(colon + 1, NULL);
    }
    return 0;
}

int tv_qemu_driver_node_info(TvQemuDriver *drv, TvNodeInfo *info)
{
    memset(info, 0, sizeof(*info));
    struct utsname u;
    const char *arch = drv->host->arch ? drv->host->arch : (uname(&u) == 0 ? u.machine : "");
    g_strlcpy(info->model, arch, sizeof(info->model));
    TvDriverTopology *t = tv_driver_topology_get(drv);
    const TvHostTopology *topo = t->topo;
    info->memory_kib = topo->memory_kib;
    info->cpus = (int)topo->nonline;
    info->nodes = (int)topo->ncells;
    info->sockets = (int)topo->sockets;
    info->cores = (int)topo->cores;
    info->threads = (int)topo->threads;
    tv_driver_topology_put(t);
    info->mhz = host_mhz(drv);
    return 0;
}

int tv_qemu_driver_node_cpu_map(TvQemuDriver *drv, guint8 **map, unsigned *online, unsigned flags)
{
    if (no_flags("node CPU map", flags) < 0)
        return -1;
    TvDriverTopology *t = tv_driver_topology_get(drv);
    int n = (int)t->topo->ncpus;
    if (map)
        *map = g_memdup2(t->topo->online_map, (gsize)(n + 7) / 8);
    if (online)
        *online = t->topo->nonline;
    tv_driver_topology_put(t);
    return n;
}

int tv_qemu_driver_node_cpu_stats(TvQemuDriver *drv, int cpu, unsigned flags, TvNodeStat *out)
{
    if (no_flags("node CPU statistics", flags) < 0)
        return -1;
    if (cpu < TV_NODE_CPU_STATS_ALL) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "invalid cpuNum %d: expected -1 (all CPUs) or a host CPU number", cpu);
        return -1;
    }
    unsigned long long t[4];
    if (!tv_host_cpu_times(drv->host->root, cpu, t)) {
        if (cpu == TV_NODE_CPU_STATS_ALL)
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "the host's CPU times are unreadable (no usable /proc/stat)");
        else
            tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                            "invalid cpuNum %d: no such online host CPU", cpu);
        return -1;
    }
    /* libvirt's order and names (VIR_NODE_CPU_STATS_*) */
    out[0] = (TvNodeStat){ "kernel", t[1] };
    out[1] = (TvNodeStat){ "user", t[0] };
    out[2] = (TvNodeStat){ "idle", t[2] };
    out[3] = (TvNodeStat){ "iowait", t[3] };
    return 4;
}

/* A cell's index in the topology, or -1 with libvirt's error. */
static int find_cell(const TvHostTopology *topo, int cell)
{
    for (size_t i = 0; i < topo->ncells; i++)
        if ((int)topo->cells[i].id == cell)
            return (int)i;
    int last = topo->ncells ? (int)topo->cells[topo->ncells - 1].id : 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                    "cellNum %d is not a NUMA cell of this host: cells are 0 to %d", cell, last);
    return -1;
}

int tv_qemu_driver_node_memory_stats(TvQemuDriver *drv, int cell, unsigned flags, TvNodeStat *out)
{
    if (no_flags("node memory statistics", flags) < 0)
        return -1;
    if (cell < TV_NODE_MEMORY_STATS_ALL) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "invalid cellNum %d: expected -1 (all cells) or a NUMA cell number", cell);
        return -1;
    }
    if (cell == TV_NODE_MEMORY_STATS_ALL) {
        unsigned long long m[4];
        if (!tv_host_meminfo(drv->host->root, m)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "the host's memory figures are unreadable (no usable /proc/meminfo)");
            return -1;
        }
        out[0] = (TvNodeStat){ "total", m[0] };
        out[1] = (TvNodeStat){ "free", m[1] };
        out[2] = (TvNodeStat){ "buffers", m[2] };
        out[3] = (TvNodeStat){ "cached", m[3] };
        return 4;
    }
    /* free memory changes all the time: read the cells afresh */
    g_autoptr(TvHostTopology) topo = tv_host_topology_read(drv->host->root);
    int i = find_cell(topo, cell);
    if (i < 0)
        return -1;
    out[0] = (TvNodeStat){ "total", topo->cells[i].memory_kib };
    out[1] = (TvNodeStat){ "free", topo->cells[i].free_kib };
    return 2;
}

int tv_qemu_driver_node_cells_free_memory(TvQemuDriver *drv, int start, int max,
                                          unsigned long long *out)
{
    if (start < 0 || max <= 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "invalid cell range: start %d, count %d (start >= 0, count > 0)", start,
                        max);
        return -1;
    }
    g_autoptr(TvHostTopology) topo = tv_host_topology_read(drv->host->root);
    int first = find_cell(topo, start);
    if (first < 0)
        return -1;
    int n = 0;
    for (size_t i = (size_t)first; i < topo->ncells && n < max; i++)
        out[n++] = topo->cells[i].free_kib * 1024;
    return n;
}

int tv_qemu_driver_node_free_memory(TvQemuDriver *drv, unsigned long long *bytes)
{
    g_autoptr(TvHostTopology) topo = tv_host_topology_read(drv->host->root);
    unsigned long long kib = 0;
    for (size_t i = 0; i < topo->ncells; i++)
        kib += topo->cells[i].free_kib;
    *bytes = kib * 1024;
    return 0;
}

const char *tv_qemu_driver_host_root(TvQemuDriver *drv)
{
    return drv->host->root;
}
