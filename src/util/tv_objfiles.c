/* Definitions, autostart links and state files of named objects. */
#include "tv_objfiles.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static char *file_of(const char *dir, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(dir, file, NULL);
}

int tv_objfiles_init(TvObjFiles *files, const char *what, const char *config_dir,
                     const char *state_dir, bool *first)
{
    memset(files, 0, sizeof(*files));
    files->what = g_strdup(what);
    files->config_dir = g_strdup(config_dir);
    files->autostart_dir = g_build_filename(config_dir, "autostart", NULL);
    files->state_dir = g_strdup(state_dir);
    if (first)
        *first = !g_file_test(config_dir, G_FILE_TEST_IS_DIR);
    if (tv_dir_ensure(files->config_dir, 0700) < 0 ||
        tv_dir_ensure(files->autostart_dir, 0700) < 0 || tv_dir_ensure(files->state_dir, 0700) < 0)
        return -1;
    return 0;
}

void tv_objfiles_clear(TvObjFiles *files)
{
    g_clear_pointer(&files->what, g_free);
    g_clear_pointer(&files->config_dir, g_free);
    g_clear_pointer(&files->autostart_dir, g_free);
    g_clear_pointer(&files->state_dir, g_free);
}

int tv_objfiles_save(const TvObjFiles *files, const char *name, const char *xml)
{
    g_autofree char *path = file_of(files->config_dir, name);
    return tv_file_write_atomic(path, xml, strlen(xml), 0600);
}

int tv_objfiles_remove(const TvObjFiles *files, const char *name)
{
    g_autofree char *path = file_of(files->config_dir, name);
    g_autofree char *link = file_of(files->autostart_dir, name);
    if (tv_file_remove(link) < 0)
        return -1;
    return tv_file_remove(path);
}

int tv_objfiles_set_autostart(const TvObjFiles *files, const char *name, bool on)
{
    g_autofree char *link = file_of(files->autostart_dir, name);
    if (!on)
        return tv_file_remove(link);
    g_autofree char *target = g_strconcat("../", name, ".xml", NULL);
    if (symlink(target, link) < 0 && errno != EEXIST) {
        tv_error_report_errno(TV_FROM_NONE, errno, "cannot mark %s '%s' autostart", files->what,
                              name);
        return -1;
    }
    return 0;
}

bool tv_objfiles_autostart(const TvObjFiles *files, const char *name)
{
    g_autofree char *link = file_of(files->autostart_dir, name);
    return g_file_test(link, G_FILE_TEST_IS_SYMLINK);
}

int tv_objfiles_state_save(const TvObjFiles *files, const char *name, const char *xml)
{
    g_autofree char *path = file_of(files->state_dir, name);
    return tv_file_write_atomic(path, xml, strlen(xml), 0600);
}

void tv_objfiles_state_remove(const TvObjFiles *files, const char *name)
{
    g_autofree char *path = file_of(files->state_dir, name);
    if (tv_file_remove(path) < 0) {
        g_warning("%s '%s': %s", files->what, name, tv_error_message());
        tv_error_reset();
    }
}

GPtrArray *tv_objfiles_names(const char *dir)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *f;
    while (d && (f = g_dir_read_name(d))) {
        if (g_str_has_suffix(f, ".xml") && f[0] != '.')
            g_ptr_array_add(names, g_strndup(f, strlen(f) - 4));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    return names;
}

char *tv_objfiles_read(const TvObjFiles *files, const char *dir, const char *name, size_t max,
                       size_t *len)
{
    g_autofree char *path = file_of(dir, name);
    char *xml = NULL;
    if (tv_file_read_all(path, max, &xml, len) < 0) {
        g_warning("skipping %s %s: %s", files->what, path, tv_error_message());
        tv_error_reset();
        return NULL;
    }
    return xml;
}

static bool group_match(unsigned flags, unsigned yes, unsigned no, bool answer)
{
    if (!(flags & (yes | no)))
        return true;
    return answer ? (flags & yes) != 0 : (flags & no) != 0;
}

bool tv_objfiles_list_match(unsigned flags, bool active, bool persistent, bool autostart)
{
    return group_match(flags, 2, 1, active) && group_match(flags, 4, 8, persistent) &&
           group_match(flags, 16, 32, autostart);
}
