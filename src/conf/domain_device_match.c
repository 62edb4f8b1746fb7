/* Which <sound>, <filesystem> or <vsock> of a domain's XML a detach names,
 * as libvirt matches them: a filesystem by its <target dir> (the mount
 * tag), a sound device by its model (the first of that model, or the one at
 * the <address> given), the vsock by being the only one. */
#include "domain_device_match.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <string.h>

static char *child_prop(xmlNodePtr node, const char *child, const char *attr)
{
    xmlNodePtr c = tv_xml_child(node, child);
    return c ? tv_xml_prop(c, attr) : NULL;
}

/* Same value of attr on child (both absent counts as the same). */
static bool same(xmlNodePtr a, xmlNodePtr b, const char *child, const char *attr)
{
    g_autofree char *va = child ? child_prop(a, child, attr) : tv_xml_prop(a, attr);
    g_autofree char *vb = child ? child_prop(b, child, attr) : tv_xml_prop(b, attr);
    return g_strcmp0(va, vb) == 0;
}

static bool matches(xmlNodePtr have, xmlNodePtr want, const char *kind)
{
    if (strcmp(kind, "filesystem") == 0)
        return same(have, want, "target", "dir");
    if (strcmp(kind, "sound") == 0) {
        if (!same(have, want, NULL, "model"))
            return false;
        /* an address given must be the one the device has */
        return !tv_xml_child(want, "address") ||
               (same(have, want, "address", "bus") && same(have, want, "address", "slot") &&
                same(have, want, "address", "port"));
    }
    return true; /* vsock: a guest has one */
}

xmlNodePtr tv_domain_xml_find_guest_device(xmlNodePtr devices, xmlNodePtr dev, bool *handled)
{
    const char *kind = (const char *)dev->name;
    *handled =
        strcmp(kind, "sound") == 0 || strcmp(kind, "filesystem") == 0 || strcmp(kind, "vsock") == 0;
    if (!*handled)
        return NULL;
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, kind) == 0 &&
            matches(n, dev, kind))
            return n;
    }
    g_autofree char *tag = child_prop(dev, "target", "dir");
    g_autofree char *model = tv_xml_prop(dev, "model");
    if (strcmp(kind, "filesystem") == 0)
        tv_error_report(TV_FROM_XML, TV_ERR_DEVICE_MISSING,
                        "no <filesystem> with <target dir='%s'/> to detach", tag ? tag : "");
    else if (strcmp(kind, "sound") == 0)
        tv_error_report(TV_FROM_XML, TV_ERR_DEVICE_MISSING, "no <sound model='%s'> to detach",
                        model ? model : "");
    else
        tv_error_report(TV_FROM_XML, TV_ERR_DEVICE_MISSING, "no <vsock> to detach");
    return NULL;
}
