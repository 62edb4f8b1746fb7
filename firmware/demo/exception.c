/* EL1 exception handling for the demo's deliberate tag-check faults. */
#include "console.h"
#include "demo.h"
#include "exception.h"
#include "sysreg.h"

/* Vector 4: synchronous exception from the current EL using SP_EL1. */
#define VECTOR_SYNC_CUR_EL_SPX 4

static volatile bool fault_armed;
static volatile struct demo_fault fault_seen;

void fault_expect(void)
{
    fault_seen.taken = false;
    fault_armed = true;
    __asm__ volatile("" : : : "memory");
}

struct demo_fault fault_take(void)
{
    struct demo_fault f = {
        .taken = fault_seen.taken,
        .esr = fault_seen.esr,
        .far = fault_seen.far,
        .elr = fault_seen.elr,
    };

    fault_armed = false;
    fault_seen.taken = false;
    return f;
}

void demo_exception(struct demo_frame *frame, uint64_t vector)
{
    uint64_t esr = read_sysreg(esr_el1);
    uint64_t far = read_sysreg(far_el1);

    if (vector == VECTOR_SYNC_CUR_EL_SPX && fault_armed && ESR_EC(esr) == EC_DABT_CUR_EL) {
        fault_seen.esr = esr;
        fault_seen.far = far;
        fault_seen.elr = frame->elr;
        fault_seen.taken = true;
        fault_armed = false;
        frame->elr += 4; /* skip the faulting load/store: A64 instructions are 4 bytes */
        return;
    }
    say("unexpected exception (vector %lu, ESR=0x%lx, ELR=0x%016lx, FAR=0x%016lx)", vector, esr,
        frame->elr, far);
    demo_fail_stop();
}
