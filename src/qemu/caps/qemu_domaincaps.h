/* Domain capabilities of one emulator for a machine, arch and virt type. */
#pragma once

#include "domain_capabilities.h"
#include "qemu_capabilities.h"
#include "qemu_host.h"

/* machine/arch/virttype NULL: defaults (the virt alias, the emulator's arch, qemu). */
TvDomainCaps *tv_qemu_domain_caps(const TvQemuCaps *caps, const TvHostFacts *host,
                                  const char *machine, const char *arch, const char *virttype);
