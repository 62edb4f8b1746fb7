/* RelaxNG validation of domain XML against schemas/domain.rng.  The parsed
 * schema is loaded once and shared: libxml2 allows concurrent validation
 * with separate validation contexts. */
#include "domain_conf.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_paths.h"
#include "tv_xml.h"

#include <libxml/relaxng.h>
#include <string.h>
#include <unistd.h>

static xmlRelaxNGPtr schema;
static char *schema_error;

static void ignore_errors(void *ctx, const char *msg, ...)
{
}

/* The source tree's copy when this program runs from the build tree, else
 * the installed one (tv_paths.h). */
static char *schema_path(void)
{
    const char *override = g_getenv("TAGVIRT_SCHEMA_DIR");
    if (override && *override)
        return g_build_filename(override, "domain.rng", NULL);
    char *src = tv_paths_source_file("src/conf/schemas/domain.rng");
    if (src && access(src, R_OK) == 0)
        return src;
    g_free(src);
    return g_build_filename(TAGVIRT_DATADIR, "schemas", "domain.rng", NULL);
}

static gpointer load_schema(gpointer data)
{
    g_autofree char *path = schema_path();
    xmlRelaxNGParserCtxtPtr ctxt = xmlRelaxNGNewParserCtxt(path);
    if (!ctxt) {
        schema_error = g_strdup_printf("cannot read the domain schema %s", path);
        return NULL;
    }
    xmlRelaxNGSetParserErrors(ctxt, ignore_errors, ignore_errors, NULL);
    schema = xmlRelaxNGParse(ctxt);
    xmlRelaxNGFreeParserCtxt(ctxt);
    if (!schema)
        schema_error = g_strdup_printf("cannot load the domain schema %s", path);
    return NULL;
}

/* libxml2 reports an interleave failure as several errors, some without a
 * node: name the deepest element involved and keep the first detached text. */
typedef struct {
    xmlNodePtr node;
    int depth;
    char *node_msg;
    char *loose_msg;
} SchemaErrors;

static int node_depth(xmlNodePtr node)
{
    int depth = 0;
    for (; node && node->type == XML_ELEMENT_NODE; node = node->parent)
        depth++;
    return depth;
}

static void collect_error(void *data, const xmlError *err)
{
    SchemaErrors *errors = data;
    if (!err || !err->message)
        return;
    g_autofree char *msg = g_strstrip(g_strdup(err->message));
    xmlNodePtr node = err->node;
    if (!node || node->type != XML_ELEMENT_NODE) {
        if (!errors->loose_msg)
            errors->loose_msg = g_steal_pointer(&msg);
        return;
    }
    int depth = node_depth(node);
    if (errors->node && depth <= errors->depth)
        return;
    errors->node = node;
    errors->depth = depth;
    g_free(errors->node_msg);
    errors->node_msg = g_steal_pointer(&msg);
}

static char *describe_errors(SchemaErrors *errors)
{
    if (!errors->node)
        return g_strdup(errors->loose_msg ? errors->loose_msg : "validation failed");
    g_autofree char *path = tv_xml_node_path(errors->node);
    g_autofree char *extra =
        errors->loose_msg ? g_strdup_printf(" (%s)", errors->loose_msg) : g_strdup("");
    return g_strdup_printf("line %ld, element %s: %s%s", xmlGetLineNo(errors->node), path,
                           errors->node_msg, extra);
}

int tv_domain_def_validate_schema(const char *xml, size_t len)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, load_schema, NULL);
    if (!schema) {
        tv_error_report(TV_FROM_XML, TV_ERR_INTERNAL_ERROR, "%s", schema_error);
        return -1;
    }

    xmlDocPtr doc = tv_xml_parse(xml, len, "domain XML");
    if (!doc)
        return -1;
    xmlRelaxNGValidCtxtPtr ctxt = xmlRelaxNGNewValidCtxt(schema);
    if (!ctxt) {
        xmlFreeDoc(doc);
        tv_error_report(TV_FROM_XML, TV_ERR_INTERNAL_ERROR,
                        "cannot allocate a RelaxNG validation context");
        return -1;
    }
    SchemaErrors errors = { 0 };
    xmlRelaxNGSetValidStructuredErrors(ctxt, (xmlStructuredErrorFunc)collect_error, &errors);
    int rc = xmlRelaxNGValidateDoc(ctxt, doc);
    xmlRelaxNGFreeValidCtxt(ctxt);
    if (rc != 0) {
        g_autofree char *what = describe_errors(&errors);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_INVALID_SCHEMA,
                        "domain XML does not match the schema: %s", what);
    }
    xmlFreeDoc(doc);
    g_free(errors.node_msg);
    g_free(errors.loose_msg);
    return rc == 0 ? 0 : -1;
}
