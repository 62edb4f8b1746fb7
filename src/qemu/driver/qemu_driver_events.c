/* Domain events: queued where something changes (any lock may be held
 * there) and delivered in order, with no lock held, by one thread. */
#include "qemu_driver_priv.h"

#include <string.h>

typedef struct {
    TvDomainEvent ev;
    bool quit;
} DriverEvent;

void tv_domain_event_free(TvDomainEvent *ev)
{
    if (!ev)
        return;
    tv_domain_ref_clear(&ev->dom);
    g_free(ev->str);
    for (size_t i = 0; i < ev->nparams; i++) {
        g_free(ev->params[i].field);
        g_free(ev->params[i].s);
    }
    g_free(ev->params);
    g_free(ev);
}

static void driver_event_free(DriverEvent *ev)
{
    tv_domain_event_free(&ev->ev); /* the first member: same allocation */
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
            cb(&ev->ev, opaque);
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

static bool events_wanted(TvQemuDriver *drv)
{
    g_mutex_lock(&drv->event_lock);
    bool wanted = drv->event_cb != NULL;
    g_mutex_unlock(&drv->event_lock);
    return wanted && drv->events;
}

/* A new event of the domain (run id: -1 when not running); NULL when no one listens. */
static DriverEvent *event_new(TvQemuDriver *drv, TvDriverDomain *dom, int run_id,
                              TvDomainEventId id)
{
    if (!events_wanted(drv))
        return NULL;
    DriverEvent *ev = g_new0(DriverEvent, 1);
    ev->ev.dom.name = g_strdup(dom->name);
    memcpy(ev->ev.dom.uuid, dom->uuid, TV_UUID_LEN);
    ev->ev.dom.id = run_id;
    ev->ev.id = id;
    return ev;
}

void tv_driver_event_queue(TvQemuDriver *drv, TvDriverDomain *dom, int id, int event, int detail)
{
    DriverEvent *ev = event_new(drv, dom, id, TV_DOMAIN_EVENT_ID_LIFECYCLE);
    if (!ev)
        return;
    ev->ev.event = event;
    ev->ev.detail = detail;
    g_async_queue_push(drv->events, ev);
}

void tv_driver_event_queue_other(TvQemuDriver *drv, TvDriverDomain *dom, int run_id,
                                 TvDomainEventId id, int event, int detail, const char *str,
                                 unsigned long long value)
{
    DriverEvent *ev = event_new(drv, dom, run_id, id);
    if (!ev)
        return;
    ev->ev.event = event;
    ev->ev.detail = detail;
    ev->ev.str = g_strdup(str);
    ev->ev.value = value;
    g_async_queue_push(drv->events, ev);
}

void tv_driver_event_queue_params(TvQemuDriver *drv, TvDriverDomain *dom, int run_id,
                                  TvDomainEventId id, TvTypedParam *params, size_t nparams)
{
    DriverEvent *ev = event_new(drv, dom, run_id, id);
    if (!ev) {
        for (size_t i = 0; i < nparams; i++) {
            g_free(params[i].field);
            g_free(params[i].s);
        }
        g_free(params);
        return;
    }
    ev->ev.params = params;
    ev->ev.nparams = nparams;
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
