/* Would two definitions of one domain give the guest the same ABI?  The
 * check a migration runs between the source's live definition and the one
 * the destination will start (a caller's destination XML included), and that
 * a restore runs against the saved image's definition (docs/migration.rst).
 *
 * Compared: domain type, name, uuid, OS type, architecture, machine type,
 * maximum memory, vCPUs, the guest-visible features (ACPI, GIC, PMU, MTE
 * state and level), the CPU (mode, model, topology, features on or off) and
 * every guest-visible device by position: its kind and model, its identity
 * (disk target, MAC, controller index, port) and its address.  Not compared:
 * what only the host sees (disk paths, cache modes, bridges, graphics and
 * their listen addresses, lifecycle actions, title, description, metadata). */
#pragma once

#include "domain_conf.h"

#include <stdbool.h>

/* On the first difference reports VIR_ERR_CONFIG_UNSUPPORTED, "guest ABI:
 * <element> differs: source '<value>', target '<value>'" (MTE differences in
 * the words of tv_domain_mte_check_abi_stability), and returns false. */
bool tv_domain_def_check_abi_stability(const TvDomainDef *src, const TvDomainDef *dst);
