/* tagvirt demo guest: report the MTE level the vCPU shows and prove that
 * tag checks really fault. Built twice: demo.elf powers off at the end,
 * demo-loop.elf (-DDEMO_LOOP) keeps watching a tagged buffer, demo-flood.elf
 * (-DDEMO_FLOOD) writes to the console as fast as it can (console tests). */
#include "console.h"
#include "demo.h"
#include "mmu.h"
#include "sysreg.h"
#include "tag.h"
#include "tag_tests.h"
#include "tag_watch.h"

void demo_main(void);

unsigned demo_level;

void demo_fail_stop(void)
{
    say("done level=%u result=FAIL", demo_level);
#ifdef DEMO_LOOP
    demo_halt();
#else
    demo_power_off();
#endif
}

void demo_main(void)
{
#ifdef DEMO_FLOOD
    for (unsigned long n = 0;; n++)
        say("flood %lu: the quick brown fox jumps over the lazy dog", n);
#endif
    uint64_t pfr1 = read_sysreg(id_aa64pfr1_el1);
    uint64_t pfr2 = read_sysreg(ID_AA64PFR2_EL1);
    bool pass = true;
    bool per_granule = false;

    demo_level = field(pfr1, 8);
    say("MTE level %u (PFR1=0x%016lx PFR2=0x%016lx)", demo_level, pfr1, pfr2);
    say("fields: MTE=%u MTE_frac=%u MTEX=%u MTEFAR=%u MTESTOREONLY=%u MTEPERM=%u", demo_level,
        field(pfr1, 40), field(pfr1, 52), field(pfr2, 8), field(pfr2, 4), field(pfr2, 0));

    if (demo_level < 2) {
        say("tag storage absent (MTE level %u): tag tests skipped", demo_level);
    } else {
        mmu_enable();
        say("MMU on: RAM Tagged Normal (MAIR attr 0x%x), UART Device-nGnRE (0x%02x)",
            MAIR_TAGGED_NORMAL, MAIR_DEVICE_NGNRE);
        tag_setup();
        per_granule = tag_granules_ok();
        pass = tag_test_sync();
        if (demo_level >= 3) {
            pass = tag_test_asym() && pass;
        } else {
            say("asymmetric mode skipped (needs MTE level 3)");
        }
    }

#ifdef DEMO_LOOP
    say("done level=%u result=%s, looping", demo_level, pass ? "PASS" : "FAIL");
    tag_watch_run(demo_level, per_granule);
#else
    (void)per_granule; /* only the watch uses it */
    say("done level=%u result=%s", demo_level, pass ? "PASS" : "FAIL");
    demo_power_off();
#endif
}
