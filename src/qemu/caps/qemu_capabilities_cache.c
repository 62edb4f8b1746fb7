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

static GMutex cache_lock;
static GHashTable *cache_memory; /* "dir\nbinary" -> TvQemuCaps * (never freed while used) */
static GPtrArray *cache_retired; /* replaced entries: callers may still hold them */

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

static void remember(const char *key, TvQemuCaps *caps)
{
    if (!cache_memory) {
        cache_memory = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        cache_retired = g_ptr_array_new_with_free_func((GDestroyNotify)tv_qemu_caps_free);
    }
    TvQemuCaps *old = g_hash_table_lookup(cache_memory, key);
    if (old)
        g_ptr_array_add(cache_retired, old);
    g_hash_table_insert(cache_memory, g_strdup(key), caps);
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

const TvQemuCaps *tv_qemu_caps_cache_lookup(const char *cache_dir, const char *binary,
                                            const TvHostFacts *host,
                                            const TvQemuCapsProbeOptions *opts)
{
    g_autoptr(TvHostFacts) own_host = NULL;
    if (!host) {
        if (!(own_host = tv_host_facts_read(NULL)))
            return NULL;
        host = own_host;
    }
    TvQemuCapsFingerprint now = { 0 };
    if (tv_qemu_caps_fingerprint_read(binary, host, &now) < 0)
        return NULL;
    g_autofree char *key = g_strdup_printf("%s\n%s", cache_dir, binary);

    g_mutex_lock(&cache_lock);
    TvQemuCaps *caps = cache_memory ? g_hash_table_lookup(cache_memory, key) : NULL;
    if (!caps || !tv_qemu_caps_fingerprint_equal(&caps->fingerprint, &now)) {
        caps = load_or_probe(cache_dir, binary, host, opts, &now);
        if (caps)
            remember(key, caps);
    }
    g_mutex_unlock(&cache_lock);
    tv_qemu_caps_fingerprint_clear(&now);
    return caps;
}

void tv_qemu_caps_cache_clear_memory(void)
{
    g_mutex_lock(&cache_lock);
    if (cache_memory) {
        /* callers may still hold pointers: retire rather than free */
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, cache_memory);
        while (g_hash_table_iter_next(&it, NULL, &value))
            g_ptr_array_add(cache_retired, value);
        g_hash_table_remove_all(cache_memory);
    }
    g_mutex_unlock(&cache_lock);
}
