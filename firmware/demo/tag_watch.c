/* Periodic re-check of a tagged buffer, for migration tests and benchmarks. */
#include <stdbool.h>

#include "console.h"
#include "tag.h"
#include "tag_watch.h"
#include "timer.h"

#define WATCH_GRANULES  4096
#define WATCH_PERIOD_MS 500

static uint8_t watch_buf[WATCH_GRANULES * TAG_GRANULE] __attribute__((aligned(4096)));
static uint8_t watch_tags[WATCH_GRANULES];

/* Data each granule must hold: differs per granule so a shuffle shows. */
static uint64_t pattern(unsigned g)
{
    return 0x7476000000000000UL ^ ((uint64_t)g * 0x9e3779b97f4a7c15UL);
}

#define GRANULES_PER_PAGE (4096 / TAG_GRANULE)

static void watch_fill(bool per_granule)
{
    unsigned tag = 0;

    for (unsigned g = 0; g < WATCH_GRANULES; g++) {
        uint64_t addr = (uint64_t)&watch_buf[g * TAG_GRANULE];
        if (per_granule || g % GRANULES_PER_PAGE == 0) {
            tag = ptr_tag(tag_random(addr));
        }
        uint64_t p = ptr_with_tag(addr, tag);

        tag_store(p);
        store64(p, pattern(g));
        store64(p + 8, ~pattern(g));
        watch_tags[g] = (uint8_t)ptr_tag(p);
    }
}

/* One pass over the buffer; prints its result line, returns true if intact. */
static bool watch_check(unsigned check)
{
    unsigned bad_tags = 0, bad_data = 0, first = 0, first_tag = 0;

    for (unsigned g = 0; g < WATCH_GRANULES; g++) {
        uint64_t addr = (uint64_t)&watch_buf[g * TAG_GRANULE];
        unsigned tag = tag_load(addr);

        if (tag != watch_tags[g]) {
            if (bad_tags++ == 0) {
                first = g;
                first_tag = tag;
            }
            continue;
        }
        uint64_t p = ptr_with_tag(addr, tag);
        if (load64(p) != pattern(g) || load64(p + 8) != ~pattern(g)) {
            bad_data++;
        }
    }
    if (bad_tags) {
        say("FAIL: tags changed (check %u): %u of %u granules, first at 0x%lx: expected tag 0x%x, "
            "found 0x%x",
            check, bad_tags, WATCH_GRANULES, (uint64_t)&watch_buf[first * TAG_GRANULE],
            watch_tags[first], first_tag);
    }
    if (bad_data) {
        say("FAIL: data changed (check %u): %u of %u granules", check, bad_data, WATCH_GRANULES);
    }
    if (!bad_tags && !bad_data) {
        say("tags intact (check %u)", check);
    }
    return !bad_tags && !bad_data;
}

void tag_watch_run(unsigned level, bool per_granule)
{
    bool has_tags = level >= 2;
    uint64_t period = timer_freq() / 1000 * WATCH_PERIOD_MS;

    if (has_tags) {
        watch_fill(per_granule);
        say("loop: watching %u granules (%u KiB) at 0x%lx, a random tag per %s, every %u ms",
            WATCH_GRANULES, WATCH_GRANULES * TAG_GRANULE / 1024, (uint64_t)watch_buf,
            per_granule ? "granule" : "page", WATCH_PERIOD_MS);
    } else {
        say("loop: no tag storage (MTE level %u), heartbeat every %u ms", level, WATCH_PERIOD_MS);
    }
    timer_init();
    uint64_t next = timer_now() + period;
    for (unsigned check = 1;; check++) {
        timer_wait_until(next);
        /* after a long stop (migration downtime, host load) resume the cadence from now */
        uint64_t now = timer_now();
        next = next + period > now ? next + period : now + period;
#ifdef DEMO_CORRUPT_WATCH
        /* test-only build: retag one page before check 2, which must then FAIL */
        if (has_tags && check == 2) {
            uint64_t victim = (uint64_t)&watch_buf[5 * 4096];
            tag_store(ptr_with_tag(victim, tag_load(victim) % 15 + 1));
        }
#endif
        if (has_tags) {
            watch_check(check);
        } else {
            say("alive (check %u, no tag storage)", check);
        }
    }
}
