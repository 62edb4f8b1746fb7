/* The save and restore procedures' table (remote_save_protocol.x), sorted
 * by number.  None is read-only: they write files, start or stop guests, or
 * read a file the caller names (as libvirt, which refuses a read-only
 * connection a save image's XML). */
#include "remote_proc_table.h"
#include "remote_save_protocol.h"

const TvRemoteProcedure tv_remote_save_procedures[] = {
    PROC(DOMAIN_RESTORE, tvr_domain_restore_args, tv_void, 0),
    PROC(DOMAIN_SAVE, tvr_domain_save_args, tv_void, 0),
    PROC(DOMAIN_MANAGED_SAVE, tvr_domain_managed_save_flags_args, tv_void, 0),
    PROC(DOMAIN_MANAGED_SAVE_REMOVE, tvr_domain_managed_save_flags_args, tv_void, 0),
    PROC(DOMAIN_SAVE_FLAGS, tvr_domain_save_flags_args, tv_void, 0),
    PROC(DOMAIN_RESTORE_FLAGS, tvr_domain_restore_flags_args, tv_void, 0),
    PROC(DOMAIN_SAVE_IMAGE_GET_XML_DESC, tvr_domain_save_image_get_xml_desc_args,
         tvr_domain_save_image_xml_ret, 0),
    PROC(DOMAIN_SAVE_IMAGE_DEFINE_XML, tvr_domain_save_image_define_xml_args, tv_void, 0),
    PROC(DOMAIN_MANAGED_SAVE_GET_XML_DESC, tvr_domain_managed_save_flags_args,
         tvr_domain_save_image_xml_ret, 0),
    PROC(DOMAIN_MANAGED_SAVE_DEFINE_XML, tvr_domain_managed_save_define_xml_args, tv_void, 0),
};
const gsize tv_remote_save_procedures_count = G_N_ELEMENTS(tv_remote_save_procedures);
