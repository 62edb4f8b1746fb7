/* Devices at start and stop (qemu_process_priv.h): the guest agent's and
 * other channels' sockets, what the live definition learns from QEMU (the
 * VNC port), balloon statistics. */
#include "qemu_process_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdlib.h>
#include <unistd.h>

static bool listens(const TvDomainChr *ch)
{
    return ch->type == TV_CHR_TYPE_UNIX && ch->unix_mode != TV_CHR_UNIX_MODE_CONNECT;
}

int tv_qemu_process_prepare_channels(TvDomainDef *live, const char *state_dir, GArray *fds)
{
    for (size_t i = 0; i < live->devices.nchannels; i++) {
        TvDomainChr *ch = live->devices.channels[i];
        if (!listens(ch))
            continue;
        if (!ch->path) {
            g_autofree char *file = g_strdup_printf("%s.%s", live->name, ch->target_name);
            ch->path = g_build_filename(state_dir, file, NULL);
            ch->path_generated = true;
        }
        int fd = tv_qemu_process_listen(ch->path, "channel");
        if (fd < 0) {
            tv_error_prefix("channel '%s' of domain '%s'", ch->target_name, live->name);
            return -1;
        }
        g_array_append_val(fds, fd);
    }
    return 0;
}

void tv_qemu_process_remove_channels(const TvDomainDef *def)
{
    for (size_t i = 0; def && i < def->devices.nchannels; i++) {
        const TvDomainChr *ch = def->devices.channels[i];
        if (listens(ch) && ch->path && tv_file_remove(ch->path) < 0)
            tv_error_reset(); /* best effort: a stale socket is replaced at the next start */
    }
}

/* libvirt's <stats period='N'/>: the balloon asks the guest every N seconds. */
static int set_balloon_period(TvQemuProcess *proc, unsigned timeout_ms)
{
    const TvDomainDevices *d = &proc->def->devices;
    if (d->memballoon != TV_BALLOON_MODEL_VIRTIO || !d->memballoon_stats)
        return 0;
    json_object *args = json_object_new_object();
    json_object_object_add(args, "path", json_object_new_string("/machine/peripheral/balloon0"));
    json_object_object_add(args, "property",
                           json_object_new_string("guest-stats-polling-interval"));
    json_object_object_add(args, "value", json_object_new_int((int)d->memballoon_period));
    json_object *r = tv_qemu_monitor_execute(proc->mon, "qom-set", args, timeout_ms);
    if (!r) {
        tv_error_prefix("cannot set the balloon's statistics period");
        return -1;
    }
    json_object_put(r);
    return 0;
}

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
    return set_balloon_period(proc, timeout_ms);
}
