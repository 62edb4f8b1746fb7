/* qemu-img, for the qcow2 images tagvirt does not write itself (with a
 * backing file or preallocation; storage_qcow2.c writes the plain ones), for
 * resizing them and for copies between formats.  Its error output becomes the error message. */
#include "storage_driver_priv.h"
#include "tv_error.h"

int tv_storage_qemu_img(TvStorageDriver *drv, const char *const *argv)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, drv->qemu_img);
    for (const char *const *a = argv; *a; a++)
        g_ptr_array_add(args, (gpointer)*a);
    g_ptr_array_add(args, NULL);

    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status = 0;
    const char *env[] = { "LC_ALL=C", "PATH=/usr/bin:/bin:/usr/sbin:/sbin", NULL };
    if (!g_spawn_sync(NULL, (char **)args->pdata, (char **)env,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                      &status, &gerr)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_FAILED, "cannot run %s: %s",
                        drv->qemu_img, gerr->message);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        g_autofree char *cmd = g_strjoinv(" ", (char **)args->pdata);
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_FAILED, "'%s' failed: %s", cmd,
                        *err ? err : "no message");
        return -1;
    }
    return 0;
}
