/* Domain procedures of issue 9: vCPU information and pinning, vCPU counts,
 * memory, reset, metadata and the small getters.  The wire's limits on map
 * sizes are checked here before anything is allocated, as libvirt's daemon
 * does. */
#include "remote_domain.h"

#include <string.h>

#include "remote_priv.h"

#define DRV(conn) ((conn)->remote->drv)

static const unsigned char *uuid_of(const tvr_nonnull_domain *dom)
{
    return (const unsigned char *)dom->uuid;
}

static const char *opt(char *const *s)
{
    return s ? *s : NULL;
}

static int h_get_max_memory(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    unsigned long long kib = 0;
    if (tv_qemu_driver_get_max_memory(DRV(conn), uuid_of(&args->dom), &kib) < 0)
        return -1;
    ((tvr_domain_get_max_memory_ret *)r)->memory = kib;
    return 0;
}

static int h_get_max_vcpus(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    /* libvirt: the live maximum (a shut-off domain has none) */
    int n = tv_qemu_driver_get_vcpus_flags(DRV(conn), uuid_of(&args->dom),
                                           TV_AFFECT_LIVE | TV_VCPU_MAXIMUM);
    if (n < 0)
        return -1;
    ((tvr_num_ret *)r)->num = n;
    return 0;
}

static int h_get_os_type(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    char *type = tv_qemu_driver_get_os_type(DRV(conn), uuid_of(&args->dom));
    if (!type)
        return -1;
    ((tvr_domain_get_os_type_ret *)r)->type = type;
    return 0;
}

/* maps * maplen within the wire's map limit (and no overflow). */
static int maps_fit(const char *what, int n, int maplen, int max_n)
{
    if (n > max_n) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR,
                        "%s %d is more than the wire's limit %d", what, n, max_n);
        return -1;
    }
    if (n < 0 || maplen < 0 || (maplen > 0 && n > TVR_CPUMAPS_MAX / maplen)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR,
                        "%s %d x maplen %d is more than the wire's limit of %d map bytes", what, n,
                        maplen, TVR_CPUMAPS_MAX);
        return -1;
    }
    return 0;
}

static int h_get_vcpus(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_get_vcpus_args *args = a;
    tvr_domain_get_vcpus_ret *ret = r;
    if (maps_fit("maxinfo", args->maxinfo, args->maplen, TVR_VCPUINFO_MAX) < 0)
        return -1;
    g_autofree TvVcpuInfo *info = g_new0(TvVcpuInfo, MAX(args->maxinfo, 1));
    size_t maps_len = (size_t)MAX(args->maxinfo, 0) * (size_t)MAX(args->maplen, 0);
    guint8 *maps = maps_len ? g_malloc0(maps_len) : NULL;
    int n = tv_qemu_driver_get_vcpus(DRV(conn), uuid_of(&args->dom), args->maxinfo, info, maps,
                                     args->maplen);
    if (n < 0) {
        g_free(maps);
        return -1;
    }
    ret->info.info_val = g_new0(tvr_vcpu_info, MAX(n, 1));
    ret->info.info_len = (u_int)n;
    for (int i = 0; i < n; i++) {
        ret->info.info_val[i].number = info[i].number;
        ret->info.info_val[i].state = info[i].state;
        ret->info.info_val[i].cpu_time = info[i].cpu_time_ns;
        ret->info.info_val[i].cpu = info[i].cpu;
    }
    /* libvirt sends the whole buffer the client sized: maxinfo maps */
    ret->cpumaps.cpumaps_val = (char *)maps;
    ret->cpumaps.cpumaps_len = (u_int)maps_len;
    return 0;
}

static int h_get_vcpu_pin_info(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_get_vcpu_pin_info_args *args = a;
    tvr_domain_get_vcpu_pin_info_ret *ret = r;
    if (maps_fit("ncpumaps", args->ncpumaps, args->maplen, TVR_VCPUINFO_MAX) < 0)
        return -1;
    size_t maps_len = (size_t)MAX(args->ncpumaps, 0) * (size_t)MAX(args->maplen, 0);
    guint8 *maps = g_malloc0(MAX(maps_len, 1));
    int n = tv_qemu_driver_get_vcpu_pin_info(DRV(conn), uuid_of(&args->dom), args->ncpumaps, maps,
                                             args->maplen, args->flags);
    if (n < 0) {
        g_free(maps);
        return -1;
    }
    ret->cpumaps.cpumaps_val = (char *)maps;
    ret->cpumaps.cpumaps_len = (u_int)maps_len;
    ret->num = n;
    return 0;
}

static int h_get_vcpus_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    /* the guest's own count goes through its agent: a write on libvirt's ACL */
    if ((args->flags & TV_VCPU_GUEST) && tv_remote_conn_is_readonly(conn)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_DENIED,
                        "operation forbidden: read only access prevents the guest's vCPU count "
                        "(flag 0x8)");
        return -1;
    }
    int n = tv_qemu_driver_get_vcpus_flags(DRV(conn), uuid_of(&args->dom), args->flags);
    if (n < 0)
        return -1;
    ((tvr_num_ret *)r)->num = n;
    return 0;
}

static int h_set_vcpus(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_vcpus_args *args = a;
    return tv_qemu_driver_set_vcpus(DRV(conn), uuid_of(&args->dom), args->nvcpus, TV_AFFECT_LIVE);
}

static int h_set_vcpus_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_vcpus_flags_args *args = a;
    return tv_qemu_driver_set_vcpus(DRV(conn), uuid_of(&args->dom), args->nvcpus, args->flags);
}

static int h_set_max_memory(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_memory_args *args = a;
    return tv_qemu_driver_set_memory(DRV(conn), uuid_of(&args->dom), args->memory,
                                     TV_AFFECT_CURRENT | TV_MEM_MAXIMUM);
}

static int h_set_memory(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_memory_args *args = a;
    return tv_qemu_driver_set_memory(DRV(conn), uuid_of(&args->dom), args->memory, TV_AFFECT_LIVE);
}

static int h_set_memory_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_memory_flags_args *args = a;
    return tv_qemu_driver_set_memory(DRV(conn), uuid_of(&args->dom), args->memory, args->flags);
}

static int h_reset(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    return tv_qemu_driver_reset(DRV(conn), uuid_of(&args->dom), args->flags);
}

static int h_set_metadata(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_metadata_args *args = a;
    return tv_qemu_driver_set_metadata(DRV(conn), uuid_of(&args->dom), args->type,
                                       opt(args->metadata), opt(args->key), opt(args->uri),
                                       args->flags);
}

static int h_get_metadata(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_get_metadata_args *args = a;
    char *md = tv_qemu_driver_get_metadata(DRV(conn), uuid_of(&args->dom), args->type,
                                           opt(args->uri), args->flags);
    if (!md)
        return -1;
    ((tvr_domain_get_metadata_ret *)r)->metadata = md;
    return 0;
}

static const TvRemoteHandlerEntry tune_handlers[] = {
    { TVR_PROC_DOMAIN_GET_MAX_MEMORY, h_get_max_memory },
    { TVR_PROC_DOMAIN_GET_MAX_VCPUS, h_get_max_vcpus },
    { TVR_PROC_DOMAIN_GET_OS_TYPE, h_get_os_type },
    { TVR_PROC_DOMAIN_GET_VCPUS, h_get_vcpus },
    { TVR_PROC_DOMAIN_SET_MAX_MEMORY, h_set_max_memory },
    { TVR_PROC_DOMAIN_SET_MEMORY, h_set_memory },
    { TVR_PROC_DOMAIN_SET_VCPUS, h_set_vcpus },
    { TVR_PROC_DOMAIN_SET_VCPUS_FLAGS, h_set_vcpus_flags },
    { TVR_PROC_DOMAIN_GET_VCPUS_FLAGS, h_get_vcpus_flags },
    { TVR_PROC_DOMAIN_SET_MEMORY_FLAGS, h_set_memory_flags },
    { TVR_PROC_DOMAIN_GET_VCPU_PIN_INFO, h_get_vcpu_pin_info },
    { TVR_PROC_DOMAIN_RESET, h_reset },
    { TVR_PROC_DOMAIN_SET_METADATA, h_set_metadata },
    { TVR_PROC_DOMAIN_GET_METADATA, h_get_metadata },
};

void tv_remote_register_tune_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, tune_handlers, G_N_ELEMENTS(tune_handlers));
}
