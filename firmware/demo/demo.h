/* Shared state and exits of the tagvirt demo guest. */
#ifndef DEMO_H
#define DEMO_H

#include <stdbool.h>
#include <stdint.h>

/* ID_AA64PFR1_EL1.MTE as read at start; every summary line reports it. */
extern unsigned demo_level;

/* The image and its stack, from demo.ld: the region whose tags are reset. */
extern char __image_start[], __image_end[];

_Noreturn void demo_power_off(void);
_Noreturn void demo_halt(void);

/* Print the FAIL summary and stop: power off, or halt in the --loop build
 * so that a watcher still sees the guest. */
_Noreturn void demo_fail_stop(void);

#endif
