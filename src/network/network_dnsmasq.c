/* dnsmasq for a network's DHCP and DNS: one process per network, started
 * from a generated configuration in STATE/network/NAME.conf, found again by
 * its pid file after a daemon restart. */
#include "network_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"
#include "tv_process.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *state_file(TvNetworkDriver *drv, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);
    return g_build_filename(drv->files.state_dir, file, NULL);
}

char *tv_net_dnsmasq_leases_path(TvNetworkDriver *drv, const char *name)
{
    return state_file(drv, name, ".leases");
}

/* The pid in the pid file when that process is our dnsmasq for this
 * network (its command line names our configuration), else 0. */
static pid_t running_pid(TvNetworkDriver *drv, const char *name)
{
    g_autofree char *pidfile = state_file(drv, name, ".pid");
    g_autofree char *conf = state_file(drv, name, ".conf");
    g_autofree char *text = NULL;
    if (!g_file_get_contents(pidfile, &text, NULL, NULL))
        return 0;
    pid_t pid = (pid_t)g_ascii_strtoll(text, NULL, 10);
    if (pid <= 1)
        return 0;
    g_autofree char *cmdline_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    if (!g_file_get_contents(cmdline_path, &cmdline, &len, NULL))
        return 0;
    g_autofree char *arg = g_strconcat("--conf-file=", conf, NULL);
    for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1) {
        if (strcmp(cmdline + off, arg) == 0)
            return pid;
    }
    return 0;
}

bool tv_net_dnsmasq_running(TvNetworkDriver *drv, const char *name)
{
    return running_pid(drv, name) > 0;
}

static char *config_text(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    g_autofree char *pidfile = state_file(drv, def->name, ".pid");
    g_autofree char *leases = state_file(drv, def->name, ".leases");
    g_autofree char *hostsfile = state_file(drv, def->name, ".hostsfile");
    g_autofree char *addnhosts = state_file(drv, def->name, ".addnhosts");
    GString *c = g_string_new(NULL);
    g_string_append_printf(c, "# tagvirtd's dnsmasq for network '%s'; written at each start\n",
                           def->name);
    g_string_append(c, "strict-order\nexcept-interface=lo\nbind-dynamic\n");
    g_string_append_printf(c, "interface=%s\npid-file=%s\n", def->bridge, pidfile);
    if (def->dns_disabled) {
        g_string_append(c, "port=0\n");
    } else {
        if (def->domain)
            g_string_append_printf(c, "domain=%s\nexpand-hosts\nlocal=/%s/\n", def->domain,
                                   def->domain);
        if (def->nforwarders)
            g_string_append(c, "no-resolv\n");
        for (size_t i = 0; i < def->nforwarders; i++) {
            g_autofree char *a = tv_ipv4_format(def->forwarders[i]);
            g_string_append_printf(c, "server=%s\n", a);
        }
        g_string_append_printf(c, "addn-hosts=%s\n", addnhosts);
    }
    if (def->dhcp) {
        g_autofree char *mask = tv_ipv4_format(tv_ipv4_prefix_mask(def->prefix));
        if (def->range_start) {
            g_autofree char *a = tv_ipv4_format(def->range_start);
            g_autofree char *b = tv_ipv4_format(def->range_end);
            g_string_append_printf(c, "dhcp-range=%s,%s,%s\n", a, b, mask);
            g_string_append_printf(c, "dhcp-lease-max=%u\n", def->range_end - def->range_start + 1);
        } else {
            /* static hosts only */
            g_autofree char *net = tv_ipv4_format(def->ip & tv_ipv4_prefix_mask(def->prefix));
            g_string_append_printf(c, "dhcp-range=%s,static,%s\n", net, mask);
        }
        g_string_append(c, "dhcp-no-override\ndhcp-authoritative\n");
        g_string_append_printf(c, "dhcp-leasefile=%s\ndhcp-hostsfile=%s\n", leases, hostsfile);
    }
    return g_string_free(c, FALSE);
}

static int write_aux_files(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    GString *hosts = g_string_new(NULL);
    for (size_t i = 0; i < def->nhosts; i++) {
        g_autofree char *ip = tv_ipv4_format(def->hosts[i].ip);
        if (def->hosts[i].mac)
            g_string_append_printf(hosts, "%s,", def->hosts[i].mac);
        g_string_append_printf(hosts, "%s", ip);
        if (def->hosts[i].name)
            g_string_append_printf(hosts, ",%s", def->hosts[i].name);
        g_string_append_c(hosts, '\n');
    }
    GString *addn = g_string_new(NULL);
    for (size_t i = 0; i < def->ndns_hosts; i++) {
        g_autofree char *ip = tv_ipv4_format(def->dns_hosts[i].ip);
        g_autofree char *names = g_strjoinv(" ", def->dns_hosts[i].hostnames);
        g_string_append_printf(addn, "%s %s\n", ip, names);
    }
    g_autofree char *hostsfile = state_file(drv, def->name, ".hostsfile");
    g_autofree char *addnhosts = state_file(drv, def->name, ".addnhosts");
    int rc = tv_file_write_atomic(hostsfile, hosts->str, hosts->len, 0644);
    if (rc == 0)
        rc = tv_file_write_atomic(addnhosts, addn->str, addn->len, 0644);
    g_string_free(hosts, TRUE);
    g_string_free(addn, TRUE);
    return rc;
}

int tv_net_dnsmasq_start(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    g_autofree char *conf = state_file(drv, def->name, ".conf");
    g_autofree char *text = config_text(drv, def);
    if (tv_file_write_atomic(conf, text, strlen(text), 0644) < 0 || write_aux_files(drv, def) < 0)
        return -1;
    g_autofree char *arg = g_strconcat("--conf-file=", conf, NULL);
    /* --leasefile-ro is not used: dnsmasq keeps the lease file itself */
    const char *argv[] = { drv->dnsmasq, arg, NULL };
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status = 0;
    const char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    /* dnsmasq forks its daemon and exits when that one is ready, with an
     * error status and message when it is not */
    if (!g_spawn_sync(NULL, (char **)argv, (char **)env,
                      G_SPAWN_SEARCH_PATH_FROM_ENVP | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                      &err, &status, &gerr)) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "cannot start dnsmasq for network '%s': %s (install dnsmasq-base)",
                        def->name, gerr->message);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "dnsmasq for network '%s' failed: %s", def->name,
                        *err ? err : "no message");
        return -1;
    }
    /* the middle process of dnsmasq's double fork is ours to reap (we are a
     * child subreaper); it exits right after the daemon is up */
    for (int i = 0; i < 50 && tv_process_reap_zombies("dnsmasq") == 0; i++)
        g_usleep(2000);
    return 0;
}

void tv_net_dnsmasq_stop(TvNetworkDriver *drv, const char *name)
{
    pid_t pid = running_pid(drv, name);
    if (pid > 0) {
        /* tagvirtd is a child subreaper: dnsmasq's daemon is its child when
         * this daemon started it, and must be reaped here */
        kill(pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
            if (waitpid(pid, NULL, WNOHANG) == pid || kill(pid, 0) < 0)
                break;
            g_usleep(20000);
        }
        if (kill(pid, 0) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    const char *suffixes[] = { ".pid", ".conf", ".hostsfile", ".addnhosts", ".leases" };
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *path = state_file(drv, name, suffixes[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            g_warning("network: cannot remove %s: %s", path, g_strerror(errno));
    }
}
