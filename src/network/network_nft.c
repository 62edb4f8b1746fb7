/* A network's nftables rules: one table of its own, 'tagvirt_BRIDGE' in
 * family ip, made when the network starts and deleted when it stops, so no
 * other rule of the host is touched.  NAT masquerades what leaves the
 * subnet; route forwards it as it is; an isolated network forwards nothing;
 * an open network has no rules.  DHCP and DNS from guests are accepted. */
#include "network_driver_priv.h"
#include "tv_error.h"

#include <gio/gio.h>
#include <string.h>

static char *table_name(const TvNetworkDef *def)
{
    char *t = g_strconcat("tagvirt_", def->bridge, NULL);
    for (char *p = t; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_')
            *p = '_';
    }
    return t;
}

static int run_nft(TvNetworkDriver *drv, const char *const *args, const char *input,
                   const char *what)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, drv->nft);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) gerr = NULL;
    proc = g_subprocess_newv((const char *const *)argv->pdata,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             &gerr);
    g_autofree char *err = NULL;
    if (!proc || !g_subprocess_communicate_utf8(proc, input, NULL, NULL, &err, &gerr)) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "cannot run %s to %s: %s (install nftables)", drv->nft, what,
                        gerr->message);
        return -1;
    }
    if (!g_subprocess_get_successful(proc)) {
        g_strstrip(err);
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED, "nft failed to %s: %s", what,
                        err && *err ? err : "no message");
        return -1;
    }
    return 0;
}

static char *ruleset(const TvNetworkDef *def)
{
    g_autofree char *table = table_name(def);
    g_autofree char *net = tv_ipv4_format(def->ip & tv_ipv4_prefix_mask(def->prefix));
    g_autofree char *subnet = g_strdup_printf("%s/%u", net, def->prefix);
    const char *br = def->bridge;
    g_autofree char *out_dev =
        def->forward_dev ? g_strdup_printf(" oifname \"%s\"", def->forward_dev) : g_strdup("");
    g_autofree char *in_dev =
        def->forward_dev ? g_strdup_printf(" iifname \"%s\"", def->forward_dev) : g_strdup("");
    GString *r = g_string_new(NULL);
    g_string_append_printf(r, "table ip %s {\n", table);
    /* guests reach dnsmasq on the bridge */
    g_string_append_printf(r,
                           "  chain input {\n"
                           "    type filter hook input priority filter; policy accept;\n"
                           "    iifname \"%s\" udp dport { 53, 67 } accept\n"
                           "    iifname \"%s\" tcp dport 53 accept\n"
                           "  }\n",
                           br, br);
    g_string_append(r, "  chain forward {\n"
                       "    type filter hook forward priority filter; policy accept;\n");
    g_string_append_printf(r, "    iifname \"%s\" oifname \"%s\" accept\n", br, br);
    switch (def->forward) {
    case TV_NET_FORWARD_NAT:
        g_string_append_printf(r, "    iifname \"%s\" ip saddr %s%s accept\n", br, subnet, out_dev);
        g_string_append_printf(r,
                               "    oifname \"%s\" ip daddr %s%s ct state related,established "
                               "accept\n",
                               br, subnet, in_dev);
        break;
    case TV_NET_FORWARD_ROUTE:
        g_string_append_printf(r, "    iifname \"%s\" ip saddr %s%s accept\n", br, subnet, out_dev);
        g_string_append_printf(r, "    oifname \"%s\" ip daddr %s%s accept\n", br, subnet, in_dev);
        break;
    case TV_NET_FORWARD_NONE:
    case TV_NET_FORWARD_OPEN:
    case TV_NET_FORWARD_BRIDGE:
    case TV_NET_FORWARD_LAST:
        break;
    }
    g_string_append_printf(r,
                           "    iifname \"%s\" reject\n"
                           "    oifname \"%s\" reject\n"
                           "  }\n",
                           br, br);
    if (def->forward == TV_NET_FORWARD_NAT) {
        g_autofree char *ports =
            def->nat_port_start
                ? g_strdup_printf(" to :%u-%u", def->nat_port_start, def->nat_port_end)
                : g_strdup("");
        g_string_append_printf(r,
                               "  chain postrouting {\n"
                               "    type nat hook postrouting priority srcnat; policy accept;\n"
                               "    ip saddr %s ip daddr 224.0.0.0/24 return\n"
                               "    ip saddr %s ip daddr 255.255.255.255 return\n"
                               "    ip saddr %s ip daddr != %s%s meta l4proto { tcp, udp } "
                               "masquerade%s\n"
                               "    ip saddr %s ip daddr != %s%s masquerade\n"
                               "  }\n",
                               subnet, subnet, subnet, subnet, out_dev, ports, subnet, subnet,
                               out_dev);
    }
    g_string_append(r, "}\n");
    return g_string_free(r, FALSE);
}

int tv_net_nft_add(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    if (def->forward == TV_NET_FORWARD_OPEN || def->forward == TV_NET_FORWARD_BRIDGE)
        return 0;
    g_autofree char *rules = ruleset(def);
    const char *args[] = { "-f", "-", NULL };
    return run_nft(drv, args, rules, "add the network's rules");
}

void tv_net_nft_remove(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    if (def->forward == TV_NET_FORWARD_OPEN || def->forward == TV_NET_FORWARD_BRIDGE ||
        !tv_net_nft_present(drv, def))
        return;
    g_autofree char *table = table_name(def);
    const char *args[] = { "delete", "table", "ip", table, NULL };
    if (run_nft(drv, args, NULL, "delete the network's rules") < 0) {
        g_warning("network '%s': %s", def->name, tv_error_message());
        tv_error_reset();
    }
}

bool tv_net_nft_present(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    g_autofree char *table = table_name(def);
    const char *args[] = { "list", "table", "ip", table, NULL };
    bool present = run_nft(drv, args, NULL, "list the network's rules") == 0;
    tv_error_reset();
    return present;
}
