#include "remote_domain.h"

#include <string.h>

#include "remote_priv.h"

#define DRV(conn) ((conn)->remote->drv)

/* Work the reading thread may do for one call (rpc_server.c answers quick
 * calls there): formatting a definition up to this size takes well under a
 * millisecond; a larger one, or one never formatted, goes to a worker. */
#define INLINE_XML_MAX (64 * 1024)
/* Listing up to this many domains, likewise. */
#define INLINE_LIST_MAX 1024

/* A driver ref becomes a wire domain; the name moves over. */
static void ref_to_wire(TvDomainRef *ref, tvr_nonnull_domain *out)
{
    out->name = g_steal_pointer(&ref->name);
    memcpy(out->uuid, ref->uuid, sizeof(out->uuid));
    out->id = ref->id;
    tv_domain_ref_clear(ref);
}

static const unsigned char *uuid_of(const tvr_nonnull_domain *dom)
{
    return (const unsigned char *)dom->uuid;
}

static int no_flags(const char *proc, unsigned flags)
{
    if (flags == 0)
        return 0;
    tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG, "%s flags 0x%x are not supported; accepted: 0",
                    proc, flags);
    return -1;
}

static int take_dom(int rc, TvDomainRef *ref, void *retp)
{
    if (rc < 0) {
        tv_domain_ref_clear(ref);
        return -1;
    }
    ref_to_wire(ref, &((tvr_domain_ret *)retp)->dom);
    return 0;
}

static int take_string(char *value, char **out)
{
    if (!value)
        return -1;
    *out = value;
    return 0;
}

static int h_get_version(TvRemoteConn *conn, const void *a, void *r)
{
    ((tvr_connect_get_version_ret *)r)->hv_ver = tv_qemu_driver_hypervisor_version(DRV(conn));
    return 0;
}

static int h_get_max_vcpus(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_get_max_vcpus_args *args = a;
    int n = tv_qemu_driver_max_vcpus(DRV(conn), args->type ? *args->type : NULL);
    if (n < 0)
        return -1;
    ((tvr_connect_get_max_vcpus_ret *)r)->max_vcpus = n;
    return 0;
}

static int h_node_get_info(TvRemoteConn *conn, const void *a, void *r)
{
    tvr_node_get_info_ret *ret = r;
    TvNodeInfo info = { 0 };
    if (tv_qemu_driver_node_info(DRV(conn), &info) < 0)
        return -1;
    G_STATIC_ASSERT(sizeof(ret->model) == sizeof(info.model));
    memcpy(ret->model, info.model, sizeof(ret->model));
    ret->memory = info.memory_kib;
    ret->cpus = info.cpus;
    ret->mhz = info.mhz;
    ret->nodes = info.nodes;
    ret->sockets = info.sockets;
    ret->cores = info.cores;
    ret->threads = info.threads;
    return 0;
}

static int h_get_capabilities(TvRemoteConn *conn, const void *a, void *r)
{
    return take_string(tv_qemu_driver_capabilities(DRV(conn)),
                       &((tvr_connect_get_capabilities_ret *)r)->capabilities);
}

static int h_get_domain_capabilities(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_get_domain_capabilities_args *args = a;
    if (no_flags("CONNECT_GET_DOMAIN_CAPABILITIES", args->flags) < 0)
        return -1;
    char *xml = tv_qemu_driver_domain_capabilities(
        DRV(conn), args->emulatorbin ? *args->emulatorbin : NULL, args->arch ? *args->arch : NULL,
        args->machine ? *args->machine : NULL, args->virttype ? *args->virttype : NULL);
    return take_string(xml, &((tvr_connect_get_domain_capabilities_ret *)r)->capabilities);
}

static int h_define_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_define_xml_args *args = a;
    TvDomainRef ref = { 0 };
    return take_dom(tv_qemu_driver_define(DRV(conn), args->xml, 0, &ref), &ref, r);
}

static int h_define_xml_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_define_xml_flags_args *args = a;
    TvDomainRef ref = { 0 };
    return take_dom(tv_qemu_driver_define(DRV(conn), args->xml, args->flags, &ref), &ref, r);
}

static int h_create_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_create_xml_args *args = a;
    TvDomainRef ref = { 0 };
    return take_dom(tv_qemu_driver_create_xml(DRV(conn), args->xml_desc, args->flags, &ref), &ref,
                    r);
}

static int h_create(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    TvDomainRef ref = { 0 };
    int rc = tv_qemu_driver_create(DRV(conn), uuid_of(&args->dom), 0, &ref);
    tv_domain_ref_clear(&ref);
    return rc < 0 ? -1 : 0;
}

static int h_create_with_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    TvDomainRef ref = { 0 };
    return take_dom(tv_qemu_driver_create(DRV(conn), uuid_of(&args->dom), args->flags, &ref), &ref,
                    r);
}

static int h_lookup_by_id(TvRemoteConn *conn, const void *a, void *r)
{
    TvDomainRef ref = { 0 };
    int id = ((const tvr_domain_lookup_by_id_args *)a)->id;
    return take_dom(tv_qemu_driver_lookup_by_id(DRV(conn), id, &ref), &ref, r);
}

static int h_lookup_by_name(TvRemoteConn *conn, const void *a, void *r)
{
    TvDomainRef ref = { 0 };
    const char *name = ((const tvr_domain_lookup_by_name_args *)a)->name;
    return take_dom(tv_qemu_driver_lookup_by_name(DRV(conn), name, &ref), &ref, r);
}

static int h_lookup_by_uuid(TvRemoteConn *conn, const void *a, void *r)
{
    TvDomainRef ref = { 0 };
    const char *uuid = ((const tvr_domain_lookup_by_uuid_args *)a)->uuid;
    return take_dom(tv_qemu_driver_lookup_by_uuid(DRV(conn), (const unsigned char *)uuid, &ref),
                    &ref, r);
}

static int h_get_xml_desc(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    if ((args->flags & TV_XML_SECURE) && tv_remote_conn_is_readonly(conn)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_DENIED,
                        "operation forbidden: read only access prevents the secure XML (flag 0x1)");
        return -1;
    }
    return take_string(tv_qemu_driver_get_xml(DRV(conn), uuid_of(&args->dom), args->flags),
                       &((tvr_domain_get_xml_desc_ret *)r)->xml);
}

static int h_get_info(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    tvr_domain_get_info_ret *ret = r;
    TvDomainInfo info = { 0 };
    if (tv_qemu_driver_get_info(DRV(conn), uuid_of(&args->dom), &info) < 0)
        return -1;
    ret->state = (unsigned)info.state;
    ret->max_mem = info.max_mem_kib;
    ret->memory = info.mem_kib;
    ret->nr_virt_cpu = info.vcpus;
    ret->cpu_time = info.cpu_time_ns;
    return 0;
}

static int h_get_state(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    tvr_domain_get_state_ret *ret = r;
    if (no_flags("DOMAIN_GET_STATE", args->flags) < 0)
        return -1;
    return tv_qemu_driver_get_state(DRV(conn), uuid_of(&args->dom), &ret->state, &ret->reason) < 0
               ? -1
               : 0;
}

/* Predicates answered as an int >= 0 by the driver. */
static int int_result(int rc, int *out)
{
    if (rc < 0)
        return -1;
    *out = rc;
    return 0;
}

static int h_is_active(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    return int_result(tv_qemu_driver_is_active(DRV(conn), uuid_of(&args->dom)),
                      &((tvr_domain_is_active_ret *)r)->active);
}

static int h_is_persistent(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    return int_result(tv_qemu_driver_is_persistent(DRV(conn), uuid_of(&args->dom)),
                      &((tvr_domain_is_persistent_ret *)r)->persistent);
}

static int h_get_autostart(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    return int_result(tv_qemu_driver_get_autostart(DRV(conn), uuid_of(&args->dom)),
                      &((tvr_domain_get_autostart_ret *)r)->autostart);
}

static int h_set_autostart(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_autostart_args *args = a;
    return tv_qemu_driver_set_autostart(DRV(conn), uuid_of(&args->dom), args->autostart != 0) < 0
               ? -1
               : 0;
}

/* Calls on one domain with flags and no result. */
typedef int (*DomainFlagsFunc)(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags);

static int domain_flags_call(TvRemoteConn *conn, const void *a, DomainFlagsFunc fn)
{
    const tvr_domain_flags_args *args = a;
    return fn(DRV(conn), uuid_of(&args->dom), args->flags) < 0 ? -1 : 0;
}

static int domain_call(TvRemoteConn *conn, const void *a, DomainFlagsFunc fn)
{
    const tvr_domain_args *args = a;
    return fn(DRV(conn), uuid_of(&args->dom), 0) < 0 ? -1 : 0;
}

static int h_destroy(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_call(conn, a, tv_qemu_driver_destroy);
}

static int h_destroy_flags(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_flags_call(conn, a, tv_qemu_driver_destroy);
}

static int h_shutdown(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_call(conn, a, tv_qemu_driver_shutdown);
}

static int h_shutdown_flags(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_flags_call(conn, a, tv_qemu_driver_shutdown);
}

static int h_reboot(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_flags_call(conn, a, tv_qemu_driver_reboot);
}

static int h_undefine(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_call(conn, a, tv_qemu_driver_undefine);
}

static int h_undefine_flags(TvRemoteConn *conn, const void *a, void *r)
{
    return domain_flags_call(conn, a, tv_qemu_driver_undefine);
}

static int h_suspend(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    return tv_qemu_driver_suspend(DRV(conn), uuid_of(&args->dom)) < 0 ? -1 : 0;
}

static int h_resume(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    return tv_qemu_driver_resume(DRV(conn), uuid_of(&args->dom)) < 0 ? -1 : 0;
}

static int h_get_job_info(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    tvr_domain_get_job_info_ret *ret = r;
    unsigned long long v[11] = { 0 };
    if (tv_qemu_driver_job_info(DRV(conn), uuid_of(&args->dom), 0, &ret->type, v) < 0)
        return -1;
    ret->time_elapsed = v[0];
    ret->time_remaining = v[1];
    ret->data_total = v[2];
    ret->data_processed = v[3];
    ret->data_remaining = v[4];
    ret->mem_total = v[5];
    ret->mem_processed = v[6];
    ret->mem_remaining = v[7];
    ret->file_total = v[8];
    ret->file_processed = v[9];
    ret->file_remaining = v[10];
    return 0;
}

/* libvirt's VIR_TYPED_PARAM_INT and _ULLONG */
enum {
    TYPED_PARAM_INT = 1,
    TYPED_PARAM_ULLONG = 4
};

static void job_param(tvr_typed_param *params, u_int *n, const char *field, int type,
                      unsigned long long value)
{
    tvr_typed_param *p = &params[(*n)++];
    p->field = g_strdup(field);
    p->value.type = type;
    if (type == TYPED_PARAM_INT)
        p->value.tvr_typed_param_value_u.i = (int)value;
    else
        p->value.tvr_typed_param_value_u.ul = value;
}

/* The job's figures as libvirt's job statistics (VIR_DOMAIN_JOB_*): the
 * operation, the times and amounts, the remaining time only for a bounded
 * job, migration figures when the job has them. */
static int h_get_job_stats(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    tvr_domain_get_job_stats_ret *ret = r;
    TvDomainJobStats st;
    if (tv_qemu_driver_job_stats(DRV(conn), uuid_of(&args->dom), args->flags, &st) < 0)
        return -1;
    ret->type = st.type;
    if (st.type == TV_JOB_NONE)
        return 0; /* libvirt's answer for no job: the type alone */
    const struct {
        const char *field;
        unsigned long long value;
        bool always;
    } fields[] = {
        { "time_elapsed", st.time_elapsed_ms, true },
        { "time_remaining", st.time_remaining_ms, st.type == TV_JOB_BOUNDED },
        { "downtime", st.downtime_ms, st.has_downtime },
        { "setup_time", st.setup_time_ms, st.setup_time_ms > 0 },
        { "data_total", st.data_total, true },
        { "data_processed", st.data_processed, true },
        { "data_remaining", st.data_remaining, true },
        { "memory_total", st.mem_total, true },
        { "memory_processed", st.mem_processed, true },
        { "memory_remaining", st.mem_remaining, true },
        { "memory_constant", st.mem_constant, st.mem_constant > 0 },
        { "memory_normal", st.mem_normal, st.mem_normal > 0 },
        { "memory_normal_bytes", st.mem_normal_bytes, st.mem_normal_bytes > 0 },
        { "memory_bps", st.mem_bps, st.mem_bps > 0 },
        { "memory_dirty_rate", st.mem_dirty_rate, st.mem_dirty_rate > 0 },
        { "memory_page_size", st.mem_page_size, st.mem_page_size > 0 },
        { "memory_iteration", st.mem_iteration, st.mem_iteration > 0 },
        { "disk_total", st.disk_total, true },
        { "disk_processed", st.disk_processed, true },
        { "disk_remaining", st.disk_remaining, true },
    };
    G_STATIC_ASSERT(G_N_ELEMENTS(fields) + 1 <= TVR_PARAMS_MAX);
    tvr_typed_param *params = g_new0(tvr_typed_param, G_N_ELEMENTS(fields) + 1);
    u_int n = 0;
    job_param(params, &n, "operation", TYPED_PARAM_INT, (unsigned long long)st.operation);
    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (fields[i].always)
            job_param(params, &n, fields[i].field, TYPED_PARAM_ULLONG, fields[i].value);
    }
    ret->params.tvr_params_val = params;
    ret->params.tvr_params_len = n;
    return 0;
}

static int h_abort_job(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_args *args = a;
    return tv_qemu_driver_abort_job(DRV(conn), uuid_of(&args->dom)) < 0 ? -1 : 0;
}

static int h_has_managed_save_image(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    return int_result(tv_qemu_driver_has_managed_save(DRV(conn), uuid_of(&args->dom), args->flags),
                      &((tvr_domain_has_managed_save_image_ret *)r)->result);
}

static int h_snapshot_num(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    return int_result(tv_qemu_driver_snapshot_num(DRV(conn), uuid_of(&args->dom), args->flags),
                      &((tvr_domain_snapshot_num_ret *)r)->num);
}

static int h_list_all_domains(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_list_all_domains_args *args = a;
    tvr_connect_list_all_domains_ret *ret = r;
    TvDomainRef *refs = NULL;
    size_t n = 0;
    if (tv_qemu_driver_list_all(DRV(conn), args->flags, &refs, &n) < 0)
        return -1;

    int rc = 0;
    if (n > TVR_DOMAIN_LIST_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC,
                        "%zu domains match, more than the %d one reply can carry", n,
                        TVR_DOMAIN_LIST_MAX);
        rc = -1;
    } else {
        ret->ret = (unsigned)n;
        if (args->need_results && n > 0) {
            ret->domains.domains_val = g_new0(tvr_nonnull_domain, n);
            ret->domains.domains_len = (u_int)n;
            for (size_t i = 0; i < n; i++)
                ref_to_wire(&refs[i], &ret->domains.domains_val[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        tv_domain_ref_clear(&refs[i]);
    g_free(refs);
    return rc;
}

static gboolean quick_get_xml_desc(TvRemote *remote, const void *a)
{
    size_t hint = tv_qemu_driver_xml_size_hint(remote->drv,
                                               uuid_of(&((const tvr_domain_flags_args *)a)->dom));
    return hint > 0 && hint <= INLINE_XML_MAX;
}

static gboolean quick_list_all_domains(TvRemote *remote, const void *a)
{
    return tv_qemu_driver_domain_count(remote->drv) <= INLINE_LIST_MAX;
}

/* the first lookup of the emulator's capabilities may probe QEMU (seconds) */
static gboolean quick_get_version(TvRemote *remote, const void *a)
{
    return tv_qemu_driver_hypervisor_version_known(remote->drv);
}

static const TvRemoteQuickEntry driver_quick_checks[] = {
    { TVR_PROC_CONNECT_GET_VERSION, quick_get_version },
    { TVR_PROC_DOMAIN_GET_XML_DESC, quick_get_xml_desc },
    { TVR_PROC_CONNECT_LIST_ALL_DOMAINS, quick_list_all_domains },
};

static const TvRemoteHandlerEntry driver_handlers[] = {
    { TVR_PROC_CONNECT_GET_VERSION, h_get_version },
    { TVR_PROC_CONNECT_GET_MAX_VCPUS, h_get_max_vcpus },
    { TVR_PROC_NODE_GET_INFO, h_node_get_info },
    { TVR_PROC_CONNECT_GET_CAPABILITIES, h_get_capabilities },
    { TVR_PROC_DOMAIN_CREATE, h_create },
    { TVR_PROC_DOMAIN_CREATE_XML, h_create_xml },
    { TVR_PROC_DOMAIN_DEFINE_XML, h_define_xml },
    { TVR_PROC_DOMAIN_DESTROY, h_destroy },
    { TVR_PROC_DOMAIN_GET_XML_DESC, h_get_xml_desc },
    { TVR_PROC_DOMAIN_GET_AUTOSTART, h_get_autostart },
    { TVR_PROC_DOMAIN_GET_INFO, h_get_info },
    { TVR_PROC_DOMAIN_LOOKUP_BY_ID, h_lookup_by_id },
    { TVR_PROC_DOMAIN_LOOKUP_BY_NAME, h_lookup_by_name },
    { TVR_PROC_DOMAIN_LOOKUP_BY_UUID, h_lookup_by_uuid },
    { TVR_PROC_DOMAIN_REBOOT, h_reboot },
    { TVR_PROC_DOMAIN_RESUME, h_resume },
    { TVR_PROC_DOMAIN_SET_AUTOSTART, h_set_autostart },
    { TVR_PROC_DOMAIN_SHUTDOWN, h_shutdown },
    { TVR_PROC_DOMAIN_SUSPEND, h_suspend },
    { TVR_PROC_DOMAIN_UNDEFINE, h_undefine },
    { TVR_PROC_DOMAIN_IS_ACTIVE, h_is_active },
    { TVR_PROC_DOMAIN_IS_PERSISTENT, h_is_persistent },
    { TVR_PROC_DOMAIN_GET_JOB_INFO, h_get_job_info },
    { TVR_PROC_DOMAIN_ABORT_JOB, h_abort_job },
    { TVR_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, h_has_managed_save_image },
    { TVR_PROC_DOMAIN_SNAPSHOT_NUM, h_snapshot_num },
    { TVR_PROC_DOMAIN_CREATE_WITH_FLAGS, h_create_with_flags },
    { TVR_PROC_DOMAIN_GET_STATE, h_get_state },
    { TVR_PROC_DOMAIN_UNDEFINE_FLAGS, h_undefine_flags },
    { TVR_PROC_DOMAIN_DESTROY_FLAGS, h_destroy_flags },
    { TVR_PROC_DOMAIN_SHUTDOWN_FLAGS, h_shutdown_flags },
    { TVR_PROC_CONNECT_LIST_ALL_DOMAINS, h_list_all_domains },
    { TVR_PROC_DOMAIN_GET_JOB_STATS, h_get_job_stats },
    { TVR_PROC_CONNECT_GET_DOMAIN_CAPABILITIES, h_get_domain_capabilities },
    { TVR_PROC_DOMAIN_DEFINE_XML_FLAGS, h_define_xml_flags },
};

void tv_remote_register_driver_handlers(TvRemote *remote)
{
    g_return_if_fail(remote->drv != NULL);
    tv_remote_add_handlers(remote, driver_handlers, G_N_ELEMENTS(driver_handlers));
    tv_remote_add_quick_checks(remote, driver_quick_checks, G_N_ELEMENTS(driver_quick_checks));
    tv_remote_register_console_handlers(remote);
    tv_remote_register_device_handlers(remote);
    tv_remote_register_save_handlers(remote);
    tv_remote_register_stats_handlers(remote);
    tv_remote_register_agent_handlers(remote);
    tv_remote_register_host_handlers(remote);
    tv_remote_register_tune_handlers(remote);
    tv_remote_register_migrate_handlers(remote);
}
