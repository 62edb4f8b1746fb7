/* MTE: from what the user asked (<mte>) to what QEMU is told, by one of two
 * routes (docs/formatdomain.rst, "MTE"):
 *   1. the proposed interface (virt has mte-version, query-mte-capabilities
 *      exists): -machine ...,mte-version=N with N that QEMU lists;
 *   2. released QEMU: -machine ...,mte=on, verified against the probed guest
 *      ABI of the CPU model (TCG) or the host's facts (KVM). */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"
#include "qemu_host.h"
#include "qemu_mte_levels.h"

typedef enum {
    TV_MTE_ROUTE_NONE = 0,    /* MTE off: nothing on the command line */
    TV_MTE_ROUTE_MTE_VERSION, /* mte-version=N */
    TV_MTE_ROUTE_MTE_ON,      /* mte=on, level verified from probes / host facts */
} TvMteRoute;

typedef struct {
    TvMteRoute route;
    int level;    /* 0 (off), 2, 3 or 4 */
    TvMteAbi abi; /* what the guest will see, when probed (abi.valid) */
    /* set when the level is given on an emulator with broken tag storage
     * because that was explicitly allowed: logged at every start */
    char warning[512];
} TvQemuMtePlan;

/* The CPU model QEMU gets for this definition ("max", "host", "cortex-a710"). */
const char *tv_qemu_cpu_model_name(const TvDomainDef *def);
TvAccel tv_qemu_accel(const TvDomainDef *def);

/* Decide the route and the level; on refusal report an error that says what
 * the configuration would give and what would give the request. */
int tv_qemu_mte_plan(const TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host,
                     TvQemuMtePlan *plan);
