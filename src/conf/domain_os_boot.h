/* Boot order: <os><boot dev='hd|cdrom|network'/> (a list, first is tried
 * first) and a device's own <boot order='N'/>.  libvirt's rules: the two
 * cannot be mixed; an order is used by one device only.  src/qemu turns
 * both into QEMU's bootindex (qemu_boot.h). */
#pragma once

#include "tv_enum.h"
#include "tv_xml.h"

#include <libxml/tree.h>
#include <stddef.h>

typedef enum {
    TV_BOOT_DEV_NONE = 0,
    TV_BOOT_DEV_HD,
    TV_BOOT_DEV_CDROM,
    TV_BOOT_DEV_NETWORK,
    TV_BOOT_DEV_LAST
} TvBootDev;
TV_ENUM_DECL(tv_boot_dev) /* "", "hd", "cdrom", "network" */

#define TV_BOOT_DEVS_MAX  (TV_BOOT_DEV_LAST - 1) /* each at most once */
#define TV_BOOT_ORDER_MAX 9999

typedef struct {
    TvBootDev devs[TV_BOOT_DEVS_MAX];
    size_t ndevs;
} TvDomainBootOrder;

/* Every <boot dev> child of <os>, in order. */
int tv_domain_boot_devs_parse(xmlNodePtr os, TvDomainBootOrder *order);
void tv_domain_boot_devs_format(TvXmlWriter *w, const TvDomainBootOrder *order);

/* A device's <boot order='N'/> (N from 1): *order_out gets N. */
int tv_domain_device_boot_parse(xmlNodePtr boot, unsigned *order_out);
/* <boot order='N'/> at the writer's indentation; nothing for 0. */
void tv_domain_device_boot_format(TvXmlWriter *w, unsigned order);
