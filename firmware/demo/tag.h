/* MTE primitives: tag instructions, checked accesses and the check mode. */
#ifndef DEMO_TAG_H
#define DEMO_TAG_H

#include <stdint.h>

#define TAG_GRANULE 16
#define TAG_SHIFT   56
#define TAG_MASK    (0xfUL << TAG_SHIFT)

/* SCTLR_EL1.TCF: what a tag mismatch at EL1 does. */
enum tag_check {
    TAG_CHECK_NONE = 0,
    TAG_CHECK_SYNC = 1,
    TAG_CHECK_ASYNC = 2,
    TAG_CHECK_ASYM = 3, /* FEAT_MTE3: reads synchronous, writes asynchronous */
};

/* Enable allocation-tag access (SCTLR_EL1.ATA), make IRG exclude tag 0,
 * seed IRG, clear PSTATE.TCO and reset the tags of the whole image to 0
 * (a guest reset keeps tag memory). Checks stay off. */
void tag_setup(void);

void tag_check_mode(enum tag_check mode);

static inline unsigned ptr_tag(uint64_t ptr)
{
    return (unsigned)((ptr >> TAG_SHIFT) & 0xf);
}

static inline uint64_t ptr_with_tag(uint64_t ptr, unsigned tag)
{
    return (ptr & ~TAG_MASK) | ((uint64_t)(tag & 0xf) << TAG_SHIFT);
}

/* IRG: addr with a random tag not excluded by GCR_EL1. */
static inline uint64_t tag_random(uint64_t addr)
{
    uint64_t tagged;

    __asm__ volatile("irg %0, %1" : "=r"(tagged) : "r"(addr));
    return tagged;
}

/* STG: set the granule's allocation tag to the pointer's tag. */
static inline void tag_store(uint64_t tagged)
{
    __asm__ volatile("stg %0, [%0]" : : "r"(tagged) : "memory");
}

/* LDG: the granule's allocation tag. */
static inline unsigned tag_load(uint64_t addr)
{
    uint64_t val = addr;

    __asm__ volatile("ldg %0, [%0]" : "+r"(val) : : "memory");
    return ptr_tag(val);
}

/* Checked 8-byte accesses as single instructions, so a fault handler can
 * skip exactly the faulting one. */
static inline uint64_t load64(uint64_t ptr)
{
    uint64_t val;

    __asm__ volatile("ldr %0, [%1]" : "=r"(val) : "r"(ptr) : "memory");
    return val;
}

static inline void store64(uint64_t ptr, uint64_t val)
{
    __asm__ volatile("str %1, [%0]" : : "r"(ptr), "r"(val) : "memory");
}

#endif
