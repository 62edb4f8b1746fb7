/* <features> children that libvirt accepts for every QEMU guest and that
 * clients write for aarch64 too: <apic/>, <pae/>, <hap/> (accepted and
 * written back, no effect on aarch64, as with libvirt) and <vmcoreinfo/>
 * (QEMU's vmcoreinfo device, so a guest kernel's crash dump can be read). */
#pragma once

#include "tv_xml.h"

#include <libxml/tree.h>
#include <stdbool.h>

/* The TvFeatureState values as ints (0 absent, 1 on, 2 off). */
typedef struct {
    int apic;       /* <apic/>: ON when present */
    int pae;        /* <pae/>: ON when present */
    int hap;        /* <hap state='on|off'/>, bare: ON */
    int vmcoreinfo; /* <vmcoreinfo state='on|off'/>, bare: ON */
} TvDomainFeaturesCompat;

/* The child elements named in TV_DOMAIN_FEATURES_COMPAT_NAMES of <features>. */
#define TV_DOMAIN_FEATURES_COMPAT_NAMES "apic", "pae", "hap", "vmcoreinfo"
int tv_domain_features_compat_parse(xmlNodePtr features, TvDomainFeaturesCompat *out);
bool tv_domain_features_compat_any(const TvDomainFeaturesCompat *f);
/* apic, pae, hap (libvirt's order: after <acpi/>). */
void tv_domain_features_compat_format_x86(TvXmlWriter *w, const TvDomainFeaturesCompat *f);
/* vmcoreinfo (libvirt's order: after <gic>). */
void tv_domain_features_compat_format_vmcoreinfo(TvXmlWriter *w, const TvDomainFeaturesCompat *f);
