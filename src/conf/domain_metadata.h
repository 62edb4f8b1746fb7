/* <metadata>: applications' own XML (Nova's instance data, libosinfo's OS
 * id from virt-install and virt-manager), one element per namespace URI,
 * kept as written and written back.  tagvirt never interprets it.
 *
 * The same rules as libvirt's virDomainSetMetadata/GetMetadata (type
 * ELEMENT): an element is found by its namespace URI; setting one replaces
 * the element of that URI, putting every element of the new fragment into
 * that namespace with the given prefix.  Unlike libvirt, which drops them
 * silently, an element without a namespace and a second element of the same
 * namespace are refused. */
#pragma once

#include "tv_xml.h"

#include <glib.h>
#include <libxml/tree.h>

/* Bytes of one element as serialised (without indentation), and elements in
 * one <metadata>: far above what Nova or virt-install write, far below the
 * wire protocol's string limit. */
#define TV_DOMAIN_METADATA_ELEMENT_MAX  (256 * 1024)
#define TV_DOMAIN_METADATA_ELEMENTS_MAX 64

typedef struct _TvDomainMetadata TvDomainMetadata;

/* <metadata> from a domain XML (an empty one is kept and written back). */
int tv_domain_metadata_parse(xmlNodePtr node, TvDomainMetadata **out);
/* <metadata>...</metadata> at the writer's indentation; nothing for NULL. */
void tv_domain_metadata_format(TvXmlWriter *w, const TvDomainMetadata *md);
void tv_domain_metadata_free(TvDomainMetadata *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDomainMetadata, tv_domain_metadata_free)

/* How many elements, and the namespace URI of the i-th (in document order). */
size_t tv_domain_metadata_count(const TvDomainMetadata *md);
const char *tv_domain_metadata_uri(const TvDomainMetadata *md, size_t i);

/* The element of namespace uri as XML text, indented, without that
 * namespace (libvirt's getMetadata answer: "<instance><name>vm</name>..."),
 * or NULL with TV_ERR_NO_DOMAIN_METADATA when there is none. */
char *tv_domain_metadata_get(const TvDomainMetadata *md, const char *uri);

/* Add or replace the element of namespace uri.  xml is one element (text
 * around it may only be blank); it and every element inside it are put into
 * namespace uri with prefix key (an XML name without ':').  *md may be NULL
 * (created).  On error *md is unchanged. */
int tv_domain_metadata_set(TvDomainMetadata **md, const char *uri, const char *key,
                           const char *xml);

/* Remove the element of namespace uri; removing what is not there is not an
 * error (libvirt's behaviour).  <metadata/> stays, empty. */
void tv_domain_metadata_remove(TvDomainMetadata *md, const char *uri);
