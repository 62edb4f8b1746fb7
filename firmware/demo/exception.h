/* EL1 exceptions: a test arms an expected data abort, anything else is fatal. */
#ifndef DEMO_EXCEPTION_H
#define DEMO_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

#define ESR_EC(esr)    (((esr) >> 26) & 0x3f)
#define ESR_DFSC(esr)  ((esr)&0x3f)
#define ESR_WNR        (1UL << 6)
#define EC_DABT_CUR_EL 0x25
#define DFSC_TAG_CHECK 0x11

/* Registers as saved by start.S, in this order. */
struct demo_frame {
    uint64_t x[31];
    uint64_t elr;
};

struct demo_fault {
    bool taken;
    uint64_t esr;
    uint64_t far;
    uint64_t elr;
};

/* The next data abort at EL1 is recorded and its instruction skipped. */
void fault_expect(void);

/* Disarm and return what was recorded since fault_expect(). */
struct demo_fault fault_take(void);

/* Called from the vector table; vector is the entry's index (0-15). */
void demo_exception(struct demo_frame *frame, uint64_t vector);

#endif
