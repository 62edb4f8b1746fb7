/* The save and restore procedures (remote_save_protocol.x) translated to
 * the QEMU driver (qemu_driver_save.c). */
#include "remote_domain.h"

#include "remote_priv.h"
#include "remote_save_protocol.h"

#define DRV(conn) ((conn)->remote->drv)

static const unsigned char *uuid_of(const tvr_nonnull_domain *dom)
{
    return (const unsigned char *)dom->uuid;
}

static const char *opt(const tvr_string s)
{
    return s ? *s : NULL;
}

static int h_restore(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_restore_args *args = a;
    return tv_qemu_driver_restore(DRV(conn), args->from, NULL, 0, NULL);
}

static int h_save(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_save_args *args = a;
    return tv_qemu_driver_save(DRV(conn), uuid_of(&args->dom), args->to, NULL, 0);
}

static int h_managed_save(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_managed_save_flags_args *args = a;
    return tv_qemu_driver_managed_save(DRV(conn), uuid_of(&args->dom), args->flags);
}

static int h_managed_save_remove(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_managed_save_flags_args *args = a;
    return tv_qemu_driver_managed_save_remove(DRV(conn), uuid_of(&args->dom), args->flags);
}

static int h_save_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_save_flags_args *args = a;
    return tv_qemu_driver_save(DRV(conn), uuid_of(&args->dom), args->to, opt(args->dxml),
                               args->flags);
}

static int h_restore_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_restore_flags_args *args = a;
    return tv_qemu_driver_restore(DRV(conn), args->from, opt(args->dxml), args->flags, NULL);
}

static int h_save_image_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_save_image_get_xml_desc_args *args = a;
    char *xml = tv_qemu_driver_save_image_xml(DRV(conn), args->file, args->flags);
    ((tvr_domain_save_image_xml_ret *)r)->xml = xml;
    return xml ? 0 : -1;
}

static int h_save_image_define(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_save_image_define_xml_args *args = a;
    return tv_qemu_driver_save_image_define_xml(DRV(conn), args->file, args->dxml, args->flags);
}

static int h_managed_save_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_managed_save_flags_args *args = a;
    char *xml = tv_qemu_driver_managed_save_xml(DRV(conn), uuid_of(&args->dom), args->flags);
    ((tvr_domain_save_image_xml_ret *)r)->xml = xml;
    return xml ? 0 : -1;
}

static int h_managed_save_define(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_managed_save_define_xml_args *args = a;
    return tv_qemu_driver_managed_save_define_xml(DRV(conn), uuid_of(&args->dom), opt(args->dxml),
                                                  args->flags);
}

static const TvRemoteHandlerEntry save_handlers[] = {
    { TVR_PROC_DOMAIN_RESTORE, h_restore },
    { TVR_PROC_DOMAIN_SAVE, h_save },
    { TVR_PROC_DOMAIN_MANAGED_SAVE, h_managed_save },
    { TVR_PROC_DOMAIN_MANAGED_SAVE_REMOVE, h_managed_save_remove },
    { TVR_PROC_DOMAIN_SAVE_FLAGS, h_save_flags },
    { TVR_PROC_DOMAIN_RESTORE_FLAGS, h_restore_flags },
    { TVR_PROC_DOMAIN_SAVE_IMAGE_GET_XML_DESC, h_save_image_xml },
    { TVR_PROC_DOMAIN_SAVE_IMAGE_DEFINE_XML, h_save_image_define },
    { TVR_PROC_DOMAIN_MANAGED_SAVE_GET_XML_DESC, h_managed_save_xml },
    { TVR_PROC_DOMAIN_MANAGED_SAVE_DEFINE_XML, h_managed_save_define },
};

void tv_remote_register_save_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, save_handlers, G_N_ELEMENTS(save_handlers));
}
