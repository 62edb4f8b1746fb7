/* The guest agent procedures' table (remote_agent_protocol.x), sorted by
 * number.  Reading the guest's clock is allowed on a read-only connection
 * in libvirt only to a caller with write access; so neither is read-only. */
#include "remote_agent_protocol.h"
#include "remote_proc_table.h"

const TvRemoteProcedure tv_remote_agent_procedures[] = {
    PROC(DOMAIN_GET_TIME, tvr_domain_get_time_args, tvr_domain_get_time_ret, 0),
    PROC(DOMAIN_SET_TIME, tvr_domain_set_time_args, tv_void, 0),
};
const gsize tv_remote_agent_procedures_count = G_N_ELEMENTS(tv_remote_agent_procedures);
