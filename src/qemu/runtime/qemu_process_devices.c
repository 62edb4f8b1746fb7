/* What the runtime learns from QEMU about devices once it runs, for the
 * live definition: the port VNC got (autoport).  Called at start, before
 * the status file is written, with the monitor lock held. */
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <stdlib.h>

static int read_vnc_port(TvQemuProcess *proc, TvDomainGraphics *g, unsigned timeout_ms)
{
    json_object *info = tv_qemu_monitor_execute(proc->mon, "query-vnc", NULL, timeout_ms);
    if (!info)
        return -1;
    json_object *service = NULL;
    const char *text = json_object_object_get_ex(info, "service", &service)
                           ? json_object_get_string(service)
                           : NULL;
    char *end = NULL;
    long port = text ? strtol(text, &end, 10) : 0;
    if (!text || *end || port < TV_VNC_PORT_MIN || port > TV_VNC_PORT_MAX) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's query-vnc reply has no usable port: %s",
                        json_object_to_json_string_ext(info, JSON_C_TO_STRING_PLAIN));
        json_object_put(info);
        return -1;
    }
    json_object_put(info);
    g->live_port = (int)port;
    return 0;
}

int tv_qemu_process_devices_started(TvQemuProcess *proc, unsigned timeout_ms)
{
    TvDomainDevices *d = &proc->def->devices;
    for (size_t i = 0; i < d->ngraphics; i++) {
        if (read_vnc_port(proc, d->graphics[i], timeout_ms) < 0)
            return -1;
    }
    return 0;
}
