/* <cpu> for QEMU: features checked against the probed model's properties,
 * the -cpu value, and -smp the way libvirt writes it. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"

/* Every <feature> names a CPU feature property of the model QEMU will run
 * (the custom model, 'max' for maximum, 'host' for host-passthrough). */
int tv_qemu_cpu_validate_features(const TvDomainDef *def, const TvQemuCaps *caps);
/* "max,pmu=on,sve=on,sve128=off" (newly allocated). */
char *tv_qemu_cpu_arg(const TvDomainDef *def);
/* "N,sockets=S,dies=1,cores=C,threads=T": libvirt's -smp, every factor
 * written; without <topology> one socket per vCPU. */
char *tv_qemu_smp_arg(const TvDomainDef *def);
