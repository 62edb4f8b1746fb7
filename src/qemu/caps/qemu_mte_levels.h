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
