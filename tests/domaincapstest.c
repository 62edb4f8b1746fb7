/* tests/domaincapsdata/cases: "CAPS HOST VIRTTYPE" -> CAPS-HOST-VIRTTYPE.xml
 * (or .err): <domainCapabilities> from recorded caps and a fixture host. */
#include "qemu_domaincaps.h"
#include "testutils.h"
#include "tv_error.h"

typedef struct {
    char *caps_alias;
    char *caps_file;
    char *host;
    char *virttype;
} Case;

static void case_free(gpointer p)
{
    Case *c = p;
    g_free(c->caps_alias);
    g_free(c->caps_file);
    g_free(c->host);
    g_free(c->virttype);
    g_free(c);
}

static void run_case(gconstpointer data)
{
    const Case *c = data;
    g_autoptr(TvQemuCaps) caps = tv_test_load_caps_for_host(c->caps_file, c->host);
    g_autoptr(TvHostFacts) host = tv_test_load_host(c->host);
    g_autofree char *file = g_strdup_printf("%s-%s-%s", c->caps_alias, c->host, c->virttype);
    g_autofree char *base = tv_test_path("domaincapsdata", file, NULL);
    g_autofree char *xml_path = g_strdup_printf("%s.xml", base);
    g_autofree char *err_path = g_strdup_printf("%s.err", base);
    tv_error_reset();
    g_autoptr(TvDomainCaps) dc = tv_qemu_domain_caps(caps, host, "virt", "aarch64", c->virttype);
    if (dc) {
        g_autofree char *xml = tv_domain_caps_format(dc);
        tv_test_compare(xml_path, xml, err_path);
    } else {
        g_autofree char *err = g_strdup_printf("%s\n", tv_error_message());
        tv_test_compare(err_path, err, xml_path);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *cases_path = tv_test_path("domaincapsdata", "cases", NULL);
    TvTestCases *tc = tv_test_cases_load(cases_path);
    for (guint i = 0; i < tc->cases->len; i++) {
        char **w = g_ptr_array_index(tc->cases, i);
        if (!w[1] || !w[2])
            g_error("%s: 'CAPS HOST VIRTTYPE' expected near '%s'", cases_path, w[0]);
        Case *c = g_new0(Case, 1);
        c->caps_alias = g_strdup(w[0]);
        c->caps_file = g_strdup(tv_test_caps_file(tc, w[0]));
        c->host = g_strdup(w[1]);
        c->virttype = g_strdup(w[2]);
        g_autofree char *test = g_strdup_printf("/domaincaps/%s/%s/%s", w[0], w[1], w[2]);
        g_test_add_data_func_full(test, c, run_case, case_free);
    }
    int ret = g_test_run();
    tv_test_cases_free(tc);
    return ret;
}
