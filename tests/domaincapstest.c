/* tests/domaincapsdata/cases: "CAPS HOST VIRTTYPE" -> CAPS-HOST-VIRTTYPE.xml
 * (or .err): <domainCapabilities> from recorded caps and a fixture host. */
#include "qemu_domaincaps.h"
#include "testutils.h"
#include "tv_error.h"

static void run_case(gconstpointer data)
{
    const TvTestCase *c = data;
    g_autoptr(TvQemuCaps) caps = tv_test_load_caps_for_host(c->caps_file, c->host);
    g_autoptr(TvHostFacts) host = tv_test_load_host(c->host);
    g_autofree char *file = g_strdup_printf("%s-%s-%s", c->caps_alias, c->host, c->words[2]);
    g_autofree char *base = tv_test_path("domaincapsdata", file, NULL);
    g_autofree char *xml_path = g_strdup_printf("%s.xml", base);
    g_autofree char *err_path = g_strdup_printf("%s.err", base);
    tv_error_reset();
    g_autoptr(TvDomainCaps) dc = tv_qemu_domain_caps(caps, host, "virt", "aarch64", c->words[2]);
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
    tv_test_add_cases("domaincapsdata", "domaincaps", 0, NULL, run_case);
    return g_test_run();
}
