/* setMetadata / getMetadata: title, description and applications' namespaced
 * elements (conf: domain_metadata.h) in the live and/or persistent
 * definition, with libvirt's flags, errors and metadata-change event. */
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

typedef struct {
    int type;
    const char *metadata, *key, *uri;
} MetadataEdit;

static int edit_metadata(TvDomainDef *def, void *opaque)
{
    const MetadataEdit *e = opaque;
    switch (e->type) {
    case TV_METADATA_DESCRIPTION:
        tv_domain_def_set_description(def, e->metadata);
        return 0;
    case TV_METADATA_TITLE:
        return tv_domain_def_set_title(def, e->metadata);
    case TV_METADATA_ELEMENT:
        break;
    }
    if (tv_domain_metadata_set(&def->metadata, e->uri, e->key, e->metadata) == 0)
        return 0;
    if (tv_error_code() == TV_ERR_XML_ERROR) { /* libvirt's class for bad metadata XML */
        g_autoptr(TvError) err = tv_error_steal();
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_DETAIL, "%s", err->message);
    }
    return -1;
}

static int check_type(int type)
{
    if (type >= TV_METADATA_DESCRIPTION && type <= TV_METADATA_ELEMENT)
        return 0;
    tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                    "unknown metadata type '%d': expected 0 (description), 1 (title) or 2 "
                    "(element)",
                    type);
    return -1;
}

static int check_set_args(int type, const char *metadata, const char *key, const char *uri)
{
    if (check_type(type) < 0)
        return -1;
    if (type != TV_METADATA_ELEMENT && (key || uri)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "key and uri must be empty for a %s: they name an element's namespace",
                        type == TV_METADATA_TITLE ? "title" : "description");
        return -1;
    }
    if (type == TV_METADATA_TITLE && metadata && strpbrk(metadata, "\r\n")) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "metadata title can't contain newlines: a title is one line (use the "
                        "description for more)");
        return -1;
    }
    if (type == TV_METADATA_ELEMENT && (!uri || !*uri)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "uri must not be NULL: a metadata element is set by its namespace URI");
        return -1;
    }
    if (type == TV_METADATA_ELEMENT && metadata && (!key || !*key)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "key must not be NULL: a metadata element needs a namespace prefix for "
                        "'%s'",
                        uri);
        return -1;
    }
    return 0;
}

int tv_qemu_driver_set_metadata(TvQemuDriver *drv, const unsigned char *uuid, int type,
                                const char *metadata, const char *key, const char *uri,
                                unsigned flags)
{
    if (flags & ~(unsigned)(TV_AFFECT_LIVE | TV_AFFECT_CONFIG)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "metadata flags 0x%x are not supported; accepted: 0x1 (live), 0x2 "
                        "(config)",
                        flags);
        return -1;
    }
    if (check_set_args(type, metadata, key, uri) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "set metadata") < 0)
        return -1;
    bool live = false, config = false;
    MetadataEdit e = { type, metadata, key, uri };
    int rc = tv_driver_affect(dom, flags, true, &live, &config);
    if (rc == 0)
        rc = tv_driver_update(drv, dom, live, config, edit_metadata, &e);
    if (rc == 0) {
        g_mutex_lock(&dom->lock);
        int id = dom->run ? dom->run->id : -1;
        tv_driver_event_queue_other(drv, dom, id, TV_DOMAIN_EVENT_ID_METADATA_CHANGE, type, 0,
                                    type == TV_METADATA_ELEMENT ? uri : NULL, 0);
        g_mutex_unlock(&dom->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

typedef struct {
    int type;
    const char *uri;
    char *out;
} MetadataGet;

static void get_metadata(const TvDomainDef *def, void *opaque)
{
    MetadataGet *g = opaque;
    switch (g->type) {
    case TV_METADATA_DESCRIPTION:
        g->out = g_strdup(def->description);
        break;
    case TV_METADATA_TITLE:
        g->out = g_strdup(def->title);
        break;
    case TV_METADATA_ELEMENT:
        g->out = tv_domain_metadata_get(def->metadata, g->uri);
        return; /* its own error */
    }
    if (!g->out)
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_NO_DOMAIN_METADATA,
                        "metadata not found: the domain has no %s",
                        g->type == TV_METADATA_TITLE ? "<title>" : "<description>");
}

char *tv_qemu_driver_get_metadata(TvQemuDriver *drv, const unsigned char *uuid, int type,
                                  const char *uri, unsigned flags)
{
    if (flags & ~(unsigned)(TV_AFFECT_LIVE | TV_AFFECT_CONFIG)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "metadata flags 0x%x are not supported; accepted: 0x1 (live), 0x2 "
                        "(config)",
                        flags);
        return NULL;
    }
    if (check_type(type) < 0)
        return NULL;
    if (type == TV_METADATA_ELEMENT && (!uri || !*uri)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "uri must not be NULL: a metadata element is found by its namespace URI");
        return NULL;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    bool live = false, config = false;
    if (!dom || tv_driver_affect(dom, flags, false, &live, &config) < 0)
        return NULL;
    MetadataGet g = { type, uri, NULL };
    tv_error_reset();
    if (tv_driver_read_def(dom, live, get_metadata, &g) < 0)
        return NULL;
    return g.out;
}
