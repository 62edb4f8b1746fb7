/* The lines of tests/qemuxml2argvdata/cases flagged xml2xml:
 * "NAME CAPS HOST xml2xml" -> qemuxml2argvdata/NAME.xml after post-parse (the
 * persistent definition, NAME.CAPS-HOST.inactive.xml) and after start-time
 * resolution (the live definition with id 1, NAME.CAPS-HOST.live.xml), both
 * in tests/qemuxml2xmloutdata/: host/max/bare <mte/> become numbers there. */
#include "qemu_domain.h"
#include "domain_conf_testing.h"
#include "testutils.h"
#include "tv_error.h"

#include <string.h>

static TvQemuCaps *fixture_caps(const char *emulator, void *opaque)
{
    return tv_qemu_caps_ref(opaque);
}

static void check_round_trip(const char *text, unsigned parse_flags, unsigned format_flags)
{
    g_autoptr(TvDomainDef) again = tv_domain_def_parse(text, strlen(text), parse_flags);
    if (!again) {
        g_test_message("output does not parse back: %s", tv_error_message());
        g_test_fail();
        return;
    }
    g_autofree char *text2 = tv_domain_def_format(again, format_flags);
    if (strcmp(text, text2) != 0) {
        g_test_message("output is not stable across parse+format:\n%s\n---\n%s", text, text2);
        g_test_fail();
    }
}

static void run_case(gconstpointer data)
{
    const TvTestCase *c = data;
    g_autoptr(TvQemuCaps) caps = tv_test_load_caps_for_host(c->caps_file, c->host);
    g_autoptr(TvHostFacts) host = tv_test_load_host(c->host);
    g_autofree char *in = tv_test_path("qemuxml2argvdata", c->words[0], NULL);
    g_autofree char *in_file = g_strdup_printf("%s.xml", in);
    g_autofree char *out = tv_test_path("qemuxml2xmloutdata", c->words[0], NULL);
    g_autofree char *inactive_path =
        g_strdup_printf("%s.%s-%s.inactive.xml", out, c->caps_alias, c->host);
    g_autofree char *live_path = g_strdup_printf("%s.%s-%s.live.xml", out, c->caps_alias, c->host);
    g_autofree char *xml = tv_test_read(in_file);
    g_assert_nonnull(xml);

    TvQemuPipeline pipe = { .host = host, .caps_lookup = fixture_caps, .caps_opaque = caps };
    tv_domain_conf_test_seed(1);
    g_autoptr(TvDomainDef) def = tv_qemu_domain_load(&pipe, xml, strlen(xml), 0, NULL);
    if (!def) {
        g_test_message("%s: %s", in_file, tv_error_message());
        g_test_fail();
        return;
    }
    g_autofree char *inactive = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    tv_test_compare(inactive_path, inactive, NULL);
    check_round_trip(inactive, 0, TV_DOMAIN_FORMAT_INACTIVE);

    TvQemuMtePlan plan;
    def->id = 1;
    if (tv_qemu_domain_resolve(def, caps, host, &plan) < 0) {
        g_test_message("%s: resolve: %s", in_file, tv_error_message());
        g_test_fail();
        return;
    }
    g_autofree char *live = tv_domain_def_format(def, TV_DOMAIN_FORMAT_LIVE);
    tv_test_compare(live_path, live, NULL);
    g_autofree char *status = tv_domain_def_format(def, TV_DOMAIN_FORMAT_STATUS);
    check_round_trip(status, TV_DOMAIN_PARSE_STATUS, TV_DOMAIN_FORMAT_STATUS);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tv_test_add_cases("qemuxml2argvdata", "qemuxml2xml", 1, "xml2xml", run_case);
    return g_test_run();
}
