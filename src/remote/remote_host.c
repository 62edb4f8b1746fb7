/* Host procedures served by the driver: node facts (CPU map, CPU and
 * memory statistics, free memory), CPU models, compare and baseline, and
 * node devices.  The wire's own limits and the "count first" convention of
 * the statistics calls are handled here, as libvirt's daemon does. */
#include "remote_domain.h"

#include <string.h>

#include "remote_priv.h"

#define DRV(conn) ((conn)->remote->drv)

static int too_many(const char *what, long long n, long long max)
{
    tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR,
                    "%s %lld is more than the wire's limit %lld", what, n, max);
    return -1;
}

static int h_node_get_cpu_map(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_get_cpu_map_args *args = a;
    tvr_node_get_cpu_map_ret *ret = r;
    guint8 *map = NULL;
    unsigned online = 0;
    int n = tv_qemu_driver_node_cpu_map(DRV(conn), args->need_map ? &map : NULL,
                                        args->need_online ? &online : NULL, args->flags);
    if (n < 0)
        return -1;
    if ((n + 7) / 8 > TVR_CPUMAP_MAX) {
        g_free(map);
        return too_many("CPU map bytes", (n + 7) / 8, TVR_CPUMAP_MAX);
    }
    if (args->need_map) {
        ret->cpumap.cpumap_len = (u_int)(n + 7) / 8;
        ret->cpumap.cpumap_val = (char *)map;
    }
    ret->online = online;
    ret->ret = n;
    return 0;
}

/* libvirt's two-step statistics calls: nparams 0 asks for the count. */
static int stats_reply(int n, int nparams, TvNodeStat *stats, tvr_node_stat **out, u_int *out_len,
                       int *out_n)
{
    if (n < 0)
        return -1;
    if (nparams == 0) {
        *out_n = n;
        return 0;
    }
    if (nparams != n) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "nparams %d does not match the %d statistics available: ask with 0 first",
                        nparams, n);
        return -1;
    }
    *out = g_new0(tvr_node_stat, (gsize)n);
    for (int i = 0; i < n; i++) {
        (*out)[i].field = g_strdup(stats[i].field);
        (*out)[i].value = stats[i].value;
    }
    *out_len = (u_int)n;
    *out_n = n;
    return 0;
}

/* The nparams of a node statistics call: 0 asks for the count. */
static int stats_nparams_check(int nparams)
{
    if (nparams > TVR_NODE_STATS_MAX)
        return too_many("nparams", nparams, TVR_NODE_STATS_MAX);
    if (nparams < 0) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG, "nparams %d must not be negative",
                        nparams);
        return -1;
    }
    return 0;
}

static int h_node_get_cpu_stats(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_get_cpu_stats_args *args = a;
    tvr_node_get_cpu_stats_ret *ret = r;
    if (stats_nparams_check(args->nparams) < 0)
        return -1;
    TvNodeStat stats[TV_NODE_STATS_MAX];
    int n = tv_qemu_driver_node_cpu_stats(DRV(conn), args->cpu_num, args->flags, stats);
    return stats_reply(n, args->nparams, stats, &ret->params.params_val, &ret->params.params_len,
                       &ret->nparams);
}

static int h_node_get_memory_stats(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_get_memory_stats_args *args = a;
    tvr_node_get_memory_stats_ret *ret = r;
    if (stats_nparams_check(args->nparams) < 0)
        return -1;
    TvNodeStat stats[TV_NODE_STATS_MAX];
    int n = tv_qemu_driver_node_memory_stats(DRV(conn), args->cell_num, args->flags, stats);
    return stats_reply(n, args->nparams, stats, &ret->params.params_val, &ret->params.params_len,
                       &ret->nparams);
}

static int h_node_get_cells_free_memory(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_get_cells_free_memory_args *args = a;
    tvr_node_get_cells_free_memory_ret *ret = r;
    if (args->max_cells > TVR_NODE_CELLS_MAX)
        return too_many("maxCells", args->max_cells, TVR_NODE_CELLS_MAX);
    unsigned long long *cells = g_new0(unsigned long long, MAX(args->max_cells, 1));
    int n =
        tv_qemu_driver_node_cells_free_memory(DRV(conn), args->start_cell, args->max_cells, cells);
    if (n < 0) {
        g_free(cells);
        return -1;
    }
    ret->cells.cells_val = (u_quad_t *)cells;
    ret->cells.cells_len = (u_int)n;
    return 0;
}

static int h_node_get_free_memory(TvRemoteConn *conn, const void *a, void *r)
{
    tvr_node_get_free_memory_ret *ret = r;
    unsigned long long bytes = 0;
    if (tv_qemu_driver_node_free_memory(DRV(conn), &bytes) < 0)
        return -1;
    ret->free_mem = bytes;
    return 0;
}

/* A NULL-terminated list into a wire array of strings (taken). */
static int names_out(GStrv names, u_int max, char ***val, u_int *len)
{
    if (!names)
        return -1;
    guint n = g_strv_length(names);
    if (n > max) {
        g_strfreev(names);
        return too_many("list length", n, max);
    }
    *val = names; /* xdr_free frees each string and the array with free() */
    *len = n;
    return 0;
}

/* Keep the first max names (the rest freed). */
static void truncate_names(GStrv names, guint max)
{
    guint n = g_strv_length(names);
    for (guint i = max; i < n; i++)
        g_clear_pointer(&names[i], g_free);
}

static int h_get_cpu_model_names(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_get_cpu_model_names_args *args = a;
    tvr_connect_get_cpu_model_names_ret *ret = r;
    GStrv models = tv_qemu_driver_cpu_model_names(DRV(conn), args->arch, args->flags);
    if (!models)
        return -1;
    ret->ret = (int)g_strv_length(models);
    if (!args->need_results) {
        g_strfreev(models);
        return 0;
    }
    return names_out(models, TVR_CPU_MODELS_MAX, &ret->models.models_val, &ret->models.models_len);
}

static int h_compare_cpu(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_compare_cpu_args *args = a;
    int result = tv_qemu_driver_compare_cpu(DRV(conn), args->xml, args->flags);
    if (result < 0)
        return -1;
    ((tvr_connect_compare_cpu_ret *)r)->result = result;
    return 0;
}

static int h_baseline_cpu(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_baseline_cpu_args *args = a;
    char *cpu = tv_qemu_driver_baseline_cpu(DRV(conn), args->xml_cpus.xml_cpus_val,
                                            args->xml_cpus.xml_cpus_len, args->flags);
    if (!cpu)
        return -1;
    ((tvr_connect_baseline_cpu_ret *)r)->cpu = cpu;
    return 0;
}

static int h_domain_xml_to_native(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_domain_xml_to_native_args *args = a;
    char *native = tv_qemu_driver_domain_xml_to_native(DRV(conn), args->native_format,
                                                       args->domain_xml, args->flags);
    if (!native)
        return -1;
    ((tvr_connect_domain_xml_to_native_ret *)r)->native_config = native;
    return 0;
}

/* ---- node devices ---- */

static int no_device_flags(const char *proc, unsigned flags)
{
    if (!flags)
        return 0;
    tv_error_report(TV_FROM_NODEDEV, TV_ERR_INVALID_ARG,
                    "%s flags 0x%x are not supported; "
                    "accepted: 0",
                    proc, flags);
    return -1;
}

static int h_node_num_of_devices(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_num_of_devices_args *args = a;
    if (no_device_flags("NODE_NUM_OF_DEVICES", args->flags) < 0)
        return -1;
    g_auto(GStrv) names =
        tv_qemu_driver_node_device_names(DRV(conn), args->cap ? *args->cap : NULL, 0);
    if (!names)
        return -1;
    ((tvr_num_ret *)r)->num = (int)g_strv_length(names);
    return 0;
}

static int h_node_list_devices(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_list_devices_args *args = a;
    tvr_names_ret *ret = r;
    if (args->maxnames > TVR_NODE_DEVICE_LIST_MAX)
        return too_many("maxnames", args->maxnames, TVR_NODE_DEVICE_LIST_MAX);
    if (args->maxnames < 0) {
        tv_error_report(TV_FROM_NODEDEV, TV_ERR_INVALID_ARG, "maxnames %d must not be negative",
                        args->maxnames);
        return -1;
    }
    if (no_device_flags("NODE_LIST_DEVICES", args->flags) < 0)
        return -1;
    GStrv names = tv_qemu_driver_node_device_names(DRV(conn), args->cap ? *args->cap : NULL, 0);
    if (!names)
        return -1;
    truncate_names(names, (guint)args->maxnames);
    return names_out(names, TVR_NODE_DEVICE_LIST_MAX, &ret->names.names_val, &ret->names.names_len);
}

static int h_node_device_lookup(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_name_args *args = a;
    if (tv_qemu_driver_node_device_lookup(DRV(conn), args->name) < 0)
        return -1;
    ((tvr_node_device_lookup_by_name_ret *)r)->dev.name = g_strdup(args->name);
    return 0;
}

static int h_node_device_get_xml_desc(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_get_xml_desc_args *args = a;
    char *xml = tv_qemu_driver_node_device_xml(DRV(conn), args->name, args->flags);
    if (!xml)
        return -1;
    ((tvr_xml_ret *)r)->xml = xml;
    return 0;
}

static int h_node_device_get_parent(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_name_args *args = a;
    tvr_node_device_get_parent_ret *ret = r;
    char *parent = NULL;
    if (tv_qemu_driver_node_device_parent(DRV(conn), args->name, &parent) < 0)
        return -1;
    if (parent) {
        ret->parent = g_new0(char *, 1);
        *ret->parent = parent;
    }
    return 0;
}

static int h_node_device_num_of_caps(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_name_args *args = a;
    g_auto(GStrv) caps = tv_qemu_driver_node_device_caps(DRV(conn), args->name);
    if (!caps)
        return -1;
    ((tvr_num_ret *)r)->num = (int)g_strv_length(caps);
    return 0;
}

static int h_node_device_list_caps(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_list_caps_args *args = a;
    tvr_node_device_list_caps_ret *ret = r;
    if (args->maxnames > TVR_NODE_DEVICE_CAPS_MAX)
        return too_many("maxnames", args->maxnames, TVR_NODE_DEVICE_CAPS_MAX);
    GStrv caps = tv_qemu_driver_node_device_caps(DRV(conn), args->name);
    if (!caps)
        return -1;
    truncate_names(caps, (guint)MAX(args->maxnames, 0));
    return names_out(caps, TVR_NODE_DEVICE_CAPS_MAX, &ret->names.names_val, &ret->names.names_len);
}

static int h_list_all_node_devices(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_list_all_args *args = a;
    tvr_connect_list_all_node_devices_ret *ret = r;
    g_auto(GStrv) names = tv_qemu_driver_node_device_names(DRV(conn), NULL, args->flags);
    if (!names)
        return -1;
    guint n = g_strv_length(names);
    if (n > TVR_NODE_DEVICE_LIST_MAX)
        return too_many("node devices", n, TVR_NODE_DEVICE_LIST_MAX);
    ret->ret = n;
    if (args->need_results && n > 0) {
        ret->devices.devices_val = g_new0(tvr_nonnull_node_device, n);
        ret->devices.devices_len = n;
        for (guint i = 0; i < n; i++)
            ret->devices.devices_val[i].name = g_steal_pointer(&names[i]);
    }
    return 0;
}

/* Every node device tagvirtd lists is one the host has now (active), read
 * from sysfs rather than defined by a user (not persistent), as libvirt
 * answers for the devices its udev backend finds. */
static int h_node_device_is_persistent(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_name_args *args = a;
    if (tv_qemu_driver_node_device_lookup(DRV(conn), args->name) < 0)
        return -1;
    ((tvr_num_ret *)r)->num = 0;
    return 0;
}

static int h_node_device_is_active(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_node_device_name_args *args = a;
    if (tv_qemu_driver_node_device_lookup(DRV(conn), args->name) < 0)
        return -1;
    ((tvr_num_ret *)r)->num = 1;
    return 0;
}

static const TvRemoteHandlerEntry host_handlers[] = {
    { TVR_PROC_NODE_GET_CPU_MAP, h_node_get_cpu_map },
    { TVR_PROC_NODE_GET_CPU_STATS, h_node_get_cpu_stats },
    { TVR_PROC_NODE_GET_MEMORY_STATS, h_node_get_memory_stats },
    { TVR_PROC_NODE_GET_CELLS_FREE_MEMORY, h_node_get_cells_free_memory },
    { TVR_PROC_NODE_GET_FREE_MEMORY, h_node_get_free_memory },
    { TVR_PROC_CONNECT_GET_CPU_MODEL_NAMES, h_get_cpu_model_names },
    { TVR_PROC_CONNECT_COMPARE_CPU, h_compare_cpu },
    { TVR_PROC_CONNECT_BASELINE_CPU, h_baseline_cpu },
    { TVR_PROC_CONNECT_DOMAIN_XML_TO_NATIVE, h_domain_xml_to_native },
    { TVR_PROC_NODE_NUM_OF_DEVICES, h_node_num_of_devices },
    { TVR_PROC_NODE_LIST_DEVICES, h_node_list_devices },
    { TVR_PROC_NODE_DEVICE_LOOKUP_BY_NAME, h_node_device_lookup },
    { TVR_PROC_NODE_DEVICE_GET_XML_DESC, h_node_device_get_xml_desc },
    { TVR_PROC_NODE_DEVICE_GET_PARENT, h_node_device_get_parent },
    { TVR_PROC_NODE_DEVICE_NUM_OF_CAPS, h_node_device_num_of_caps },
    { TVR_PROC_NODE_DEVICE_LIST_CAPS, h_node_device_list_caps },
    { TVR_PROC_CONNECT_LIST_ALL_NODE_DEVICES, h_list_all_node_devices },
    { TVR_PROC_NODE_DEVICE_IS_PERSISTENT, h_node_device_is_persistent },
    { TVR_PROC_NODE_DEVICE_IS_ACTIVE, h_node_device_is_active },
};

/* Calls about a device of the last listing read a few sysfs attributes at
 * most: the reading thread answers them (Nova's resource tracker makes about
 * eighty of them a minute).  A name the listing lacks means a scan of sysfs
 * (and pci.ids): a worker's job. */
static gboolean quick_node_device(TvRemote *remote, const void *a)
{
    return tv_qemu_driver_node_device_listed(remote->drv,
                                             ((const tvr_node_device_name_args *)a)->name);
}

static gboolean quick_node_device_xml(TvRemote *remote, const void *a)
{
    return tv_qemu_driver_node_device_listed(remote->drv,
                                             ((const tvr_node_device_get_xml_desc_args *)a)->name);
}

static gboolean quick_node_device_caps(TvRemote *remote, const void *a)
{
    return tv_qemu_driver_node_device_listed(remote->drv,
                                             ((const tvr_node_device_list_caps_args *)a)->name);
}

/* The first read of the host topology walks sysfs: a worker's job.  Node
 * info (remote_domain.c's handler) and the CPU map after it read two small
 * files, and the topology again only when the online CPUs changed. */
static gboolean quick_node_topology(TvRemote *remote, const void *a)
{
    return tv_qemu_driver_node_topology_known(remote->drv);
}

static const TvRemoteQuickEntry host_quick_checks[] = {
    { TVR_PROC_NODE_GET_INFO, quick_node_topology },
    { TVR_PROC_NODE_GET_CPU_MAP, quick_node_topology },
    { TVR_PROC_NODE_DEVICE_LOOKUP_BY_NAME, quick_node_device },
    { TVR_PROC_NODE_DEVICE_GET_XML_DESC, quick_node_device_xml },
    { TVR_PROC_NODE_DEVICE_GET_PARENT, quick_node_device },
    { TVR_PROC_NODE_DEVICE_NUM_OF_CAPS, quick_node_device },
    { TVR_PROC_NODE_DEVICE_LIST_CAPS, quick_node_device_caps },
    { TVR_PROC_NODE_DEVICE_IS_PERSISTENT, quick_node_device },
    { TVR_PROC_NODE_DEVICE_IS_ACTIVE, quick_node_device },
};

void tv_remote_register_host_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, host_handlers, G_N_ELEMENTS(host_handlers));
    tv_remote_add_quick_checks(remote, host_quick_checks, G_N_ELEMENTS(host_quick_checks));
}
