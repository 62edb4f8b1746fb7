/* QEMU's firmware descriptors: see qemu_firmware.h. */
#include "qemu_firmware.h"
#include "tv_error.h"
#include "tv_file.h"

#include <fnmatch.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#define DESCRIPTOR_MAX (64 * 1024)

static const char *const descriptor_dirs[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware" };

char *tv_qemu_host_path(const TvHostFacts *host, const char *path)
{
    if (!host || !host->root || g_str_equal(host->root, "/"))
        return g_strdup(path);
    return g_build_filename(host->root, path, NULL);
}

static void firmware_clear(TvQemuFirmware *fw)
{
    g_free(fw->path);
    g_free(fw->description);
    g_free(fw->executable);
    g_free(fw->nvram_template);
    g_strfreev(fw->machines);
    g_free(fw->why_not);
}

void tv_qemu_firmware_list_free(TvQemuFirmwareList *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        firmware_clear(&list->items[i]);
    g_free(list->items);
    g_free(list);
}

static const char *get_string(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool array_has(json_object *obj, const char *key, const char *value)
{
    json_object *arr = NULL;
    if (!json_object_object_get_ex(obj, key, &arr) || !json_object_is_type(arr, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (json_object_is_type(v, json_type_string) &&
            g_str_equal(json_object_get_string(v), value))
            return true;
    }
    return false;
}

/* The aarch64 target's machine globs, or NULL. */
static char **aarch64_machines(json_object *root)
{
    json_object *targets = NULL;
    if (!json_object_object_get_ex(root, "targets", &targets) ||
        !json_object_is_type(targets, json_type_array))
        return NULL;
    GPtrArray *globs = g_ptr_array_new();
    for (size_t i = 0; i < json_object_array_length(targets); i++) {
        json_object *t = json_object_array_get_idx(targets, i), *machines = NULL;
        if (g_strcmp0(get_string(t, "architecture"), "aarch64") != 0 ||
            !json_object_object_get_ex(t, "machines", &machines) ||
            !json_object_is_type(machines, json_type_array))
            continue;
        for (size_t k = 0; k < json_object_array_length(machines); k++) {
            json_object *m = json_object_array_get_idx(machines, k);
            if (json_object_is_type(m, json_type_string))
                g_ptr_array_add(globs, g_strdup(json_object_get_string(m)));
        }
    }
    if (!globs->len) {
        g_ptr_array_free(globs, TRUE);
        return NULL;
    }
    g_ptr_array_add(globs, NULL);
    return (char **)g_ptr_array_free(globs, FALSE);
}

/* Fill fw from one descriptor; what makes it unusable goes to why_not. */
static void read_descriptor(const TvHostFacts *host, const char *file, TvQemuFirmware *fw)
{
    g_autofree char *data = NULL;
    size_t len = 0;
    if (tv_file_read_all(file, DESCRIPTOR_MAX, &data, &len) < 0) {
        fw->why_not = g_strdup(tv_error_message());
        tv_error_reset();
        return;
    }
    json_object *root = json_tokener_parse(data);
    if (!root || !json_object_is_type(root, json_type_object)) {
        fw->why_not = g_strdup("not a JSON object");
        json_object_put(root);
        return;
    }
    json_object *mapping = NULL, *exe = NULL, *tmpl = NULL;
    fw->description = g_strdup(get_string(root, "description"));
    json_object_object_get_ex(root, "mapping", &mapping);
    if (mapping) {
        json_object_object_get_ex(mapping, "executable", &exe);
        json_object_object_get_ex(mapping, "nvram-template", &tmpl);
    }
    fw->executable = g_strdup(get_string(exe, "filename"));
    fw->nvram_template = g_strdup(get_string(tmpl, "filename"));
    fw->secure_boot = array_has(root, "features", "secure-boot");
    fw->enrolled_keys = array_has(root, "features", "enrolled-keys");
    fw->machines = aarch64_machines(root);
    const char *mode = get_string(mapping, "mode");
    g_autofree char *exe_path = fw->executable ? tv_qemu_host_path(host, fw->executable) : NULL;
    if (!array_has(root, "interface-types", "uefi"))
        fw->why_not = g_strdup("not UEFI");
    else if (g_strcmp0(get_string(mapping, "device"), "flash") != 0)
        fw->why_not = g_strdup("not mapped as flash");
    else if (mode && !g_str_equal(mode, "split"))
        fw->why_not = g_strdup_printf("flash mode '%s' (only 'split' is used)", mode);
    else if (!fw->machines)
        fw->why_not = g_strdup("no aarch64 target");
    else if (!fw->executable || !fw->nvram_template)
        fw->why_not = g_strdup("no executable or no nvram-template");
    else if (g_strcmp0(get_string(exe, "format"), "raw") != 0 ||
             g_strcmp0(get_string(tmpl, "format"), "raw") != 0)
        fw->why_not = g_strdup("not a raw image");
    else if (access(exe_path, R_OK) != 0)
        fw->why_not = g_strdup_printf("its executable %s is missing", fw->executable);
    fw->usable = fw->why_not == NULL;
    json_object_put(root);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

static TvQemuFirmwareList *read_list(const TvHostFacts *host)
{
    /* file name -> full path; a later directory replaces an earlier one */
    g_autoptr(GHashTable) files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (size_t d = 0; d < G_N_ELEMENTS(descriptor_dirs); d++) {
        g_autofree char *dir = tv_qemu_host_path(host, descriptor_dirs[d]);
        GDir *gd = g_dir_open(dir, 0, NULL);
        const char *name;
        while (gd && (name = g_dir_read_name(gd))) {
            if (g_str_has_suffix(name, ".json"))
                g_hash_table_insert(files, g_strdup(name),
                                    g_build_filename(descriptor_dirs[d], name, NULL));
        }
        if (gd)
            g_dir_close(gd);
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, files);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(names, key);
    g_ptr_array_sort(names, compare_names);
    TvQemuFirmwareList *list = g_new0(TvQemuFirmwareList, 1);
    list->items = g_new0(TvQemuFirmware, names->len ? names->len : 1);
    for (guint i = 0; i < names->len; i++) {
        const char *file = g_hash_table_lookup(files, names->pdata[i]);
        g_autofree char *real = tv_qemu_host_path(host, file);
        struct stat st;
        if (stat(real, &st) == 0 && st.st_size == 0)
            continue; /* an empty file hides the descriptor of that name */
        TvQemuFirmware *fw = &list->items[list->n++];
        fw->path = g_strdup(file);
        read_descriptor(host, real, fw);
    }
    return list;
}

bool tv_qemu_firmware_matches_machine(const TvQemuFirmware *fw, const char *machine)
{
    for (char **g = fw->machines; machine && g && *g; g++) {
        if (fnmatch(*g, machine, 0) == 0)
            return true;
    }
    return false;
}

/* What the list depends on, cheaply: the folders, each descriptor's name,
 * size and time, and whether each executable is there. */
static void stat_into(GString *sig, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        g_string_append_printf(sig, "%s:%lld:%lld.%ld:%lld.%ld;", path, (long long)st.st_size,
                               (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                               (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    else
        g_string_append_printf(sig, "%s:-;", path);
}

static char *signature(const TvHostFacts *host, const TvQemuFirmwareList *list)
{
    GString *sig = g_string_new(host && host->root ? host->root : "/");
    for (size_t d = 0; d < G_N_ELEMENTS(descriptor_dirs); d++) {
        g_autofree char *dir = tv_qemu_host_path(host, descriptor_dirs[d]);
        stat_into(sig, dir);
        GDir *gd = g_dir_open(dir, 0, NULL);
        const char *name;
        while (gd && (name = g_dir_read_name(gd))) {
            g_autofree char *file = g_build_filename(dir, name, NULL);
            stat_into(sig, file);
        }
        if (gd)
            g_dir_close(gd);
    }
    for (size_t i = 0; list && i < list->n; i++) {
        if (list->items[i].executable) {
            g_autofree char *exe = tv_qemu_host_path(host, list->items[i].executable);
            stat_into(sig, exe);
        }
    }
    return g_string_free(sig, FALSE);
}

static TvQemuFirmwareList *copy_list(const TvQemuFirmwareList *src)
{
    TvQemuFirmwareList *list = g_new0(TvQemuFirmwareList, 1);
    list->items = g_new0(TvQemuFirmware, src->n ? src->n : 1);
    list->n = src->n;
    for (size_t i = 0; i < src->n; i++) {
        const TvQemuFirmware *a = &src->items[i];
        TvQemuFirmware *b = &list->items[i];
        *b = *a;
        b->path = g_strdup(a->path);
        b->description = g_strdup(a->description);
        b->executable = g_strdup(a->executable);
        b->nvram_template = g_strdup(a->nvram_template);
        b->machines = g_strdupv(a->machines);
        b->why_not = g_strdup(a->why_not);
    }
    return list;
}

/* One list per process, read again when the signature changes: reading and
 * parsing the descriptors costs more than the rest of a definition. */
static GMutex cache_lock;
static TvQemuFirmwareList *cached;
static char *cached_signature;

TvQemuFirmwareList *tv_qemu_firmware_list(const TvHostFacts *host)
{
    g_mutex_lock(&cache_lock);
    g_autofree char *sig = signature(host, cached);
    if (cached && g_strcmp0(sig, cached_signature) == 0) {
        TvQemuFirmwareList *list = copy_list(cached);
        g_mutex_unlock(&cache_lock);
        return list;
    }
    TvQemuFirmwareList *fresh = read_list(host);
    tv_qemu_firmware_list_free(cached);
    cached = copy_list(fresh);
    g_free(cached_signature);
    cached_signature = signature(host, cached);
    g_mutex_unlock(&cache_lock);
    return fresh;
}
