/* The network driver object: open and close, the list, lookups, listing,
 * events, the defaults define fills in, and the 'default' network. */
#include "network_driver_priv.h"
#include "tv_error.h"
#include "tv_netdev.h"

#include <string.h>

#define NET_XML_MAX (256 * 1024)

void tv_net_ref_clear(TvNetRef *ref)
{
    g_clear_pointer(&ref->name, g_free);
}

void tv_net_lease_clear(TvNetLease *lease)
{
    g_free(lease->iface);
    g_free(lease->mac);
    g_free(lease->ip);
    g_free(lease->hostname);
    g_free(lease->clientid);
    memset(lease, 0, sizeof(*lease));
}

void tv_net_free(TvNetwork *net)
{
    if (!net)
        return;
    tv_network_def_free(net->def);
    g_free(net);
}

TvNetwork *tv_net_find_uuid_locked(TvNetworkDriver *drv, const unsigned char *uuid)
{
    for (guint i = 0; i < drv->nets->len; i++) {
        TvNetwork *net = g_ptr_array_index(drv->nets, i);
        if (memcmp(net->def->uuid, uuid, TV_UUID_LEN) == 0)
            return net;
    }
    return NULL;
}

TvNetwork *tv_net_find_name_locked(TvNetworkDriver *drv, const char *name)
{
    for (guint i = 0; i < drv->nets->len; i++) {
        TvNetwork *net = g_ptr_array_index(drv->nets, i);
        if (strcmp(net->def->name, name) == 0)
            return net;
    }
    return NULL;
}

TvNetwork *tv_net_get_locked(TvNetworkDriver *drv, const unsigned char *uuid)
{
    TvNetwork *net = tv_net_find_uuid_locked(drv, uuid);
    if (!net) {
        char str[TV_UUID_STRLEN + 1];
        tv_uuid_format(uuid, str);
        tv_error_report(TV_FROM_NETWORK, TV_ERR_NO_NETWORK,
                        "network not found: no network with matching uuid '%s'", str);
    }
    return net;
}

void tv_net_ref_fill(const TvNetwork *net, TvNetRef *out)
{
    out->name = g_strdup(net->def->name);
    memcpy(out->uuid, net->def->uuid, TV_UUID_LEN);
}

void tv_net_event_queue(GPtrArray *queue, const TvNetwork *net, int event)
{
    TvNetEvent *ev = g_new0(TvNetEvent, 1);
    tv_net_ref_fill(net, &ev->ref);
    ev->event = event;
    g_ptr_array_add(queue, ev);
}

void tv_net_events_flush(TvNetworkDriver *drv, GPtrArray *queue)
{
    g_mutex_lock(&drv->event_lock);
    for (guint i = 0; i < queue->len; i++) {
        TvNetEvent *ev = g_ptr_array_index(queue, i);
        if (drv->event_cb)
            drv->event_cb(&ev->ref, ev->event, 0, drv->event_opaque);
        tv_net_ref_clear(&ev->ref);
        g_free(ev);
    }
    g_ptr_array_set_size(queue, 0);
    g_mutex_unlock(&drv->event_lock);
}

void tv_network_driver_set_event_callback(TvNetworkDriver *drv, TvNetEventFunc cb, void *opaque)
{
    g_mutex_lock(&drv->event_lock);
    drv->event_cb = cb;
    drv->event_opaque = opaque;
    g_mutex_unlock(&drv->event_lock);
}

static bool bridge_name_taken_locked(TvNetworkDriver *drv, const char *name)
{
    for (guint i = 0; i < drv->nets->len; i++) {
        TvNetwork *net = g_ptr_array_index(drv->nets, i);
        if (g_strcmp0(net->def->bridge, name) == 0)
            return true;
    }
    return tv_netdev_exists(name);
}

void tv_net_fill_defaults_locked(TvNetworkDriver *drv, TvNetworkDef *def)
{
    if (def->forward == TV_NET_FORWARD_BRIDGE)
        return;
    for (unsigned n = 0; !def->bridge && n < 1000; n++) {
        g_autofree char *name = g_strdup_printf("virbr%u", n);
        if (!bridge_name_taken_locked(drv, name))
            def->bridge = g_steal_pointer(&name);
    }
    if (!def->mac) {
        guint32 r = g_random_int();
        def->mac =
            g_strdup_printf("52:54:00:%02x:%02x:%02x", r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff);
    }
}

static TvNetworkDef *load_one(TvNetworkDriver *drv, const char *dir, const char *name)
{
    size_t len = 0;
    g_autofree char *xml = tv_objfiles_read(&drv->files, dir, name, NET_XML_MAX, &len);
    if (!xml)
        return NULL;
    TvNetworkDef *def = tv_network_def_parse(xml, len);
    if (!def || g_strcmp0(def->name, name) != 0) {
        g_warning("network: skipping %s/%s.xml: %s", dir, name,
                  def ? "it defines another network" : tv_error_message());
        tv_error_reset();
        tv_network_def_free(def);
        return NULL;
    }
    return def;
}

static void load_all(TvNetworkDriver *drv)
{
    g_mutex_lock(&drv->lock);
    g_autoptr(GPtrArray) names = tv_objfiles_names(drv->files.config_dir);
    for (guint i = 0; i < names->len; i++) {
        TvNetworkDef *def = load_one(drv, drv->files.config_dir, g_ptr_array_index(names, i));
        if (!def)
            continue;
        if (tv_net_find_name_locked(drv, def->name) || tv_net_find_uuid_locked(drv, def->uuid)) {
            g_warning("network: skipping a second network named '%s' or with its uuid", def->name);
            tv_network_def_free(def);
            continue;
        }
        TvNetwork *net = g_new0(TvNetwork, 1);
        net->def = def;
        net->persistent = true;
        net->autostart = tv_objfiles_autostart(&drv->files, def->name);
        g_ptr_array_add(drv->nets, net);
    }
    /* networks that were running: the state file has the definition they run */
    g_autoptr(GPtrArray) states = tv_objfiles_names(drv->files.state_dir);
    for (guint i = 0; i < states->len; i++) {
        TvNetworkDef *def = load_one(drv, drv->files.state_dir, g_ptr_array_index(states, i));
        if (!def)
            continue;
        TvNetwork *net = tv_net_find_name_locked(drv, def->name);
        if (!net) {
            net = g_new0(TvNetwork, 1);
            g_ptr_array_add(drv->nets, net);
        } else {
            tv_network_def_free(net->def);
        }
        net->def = def;
        net->active = true;
        if (!tv_net_reattach_locked(drv, net)) {
            net->active = false;
            tv_objfiles_state_remove(&drv->files, def->name);
        }
    }
    for (guint i = drv->nets->len; i-- > 0;) {
        TvNetwork *net = g_ptr_array_index(drv->nets, i);
        if (!net->persistent && !net->active)
            g_ptr_array_remove_index(drv->nets, i);
    }
    g_mutex_unlock(&drv->lock);
}

/* As libvirt's packaging: 'default', NAT, 192.168.122.0/24, or the first free
 * 192.168.N.0/24 above it when that is taken. */
static void make_default(TvNetworkDriver *drv)
{
    for (unsigned n = 122; n < 255; n++) {
        guint32 net = (192u << 24) | (168u << 16) | (n << 8);
        g_autofree char *why = NULL;
        if (tv_netdev_ipv4_in_use(net, 24, &why)) {
            g_message("network: 192.168.%u.0/24 is in use (%s)", n, why);
            continue;
        }
        g_autofree char *xml = g_strdup_printf(
            "<network><name>default</name><forward mode='nat'/>"
            "<ip address='192.168.%u.1' netmask='255.255.255.0'><dhcp>"
            "<range start='192.168.%u.2' end='192.168.%u.254'/></dhcp></ip></network>",
            n, n, n);
        TvNetRef ref = { 0 };
        if (tv_network_define(drv, xml, 0, &ref) < 0 ||
            tv_network_set_autostart(drv, ref.uuid, true) < 0) {
            g_warning("network: cannot define the default network: %s", tv_error_message());
            tv_error_reset();
        } else {
            g_message("network: defined 'default' on 192.168.%u.0/24", n);
        }
        tv_net_ref_clear(&ref);
        return;
    }
    g_warning("network: no free 192.168.N.0/24 for the default network");
}

TvNetworkDriver *tv_network_driver_open(const TvNetworkDriverConfig *cfg)
{
    TvNetworkDriver *drv = g_new0(TvNetworkDriver, 1);
    g_mutex_init(&drv->lock);
    g_mutex_init(&drv->event_lock);
    drv->nets = g_ptr_array_new_with_free_func((GDestroyNotify)tv_net_free);
    drv->dnsmasq = g_strdup(cfg->dnsmasq ? cfg->dnsmasq : "dnsmasq");
    drv->nft = g_strdup(cfg->nft ? cfg->nft : "nft");
    bool first = false;
    if (tv_objfiles_init(&drv->files, "network", cfg->config_dir, cfg->state_dir, &first) < 0) {
        tv_network_driver_close(drv);
        return NULL;
    }
    load_all(drv);
    if (first && cfg->make_default)
        make_default(drv);
    if (!cfg->autostart)
        return drv;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    g_mutex_lock(&drv->lock);
    for (guint i = 0; i < drv->nets->len; i++) {
        TvNetwork *net = g_ptr_array_index(drv->nets, i);
        if (!net->autostart || net->active)
            continue;
        if (tv_net_start_locked(drv, net) < 0) {
            g_warning("network: cannot autostart '%s': %s", net->def->name, tv_error_message());
            tv_error_reset();
            continue;
        }
        tv_net_event_queue(events, net, TV_NET_EVENT_STARTED);
    }
    g_mutex_unlock(&drv->lock);
    tv_net_events_flush(drv, events);
    return drv;
}

void tv_network_driver_close(TvNetworkDriver *drv)
{
    if (!drv)
        return;
    g_ptr_array_unref(drv->nets);
    tv_objfiles_clear(&drv->files);
    g_free(drv->dnsmasq);
    g_free(drv->nft);
    g_mutex_clear(&drv->lock);
    g_mutex_clear(&drv->event_lock);
    g_free(drv);
}

int tv_network_list_all(TvNetworkDriver *drv, unsigned flags, TvNetRef **out, size_t *n)
{
    if (flags & ~TV_OBJ_LIST_COMMON_FLAGS) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_INVALID_ARG,
                        "unsupported flags (0x%x) in listing networks",
                        flags & ~TV_OBJ_LIST_COMMON_FLAGS);
        return -1;
    }
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(TvNetRef));
    g_mutex_lock(&drv->lock);
    for (guint i = 0; i < drv->nets->len; i++) {
        TvNetwork *net = g_ptr_array_index(drv->nets, i);
        if (!tv_objfiles_list_match(flags, net->active, net->persistent, net->autostart))
            continue;
        TvNetRef ref = { 0 };
        tv_net_ref_fill(net, &ref);
        g_array_append_val(refs, ref);
    }
    g_mutex_unlock(&drv->lock);
    *n = refs->len;
    *out = (TvNetRef *)g_array_free(refs, FALSE);
    return 0;
}

int tv_network_lookup_by_name(TvNetworkDriver *drv, const char *name, TvNetRef *out)
{
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_find_name_locked(drv, name);
    if (net)
        tv_net_ref_fill(net, out);
    else
        tv_error_report(TV_FROM_NETWORK, TV_ERR_NO_NETWORK,
                        "network not found: no network with matching name '%s'", name);
    g_mutex_unlock(&drv->lock);
    return net ? 0 : -1;
}

int tv_network_lookup_by_uuid(TvNetworkDriver *drv, const unsigned char *uuid, TvNetRef *out)
{
    g_mutex_lock(&drv->lock);
    TvNetwork *net = tv_net_get_locked(drv, uuid);
    if (net)
        tv_net_ref_fill(net, out);
    g_mutex_unlock(&drv->lock);
    return net ? 0 : -1;
}
