/* The migration cookie tagvirt's daemons exchange (docs/migration.rst): its
 * own XML, at most TV_MIGRATION_COOKIE_MAX bytes, naming the guest and
 * carrying what it sees (<guestabi>, domain_guest_abi.h):
 *
 *   <tagvirt-migration version='1'>
 *     <name>demo</name>
 *     <uuid>...</uuid>
 *     <guestabi accel='tcg' cpu='max' machine='virt-7.2' pfr1='0x...' pfr2='0x...'/>
 *     <statistics elapsed='1805' downtime='201' .../>
 *   </tagvirt-migration>
 *
 * name, uuid and guestabi are required; <statistics> (the figures of the
 * source's completed copy, sent by Perform to Finish) is optional; an
 * unknown element or attribute is an error. */
#pragma once

#include "domain_conf.h"
#include "domain_guest_abi.h"

#include <stddef.h>

#define TV_MIGRATION_COOKIE_MAX (64 * 1024)

/* What the source's QEMU said when it had copied the guest (times in ms,
 * data in bytes); every attribute of <statistics>, 0 when not known. */
typedef struct {
    unsigned long long elapsed, downtime, setup;
    unsigned long long data_total, data_processed, data_remaining;
    unsigned long long mem_bps, mem_iteration, mem_page_size;
    unsigned long long mem_constant, mem_normal, mem_normal_bytes;
} TvMigrationStats;

typedef struct {
    char *name;
    unsigned char uuid[TV_UUID_LEN];
    TvDomainGuestAbi abi;
    bool has_stats;
    TvMigrationStats stats;
} TvMigrationCookie;

void tv_migration_cookie_clear(TvMigrationCookie *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TvMigrationCookie, tv_migration_cookie_clear)

char *tv_migration_cookie_format(const TvMigrationCookie *c);
/* len bytes (a terminating NUL, as libvirt's client sends, is allowed).
 * -1 with VIR_ERR_XML_ERROR naming what is wrong; c is left empty. */
int tv_migration_cookie_parse(const char *buf, size_t len, TvMigrationCookie *c);
