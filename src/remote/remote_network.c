/* The network procedures (remote_network_protocol.x) translated to the
 * network driver (network_driver.h), and network events to clients. */
#include "remote_network.h"

#include <string.h>

#include "remote_network_protocol.h"
#include "remote_objevents.h"

#define DRV(conn) ((conn)->remote->network->drv)

#define EVENT_ID_LIFECYCLE 0 /* VIR_NETWORK_EVENT_ID_LIFECYCLE */

/* libvirt's CONNECT_LIST_NETWORKS_* for the old listing calls */
enum {
    LIST_INACTIVE = 1 << 0,
    LIST_ACTIVE = 1 << 1,
};

struct TvRemoteNetwork {
    TvNetworkDriver *drv;
    TvObjEvents events;
};

static const unsigned char *net_uuid(const tvr_nonnull_network *net)
{
    return (const unsigned char *)net->uuid;
}

static void net_to_wire(TvNetRef *ref, tvr_nonnull_network *out)
{
    out->name = g_steal_pointer(&ref->name);
    memcpy(out->uuid, ref->uuid, sizeof(out->uuid));
}

static int take_net(int rc, TvNetRef *ref, void *retp)
{
    if (rc < 0) {
        tv_net_ref_clear(ref);
        return -1;
    }
    net_to_wire(ref, &((tvr_net_ret *)retp)->net);
    return 0;
}

static int take_int(int value, void *retp)
{
    if (value < 0)
        return -1;
    ((tvr_net_int_ret *)retp)->value = value;
    return 0;
}

static int take_string(char *str, void *retp)
{
    if (!str)
        return -1;
    ((tvr_net_string_ret *)retp)->str = str;
    return 0;
}

static void free_refs(TvNetRef *refs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tv_net_ref_clear(&refs[i]);
    g_free(refs);
}

/* ---- listing ---- */

static int count(TvRemoteConn *conn, unsigned flags, void *r)
{
    TvNetRef *refs = NULL;
    size_t n = 0;
    if (tv_network_list_all(DRV(conn), flags, &refs, &n) < 0)
        return -1;
    free_refs(refs, n);
    return take_int((int)n, r);
}

static int names(TvRemoteConn *conn, unsigned flags, int maxnames, void *r)
{
    if (maxnames < 0 || maxnames > TVR_NETWORK_LIST_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "maxnames %d out of range 0 to %d", maxnames,
                        TVR_NETWORK_LIST_MAX);
        return -1;
    }
    TvNetRef *refs = NULL;
    size_t n = 0;
    if (tv_network_list_all(DRV(conn), flags, &refs, &n) < 0)
        return -1;
    tvr_net_names_ret *ret = r;
    size_t keep = MIN(n, (size_t)maxnames);
    ret->names.names_val = g_new0(char *, MAX(keep, 1));
    for (size_t i = 0; i < keep; i++)
        ret->names.names_val[i] = g_steal_pointer(&refs[i].name);
    ret->names.names_len = (u_int)keep;
    free_refs(refs, n);
    return 0;
}

static int h_num_of_networks(TvRemoteConn *conn, const void *a, void *r)
{
    return count(conn, LIST_ACTIVE, r);
}

static int h_num_of_defined_networks(TvRemoteConn *conn, const void *a, void *r)
{
    return count(conn, LIST_INACTIVE, r);
}

static int h_list_networks(TvRemoteConn *conn, const void *a, void *r)
{
    return names(conn, LIST_ACTIVE, ((const tvr_net_maxnames_args *)a)->maxnames, r);
}

static int h_list_defined_networks(TvRemoteConn *conn, const void *a, void *r)
{
    return names(conn, LIST_INACTIVE, ((const tvr_net_maxnames_args *)a)->maxnames, r);
}

static int h_list_all(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_list_all_networks_args *args = a;
    tvr_connect_list_all_networks_ret *ret = r;
    TvNetRef *refs = NULL;
    size_t n = 0;
    if (tv_network_list_all(DRV(conn), args->flags, &refs, &n) < 0)
        return -1;
    if (n > TVR_NETWORK_LIST_MAX) {
        free_refs(refs, n);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "too many networks for one answer: %zu", n);
        return -1;
    }
    ret->ret = (u_int)n;
    if (args->need_results) {
        ret->nets.nets_val = g_new0(tvr_nonnull_network, MAX(n, 1));
        ret->nets.nets_len = (u_int)n;
        for (size_t i = 0; i < n; i++)
            net_to_wire(&refs[i], &ret->nets.nets_val[i]);
    }
    free_refs(refs, n);
    return 0;
}

/* ---- lifecycle ---- */

static int h_define(TvRemoteConn *conn, const void *a, void *r)
{
    TvNetRef ref = { 0 };
    return take_net(tv_network_define(DRV(conn), ((const tvr_net_xml_args *)a)->xml, 0, &ref), &ref,
                    r);
}

static int h_define_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_net_xml_flags_args *args = a;
    TvNetRef ref = { 0 };
    return take_net(tv_network_define(DRV(conn), args->xml, args->flags, &ref), &ref, r);
}

static int h_create_xml(TvRemoteConn *conn, const void *a, void *r)
{
    TvNetRef ref = { 0 };
    return take_net(tv_network_create_xml(DRV(conn), ((const tvr_net_xml_args *)a)->xml, 0, &ref),
                    &ref, r);
}

static int h_create_xml_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_net_xml_flags_args *args = a;
    TvNetRef ref = { 0 };
    return take_net(tv_network_create_xml(DRV(conn), args->xml, args->flags, &ref), &ref, r);
}

static int h_create(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_network_create(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net));
}

static int h_destroy(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_network_destroy(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net));
}

static int h_undefine(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_network_undefine(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net));
}

static int h_update(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_network_update_args *args = a;
    tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_UNSUPPORTED,
                    "updating a network in place (command %u, section %u) is not supported; "
                    "redefine it and restart it",
                    args->command, args->section);
    return -1;
}

/* ---- queries ---- */

static int h_lookup_by_name(TvRemoteConn *conn, const void *a, void *r)
{
    TvNetRef ref = { 0 };
    return take_net(
        tv_network_lookup_by_name(DRV(conn), ((const tvr_net_lookup_by_name_args *)a)->name, &ref),
        &ref, r);
}

static int h_lookup_by_uuid(TvRemoteConn *conn, const void *a, void *r)
{
    TvNetRef ref = { 0 };
    return take_net(
        tv_network_lookup_by_uuid(
            DRV(conn), (const unsigned char *)((const tvr_net_lookup_by_uuid_args *)a)->uuid, &ref),
        &ref, r);
}

static int h_get_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_net_flags_args *args = a;
    return take_string(tv_network_get_xml(DRV(conn), net_uuid(&args->net), args->flags), r);
}

static int h_get_bridge_name(TvRemoteConn *conn, const void *a, void *r)
{
    return take_string(
        tv_network_get_bridge_name(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net)), r);
}

static int h_get_autostart(TvRemoteConn *conn, const void *a, void *r)
{
    return take_int(tv_network_get_autostart(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net)),
                    r);
}

static int h_set_autostart(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_net_set_autostart_args *args = a;
    return tv_network_set_autostart(DRV(conn), net_uuid(&args->net), args->autostart != 0);
}

static int h_is_active(TvRemoteConn *conn, const void *a, void *r)
{
    return take_int(tv_network_is_active(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net)), r);
}

static int h_is_persistent(TvRemoteConn *conn, const void *a, void *r)
{
    return take_int(tv_network_is_persistent(DRV(conn), net_uuid(&((const tvr_net_args *)a)->net)),
                    r);
}

static int h_dhcp_leases(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_network_get_dhcp_leases_args *args = a;
    tvr_network_get_dhcp_leases_ret *ret = r;
    TvNetLease *leases = NULL;
    size_t n = 0;
    if (tv_network_get_dhcp_leases(DRV(conn), net_uuid(&args->net), args->mac ? *args->mac : NULL,
                                   args->flags, &leases, &n) < 0)
        return -1;
    n = MIN(n, (size_t)TVR_NETWORK_LEASES_MAX);
    ret->ret = (u_int)n;
    if (args->need_results) {
        ret->leases.leases_val = g_new0(tvr_network_dhcp_lease, MAX(n, 1));
        ret->leases.leases_len = (u_int)n;
        for (size_t i = 0; i < n; i++) {
            tvr_network_dhcp_lease *w = &ret->leases.leases_val[i];
            w->iface = g_steal_pointer(&leases[i].iface);
            w->expirytime = leases[i].expiry;
            w->type = 0; /* VIR_IP_ADDR_TYPE_IPV4 */
            w->mac = g_new0(char *, 1);
            *w->mac = g_steal_pointer(&leases[i].mac);
            w->ipaddr = g_steal_pointer(&leases[i].ip);
            w->prefix = leases[i].prefix;
            if (leases[i].hostname) {
                w->hostname = g_new0(char *, 1);
                *w->hostname = g_steal_pointer(&leases[i].hostname);
            }
            if (leases[i].clientid) {
                w->clientid = g_new0(char *, 1);
                *w->clientid = g_steal_pointer(&leases[i].clientid);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        tv_net_lease_clear(&leases[i]);
    g_free(leases);
    return 0;
}

/* ---- events ---- */

static int h_event_register(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_network_event_register_any_args *args = a;
    if (args->event_id != EVENT_ID_LIFECYCLE) {
        /* libvirt's code for an event id past its last one */
        tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR,
                        "unsupported network event ID %d; accepted: 0 (lifecycle)", args->event_id);
        return -1;
    }
    ((tvr_connect_network_event_register_any_ret *)r)->callback_id =
        tv_obj_events_register(&conn->remote->network->events, conn, args->event_id,
                               args->net ? (const unsigned char *)args->net->uuid : NULL);
    return 0;
}

static int h_event_deregister(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_obj_events_deregister(
        &conn->remote->network->events, conn,
        ((const tvr_connect_network_event_deregister_any_args *)a)->callback_id);
}

TvNetworkDriver *tv_remote_network_driver(TvRemote *remote)
{
    return remote->network ? remote->network->drv : NULL;
}

void tv_remote_network_drop_conn(TvRemoteConn *conn)
{
    if (conn->remote->network)
        tv_obj_events_drop_conn(&conn->remote->network->events, conn);
}

typedef struct {
    tvr_nonnull_network net;
    int event, detail;
} NetEvent;

static void send_net_event(TvRemoteConn *conn, int callback_id, void *opaque)
{
    const NetEvent *ev = opaque;
    tvr_network_event_lifecycle_msg msg = { callback_id, ev->net, ev->event, ev->detail };
    tv_remote_send_message(conn, TVR_PROC_NETWORK_EVENT_LIFECYCLE,
                           TV_XDR(xdr_tvr_network_event_lifecycle_msg), &msg);
}

static void emit_net_event(const TvNetRef *net, int event, int detail, void *opaque)
{
    TvRemoteNetwork *rn = opaque;
    NetEvent ev = { { net->name, { 0 } }, event, detail };
    memcpy(ev.net.uuid, net->uuid, sizeof(ev.net.uuid));
    tv_obj_events_emit(&rn->events, EVENT_ID_LIFECYCLE, net->uuid, send_net_event, &ev);
}

static const TvRemoteHandlerEntry network_handlers[] = {
    { TVR_PROC_CONNECT_LIST_DEFINED_NETWORKS, h_list_defined_networks },
    { TVR_PROC_CONNECT_LIST_NETWORKS, h_list_networks },
    { TVR_PROC_NETWORK_CREATE, h_create },
    { TVR_PROC_NETWORK_CREATE_XML, h_create_xml },
    { TVR_PROC_NETWORK_DEFINE_XML, h_define },
    { TVR_PROC_NETWORK_DESTROY, h_destroy },
    { TVR_PROC_NETWORK_GET_XML_DESC, h_get_xml },
    { TVR_PROC_NETWORK_GET_AUTOSTART, h_get_autostart },
    { TVR_PROC_NETWORK_GET_BRIDGE_NAME, h_get_bridge_name },
    { TVR_PROC_NETWORK_LOOKUP_BY_NAME, h_lookup_by_name },
    { TVR_PROC_NETWORK_LOOKUP_BY_UUID, h_lookup_by_uuid },
    { TVR_PROC_NETWORK_SET_AUTOSTART, h_set_autostart },
    { TVR_PROC_NETWORK_UNDEFINE, h_undefine },
    { TVR_PROC_CONNECT_NUM_OF_DEFINED_NETWORKS, h_num_of_defined_networks },
    { TVR_PROC_CONNECT_NUM_OF_NETWORKS, h_num_of_networks },
    { TVR_PROC_NETWORK_IS_ACTIVE, h_is_active },
    { TVR_PROC_NETWORK_IS_PERSISTENT, h_is_persistent },
    { TVR_PROC_CONNECT_LIST_ALL_NETWORKS, h_list_all },
    { TVR_PROC_NETWORK_UPDATE, h_update },
    { TVR_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY, h_event_register },
    { TVR_PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY, h_event_deregister },
    { TVR_PROC_NETWORK_GET_DHCP_LEASES, h_dhcp_leases },
    { TVR_PROC_NETWORK_DEFINE_XML_FLAGS, h_define_flags },
    { TVR_PROC_NETWORK_CREATE_XML_FLAGS, h_create_xml_flags },
};

void tv_remote_register_network(TvRemote *remote, TvNetworkDriver *drv)
{
    g_return_if_fail(remote->network == NULL);
    TvRemoteNetwork *rn = g_new0(TvRemoteNetwork, 1);
    rn->drv = drv;
    tv_obj_events_init(&rn->events, "network");
    remote->network = rn;
    tv_remote_add_handlers(remote, network_handlers, G_N_ELEMENTS(network_handlers));
    tv_network_driver_set_event_callback(drv, emit_net_event, rn);
}

void tv_remote_unregister_network(TvRemote *remote)
{
    TvRemoteNetwork *rn = remote->network;
    if (!rn)
        return;
    tv_obj_events_clear(&rn->events);
    g_free(rn);
    remote->network = NULL;
}
