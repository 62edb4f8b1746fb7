/* The queries that only read a domain: lookups, list, state, info, XML,
 * job information.  The objects and maps are in qemu_driver_objects.c. */
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Lookups: fill *out from a map hit, or report NO_DOMAIN. */
static int ref_from(TvDriverDomain *dom, TvDomainRef *out)
{
    g_mutex_lock(&dom->lock);
    tv_driver_domain_ref_fill(dom, out);
    g_mutex_unlock(&dom->lock);
    return 0;
}

int tv_qemu_driver_lookup_by_name(TvQemuDriver *drv, const char *name, TvDomainRef *out)
{
    g_mutex_lock(&drv->lock);
    TvDriverDomain *dom = name ? g_hash_table_lookup(drv->by_name, name) : NULL;
    int rc = dom ? ref_from(dom, out) : -1;
    g_mutex_unlock(&drv->lock);
    if (rc < 0)
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain not found: no domain with matching name '%s'", name ? name : "");
    return rc;
}

int tv_qemu_driver_lookup_by_uuid(TvQemuDriver *drv, const unsigned char *uuid, TvDomainRef *out)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    return dom ? ref_from(dom, out) : -1;
}

int tv_qemu_driver_lookup_by_id(TvQemuDriver *drv, int id, TvDomainRef *out)
{
    g_mutex_lock(&drv->lock);
    TvDriverDomain *dom = g_hash_table_lookup(drv->by_id, GINT_TO_POINTER(id));
    int rc = dom ? ref_from(dom, out) : -1;
    g_mutex_unlock(&drv->lock);
    if (rc < 0)
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain not found: no domain with matching id %d", id);
    return rc;
}

/* libvirt's filter groups beyond the header's: a group with no bit set does
 * not filter; tagvirt domains have no snapshot or checkpoint. */
enum {
    LIST_OTHER = 128,
    LIST_MANAGEDSAVE = 256,
    LIST_NO_MANAGEDSAVE = 512,
    LIST_AUTOSTART = 1024,
    LIST_NO_AUTOSTART = 2048,
    LIST_SNAPSHOT = 4096,
    LIST_NO_SNAPSHOT = 8192,
    LIST_CHECKPOINT = 16384,
    LIST_NO_CHECKPOINT = 32768,
};

/* Is bit 'yes' or 'no' of a two-way group asked for, given the answer? */
static bool group_match(unsigned flags, unsigned yes, unsigned no, bool answer)
{
    return !(flags & (yes | no)) || (flags & (answer ? yes : no));
}

bool tv_driver_list_match(TvQemuDriver *drv, TvDriverDomain *dom, unsigned flags)
{
    bool active = dom->run != NULL;
    if (!group_match(flags, TV_LIST_ACTIVE, TV_LIST_INACTIVE, active) ||
        !group_match(flags, TV_LIST_PERSISTENT, TV_LIST_TRANSIENT, dom->def != NULL) ||
        !group_match(flags, LIST_MANAGEDSAVE, LIST_NO_MANAGEDSAVE,
                     (flags & (LIST_MANAGEDSAVE | LIST_NO_MANAGEDSAVE)) &&
                         tv_driver_has_managed_save(drv, dom->name)) ||
        !group_match(flags, LIST_AUTOSTART, LIST_NO_AUTOSTART, dom->autostart) ||
        !group_match(flags, LIST_SNAPSHOT, LIST_NO_SNAPSHOT, false) ||
        !group_match(flags, LIST_CHECKPOINT, LIST_NO_CHECKPOINT, false))
        return false;
    unsigned states = TV_LIST_RUNNING | TV_LIST_PAUSED | TV_LIST_SHUTOFF | LIST_OTHER;
    if (flags & states) {
        int state = active ? dom->run->state : TV_DOMAIN_STATE_SHUTOFF;
        unsigned bit = state == TV_DOMAIN_STATE_RUNNING   ? TV_LIST_RUNNING
                       : state == TV_DOMAIN_STATE_PAUSED  ? TV_LIST_PAUSED
                       : state == TV_DOMAIN_STATE_SHUTOFF ? TV_LIST_SHUTOFF
                                                          : LIST_OTHER;
        if (!(flags & bit))
            return false;
    }
    return true;
}

static int compare_refs(gconstpointer a, gconstpointer b)
{
    return strcmp(((const TvDomainRef *)a)->name, ((const TvDomainRef *)b)->name);
}

int tv_qemu_driver_list_all(TvQemuDriver *drv, unsigned flags, TvDomainRef **out, size_t *n)
{
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(TvDomainRef));
    g_mutex_lock(&drv->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->by_uuid);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        TvDriverDomain *dom = value;
        g_mutex_lock(&dom->lock);
        if (tv_driver_list_match(drv, dom, flags)) {
            TvDomainRef ref = { 0 };
            tv_driver_domain_ref_fill(dom, &ref);
            g_array_append_val(refs, ref);
        }
        g_mutex_unlock(&dom->lock);
    }
    g_mutex_unlock(&drv->lock);
    g_array_sort(refs, compare_refs);
    *n = refs->len;
    *out = (TvDomainRef *)g_array_free(refs, FALSE);
    return 0;
}

int tv_qemu_driver_get_state(TvQemuDriver *drv, const unsigned char *uuid, int *state, int *reason)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    if (dom->run) {
        *state = dom->run->state;
        *reason = dom->run->reason;
    } else {
        *state = TV_DOMAIN_STATE_SHUTOFF;
        *reason = dom->shutoff_reason;
    }
    g_mutex_unlock(&dom->lock);
    return 0;
}

bool tv_driver_process_cpu(pid_t pid, unsigned long long *user_ns, unsigned long long *system_ns)
{
    char path[64], buf[1024];
    g_snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long utime = 0, stime = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return false;
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long tick = 1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100);
    *user_ns = utime * tick;
    *system_ns = stime * tick;
    return true;
}

int tv_qemu_driver_get_info(TvQemuDriver *drv, const unsigned char *uuid, TvDomainInfo *info)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    pid_t pid = 0;
    g_mutex_lock(&dom->lock);
    info->state = dom->run ? dom->run->state : TV_DOMAIN_STATE_SHUTOFF;
    if (dom->run && dom->run->proc && !dom->run->exited)
        pid = tv_qemu_process_pid(dom->run->proc);
    g_mutex_unlock(&dom->lock);
    /* what runs (the live definition: a config change does not show until
     * the next start), else the persistent definition; vCPUs present */
    tv_driver_domain_facts(dom, &info->max_mem_kib, &info->mem_kib, &info->vcpus);
    unsigned long long user = 0, sys = 0;
    info->cpu_time_ns = pid > 0 && tv_driver_process_cpu(pid, &user, &sys) ? user + sys : 0;
    return 0;
}

#define XML_KNOWN_FLAGS (TV_XML_SECURE | TV_XML_INACTIVE | TV_XML_UPDATE_CPU | TV_XML_MIGRATABLE)

char *tv_qemu_driver_get_xml(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags & ~XML_KNOWN_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "XML description flags 0x%x are not supported; accepted: 0x%x", flags,
                        XML_KNOWN_FLAGS);
        return NULL;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return NULL;
    /* SECURE: no secrets exist in tagvirt's XML; UPDATE_CPU: <cpu> is
     * written as the user gave it, there is nothing to update */
    /* formatting a large definition takes a while: never under dom->lock, which
     * quick queries (state, info, list) take on the daemon's reading thread */
    TvDriverRun *run = NULL;
    const TvDomainDef *inactive = NULL;
    char *xml = NULL;
    g_mutex_lock(&dom->lock);
    const TvDomainDef *starting = dom->starting ? dom->starting->def : NULL;
    if (dom->removed || (!dom->run && !dom->def && !starting)) {
        /* undefined, or a transient domain that stopped, since the lookup */
        g_mutex_unlock(&dom->lock);
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain not found: domain '%s' went away meanwhile", dom->name);
        return NULL;
    }
    bool live = dom->run && !(flags & TV_XML_INACTIVE);
    if (live) {
        run = dom->run;
        g_atomic_int_inc(&run->refs);
    } else if (dom->def) {
        inactive = dom->def; /* freed only by tv_driver_domain_def_retire() */
        g_rw_lock_reader_lock(&dom->def_lock);
    } else if (dom->run && dom->run->def) {
        run = dom->run; /* a run's def, once set, lives as long as the run */
        g_atomic_int_inc(&run->refs);
    } else if (starting) { /* a transient domain while it starts */
        run = dom->starting;
        g_atomic_int_inc(&run->refs);
    }
    g_mutex_unlock(&dom->lock);
    if (inactive) {
        xml = tv_domain_def_format(inactive, TV_DOMAIN_FORMAT_INACTIVE);
        g_rw_lock_reader_unlock(&dom->def_lock);
    } else if (run && !live) {
        xml = tv_domain_def_format(run->def, TV_DOMAIN_FORMAT_INACTIVE);
        tv_driver_run_unref(run);
    } else if (run) {
        unsigned fmt =
            (flags & TV_XML_MIGRATABLE) ? TV_DOMAIN_FORMAT_MIGRATABLE : TV_DOMAIN_FORMAT_LIVE;
        xml = run->proc ? tv_qemu_process_format_xml(run->proc, fmt)
                        : tv_domain_def_format(run->def, fmt);
        tv_driver_run_unref(run);
    }
    if (!xml && !tv_error_last())
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "domain '%s' has no definition to format", dom->name);
    if (xml) {
        gint len = (gint)MIN(strlen(xml), (size_t)G_MAXINT);
        gint old;
        do
            old = g_atomic_int_get(&dom->xml_size);
        while (len > old && !g_atomic_int_compare_and_exchange(&dom->xml_size, old, len));
    }
    return xml;
}

size_t tv_qemu_driver_xml_size_hint(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvDriverDomain *dom = g_hash_table_lookup(drv->by_uuid, uuid);
    size_t size = dom ? (size_t)g_atomic_int_get(&dom->xml_size) : 0;
    g_mutex_unlock(&drv->lock);
    return size;
}

size_t tv_qemu_driver_domain_count(TvQemuDriver *drv)
{
    g_mutex_lock(&drv->lock);
    size_t n = g_hash_table_size(drv->by_uuid);
    g_mutex_unlock(&drv->lock);
    return n;
}

int tv_qemu_driver_is_active(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    int active = dom->run != NULL;
    g_mutex_unlock(&dom->lock);
    return active;
}

int tv_qemu_driver_is_persistent(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    int persistent = dom->def != NULL;
    g_mutex_unlock(&dom->lock);
    return persistent;
}

#define JOB_STATS_KNOWN_FLAGS (TV_JOB_STATS_COMPLETED | TV_JOB_STATS_KEEP_COMPLETED)

int tv_qemu_driver_job_stats(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                             TvDomainJobStats *out)
{
    if (flags & ~JOB_STATS_KNOWN_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "job stats flags 0x%x are not supported; accepted: 0x1 (completed), "
                        "0x2 (keep completed)",
                        flags);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    /* the async job's owner keeps its figures up to date (qemu_driver_job.h):
     * no QEMU is asked here, so this never waits for a job */
    tv_driver_job_stats(dom, flags, out);
    return 0;
}

int tv_qemu_driver_job_info(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags, int *type,
                            unsigned long long values[11])
{
    TvDomainJobStats st;
    if (tv_qemu_driver_job_stats(drv, uuid, flags, &st) < 0)
        return -1;
    *type = st.type;
    unsigned long long v[11] = {
        st.time_elapsed_ms, st.time_remaining_ms, st.data_total,     st.data_processed,
        st.data_remaining,  st.mem_total,         st.mem_processed,  st.mem_remaining,
        st.disk_total,      st.disk_processed,    st.disk_remaining,
    };
    memcpy(values, v, sizeof(v));
    return 0;
}

int tv_qemu_driver_abort_job(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    bool active = dom->run != NULL || dom->job.async != TV_JOB_ASYNC_NONE;
    g_mutex_unlock(&dom->lock);
    if (!active) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
        return -1;
    }
    return tv_driver_job_abort(dom);
}

/* libvirt's DOMAIN_SNAPSHOT_LIST_* filters, 0x1 (roots) to 0x400
 * (topological): with no snapshots every filter counts 0. */
#define SNAPSHOT_LIST_KNOWN_FLAGS 0x7ffu

int tv_qemu_driver_snapshot_num(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags & ~SNAPSHOT_LIST_KNOWN_FLAGS) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "snapshot list flags 0x%x are not supported; accepted: 0x%x", flags,
                        SNAPSHOT_LIST_KNOWN_FLAGS);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    return dom ? 0 : -1;
}

int tv_qemu_driver_snapshot_lookup(TvQemuDriver *drv, const unsigned char *uuid, const char *name,
                                   unsigned flags)
{
    if (tv_qemu_driver_snapshot_num(drv, uuid, flags) < 0)
        return -1;
    tv_error_report(TV_FROM_DOMAIN_SNAPSHOT, TV_ERR_NO_DOMAIN_SNAPSHOT,
                    "Domain snapshot not found: no domain snapshot with matching name '%s' "
                    "(tagvirtd keeps no snapshots)",
                    name);
    return -1;
}

int tv_qemu_driver_snapshot_current(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (tv_qemu_driver_snapshot_num(drv, uuid, flags) < 0)
        return -1;
    tv_error_report(TV_FROM_DOMAIN_SNAPSHOT, TV_ERR_NO_DOMAIN_SNAPSHOT,
                    "the domain does not have a current snapshot");
    return -1;
}

int tv_qemu_driver_snapshot_create(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                   unsigned flags)
{
    (void)xml;
    (void)flags;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                    "snapshots are not supported by tagvirtd: domain '%s' cannot take one "
                    "(save, managed save and migration keep a guest's state)",
                    dom->name);
    return -1;
}
