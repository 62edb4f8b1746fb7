/* The statistics and snapshot procedures (remote_stats_protocol.x)
 * translated to the QEMU driver (qemu_driver_stats.c, qemu_driver_domains.c). */
#include "remote_domain.h"

#include "remote_priv.h"
#include "remote_stats_protocol.h"

#include <string.h>

#define DRV(conn) ((conn)->remote->drv)

static const unsigned char *uuid_of(const tvr_nonnull_domain *dom)
{
    return (const unsigned char *)dom->uuid;
}

/* ---- statistics ---- */

/* libvirt's VIR_DOMAIN_BLOCK_STATS_* fields, in its order */
static const char *const block_fields[] = {
    "rd_bytes",      "rd_operations",  "rd_total_times",   "wr_bytes",
    "wr_operations", "wr_total_times", "flush_operations", "flush_total_times",
};

static int h_block_stats(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_block_stats_args *args = a;
    tvr_domain_block_stats_ret *ret = r;
    TvBlockStats st;
    if (tv_qemu_driver_block_stats(DRV(conn), uuid_of(&args->dom), args->path, &st) < 0)
        return -1;
    ret->rd_req = st.rd_req;
    ret->rd_bytes = st.rd_bytes;
    ret->wr_req = st.wr_req;
    ret->wr_bytes = st.wr_bytes;
    ret->errs = st.errs;
    return 0;
}

static int h_block_stats_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_block_stats_flags_args *args = a;
    tvr_domain_block_stats_flags_ret *ret = r;
    /* libvirt's VIR_TYPED_PARAM_STRING_OKAY is the only flag */
    if (args->flags & ~4u) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "block statistics flags 0x%x are not supported; accepted: 0x4 "
                        "(string parameters)",
                        args->flags);
        return -1;
    }
    if (args->nparams < 0 || args->nparams > TVR_BLOCK_STATS_PARAMS_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "nparams %d is out of range 0..%d", args->nparams,
                        TVR_BLOCK_STATS_PARAMS_MAX);
        return -1;
    }
    TvBlockStats st;
    if (tv_qemu_driver_block_stats(DRV(conn), uuid_of(&args->dom), args->path, &st) < 0)
        return -1;
    const long long values[] = { st.rd_bytes, st.rd_req,      st.rd_total_ns, st.wr_bytes,
                                 st.wr_req,   st.wr_total_ns, st.flush_req,   st.flush_total_ns };
    int n = (int)G_N_ELEMENTS(block_fields);
    ret->nparams = n;
    if (args->nparams == 0)
        return 0; /* the client asks how many first */
    n = MIN(n, args->nparams);
    ret->params.params_val = g_new0(tvr_typed_param, n);
    ret->params.params_len = (u_int)n;
    for (int i = 0; i < n; i++) {
        tvr_typed_param *p = &ret->params.params_val[i];
        p->field = g_strdup(block_fields[i]);
        p->value.type = TV_TYPED_PARAM_LLONG;
        p->value.tvr_typed_param_value_u.l = values[i];
    }
    ret->nparams = n;
    return 0;
}

static int h_interface_stats(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_interface_stats_args *args = a;
    tvr_domain_interface_stats_ret *ret = r;
    TvInterfaceStats st;
    if (tv_qemu_driver_interface_stats(DRV(conn), uuid_of(&args->dom), args->device, &st) < 0)
        return -1;
    ret->rx_bytes = st.rx_bytes;
    ret->rx_packets = st.rx_packets;
    ret->rx_errs = st.rx_errs;
    ret->rx_drop = st.rx_drop;
    ret->tx_bytes = st.tx_bytes;
    ret->tx_packets = st.tx_packets;
    ret->tx_errs = st.tx_errs;
    ret->tx_drop = st.tx_drop;
    return 0;
}

static int h_get_all_domain_stats(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_get_all_domain_stats_args *args = a;
    tvr_connect_get_all_domain_stats_ret *ret = r;
    u_int ndoms = args->doms.doms_len;
    typedef unsigned char Uuid[16];
    g_autofree Uuid *uuids = NULL;
    if (ndoms) {
        uuids = g_new0(Uuid, ndoms);
        for (u_int i = 0; i < ndoms; i++)
            memcpy(uuids[i], args->doms.doms_val[i].uuid, 16);
    }
    g_autoptr(GPtrArray) recs =
        tv_qemu_driver_domain_stats(DRV(conn), ndoms ? (const unsigned char(*)[16])uuids : NULL,
                                    ndoms, args->stats, args->flags);
    if (!recs)
        return -1;
    ret->retStats.retStats_len = recs->len;
    ret->retStats.retStats_val = g_new0(tvr_domain_stats_record, MAX(recs->len, 1));
    for (guint i = 0; i < recs->len; i++) {
        TvDomainStatsRecord *rec = g_ptr_array_index(recs, i);
        tvr_domain_stats_record *out = &ret->retStats.retStats_val[i];
        out->dom.name = g_strdup(rec->dom.name);
        memcpy(out->dom.uuid, rec->dom.uuid, sizeof(out->dom.uuid));
        out->dom.id = rec->dom.id;
        out->params.params_val =
            tv_remote_wire_params((const TvTypedParam *)(void *)rec->params->data, rec->params->len,
                                  TVR_DOMAIN_STATS_PARAMS_MAX, &out->params.params_len, true);
    }
    return 0;
}

/* ---- snapshots: none exist ---- */

static int h_snapshot_create(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_snapshot_create_xml_args *args = a;
    (void)r;
    return tv_qemu_driver_snapshot_create(DRV(conn), uuid_of(&args->dom), args->xml_desc,
                                          args->flags);
}

static int h_snapshot_list_names(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_snapshot_list_names_args *args = a;
    (void)r;
    if (args->maxnames < 0 || args->maxnames > TVR_DOMAIN_SNAPSHOT_LIST_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "maxnames %d is out of range 0..%d",
                        args->maxnames, TVR_DOMAIN_SNAPSHOT_LIST_MAX);
        return -1;
    }
    return tv_qemu_driver_snapshot_num(DRV(conn), uuid_of(&args->dom), args->flags) < 0 ? -1 : 0;
}

static int h_snapshot_lookup(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_snapshot_lookup_by_name_args *args = a;
    (void)r;
    return tv_qemu_driver_snapshot_lookup(DRV(conn), uuid_of(&args->dom), args->name, args->flags);
}

static int h_has_current_snapshot(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    /* libvirt's hasCurrentSnapshot takes no flags */
    if (args->flags) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "hasCurrentSnapshot flags 0x%x are not supported; accepted: 0",
                        args->flags);
        return -1;
    }
    if (tv_qemu_driver_snapshot_num(DRV(conn), uuid_of(&args->dom), 0) < 0)
        return -1;
    ((tvr_domain_has_current_snapshot_ret *)r)->result = 0;
    return 0;
}

static int h_snapshot_current(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    (void)r;
    return tv_qemu_driver_snapshot_current(DRV(conn), uuid_of(&args->dom), args->flags);
}

static int h_list_all_snapshots(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_list_all_snapshots_args *args = a;
    tvr_domain_list_all_snapshots_ret *ret = r;
    if (tv_qemu_driver_snapshot_num(DRV(conn), uuid_of(&args->dom), args->flags) < 0)
        return -1;
    ret->snapshots.snapshots_len = 0;
    ret->snapshots.snapshots_val = NULL;
    ret->ret = 0;
    return 0;
}

static const TvRemoteHandlerEntry stats_handlers[] = {
    { TVR_PROC_DOMAIN_BLOCK_STATS, h_block_stats },
    { TVR_PROC_DOMAIN_INTERFACE_STATS, h_interface_stats },
    { TVR_PROC_DOMAIN_SNAPSHOT_CREATE_XML, h_snapshot_create },
    { TVR_PROC_DOMAIN_SNAPSHOT_LIST_NAMES, h_snapshot_list_names },
    { TVR_PROC_DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, h_snapshot_lookup },
    { TVR_PROC_DOMAIN_HAS_CURRENT_SNAPSHOT, h_has_current_snapshot },
    { TVR_PROC_DOMAIN_SNAPSHOT_CURRENT, h_snapshot_current },
    { TVR_PROC_DOMAIN_BLOCK_STATS_FLAGS, h_block_stats_flags },
    { TVR_PROC_DOMAIN_LIST_ALL_SNAPSHOTS, h_list_all_snapshots },
    { TVR_PROC_CONNECT_GET_ALL_DOMAIN_STATS, h_get_all_domain_stats },
};

void tv_remote_register_stats_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, stats_handlers, G_N_ELEMENTS(stats_handlers));
}
