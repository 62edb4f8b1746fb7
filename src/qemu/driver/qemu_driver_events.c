/* Lifecycle events: queued where a state changes (any lock may be held
 * there) and delivered in order, with no lock held, by one thread. */
#include "qemu_driver_priv.h"

#include <string.h>

typedef struct {
    TvDomainRef ref;
    int event;
    int detail;
    bool quit;
} DriverEvent;

static void driver_event_free(DriverEvent *ev)
{
    tv_domain_ref_clear(&ev->ref);
    g_free(ev);
}

int tv_driver_event_stopped_detail(int shutoff_reason)
{
    /* libvirt's VIR_DOMAIN_EVENT_STOPPED_*: SHUTDOWN 0, DESTROYED 1,
     * CRASHED 2, MIGRATED 3, SAVED 4, FAILED 5, FROM_SNAPSHOT 6 */
    switch ((TvDomainShutoffReason)shutoff_reason) {
    case TV_DOMAIN_SHUTOFF_UNKNOWN:
    case TV_DOMAIN_SHUTOFF_SHUTDOWN:
    case TV_DOMAIN_SHUTOFF_DAEMON:
        return 0;
    case TV_DOMAIN_SHUTOFF_DESTROYED:
        return 1;
    case TV_DOMAIN_SHUTOFF_CRASHED:
        return 2;
    case TV_DOMAIN_SHUTOFF_MIGRATED:
        return 3;
    case TV_DOMAIN_SHUTOFF_SAVED:
        return 4;
    case TV_DOMAIN_SHUTOFF_FAILED:
        return 5;
    case TV_DOMAIN_SHUTOFF_FROM_SNAPSHOT:
        return 6;
    }
    return 0;
}

static gpointer event_thread(gpointer data)
{
    TvQemuDriver *drv = data;
    for (;;) {
        DriverEvent *ev = g_async_queue_pop(drv->events);
        if (ev->quit) {
            driver_event_free(ev);
            break;
        }
        g_mutex_lock(&drv->event_lock);
        TvDomainEventFunc cb = drv->event_cb;
        void *opaque = drv->event_opaque;
        drv->event_busy = cb != NULL;
        g_mutex_unlock(&drv->event_lock);
        if (cb)
            cb(&ev->ref, ev->event, ev->detail, opaque);
        g_mutex_lock(&drv->event_lock);
        drv->event_busy = false;
        g_cond_broadcast(&drv->event_cond);
        g_mutex_unlock(&drv->event_lock);
        driver_event_free(ev);
    }
    return NULL;
}

int tv_driver_events_init(TvQemuDriver *drv)
{
    drv->events = g_async_queue_new_full((GDestroyNotify)driver_event_free);
    drv->event_thread = g_thread_new("tv-driver-events", event_thread, drv);
    return 0;
}

void tv_driver_events_shutdown(TvQemuDriver *drv)
{
    if (!drv->events)
        return;
    /* pending events are still delivered: a client may be waiting for them */
    DriverEvent *quit = g_new0(DriverEvent, 1);
    quit->quit = true;
    g_async_queue_push(drv->events, quit);
    g_thread_join(g_steal_pointer(&drv->event_thread));
    g_clear_pointer(&drv->events, g_async_queue_unref);
}

void tv_driver_event_queue(TvQemuDriver *drv, TvDriverDomain *dom, int id, int event, int detail)
{
    g_mutex_lock(&drv->event_lock);
    bool wanted = drv->event_cb != NULL;
    g_mutex_unlock(&drv->event_lock);
    if (!wanted || !drv->events)
        return;
    DriverEvent *ev = g_new0(DriverEvent, 1);
    ev->ref.name = g_strdup(dom->name);
    memcpy(ev->ref.uuid, dom->uuid, TV_UUID_LEN);
    ev->ref.id = id;
    ev->event = event;
    ev->detail = detail;
    g_async_queue_push(drv->events, ev);
}

void tv_qemu_driver_set_event_callback(TvQemuDriver *drv, TvDomainEventFunc cb, void *opaque)
{
    g_mutex_lock(&drv->event_lock);
    drv->event_cb = cb;
    drv->event_opaque = opaque;
    /* once this returns, the old callback is not running and will not run */
    if (g_thread_self() != drv->event_thread) {
        while (drv->event_busy)
            g_cond_wait(&drv->event_cond, &drv->event_lock);
    }
    g_mutex_unlock(&drv->event_lock);
}
