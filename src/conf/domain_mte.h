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

/* The level a probe shows: 4 when MTE==3 with MTEX, MTEFAR and MTESTOREONLY,
 * else the MTE field (0..3). */
int tv_mte_abi_level(const TvMteAbi *abi);
/* Does a guest with this ABI satisfy a concrete requested level? (version 3
 * is the MTE field equal to 3, whatever the FEAT_MTE4 parts say.) */
bool tv_mte_abi_satisfies(const TvMteAbi *abi, int level);
void tv_mte_abi_from_regs(uint64_t pfr1, uint64_t pfr2, TvMteAbi *abi);
bool tv_mte_abi_equal(const TvMteAbi *a, const TvMteAbi *b);
/* "MTE=3 MTE_frac=0 MTEX=0 MTEFAR=0 MTESTOREONLY=0 MTEPERM=0" */
char *tv_mte_abi_describe(const TvMteAbi *abi);

/* node is the <mte> element (at most one: the caller checks duplicates). */
int tv_domain_mte_parse(xmlNodePtr node, TvDomainMte *mte, bool status);
/* Appends the element (or nothing when absent) at the writer's indentation.
 * live: the resolved number instead of what was written. */
void tv_domain_mte_format(TvXmlWriter *w, const TvDomainMte *mte, bool live, bool status);

/* ABI stability (migration, destination XML): state and level must be equal.
 * Reports an error naming both sides and returns false when they differ. */
bool tv_domain_mte_check_abi_stability(const TvDomainMte *src, const TvDomainMte *dst);
