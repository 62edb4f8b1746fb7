/* Facts about the host that decide what KVM guests can get, read under a
 * configurable root so tests can use fixture hosts (tests/hostdata/).
 *
 * Under root R:
 *   R/proc/sys/kernel/osrelease   kernel release
 *   R/proc/cpuinfo                'Features' words (mte, mte3) and the arch
 *   R/dev/kvm                     presence = KVM; on the real root the
 *                                 capabilities come from KVM_CHECK_EXTENSION;
 *                                 a fixture (a regular file) lists them as
 *                                 "KVM_CAP_ARM_MTE=1" lines, since a fixture
 *                                 cannot answer an ioctl.
 * On the real root the aux vector (AT_HWCAP2: MTE bit 18, MTE3 bit 22) is
 * used as well. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *root;
    char *kernel_release;
    char *arch; /* "aarch64", "x86_64" */
    bool kvm_present;
    bool kvm_cap_arm_mte; /* KVM_CAP_ARM_MTE (205) */
    bool hwcap_mte;       /* HWCAP2_MTE, or cpuinfo 'mte' */
    bool hwcap_mte3;      /* HWCAP2_MTE3, or cpuinfo 'mte3' */
} TvHostFacts;

/* root NULL or "/" means the real host. */
TvHostFacts *tv_host_facts_read(const char *root);
void tv_host_facts_free(TvHostFacts *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvHostFacts, tv_host_facts_free)

/* The MTE level the host gives KVM guests: 3, 2 or 0. */
int tv_host_mte_level(const TvHostFacts *host);
/* Can this host run KVM guests for an aarch64 binary? */
bool tv_host_kvm_usable(const TvHostFacts *host);
