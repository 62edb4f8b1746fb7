#include "remote_procedures.h"
#include "remote_proc_table.h"

#include "remote_protocol.h"
#include "rpc_message.h"

/* Sorted by number. */
static const TvRemoteProcedure procedures[] = {
    PROC(CONNECT_OPEN, tvr_connect_open_args, tv_void, RO | EARLY | NB),
    PROC(CONNECT_CLOSE, tv_void, tv_void, RO | NB),
    PROC(CONNECT_GET_TYPE, tv_void, tvr_connect_get_type_ret, RO | NB),
    PROC(CONNECT_GET_VERSION, tv_void, tvr_connect_get_version_ret, RO | NB),
    PROC(CONNECT_GET_MAX_VCPUS, tvr_connect_get_max_vcpus_args, tvr_connect_get_max_vcpus_ret, RO),
    PROC(NODE_GET_INFO, tv_void, tvr_node_get_info_ret, RO | NB),
    PROC(CONNECT_GET_CAPABILITIES, tv_void, tvr_connect_get_capabilities_ret, RO),
    PROC(DOMAIN_CREATE, tvr_domain_args, tv_void, 0),
    PROC(DOMAIN_CREATE_XML, tvr_domain_create_xml_args, tvr_domain_ret, 0),
    PROC(DOMAIN_DEFINE_XML, tvr_domain_define_xml_args, tvr_domain_ret, 0),
    PROC(DOMAIN_DESTROY, tvr_domain_args, tv_void, 0),
    PROC(DOMAIN_GET_XML_DESC, tvr_domain_flags_args, tvr_domain_get_xml_desc_ret, RO | NB),
    PROC(DOMAIN_GET_AUTOSTART, tvr_domain_args, tvr_domain_get_autostart_ret, RO | NB),
    PROC(DOMAIN_GET_INFO, tvr_domain_args, tvr_domain_get_info_ret, RO | NB),
    PROC(DOMAIN_LOOKUP_BY_ID, tvr_domain_lookup_by_id_args, tvr_domain_ret, RO | NB),
    PROC(DOMAIN_LOOKUP_BY_NAME, tvr_domain_lookup_by_name_args, tvr_domain_ret, RO | NB),
    PROC(DOMAIN_LOOKUP_BY_UUID, tvr_domain_lookup_by_uuid_args, tvr_domain_ret, RO | NB),
    PROC(DOMAIN_REBOOT, tvr_domain_flags_args, tv_void, 0),
    PROC(DOMAIN_RESUME, tvr_domain_args, tv_void, 0),
    PROC(DOMAIN_SET_AUTOSTART, tvr_domain_set_autostart_args, tv_void, 0),
    PROC(DOMAIN_SHUTDOWN, tvr_domain_args, tv_void, 0),
    PROC(DOMAIN_SUSPEND, tvr_domain_args, tv_void, 0),
    PROC(DOMAIN_UNDEFINE, tvr_domain_args, tv_void, 0),
    PROC(CONNECT_GET_HOSTNAME, tv_void, tvr_connect_get_hostname_ret, RO | NB),
    PROC(CONNECT_SUPPORTS_FEATURE, tvr_connect_supports_feature_args,
         tvr_connect_supports_feature_ret, RO | EARLY | NB),
    PROC(AUTH_LIST, tv_void, tvr_auth_list_ret, RO | EARLY | NB),
    PROC(CONNECT_IS_SECURE, tv_void, tvr_connect_is_secure_ret, RO | NB),
    PROC(DOMAIN_IS_ACTIVE, tvr_domain_args, tvr_domain_is_active_ret, RO | NB),
    PROC(DOMAIN_IS_PERSISTENT, tvr_domain_args, tvr_domain_is_persistent_ret, RO | NB),
    PROC(CONNECT_GET_LIB_VERSION, tv_void, tvr_connect_get_lib_version_ret, RO | NB),
    PROC(DOMAIN_GET_JOB_INFO, tvr_domain_args, tvr_domain_get_job_info_ret, RO | NB),
    PROC(DOMAIN_ABORT_JOB, tvr_domain_args, tv_void, 0),
    PROC(DOMAIN_MIGRATE_SET_MAX_DOWNTIME, tvr_domain_migrate_set_max_downtime_args, tv_void, 0),
    PROC(DOMAIN_HAS_MANAGED_SAVE_IMAGE, tvr_domain_flags_args,
         tvr_domain_has_managed_save_image_ret, RO | NB),
    PROC(DOMAIN_SNAPSHOT_NUM, tvr_domain_flags_args, tvr_domain_snapshot_num_ret, RO | NB),
    PROC(DOMAIN_CREATE_WITH_FLAGS, tvr_domain_flags_args, tvr_domain_ret, 0),
    /* inline: the stream's first data may only follow the reply, sent on this thread */
    PROC(DOMAIN_OPEN_CONSOLE, tvr_domain_open_console_args, tv_void, NB),
    PROC(DOMAIN_MIGRATE_SET_MAX_SPEED, tvr_domain_migrate_set_max_speed_args, tv_void, 0),
    PROC(DOMAIN_GET_STATE, tvr_domain_flags_args, tvr_domain_get_state_ret, RO | NB),
    PROC(DOMAIN_UNDEFINE_FLAGS, tvr_domain_flags_args, tv_void, 0),
    PROC(DOMAIN_DESTROY_FLAGS, tvr_domain_flags_args, tv_void, 0),
    PROC(DOMAIN_MIGRATE_GET_MAX_SPEED, tvr_domain_flags_args, tvr_domain_migrate_get_max_speed_ret,
         RO),
    PROC(DOMAIN_SHUTDOWN_FLAGS, tvr_domain_flags_args, tv_void, 0),
    PROC(CONNECT_LIST_ALL_DOMAINS, tvr_connect_list_all_domains_args,
         tvr_connect_list_all_domains_ret, RO | NB),
    PROC(DOMAIN_GET_JOB_STATS, tvr_domain_flags_args, tvr_domain_get_job_stats_ret, RO | NB),
    PROC(DOMAIN_MIGRATE_BEGIN3_PARAMS, tvr_domain_migrate_begin3_params_args,
         tvr_domain_migrate_begin3_params_ret, 0),
    PROC(DOMAIN_MIGRATE_PREPARE3_PARAMS, tvr_domain_migrate_prepare3_params_args,
         tvr_domain_migrate_prepare3_params_ret, 0),
    PROC(DOMAIN_MIGRATE_PERFORM3_PARAMS, tvr_domain_migrate_perform3_params_args,
         tvr_domain_migrate_perform3_params_ret, 0),
    PROC(DOMAIN_MIGRATE_FINISH3_PARAMS, tvr_domain_migrate_finish3_params_args,
         tvr_domain_migrate_finish3_params_ret, 0),
    PROC(DOMAIN_MIGRATE_CONFIRM3_PARAMS, tvr_domain_migrate_confirm3_params_args, tv_void, 0),
    PROC(CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
         tvr_connect_domain_event_callback_register_any_args,
         tvr_connect_domain_event_callback_register_any_ret, RO | NB),
    PROC(CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
         tvr_connect_domain_event_callback_deregister_any_args, tv_void, RO | NB),
    PROC(DOMAIN_EVENT_CALLBACK_LIFECYCLE, tvr_domain_event_callback_lifecycle_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(CONNECT_GET_DOMAIN_CAPABILITIES, tvr_connect_get_domain_capabilities_args,
         tvr_connect_get_domain_capabilities_ret, RO),
    /* a worker: QMP getfd and add_client wait for QEMU */
    PROC(DOMAIN_OPEN_GRAPHICS_FD, tvr_domain_open_graphics_fd_args, tv_void, 0),
    PROC(DOMAIN_DEFINE_XML_FLAGS, tvr_domain_define_xml_flags_args, tvr_domain_ret, 0),
    PROC(CONNECT_REGISTER_CLOSE_CALLBACK, tv_void, tv_void, RO | NB),
    PROC(CONNECT_UNREGISTER_CLOSE_CALLBACK, tv_void, tv_void, RO | NB),
    PROC(DOMAIN_MIGRATE_GET_MAX_DOWNTIME, tvr_domain_flags_args,
         tvr_domain_migrate_get_max_downtime_ret, RO),
};

static const gsize procedures_count = G_N_ELEMENTS(procedures);

/* One table per group of procedures, each sorted by number; a procedure's
 * index is its place in the tables one after the other. */
typedef struct {
    const TvRemoteProcedure *procs;
    const gsize *n;
} ProcTable;

static const ProcTable tables[] = {
    { procedures, &procedures_count },
    { tv_remote_storage_procedures, &tv_remote_storage_procedures_count },
    { tv_remote_host_procedures, &tv_remote_host_procedures_count },
    { tv_remote_network_procedures, &tv_remote_network_procedures_count },
    { tv_remote_device_procedures, &tv_remote_device_procedures_count },
    { tv_remote_save_procedures, &tv_remote_save_procedures_count },
    { tv_remote_stats_procedures, &tv_remote_stats_procedures_count },
    { tv_remote_agent_procedures, &tv_remote_agent_procedures_count },
};

static const TvRemoteProcedure *find_in(const ProcTable *t, int proc)
{
    gsize lo = 0, hi = *t->n;
    while (lo < hi) {
        gsize mid = lo + (hi - lo) / 2;
        if (t->procs[mid].proc == proc)
            return &t->procs[mid];
        if (t->procs[mid].proc < proc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const TvRemoteProcedure *tv_remote_procedure_find(int proc)
{
    for (gsize i = 0; i < G_N_ELEMENTS(tables); i++) {
        const TvRemoteProcedure *p = find_in(&tables[i], proc);
        if (p)
            return p;
    }
    return NULL;
}

gsize tv_remote_procedure_count(void)
{
    gsize n = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(tables); i++)
        n += *tables[i].n;
    return n;
}

const TvRemoteProcedure *tv_remote_procedure_at(gsize index)
{
    for (gsize i = 0; i < G_N_ELEMENTS(tables); i++) {
        if (index < *tables[i].n)
            return &tables[i].procs[index];
        index -= *tables[i].n;
    }
    return NULL;
}

gsize tv_remote_procedure_index(const TvRemoteProcedure *proc)
{
    gsize base = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(tables); i++) {
        if (proc >= tables[i].procs && proc < tables[i].procs + *tables[i].n)
            return base + (gsize)(proc - tables[i].procs);
        base += *tables[i].n;
    }
    g_assert_not_reached();
}
