/* Every line of tests/qemuxml2argvdata/cases, "NAME CAPS HOST [flags]" ->
 * NAME.xml through the whole pipeline (parse, post-parse, validate, resolve,
 * command line) against recorded caps and a fixture host; expected
 * NAME.CAPS-HOST.args or .err. */
#include "qemu_command.h"
#include "domain_conf_testing.h"
#include "qemu_domain.h"
#include "testutils.h"
#include "tv_error.h"

#include <string.h>

static TvQemuCaps *fixture_caps(const char *emulator, void *opaque)
{
    return tv_qemu_caps_ref(opaque);
}

static void run_case(gconstpointer data)
{
    const TvTestCase *c = data;
    g_autoptr(TvQemuCaps) caps = tv_test_load_caps_for_host(c->caps_file, c->host);
    g_autoptr(TvHostFacts) host = tv_test_load_host(c->host);
    g_autofree char *xml_path = tv_test_path("qemuxml2argvdata", c->words[0], NULL);
    g_autofree char *xml_file = g_strdup_printf("%s.xml", xml_path);
    g_autofree char *base = g_strdup_printf("%s.%s-%s", xml_path, c->caps_alias, c->host);
    g_autofree char *args_path = g_strdup_printf("%s.args", base);
    g_autofree char *err_path = g_strdup_printf("%s.err", base);
    g_autofree char *xml = tv_test_read(xml_file);
    g_assert_nonnull(xml);

    TvQemuPipeline pipe = { .host = host, .caps_lookup = fixture_caps, .caps_opaque = caps };
    tv_domain_conf_test_seed(1);
    tv_error_reset();
    g_autoptr(TvDomainDef) def = tv_qemu_domain_load(&pipe, xml, strlen(xml), 0, NULL);
    TvQemuMtePlan plan;
    if (def && tv_qemu_domain_resolve(def, caps, host, &plan) == 0) {
        TvQemuCommandOptions opts = { .monitor_path = "/run/tagvirt/qemu/test.monitor",
                                      .paused = true,
                                      .tpm_fd = 4 };
        g_autoptr(GPtrArray) argv = tv_qemu_build_command(def, caps, &plan, &opts);
        g_autofree char *text = tv_qemu_command_format(argv);
        if (!tv_test_regenerate() && g_file_test(err_path, G_FILE_TEST_EXISTS)) {
            g_test_message("expected an error (%s) but got a command line", err_path);
            g_test_fail();
        }
        tv_test_compare(args_path, text, err_path);
    } else {
        g_autofree char *err = g_strdup_printf("%s\n", tv_error_message());
        if (!tv_test_regenerate() && g_file_test(args_path, G_FILE_TEST_EXISTS)) {
            g_test_message("expected a command line (%s) but got: %s", args_path, err);
            g_test_fail();
        }
        tv_test_compare(err_path, err, args_path);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tv_test_add_cases("qemuxml2argvdata", "qemuxml2argv", 1, NULL, run_case);
    return g_test_run();
}
