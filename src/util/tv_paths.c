#include "tv_paths.h"

#include "tagvirt-config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

bool tv_paths_is_inside(const char *exe, const char *build_dir)
{
    if (!exe || !build_dir || !*build_dir)
        return false;
    size_t n = strlen(build_dir);
    while (n > 1 && build_dir[n - 1] == '/')
        n--;
    return strncmp(exe, build_dir, n) == 0 && exe[n] == '/';
}

static gpointer compute_uninstalled(gpointer data)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    /* the build directory may be reached through a symbolic link */
    g_autofree char *build = g_canonicalize_filename(TAGVIRT_BUILDDIR, "/");
    char *real = realpath(TAGVIRT_BUILDDIR, NULL);
    bool inside = tv_paths_is_inside(exe, build) || tv_paths_is_inside(exe, real);
    free(real);
    return GINT_TO_POINTER(inside ? 1 : 2);
}

bool tv_paths_running_uninstalled(void)
{
    static GOnce once = G_ONCE_INIT;
    return GPOINTER_TO_INT(g_once(&once, compute_uninstalled, NULL)) == 1;
}

char *tv_paths_source_file(const char *relative)
{
    return tv_paths_running_uninstalled() ? g_build_filename(TAGVIRT_SRCDIR, relative, NULL) : NULL;
}

char *tv_paths_build_file(const char *relative)
{
    return tv_paths_running_uninstalled() ? g_build_filename(TAGVIRT_BUILDDIR, relative, NULL)
                                          : NULL;
}
