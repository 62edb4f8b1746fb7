/* The <mte> feature element: parse, format and ABI comparison in one place.
 *
 *   absent / <mte state='off'/>     no tag storage
 *   <mte version='2|3|4'/>          exactly that level
 *   <mte version='host|max'/>       resolved to a number at start
 *   <mte/> or <mte state='on'/>     host for KVM, max for TCG
 */
#pragma once

#include "tv_enum.h"
#include "tv_xml.h"

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TV_MTE_REQUEST_ABSENT = 0, /* no element */
    TV_MTE_REQUEST_OFF,        /* state='off' */
    TV_MTE_REQUEST_DEFAULT,    /* bare element / state='on': host (KVM) or max (TCG) */
    TV_MTE_REQUEST_2,
    TV_MTE_REQUEST_3,
    TV_MTE_REQUEST_4,
    TV_MTE_REQUEST_HOST,
    TV_MTE_REQUEST_MAX,
    TV_MTE_REQUEST_LAST
} TvMteRequest;

/* The MTE part of what the guest sees, as probed (the guest ABI). */
typedef struct {
    bool valid;
    uint8_t mte;          /* ID_AA64PFR1_EL1.MTE [11:8] */
    uint8_t mte_frac;     /* ID_AA64PFR1_EL1.MTE_frac [43:40] */
    uint8_t mtex;         /* ID_AA64PFR1_EL1.MTEX [55:52] */
    uint8_t mtefar;       /* ID_AA64PFR2_EL1.MTEFAR [11:8] */
    uint8_t mtestoreonly; /* ID_AA64PFR2_EL1.MTESTOREONLY [7:4] */
    uint8_t mteperm;      /* ID_AA64PFR2_EL1.MTEPERM [3:0] */
} TvMteAbi;

typedef struct {
    TvMteRequest request; /* what the user wrote (inactive XML) */
    int level;            /* resolved at start: 0 (off), 2, 3 or 4; -1 unresolved */
    TvMteAbi abi;         /* recorded at start (status XML, migration cookie) */
} TvDomainMte;

/* The number a concrete request asks for (2, 3, 4), or 0. */
int tv_mte_request_level(TvMteRequest request);
/* "version='3'", "version='max'", "state='off'", "(absent)" for messages. */
const char *tv_mte_request_describe(TvMteRequest request);
bool tv_mte_request_is_off(TvMteRequest request);

/* The levels, field by field: the one definition validation, domain caps,
 * refusal hints and the ABI check use (docs/formatdomain.rst, "MTE levels").
 *   2: MTE=2, MTE_frac=0, MTEX=0, MTEFAR=0, MTESTOREONLY=0, MTEPERM=0
 *   3: MTE=3, MTE_frac=0, every FEAT_MTE4 field 0
 *   4: MTE=3, MTE_frac=0, MTEX=1, MTEFAR=1, MTESTOREONLY=1, MTEPERM=1 */
#define TV_MTE_LEVEL_MIN 2
#define TV_MTE_LEVEL_MAX 4
/* The fields of a level (valid is set), or NULL for anything but 2, 3, 4. */
const TvMteAbi *tv_mte_level_abi(int level);

/* The level whose definition the guest ABI matches in every field (2, 3, 4);
 * 0 when every MTE field is 0; -1 for anything else (MTE 1, instructions
 * only, or a mix such as MTE 3 with only some FEAT_MTE4 parts). */
int tv_mte_abi_level(const TvMteAbi *abi);
/* Does a guest with this ABI satisfy a concrete requested level: every field
 * equal to that level's definition? */
bool tv_mte_abi_satisfies(const TvMteAbi *abi, int level);
/* MTE >= 2: the guest has tag storage (FEAT_MTE2 or later). */
bool tv_mte_abi_has_tag_storage(const TvMteAbi *abi);
void tv_mte_abi_from_regs(uint64_t pfr1, uint64_t pfr2, TvMteAbi *abi);
bool tv_mte_abi_equal(const TvMteAbi *a, const TvMteAbi *b);
/* "MTE=3 MTE_frac=0 MTEX=0 MTEFAR=0 MTESTOREONLY=0 MTEPERM=0" */
char *tv_mte_abi_describe(const TvMteAbi *abi);
/* What a person reads: "level 3", "level 4", "0 (no MTE)", "1 (instructions
 * only, no tag storage) with MTEX=1 MTEFAR=1 MTESTOREONLY=1 MTEPERM=1",
 * "MTE=3 with MTEX=1 (matches no level)". */
char *tv_mte_abi_summary(const TvMteAbi *abi);

/* The guest ABI as XML attributes (status and live XML):
 * mte='3' mte_frac='0' mtex='0' mtefar='0' mtestoreonly='0' mteperm='0' */
char *tv_mte_abi_format_attrs(const TvMteAbi *abi);
/* The same attributes back from node (every one required, each 0..15). */
int tv_mte_abi_parse_attrs(xmlNodePtr node, TvMteAbi *abi);

/* node is the <mte> element (at most one: the caller checks duplicates).
 * User XML may hold the <abi> child that live XML shows: it is output only
 * and ignored (checked, not kept), so live XML can be defined again. */
int tv_domain_mte_parse(xmlNodePtr node, TvDomainMte *mte, bool status);

typedef enum {
    TV_DOMAIN_MTE_FORMAT_INACTIVE = 0, /* what the user wrote */
    TV_DOMAIN_MTE_FORMAT_LIVE,         /* the resolved number; MTE off with what the guest sees */
    TV_DOMAIN_MTE_FORMAT_MIGRATABLE,   /* the resolved number only */
    TV_DOMAIN_MTE_FORMAT_STATUS,       /* what was written, the level and the recorded ABI */
} TvDomainMteFormat;
/* Appends the element (or nothing) at the writer's indentation. */
void tv_domain_mte_format(TvXmlWriter *w, const TvDomainMte *mte, TvDomainMteFormat how);
/* Does the format write an element at all (so <features> is needed)? */
bool tv_domain_mte_formats_element(const TvDomainMte *mte, TvDomainMteFormat how);

/* ABI stability (migration, destination XML): state and level must be equal,
 * and where both sides recorded the guest ABI (status, migration cookie) it
 * must be equal field by field and match the level's definition.
 * Reports an error naming both sides and returns false when they differ. */
bool tv_domain_mte_check_abi_stability(const TvDomainMte *src, const TvDomainMte *dst);
