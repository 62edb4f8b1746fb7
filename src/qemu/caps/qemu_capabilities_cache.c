/* Cached capabilities: in memory, then one XML file per binary in the cache
 * folder, reused while the fingerprint matches; otherwise probe and store. */
#include "qemu_capabilities_priv.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_FILE_MAX (8 * 1024 * 1024)

struct TvQemuCapsCache {
    char *dir;
    TvHostFacts *own_host; /* read at creation when none was given */
    const TvHostFacts *host;
    TvQemuCapsProbeOptions opts;
    char *probe_firmware; /* opts' strings, owned */
    char *record_path;
    GMutex lock;
    GHashTable *memory; /* binary -> TvQemuCaps * (one reference each) */
};

/* cache_dir/<sha256 of the binary path>.xml */
static char *cache_file(const char *cache_dir, const char *binary)
{
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    g_autofree char *name = g_strdup_printf("%s.xml", hash);
    return g_build_filename(cache_dir, name, NULL);
}

static TvQemuCaps *load_file(const char *path, const TvQemuCapsFingerprint *now)
{
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return NULL;
    if (tv_file_read_all(path, CACHE_FILE_MAX, &xml, &len) < 0) {
        tv_error_reset(); /* an unreadable cache entry is only a miss */
        return NULL;
    }
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_parse(xml, len);
    if (!caps) {
        tv_error_reset();
        return NULL;
    }
    if (!tv_qemu_caps_fingerprint_equal(&caps->fingerprint, now))
        return NULL;
    return g_steal_pointer(&caps);
}

/* Disk, else a fresh probe stored atomically; NULL with an error. */
static TvQemuCaps *load_or_probe(const char *cache_dir, const char *binary, const TvHostFacts *host,
                                 const TvQemuCapsProbeOptions *opts, TvQemuCapsFingerprint *now)
{
    g_autofree char *path = cache_file(cache_dir, binary);
    TvQemuCaps *found = load_file(path, now);
    if (found)
        return found;
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_probe(binary, host, opts);
    if (!caps)
        return NULL;
    /* the binary may change while probing: keep the fingerprint it had before */
    tv_qemu_caps_fingerprint_clear(&caps->fingerprint);
    caps->fingerprint = *now;
    memset(now, 0, sizeof(*now));
    g_autofree char *xml = tv_qemu_caps_format(caps);
    if (tv_dir_ensure(cache_dir, 0755) < 0 ||
        tv_file_write_atomic(path, xml, strlen(xml), 0644) < 0)
        return NULL;
    return g_steal_pointer(&caps);
}

TvQemuCapsCache *tv_qemu_caps_cache_new(const char *dir, const TvHostFacts *host,
                                        const TvQemuCapsProbeOptions *opts)
{
    g_autoptr(TvHostFacts) own = NULL;
    if (!host && !(own = tv_host_facts_read(NULL)))
        return NULL;
    TvQemuCapsCache *cache = g_new0(TvQemuCapsCache, 1);
    cache->dir = g_strdup(dir);
    cache->own_host = g_steal_pointer(&own);
    cache->host = host ? host : cache->own_host;
    if (opts)
        cache->opts = *opts;
    cache->probe_firmware = g_strdup(cache->opts.probe_firmware);
    cache->record_path = g_strdup(cache->opts.record_path);
    cache->opts.probe_firmware = cache->probe_firmware;
    cache->opts.record_path = cache->record_path;
    g_mutex_init(&cache->lock);
    cache->memory =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)tv_qemu_caps_unref);
    return cache;
}

void tv_qemu_caps_cache_free(TvQemuCapsCache *cache)
{
    if (!cache)
        return;
    g_hash_table_unref(cache->memory);
    g_mutex_clear(&cache->lock);
    tv_host_facts_free(cache->own_host);
    g_free(cache->probe_firmware);
    g_free(cache->record_path);
    g_free(cache->dir);
    g_free(cache);
}

TvQemuCaps *tv_qemu_caps_cache_lookup(TvQemuCapsCache *cache, const char *binary)
{
    TvQemuCapsFingerprint now = { 0 };
    if (tv_qemu_caps_fingerprint_read(binary, cache->host, &now) < 0)
        return NULL;
    g_mutex_lock(&cache->lock);
    TvQemuCaps *caps = g_hash_table_lookup(cache->memory, binary);
    if (!caps || !tv_qemu_caps_fingerprint_equal(&caps->fingerprint, &now)) {
        /* a replaced entry lives on in the references its users hold */
        caps = load_or_probe(cache->dir, binary, cache->host, &cache->opts, &now);
        if (caps)
            g_hash_table_insert(cache->memory, g_strdup(binary), caps);
    }
    if (caps)
        tv_qemu_caps_ref(caps);
    g_mutex_unlock(&cache->lock);
    tv_qemu_caps_fingerprint_clear(&now);
    return caps;
}

void tv_qemu_caps_cache_clear_memory(TvQemuCapsCache *cache)
{
    g_mutex_lock(&cache->lock);
    g_hash_table_remove_all(cache->memory);
    g_mutex_unlock(&cache->lock);
}
