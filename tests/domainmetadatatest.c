/* The <metadata> API that setMetadata/getMetadata use (domain_metadata.h):
 * get, set (replace, namespace injection, prefix and size checks), remove,
 * and what a definition formats afterwards. */
#include "domain_conf.h"
#include "tv_error.h"

#include <glib.h>
#include <string.h>

static const char base_xml[] =
    "<domain type='qemu'>\n"
    "  <name>md</name>\n"
    "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
    "  <metadata>\n"
    "    <nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>\n"
    "      <nova:name>vm</nova:name>\n"
    "    </nova:instance>\n"
    "  </metadata>\n"
    "  <memory>262144</memory>\n"
    "  <os><type arch='aarch64' machine='virt'>hvm</type></os>\n"
    "</domain>\n";

#define NOVA_NS "http://openstack.org/xmlns/libvirt/nova/1.1"
#define APP_NS  "http://example.org/app/1.0"

static TvDomainDef *parse(const char *xml)
{
    tv_error_reset();
    TvDomainDef *def = tv_domain_def_parse(xml, strlen(xml), 0);
    if (!def)
        g_error("parse: %s", tv_error_message());
    return def;
}

/* The formatted definition parses back and formats the same. */
static char *format_stable(const TvDomainDef *def)
{
    char *xml = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    g_autoptr(TvDomainDef) again = parse(xml);
    g_autofree char *xml2 = tv_domain_def_format(again, TV_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(xml2, ==, xml);
    return xml;
}

static void test_get(void)
{
    g_autoptr(TvDomainDef) def = parse(base_xml);
    g_assert_cmpuint(tv_domain_metadata_count(def->metadata), ==, 1);
    g_assert_cmpstr(tv_domain_metadata_uri(def->metadata, 0), ==, NOVA_NS);
    g_autofree char *got = tv_domain_metadata_get(def->metadata, NOVA_NS);
    g_assert_cmpstr(got, ==, /* libvirt's answer: without the namespace */
                    "<instance>\n"
                    "  <name>vm</name>\n"
                    "</instance>");
    tv_error_reset();
    g_assert_null(tv_domain_metadata_get(def->metadata, APP_NS));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN_METADATA);
    g_assert_nonnull(strstr(tv_error_message(), APP_NS));
}

/* libvirt's rule: every element of the new fragment gets the namespace. */
static void test_set_injects_namespace(void)
{
    g_autoptr(TvDomainDef) def = parse(base_xml);
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, APP_NS, "app",
                                           "<data a='1'>\n  <item>x &amp; y</item>\n</data>"),
                    ==, 0);
    g_autofree char *got = tv_domain_metadata_get(def->metadata, APP_NS);
    g_assert_cmpstr(got, ==,
                    "<data a=\"1\">\n"
                    "  <item>x &amp; y</item>\n"
                    "</data>");
    g_autofree char *xml = format_stable(def);
    g_assert_nonnull(strstr(xml, "  <metadata>\n    <nova:instance"));
    g_assert_nonnull(strstr(xml, "    <app:data xmlns:app=\"" APP_NS "\" a=\"1\">\n"
                                 "      <app:item>x &amp; y</app:item>\n"
                                 "    </app:data>\n  </metadata>\n"));
}

static void test_set_replaces(void)
{
    g_autoptr(TvDomainDef) def = parse(base_xml);
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, NOVA_NS, "nova",
                                           "<instance><name>renamed</name></instance>"),
                    ==, 0);
    g_assert_cmpuint(tv_domain_metadata_count(def->metadata), ==, 1);
    g_autofree char *got = tv_domain_metadata_get(def->metadata, NOVA_NS);
    g_assert_nonnull(strstr(got, "<name>renamed</name>"));
    g_autofree char *xml = format_stable(def);
    g_assert_null(strstr(xml, ">vm<"));
}

static void test_set_on_empty_definition(void)
{
    g_autoptr(TvDomainDef) def = parse("<domain type='qemu'><name>e</name><memory>1024</memory>"
                                       "<os><type>hvm</type></os></domain>");
    g_assert_null(def->metadata);
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, APP_NS, "app", "<x/>"), ==, 0);
    g_autofree char *xml = format_stable(def);
    g_assert_nonnull(strstr(xml, "<app:x xmlns:app=\"" APP_NS "\"/>"));
}

static void test_remove(void)
{
    g_autoptr(TvDomainDef) def = parse(base_xml);
    tv_domain_metadata_remove(def->metadata, APP_NS); /* not there: no error */
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, NOVA_NS, "nova", NULL), ==, 0);
    g_assert_cmpuint(tv_domain_metadata_count(def->metadata), ==, 0);
    g_autofree char *xml = format_stable(def);
    g_assert_nonnull(strstr(xml, "  <metadata/>\n"));
}

static void test_set_errors(void)
{
    g_autoptr(TvDomainDef) def = parse(base_xml);
    g_autofree char *before = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    const struct {
        const char *uri, *key, *xml, *message;
    } bad[] = {
        { NULL, "app", "<x/>", "needs a namespace URI" },
        { APP_NS, NULL, "<x/>", "invalid prefix ''" },
        { APP_NS, "a:b", "<x/>", "invalid prefix 'a:b'" },
        { APP_NS, "1app", "<x/>", "invalid prefix '1app'" },
        { APP_NS, "app", "<x>", "metadata XML is malformed" },
        { APP_NS, "app", "<x/><y/>", "metadata XML is malformed" },
        { APP_NS, "app", "<x xmlns:app='http://other/'/>", "declares prefix 'app' for" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        tv_error_reset();
        g_assert_cmpint(tv_domain_metadata_set(&def->metadata, bad[i].uri, bad[i].key, bad[i].xml),
                        ==, -1);
        if (!strstr(tv_error_message(), bad[i].message))
            g_error("case %zu: '%s' does not say '%s'", i, tv_error_message(), bad[i].message);
    }
    /* the size limit, on set and on parse */
    GString *big = g_string_new("<x>");
    while (big->len <= TV_DOMAIN_METADATA_ELEMENT_MAX)
        g_string_append(big, "0123456789abcdef");
    g_string_append(big, "</x>");
    tv_error_reset();
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, APP_NS, "app", big->str), ==, -1);
    g_assert_nonnull(strstr(tv_error_message(), "bytes are allowed per element"));
    g_autofree char *doc = g_strdup_printf(
        "<domain type='qemu'><name>big</name><memory>1024</memory><os><type>hvm</type></os>"
        "<metadata><app:x xmlns:app='%s'>%s</app:x></metadata></domain>",
        APP_NS, big->str);
    g_string_free(big, TRUE);
    tv_error_reset();
    g_assert_null(tv_domain_def_parse(doc, strlen(doc), 0));
    g_assert_nonnull(strstr(tv_error_message(), "bytes are allowed per element"));
    /* the element count limit */
    for (int i = 1; i < TV_DOMAIN_METADATA_ELEMENTS_MAX; i++) {
        g_autofree char *uri = g_strdup_printf("http://example.org/n%d", i);
        g_assert_cmpint(tv_domain_metadata_set(&def->metadata, uri, "n", "<x/>"), ==, 0);
    }
    tv_error_reset();
    g_assert_cmpint(
        tv_domain_metadata_set(&def->metadata, "http://example.org/one-more", "n", "<x/>"), ==, -1);
    g_assert_nonnull(strstr(tv_error_message(), "cannot be added"));
    /* replacing one is still fine at the limit */
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, NOVA_NS, "nova", "<y/>"), ==, 0);
    for (int i = 1; i < TV_DOMAIN_METADATA_ELEMENTS_MAX; i++) {
        g_autofree char *uri = g_strdup_printf("http://example.org/n%d", i);
        tv_domain_metadata_remove(def->metadata, uri);
    }
    g_assert_cmpint(tv_domain_metadata_set(&def->metadata, NOVA_NS, "nova",
                                           "<instance>\n  <name>vm</name>\n</instance>"),
                    ==, 0);
    g_autofree char *after = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(after, ==, before);
}

static void test_title_description(void)
{
    g_autoptr(TvDomainDef) def = parse(base_xml);
    g_assert_cmpint(tv_domain_def_set_title(def, "A title"), ==, 0);
    tv_domain_def_set_description(def, "two\nlines");
    tv_error_reset();
    g_assert_cmpint(tv_domain_def_set_title(def, "two\nlines"), ==, -1);
    g_assert_nonnull(strstr(tv_error_message(), "single line"));
    g_assert_cmpstr(def->title, ==, "A title");
    g_autofree char *xml = format_stable(def);
    g_assert_nonnull(
        strstr(xml, "<title>A title</title>\n  <description>two\nlines</description>"));
    g_assert_cmpint(tv_domain_def_set_title(def, ""), ==, 0);
    tv_domain_def_set_description(def, NULL);
    g_assert_null(def->title);
    g_assert_null(def->description);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metadata/get", test_get);
    g_test_add_func("/metadata/set-injects-namespace", test_set_injects_namespace);
    g_test_add_func("/metadata/set-replaces", test_set_replaces);
    g_test_add_func("/metadata/set-on-empty-definition", test_set_on_empty_definition);
    g_test_add_func("/metadata/remove", test_remove);
    g_test_add_func("/metadata/set-errors", test_set_errors);
    g_test_add_func("/metadata/title-description", test_title_description);
    return g_test_run();
}
