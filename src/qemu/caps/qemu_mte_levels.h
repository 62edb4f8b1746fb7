/* The MTE levels an emulator can give, from its probed capabilities and,
 * for KVM, the host's facts (docs/capabilities.rst). */
#pragma once

#include "qemu_capabilities.h"
#include "qemu_host.h"

/* The concrete levels (2, 3, 4) that some CPU model (TCG) or the host (KVM)
 * can give with this emulator: bit N set for level N.  For domain caps. */
unsigned tv_qemu_mte_levels(const TvQemuCaps *caps, const TvHostFacts *host, TvAccel accel);

/* QEMU accepts mte=on with KVM from 9.2 (docs/capabilities.rst). */
bool tv_qemu_kvm_mte_supported(const TvQemuCaps *caps);

/* Whether MTE is offered on an emulator whose tag storage failed the probe's
 * self-test (QEMU 7.2: QEMU gitlab issue 1416, fixed in 8.0).  Off by
 * default; set once at start-up by tagvirtd (allow_broken_tag_storage in
 * tagvirtd.conf) or tagvirt (--allow-broken-tag-storage), and then every
 * start of such a guest logs a warning. */
void tv_qemu_mte_set_allow_broken_tag_storage(bool allow);
bool tv_qemu_mte_allow_broken_tag_storage(void);
/* Does the probe of this boot say the level can be offered (no tag-storage
 * defect, or the defect is allowed)? */
bool tv_qemu_mte_tag_storage_usable(const TvGuestAbiResult *r);
