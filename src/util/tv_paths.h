/* Where a program's data files come from: the build tree only when the
 * running program is one of its outputs, else the installed locations.  An
 * installed tagvirtd never reads the build tree it was compiled in, which
 * may be writable by another user or hold files of another version. */
#pragma once

#include <stdbool.h>

/* True when exe (a resolved path) lies inside build_dir (both absolute). */
bool tv_paths_is_inside(const char *exe, const char *build_dir);
/* True when /proc/self/exe lies in the build tree this was compiled for
 * (TAGVIRT_BUILDDIR); computed once. */
bool tv_paths_running_uninstalled(void);
/* path under the source tree (TAGVIRT_SRCDIR) when running uninstalled,
 * else NULL; newly allocated.  Likewise for the build tree. */
char *tv_paths_source_file(const char *relative);
char *tv_paths_build_file(const char *relative);
