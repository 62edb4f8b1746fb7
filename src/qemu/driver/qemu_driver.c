/* The QEMU driver: open (directories, host facts, capabilities, the domain
 * list from disk, running guests), close, and connection-level answers. */
#include "qemu_driver_priv.h"
#include "qemu_mte_levels.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>

/* System layout when no --root is given. */
#define SYSTEM_CONFIG_DIR "/etc/tagvirt/qemu"
#define SYSTEM_STATE_DIR  "/run/tagvirt/qemu"
#define SYSTEM_CACHE_DIR  "/var/cache/tagvirt"
#define SYSTEM_LOG_DIR    "/var/log/tagvirt/qemu"
#define SYSTEM_NVRAM_DIR  TV_QEMU_NVRAM_DIR_DEFAULT
#define SYSTEM_SAVE_DIR   "/var/lib/tagvirt/qemu/save"
#define SYSTEM_SWTPM_DIR  "/var/lib/tagvirt/swtpm"
#define SYSTEM_PKI_DIR    "/etc/pki/qemu" /* libvirt's default_tls_x509_cert_dir */

void tv_domain_ref_clear(TvDomainRef *ref)
{
    if (!ref)
        return;
    g_clear_pointer(&ref->name, g_free);
    memset(ref->uuid, 0, sizeof(ref->uuid));
    ref->id = -1;
}

TvQemuCaps *tv_driver_caps(TvQemuDriver *drv, const char *emulator)
{
    const char *path = emulator ? emulator : drv->emulator;
    TvQemuCaps *caps = tv_qemu_caps_cache_lookup(drv->caps_cache, path);
    if (caps && strcmp(path, drv->emulator) == 0)
        g_atomic_int_set(&drv->hv_version, (gint)caps->version);
    return caps;
}

const char *tv_driver_emulator_of(TvQemuDriver *drv, const TvDomainDef *def)
{
    return def && def->devices.emulator ? def->devices.emulator : drv->emulator;
}

static TvQemuCaps *pipeline_caps(const char *emulator, void *opaque)
{
    return tv_driver_caps(opaque, emulator);
}

/* cfg's own path, else ROOT/sub, else the system path. */
static char *choose_dir(const char *given, const char *root, const char *sub, const char *system)
{
    if (given)
        return g_strdup(given);
    if (root)
        return g_build_filename(root, sub, NULL);
    return g_strdup(system);
}

static int make_dirs(TvQemuDriver *drv)
{
    if (tv_dir_ensure(drv->config_dir, 0700) < 0 || tv_dir_ensure(drv->autostart_dir, 0700) < 0 ||
        tv_dir_ensure(drv->state_dir, 0700) < 0 || tv_dir_ensure(drv->cache_dir, 0755) < 0 ||
        tv_dir_ensure(drv->log_dir, 0700) < 0 || tv_dir_ensure(drv->save_dir, 0700) < 0) {
        tv_error_prefix("cannot prepare the QEMU driver's directories");
        return -1;
    }
    return 0;
}

static TvQemuDriver *driver_new(const TvQemuDriverConfig *cfg)
{
    TvQemuDriver *drv = g_new0(TvQemuDriver, 1);
    drv->config_dir = choose_dir(cfg->config_dir, cfg->root, "config", SYSTEM_CONFIG_DIR);
    drv->autostart_dir = g_build_filename(drv->config_dir, "autostart", NULL);
    drv->state_dir = choose_dir(cfg->state_dir, cfg->root, "state", SYSTEM_STATE_DIR);
    drv->cache_dir = choose_dir(cfg->cache_dir, cfg->root, "cache", SYSTEM_CACHE_DIR);
    drv->log_dir = choose_dir(cfg->log_dir, cfg->root, "log", SYSTEM_LOG_DIR);
    drv->nvram_dir = choose_dir(NULL, cfg->root, "nvram", SYSTEM_NVRAM_DIR);
    drv->save_dir = choose_dir(NULL, cfg->root, "save", SYSTEM_SAVE_DIR);
    drv->swtpm_dir = choose_dir(NULL, cfg->root, "swtpm", SYSTEM_SWTPM_DIR);
    drv->emulator = g_strdup(cfg->emulator ? cfg->emulator : TV_QEMU_DEFAULT_EMULATOR);
    drv->job_wait_ms = cfg->job_wait_ms;
    drv->migration_port_min = cfg->migration_port_min ? cfg->migration_port_min : 49152;
    drv->migration_port_max = cfg->migration_port_max ? cfg->migration_port_max : 49215;
    drv->migration_address = g_strdup(cfg->migration_address);
    drv->migrate_tls_dir = cfg->migrate_tls_dir ? g_strdup(cfg->migrate_tls_dir)
                           : cfg->root          ? g_build_filename(cfg->root, "pki", "qemu", NULL)
                                                : g_strdup(SYSTEM_PKI_DIR);
    drv->migrate_tls_verify = !cfg->migrate_tls_no_verify;
    drv->incoming = g_hash_table_new(g_str_hash, g_str_equal);
    g_cond_init(&drv->incoming_cond);
    drv->incoming_timeout_s =
        cfg->migration_incoming_timeout ? cfg->migration_incoming_timeout : 120;
    g_mutex_init(&drv->define_lock);
    g_mutex_init(&drv->lock);
    g_mutex_init(&drv->event_lock);
    g_cond_init(&drv->event_cond);
    g_mutex_init(&drv->host_lock);
    g_mutex_init(&drv->topo_lock);
    g_mutex_init(&drv->nodedev_lock);
    drv->by_uuid = g_hash_table_new_full(tv_driver_uuid_hash, tv_driver_uuid_equal, NULL,
                                         (GDestroyNotify)tv_driver_domain_unref);
    drv->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    drv->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    drv->next_id = 1;
    return drv;
}

/* A shut-off domain with a managed save image was saved (libvirt's reason
 * after a restart too). */
static void mark_saved(TvQemuDriver *drv)
{
    g_autoptr(GPtrArray) doms = tv_driver_domains_snapshot(drv);
    for (guint i = 0; i < doms->len; i++) {
        TvDriverDomain *dom = g_ptr_array_index(doms, i);
        bool saved = tv_driver_has_managed_save(drv, dom->name);
        g_mutex_lock(&dom->lock);
        if (saved && !dom->run)
            dom->shutoff_reason = TV_DOMAIN_SHUTOFF_SAVED;
        g_mutex_unlock(&dom->lock);
    }
}

TvQemuDriver *tv_qemu_driver_open(const TvQemuDriverConfig *cfg)
{
    TvQemuDriverConfig none = { 0 };
    if (!cfg)
        cfg = &none;
    TvQemuDriver *drv = driver_new(cfg);
    drv->host = tv_host_facts_read(cfg->host_root);
    if (drv->host)
        drv->caps_cache = tv_qemu_caps_cache_new(drv->cache_dir, drv->host, NULL);
    if (!drv->caps_cache || make_dirs(drv) < 0) {
        tv_qemu_driver_close(drv);
        return NULL;
    }
    drv->pipe.default_emulator = drv->emulator;
    drv->pipe.host = drv->host;
    drv->pipe.caps_lookup = pipeline_caps;
    drv->pipe.caps_opaque = drv;
    drv->pipe.nvram_dir = drv->nvram_dir;
    tv_driver_host_init(drv);
    drv->security = cfg->security;
    drv->network_bridge = cfg->network_bridge;
    drv->network_opaque = cfg->network_opaque;
    tv_driver_prefork_init(drv, cfg->prefork);
    tv_qemu_mte_set_allow_broken_tag_storage(cfg->allow_broken_tag_storage);

    /* the default emulator's caps in memory now: later calls only check the fingerprint */
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
    if (!caps) {
        g_warning("QEMU driver: no capabilities for the default emulator %s: %s", drv->emulator,
                  tv_error_message());
        tv_error_reset();
    } else {
        /* loads while the domains are read: ready for the first start */
        tv_driver_prefork_unref(tv_driver_prefork_get(drv, caps));
    }
    if (tv_driver_events_init(drv) < 0 || tv_driver_reaper_init(drv) < 0 ||
        tv_driver_migration_work_init(drv) < 0) {
        tv_qemu_driver_close(drv);
        return NULL;
    }
    tv_driver_persist_init(drv);
    tv_driver_persist_load_all(drv);
    tv_driver_reconnect_all(drv);
    mark_saved(drv);
    if (cfg->autostart)
        tv_driver_autostart_all(drv);
    g_info("QEMU driver: %u domains, config %s, state %s", g_hash_table_size(drv->by_uuid),
           drv->config_dir, drv->state_dir);
    return drv;
}

void tv_qemu_driver_close(TvQemuDriver *drv)
{
    if (!drv)
        return;
    tv_driver_reaper_shutdown(drv);
    tv_driver_migration_work_shutdown(drv);
    tv_driver_domains_free_all(drv); /* QEMUs keep running; the next open reconnects */
    tv_driver_reaper_free_orphans(drv);
    tv_driver_events_shutdown(drv);
    tv_driver_host_clear(drv);
    tv_driver_topology_clear(drv);
    g_clear_pointer(&drv->nodedevs, tv_driver_nodedevs_free);
    tv_driver_prefork_clear(drv);
    g_hash_table_destroy(drv->by_id);
    tv_driver_migrations_free_all(drv);
    g_hash_table_destroy(drv->incoming);
    g_cond_clear(&drv->incoming_cond);
    g_hash_table_destroy(drv->by_name);
    g_hash_table_destroy(drv->by_uuid);
    tv_qemu_caps_cache_free(drv->caps_cache);
    tv_host_facts_free(drv->host);
    g_mutex_clear(&drv->host_lock);
    g_mutex_clear(&drv->topo_lock);
    g_mutex_clear(&drv->nodedev_lock);
    g_cond_clear(&drv->event_cond);
    g_mutex_clear(&drv->event_lock);
    g_mutex_clear(&drv->lock);
    g_mutex_clear(&drv->define_lock);
    g_free(drv->config_dir);
    g_free(drv->autostart_dir);
    g_free(drv->state_dir);
    g_free(drv->nvram_dir);
    g_free(drv->save_dir);
    g_free(drv->swtpm_dir);
    g_free(drv->cache_dir);
    g_free(drv->log_dir);
    g_free(drv->emulator);
    g_free(drv->migration_address);
    g_free(drv->migrate_tls_dir);
    g_free(drv);
}

bool tv_qemu_driver_hypervisor_version_known(TvQemuDriver *drv)
{
    return g_atomic_int_get(&drv->hv_version) > 0;
}

unsigned long long tv_qemu_driver_hypervisor_version(TvQemuDriver *drv)
{
    /* answered on the daemon's reading thread: never probe when a lookup (at open,
     * define, start, domcapabilities) already gave the version */
    gint known = g_atomic_int_get(&drv->hv_version);
    if (known > 0)
        return (unsigned long long)known;
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
    if (!caps) {
        tv_error_reset(); /* the wire has no error for this call: 0 means unknown */
        return 0;
    }
    return caps->version;
}

int tv_qemu_driver_max_vcpus(TvQemuDriver *drv, const char *type)
{
    if (type && g_ascii_strcasecmp(type, "qemu") != 0 && g_ascii_strcasecmp(type, "kvm") != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "unknown virtualization type '%s': expected 'qemu' or 'kvm'", type);
        return -1;
    }
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
    if (!caps)
        return -1;
    unsigned max = 0;
    for (size_t i = 0; i < caps->nmachines; i++)
        max = MAX(max, caps->machines[i].max_cpus);
    return (int)MIN(max, (unsigned)G_MAXINT);
}
