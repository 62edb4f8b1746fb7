/* <metadata>: see domain_metadata.h.  Each element is kept as its own small
 * document, so its namespace declarations travel with it whatever the
 * surrounding XML declared; layout whitespace between elements is dropped
 * and rewritten at the indentation of the output. */
#include "domain_conf.h"
#include "domain_metadata.h"
#include "tv_error.h"

#include <string.h>

typedef struct {
    char *uri;
    xmlDocPtr doc; /* the element is the root */
} MetadataElement;

struct _TvDomainMetadata {
    GPtrArray *elements; /* of MetadataElement */
};

static void element_free(gpointer p)
{
    MetadataElement *e = p;
    g_free(e->uri);
    if (e->doc)
        xmlFreeDoc(e->doc);
    g_free(e);
}

static TvDomainMetadata *metadata_new(void)
{
    TvDomainMetadata *md = g_new0(TvDomainMetadata, 1);
    md->elements = g_ptr_array_new_with_free_func(element_free);
    return md;
}

void tv_domain_metadata_free(TvDomainMetadata *md)
{
    if (!md)
        return;
    g_ptr_array_free(md->elements, TRUE);
    g_free(md);
}

size_t tv_domain_metadata_count(const TvDomainMetadata *md)
{
    return md ? md->elements->len : 0;
}

const char *tv_domain_metadata_uri(const TvDomainMetadata *md, size_t i)
{
    if (!md || i >= md->elements->len)
        return NULL;
    return ((MetadataElement *)g_ptr_array_index(md->elements, i))->uri;
}

static bool is_blank(xmlNodePtr text)
{
    for (const xmlChar *p = text->content; p && *p; p++) {
        if (!g_ascii_isspace(*p))
            return false;
    }
    return true;
}

/* Blank text between child elements is layout: drop it so the output can be
 * indented afresh.  Text beside elements (mixed content) is kept as is. */
static void strip_layout(xmlNodePtr node)
{
    bool elements = false, text = false;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            elements = true;
        else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && !is_blank(c))
            text = true;
    }
    xmlNodePtr next = NULL;
    for (xmlNodePtr c = node->children; c; c = next) {
        next = c->next;
        if (c->type == XML_ELEMENT_NODE) {
            strip_layout(c);
        } else if (elements && !text && c->type == XML_TEXT_NODE) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
}

static char *dump(xmlDocPtr doc, int level, int format)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), level, format);
    char *text = g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return text;
}

static char *element_name(xmlNodePtr node)
{
    if (node->ns && node->ns->prefix)
        return g_strdup_printf("<%s:%s>", node->ns->prefix, node->name);
    return g_strdup_printf("<%s>", node->name);
}

/* Size and count limits; what names the element in errors. */
/* code: XML_ERROR for a domain XML, INVALID_ARG for a setMetadata call. */
static int check_limits(const TvDomainMetadata *md, xmlDocPtr doc, const char *uri,
                        const char *what, TvErrorCode code)
{
    g_autofree char *compact = dump(doc, 0, 0);
    size_t len = strlen(compact);
    if (len > TV_DOMAIN_METADATA_ELEMENT_MAX) {
        tv_error_report(TV_FROM_DOMAIN, code,
                        "%s of namespace '%s' in /domain/metadata is %zu bytes long: at most %d "
                        "bytes are allowed per element",
                        what, uri, len, TV_DOMAIN_METADATA_ELEMENT_MAX);
        return -1;
    }
    bool replaces = false;
    for (guint i = 0; md && i < md->elements->len; i++)
        replaces |= strcmp(((MetadataElement *)g_ptr_array_index(md->elements, i))->uri, uri) == 0;
    if (!replaces && tv_domain_metadata_count(md) >= TV_DOMAIN_METADATA_ELEMENTS_MAX) {
        tv_error_report(TV_FROM_DOMAIN, code,
                        "/domain/metadata already holds %d elements (the most allowed): %s of "
                        "namespace '%s' cannot be added",
                        TV_DOMAIN_METADATA_ELEMENTS_MAX, what, uri);
        return -1;
    }
    return 0;
}

static MetadataElement *find(const TvDomainMetadata *md, const char *uri, guint *index)
{
    for (guint i = 0; md && i < md->elements->len; i++) {
        MetadataElement *e = g_ptr_array_index(md->elements, i);
        if (strcmp(e->uri, uri) == 0) {
            if (index)
                *index = i;
            return e;
        }
    }
    return NULL;
}

static int parse_element(TvDomainMetadata *md, xmlNodePtr node)
{
    g_autofree char *name = element_name(node);
    if (!node->ns || !node->ns->href || !*node->ns->href) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element %s in /domain/metadata has no namespace: every element there "
                        "needs one, e.g. <app:data xmlns:app='http://example.org/app'>",
                        name);
        return -1;
    }
    const char *uri = (const char *)node->ns->href;
    MetadataElement *other = find(md, uri, NULL);
    if (other) {
        g_autofree char *first = element_name(xmlDocGetRootElement(other->doc));
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "elements %s and %s in /domain/metadata both have namespace '%s': only "
                        "one element per namespace is allowed",
                        first, name, uri);
        return -1;
    }
    /* the copy declares every namespace it uses, wherever the input did */
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);
    if (!copy) {
        xmlFreeDoc(doc);
        tv_error_report(TV_FROM_XML, TV_ERR_INTERNAL_ERROR, "cannot copy %s of /domain/metadata",
                        name);
        return -1;
    }
    xmlDocSetRootElement(doc, copy);
    xmlReconciliateNs(doc, copy);
    strip_layout(copy);
    if (check_limits(md, doc, uri, name, TV_ERR_XML_ERROR) < 0) {
        xmlFreeDoc(doc);
        return -1;
    }
    MetadataElement *e = g_new0(MetadataElement, 1);
    e->uri = g_strdup(uri);
    e->doc = doc;
    g_ptr_array_add(md->elements, e);
    return 0;
}

int tv_domain_metadata_parse(xmlNodePtr node, TvDomainMetadata **out)
{
    static const char *const no_attrs[] = { NULL };
    *out = NULL;
    if (tv_xml_check_attrs(node, no_attrs) < 0)
        return -1;
    g_autoptr(TvDomainMetadata) md = metadata_new();
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            if (parse_element(md, c) < 0)
                return -1;
        } else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
                   !is_blank(c)) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "unexpected text inside /domain/metadata: it holds only elements, "
                            "each in its own namespace");
            return -1;
        }
    }
    *out = g_steal_pointer(&md); /* an empty <metadata/> is kept, as libvirt does */
    return 0;
}

void tv_domain_metadata_format(TvXmlWriter *w, const TvDomainMetadata *md)
{
    if (!md)
        return;
    if (!md->elements->len) {
        tv_xml_line(w, "<metadata/>");
        return;
    }
    tv_xml_line(w, "<metadata>");
    w->indent++;
    for (guint i = 0; i < md->elements->len; i++) {
        MetadataElement *e = g_ptr_array_index(md->elements, i);
        g_autofree char *text = dump(e->doc, w->indent, 1);
        tv_xml_line(w, "%s", text);
    }
    w->indent--;
    tv_xml_line(w, "</metadata>");
}

/* libvirt's getMetadata answer: the element without its namespace (no
 * prefix on it, its children or their attributes, no declaration). */
static void drop_namespace(xmlNodePtr node, const char *uri)
{
    if (node->ns && node->ns->href && strcmp((const char *)node->ns->href, uri) == 0)
        node->ns = NULL;
    for (xmlAttrPtr a = node->properties; a; a = a->next)
        if (a->ns && a->ns->href && strcmp((const char *)a->ns->href, uri) == 0)
            a->ns = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            drop_namespace(c, uri);
}

char *tv_domain_metadata_get(const TvDomainMetadata *md, const char *uri)
{
    MetadataElement *e = uri ? find(md, uri, NULL) : NULL;
    if (!e) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_NO_DOMAIN_METADATA,
                        "metadata not found: the domain has no <metadata> element of namespace "
                        "'%s'",
                        uri ? uri : "");
        return NULL;
    }
    xmlDocPtr copy = xmlCopyDoc(e->doc, 1);
    if (!copy) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INTERNAL_ERROR, "cannot copy a metadata element");
        return NULL;
    }
    xmlNodePtr root = xmlDocGetRootElement(copy);
    drop_namespace(root, uri);
    xmlNsPtr *defs = &root->nsDef; /* the declaration of uri goes; others stay */
    while (*defs) {
        if ((*defs)->href && strcmp((const char *)(*defs)->href, uri) == 0) {
            xmlNsPtr gone = *defs;
            *defs = gone->next;
            gone->next = NULL;
            xmlFreeNs(gone);
        } else {
            defs = &(*defs)->next;
        }
    }
    char *text = dump(copy, 0, 1);
    xmlFreeDoc(copy);
    return text;
}

static void set_namespace(xmlNodePtr node, xmlNsPtr ns)
{
    node->ns = ns;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            set_namespace(c, ns);
    }
}

/* The fragment's root declares prefix key for uri (reusing a declaration
 * of the same prefix and URI, refusing one of the same prefix and another
 * URI). */
static xmlNsPtr declare(xmlNodePtr root, const char *uri, const char *key)
{
    for (xmlNsPtr ns = root->nsDef; ns; ns = ns->next) {
        if (!ns->prefix || strcmp((const char *)ns->prefix, key) != 0)
            continue;
        if (strcmp((const char *)ns->href, uri) == 0)
            return ns;
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "the metadata XML declares prefix '%s' for '%s', not for namespace '%s'",
                        key, (const char *)ns->href, uri);
        return NULL;
    }
    return xmlNewNs(root, (const xmlChar *)uri, (const xmlChar *)key);
}

int tv_domain_metadata_set(TvDomainMetadata **md, const char *uri, const char *key, const char *xml)
{
    if (!uri || !*uri) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "a metadata element needs a namespace URI");
        return -1;
    }
    if (!xml || !*xml) {
        tv_domain_metadata_remove(*md, uri);
        return 0;
    }
    if (!key || xmlValidateNCName((const xmlChar *)key, 0) != 0) {
        g_autofree char *shown = g_strescape(key ? key : "", NULL);
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "invalid prefix '%s' for metadata namespace '%s': expected an XML name "
                        "without ':' (e.g. 'app')",
                        shown, uri);
        return -1;
    }
    xmlDocPtr doc = tv_xml_parse(xml, strlen(xml), "metadata XML");
    if (!doc)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNsPtr ns = declare(root, uri, key);
    if (!ns) {
        xmlFreeDoc(doc);
        return -1;
    }
    set_namespace(root, ns);
    xmlReconciliateNs(doc, root);
    strip_layout(root);
    g_autofree char *name = element_name(root);
    if (check_limits(*md, doc, uri, name, TV_ERR_INVALID_ARG) < 0) {
        xmlFreeDoc(doc);
        return -1;
    }
    if (!*md)
        *md = metadata_new();
    guint index = 0;
    MetadataElement *old = find(*md, uri, &index);
    if (old) {
        xmlFreeDoc(old->doc);
        old->doc = doc;
        return 0;
    }
    MetadataElement *e = g_new0(MetadataElement, 1);
    e->uri = g_strdup(uri);
    e->doc = doc;
    g_ptr_array_add((*md)->elements, e);
    return 0;
}

void tv_domain_metadata_remove(TvDomainMetadata *md, const char *uri)
{
    guint index = 0;
    if (!md || !uri || !find(md, uri, &index))
        return;
    g_ptr_array_remove_index(md->elements, index);
}

int tv_domain_def_set_title(TvDomainDef *def, const char *title)
{
    if (title && strpbrk(title, "\r\n")) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "/domain/title must be a single line (use <description> for more)");
        return -1;
    }
    g_free(def->title);
    def->title = title && *title ? g_strdup(title) : NULL;
    return 0;
}

void tv_domain_def_set_description(TvDomainDef *def, const char *description)
{
    g_free(def->description);
    def->description = description && *description ? g_strdup(description) : NULL;
}
