/* Which MTE levels this emulator (and, for KVM, this host) can give at all:
 * a question about capabilities, asked by domain caps and by the MTE plan. */
#include "qemu_mte_levels.h"

#define KVM_MTE_MIN_VERSION 9002000 /* QEMU 9.2: first to accept mte=on with KVM */

bool tv_qemu_kvm_mte_supported(const TvQemuCaps *caps)
{
    return tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE) && caps->version >= KVM_MTE_MIN_VERSION;
}

unsigned tv_qemu_mte_levels(const TvQemuCaps *caps, const TvHostFacts *host, TvAccel accel)
{
    unsigned mask = 0;
    if (tv_qemu_caps_has_mte_version(caps)) {
        const TvQemuMteCaps *mc = tv_qemu_caps_mte_caps(caps, accel);
        for (size_t i = 0; mc && i < mc->nlevels; i++) {
            if (mc->levels[i] >= 2 && mc->levels[i] <= 4)
                mask |= 1u << mc->levels[i];
        }
        return mask;
    }
    if (!tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE))
        return 0;
    if (accel == TV_ACCEL_KVM) {
        if (!tv_qemu_kvm_mte_supported(caps) || !host || !tv_host_kvm_usable(host) ||
            !host->kvm_cap_arm_mte)
            return 0;
        int level = tv_host_mte_level(host);
        return level >= 2 ? 1u << level : 0;
    }
    for (size_t i = 0; i < caps->nprobes; i++) {
        const TvGuestAbiProbe *p = &caps->probes[i];
        if (p->accel != accel || !p->mte_on.ran || p->mte_on.refused)
            continue;
        for (int level = 2; level <= 4; level++) {
            if (tv_mte_abi_satisfies(&p->mte_on.abi, level) &&
                tv_qemu_mte_tag_storage_usable(&p->mte_on))
                mask |= 1u << level;
        }
    }
    return mask;
}

static gint allow_broken; /* set once at start-up; read by every thread */

void tv_qemu_mte_set_allow_broken_tag_storage(bool allow)
{
    g_atomic_int_set(&allow_broken, allow ? 1 : 0);
}

bool tv_qemu_mte_allow_broken_tag_storage(void)
{
    return g_atomic_int_get(&allow_broken) != 0;
}

bool tv_qemu_mte_tag_storage_usable(const TvGuestAbiResult *r)
{
    return r->tags.result != TV_TAG_TEST_FAILED || tv_qemu_mte_allow_broken_tag_storage();
}
