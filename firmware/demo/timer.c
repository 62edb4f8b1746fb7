/* Virtual timer (PPI 27) wake-ups through QEMU virt's GICv2. */
#include <stdbool.h>

#include "sysreg.h"
#include "timer.h"

#define GICD_BASE      0x08000000UL
#define GICC_BASE      0x08010000UL
#define GICD_CTLR      (GICD_BASE + 0x000)
#define GICD_ISENABLER (GICD_BASE + 0x100)
#define GICD_ICPENDR   (GICD_BASE + 0x280)
#define GICD_PIDR2     (GICD_BASE + 0xfe8)
#define GICC_CTLR      (GICC_BASE + 0x000)
#define GICC_PMR       (GICC_BASE + 0x004)

#define VTIMER_PPI  27
#define CNTV_CTL_ON 1UL

static bool timer_wakes_wfi;

static inline volatile uint32_t *reg32(uint64_t addr)
{
    return (volatile uint32_t *)addr;
}

void timer_init(void)
{
    /* GICD_PIDR2.ArchRev 2; a GICv3 reads 0 here and gets the polling path */
    if (((*reg32(GICD_PIDR2) >> 4) & 0xf) != 2) {
        return;
    }
    *reg32(GICD_CTLR) = 1;
    *reg32(GICD_ISENABLER) = 1u << VTIMER_PPI;
    *reg32(GICC_PMR) = 0xff;
    *reg32(GICC_CTLR) = 1;
    timer_wakes_wfi = true;
}

uint64_t timer_now(void)
{
    isb();
    return read_sysreg(cntvct_el0);
}

uint64_t timer_freq(void)
{
    return read_sysreg(cntfrq_el0);
}

void timer_wait_until(uint64_t deadline)
{
    if (!timer_wakes_wfi) {
        while (timer_now() < deadline) {
        }
        return;
    }
    write_sysreg(cntv_cval_el0, deadline);
    write_sysreg(cntv_ctl_el0, CNTV_CTL_ON);
    isb();
    while (timer_now() < deadline) {
        __asm__ volatile("wfi" : : : "memory");
    }
    write_sysreg(cntv_ctl_el0, 0);
    isb();
    /* the GIC latched the level interrupt as pending; drop it or WFI never sleeps again */
    *reg32(GICD_ICPENDR) = 1u << VTIMER_PPI;
}
