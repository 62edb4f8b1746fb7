/* TLS for QEMU's own migration stream (VIR_MIGRATE_TLS, docs/migration.rst
 * "TLS for the migration stream"): a tls-creds-x509 object read from the
 * host's migration certificate folder (libvirt's file names), named in the
 * migration parameters tls-creds (and tls-hostname on the source), removed
 * again when the migration ends.  QEMU runs as its own user: the files it
 * reads are given to that user for the object-add only, through the DAC
 * record (so a crash in between still gives them back), and given back as
 * soon as QEMU has loaded them. */
#include "qemu_process_priv.h"
#include "qemu_security_dac.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_OBJECT_ID "tagvirt_migrate_tls0"

/* The files QEMU reads for each end; the optional ones are read when there. */
static const char *const server_files[] = { "ca-cert.pem", "server-cert.pem", "server-key.pem",
                                            NULL };
static const char *const client_files[] = { "ca-cert.pem", "client-cert.pem", "client-key.pem",
                                            NULL };
static const char *const optional_files[] = { "ca-crl.pem", "dh-params.pem", NULL };

static const char *const *needed(const TvQemuMigrationTls *tls)
{
    return tls->server ? server_files : client_files;
}

int tv_qemu_migration_tls_check(const TvQemuMigrationTls *tls)
{
    const char *end = tls->server ? "destination" : "source";
    if (!tls->dir || !*tls->dir) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "migration with TLS (VIR_MIGRATE_TLS): no certificate folder is "
                        "configured on the %s (migrate_tls_x509_cert_dir)",
                        end);
        return -1;
    }
    for (const char *const *f = needed(tls); *f; f++) {
        g_autofree char *path = g_build_filename(tls->dir, *f, NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        int err = fd < 0 ? errno : fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
        if (fd >= 0)
            close(fd);
        if (err) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_SYSTEM_ERROR,
                            "migration with TLS (VIR_MIGRATE_TLS): the %s cannot read '%s': %s "
                            "(migrate_tls_x509_cert_dir needs %s, %s and %s)",
                            end, path, err == EISDIR ? "not a regular file" : g_strerror(err),
                            needed(tls)[0], needed(tls)[1], needed(tls)[2]);
            return -1;
        }
    }
    return 0;
}

/* The files of the folder QEMU will read, as paths. */
static GPtrArray *tls_paths(const TvQemuMigrationTls *tls)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    for (const char *const *f = needed(tls); *f; f++)
        g_ptr_array_add(paths, g_build_filename(tls->dir, *f, NULL));
    for (const char *const *f = optional_files; *f; f++) {
        char *path = g_build_filename(tls->dir, *f, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(paths, path);
        else
            g_free(path);
    }
    return paths;
}

static void give_back(TvQemuProcess *proc, GPtrArray *paths, guint n)
{
    for (guint i = 0; i < n; i++)
        tv_qemu_security_dac_restore_remove(proc->dac_path, g_ptr_array_index(paths, i));
}

static int object_add(TvQemuMonitor *mon, void *opaque)
{
    const TvQemuMigrationTls *tls = opaque;
    /* a stale one (a migration that ended without its clean-up) goes first */
    g_autoptr(TvError) ignored = NULL;
    if (tv_qemu_monitor_object_del(mon, TLS_OBJECT_ID) < 0)
        ignored = tv_error_steal();
    /* the client end always checks the server's certificate (QEMU's
     * endpoint=client with verify-peer); the server end as configured */
    TvQmpProp props[] = {
        TV_QMP_PROP_STR("dir", tls->dir),
        TV_QMP_PROP_STR("endpoint", tls->server ? "server" : "client"),
        TV_QMP_PROP_BOOL("verify-peer", tls->server ? tls->verify : true),
    };
    return tv_qemu_monitor_object_add(mon, "tls-creds-x509", TLS_OBJECT_ID, props,
                                      G_N_ELEMENTS(props));
}

static int params_set(TvQemuMonitor *mon, void *opaque)
{
    const TvQmpMigrationParams *p = opaque;
    return tv_qemu_monitor_migrate_set_parameters(mon, p);
}

int tv_qemu_process_migration_tls_enable(TvQemuProcess *proc, const TvQemuMigrationTls *tls)
{
    if (tv_qemu_migration_tls_check(tls) < 0)
        return -1;
    g_autoptr(GPtrArray) paths = tls_paths(tls);
    guint labelled = 0;
    int rc = 0;
    if (tv_qemu_security_changes_user(tls->security)) {
        for (; labelled < paths->len && rc == 0; labelled++)
            rc = tv_qemu_security_dac_label_add(tls->security, proc->dac_path,
                                                g_ptr_array_index(paths, labelled));
        if (rc < 0)
            labelled--; /* the failed one was not labelled */
    }
    if (rc == 0)
        rc = tv_qemu_process_with_monitor(proc, object_add, (void *)tls);
    /* QEMU has read them (or failed to): back to their owner at once */
    give_back(proc, paths, labelled);
    if (rc < 0) {
        tv_error_prefix("migration with TLS: QEMU could not load the certificates of '%s' "
                        "(migrate_tls_x509_cert_dir)",
                        tls->dir);
        return -1;
    }
    TvQmpMigrationParams p = { .tls_creds = (char *)TLS_OBJECT_ID,
                               .tls_hostname = (char *)(tls->hostname ? tls->hostname : "") };
    if (tv_qemu_process_with_monitor(proc, params_set, &p) < 0) {
        TvError *err = tv_error_steal();
        tv_qemu_process_migration_tls_disable(proc);
        tv_error_restore(err);
        return -1;
    }
    tv_qemu_process_log_line(proc->log_path, "migration TLS credentials '%s' (%s end) from %s",
                             TLS_OBJECT_ID, tls->server ? "server" : "client", tls->dir);
    return 0;
}

static int remove_all(TvQemuMonitor *mon, void *opaque)
{
    (void)opaque;
    TvQmpMigrationParams off = { .tls_creds = (char *)"", .tls_hostname = (char *)"" };
    int rc = tv_qemu_monitor_migrate_set_parameters(mon, &off);
    TvError *err = rc < 0 ? tv_error_steal() : NULL;
    if (tv_qemu_monitor_object_del(mon, TLS_OBJECT_ID) < 0) {
        tv_error_free(err);
        return -1;
    }
    tv_error_restore(err);
    return rc;
}

void tv_qemu_process_migration_tls_disable(TvQemuProcess *proc)
{
    TvError *saved = tv_error_steal();
    if (!tv_qemu_process_is_active(proc)) {
        tv_error_restore(saved);
        return; /* a QEMU that is gone holds nothing */
    }
    if (tv_qemu_process_with_monitor(proc, remove_all, NULL) < 0) {
        g_message("domain '%s': cannot remove the migration TLS credentials from QEMU: %s",
                  proc->name, tv_error_message());
        tv_error_reset();
    } else {
        tv_qemu_process_log_line(proc->log_path, "migration TLS credentials removed");
    }
    tv_error_restore(saved);
}
