/* Finding the device a detach names in a domain's XML, for <sound>,
 * <filesystem> and <vsock> (domain_device_match.c). */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>

/* *handled: dev is one of those kinds.  Then the matching child of devices,
 * or NULL with a DEVICE_MISSING error naming what was looked for. */
xmlNodePtr tv_domain_xml_find_guest_device(xmlNodePtr devices, xmlNodePtr dev, bool *handled);
