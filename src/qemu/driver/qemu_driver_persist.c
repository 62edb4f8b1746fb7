/* Persistent definitions: CONFIG/<name>.xml, autostart as the symlink
 * CONFIG/autostart/<name>.xml -> ../<name>.xml, loaded at open.
 *
 * Every change is on disk before the call returns: a definition is written
 * with tv_file_write_atomic (flushed, renamed, folder flushed), so it is the
 * old one or the new one, never half of one, also after a crash of the
 * machine; an unlink or a new link is followed by a flush of its folder.
 * Writer and loader share one size limit (TV_QEMU_STATE_FILE_MAX). */
#include "qemu_driver_priv.h"
#include "qemu_status.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

void tv_driver_persist_init(TvQemuDriver *drv)
{
    /* tv_file_write_atomic's temporaries: only this driver writes here */
    tv_file_remove_temporaries(drv->config_dir, ".xml");
    static const char *const state_files[] = { ".xml", ".dac", ".apparmor" };
    for (size_t i = 0; i < G_N_ELEMENTS(state_files); i++)
        tv_file_remove_temporaries(drv->state_dir, state_files[i]);
}

int tv_driver_persist_save(TvQemuDriver *drv, const TvDomainDef *def)
{
    /* the conf layer checked the name when parsing; files use nothing else */
    if (tv_domain_name_check(def->name) < 0)
        return -1;
    /* what the loader (or a start's status file) could not read back is
     * never accepted: every change of a definition comes through here */
    if (tv_qemu_state_check_def(def) < 0)
        return -1;
    g_autofree char *xml = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    if (!xml)
        return -1;
    g_autofree char *path = config_path(drv, def->name);
    size_t len = strlen(xml);
    g_autofree char *what = g_strdup_printf("definition file '%s'", path);
    if (tv_qemu_state_check_len(what, len) < 0 || tv_file_write_atomic(path, xml, len, 0600) < 0) {
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
    if (tv_file_remove(link) < 0 || tv_file_remove(path) < 0 ||
        tv_dir_sync(drv->autostart_dir) < 0 || tv_dir_sync(drv->config_dir) < 0)
        return -1;
    return 0;
}

int tv_driver_persist_set_autostart(TvQemuDriver *drv, const char *name, bool on)
{
    if (tv_domain_name_check(name) < 0)
        return -1;
    g_autofree char *link = autostart_path(drv, name);
    if (!on)
        return tv_file_remove(link) < 0 ? -1 : tv_dir_sync(drv->autostart_dir);
    g_autofree char *target = g_strdup_printf("../%s.xml", name);
    if (symlink(target, link) < 0 && errno != EEXIST) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create the autostart link '%s'", link);
        return -1;
    }
    return tv_dir_sync(drv->autostart_dir);
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
    if (tv_file_read_all(path, TV_QEMU_STATE_FILE_MAX, &xml, &len) < 0)
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
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, tv_driver_emulator_of(drv, def));
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
