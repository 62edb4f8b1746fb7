/* The statistics and snapshot procedures' table (remote_stats_protocol.x),
 * sorted by number.  Reading statistics is allowed on a read-only
 * connection, as libvirt allows it; creating a snapshot is not.  Statistics
 * ask QEMU (query-blockstats), so they go to a worker. */
#include "remote_proc_table.h"
#include "remote_stats_protocol.h"

const TvRemoteProcedure tv_remote_stats_procedures[] = {
    PROC(DOMAIN_BLOCK_STATS, tvr_domain_block_stats_args, tvr_domain_block_stats_ret, RO),
    PROC(DOMAIN_INTERFACE_STATS, tvr_domain_interface_stats_args, tvr_domain_interface_stats_ret,
         RO),
    PROC(DOMAIN_SNAPSHOT_CREATE_XML, tvr_domain_snapshot_create_xml_args,
         tvr_domain_snapshot_create_xml_ret, 0),
    PROC(DOMAIN_SNAPSHOT_LIST_NAMES, tvr_domain_snapshot_list_names_args,
         tvr_domain_snapshot_list_names_ret, RO | NB),
    PROC(DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, tvr_domain_snapshot_lookup_by_name_args,
         tvr_domain_snapshot_ret, RO | NB),
    PROC(DOMAIN_HAS_CURRENT_SNAPSHOT, tvr_domain_flags_args, tvr_domain_has_current_snapshot_ret,
         RO | NB),
    PROC(DOMAIN_SNAPSHOT_CURRENT, tvr_domain_flags_args, tvr_domain_snapshot_ret, RO | NB),
    PROC(DOMAIN_BLOCK_STATS_FLAGS, tvr_domain_block_stats_flags_args,
         tvr_domain_block_stats_flags_ret, RO),
    PROC(DOMAIN_LIST_ALL_SNAPSHOTS, tvr_domain_list_all_snapshots_args,
         tvr_domain_list_all_snapshots_ret, RO | NB),
    PROC(CONNECT_GET_ALL_DOMAIN_STATS, tvr_connect_get_all_domain_stats_args,
         tvr_connect_get_all_domain_stats_ret, RO),
};
const gsize tv_remote_stats_procedures_count = G_N_ELEMENTS(tv_remote_stats_procedures);
