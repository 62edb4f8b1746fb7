/* Firmware in <os>: the firmware attribute (firmware='efi': chosen from
 * QEMU's firmware descriptors by src/qemu), the <firmware> feature
 * constraints, <loader> and <nvram>.
 *
 *   <os firmware='efi'>
 *     <firmware>
 *       <feature enabled='no' name='secure-boot'/>
 *     </firmware>
 *     <loader readonly='yes' secure='no' type='pflash' format='raw'>PATH</loader>
 *     <nvram template='PATH' format='raw'>PATH</nvram>
 *   </os>
 *
 * With firmware='efi' the loader's path may be left out (its attributes are
 * then constraints for the choice); without it, a loader needs a path. */
#pragma once

#include "tv_enum.h"
#include "tv_xml.h"

#include <libxml/tree.h>

typedef enum {
    TV_OS_FIRMWARE_NONE = 0, /* a loader is given, or none (direct kernel boot) */
    TV_OS_FIRMWARE_EFI,
    TV_OS_FIRMWARE_LAST
} TvOsFirmware;
TV_ENUM_DECL(tv_os_firmware) /* "", "efi" */

/* <firmware><feature name='...'/>: what a descriptor must (not) offer. */
typedef enum {
    TV_FIRMWARE_FEATURE_SECURE_BOOT = 0,
    TV_FIRMWARE_FEATURE_ENROLLED_KEYS,
    TV_FIRMWARE_FEATURE_LAST
} TvFirmwareFeature;
TV_ENUM_DECL(tv_firmware_feature) /* "secure-boot", "enrolled-keys" */

typedef enum {
    TV_LOADER_TYPE_DEFAULT = 0,
    TV_LOADER_TYPE_ROM,
    TV_LOADER_TYPE_PFLASH,
    TV_LOADER_TYPE_LAST
} TvLoaderType;
TV_ENUM_DECL(tv_loader_type)

/* The TvFeatureState values (0 absent, 1 on/yes, 2 off/no) as plain ints, so
 * this header does not need domain_conf.h. */
typedef struct {
    TvOsFirmware kind;
    int features[TV_FIRMWARE_FEATURE_LAST]; /* TvFeatureState */
    char *loader;                           /* NULL: none, or chosen (firmware='efi') */
    bool loader_present;                    /* <loader> written (maybe without a path) */
    TvLoaderType loader_type;
    int loader_readonly; /* TvFeatureState: yes -> ON, no -> OFF */
    int loader_secure;   /* TvFeatureState */
    char *nvram;
    char *nvram_template;
} TvDomainFirmware;

/* The firmware attribute of <os> and its <firmware>, <loader>, <nvram>
 * children. */
int tv_domain_firmware_parse(xmlNodePtr os, TvDomainFirmware *fw);
/* The firmware='efi' attribute text for <os> (" firmware='efi'" or ""). */
const char *tv_domain_firmware_os_attr(const TvDomainFirmware *fw);
/* <firmware>, <loader>, <nvram> in libvirt's order. */
void tv_domain_firmware_format(TvXmlWriter *w, const TvDomainFirmware *fw);
void tv_domain_firmware_clear(TvDomainFirmware *fw);
