/* Preforked QEMUs for domain starts: one fork server (qemu_zygote.h) per
 * emulator binary, started when the driver opens (default emulator) or at
 * the first start of another one, and replaced when the binary changes.
 * A start forks the domain's QEMU from it after QEMU's loading is done
 * (docs/performance.md, "Start"); when none is ready the start spawns QEMU
 * as usual. */
#include "qemu_driver_priv.h"
#include "qemu_zygote.h"

#include <string.h>
#include <sys/prctl.h>

struct _TvDriverPrefork {
    gint refs; /* the map's, and one per start using it */
    TvQemuZygote *zygote;
    long long size, mtime, ctime; /* the binary it was started from */
};
typedef TvDriverPrefork Prefork;

void tv_driver_prefork_unref(TvDriverPrefork *p)
{
    if (p && g_atomic_int_dec_and_test(&p->refs)) {
        tv_qemu_zygote_free(p->zygote);
        g_free(p);
    }
}

TvQemuZygote *tv_driver_prefork_zygote(TvDriverPrefork *p)
{
    return p ? p->zygote : NULL;
}

static void prefork_free(gpointer data)
{
    tv_driver_prefork_unref(data);
}

static bool same_binary(const Prefork *p, const TvQemuCapsFingerprint *fp)
{
    return p->size == fp->size && p->mtime == fp->mtime && p->ctime == fp->ctime;
}

/* Only a subreaper can take the forked QEMU as its child. */
static bool usable_here(void)
{
    int subreaper = 0;
    return prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) == 0 && subreaper;
}

void tv_driver_prefork_init(TvQemuDriver *drv, bool enabled)
{
    g_mutex_init(&drv->prefork_lock);
    drv->preforks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, prefork_free);
    drv->prefork_enabled = enabled && usable_here();
    if (enabled && !drv->prefork_enabled)
        g_info("QEMU driver: not a child subreaper, QEMU is spawned for every start");
}

TvDriverPrefork *tv_driver_prefork_get(TvQemuDriver *drv, const TvQemuCaps *caps)
{
    if (!drv->prefork_enabled || !caps)
        return NULL;
    const TvQemuCapsFingerprint *fp = &caps->fingerprint;
    g_mutex_lock(&drv->prefork_lock);
    Prefork *p = g_hash_table_lookup(drv->preforks, fp->binary_path);
    Prefork *ret = NULL;
    bool never_ready = false;
    bool broken = p && tv_qemu_zygote_broken(p->zygote, &never_ready);
    if (p && same_binary(p, fp) && broken && never_ready) {
        /* this binary cannot host the server (e.g. a wrapper script): spawn
         * its QEMUs, and do not try again until the binary changes */
    } else if (p && same_binary(p, fp) && !broken) {
        ret = p;
        g_atomic_int_inc(&p->refs);
    } else {
        /* none yet, the binary changed, or the server died after serving:
         * start one for the next start; this one spawns (waiting for the
         * server would cost what it saves) */
        g_hash_table_remove(drv->preforks, fp->binary_path);
        TvQemuZygote *fresh = tv_qemu_zygote_start(fp->binary_path);
        if (fresh) {
            p = g_new0(Prefork, 1);
            p->refs = 1;
            p->zygote = fresh;
            p->size = fp->size;
            p->mtime = fp->mtime;
            p->ctime = fp->ctime;
            g_hash_table_insert(drv->preforks, g_strdup(fp->binary_path), p);
            g_debug("QEMU driver: fork server for %s started (pid %d)", fp->binary_path,
                    (int)tv_qemu_zygote_pid(fresh));
        }
    }
    g_mutex_unlock(&drv->prefork_lock);
    return ret;
}

void tv_driver_prefork_clear(TvQemuDriver *drv)
{
    if (!drv->preforks)
        return;
    g_hash_table_destroy(drv->preforks);
    drv->preforks = NULL;
    g_mutex_clear(&drv->prefork_lock);
}
