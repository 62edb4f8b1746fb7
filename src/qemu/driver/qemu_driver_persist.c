/* Persistent definitions: CONFIG/<name>.xml, autostart as the symlink
 * CONFIG/autostart/<name>.xml -> ../<name>.xml, loaded at open.
 *
 * Writes are atomic for readers (temporary file, rename): a definition is
 * the old one or the new one, never half of one.  The fsync of the file and
 * its folder happens on a helper thread right after the reply, so a define
 * costs no disk flush (~1-3 ms here, more than the whole call); a power
 * loss in those few milliseconds can lose the newest definition, which the
 * next load then reports and skips. */
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFINITION_MAX (4 * 1024 * 1024)

static char *config_path(TvQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    return g_build_filename(drv->config_dir, file, NULL);
}

static char *autostart_path(TvQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    return g_build_filename(drv->autostart_dir, file, NULL);
}

static void sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* replaced or removed since: its successor is queued too */
    if (fsync(fd) < 0)
        g_warning("QEMU driver: cannot flush '%s' to disk: %s", path, g_strerror(errno));
    close(fd);
}

static gpointer sync_thread(gpointer data)
{
    TvQemuDriver *drv = data;
    for (;;) {
        char *path = g_async_queue_pop(drv->syncs);
        if (!*path) { /* "" is the stop marker */
            g_free(path);
            break;
        }
        /* everything queued meanwhile goes in the same round */
        g_autoptr(GHashTable) dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        bool stop = false;
        do {
            if (!*path) {
                stop = true;
            } else {
                sync_path(path);
                g_hash_table_add(dirs, g_path_get_dirname(path));
            }
            g_free(path);
        } while ((path = g_async_queue_try_pop(drv->syncs)));
        GHashTableIter it;
        gpointer dir;
        g_hash_table_iter_init(&it, dirs);
        while (g_hash_table_iter_next(&it, &dir, NULL))
            sync_path(dir);
        if (stop)
            break;
    }
    return NULL;
}

int tv_driver_persist_init(TvQemuDriver *drv)
{
    drv->syncs = g_async_queue_new_full(g_free);
    drv->sync_thread = g_thread_new("tv-driver-sync", sync_thread, drv);
    return 0;
}

void tv_driver_persist_shutdown(TvQemuDriver *drv)
{
    if (!drv->syncs)
        return;
    g_async_queue_push(drv->syncs, g_strdup(""));
    g_thread_join(g_steal_pointer(&drv->sync_thread));
    g_clear_pointer(&drv->syncs, g_async_queue_unref);
}

static int write_replace(TvQemuDriver *drv, const char *path, const char *data, size_t len)
{
    g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create a temporary file for '%s'", path);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            tv_error_report_errno(TV_FROM_QEMU, err, "cannot write '%s'", path);
            return -1;
        }
        done += (size_t)n;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        tv_error_report_errno(TV_FROM_QEMU, err, "cannot replace '%s'", path);
        return -1;
    }
    g_async_queue_push(drv->syncs, g_strdup(path));
    return 0;
}

int tv_driver_persist_save(TvQemuDriver *drv, const TvDomainDef *def)
{
    /* the conf layer checked the name when parsing; files use nothing else */
    if (tv_domain_name_check(def->name) < 0)
        return -1;
    g_autofree char *xml = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    if (!xml)
        return -1;
    g_autofree char *path = config_path(drv, def->name);
    if (write_replace(drv, path, xml, strlen(xml)) < 0) {
        tv_error_prefix("cannot save the definition of domain '%s'", def->name);
        return -1;
    }
    return 0;
}

int tv_driver_persist_remove(TvQemuDriver *drv, const char *name)
{
    if (tv_domain_name_check(name) < 0)
        return -1;
    g_autofree char *path = config_path(drv, name);
    g_autofree char *link = autostart_path(drv, name);
    if (tv_file_remove(link) < 0 || tv_file_remove(path) < 0)
        return -1;
    g_async_queue_push(drv->syncs, g_strdup(drv->config_dir)); /* the folder records the unlink */
    return 0;
}

int tv_driver_persist_set_autostart(TvQemuDriver *drv, const char *name, bool on)
{
    if (tv_domain_name_check(name) < 0)
        return -1;
    g_autofree char *link = autostart_path(drv, name);
    if (!on)
        return tv_file_remove(link);
    g_autofree char *target = g_strdup_printf("../%s.xml", name);
    if (symlink(target, link) < 0 && errno != EEXIST) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create the autostart link '%s'", link);
        return -1;
    }
    g_async_queue_push(drv->syncs, g_strdup(drv->autostart_dir));
    return 0;
}

bool tv_driver_persist_autostart(TvQemuDriver *drv, const char *name)
{
    g_autofree char *link = autostart_path(drv, name);
    struct stat st;
    return lstat(link, &st) == 0;
}

/* One file: parse, defaults of its emulator, nothing else (a definition that
 * this QEMU or host can no longer run stays listed; start says why). */
static TvDomainDef *load_one(TvQemuDriver *drv, const char *path, const char *stem)
{
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, DEFINITION_MAX, &xml, &len) < 0)
        return NULL;
    g_autoptr(TvDomainDef) def = tv_domain_def_parse(xml, len, TV_DOMAIN_PARSE_DEFAULT);
    if (!def)
        return NULL;
    if (strcmp(def->name, stem) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                        "the file is named for domain '%s' but defines domain '%s'", stem,
                        def->name);
        return NULL;
    }
    const TvQemuCaps *caps = tv_driver_caps(drv, tv_driver_emulator_of(drv, def));
    if (!caps || tv_qemu_domain_post_parse(def, caps, drv->host) < 0)
        return NULL;
    return g_steal_pointer(&def);
}

void tv_driver_persist_load_all(TvQemuDriver *drv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) dir = g_dir_open(drv->config_dir, 0, &err);
    if (!dir) {
        g_warning("QEMU driver: cannot read %s: %s", drv->config_dir, err->message);
        return;
    }
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".xml") || entry[0] == '.')
            continue;
        g_autofree char *stem = g_strndup(entry, strlen(entry) - 4);
        g_autofree char *path = g_build_filename(drv->config_dir, entry, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
            continue;
        TvDomainDef *def = load_one(drv, path, stem);
        if (!def) {
            g_warning("QEMU driver: skipping %s: %s", path, tv_error_message());
            tv_error_reset();
            continue;
        }
        g_mutex_lock(&drv->lock);
        if (g_hash_table_contains(drv->by_uuid, def->uuid)) {
            g_mutex_unlock(&drv->lock);
            char uuid[TV_UUID_STRLEN + 1];
            tv_uuid_format(def->uuid, uuid);
            g_warning("QEMU driver: skipping %s: uuid %s is already used by another definition",
                      path, uuid);
            tv_domain_def_free(def);
            continue;
        }
        TvDriverDomain *dom = tv_driver_domain_new(drv, def->name, def->uuid);
        dom->def = def;
        dom->autostart = tv_driver_persist_autostart(drv, def->name);
        tv_driver_list_add_locked(drv, dom);
        g_mutex_unlock(&drv->lock);
        tv_driver_domain_unref(dom);
    }
}
