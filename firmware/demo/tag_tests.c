/* Correctly and wrongly tagged accesses, and the faults they must raise. */
#include "console.h"
#include "exception.h"
#include "sysreg.h"
#include "tag.h"
#include "tag_tests.h"

#define BUF_GRANULES 4
#define MAGIC        0x5441475649525421UL /* "TAGVIRT!" */
#define TFSR_TF0     (1UL << 0)

/* A page of its own: QEMU 7.2 shares tags across a page (see tag_granules_ok) */
static uint8_t buf[4096] __attribute__((aligned(4096)));
static uint64_t buf_ptr; /* buf with the tag IRG chose */

/* A tag that differs from the right one and is not 0. */
static unsigned wrong_tag(unsigned tag)
{
#ifdef DEMO_BREAK_WRONG_TAG
    /* test-only build: the "wrong" pointer is right, so no fault may come */
    return tag;
#else
    return tag % 15 + 1;
#endif
}

/* Is f the synchronous tag-check fault that an access to ptr must raise? */
static bool is_tag_fault(const struct demo_fault *f, uint64_t ptr, bool is_write)
{
    const uint64_t addr_bits = 0x0fffffffffffffffUL; /* FAR[63:60] are UNKNOWN */

    return f->taken && ESR_EC(f->esr) == EC_DABT_CUR_EL && ESR_DFSC(f->esr) == DFSC_TAG_CHECK &&
           !!(f->esr & ESR_WNR) == is_write && ((f->far ^ ptr) & addr_bits) == 0;
}

/* Read through ptr, which carries a wrong tag: it must fault synchronously.
 * mode prefixes every line ("" or "asymmetric mode: "). */
static bool expect_read_fault(uint64_t ptr, const char *mode)
{
    fault_expect();
    (void)load64(ptr);
    struct demo_fault f = fault_take();

    if (!f.taken) {
        say("FAIL: %swrongly tagged read of 0x%016lx raised no tag check fault", mode, ptr);
        return false;
    }
    if (!is_tag_fault(&f, ptr, false)) {
        say("FAIL: %sread of 0x%016lx raised a data abort that is not a tag check fault "
            "(ESR=0x%lx, FAR=0x%016lx)",
            mode, ptr, f.esr, f.far);
        return false;
    }
    say("%stag check fault caught (ESR=0x%lx, FAR=0x%016lx)", mode, f.esr, f.far);
    if (f.esr >> 56) {
        /* seen with QEMU 11.1.3 under TCG: bits 63:32 all ones */
        say("WARNING: ESR_EL1 bits [63:56] are RES0 but read 0x%lx", f.esr >> 56);
    }
    return true;
}

bool tag_granules_ok(void)
{
    uint64_t base = (uint64_t)buf;
    unsigned got[BUF_GRANULES];
    bool ok = true;

    for (unsigned g = 0; g < BUF_GRANULES; g++) {
        tag_store(ptr_with_tag(base + g * TAG_GRANULE, g + 1));
    }
    for (unsigned g = 0; g < BUF_GRANULES; g++) {
        got[g] = tag_load(base + g * TAG_GRANULE);
        ok = ok && got[g] == g + 1;
    }
    if (ok) {
        say("tag granules: %u neighbours kept tags 1-%u (16-byte granularity)", BUF_GRANULES,
            BUF_GRANULES);
    } else {
        say("WARNING: tag granules alias: stored tags 1 2 3 4, LDG read %x %x %x %x (the "
            "emulator keeps one tag per even and one per odd granule of a page)",
            got[0], got[1], got[2], got[3]);
    }
    return ok;
}

bool tag_test_sync(void)
{
    uint64_t base = (uint64_t)buf;

    buf_ptr = tag_random(base);
    unsigned tag = ptr_tag(buf_ptr);
    if (tag == 0) {
        say("FAIL: IRG returned tag 0 although GCR_EL1 excludes it");
        return false;
    }
    for (unsigned g = 0; g < BUF_GRANULES; g++) {
        tag_store(buf_ptr + g * TAG_GRANULE);
    }
    tag_check_mode(TAG_CHECK_SYNC);
    say("buffer 0x%lx: allocation tag 0x%x (LDG), pointer 0x%016lx", base, tag_load(base), buf_ptr);

    store64(buf_ptr, MAGIC);
    uint64_t got = load64(buf_ptr);
    if (got != MAGIC) {
        say("FAIL: correctly tagged access read back 0x%lx, wrote 0x%lx", got, MAGIC);
        return false;
    }
    say("correctly tagged access ok (pointer 0x%016lx, read back 0x%lx)", buf_ptr, got);

    uint64_t bad = ptr_with_tag(buf_ptr, wrong_tag(tag)) + TAG_GRANULE;
    say("synchronous mode: reading through wrong tag 0x%x at 0x%016lx", ptr_tag(bad), bad);
    return expect_read_fault(bad, "");
}

bool tag_test_asym(void)
{
    uint64_t bad = ptr_with_tag(buf_ptr, wrong_tag(ptr_tag(buf_ptr))) + 2 * TAG_GRANULE;
    bool pass = true;

    tag_check_mode(TAG_CHECK_ASYM);
    write_sysreg(tfsr_el1, 0);
    isb();
    say("asymmetric mode on (SCTLR_EL1.TCF=3), wrong tag 0x%x at 0x%016lx", ptr_tag(bad), bad);
    pass = expect_read_fault(bad, "asymmetric mode: ") && pass;

    fault_expect();
    store64(bad, MAGIC);
    dsb_sy();
    isb();
    struct demo_fault f = fault_take();
    uint64_t tfsr = read_sysreg(tfsr_el1);
    if (f.taken) {
        say("FAIL: asymmetric mode: wrongly tagged write trapped synchronously (ESR=0x%lx, "
            "FAR=0x%016lx); it must only set TFSR_EL1",
            f.esr, f.far);
        pass = false;
    } else if (!(tfsr & TFSR_TF0)) {
        say("FAIL: asymmetric mode: wrongly tagged write left TFSR_EL1=0x%lx (TF0 not set)", tfsr);
        pass = false;
    } else {
        say("asymmetric mode: wrongly tagged write did not trap, TFSR_EL1=0x%lx (TF0=1)", tfsr);
    }
    write_sysreg(tfsr_el1, 0);
    tag_check_mode(TAG_CHECK_SYNC);
    return pass;
}
