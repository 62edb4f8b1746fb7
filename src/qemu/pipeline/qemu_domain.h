/* The definition pipeline for QEMU (docs/architecture.rst): post-parse defaults,
 * validation against one emulator and host, resolution at start. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"
#include "qemu_host.h"
#include "qemu_mte.h"

#define TV_QEMU_DEFAULT_EMULATOR   "/usr/bin/qemu-system-aarch64"
#define TV_QEMU_VNC_LISTEN_DEFAULT "127.0.0.1" /* libvirt's vnc_listen default */

/* Where capabilities come from: the cache for real use, recorded caps in tests. */
/* A new reference to the caps of emulator (tv_qemu_caps_unref), or NULL with an error. */
typedef TvQemuCaps *(*TvQemuCapsLookup)(const char *emulator, void *opaque);

typedef struct {
    const char *default_emulator; /* NULL: TV_QEMU_DEFAULT_EMULATOR */
    const TvHostFacts *host;
    TvQemuCapsLookup caps_lookup;
    void *caps_opaque;
    const char *nvram_dir; /* per-domain UEFI variable stores; NULL: TV_QEMU_NVRAM_DIR_DEFAULT */
} TvQemuPipeline;

/* Defaults that need capabilities: emulator, arch, machine alias -> versioned
 * type, GIC version, CPU mode, loader type.  They are written into the
 * definition so a domain keeps the same guest ABI when defaults change. */
int tv_qemu_domain_post_parse(TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host);

/* Device defaults and addresses (qemu_postparse_devices.c), called by
 * tv_qemu_domain_post_parse. */
int tv_qemu_domain_post_parse_devices(TvDomainDef *def);
/* The same for a running guest's definition with a device to hot-plug
 * (what: "<disk> 'vdb'" for messages): no controller may be added, so a
 * PCI device takes a free pcie-root-port, a SCSI disk needs the
 * virtio-scsi controller the guest has. */
int tv_qemu_domain_post_parse_hotplug(TvDomainDef *def, const char *what);
/* Devices against the emulator's device types (qemu_validate_devices.c),
 * called by tv_qemu_domain_validate. */
int tv_qemu_validate_devices(const TvDomainDef *def, const TvQemuCaps *caps);
/* The same for <sound>, <filesystem> and <vsock> (qemu_command_sound.c,
 * qemu_command_filesystem.c, qemu_command_vsock.c). */
int tv_qemu_validate_sounds(const TvDomainDef *def, const TvQemuCaps *caps);
int tv_qemu_validate_filesystems(const TvDomainDef *def, const TvQemuCaps *caps);
int tv_qemu_validate_vsock(const TvDomainDef *def, const TvQemuCaps *caps);
/* <smartcard> (qemu_command_smartcard.c): one card on ccid controller 0
 * slot 0 (as libvirt with QEMU), and the emulator's usb-ccid and card device. */
int tv_qemu_validate_smartcards(const TvDomainDef *def, const TvQemuCaps *caps);
/* <tpm> (qemu_command_tpm.c): model and the emulator's tpm-tis-device. */
int tv_qemu_validate_tpm(const TvDomainDef *def, const TvQemuCaps *caps);

/* What this emulator and host can do (MTE included, by tv_qemu_mte_plan). */
int tv_qemu_domain_validate(const TvDomainDef *def, const TvQemuCaps *caps,
                            const TvHostFacts *host);

/* At start: abstract values become concrete in the live definition (MTE
 * host/max/bare -> a number plus the probed ABI; GIC host -> a number). */
int tv_qemu_domain_resolve(TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host,
                           TvQemuMtePlan *plan);

/* What the guest of def sees with these capabilities (<guestabi>,
 * domain_guest_abi.h): the probed ID registers of its CPU model and
 * accelerator with its MTE setting.  Left invalid when the probe has nothing
 * for them (KVM without /dev/kvm at probe time, a model QEMU refused).
 * Called by tv_qemu_domain_resolve; a migration destination calls it to
 * compare with the source's record. */
void tv_qemu_guest_abi_record(const TvDomainDef *def, const TvQemuCaps *caps,
                              TvDomainGuestAbi *out);

/* parse + caps lookup + post-parse + validate.  *caps_out (optional) gets
 * a reference to the capabilities used. */
TvDomainDef *tv_qemu_domain_load(const TvQemuPipeline *pipe, const char *xml, size_t len,
                                 unsigned parse_flags, TvQemuCaps **caps_out);
