/* The PCI Express topology of an aarch64 'virt' guest, as libvirt builds it:
 * pcie-root (bus 0, whose slot 0 is the host bridge), pcie-root-ports
 * packed eight to a slot of bus 0 (functions 0-7, multifunction on function
 * 0), one PCIe device per root port (slot 0), and a pcie-to-pci-bridge
 * (slots 1-31) for conventional PCI devices.
 *
 * Addresses are assigned once, by post-parse, and written into the
 * definition: they stay the same across redefinition of the dumped XML,
 * restart and migration.  Root ports are added for devices without an
 * address, plus one free port for hot-plug whenever any was added. */
#pragma once

#include "domain_conf.h"

typedef enum {
    TV_PCI_ASSIGN_DEFAULT = 0,
    /* hot-plug: controllers cannot be added to a running guest, so a device
     * without an address must find a free port in what exists */
    TV_PCI_ASSIGN_NO_NEW_CONTROLLERS = 1 << 0,
} TvPciAssignFlags;

/* Check every written PCI address (inside the topology, no two devices on
 * one function, controllers plugged where they fit), add pcie-root and the
 * controllers devices need, give every PCI device without an address one,
 * and fill in root ports' chassis/port and multifunction.  Errors name the
 * device and the address; def is unchanged on error only for the
 * NO_NEW_CONTROLLERS flag's refusal (callers work on a copy). */
int tv_domain_pci_assign(TvDomainDef *def, unsigned flags);

/* A pcie-root-port with nothing plugged in (slot 0 of its bus free), for a
 * device to hot-plug: *addr gets that bus, slot 0, function 0.  -1 with an
 * error saying how to add root ports when there is none. */
int tv_domain_pci_find_free_port(const TvDomainDef *def, TvDeviceAddress *addr);

/* The PCI controller of that index, or NULL. */
const TvDomainController *tv_domain_pci_controller(const TvDomainDef *def, unsigned index);
