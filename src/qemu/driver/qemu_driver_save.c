/* Save, managed save and restore (docs/migration.rst, "Save and restore").
 *
 * Save: in the domain's SAVE job, the guest is paused, tagvirtd creates the
 * image (a temporary name next to it) and writes its head (domain_save_image.h:
 * the migratable definition and the recorded guest ABI), QEMU writes its
 * migration stream into the same file through a descriptor tagvirtd hands
 * it (QEMU runs as another user in its own mount namespace: it never opens
 * the path), then the header gets the stream's length, the file is flushed
 * and renamed, and only then is QEMU ended (shut off, reason saved).  Any
 * failure before that removes the temporary file and runs the guest again
 * as it was.
 *
 * Restore: the image is read and checked, its definition (or the caller's,
 * through the definition ABI check) goes through this host's post-parse and
 * validation, the guest ABI this host would give is compared with the
 * image's record (the checks of a migration's Prepare), and only then a QEMU
 * starts paused and reads the stream from a descriptor.  A refused or failed
 * restore leaves no QEMU and the image untouched. */
#include "domain_abi_check.h"
#include "domain_save_image.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libvirt's VIR_DOMAIN_SAVE_* (also the restore and image-define flags) */
enum {
    SAVE_BYPASS_CACHE = 1,
    SAVE_RUNNING = 2,
    SAVE_PAUSED = 4,
    SAVE_RESET_NVRAM = 8,
};
#define SAVE_KNOWN (SAVE_BYPASS_CACHE | SAVE_RUNNING | SAVE_PAUSED)

/* libvirt's VIR_DOMAIN_SAVE_IMAGE_XML_SECURE and VIR_DOMAIN_EVENT_STARTED_RESTORED */
#define IMAGE_XML_SECURE 1
#define STARTED_RESTORED 2

/* How often the save job asks QEMU how far it is. */
#define SAVE_POLL_MS 50
/* QEMU's default bandwidth limit (128 MiB/s) is for networks; a save to a
 * local file goes as fast as QEMU can write. */
#define SAVE_BANDWIDTH (1ull << 40)

char *tv_driver_managed_save_path(TvQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".save", NULL);
    return g_build_filename(drv->save_dir, file, NULL);
}

bool tv_driver_has_managed_save(TvQemuDriver *drv, const char *name)
{
    g_autofree char *path = tv_driver_managed_save_path(drv, name);
    return access(path, F_OK) == 0;
}

static int flags_check(const char *what, unsigned flags, unsigned known)
{
    if (flags & SAVE_RESET_NVRAM & ~known) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "%s: flag 0x8 (reset nvram) is not supported by tagvirt", what);
        return -1;
    }
    if (flags & ~known) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "%s flags 0x%x are not supported; accepted: 0x%x", what, flags & ~known,
                        known);
        return -1;
    }
    if ((flags & SAVE_RUNNING) && (flags & SAVE_PAUSED)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "%s: flags 0x2 (running) and 0x4 (paused) are mutually exclusive", what);
        return -1;
    }
    return 0;
}

static int need_absolute(const char *path)
{
    if (!path || !g_path_is_absolute(path)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "save image path '%s' must be absolute (tagvirtd does not know the "
                        "client's working folder)",
                        path ? path : "");
        return -1;
    }
    return 0;
}

/* ---- save ---- */

typedef struct {
    TvQemuDriver *drv;
    TvDriverDomain *dom;
    TvDriverRun *run;
    const char *path; /* the image's name */
    char *tmp;        /* the temporary file while it is written */
    int fd;
    bool was_running;
    bool paused; /* we paused the guest */
    bool migrating;
    bool has_bandwidth; /* QEMU's limit before, to give back on failure */
    guint64 bandwidth;
} SaveCtx;

static int abort_save(TvDriverDomain *dom, void *opaque)
{
    SaveCtx *c = opaque;
    (void)dom;
    return tv_qemu_process_migrate_cancel(c->run->proc);
}

static int mon_stop(TvQemuMonitor *mon, void *opaque)
{
    (void)opaque;
    return tv_qemu_monitor_stop(mon);
}

static int mon_bandwidth(TvQemuMonitor *mon, void *opaque)
{
    SaveCtx *c = opaque;
    g_auto(TvQmpMigrationParams) now = { 0 };
    if (tv_qemu_monitor_query_migrate_parameters(mon, &now) < 0)
        return -1;
    c->has_bandwidth = now.has_max_bandwidth;
    c->bandwidth = now.max_bandwidth;
    TvQmpMigrationParams p = { .has_max_bandwidth = true, .max_bandwidth = SAVE_BANDWIDTH };
    return tv_qemu_monitor_migrate_set_parameters(mon, &p);
}

static int mon_bandwidth_back(TvQemuMonitor *mon, void *opaque)
{
    SaveCtx *c = opaque;
    TvQmpMigrationParams p = { .has_max_bandwidth = true, .max_bandwidth = c->bandwidth };
    return tv_qemu_monitor_migrate_set_parameters(mon, &p);
}

/* Follow QEMU's migration into the file until it ends: 0 once completed. */
static int follow(SaveCtx *c, int *result)
{
    for (;;) {
        g_auto(TvQmpMigrationInfo) info = { 0 };
        if (tv_qemu_process_migrate_query(c->run->proc, &info) < 0) {
            tv_error_prefix("save of domain '%s' failed", c->dom->name);
            return -1;
        }
        TvDomainJobStats st;
        tv_driver_job_stats_from_migration(&info, TV_JOB_OPERATION_SAVE, &st);
        tv_driver_async_set_progress(c->dom, &st);
        switch (info.status) {
        case TV_QMP_MIGRATION_STATUS_COMPLETED:
            return 0;
        case TV_QMP_MIGRATION_STATUS_CANCELLED:
            *result = TV_JOB_CANCELLED;
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_ABORTED,
                            "operation aborted: save of domain '%s' was cancelled", c->dom->name);
            return -1;
        case TV_QMP_MIGRATION_STATUS_FAILED:
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "save of domain '%s' failed: QEMU: %s", c->dom->name,
                            info.error_desc ? info.error_desc : "migration failed");
            return -1;
        default:
            break;
        }
        g_usleep(SAVE_POLL_MS * 1000);
    }
}

/* The definition the image carries: the caller's (if its ABI is the running
 * guest's) or the running one's, migratable. */
static char *image_xml(const TvDomainDef *live, const char *dxml)
{
    if (!dxml)
        return tv_domain_def_format(live, TV_DOMAIN_FORMAT_MIGRATABLE);
    g_autoptr(TvDomainDef) dst = tv_domain_def_parse(dxml, strlen(dxml), 0);
    if (!dst) {
        tv_error_prefix("save: the given domain XML");
        return NULL;
    }
    if (!tv_domain_def_check_abi_stability(live, dst))
        return NULL;
    return g_strdup(dxml);
}

/* What the image holds, from the running guest. */
static int image_of(SaveCtx *c, const char *dxml, unsigned flags, TvSaveImage *img)
{
    g_autoptr(TvDomainDef) live = tv_qemu_process_copy_def(c->run->proc);
    if (!live || tv_domain_tpm_refuse_transfer(live, "save") < 0)
        return -1;
    if (live->virt_type == TV_VIRT_KVM && live->features.mte.level >= TV_MTE_LEVEL_MIN) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "save of domain '%s' refused: a KVM guest with MTE cannot be saved "
                        "(QEMU 9.2 and later add a migration blocker: the kernel gives no way "
                        "to save the tags of guest memory under KVM)",
                        c->dom->name);
        return -1;
    }
    if (!live->guest_abi.valid) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "save of domain '%s' refused: no guest ABI was recorded when it started "
                        "(the capabilities probe has nothing for CPU model '%s' with this "
                        "accelerator), so a restore could not check it",
                        c->dom->name, live->cpu.model ? live->cpu.model : "(default)");
        return -1;
    }
    img->xml = image_xml(live, dxml);
    if (!img->xml)
        return -1;
    tv_domain_guest_abi_copy(&img->abi, &live->guest_abi);
    int state = 0;
    tv_qemu_process_get_state(c->run->proc, &state, NULL);
    c->was_running = state == TV_DOMAIN_STATE_RUNNING;
    bool run_after = (flags & SAVE_RUNNING) || (!(flags & SAVE_PAUSED) && c->was_running);
    img->flags = run_after ? TV_SAVE_IMAGE_RUNNING : 0;
    return 0;
}

static int create_temp(SaveCtx *c)
{
    c->tmp = g_strconcat(c->path, TV_FILE_TEMP_SUFFIX, NULL);
    /* write-only: QEMU (8.2 and later) takes a file from a descriptor set
     * only when its access mode is the one QEMU would open it with */
    c->fd = g_mkstemp_full(c->tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (c->fd < 0) {
        g_autofree char *dir = g_path_get_dirname(c->path);
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create the save image in '%s'", dir);
        g_clear_pointer(&c->tmp, g_free);
        return -1;
    }
    return 0;
}

/* The image is complete on disk under its name. */
static int commit_image(SaveCtx *c, TvSaveImage *img)
{
    if (tv_save_image_finish(c->fd, c->tmp, img) < 0)
        return -1;
    if (close(c->fd) < 0) {
        c->fd = -1;
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot write save image '%s'", c->tmp);
        return -1;
    }
    c->fd = -1;
    if (rename(c->tmp, c->path) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot rename '%s' to '%s'", c->tmp, c->path);
        return -1;
    }
    g_clear_pointer(&c->tmp, g_free);
    g_autofree char *dir = g_path_get_dirname(c->path);
    return tv_dir_sync(dir);
}

/* Everything as it was: no file, the guest running if it ran. */
static void undo(SaveCtx *c)
{
    g_autoptr(TvError) err = tv_error_steal();
    TvQemuProcess *proc = c->run->proc;
    if (c->migrating && tv_qemu_process_is_active(proc)) {
        /* a migration that has not ended yet must not go on writing */
        g_auto(TvQmpMigrationInfo) info = { 0 };
        if (tv_qemu_process_migrate_query(proc, &info) == 0 &&
            info.status != TV_QMP_MIGRATION_STATUS_COMPLETED &&
            info.status != TV_QMP_MIGRATION_STATUS_FAILED &&
            info.status != TV_QMP_MIGRATION_STATUS_CANCELLED)
            tv_qemu_process_migrate_cancel(proc);
    }
    if (c->migrating)
        tv_qemu_process_set_outgoing(proc, 0);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->tmp && unlink(c->tmp) < 0 && errno != ENOENT)
        g_warning("save of '%s': cannot remove '%s': %s", c->dom->name, c->tmp, g_strerror(errno));
    g_clear_pointer(&c->tmp, g_free);
    if (tv_qemu_process_is_active(proc)) {
        if (c->has_bandwidth)
            tv_qemu_process_with_monitor(proc, mon_bandwidth_back, c);
        if (c->was_running) /* "running (save canceled)", as libvirt says */
            tv_qemu_process_resume_as(proc, TV_DOMAIN_RUNNING_SAVE_CANCELED);
    }
    tv_error_reset();
    tv_error_restore(g_steal_pointer(&err));
}

static int save_run(SaveCtx *c, const char *dxml, unsigned flags, int *result)
{
    g_auto(TvSaveImage) img = { 0 };
    if (image_of(c, dxml, flags, &img) < 0 || create_temp(c) < 0 ||
        tv_save_image_write_head(c->fd, c->tmp, &img) < 0)
        return -1;
    TvQemuProcess *proc = c->run->proc;
    tv_qemu_process_set_outgoing(proc, TV_DOMAIN_PAUSED_SAVE);
    c->migrating = true;
    /* paused first, as libvirt does: the memory is written once */
    if (c->was_running && tv_qemu_process_with_monitor(proc, mon_stop, NULL) < 0)
        return -1;
    if (tv_qemu_process_with_monitor(proc, mon_bandwidth, c) < 0)
        return -1;
    TvQemuOutgoing out = { .fd = c->fd, .paused_reason = TV_DOMAIN_PAUSED_SAVE };
    if (tv_qemu_process_migrate_start(proc, &out) < 0)
        return -1;
    tv_driver_async_set_abort(c->dom, abort_save, c);
    int rc = follow(c, result);
    tv_driver_async_set_abort(c->dom, NULL, NULL);
    if (rc < 0 || commit_image(c, &img) < 0)
        return -1;
    /* the image is on disk: now the guest may go */
    tv_qemu_process_set_outgoing(proc, 0);
    c->migrating = false;
    if (tv_qemu_process_destroy_as(proc, TV_DOMAIN_SHUTOFF_SAVED) < 0) {
        tv_error_prefix("domain '%s' was saved to '%s' but its QEMU did not end", c->dom->name,
                        c->path);
        return -1;
    }
    return 0;
}

/* Save dom's running guest to path (the async SAVE job). */
static int save_domain(TvQemuDriver *drv, TvDriverDomain *dom, const char *path, const char *dxml,
                       unsigned flags)
{
    if (tv_driver_async_begin(dom, TV_JOB_ASYNC_SAVE, "save") < 0)
        return -1;
    SaveCtx c = { .drv = drv, .dom = dom, .path = path, .fd = -1 };
    int result = TV_JOB_FAILED, rc = -1;
    c.run = tv_driver_run_get(dom);
    if (c.run) {
        rc = save_run(&c, dxml, flags, &result);
        if (rc < 0)
            undo(&c);
        tv_driver_run_unref(c.run);
    }
    tv_driver_async_end(dom, rc == 0 ? TV_JOB_COMPLETED : result);
    return rc;
}

int tv_qemu_driver_save(TvQemuDriver *drv, const unsigned char *uuid, const char *path,
                        const char *dxml, unsigned flags)
{
    if (flags_check("save", flags, SAVE_KNOWN) < 0 || need_absolute(path) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    return dom ? save_domain(drv, dom, path, dxml, flags) : -1;
}

int tv_qemu_driver_managed_save(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags_check("managed save", flags, SAVE_KNOWN) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    bool persistent = dom->def != NULL;
    g_mutex_unlock(&dom->lock);
    if (!persistent) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot do managed save for transient domain '%s'", dom->name);
        return -1;
    }
    if (tv_dir_ensure(drv->save_dir, 0700) < 0)
        return -1;
    g_autofree char *path = tv_driver_managed_save_path(drv, dom->name);
    return save_domain(drv, dom, path, NULL, flags);
}

/* ---- restore ---- */

/* An image opened and read; its descriptor is at the stream. */
typedef struct {
    int fd;
    TvSaveImage img;
} OpenImage;

static void open_image_clear(OpenImage *o)
{
    if (o->fd >= 0)
        close(o->fd);
    tv_save_image_clear(&o->img);
    o->fd = -1;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpenImage, open_image_clear)

static int open_image(const char *path, OpenImage *o)
{
    o->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (o->fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot open save image '%s'", path);
        return -1;
    }
    return tv_save_image_read(o->fd, path, &o->img);
}

/* An image to restore from: read, and its stream checked against its
 * digest before any QEMU sees it. */
static int open_image_verified(const char *path, OpenImage *o)
{
    return open_image(path, o) < 0 || tv_save_image_verify(o->fd, path, &o->img) < 0 ? -1 : 0;
}

/* The definition to restore: the image's, or dxml if its ABI is the same. */
static TvDomainDef *restore_def(TvQemuDriver *drv, const TvSaveImage *img, const char *dxml,
                                TvQemuCaps **caps)
{
    const char *xml = img->xml;
    if (dxml) {
        g_autoptr(TvDomainDef) saved = tv_domain_def_parse(img->xml, strlen(img->xml), 0);
        if (!saved) {
            tv_error_prefix("restore refused: the definition in the image");
            return NULL;
        }
        g_autoptr(TvDomainDef) given = tv_domain_def_parse(dxml, strlen(dxml), 0);
        if (!given) {
            tv_error_prefix("restore refused: the given domain XML");
            return NULL;
        }
        if (!tv_domain_def_check_abi_stability(saved, given))
            return NULL;
        xml = dxml;
    }
    /* this host's post-parse and validation: a level this QEMU cannot give
     * is refused with the words of a start */
    TvDomainDef *def = tv_qemu_domain_load(&drv->pipe, xml, strlen(xml), 0, caps);
    if (!def) {
        tv_error_prefix("restore refused");
        return NULL;
    }
    return def;
}

/* All the checks, then a QEMU that reads the image (dom in its job, shut
 * off).  def is taken. */
static int restore_in_job(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def, OpenImage *o,
                          unsigned flags)
{
    TvQemuIncoming in = { .fd = o->fd, .paused_reason = TV_DOMAIN_PAUSED_STARTING_UP };
    if (tv_driver_start_incoming_in_job(drv, dom, def, &in, STARTED_RESTORED) < 0)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    int rc = tv_qemu_process_incoming_wait(run->proc, 0);
    if (rc == 0) {
        bool running = (flags & SAVE_RUNNING) ||
                       (!(flags & SAVE_PAUSED) && (o->img.flags & TV_SAVE_IMAGE_RUNNING));
        if (running)
            rc = tv_qemu_process_resume_as(run->proc, TV_DOMAIN_RUNNING_RESTORED);
        else /* as libvirt: PAUSED when asked for, RESTORED when the image said paused */
            tv_driver_event_queue(drv, dom, run->id, TV_DOMAIN_EVENT_SUSPENDED,
                                  (flags & SAVE_PAUSED) ? 0 : 5);
    }
    if (rc < 0) {
        g_autoptr(TvError) err = tv_error_steal();
        if (tv_qemu_process_is_active(run->proc))
            tv_qemu_process_destroy_as(run->proc, TV_DOMAIN_SHUTOFF_FAILED);
        tv_error_restore(g_steal_pointer(&err));
    }
    tv_driver_run_unref(run);
    return rc;
}

/* The checks of a migration's Prepare against the image: 0 with *out the
 * definition to start. */
static int restore_checks(TvQemuDriver *drv, OpenImage *o, const char *dxml, TvDomainDef **out)
{
    g_autoptr(TvQemuCaps) caps = NULL;
    g_autoptr(TvDomainDef) def = restore_def(drv, &o->img, dxml, &caps);
    if (!def || tv_driver_check_guest_abi_here(drv, def, caps, &o->img.abi, "restore refused",
                                               "saved image", "host") < 0)
        return -1;
    *out = g_steal_pointer(&def);
    return 0;
}

int tv_driver_start_managed_save(TvQemuDriver *drv, TvDriverDomain *dom, bool paused)
{
    g_autofree char *path = tv_driver_managed_save_path(drv, dom->name);
    if (access(path, F_OK) != 0)
        return 1;
    g_auto(OpenImage) o = { .fd = -1 };
    TvDomainDef *def = NULL;
    int rc = open_image_verified(path, &o) < 0 || restore_checks(drv, &o, NULL, &def) < 0 ? -1 : 0;
    if (rc == 0 &&
        (strcmp(def->name, dom->name) != 0 || memcmp(def->uuid, dom->uuid, TV_UUID_LEN))) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "save image '%s' holds another guest ('%s')", path, def->name);
        tv_domain_def_free(def);
        rc = -1;
    }
    if (rc < 0) {
        tv_error_prefix("domain '%s' has a managed save image that cannot be restored (start "
                        "--force-boot discards it)",
                        dom->name);
        return -1;
    }
    if (restore_in_job(drv, dom, def, &o, paused ? SAVE_PAUSED : 0) < 0)
        return -1;
    /* restored: the image would bring the guest back in the past */
    if (tv_file_remove(path) < 0) {
        g_warning("domain '%s': %s", dom->name, tv_error_message());
        tv_error_reset();
    }
    return 0;
}

int tv_qemu_driver_restore(TvQemuDriver *drv, const char *path, const char *dxml, unsigned flags,
                           TvDomainRef *out)
{
    if (flags_check("restore", flags, SAVE_KNOWN) < 0 || need_absolute(path) < 0)
        return -1;
    g_auto(OpenImage) o = { .fd = -1 };
    TvDomainDef *def = NULL;
    if (open_image_verified(path, &o) < 0 || restore_checks(drv, &o, dxml, &def) < 0)
        return -1;

    /* the domain: the one of that name and uuid, else a new transient one */
    bool created = false;
    TvDriverDomain *dom = tv_driver_domain_for_start(drv, def, "restore", &created);
    if (!dom) {
        tv_error_prefix("restore refused");
        tv_domain_def_free(def);
        return -1;
    }
    int rc = restore_in_job(drv, dom, def, &o, flags);
    if (rc == 0 && out) {
        g_mutex_lock(&dom->lock);
        tv_driver_domain_ref_fill(dom, out);
        g_mutex_unlock(&dom->lock);
    }
    tv_driver_domain_for_start_end(drv, dom, created, rc == 0);
    return rc;
}

/* ---- managed save bookkeeping, the images' XML ---- */

static int no_flags(const char *what, unsigned flags)
{
    if (!flags)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                    "%s flags 0x%x are not supported; accepted: 0", what, flags);
    return -1;
}

int tv_qemu_driver_has_managed_save(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (no_flags("managed save image", flags) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    return dom ? tv_driver_has_managed_save(drv, dom->name) : -1;
}

int tv_qemu_driver_managed_save_remove(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (no_flags("managed save remove", flags) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "managed save remove") < 0)
        return -1;
    g_autofree char *path = tv_driver_managed_save_path(drv, dom->name);
    int rc = tv_file_remove(path);
    if (rc == 0) {
        g_mutex_lock(&dom->lock);
        if (!dom->run && dom->shutoff_reason == TV_DOMAIN_SHUTOFF_SAVED)
            dom->shutoff_reason = TV_DOMAIN_SHUTOFF_UNKNOWN;
        g_mutex_unlock(&dom->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

static char *image_xml_of(const char *path, unsigned flags)
{
    if (flags & ~(unsigned)IMAGE_XML_SECURE) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "save image XML flags 0x%x are not supported; accepted: 0x1 (secure)",
                        flags & ~(unsigned)IMAGE_XML_SECURE);
        return NULL;
    }
    g_auto(OpenImage) o = { .fd = -1 };
    if (open_image(path, &o) < 0)
        return NULL;
    return g_steal_pointer(&o.img.xml);
}

char *tv_qemu_driver_save_image_xml(TvQemuDriver *drv, const char *path, unsigned flags)
{
    (void)drv;
    if (need_absolute(path) < 0)
        return NULL;
    return image_xml_of(path, flags);
}

static int need_managed_image(TvQemuDriver *drv, TvDriverDomain *dom, char **path)
{
    *path = tv_driver_managed_save_path(drv, dom->name);
    if (access(*path, F_OK) == 0)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                    "domain '%s' does not have a managed save image", dom->name);
    g_clear_pointer(path, g_free);
    return -1;
}

char *tv_qemu_driver_managed_save_xml(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    g_autofree char *path = NULL;
    if (!dom || need_managed_image(drv, dom, &path) < 0)
        return NULL;
    return image_xml_of(path, flags);
}

/* Copy the stream of o (from its offset) to fd. */
static int copy_stream(OpenImage *o, int fd, const char *from, const char *to)
{
    uint64_t left = o->img.stream_len;
    off_t in_off = (off_t)o->img.stream_offset;
    off_t out_off = lseek(fd, 0, SEEK_CUR);
    g_autofree char *buf = NULL;
    while (left > 0) {
        ssize_t n = copy_file_range(o->fd, &in_off, fd, &out_off, MIN(left, (uint64_t)1 << 30), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            /* another file system: by hand */
            if (!buf)
                buf = g_malloc(1 << 20);
            n = pread(o->fd, buf, MIN(left, (uint64_t)1 << 20), in_off);
            if (n > 0 && pwrite(fd, buf, (size_t)n, out_off) != n)
                n = -1;
            if (n > 0) {
                in_off += n;
                out_off += n;
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            tv_error_report_errno(TV_FROM_QEMU, n < 0 ? errno : EIO,
                                  "cannot copy the stream of '%s' to '%s'", from, to);
            return -1;
        }
        left -= (uint64_t)n;
    }
    return 0;
}

/* The image at path with another definition (its ABI checked) and maybe
 * another running/paused choice, written under a temporary name and
 * renamed over it. */
static int redefine_image(const char *path, const char *dxml, unsigned flags)
{
    if (!dxml) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no domain XML given");
        return -1;
    }
    g_auto(OpenImage) o = { .fd = -1 };
    if (open_image(path, &o) < 0)
        return -1;
    g_autoptr(TvDomainDef) saved = tv_domain_def_parse(o.img.xml, strlen(o.img.xml), 0);
    g_autoptr(TvDomainDef) given = saved ? tv_domain_def_parse(dxml, strlen(dxml), 0) : NULL;
    if (!given) {
        tv_error_prefix("save image '%s'", path);
        return -1;
    }
    if (!tv_domain_def_check_abi_stability(saved, given))
        return -1;
    g_auto(TvSaveImage) img = { 0 };
    img.xml = g_strdup(dxml);
    tv_domain_guest_abi_copy(&img.abi, &o.img.abi);
    img.flags = o.img.flags;
    if (flags & SAVE_RUNNING)
        img.flags |= TV_SAVE_IMAGE_RUNNING;
    if (flags & SAVE_PAUSED)
        img.flags &= ~(unsigned)TV_SAVE_IMAGE_RUNNING;
    g_autofree char *tmp = g_strconcat(path, TV_FILE_TEMP_SUFFIX, NULL);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create a file next to '%s'", path);
        return -1;
    }
    int rc = -1;
    if (tv_save_image_write_head(fd, tmp, &img) == 0 && copy_stream(&o, fd, path, tmp) == 0 &&
        tv_save_image_finish(fd, tmp, &img) == 0 && close(fd) == 0) {
        fd = -1;
        if (rename(tmp, path) == 0) {
            g_autofree char *dir = g_path_get_dirname(path);
            rc = tv_dir_sync(dir);
        } else {
            tv_error_report_errno(TV_FROM_QEMU, errno, "cannot rename '%s' to '%s'", tmp, path);
        }
    }
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int tv_qemu_driver_save_image_define_xml(TvQemuDriver *drv, const char *path, const char *dxml,
                                         unsigned flags)
{
    (void)drv;
    if (flags_check("save image define", flags, SAVE_RUNNING | SAVE_PAUSED) < 0 ||
        need_absolute(path) < 0)
        return -1;
    return redefine_image(path, dxml, flags);
}

int tv_qemu_driver_managed_save_define_xml(TvQemuDriver *drv, const unsigned char *uuid,
                                           const char *dxml, unsigned flags)
{
    if (flags_check("managed save define", flags, SAVE_RUNNING | SAVE_PAUSED) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "managed save define") < 0)
        return -1;
    g_autofree char *path = NULL;
    int rc = need_managed_image(drv, dom, &path);
    if (rc == 0)
        rc = redefine_image(path, dxml, flags);
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}
