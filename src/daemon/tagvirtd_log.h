/* tagvirtd's log: GLib messages to stderr, with "<N>" priority prefixes when
 * stderr is the journal, timestamps otherwise. */
#pragma once

#include <glib.h>

/* level: 1 debug, 2 info, 3 warning (and notices), 4 errors only */
void tv_daemon_log_init(guint level);
