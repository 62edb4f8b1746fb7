/* Addresses behind controllers: USB ports, virtio-serial ports.  Like PCI addresses
 * (domain_pci_address.h), they are assigned by post-parse and written into
 * the definition. */
#pragma once

#include "domain_conf.h"

/* Check written USB addresses (an enabled controller of that index, a port
 * it has, no port twice) and give the other USB devices the lowest free
 * port of controller 0. */
int tv_domain_usb_assign(TvDomainDef *def);

/* Add the virtio-serial controller channels and virtio consoles need
 * (before the PCI assignment), then give channels their ports. */
void tv_domain_virtio_serial_prepare(TvDomainDef *def);
int tv_domain_virtio_serial_assign(TvDomainDef *def);

/* <smartcard> (domain_smartcard.c): refused without USB; a card without
 * an address takes slot 0 of the lowest free CCID controller, and the CCID
 * controllers the cards name are added (before the USB assignment, which
 * gives them their USB ports). */
int tv_domain_smartcard_prepare(TvDomainDef *def);

/* Add the SCSI controller SCSI disks need (before the PCI assignment),
 * then give SCSI disks their drive addresses. */
void tv_domain_scsi_prepare(TvDomainDef *def);
int tv_domain_drive_assign(TvDomainDef *def);

/* The controller of that type and index, or NULL. */
const TvDomainController *tv_domain_controller_find(const TvDomainDef *def, TvControllerType type,
                                                    unsigned index);
/* What uses SCSI or virtio-serial controller c (its first SCSI disk, or
 * channel or virtio console), as "<disk> 'sda'", or NULL when nothing
 * does. */
char *tv_domain_controller_user(const TvDomainDef *def, const TvDomainController *c);
/* 0 when controller c can leave def (hot-unplug, detach): a SCSI or
 * virtio-serial controller nothing uses.  Else -1 with libvirt's errors:
 * OPERATION_UNSUPPORTED for other types, OPERATION_FAILED "device is busy"
 * naming what is on it. */
int tv_domain_controller_check_removal(const TvDomainDef *def, const TvDomainController *c);
/* The ports a USB controller has (its ports='N', else qemu-xhci's 4). */
unsigned tv_domain_usb_ports(const TvDomainController *ctrl);
