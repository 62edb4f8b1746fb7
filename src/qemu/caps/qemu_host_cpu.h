/* The host CPU's model, vendor and features as libvirt names them in
 * <host><cpu> of the capabilities.  On aarch64 libvirt 9.0 maps the MIDR's
 * implementer and part number to its CPU map's vendors and models and lists
 * the AT_HWCAP words; an implementer or part it does not know leaves the
 * model (and the rest) out.  Read from R/proc/cpuinfo under the host root
 * ("CPU implementer", "CPU part", "Features"), which the kernel fills from
 * the same registers, so fixture hosts work.  Other architectures: the
 * vendor only (x86's vendor_id), no model. */
#pragma once

#include "qemu_host.h"

#include <glib.h>

typedef struct {
    char *model;  /* NULL: unknown */
    char *vendor; /* NULL: unknown */
    GStrv features;
} TvHostCpuModel;

TvHostCpuModel *tv_host_cpu_model_read(const TvHostFacts *host);
void tv_host_cpu_model_free(TvHostCpuModel *cpu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvHostCpuModel, tv_host_cpu_model_free)

/* The libvirt CPU map's aarch64 model names (for messages and baseline). */
bool tv_host_cpu_model_known(const char *model);
