/* The device procedures' table (remote_device_protocol.x), sorted by
 * number.  Only guest addresses are read-only. */
#include "remote_device_protocol.h"
#include "remote_proc_table.h"

const TvRemoteProcedure tv_remote_device_procedures[] = {
    PROC(DOMAIN_ATTACH_DEVICE, tvr_domain_device_xml_args, tv_void, 0),
    PROC(DOMAIN_DETACH_DEVICE, tvr_domain_device_xml_args, tv_void, 0),
    PROC(DOMAIN_ATTACH_DEVICE_FLAGS, tvr_domain_device_xml_flags_args, tv_void, 0),
    PROC(DOMAIN_DETACH_DEVICE_FLAGS, tvr_domain_device_xml_flags_args, tv_void, 0),
    PROC(DOMAIN_UPDATE_DEVICE_FLAGS, tvr_domain_device_xml_flags_args, tv_void, 0),
    PROC(DOMAIN_INTERFACE_ADDRESSES, tvr_domain_interface_addresses_args,
         tvr_domain_interface_addresses_ret, RO),
    PROC(DOMAIN_DETACH_DEVICE_ALIAS, tvr_domain_detach_device_alias_args, tv_void, 0),
};
const gsize tv_remote_device_procedures_count = G_N_ELEMENTS(tv_remote_device_procedures);
