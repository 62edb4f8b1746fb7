/* Internals of hot-plug (qemu_process_hotplug*.c): finding a device of the
 * live definition by its alias, the steps every attach shares, and undoing
 * steps without losing the error that made us undo them. */
#pragma once

#include "qemu_command.h"
#include "qemu_process_priv.h"

/* The device families of the live definition that have aliases. */
typedef enum {
    TV_PLUG_DISK,
    TV_PLUG_NET,
    TV_PLUG_CONTROLLER,
    TV_PLUG_RNG,
    TV_PLUG_INPUT,
    TV_PLUG_WATCHDOG,
    TV_PLUG_SERIAL,
    TV_PLUG_CONSOLE,
    TV_PLUG_CHANNEL,
    TV_PLUG_REDIRDEV,
    TV_PLUG_NONE
} TvPlugKind;

/* The index of the device of def with that alias (its kind in *kind), or
 * -1 (TV_PLUG_NONE). */
ssize_t tv_qemu_plug_find(const TvDomainDef *def, const char *alias, TvPlugKind *kind);

/* The first step of an attach of what ("<rng>", ...): the guest runs, and
 * *alias (the first free PREFIXN when NULL) is not in use.  The monitor,
 * or NULL with an error. */
TvQemuMonitor *tv_qemu_plug_begin(TvQemuProcess *proc, char **alias, const char *prefix,
                                  const char *what);
/* The last step: dev (of kind) joins the live definition and the status
 * file; the process owns it now. */
void tv_qemu_plug_commit(TvQemuProcess *proc, TvPlugKind kind, void *dev, const char *what);

/* Add o with QMP: command "device_add" (o's head the driver), "netdev_add",
 * "object-add" (the QOM type) or "blockdev-add". */
int tv_qemu_plug_add(TvQemuMonitor *mon, const char *command, const TvQemuObject *o);

/* del(mon, id) of a backend (chardev-remove, object-del) of a device QEMU
 * unplugged: QEMU frees the device (and lets its backend go) a little after
 * it left the bus, so a backend "busy" or "in use" is asked again for up to
 * 3 s.  -1 with the last error. */
int tv_qemu_plug_retry_busy(TvQemuMonitor *mon, int (*del)(TvQemuMonitor *, const char *),
                            const char *id);

/* Undo steps best effort, keeping the error that made us undo them. */
#define TV_PLUG_UNDO(call)                                                                         \
    do {                                                                                           \
        TvError *kept_ = tv_error_steal();                                                         \
        if ((call) < 0)                                                                            \
            tv_error_reset();                                                                      \
        tv_error_restore(kept_);                                                                   \
    } while (0)

/* chardev-add of a socket chardev id (qemu_process_hotplug_chr.c): one
 * QEMU connects to by path, or one tagvirtd listens on at path and gives
 * QEMU (getfd; *made_socket true once the socket file exists, for the
 * caller to remove on failure; what names the device in errors). */
int tv_qemu_plug_chardev_unix_connect(TvQemuMonitor *mon, const char *id, const char *path);
int tv_qemu_plug_chardev_unix_listen(TvQemuMonitor *mon, const char *id, const char *path,
                                     const char *what, bool *made_socket);
/* The backends of an unplugged character device (qemu_process_hotplug_chr.c):
 * its chardev, and the socket file tagvirt made for it (NULL: none). */
void tv_qemu_plug_chr_release(TvQemuMonitor *mon, const char *alias, const char *socket);
/* A character device's socket that tagvirt made and removes at unplug, or NULL. */
char *tv_qemu_plug_chr_socket(const TvDomainChr *chr);
/* A redirdev's socket that tagvirt made (unix bind), or NULL (qemu_process_redirdev.c). */
char *tv_qemu_plug_redirdev_socket(const TvDomainRedirdev *r);
/* After a redirdev's unplug: its socket file (NULL: none) removed.  Its
 * chardev is not: QEMU's usb-redir deletes it with the device. */
void tv_qemu_plug_redirdev_release(const char *socket);
