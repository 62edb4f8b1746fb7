/* Hooks for tests only: no program includes this header. */
#pragma once

#include <glib.h>

/* Make generated UUIDs and MAC addresses reproducible from a seed; 0 goes
 * back to random. */
void tv_domain_conf_test_seed(guint32 seed);
