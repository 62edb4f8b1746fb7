#include "remote_procedures.h"

#include "remote_protocol.h"
#include "rpc_message.h"

/* "no arguments" / "no result": one byte of storage, the void filter */
typedef char tv_void;
#define xdr_tv_void xdr_void

#define RO    TV_PROC_READONLY_OK
#define EARLY TV_PROC_BEFORE_OPEN
#define NB    TV_PROC_INLINE

#define PROC(name, args, ret, flags)                                                               \
    {                                                                                              \
        TVR_PROC_##name, #name, TV_XDR(xdr_##args), sizeof(args), TV_XDR(xdr_##ret), sizeof(ret),  \
            (flags)                                                                                \
    }

/* In groups, each sorted by number (any order works: see tv_remote_procedure_find). */
static const TvRemoteProcedure procedures[] = {
    PROC(CONNECT_OPEN, tvr_connect_open_args, tv_void, RO | EARLY | NB),
    PROC(CONNECT_CLOSE, tv_void, tv_void, RO | NB),
    PROC(CONNECT_GET_TYPE, tv_void, tvr_connect_get_type_ret, RO | NB),
    PROC(CONNECT_GET_VERSION, tv_void, tvr_connect_get_version_ret, RO | NB),
    PROC(CONNECT_GET_MAX_VCPUS, tvr_connect_get_max_vcpus_args, tvr_connect_get_max_vcpus_ret, RO),
    PROC(NODE_GET_INFO, tv_void, tvr_node_get_info_ret, RO),
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
    PROC(DOMAIN_HAS_MANAGED_SAVE_IMAGE, tvr_domain_flags_args,
         tvr_domain_has_managed_save_image_ret, RO | NB),
    PROC(DOMAIN_SNAPSHOT_NUM, tvr_domain_flags_args, tvr_domain_snapshot_num_ret, RO | NB),
    PROC(DOMAIN_CREATE_WITH_FLAGS, tvr_domain_flags_args, tvr_domain_ret, 0),
    /* inline: the stream's first data may only follow the reply, sent on this thread */
    PROC(DOMAIN_OPEN_CONSOLE, tvr_domain_open_console_args, tv_void, NB),
    PROC(DOMAIN_GET_STATE, tvr_domain_flags_args, tvr_domain_get_state_ret, RO | NB),
    PROC(DOMAIN_UNDEFINE_FLAGS, tvr_domain_flags_args, tv_void, 0),
    PROC(DOMAIN_DESTROY_FLAGS, tvr_domain_flags_args, tv_void, 0),
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
    PROC(DOMAIN_DEFINE_XML_FLAGS, tvr_domain_define_xml_flags_args, tvr_domain_ret, 0),
    PROC(CONNECT_REGISTER_CLOSE_CALLBACK, tv_void, tv_void, RO | NB),
    PROC(CONNECT_UNREGISTER_CLOSE_CALLBACK, tv_void, tv_void, RO | NB),

    /* host (issue 9): node facts, CPU models, node devices, secrets, vCPUs,
     * memory, metadata and the events beside the lifecycle one */
    PROC(DOMAIN_GET_MAX_MEMORY, tvr_domain_args, tvr_domain_get_max_memory_ret, RO | NB),
    PROC(DOMAIN_GET_MAX_VCPUS, tvr_domain_args, tvr_num_ret, RO | NB),
    PROC(DOMAIN_GET_OS_TYPE, tvr_domain_args, tvr_domain_get_os_type_ret, RO | NB),
    PROC(DOMAIN_GET_VCPUS, tvr_domain_get_vcpus_args, tvr_domain_get_vcpus_ret, RO),
    PROC(DOMAIN_SET_MAX_MEMORY, tvr_domain_set_memory_args, tv_void, 0),
    PROC(DOMAIN_SET_MEMORY, tvr_domain_set_memory_args, tv_void, 0),
    PROC(DOMAIN_SET_VCPUS, tvr_domain_set_vcpus_args, tv_void, 0),
    PROC(NODE_GET_CELLS_FREE_MEMORY, tvr_node_get_cells_free_memory_args,
         tvr_node_get_cells_free_memory_ret, RO),
    PROC(NODE_GET_FREE_MEMORY, tv_void, tvr_node_get_free_memory_ret, RO),
    PROC(NODE_NUM_OF_DEVICES, tvr_node_num_of_devices_args, tvr_num_ret, RO),
    PROC(NODE_LIST_DEVICES, tvr_node_list_devices_args, tvr_names_ret, RO),
    PROC(NODE_DEVICE_LOOKUP_BY_NAME, tvr_node_device_name_args, tvr_node_device_lookup_by_name_ret,
         RO),
    PROC(NODE_DEVICE_GET_XML_DESC, tvr_node_device_get_xml_desc_args, tvr_xml_ret, RO),
    PROC(NODE_DEVICE_GET_PARENT, tvr_node_device_name_args, tvr_node_device_get_parent_ret, RO),
    PROC(NODE_DEVICE_NUM_OF_CAPS, tvr_node_device_name_args, tvr_num_ret, RO),
    PROC(NODE_DEVICE_LIST_CAPS, tvr_node_device_list_caps_args, tvr_node_device_list_caps_ret, RO),
    PROC(CONNECT_NUM_OF_SECRETS, tv_void, tvr_num_ret, RO | NB),
    PROC(CONNECT_LIST_SECRETS, tvr_connect_list_secrets_args, tvr_connect_list_secrets_ret,
         RO | NB),
    PROC(SECRET_LOOKUP_BY_UUID, tvr_secret_lookup_by_uuid_args, tvr_secret_ret, RO | NB),
    PROC(SECRET_LOOKUP_BY_USAGE, tvr_secret_lookup_by_usage_args, tvr_secret_ret, RO | NB),
    PROC(CONNECT_COMPARE_CPU, tvr_connect_compare_cpu_args, tvr_connect_compare_cpu_ret, RO),
    PROC(CONNECT_BASELINE_CPU, tvr_connect_baseline_cpu_args, tvr_connect_baseline_cpu_ret, RO),
    PROC(DOMAIN_SET_VCPUS_FLAGS, tvr_domain_set_vcpus_flags_args, tv_void, 0),
    PROC(DOMAIN_GET_VCPUS_FLAGS, tvr_domain_flags_args, tvr_num_ret, RO | NB),
    PROC(DOMAIN_SET_MEMORY_FLAGS, tvr_domain_set_memory_flags_args, tv_void, 0),
    PROC(NODE_GET_CPU_STATS, tvr_node_get_cpu_stats_args, tvr_node_get_cpu_stats_ret, RO),
    PROC(NODE_GET_MEMORY_STATS, tvr_node_get_memory_stats_args, tvr_node_get_memory_stats_ret, RO),
    PROC(DOMAIN_GET_VCPU_PIN_INFO, tvr_domain_get_vcpu_pin_info_args,
         tvr_domain_get_vcpu_pin_info_ret, RO),
    PROC(DOMAIN_RESET, tvr_domain_flags_args, tv_void, 0),
    PROC(DOMAIN_SET_METADATA, tvr_domain_set_metadata_args, tv_void, 0),
    PROC(DOMAIN_GET_METADATA, tvr_domain_get_metadata_args, tvr_domain_get_metadata_ret, RO | NB),
    PROC(CONNECT_LIST_ALL_NODE_DEVICES, tvr_connect_list_all_args,
         tvr_connect_list_all_node_devices_ret, RO),
    PROC(CONNECT_LIST_ALL_SECRETS, tvr_connect_list_all_args, tvr_connect_list_all_secrets_ret,
         RO | NB),
    PROC(NODE_GET_CPU_MAP, tvr_node_get_cpu_map_args, tvr_node_get_cpu_map_ret, RO),
    PROC(CONNECT_GET_CPU_MODEL_NAMES, tvr_connect_get_cpu_model_names_args,
         tvr_connect_get_cpu_model_names_ret, RO),
    PROC(CONNECT_NETWORK_EVENT_REGISTER_ANY, tvr_connect_network_event_register_any_args,
         tvr_callback_id_ret, RO | NB),
    PROC(CONNECT_NETWORK_EVENT_DEREGISTER_ANY, tvr_callback_id_args, tv_void, RO | NB),
    PROC(NETWORK_EVENT_LIFECYCLE, tvr_network_event_lifecycle_msg, tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_REBOOT, tvr_domain_event_callback_dom_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_TRAY_CHANGE, tvr_domain_event_callback_tray_change_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE, tvr_domain_event_callback_balloon_change_msg,
         tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED, tvr_domain_event_callback_dev_alias_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_TUNABLE, tvr_domain_event_callback_tunable_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE, tvr_domain_event_callback_agent_lifecycle_msg,
         tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_DEVICE_ADDED, tvr_domain_event_callback_dev_alias_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_JOB_COMPLETED, tvr_domain_event_callback_job_completed_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED, tvr_domain_event_callback_dev_alias_msg,
         tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, tvr_connect_storage_pool_event_register_any_args,
         tvr_callback_id_ret, RO | NB),
    PROC(CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY, tvr_callback_id_args, tv_void, RO | NB),
    PROC(STORAGE_POOL_EVENT_LIFECYCLE, tvr_storage_pool_event_lifecycle_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(STORAGE_POOL_EVENT_REFRESH, tvr_storage_pool_event_refresh_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, tvr_connect_node_device_event_register_any_args,
         tvr_callback_id_ret, RO | NB),
    PROC(CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, tvr_callback_id_args, tv_void, RO | NB),
    PROC(NODE_DEVICE_EVENT_LIFECYCLE, tvr_node_device_event_lifecycle_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(NODE_DEVICE_EVENT_UPDATE, tvr_node_device_event_update_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
    PROC(DOMAIN_EVENT_CALLBACK_METADATA_CHANGE, tvr_domain_event_callback_metadata_change_msg,
         tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(CONNECT_SECRET_EVENT_REGISTER_ANY, tvr_connect_secret_event_register_any_args,
         tvr_callback_id_ret, RO | NB),
    PROC(CONNECT_SECRET_EVENT_DEREGISTER_ANY, tvr_callback_id_args, tv_void, RO | NB),
    PROC(SECRET_EVENT_LIFECYCLE, tvr_secret_event_lifecycle_msg, tv_void, TV_PROC_SERVER_MESSAGE),
    PROC(SECRET_EVENT_VALUE_CHANGED, tvr_secret_event_value_changed_msg, tv_void,
         TV_PROC_SERVER_MESSAGE),
};

/* Procedure number -> position in the table, built once: the table is kept
 * in groups (one per feature), not in number order. */
#define PROC_NUMBER_MAX 512
static gint16 by_number[PROC_NUMBER_MAX];

static gpointer build_index(gpointer data)
{
    for (gsize i = 0; i < PROC_NUMBER_MAX; i++)
        by_number[i] = -1;
    for (gsize i = 0; i < G_N_ELEMENTS(procedures); i++) {
        int n = procedures[i].proc;
        g_assert(n > 0 && n < PROC_NUMBER_MAX); /* a number past the index is a bug */
        g_assert(by_number[n] < 0);             /* so is a number listed twice */
        by_number[n] = (gint16)i;
    }
    return NULL;
}

const TvRemoteProcedure *tv_remote_procedure_find(int proc)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, build_index, NULL);
    if (proc <= 0 || proc >= PROC_NUMBER_MAX || by_number[proc] < 0)
        return NULL;
    return &procedures[by_number[proc]];
}

gsize tv_remote_procedure_count(void)
{
    return G_N_ELEMENTS(procedures);
}

const TvRemoteProcedure *tv_remote_procedure_at(gsize index)
{
    return index < G_N_ELEMENTS(procedures) ? &procedures[index] : NULL;
}

gsize tv_remote_procedure_index(const TvRemoteProcedure *proc)
{
    return (gsize)(proc - procedures);
}
