/* The network procedures' table (remote_network_protocol.x), sorted by
 * number.  Read-only connections may look and list, never change. */
#include "remote_network_protocol.h"
#include "remote_proc_table.h"

const TvRemoteProcedure tv_remote_network_procedures[] = {
    PROC(CONNECT_LIST_DEFINED_NETWORKS, tvr_net_maxnames_args, tvr_net_names_ret, RO | NB),
    PROC(CONNECT_LIST_NETWORKS, tvr_net_maxnames_args, tvr_net_names_ret, RO | NB),
    PROC(NETWORK_CREATE, tvr_net_args, tv_void, 0),
    PROC(NETWORK_CREATE_XML, tvr_net_xml_args, tvr_net_ret, 0),
    PROC(NETWORK_DEFINE_XML, tvr_net_xml_args, tvr_net_ret, 0),
    PROC(NETWORK_DESTROY, tvr_net_args, tv_void, 0),
    PROC(NETWORK_GET_XML_DESC, tvr_net_flags_args, tvr_net_string_ret, RO | NB),
    PROC(NETWORK_GET_AUTOSTART, tvr_net_args, tvr_net_int_ret, RO | NB),
    PROC(NETWORK_GET_BRIDGE_NAME, tvr_net_args, tvr_net_string_ret, RO | NB),
    PROC(NETWORK_LOOKUP_BY_NAME, tvr_net_lookup_by_name_args, tvr_net_ret, RO | NB),
    PROC(NETWORK_LOOKUP_BY_UUID, tvr_net_lookup_by_uuid_args, tvr_net_ret, RO | NB),
    PROC(NETWORK_SET_AUTOSTART, tvr_net_set_autostart_args, tv_void, 0),
    PROC(NETWORK_UNDEFINE, tvr_net_args, tv_void, 0),
    PROC(CONNECT_NUM_OF_DEFINED_NETWORKS, tv_void, tvr_net_int_ret, RO | NB),
    PROC(CONNECT_NUM_OF_NETWORKS, tv_void, tvr_net_int_ret, RO | NB),
    PROC(NETWORK_IS_ACTIVE, tvr_net_args, tvr_net_int_ret, RO | NB),
    PROC(NETWORK_IS_PERSISTENT, tvr_net_args, tvr_net_int_ret, RO | NB),
    PROC(CONNECT_LIST_ALL_NETWORKS, tvr_connect_list_all_networks_args,
         tvr_connect_list_all_networks_ret, RO | NB),
    PROC(NETWORK_UPDATE, tvr_network_update_args, tv_void, 0),
    PROC(CONNECT_NETWORK_EVENT_REGISTER_ANY, tvr_connect_network_event_register_any_args,
         tvr_connect_network_event_register_any_ret, RO | NB),
    PROC(CONNECT_NETWORK_EVENT_DEREGISTER_ANY, tvr_connect_network_event_deregister_any_args,
         tv_void, RO | NB),
    PROC(NETWORK_EVENT_LIFECYCLE, tvr_network_event_lifecycle_msg, tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(NETWORK_GET_DHCP_LEASES, tvr_network_get_dhcp_leases_args, tvr_network_get_dhcp_leases_ret,
         RO | NB),
    PROC(NETWORK_DEFINE_XML_FLAGS, tvr_net_xml_flags_args, tvr_net_ret, 0),
    PROC(NETWORK_CREATE_XML_FLAGS, tvr_net_xml_flags_args, tvr_net_ret, 0),
};
const gsize tv_remote_network_procedures_count = G_N_ELEMENTS(tv_remote_network_procedures);
