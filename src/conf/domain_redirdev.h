/* <redirdev bus='usb' type='tcp|unix'> and <redirfilter> (domain_redirdev.c):
 * a USB device of another machine, tunnelled over a socket with the usbredir
 * protocol and plugged into the guest's USB controller (QEMU's usb-redir).
 * Included by domain_conf.h, which holds TvDomainDevices. */
#pragma once

#include "domain_devices.h"
#include "tv_enum.h"

#include <stdbool.h>

typedef enum {
    TV_REDIRDEV_TYPE_NONE = 0,
    TV_REDIRDEV_TYPE_TCP,  /* <source mode host service>: QEMU connects or listens */
    TV_REDIRDEV_TYPE_UNIX, /* <source mode path> */
    TV_REDIRDEV_TYPE_LAST
} TvRedirdevType;
TV_ENUM_DECL(tv_redirdev_type) /* "", "tcp", "unix" */

typedef struct {
    TvRedirdevType type;
    bool listen;             /* <source mode='bind'>: QEMU (tcp) or tagvirt (unix) listens */
    char *host;              /* tcp: a host name or an IP address */
    char *service;           /* tcp: the port, 1-65535 */
    char *path;              /* unix: the socket */
    unsigned boot_order;     /* <boot order='N'/>; 0: none (QEMU's bootindex) */
    char *alias;             /* live: QEMU's id of the device ("redir0") */
    TvDeviceAddress address; /* a USB port, assigned by post-parse */
    int passed_fd;           /* runtime only: a unix bind socket's descriptor in QEMU (0: none) */
} TvDomainRedirdev;

/* One <usbdev> rule of <redirfilter>: -1 is "any" (not written). */
typedef struct {
    int usb_class; /* 0x00-0xff */
    int vendor;    /* 0x0000-0xffff */
    int product;   /* 0x0000-0xffff */
    int version;   /* bcdDevice, written "MM.mm" (2.56 is 0x0256) */
    bool allow;
} TvRedirFilterRule;

typedef struct {
    TvRedirFilterRule *rules;
    size_t nrules;
} TvDomainRedirFilter;

void tv_domain_redirdev_free(TvDomainRedirdev *r);
void tv_domain_redirfilter_free(TvDomainRedirFilter *f);
/* "<redirdev type='tcp'> 127.0.0.1:4000" and the like, for messages. */
char *tv_domain_redirdev_describe(const TvDomainRedirdev *r);
/* QEMU's usb-redir filter= string of f ("0x08:0x1234:0xBEEF:0x0256:1|-1:-1:-1:-1:0"). */
char *tv_domain_redirfilter_string(const TvDomainRedirFilter *f);
