/* <domainCapabilities> in libvirt's format: what one emulator, machine, arch
 * and virt type can give.  Filled by src/qemu/caps/qemu_domaincaps.c. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *path;
    char *domain; /* "qemu" | "kvm" */
    char *machine;
    char *arch;
    unsigned max_vcpus;
    bool loader_supported;
    char **loader_values; /* UEFI images for this machine (QEMU's firmware descriptors) */
    bool firmware_efi;    /* <os firmware='efi'> can choose one */
    bool host_passthrough;
    bool maximum;
    char **cpu_models; /* custom mode: the 64-bit models */
    bool *cpu_usable;  /* per model: false when QEMU cannot run it on this machine */
    bool disk_supported;
    bool rng_supported;
    bool filesystem_supported; /* <filesystem> driverType 'path' */
    bool tpm_supported;      /* <tpm model='tpm-tis'> with the emulator backend (swtpm), TPM 2.0 */
    bool redirdev_supported; /* <redirdev bus='usb'> (usb-redir) */
    bool gic_supported;
    unsigned gic_versions; /* bit N: GIC version N */
    bool mte_supported;
    unsigned mte_versions; /* bit N: MTE level N */
} TvDomainCaps;

void tv_domain_caps_free(TvDomainCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDomainCaps, tv_domain_caps_free)
char *tv_domain_caps_format(const TvDomainCaps *caps);
