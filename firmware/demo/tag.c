/* MTE control registers of EL1. */
#include "demo.h"
#include "sysreg.h"
#include "tag.h"

#define SCTLR_ITFSB     (1UL << 37)
#define SCTLR_TCF_SHIFT 40
#define SCTLR_TCF_MASK  (3UL << SCTLR_TCF_SHIFT)
#define SCTLR_ATA       (1UL << 43)

#define GCR_EXCLUDE_TAG0 (1UL << 0) /* RRND=0: IRG uses the RGSR_EL1 seed */

void tag_check_mode(enum tag_check mode)
{
    uint64_t sctlr = read_sysreg(sctlr_el1) & ~SCTLR_TCF_MASK;

    write_sysreg(sctlr_el1, sctlr | ((uint64_t)mode << SCTLR_TCF_SHIFT));
    isb();
}

void tag_setup(void)
{
    /* a seed from the counter so tags differ from run to run; never 0 */
    uint64_t seed = (read_sysreg(cntvct_el0) & 0xffff) | 1;

    write_sysreg(gcr_el1, GCR_EXCLUDE_TAG0);
    write_sysreg(rgsr_el1, seed << 8);
    write_sysreg(sctlr_el1, (read_sysreg(sctlr_el1) & ~SCTLR_TCF_MASK) | SCTLR_ATA | SCTLR_ITFSB);
    isb();
    __asm__ volatile("msr tco, #0" : : : "memory");
    write_sysreg(tfsr_el1, 0);
    isb();
    for (uint64_t a = (uint64_t)__image_start; a < (uint64_t)__image_end; a += TAG_GRANULE) {
        tag_store(a);
    }
    dsb_sy();
}
