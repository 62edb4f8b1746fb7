/* <cpu>'s libvirt attributes and children beyond mode, model and topology:
 * match, check, migratable, <model fallback>, <feature policy name>.
 *
 * On aarch64 libvirt compares no CPU models, so match and check change
 * nothing but are kept (clients write them: virt-install always writes
 * match='exact', libvirt's normalized output check='none'); features are
 * QEMU CPU properties (sve, sve128, pauth, ...) that the QEMU driver checks
 * against the probed model and puts on -cpu. */
#pragma once

#include "tv_enum.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TV_CPU_MATCH_ABSENT = 0,
    TV_CPU_MATCH_EXACT,
    TV_CPU_MATCH_MINIMUM,
    TV_CPU_MATCH_STRICT,
    TV_CPU_MATCH_LAST
} TvCpuMatch;
TV_ENUM_DECL(tv_cpu_match)

typedef enum {
    TV_CPU_CHECK_ABSENT = 0,
    TV_CPU_CHECK_NONE,
    TV_CPU_CHECK_PARTIAL,
    TV_CPU_CHECK_FULL,
    TV_CPU_CHECK_LAST
} TvCpuCheck;
TV_ENUM_DECL(tv_cpu_check)

typedef enum {
    TV_CPU_FALLBACK_ABSENT = 0,
    TV_CPU_FALLBACK_ALLOW,
    TV_CPU_FALLBACK_FORBID,
    TV_CPU_FALLBACK_LAST
} TvCpuFallback;
TV_ENUM_DECL(tv_cpu_fallback)

typedef enum {
    TV_CPU_POLICY_ABSENT = 0,
    TV_CPU_POLICY_FORCE,
    TV_CPU_POLICY_REQUIRE,
    TV_CPU_POLICY_OPTIONAL,
    TV_CPU_POLICY_DISABLE,
    TV_CPU_POLICY_FORBID,
    TV_CPU_POLICY_LAST
} TvCpuFeaturePolicy;
TV_ENUM_DECL(tv_cpu_feature_policy)

typedef struct {
    char *name; /* a QEMU CPU property: "sve", "sve256", "pauth" */
    TvCpuFeaturePolicy policy;
} TvDomainCpuFeature;

/* force, require and optional turn the property on; disable and forbid off. */
bool tv_cpu_feature_policy_on(TvCpuFeaturePolicy policy);
