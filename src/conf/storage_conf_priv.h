/* Shared by the pool and volume parsers: sizes with units, permissions. */
#pragma once

#include "storage_conf.h"
#include "tv_xml.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* <capacity unit='G'>8</capacity>: libvirt's scaled integers (bytes when no
 * unit; decimal units k/KB..., binary KiB/K/M/...), at most
 * TV_STORAGE_SIZE_MAX bytes. */
int tv_storage_size_parse(xmlNodePtr node, unsigned long long *bytes);

/* <permissions><mode>0600</mode><owner>0</owner><group>0</group> */
int tv_storage_perms_parse(xmlNodePtr node, TvStoragePerms *perms);
void tv_storage_perms_format(TvXmlWriter *w, const TvStoragePerms *perms);
