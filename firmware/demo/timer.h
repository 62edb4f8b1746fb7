/* Waiting on the generic timer without spinning the host CPU. */
#ifndef DEMO_TIMER_H
#define DEMO_TIMER_H

#include <stdint.h>

/* Route the virtual timer through a GICv2 so WFI can sleep until it
 * fires (IRQs stay masked; the interrupt only wakes the CPU). Without a
 * GICv2, waits poll the counter. */
void timer_init(void);

uint64_t timer_now(void);
uint64_t timer_freq(void);

/* Return once CNTVCT_EL0 >= deadline. */
void timer_wait_until(uint64_t deadline);

#endif
