/* The two systemd conventions tagvirtd follows, without libsystemd: socket
 * activation (LISTEN_FDS) and readiness notification (NOTIFY_SOCKET). */
#pragma once

#include <glib.h>

typedef struct {
    int fd;
    gboolean readonly; /* named "tagvirtd-ro", or bound to a path ending in "-ro" */
} TvActivatedSocket;

/* The listening sockets systemd passed to this process (none: an empty
 * array); the environment variables are cleared so children do not see them. */
GArray *tv_daemon_activated_sockets(void);
/* Send state ("READY=1", "STOPPING=1") to the service manager, if any. */
void tv_daemon_notify(const char *state);
