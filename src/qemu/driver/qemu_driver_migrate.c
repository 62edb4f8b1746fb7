/* Migration v3 with parameters, the checks (docs/migration.rst): Begin on
 * the source (the migratable definition and the cookie with the recorded
 * guest ABI), Prepare on the destination (the definition against this
 * host's capabilities, the definition ABI, the recorded guest ABI against
 * this host's probe) up to the incoming QEMU (qemu_driver_migrate_in.c).
 * Nothing here changes the source guest: Begin only reads it.  Perform and
 * Confirm: qemu_driver_migrate_out.c. */
#include "domain_abi_check.h"
#include "domain_migration_cookie.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

/* A copy of the running definition with its recorded ABI (status format
 * keeps <guestabi> and the MTE fields), or NULL with an error. */
static TvDomainDef *running_def(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    TvDriverRun *run = dom->run;
    if (run && run->proc)
        g_atomic_int_inc(&run->refs);
    else
        run = NULL;
    g_mutex_unlock(&dom->lock);
    if (!run) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "domain '%s' is not running: only a running guest migrates here "
                        "(offline migration is not supported)",
                        dom->name);
        return NULL;
    }
    g_autofree char *xml = tv_qemu_process_format_xml(run->proc, TV_DOMAIN_FORMAT_STATUS);
    tv_driver_run_unref(run);
    if (!xml)
        return NULL;
    return tv_domain_def_parse(xml, strlen(xml), TV_DOMAIN_PARSE_STATUS);
}

static int check_flags(unsigned flags)
{
    static const struct {
        unsigned flag;
        const char *name;
    } refused[] = {
        { TV_MIGRATE_TUNNELLED, "tunnelled (VIR_MIGRATE_TUNNELLED)" },
        { TV_MIGRATE_NON_SHARED_DISK, "copying disks (VIR_MIGRATE_NON_SHARED_DISK)" },
        { TV_MIGRATE_NON_SHARED_INC, "copying disks (VIR_MIGRATE_NON_SHARED_INC)" },
        { TV_MIGRATE_OFFLINE, "offline (VIR_MIGRATE_OFFLINE)" },
        { TV_MIGRATE_RDMA_PIN_ALL, "RDMA (VIR_MIGRATE_RDMA_PIN_ALL)" },
        { TV_MIGRATE_PARALLEL, "parallel connections (VIR_MIGRATE_PARALLEL)" },
        { TV_MIGRATE_POSTCOPY, "post-copy (VIR_MIGRATE_POSTCOPY)" },
        { TV_MIGRATE_POSTCOPY_RESUME, "post-copy (VIR_MIGRATE_POSTCOPY_RESUME)" },
        { TV_MIGRATE_ZEROCOPY, "zero-copy (VIR_MIGRATE_ZEROCOPY)" },
        { TV_MIGRATE_COMPRESSED, "compression (VIR_MIGRATE_COMPRESSED)" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++)
        if (flags & refused[i].flag) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                            "migration: %s is not supported by tagvirt", refused[i].name);
            return -1;
        }
    if (flags & ~TV_MIGRATE_KNOWN) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration flags 0x%x are not supported; accepted: 0x%x",
                        flags & ~TV_MIGRATE_KNOWN, TV_MIGRATE_KNOWN);
        return -1;
    }
    return 0;
}

void tv_driver_migrate_tls(TvQemuDriver *drv, bool server, const char *hostname,
                           TvQemuMigrationTls *tls)
{
    *tls = (TvQemuMigrationTls){ .dir = drv->migrate_tls_dir,
                                 .server = server,
                                 .verify = drv->migrate_tls_verify,
                                 .hostname = hostname,
                                 .security = drv->security };
}

/* VIR_MIGRATE_TLS: this end's certificate files are there and readable. */
static int check_tls_files(TvQemuDriver *drv, unsigned flags, bool server)
{
    if (!(flags & TV_MIGRATE_TLS))
        return 0;
    TvQemuMigrationTls tls;
    tv_driver_migrate_tls(drv, server, NULL, &tls);
    return tv_qemu_migration_tls_check(&tls);
}

int tv_qemu_driver_migrate_begin(TvQemuDriver *drv, const unsigned char *uuid,
                                 const TvMigrateParams *params, unsigned flags, char **xml_out,
                                 char **cookie_out)
{
    *xml_out = *cookie_out = NULL;
    if (check_flags(flags) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_migrate_check_idle(dom) < 0 || check_tls_files(drv, flags, false) < 0)
        return -1;
    g_autoptr(TvDomainDef) live = running_def(dom);
    if (!live || tv_domain_tpm_refuse_transfer(live, "migration") < 0)
        return -1;
    bool mte = live->features.mte.level >= TV_MTE_LEVEL_MIN;
    if (live->virt_type == TV_VIRT_KVM && mte) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "migration of domain '%s' refused: a KVM guest with MTE cannot migrate "
                        "(QEMU 9.2 and later add a migration blocker: the kernel gives no way to "
                        "save and restore the tags of guest memory under KVM)",
                        dom->name);
        return -1;
    }
    if (!live->guest_abi.valid) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "migration of domain '%s' refused: no guest ABI was recorded when it "
                        "started (the capabilities probe has nothing for CPU model '%s' with "
                        "this accelerator), so the destination could not check it",
                        dom->name, live->cpu.model ? live->cpu.model : "(default)");
        return -1;
    }
    g_autofree char *xml = NULL;
    if (params->dest_xml) {
        g_autoptr(TvDomainDef) dst =
            tv_domain_def_parse(params->dest_xml, strlen(params->dest_xml), 0);
        if (!dst) {
            tv_error_prefix("migration: destination_xml");
            return -1;
        }
        if (params->dest_name) {
            g_free(dst->name);
            dst->name = g_strdup(params->dest_name);
            g_free(live->name);
            live->name = g_strdup(params->dest_name);
        }
        if (!tv_domain_def_check_abi_stability(live, dst))
            return -1;
        xml = g_strdup(params->dest_xml);
    } else {
        xml = tv_domain_def_format(live, TV_DOMAIN_FORMAT_MIGRATABLE);
    }
    TvMigrationCookie cookie = { .name = live->name };
    memcpy(cookie.uuid, live->uuid, sizeof(cookie.uuid));
    cookie.abi = live->guest_abi;
    *cookie_out = tv_migration_cookie_format(&cookie);
    *xml_out = g_steal_pointer(&xml);
    return 0;
}

/* Is this the same guest the cookie describes? */
static int check_cookie_guest(const TvMigrationCookie *c, const TvDomainDef *def,
                              const char *dest_name)
{
    if (memcmp(c->uuid, def->uuid, TV_UUID_LEN) != 0) {
        char a[TV_UUID_STRLEN + 1], b[TV_UUID_STRLEN + 1];
        tv_uuid_format(c->uuid, a);
        tv_uuid_format(def->uuid, b);
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration cookie is from another guest: uuid '%s', the definition's "
                        "'%s'",
                        a, b);
        return -1;
    }
    if (!dest_name && strcmp(c->name, def->name) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration cookie is from another guest: name '%s', the definition's "
                        "'%s'",
                        c->name, def->name);
        return -1;
    }
    return 0;
}

/* Nothing of that name or uuid may run here; a persistent definition of the
 * same guest (same name and uuid) may exist, as with libvirt. */
static int check_destination_free(TvQemuDriver *drv, const TvDomainDef *def)
{
    g_mutex_lock(&drv->lock);
    TvDriverDomain *by_uuid = g_hash_table_lookup(drv->by_uuid, def->uuid);
    TvDriverDomain *by_name = g_hash_table_lookup(drv->by_name, def->name);
    if (by_uuid)
        tv_driver_domain_ref(by_uuid);
    if (by_name)
        tv_driver_domain_ref(by_name);
    g_mutex_unlock(&drv->lock);
    int rc = 0;
    if (by_name && by_name != by_uuid) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "migration refused by the destination: a different domain named '%s' "
                        "exists here",
                        def->name);
        rc = -1;
    } else if (by_uuid && strcmp(by_uuid->name, def->name) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "migration refused by the destination: domain '%s' has this uuid here",
                        by_uuid->name);
        rc = -1;
    } else if (by_uuid) {
        g_mutex_lock(&by_uuid->lock);
        bool active = tv_driver_domain_active_locked(by_uuid);
        g_mutex_unlock(&by_uuid->lock);
        if (active) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                            "migration refused by the destination: domain '%s' is already "
                            "running here",
                            def->name);
            rc = -1;
        }
    }
    if (by_uuid)
        tv_driver_domain_unref(by_uuid);
    if (by_name)
        tv_driver_domain_unref(by_name);
    return rc;
}

int tv_driver_check_guest_abi_here(TvQemuDriver *drv, const TvDomainDef *def, TvQemuCaps *caps,
                                   const TvDomainGuestAbi *record, const char *refused,
                                   const char *src_label, const char *dst_label)
{
    g_autoptr(TvDomainDef) resolved = tv_domain_def_copy(def);
    TvQemuMtePlan plan = { 0 };
    if (!resolved || tv_qemu_domain_resolve(resolved, caps, drv->host, &plan) < 0) {
        tv_error_prefix("%s", refused);
        return -1;
    }
    if (!tv_domain_mte_check_abi_stability(&def->features.mte, &resolved->features.mte))
        return -1;
    if (!resolved->guest_abi.valid) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "guest ABI: the %s's probe of %s has nothing for CPU model "
                        "'%s' with accelerator '%s'",
                        dst_label, caps->binary, record->cpu_model, record->accel);
        return -1;
    }
    if (!tv_domain_guest_abi_check(record, &resolved->guest_abi, src_label, dst_label)) {
        const TvError *e = tv_error_last();
        g_autofree char *msg = g_strdup(e ? e->message : "guest ABI differs");
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED, "%s (%s %s; %s %s with %s)", msg,
                        src_label, record->emulator ? record->emulator : "emulator unknown",
                        dst_label, resolved->guest_abi.emulator, caps->binary);
        return -1;
    }
    return 0;
}

int tv_qemu_driver_migrate_prepare(TvQemuDriver *drv, const TvMigrateParams *params,
                                   const char *cookie_in, size_t cookie_len, unsigned flags,
                                   char **cookie_out, char **uri_out)
{
    *cookie_out = *uri_out = NULL;
    if (check_flags(flags) < 0)
        return -1;
    if (check_tls_files(drv, flags, true) < 0) {
        tv_error_prefix("migration refused by the destination");
        return -1;
    }
    if (!params->dest_xml) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration: the destination_xml parameter is required by Prepare");
        return -1;
    }
    g_auto(TvMigrationCookie) cookie = { 0 };
    if (tv_migration_cookie_parse(cookie_in, cookie_len, &cookie) < 0)
        return -1;

    /* the definition against this host: post-parse, validation (the MTE
     * level must be available here by one of its two routes) */
    g_autoptr(TvQemuCaps) caps = NULL;
    g_autoptr(TvDomainDef) def =
        tv_qemu_domain_load(&drv->pipe, params->dest_xml, strlen(params->dest_xml), 0, &caps);
    if (!def) {
        tv_error_prefix("migration refused by the destination");
        return -1;
    }
    if (check_cookie_guest(&cookie, def, params->dest_name) < 0)
        return -1;
    if (params->dest_name) {
        g_free(def->name);
        def->name = g_strdup(params->dest_name);
    }
    if (check_destination_free(drv, def) < 0)
        return -1;

    /* what the guest would see here, against what it sees on the source */
    if (tv_driver_check_guest_abi_here(drv, def, caps, &cookie.abi,
                                       "migration refused by the destination", "source",
                                       "destination") < 0)
        return -1;

    /* every check passed: the incoming QEMU (qemu_driver_migrate_in.c) */
    return tv_driver_migrate_incoming(drv, g_steal_pointer(&def), params, flags, uri_out);
}
