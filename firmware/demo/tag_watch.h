/* The --loop build's long-running tag watch. */
#ifndef DEMO_TAG_WATCH_H
#define DEMO_TAG_WATCH_H

#include <stdbool.h>

/* Tag a 64 KiB buffer (MTE level >= 2) with a random tag per granule, or
 * per 4 KiB page where per_granule is false (tags alias within a page),
 * then every 500 ms compare every granule's tag (LDG) and data (checked
 * read) with what was written and print one line per check. Never returns. */
_Noreturn void tag_watch_run(unsigned level, bool per_granule);

#endif
