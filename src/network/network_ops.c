/* Network calls with libvirt's semantics: define, create (transient),
 * start, stop, undefine, XML, autostart, leases, and the bridge a guest's
 * NIC joins. */
#include "network_driver_priv.h"
#include "tv_error.h"

#include <stdio.h>
#include <string.h>

enum {
    DEFINE_VALIDATE = 1 << 0, /* VIR_NETWORK_DEFINE_VALIDATE */
    CREATE_VALIDATE = 1 << 0, /* VIR_NETWORK_CREATE_VALIDATE */
    XML_INACTIVE = 1 << 0,    /* VIR_NETWORK_XML_INACTIVE */
};

static int flags_check(const char *call, unsigned flags, unsigned known)
{
    if (!(flags & ~known))
        return 0;
    tv_error_report(TV_FROM_NETWORK, TV_ERR_INVALID_ARG, "%s: unsupported flags (0x%x)", call,
                    flags & ~known);
    return -1;
}

/* A network with def's name or uuid (returned in *same when both match),
 * or another one on def's bridge. */
static int clash_check_locked(TvNetworkDriver *drv, const TvNetworkDef *def, TvNetwork **same)
{
    *same = NULL;
    TvNetwork *by_name = tv_net_find_name_locked(drv, def->name);
    TvNetwork *by_uuid = tv_net_find_uuid_locked(drv, def->uuid);
    if (by_name && by_name != by_uuid) {
        char other[TV_UUID_STRLEN + 1];
        tv_uuid_format(by_name->def->uuid, other);
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "network '%s' already exists with uuid %s", def->name, other);
        return -1;
    }
    if (by_uuid && by_uuid != by_name) {
        char uuid[TV_UUID_STRLEN + 1];
        tv_uuid_format(def->uuid, uuid);
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "network with uuid %s already exists as '%s'", uuid, by_uuid->def->name);
        return -1;
    }
    *same = by_name;
    for (guint i = 0; def->bridge && i < drv->nets->len; i++) {
        TvNetwork *n = g_ptr_array_index(drv->nets, i);
        if (n != by_name && g_strcmp0(n->def->bridge, def->bridge) == 0 &&
            def->forward != TV_NET_FORWARD_BRIDGE) {
            tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                            "bridge name '%s' is already used by network '%s'", def->bridge,
                            n->def->name);
            return -1;
        }
    }
    return 0;
}

int tv_network_define(TvNetworkDriver *drv, const char *xml, unsigned flags, TvNetRef *out)
{
    /* the parser checks as strictly as libvirt's schema would */
    if (flags_check("network define", flags, DEFINE_VALIDATE) < 0)
        return -1;
    g_autoptr(TvNetworkDef) def = tv_network_def_parse(xml, strlen(xml));
    if (!def)
        return -1;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    g_autofree char *text = NULL;
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = NULL;
    if (clash_check_locked(drv, def, &net) < 0)
        goto out;
    if (net && !def->bridge && net->def->bridge)
        def->bridge = g_strdup(net->def->bridge); /* a redefinition keeps what was filled in */
    if (net && !def->mac && net->def->mac)
        def->mac = g_strdup(net->def->mac);
    tv_net_fill_defaults_locked(drv, def);
    text = tv_network_def_format(def);
    if (tv_objfiles_save(&drv->files, def->name, text) < 0)
        goto out;
    if (!net) {
        net = g_new0(TvNetwork, 1);
        g_ptr_array_add(drv->nets, net);
    }
    /* a running network keeps running what it started with until it stops */
    if (!net->active) {
        tv_network_def_free(net->def);
        net->def = g_steal_pointer(&def);
    } else if (!net->def) {
        net->def = g_steal_pointer(&def);
    }
    net->persistent = true;
    tv_net_ref_fill(net, out);
    tv_net_event_queue(events, net, TV_NET_EVENT_DEFINED);
    rc = 0;
out:
    g_mutex_unlock(&drv->lock);
    tv_net_events_flush(drv, events);
    return rc;
}

int tv_network_create_xml(TvNetworkDriver *drv, const char *xml, unsigned flags, TvNetRef *out)
{
    if (flags_check("network create", flags, CREATE_VALIDATE) < 0)
        return -1;
    g_autoptr(TvNetworkDef) def = tv_network_def_parse(xml, strlen(xml));
    if (!def)
        return -1;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *same = NULL;
    if (clash_check_locked(drv, def, &same) < 0)
        goto out;
    if (same) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID, "network '%s' already exists",
                        def->name);
        goto out;
    }
    tv_net_fill_defaults_locked(drv, def);
    TvNetwork *net = g_new0(TvNetwork, 1);
    net->def = g_steal_pointer(&def);
    if (tv_net_start_locked(drv, net) < 0) {
        tv_net_free(net);
        goto out;
    }
    g_ptr_array_add(drv->nets, net);
    tv_net_ref_fill(net, out);
    tv_net_event_queue(events, net, TV_NET_EVENT_STARTED);
    rc = 0;
out:
    g_mutex_unlock(&drv->lock);
    tv_net_events_flush(drv, events);
    return rc;
}

int tv_network_create(TvNetworkDriver *drv, const unsigned char *uuid)
{
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net && net->active) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID, "network '%s' is already active",
                        net->def->name);
    } else if (net && tv_net_start_locked(drv, net) == 0) {
        tv_net_event_queue(events, net, TV_NET_EVENT_STARTED);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_net_events_flush(drv, events);
    return rc;
}

/* Reload the persistent definition a stopped network goes back to (a
 * redefinition made while it ran takes effect now). */
static void reload_config_locked(TvNetworkDriver *drv, TvNetwork *net)
{
    g_autofree char *path = g_strconcat(drv->files.config_dir, "/", net->def->name, ".xml", NULL);
    g_autofree char *xml = NULL;
    if (!g_file_get_contents(path, &xml, NULL, NULL))
        return;
    TvNetworkDef *def = tv_network_def_parse(xml, strlen(xml));
    if (def) {
        tv_network_def_free(net->def);
        net->def = def;
    }
    tv_error_reset();
}

int tv_network_destroy(TvNetworkDriver *drv, const unsigned char *uuid)
{
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net && !net->active) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID, "network '%s' is not active",
                        net->def->name);
    } else if (net) {
        tv_net_stop_locked(drv, net);
        tv_net_event_queue(events, net, TV_NET_EVENT_STOPPED);
        if (!net->persistent)
            g_ptr_array_remove(drv->nets, net);
        else
            reload_config_locked(drv, net);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_net_events_flush(drv, events);
    return rc;
}

int tv_network_undefine(TvNetworkDriver *drv, const unsigned char *uuid)
{
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net && !net->persistent) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "network '%s' is transient: stop it instead", net->def->name);
    } else if (net && tv_objfiles_remove(&drv->files, net->def->name) == 0) {
        tv_net_event_queue(events, net, TV_NET_EVENT_UNDEFINED);
        net->persistent = false;
        net->autostart = false;
        if (!net->active) /* an active one goes on as a transient network, as libvirt's */
            g_ptr_array_remove(drv->nets, net);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_net_events_flush(drv, events);
    return rc;
}

char *tv_network_get_xml(TvNetworkDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags_check("network XML description", flags, XML_INACTIVE) < 0)
        return NULL;
    char *xml = NULL;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net && (flags & XML_INACTIVE) && net->active && net->persistent) {
        g_autofree char *path =
            g_strconcat(drv->files.config_dir, "/", net->def->name, ".xml", NULL);
        if (!g_file_get_contents(path, &xml, NULL, NULL))
            xml = tv_network_def_format(net->def);
    } else if (net) {
        xml = tv_network_def_format(net->def);
    }
    g_mutex_unlock(&drv->lock);
    return xml;
}

char *tv_network_get_bridge_name(TvNetworkDriver *drv, const unsigned char *uuid)
{
    char *bridge = NULL;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net && !net->def->bridge)
        tv_error_report(TV_FROM_NETWORK, TV_ERR_INTERNAL_ERROR, "network '%s' has no bridge",
                        net->def->name);
    else if (net)
        bridge = g_strdup(net->def->bridge);
    g_mutex_unlock(&drv->lock);
    return bridge;
}

int tv_network_get_autostart(TvNetworkDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    int rc = net ? net->autostart : -1;
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_network_set_autostart(TvNetworkDriver *drv, const unsigned char *uuid, bool on)
{
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net && !net->persistent) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "cannot set autostart for transient network '%s'", net->def->name);
    } else if (net && tv_objfiles_set_autostart(&drv->files, net->def->name, on) == 0) {
        net->autostart = on;
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_network_is_active(TvNetworkDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    int rc = net ? net->active : -1;
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_network_is_persistent(TvNetworkDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    int rc = net ? net->persistent : -1;
    g_mutex_unlock(&drv->lock);
    return rc;
}

/* dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENTID" per line, '*' for
 * none */
int tv_network_get_dhcp_leases(TvNetworkDriver *drv, const unsigned char *uuid, const char *mac,
                               unsigned flags, TvNetLease **out, size_t *n)
{
    if (flags_check("network DHCP leases", flags, 0) < 0)
        return -1;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    g_autofree char *path = net ? tv_net_dnsmasq_leases_path(drv, net->def->name) : NULL;
    g_autofree char *bridge = net ? g_strdup(net->def->bridge) : NULL;
    unsigned prefix = net ? net->def->prefix : 0;
    g_mutex_unlock(&drv->lock);
    if (!net)
        return -1;
    GArray *leases = g_array_new(FALSE, TRUE, sizeof(TvNetLease));
    g_autofree char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            g_auto(GStrv) f = g_strsplit(*l, " ", -1);
            if (g_strv_length(f) < 5)
                continue;
            if (mac && g_ascii_strcasecmp(mac, f[1]) != 0)
                continue;
            TvNetLease lease = { 0 };
            lease.iface = g_strdup(bridge);
            lease.expiry = g_ascii_strtoll(f[0], NULL, 10);
            lease.mac = g_ascii_strdown(f[1], -1);
            lease.ip = g_strdup(f[2]);
            lease.prefix = prefix;
            lease.hostname = strcmp(f[3], "*") ? g_strdup(f[3]) : NULL;
            lease.clientid = strcmp(f[4], "*") ? g_strdup(f[4]) : NULL;
            g_array_append_val(leases, lease);
        }
    }
    *n = leases->len;
    *out = (TvNetLease *)g_array_free(leases, FALSE);
    return 0;
}

char *tv_network_port_bridge(TvNetworkDriver *drv, const char *name, unsigned *mtu)
{
    char *bridge = NULL;
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_find_name_locked(drv, name);
    if (!net)
        tv_error_report(TV_FROM_NETWORK, TV_ERR_NO_NETWORK,
                        "network not found: no network with matching name '%s'", name);
    else if (!net->active)
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "network '%s' is not active (start it: 'virsh net-start %s')", name, name);
    else {
        bridge = g_strdup(net->def->bridge);
        if (mtu)
            *mtu = net->def->mtu;
    }
    g_mutex_unlock(&drv->lock);
    return bridge;
}
