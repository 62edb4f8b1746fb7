/* The guest ABI a running domain was given: what the guest sees of its CPU
 * and machine, recorded at start (status XML) and carried by migration
 * cookies and saved images, so a guest never moves to an emulator that would
 * show it something else (docs/migration.rst).
 *
 *   <guestabi accel='tcg' cpu='max' machine='virt-7.2'
 *             pfr1='0x0000000001000321' pfr2='0x0000000000000000'
 *             emulator='QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)'/>
 *
 * pfr1 and pfr2 are ID_AA64PFR1_EL1 and ID_AA64PFR2_EL1 as the capabilities
 * probe saw them with this CPU model, accelerator and MTE setting: every
 * field, not only MTE's (the whole ID register set is the goal; these two are
 * what the probe reads today).  emulator is for messages only. */
#pragma once

#include "domain_mte.h"
#include "tv_xml.h"

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool valid;
    char *accel;     /* "tcg", "kvm" */
    char *cpu_model; /* "max", "host", "cortex-a710" */
    char *machine;   /* the versioned machine type, "virt-7.2" */
    uint64_t pfr1;   /* ID_AA64PFR1_EL1 */
    uint64_t pfr2;   /* ID_AA64PFR2_EL1 */
    char *emulator;  /* "QEMU 7.2.22 (Debian ...)", for messages; may be NULL */
} TvDomainGuestAbi;

void tv_domain_guest_abi_clear(TvDomainGuestAbi *abi);
void tv_domain_guest_abi_copy(TvDomainGuestAbi *dst, const TvDomainGuestAbi *src);
/* The MTE fields of the registers (tv_mte_abi_from_regs). */
void tv_domain_guest_abi_mte(const TvDomainGuestAbi *abi, TvMteAbi *out);

/* The element as above (nothing when !valid). */
void tv_domain_guest_abi_format(TvXmlWriter *w, const TvDomainGuestAbi *abi);
/* node is <guestabi>: every attribute but emulator required, registers as
 * 0x and 16 hex digits or decimal.  -1 with an error naming the attribute. */
int tv_domain_guest_abi_parse(xmlNodePtr node, TvDomainGuestAbi *abi);

/* Is what dst offers the same guest ABI as src?  Compared in this order:
 * accelerator, CPU model, machine type, the MTE fields (MTE, MTE_frac, MTEX,
 * MTEFAR, MTESTOREONLY, MTEPERM), then every other 4-bit field of both
 * registers.  On the first difference reports CONFIG_UNSUPPORTED naming the
 * field and both values, "guest ABI: <field> differs: <src_label> <value>,
 * <dst_label> <value>", and returns false. */
bool tv_domain_guest_abi_check(const TvDomainGuestAbi *src, const TvDomainGuestAbi *dst,
                               const char *src_label, const char *dst_label);

/* The name of the 4-bit field at bit shift of register 1 or 2 ("MTE",
 * "SME", ...), or NULL for a field without a name here. */
const char *tv_guest_abi_field_name(int reg, unsigned shift);
