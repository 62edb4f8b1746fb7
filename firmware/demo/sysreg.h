/* System register access and barriers for the tagvirt demo guest. */
#ifndef DEMO_SYSREG_H
#define DEMO_SYSREG_H

#include <stdint.h>

/* two steps so a register named by a macro (ID_AA64PFR2_EL1) expands first */
#define sysreg_str_(reg) #reg
#define sysreg_str(reg)  sysreg_str_(reg)

#define read_sysreg(reg)                                                                           \
    ({                                                                                             \
        uint64_t val_;                                                                             \
        __asm__ volatile("mrs %0, " sysreg_str(reg) : "=r"(val_));                                 \
        val_;                                                                                      \
    })

#define write_sysreg(reg, val)                                                                     \
    __asm__ volatile("msr " sysreg_str(reg) ", %0" : : "r"((uint64_t)(val)) : "memory")

#define isb()    __asm__ volatile("isb" : : : "memory")
#define dsb_sy() __asm__ volatile("dsb sy" : : : "memory")

/* ID_AA64PFR2_EL1 by encoding: older assemblers lack the name, and it reads
 * as zero on CPUs that predate it (reserved ID space is RAZ). */
#define ID_AA64PFR2_EL1 S3_0_C0_C4_2

static inline unsigned field(uint64_t reg, unsigned lsb)
{
    return (unsigned)((reg >> lsb) & 0xf);
}

#endif
