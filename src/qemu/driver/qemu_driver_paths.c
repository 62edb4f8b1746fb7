/* Which running domain uses a file: asked by the storage driver before it
 * deletes, wipes or resizes a volume. */
#include "qemu_driver_priv.h"

#include <string.h>

char *tv_qemu_driver_path_user(TvQemuDriver *drv, const char *path)
{
    g_autofree char *canon = g_canonicalize_filename(path, "/");
    g_autoptr(GPtrArray) doms = tv_driver_domains_snapshot(drv);
    char *user = NULL;
    for (guint i = 0; !user && i < doms->len; i++) {
        TvDriverDomain *dom = g_ptr_array_index(doms, i);
        g_mutex_lock(&dom->lock);
        const TvDomainDef *def =
            tv_driver_domain_active_locked(dom) ? tv_driver_domain_current_def(dom) : NULL;
        for (size_t d = 0; def && !user && d < def->devices.ndisks; d++) {
            const char *disk = def->devices.disks[d]->path;
            if (disk && strcmp(disk, canon) == 0)
                user = g_strdup(dom->name);
        }
        g_mutex_unlock(&dom->lock);
    }
    return user;
}
