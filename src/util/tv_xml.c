#include "tv_xml.h"
#include "tv_error.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void silent_errors(void *ctx, const char *msg, ...)
{
}

/* What a refused document type declaration looked like, for the message. */
typedef struct {
    bool found;
    int line;
    char *name;
    char *system_id;
} DoctypeSeen;

/* SAX: called at <!DOCTYPE ...>, before its internal subset (entity
 * declarations) is read.  Nothing after it is parsed: no entity is declared,
 * so none can be expanded (a few declarations nested ten deep expand to
 * gigabytes) and none can name an outside file. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                           const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    DoctypeSeen *seen = ctxt->_private;
    if (!seen->found) {
        seen->found = true;
        seen->line = ctxt->input ? ctxt->input->line : 0;
        seen->name = g_strdup(name ? (const char *)name : "");
        seen->system_id = system_id ? g_strdup((const char *)system_id) : NULL;
    }
    (void)external_id;
    xmlStopParser(ctxt);
}

static void report_doctype(const DoctypeSeen *seen, const char *what)
{
    g_autofree char *sys =
        seen->system_id ? g_strdup_printf(" SYSTEM '%s'", seen->system_id) : g_strdup("");
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "%s has a document type declaration <!DOCTYPE %s%s ...> at line %d: DTDs, "
                    "entity declarations (<!ENTITY>) and external entities are not accepted; "
                    "remove the <!DOCTYPE> (the predefined entities such as &lt; and "
                    "character references such as &#10; need none)",
                    what, seen->name, sys, seen->line);
}

xmlDocPtr tv_xml_parse(const char *buf, size_t len, const char *what)
{
    if (!buf || len == 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "%s is empty", what);
        return NULL;
    }
    if (len > INT_MAX) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "%s is too large", what);
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        tv_error_report(TV_FROM_XML, TV_ERR_INTERNAL_ERROR, "cannot allocate an XML parser");
        return NULL;
    }
    xmlSetGenericErrorFunc(NULL, silent_errors);
    DoctypeSeen seen = { 0 };
    ctxt->_private = &seen;
    ctxt->sax->internalSubset = refuse_doctype;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    if (seen.found) {
        report_doctype(&seen, what);
        g_free(seen.name);
        g_free(seen.system_id);
        if (doc)
            xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strdup(e && e->message ? e->message : "not well-formed");
        g_strchomp(msg);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "%s is malformed at line %d: %s", what,
                        e ? e->line : 0, msg);
        if (doc)
            xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (!xmlDocGetRootElement(doc)) {
        xmlFreeDoc(doc);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "%s has no root element", what);
        return NULL;
    }
    return doc;
}

char *tv_xml_node_path(xmlNodePtr node)
{
    GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
    for (xmlNodePtr n = node; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
        unsigned index = 0, count = 0;
        for (xmlNodePtr s = n->parent ? n->parent->children : NULL; s; s = s->next) {
            if (s->type != XML_ELEMENT_NODE || strcmp((const char *)s->name, (const char *)n->name))
                continue;
            count++;
            if (s == n)
                index = count;
        }
        if (count > 1)
            g_ptr_array_insert(parts, 0, g_strdup_printf("%s[%u]", n->name, index));
        else
            g_ptr_array_insert(parts, 0, g_strdup((const char *)n->name));
    }
    g_ptr_array_add(parts, NULL);
    g_autofree char *joined = g_strjoinv("/", (char **)parts->pdata);
    g_ptr_array_free(parts, TRUE);
    return g_strdup_printf("/%s", joined);
}

char *tv_xml_prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *copy = g_strdup((const char *)v);
    xmlFree(v);
    return copy;
}

char *tv_xml_text(xmlNodePtr node)
{
    xmlChar *v = xmlNodeGetContent(node);
    if (!v)
        return NULL;
    char *copy = g_strstrip(g_strdup((const char *)v));
    xmlFree(v);
    if (!*copy) {
        g_free(copy);
        return NULL;
    }
    return copy;
}

xmlNodePtr tv_xml_child(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    }
    return NULL;
}

unsigned tv_xml_child_count(xmlNodePtr node, const char *name)
{
    unsigned n = 0;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            n++;
    }
    return n;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++) {
        if (strcmp(*list, s) == 0)
            return true;
    }
    return false;
}

static char *list_join(const char *const *list, const char *open, const char *close)
{
    GString *out = g_string_new(NULL);
    for (; list && *list; list++)
        g_string_append_printf(out, "%s%s%s%s", out->len ? ", " : "", open, *list, close);
    if (!out->len)
        g_string_append(out, "none");
    return g_string_free(out, FALSE);
}

int tv_xml_check_attrs(xmlNodePtr node, const char *const *allowed)
{
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        if (a->ns && a->ns->prefix) {
            g_autofree char *path = tv_xml_node_path(node);
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "unsupported attribute '%s:%s' on %s: namespaced attributes are not "
                            "supported",
                            a->ns->prefix, a->name, path);
            return -1;
        }
        if (!in_list(allowed, (const char *)a->name)) {
            g_autofree char *path = tv_xml_node_path(node);
            g_autofree char *ok = list_join(allowed, "'", "'");
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "unsupported attribute '%s' on %s (supported: %s)", a->name, path, ok);
            return -1;
        }
    }
    return 0;
}

int tv_xml_check_children(xmlNodePtr node, const char *const *allowed, bool allow_text)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
            continue;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (allow_text)
                continue;
            xmlChar *t = xmlNodeGetContent(c);
            bool blank = true;
            for (const xmlChar *p = t; p && *p; p++) {
                if (!g_ascii_isspace(*p))
                    blank = false;
            }
            xmlFree(t);
            if (!blank) {
                g_autofree char *path = tv_xml_node_path(node);
                tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "unexpected text inside %s", path);
                return -1;
            }
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns && c->ns->prefix) {
            g_autofree char *path = tv_xml_node_path(node);
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "unsupported element <%s:%s> in %s: namespaced elements are not "
                            "supported",
                            c->ns->prefix, c->name, path);
            return -1;
        }
        if (!in_list(allowed, (const char *)c->name)) {
            g_autofree char *path = tv_xml_node_path(node);
            g_autofree char *ok = list_join(allowed, "<", ">");
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "unsupported element <%s> in %s (supported: %s)", c->name, path, ok);
            return -1;
        }
    }
    return 0;
}

int tv_parse_ull(const char *s, unsigned long long min, unsigned long long max, const char *what,
                 unsigned long long *out)
{
    if (!s || !*s || g_ascii_isspace(*s) || *s == '-' || *s == '+') {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for %s: expected a number from %llu to %llu",
                        s ? s : "", what, min, max);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    int base = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
    unsigned long long v = strtoull(s, &end, base);
    if (errno == ERANGE || v > max || v < min) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "value '%s' for %s is out of range: expected a number from %llu to %llu", s,
                        what, min, max);
        return -1;
    }
    if (errno || !end || *end) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for %s: expected a number from %llu to %llu", s, what,
                        min, max);
        return -1;
    }
    *out = v;
    return 0;
}

void tv_xml_writer_init(TvXmlWriter *w)
{
    w->buf = g_string_sized_new(2048);
    w->indent = 0;
}

char *tv_xml_writer_finish(TvXmlWriter *w)
{
    return g_string_free(g_steal_pointer(&w->buf), FALSE);
}

void tv_xml_line(TvXmlWriter *w, const char *fmt, ...)
{
    va_list ap;
    for (int i = 0; i < w->indent; i++)
        g_string_append(w->buf, "  ");
    va_start(ap, fmt);
    g_string_append_vprintf(w->buf, fmt, ap);
    va_end(ap);
    g_string_append_c(w->buf, '\n');
}

char *tv_xml_esc(const char *s)
{
    if (!s)
        return g_strdup("");
    GString *out = g_string_sized_new(strlen(s) + 8);
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '\'':
            g_string_append(out, "&apos;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        default:
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}
