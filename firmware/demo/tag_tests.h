/* The demo's tag-check tests (MTE level 2 and 3). */
#ifndef DEMO_TAG_TESTS_H
#define DEMO_TAG_TESTS_H

#include <stdbool.h>

/* Store four different tags in neighbouring granules and read them back.
 * False (and a WARNING line) where tags alias, as with Debian's QEMU 7.2,
 * whose tag lookup drops the offset within the page. Not a test failure:
 * tag checks still fault, only at page-half granularity. */
bool tag_granules_ok(void);

/* Tag a buffer, read it through the right tag and through a wrong one in
 * synchronous mode; PASS needs the second read to fault with DFSC 0x11. */
bool tag_test_sync(void);

/* Asymmetric mode (MTE3): a wrong read faults, a wrong write only sets
 * TFSR_EL1.TF0. Needs tag_test_sync() to have tagged the buffer. */
bool tag_test_asym(void);

#endif
