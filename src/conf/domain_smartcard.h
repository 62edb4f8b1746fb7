/* <smartcard> (domain_smartcard.c): a virtual smartcard in a USB CCID
 * reader.  Included by domain_conf.h, which holds TvDomainDevices. */
#pragma once

#include "domain_devices.h"
#include "tv_enum.h"

#include <stdbool.h>

typedef enum {
    TV_SMARTCARD_MODE_NONE = 0,
    TV_SMARTCARD_MODE_HOST,              /* the host's cards, through NSS */
    TV_SMARTCARD_MODE_HOST_CERTIFICATES, /* three certificates of an NSS database */
    TV_SMARTCARD_MODE_PASSTHROUGH,       /* a card behind a character device */
    TV_SMARTCARD_MODE_LAST
} TvSmartcardMode;
TV_ENUM_DECL(tv_smartcard_mode) /* "", "host", "host-certificates", "passthrough" */

/* The host side of a passthrough card: the socket types tagvirt offers. */
typedef enum {
    TV_SMARTCARD_CHR_NONE = 0,
    TV_SMARTCARD_CHR_UNIX,
    TV_SMARTCARD_CHR_TCP,
    TV_SMARTCARD_CHR_LAST
} TvSmartcardChr;
TV_ENUM_DECL(tv_smartcard_chr) /* "", "unix", "tcp" */

#define TV_SMARTCARD_CERTS      3 /* QEMU's cert1, cert2, cert3 */
#define TV_SMARTCARD_DEFAULT_DB "/etc/pki/nssdb"

typedef struct {
    TvSmartcardMode mode;
    char *certs[TV_SMARTCARD_CERTS]; /* host-certificates: NSS nicknames */
    char *database;          /* host-certificates: <database>; NULL: TV_SMARTCARD_DEFAULT_DB */
    TvSmartcardChr chr;      /* passthrough: type='unix|tcp' */
    bool bind;               /* <source mode='bind'>: QEMU listens (libvirt's default: connect) */
    char *path;              /* unix */
    char *host;              /* tcp */
    char *service;           /* tcp: the port */
    char *alias;             /* live: QEMU's id of the card ("smartcard0") */
    TvDeviceAddress address; /* ccid controller and slot */
} TvDomainSmartcard;

void tv_domain_smartcard_free(TvDomainSmartcard *card);
/* The NSS database a host-certificates card reads (its <database>, else
 * /etc/pki/nssdb). */
const char *tv_domain_smartcard_database(const TvDomainSmartcard *card);
