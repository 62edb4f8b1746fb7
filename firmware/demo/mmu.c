/* One level-1 table of 1 GiB blocks (4K granule, 39-bit VA): enough for a
 * program that only touches the UART, the GIC and its own image. */
#include <stdint.h>

#include "mmu.h"
#include "sysreg.h"

#define ATTR_IDX_DEVICE 0
#define ATTR_IDX_TAGGED 1

#define DESC_BLOCK     (1UL << 0)
#define DESC_ATTR(idx) ((uint64_t)(idx) << 2)
#define DESC_SH_INNER  (3UL << 8)
#define DESC_AF        (1UL << 10)
#define DESC_PXN       (1UL << 53)
#define DESC_UXN       (1UL << 54)

#define TCR_T0SZ(n)    ((uint64_t)(n) << 0)
#define TCR_IRGN0_WBWA (1UL << 8)
#define TCR_ORGN0_WBWA (1UL << 10)
#define TCR_SH0_INNER  (3UL << 12)
#define TCR_TG0_4K     (0UL << 14)
#define TCR_T1SZ(n)    ((uint64_t)(n) << 16)
#define TCR_EPD1       (1UL << 23)
#define TCR_IPS_4G     (0UL << 32)
#define TCR_TBI0       (1UL << 37)

#define SCTLR_M (1UL << 0)
#define SCTLR_C (1UL << 2)
#define SCTLR_I (1UL << 12)

#define GIB 0x40000000UL

static uint64_t l1_table[512] __attribute__((aligned(4096)));

void mmu_enable(void)
{
    l1_table[0] = 0 | DESC_BLOCK | DESC_ATTR(ATTR_IDX_DEVICE) | DESC_AF | DESC_PXN | DESC_UXN;
    l1_table[1] =
        GIB | DESC_BLOCK | DESC_ATTR(ATTR_IDX_TAGGED) | DESC_SH_INNER | DESC_AF | DESC_UXN;

    write_sysreg(mair_el1, ((uint64_t)MAIR_DEVICE_NGNRE << (8 * ATTR_IDX_DEVICE)) |
                               ((uint64_t)MAIR_TAGGED_NORMAL << (8 * ATTR_IDX_TAGGED)));
    /* TCMA0 stays 0: tag-0 pointers are checked too, against tag-0 memory */
    write_sysreg(tcr_el1, TCR_T0SZ(25) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
                              TCR_TG0_4K | TCR_T1SZ(25) | TCR_EPD1 | TCR_IPS_4G | TCR_TBI0);
    write_sysreg(ttbr0_el1, (uint64_t)l1_table);
    __asm__ volatile("dsb ish\n\ttlbi vmalle1\n\tdsb ish" : : : "memory");
    isb();
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I);
    isb();
}
