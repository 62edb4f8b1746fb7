#include "tagvirtd_driver.h"

#include "qemu_security.h"
#include "remote_domain.h"
#include "network_driver.h"
#include "remote_network.h"
#include "remote_storage.h"
#include "storage_driver.h"

#include "tv_error.h"

/* QEMU's confinement for the daemon's lifetime */
static TvQemuSecurity *security;

static TvQemuSecurity *security_from_config(const TvDaemonConfig *cfg)
{
    TvQemuSecurityConfig sc = TV_QEMU_SECURITY_CONFIG_DEFAULT;
    sc.user = cfg->user;
    sc.group = cfg->group;
    sc.sandbox = cfg->seccomp_sandbox;
    sc.dynamic_ownership = cfg->dynamic_ownership;
    if (cfg->namespaces && g_strcmp0(cfg->namespaces, "mount") != 0 && *cfg->namespaces) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "namespaces must be \"mount\" or \"\", not \"%s\"", cfg->namespaces);
        return NULL;
    }
    sc.mount_namespace = !cfg->namespaces || *cfg->namespaces;
    const char *drv = cfg->security_driver ? cfg->security_driver : "auto";
    if (g_str_equal(drv, "auto"))
        sc.apparmor = TV_QEMU_APPARMOR_AUTO;
    else if (g_str_equal(drv, "apparmor"))
        sc.apparmor = TV_QEMU_APPARMOR_REQUIRED;
    else if (g_str_equal(drv, "none"))
        sc.apparmor = TV_QEMU_APPARMOR_OFF;
    else {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "security_driver must be \"auto\", \"apparmor\" or \"none\", not \"%s\"",
                        drv);
        return NULL;
    }
    return tv_qemu_security_new(&sc);
}

/* The storage and network drivers beside the QEMU driver: one of each per
 * daemon. */
static TvStorageDriver *storage;
static TvNetworkDriver *network;

static TvNetworkDriver *network_open(const TvDaemonConfig *cfg, const char *root)
{
    g_autofree char *config_dir =
        root ? g_build_filename(root, "config", "network", NULL) : g_strdup("/etc/tagvirt/network");
    g_autofree char *state_dir =
        root ? g_build_filename(root, "state", "network", NULL) : g_strdup("/run/tagvirt/network");
    TvNetworkDriverConfig ncfg = { 0 };
    ncfg.config_dir = config_dir;
    ncfg.state_dir = state_dir;
    ncfg.autostart = cfg->autostart;
    /* daemons under --root share the host's network namespace with others:
     * no bridge of their own unless asked */
    ncfg.make_default = cfg->default_network < 0 ? root == NULL : cfg->default_network != 0;
    return tv_network_driver_open(&ncfg);
}

static char *path_user(const char *path, void *drv)
{
    return tv_qemu_driver_path_user(drv, path);
}

static TvStorageDriver *storage_open(const TvDaemonConfig *cfg, const char *root, TvQemuDriver *drv)
{
    /* the system paths beside the QEMU driver's (tagvirtd(8), FILES) */
    g_autofree char *config_dir =
        root ? g_build_filename(root, "config", "storage", NULL) : g_strdup("/etc/tagvirt/storage");
    g_autofree char *state_dir =
        root ? g_build_filename(root, "state", "storage", NULL) : g_strdup("/run/tagvirt/storage");
    g_autofree char *images_dir =
        root ? g_build_filename(root, "images", NULL) : g_strdup("/var/lib/tagvirt/images");
    g_auto(GStrv) roots =
        cfg->storage_pool_roots ? g_strsplit(cfg->storage_pool_roots, ":", -1) : NULL;
    TvStorageDriverConfig scfg = { 0 };
    scfg.config_dir = config_dir;
    scfg.state_dir = state_dir;
    scfg.images_dir = images_dir;
    scfg.allowed_roots = (const char *const *)roots;
    scfg.autostart = cfg->autostart;
    scfg.path_user = path_user;
    scfg.path_user_opaque = drv;
    return tv_storage_driver_open(&scfg);
}

/* <interface type='network'> of a domain: the QEMU driver asks the network
 * driver through the daemon (the QEMU driver does not know networks). */
static char *network_bridge(const char *name, unsigned *mtu, void *opaque)
{
    return tv_network_port_bridge(opaque, name, mtu);
}

TvQemuDriver *tv_daemon_driver_open(const TvDaemonConfig *cfg, const char *root)
{
    security = security_from_config(cfg);
    if (!security)
        return NULL;
    g_autofree char *how = tv_qemu_security_describe(security);
    g_message("QEMU runs as %s", how);
    if (!tv_qemu_security_apparmor(security) && cfg->security_driver == NULL) {
        g_autofree char *why = NULL;
        if (!tv_qemu_apparmor_available(&why))
            g_info("no AppArmor profile for QEMU: %s", why);
    }
    /* networks first: autostarted domains join autostarted networks */
    network = network_open(cfg, root);
    if (!network) {
        g_clear_pointer(&security, tv_qemu_security_free);
        return NULL;
    }
    TvQemuDriverConfig dcfg = { 0 };
    dcfg.security = security;
    dcfg.root = root;
    dcfg.host_root = cfg->host_root;
    dcfg.emulator = cfg->emulator;
    dcfg.autostart = cfg->autostart;
    dcfg.prefork = cfg->prefork_qemu;
    dcfg.allow_broken_tag_storage = cfg->allow_broken_tag_storage;
    dcfg.network_bridge = network_bridge;
    dcfg.network_opaque = network;
    dcfg.job_wait_ms = cfg->job_wait_ms;
    dcfg.migration_port_min = cfg->migration_port_min;
    dcfg.migration_port_max = cfg->migration_port_max;
    dcfg.migration_address = cfg->migration_address;
    dcfg.migration_incoming_timeout = cfg->migration_incoming_timeout;
    dcfg.migrate_tls_dir = cfg->migrate_tls_x509_cert_dir;
    dcfg.migrate_tls_no_verify = !cfg->migrate_tls_x509_verify;
    TvQemuDriver *drv = tv_qemu_driver_open(&dcfg);
    storage = drv ? storage_open(cfg, root, drv) : NULL;
    if (!storage) {
        if (drv)
            tv_qemu_driver_close(drv);
        tv_network_driver_close(g_steal_pointer(&network));
        g_clear_pointer(&security, tv_qemu_security_free);
        return NULL;
    }
    return drv;
}

void tv_daemon_driver_attach(TvQemuDriver *drv, TvRemote *remote)
{
    tv_remote_register_driver_handlers(remote);
    tv_remote_register_storage(remote, storage);
    tv_remote_register_network(remote, network);
    tv_qemu_driver_set_event_callback(drv, tv_remote_emit_event, remote);
}

void tv_daemon_driver_close(TvQemuDriver *drv)
{
    if (!drv)
        return;
    tv_qemu_driver_set_event_callback(drv, NULL, NULL);
    tv_storage_driver_set_event_callback(storage, NULL, NULL);
    tv_storage_driver_close(g_steal_pointer(&storage));
    tv_network_driver_set_event_callback(network, NULL, NULL);
    /* the QEMU driver asks the network driver until it is closed */
    tv_qemu_driver_close(drv);
    tv_network_driver_close(g_steal_pointer(&network));
    g_clear_pointer(&security, tv_qemu_security_free);
}
