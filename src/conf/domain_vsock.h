/* <vsock model='virtio'><cid auto='yes|no' address='N'/></vsock>
 * (domain_vsock.c).  Included by domain_conf.h. */
#pragma once

#include "domain_devices.h"

#include <stdbool.h>

#define TV_VSOCK_CID_MIN 3           /* 0-2 are the hypervisor's, local and the host's */
#define TV_VSOCK_CID_MAX 0xfffffffeu /* 0xffffffff is VMADDR_CID_ANY */

typedef struct {
    bool cid_written;  /* a <cid> element was written */
    bool auto_cid;     /* auto='yes' (or no <cid>): a free CID is taken at start */
    bool auto_written; /* the auto attribute was written */
    unsigned cid;      /* address='N'; live: the CID the guest got; 0: none */
    TvDeviceAddress address;
} TvDomainVsock;
