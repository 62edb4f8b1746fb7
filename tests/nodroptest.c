/* No silent drop: every element and attribute of every accepted input in
 * the test data must have an effect, or be listed in docs/formatdomain.rst's
 * table "Accepted, no effect on aarch64".
 *
 * Inputs: tests/domainconfdata/NAME.xml (parsed and formatted by src/conf
 * alone) and tests/qemuxml2argvdata/NAME.xml (the whole pipeline with the
 * caps and host of NAME's first line in qemuxml2argvdata/cases: inactive XML,
 * live XML and the command line).  Inputs that are refused are skipped.
 *
 * For each element and attribute (not below a <metadata> child, which is
 * kept whole): when the XML written back has it (an attribute or a leaf with
 * the same value), it is kept.  Otherwise remove it: it has an effect when
 * the result is refused
 * (it was needed) or differs in any output.  Otherwise the value may simply
 * be the default: the item is tried with every other value that the same
 * element or attribute has somewhere in the inputs, and has an effect when
 * one of them is accepted and gives other output.  What is left has no
 * effect and must be in the table.
 *
 * The table is checked too: each entry must be accepted somewhere in the
 * inputs, and must not change the command line where it is. */
#include "qemu_command.h"
#include "domain_conf_testing.h"
#include "tagvirt-config.h"
#include "qemu_domain.h"
#include "testutils.h"
#include "tv_error.h"

#include <libxml/parser.h>
#include <string.h>

typedef struct {
    char *file;      /* for messages: "domainconfdata/full.xml" */
    char *xml;       /* the input */
    char *caps_file; /* NULL: conf only */
    char *host;
} Input;

typedef struct {
    GPtrArray *inputs;   /* of Input */
    GHashTable *values;  /* item key -> GHashTable set of values seen */
    GHashTable *table;   /* documented keys ("/domain/features/apic") */
    GHashTable *seen;    /* documented keys met in an accepted input */
    GHashTable *caps;    /* caps file -> TvQemuCaps */
    GHashTable *hosts;   /* host name -> TvHostFacts */
    GPtrArray *failures; /* of char * */
} Context;

static void input_free(gpointer p)
{
    Input *in = p;
    g_free(in->file);
    g_free(in->xml);
    g_free(in->caps_file);
    g_free(in->host);
    g_free(in);
}

static TvQemuCaps *fixture_caps(const char *emulator, void *opaque)
{
    return tv_qemu_caps_ref(opaque);
}

/* Everything an input turns into, as one string; NULL when refused. */
static char *effects(Context *ctx, const Input *in, const char *xml)
{
    tv_domain_conf_test_seed(1);
    tv_error_reset();
    if (!in->caps_file) {
        g_autoptr(TvDomainDef) def = tv_domain_def_parse(xml, strlen(xml), 0);
        return def ? tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE) : NULL;
    }
    TvQemuCaps *caps = g_hash_table_lookup(ctx->caps, in->caps_file);
    if (!caps) {
        caps = tv_test_load_caps_for_host(in->caps_file, in->host);
        g_hash_table_insert(ctx->caps, g_strdup(in->caps_file), caps);
    }
    TvHostFacts *host = g_hash_table_lookup(ctx->hosts, in->host);
    if (!host) {
        host = tv_test_load_host(in->host);
        g_hash_table_insert(ctx->hosts, g_strdup(in->host), host);
    }
    TvQemuPipeline pipe = { .host = host, .caps_lookup = fixture_caps, .caps_opaque = caps };
    g_autoptr(TvDomainDef) def = tv_qemu_domain_load(&pipe, xml, strlen(xml), 0, NULL);
    if (!def)
        return NULL;
    g_autofree char *inactive = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    TvQemuMtePlan plan;
    def->id = 1;
    if (tv_qemu_domain_resolve(def, caps, host, &plan) < 0)
        return NULL;
    g_autofree char *live = tv_domain_def_format(def, TV_DOMAIN_FORMAT_LIVE);
    TvQemuCommandOptions opts = { .monitor_path = "/run/tagvirt/qemu/test.monitor",
                                  .paused = true,
                                  .tpm_fd = 4 };
    g_autoptr(GPtrArray) argv = tv_qemu_build_command(def, caps, &plan, &opts);
    if (!argv)
        return NULL;
    g_autofree char *cmd = tv_qemu_command_format(argv);
    return g_strdup_printf("%s\n--live--\n%s\n--argv--\n%s", inactive, live, cmd);
}

static const char *argv_part(const char *effects)
{
    const char *at = strstr(effects, "\n--argv--\n");
    return at ? at : "";
}

/* "/domain/devices/disk/source" (no indexes: the key of the table) */
static char *element_key(xmlNodePtr node)
{
    GString *key = g_string_new(NULL);
    for (xmlNodePtr n = node; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
        g_string_prepend(key, (const char *)n->name);
        g_string_prepend_c(key, '/');
    }
    return g_string_free(key, FALSE);
}

static bool below_metadata_child(xmlNodePtr node)
{
    for (xmlNodePtr n = node->parent; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
        if (n->parent && n->parent->type == XML_ELEMENT_NODE &&
            strcmp((const char *)n->parent->name, "metadata") == 0)
            return true;
    }
    return false;
}

static bool is_leaf(xmlNodePtr node)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            return false;
    }
    return true;
}

/* The path from the root as child indexes, to find the node in a copy. */
static GArray *node_route(xmlNodePtr node)
{
    GArray *route = g_array_new(FALSE, FALSE, sizeof(guint));
    for (xmlNodePtr n = node; n->parent && n->parent->type == XML_ELEMENT_NODE; n = n->parent) {
        guint i = 0;
        for (xmlNodePtr s = n->parent->children; s != n; s = s->next)
            i++;
        g_array_prepend_val(route, i);
    }
    return route;
}

static xmlNodePtr follow(xmlDocPtr doc, GArray *route)
{
    xmlNodePtr n = xmlDocGetRootElement(doc);
    for (guint k = 0; k < route->len; k++) {
        n = n->children;
        for (guint i = 0; i < g_array_index(route, guint, k); i++)
            n = n->next;
    }
    return n;
}

static char *dump_doc(xmlDocPtr doc)
{
    xmlChar *out = NULL;
    int len = 0;
    xmlDocDumpMemory(doc, &out, &len);
    char *copy = g_strndup((const char *)out, (gsize)len);
    xmlFree(out);
    return copy;
}

typedef enum {
    MUTATE_REMOVE,
    MUTATE_VALUE,
} Mutation;

/* The input with one item removed or given another value. */
static char *mutate(xmlDocPtr doc, xmlNodePtr node, const char *attr, Mutation how,
                    const char *value)
{
    g_autoptr(GArray) route = node_route(node);
    xmlDocPtr copy = xmlCopyDoc(doc, 1);
    xmlNodePtr target = follow(copy, route);
    if (attr && how == MUTATE_REMOVE)
        xmlUnsetProp(target, (const xmlChar *)attr);
    else if (attr)
        xmlSetProp(target, (const xmlChar *)attr, (const xmlChar *)value);
    else if (how == MUTATE_REMOVE) {
        xmlUnlinkNode(target);
        xmlFreeNode(target);
    } else
        xmlNodeSetContent(target, (const xmlChar *)value);
    char *xml = dump_doc(copy);
    xmlFreeDoc(copy);
    return xml;
}

static void note_value(Context *ctx, const char *key, const char *value)
{
    GHashTable *set = g_hash_table_lookup(ctx->values, key);
    if (!set) {
        set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(ctx->values, g_strdup(key), set);
    }
    g_hash_table_add(set, g_strdup(value));
}

/* Every value each element (leaf text) and attribute has in the inputs. */
static void collect_values(Context *ctx, xmlNodePtr node)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *key = element_key(n);
        if (is_leaf(n)) {
            g_autofree char *text = tv_xml_text(n);
            note_value(ctx, key, text ? text : "");
        }
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
            g_autofree char *akey = g_strdup_printf("%s/@%s", key, a->name);
            g_autofree char *v = tv_xml_prop(n, (const char *)a->name);
            note_value(ctx, akey, v ? v : "");
        }
        collect_values(ctx, n->children);
    }
}

/* Does the item change anything, removed or with another value seen elsewhere? */
static bool has_effect(Context *ctx, const Input *in, xmlDocPtr doc, const char *base,
                       xmlNodePtr node, const char *attr, const char *key, const char *current)
{
    g_autofree char *removed = mutate(doc, node, attr, MUTATE_REMOVE, NULL);
    g_autofree char *out = effects(ctx, in, removed);
    if (!out || strcmp(out, base) != 0)
        return true;
    if (!attr && !is_leaf(node))
        return false;
    GHashTable *set = g_hash_table_lookup(ctx->values, key);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, set);
    while (set && g_hash_table_iter_next(&it, &v, NULL)) {
        if (current && strcmp(v, current) == 0)
            continue;
        g_autofree char *changed = mutate(doc, node, attr, MUTATE_VALUE, v);
        g_autofree char *out2 = effects(ctx, in, changed);
        if (out2 && strcmp(out2, base) != 0)
            return true;
    }
    return false;
}

static void fail(Context *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(Context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(ctx->failures, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* A documented item is known to have no effect: its presence must not
 * change the command line either. */
static void check_documented(Context *ctx, const Input *in, xmlDocPtr doc, const char *base,
                             xmlNodePtr node, const char *attr, const char *key)
{
    g_hash_table_add(ctx->seen, g_strdup(key));
    if (!in->caps_file)
        return;
    g_autofree char *removed = mutate(doc, node, attr, MUTATE_REMOVE, NULL);
    g_autofree char *out = effects(ctx, in, removed);
    if (out && strcmp(argv_part(out), argv_part(base)) != 0)
        fail(ctx, "%s line %d: %s is in the 'no effect' table but changes the command line",
             in->file, node->line, key);
}

/* Keys of what the written-back XML holds: "/domain/vcpu", "/domain/vcpu=2",
 * "/domain/os/type/@arch=aarch64". */
static void output_keys(GHashTable *keys, xmlNodePtr node)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *key = element_key(n);
        if (is_leaf(n)) {
            g_autofree char *text = tv_xml_text(n);
            g_hash_table_add(keys, g_strdup_printf("%s=%s", key, text ? text : ""));
        }
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
            g_autofree char *v = tv_xml_prop(n, (const char *)a->name);
            g_hash_table_add(keys, g_strdup_printf("%s/@%s=%s", key, a->name, v ? v : ""));
        }
        g_hash_table_add(keys, g_steal_pointer(&key));
        output_keys(keys, n->children);
    }
}

static GHashTable *written_back(const char *base)
{
    GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *end = strstr(base, "\n--live--\n");
    size_t len = end ? (size_t)(end - base) : strlen(base);
    xmlDocPtr doc = xmlReadMemory(base, (int)len, "output", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    output_keys(keys, xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    return keys;
}

/* Kept: the written-back XML has the element (a leaf with the same text;
 * an empty one, such as <target port='0'/>, may come back with children
 * post-parse adds) or the attribute with the same value. */
static bool kept(GHashTable *out, xmlNodePtr node, const char *attr, const char *key,
                 const char *value)
{
    if (!attr && (!is_leaf(node) || !value || !*value))
        return g_hash_table_contains(out, key);
    g_autofree char *kv = g_strdup_printf("%s=%s", key, value ? value : "");
    return g_hash_table_contains(out, kv);
}

static void walk(Context *ctx, const Input *in, xmlDocPtr doc, const char *base, GHashTable *out,
                 xmlNodePtr node)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || below_metadata_child(n))
            continue;
        g_autofree char *key = element_key(n);
        bool root = n->parent && n->parent->type != XML_ELEMENT_NODE;
        if (!root) {
            g_autofree char *text = is_leaf(n) ? tv_xml_text(n) : NULL;
            /* an empty container is listed as "/domain/features[empty]" */
            g_autofree char *empty = g_strdup_printf("%s[empty]", key);
            bool is_empty = is_leaf(n) && !text && !n->properties;
            if (is_empty && g_hash_table_contains(ctx->table, empty))
                check_documented(ctx, in, doc, base, n, NULL, empty);
            else if (g_hash_table_contains(ctx->table, key))
                check_documented(ctx, in, doc, base, n, NULL, key);
            else if (!kept(out, n, NULL, key, text) &&
                     !has_effect(ctx, in, doc, base, n, NULL, key, text ? text : ""))
                fail(ctx, "%s line %d: element %s has no effect and is not in the table", in->file,
                     n->line, key);
        }
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
            g_autofree char *akey = g_strdup_printf("%s/@%s", key, a->name);
            g_autofree char *v = tv_xml_prop(n, (const char *)a->name);
            /* an entry may name one value: "/domain/features/mte/@state='on'" */
            g_autofree char *akey_value = g_strdup_printf("%s='%s'", akey, v ? v : "");
            if (g_hash_table_contains(ctx->table, akey_value))
                check_documented(ctx, in, doc, base, n, (const char *)a->name, akey_value);
            else if (g_hash_table_contains(ctx->table, akey))
                check_documented(ctx, in, doc, base, n, (const char *)a->name, akey);
            else if (!kept(out, n, (const char *)a->name, akey, v) &&
                     !has_effect(ctx, in, doc, base, n, (const char *)a->name, akey, v))
                fail(ctx, "%s line %d: attribute %s='%s' has no effect and is not in the table",
                     in->file, n->line, akey, v ? v : "");
        }
        if (strcmp((const char *)n->name, "metadata") != 0 || root)
            walk(ctx, in, doc, base, out, n->children);
    }
}

static xmlDocPtr read_doc(const Input *in)
{
    return xmlReadMemory(in->xml, (int)strlen(in->xml), in->file, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* ``/domain/...`` at the start of a table row between the two markers. */
static GHashTable *load_table(void)
{
    g_autofree char *path = g_build_filename(TAGVIRT_SRCDIR, "docs", "formatdomain.rst", NULL);
    g_autofree char *doc = tv_test_read(path);
    g_assert_nonnull(doc);
    const char *begin = strstr(doc, ".. no-effect-table-begin");
    const char *end = begin ? strstr(begin, ".. no-effect-table-end") : NULL;
    if (!begin || !end)
        g_error("%s: the markers '.. no-effect-table-begin' / '-end' are missing", path);
    GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *part = g_strndup(begin, (gsize)(end - begin));
    g_auto(GStrv) lines = g_strsplit(part, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!g_str_has_prefix(*l, "``/domain"))
            continue;
        const char *close = strstr(*l + 2, "``");
        g_assert_nonnull(close);
        g_hash_table_add(table, g_strndup(*l + 2, (gsize)(close - *l - 2)));
    }
    return table;
}

static void add_dir_inputs(Context *ctx, const char *dir)
{
    g_autofree char *path = tv_test_path(dir, NULL);
    g_autoptr(GError) err = NULL;
    GDir *d = g_dir_open(path, 0, &err);
    g_assert_no_error(err);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    while ((e = g_dir_read_name(d))) {
        if (g_str_has_suffix(e, ".xml") && !g_str_has_suffix(e, ".out.xml"))
            g_ptr_array_add(names, g_strdup(e));
    }
    g_dir_close(d);
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        Input *in = g_new0(Input, 1);
        in->file = g_build_filename(dir, (char *)names->pdata[i], NULL);
        g_autofree char *full = g_build_filename(path, (char *)names->pdata[i], NULL);
        in->xml = tv_test_read(full);
        g_ptr_array_add(ctx->inputs, in);
    }
}

/* qemuxml2argvdata inputs get the caps and host of their first case line. */
static void assign_caps(Context *ctx)
{
    g_autofree char *cases_path = tv_test_path("qemuxml2argvdata", "cases", NULL);
    TvTestCases *tc = tv_test_cases_load(cases_path);
    for (guint i = 0; i < ctx->inputs->len; i++) {
        Input *in = g_ptr_array_index(ctx->inputs, i);
        if (!g_str_has_prefix(in->file, "qemuxml2argvdata/"))
            continue;
        g_autofree char *name = g_path_get_basename(in->file);
        name[strlen(name) - 4] = '\0';
        for (guint k = 0; k < tc->cases->len && !in->caps_file; k++) {
            char **w = g_ptr_array_index(tc->cases, k);
            if (strcmp(w[0], name) == 0) {
                in->caps_file = g_strdup(tv_test_caps_file(tc, w[1]));
                in->host = g_strdup(w[2]);
            }
        }
    }
    tv_test_cases_free(tc);
}

static void test_no_silent_drop(void)
{
    Context ctx = {
        .inputs = g_ptr_array_new_with_free_func(input_free),
        .values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_hash_table_destroy),
        .table = load_table(),
        .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .caps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)tv_qemu_caps_unref),
        .hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)tv_host_facts_free),
        .failures = g_ptr_array_new_with_free_func(g_free),
    };
    add_dir_inputs(&ctx, "domainconfdata");
    add_dir_inputs(&ctx, "qemuxml2argvdata");
    assign_caps(&ctx);

    g_autoptr(GPtrArray) accepted = g_ptr_array_new();
    for (guint i = 0; i < ctx.inputs->len; i++) {
        Input *in = g_ptr_array_index(ctx.inputs, i);
        g_autofree char *base = effects(&ctx, in, in->xml);
        xmlDocPtr doc = base ? read_doc(in) : NULL;
        if (!doc)
            continue;
        collect_values(&ctx, xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
        g_ptr_array_add(accepted, in);
    }
    for (guint i = 0; i < accepted->len; i++) {
        Input *in = g_ptr_array_index(accepted, i);
        xmlDocPtr doc = read_doc(in);
        /* the baseline from the re-serialised document, as the mutations are */
        g_autofree char *again = dump_doc(doc);
        g_autofree char *base = effects(&ctx, in, again);
        g_assert_nonnull(base);
        g_autoptr(GHashTable) out = written_back(base);
        walk(&ctx, in, doc, base, out, xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, ctx.table);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(ctx.seen, key))
            fail(&ctx,
                 "docs/formatdomain.rst lists %s as accepted with no effect, but no "
                 "accepted test input has it",
                 (char *)key);
    }
    g_test_message("%u inputs, %u accepted, %u documented items", ctx.inputs->len, accepted->len,
                   g_hash_table_size(ctx.table));
    for (guint i = 0; i < ctx.failures->len; i++)
        g_test_message("%s", (char *)ctx.failures->pdata[i]);
    if (ctx.failures->len)
        g_test_fail();
    tv_domain_conf_test_seed(0);
    g_ptr_array_free(ctx.inputs, TRUE);
    g_hash_table_destroy(ctx.values);
    g_hash_table_destroy(ctx.table);
    g_hash_table_destroy(ctx.seen);
    g_hash_table_destroy(ctx.caps);
    g_hash_table_destroy(ctx.hosts);
    g_ptr_array_free(ctx.failures, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nodrop/every-item-has-an-effect-or-is-documented", test_no_silent_drop);
    return g_test_run();
}
