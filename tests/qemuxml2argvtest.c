/* tests/qemuxml2argvdata/cases: "NAME CAPS HOST" -> NAME.xml through the
 * whole pipeline (parse, post-parse, validate, resolve, command line) against
 * recorded caps and a fixture host; expected NAME.CAPS-HOST.args or .err. */
#include "qemu_command.h"
#include "qemu_domain.h"
#include "testutils.h"
#include "tv_error.h"

#include <string.h>

typedef struct {
    char *name;
    char *caps_alias;
    char *caps_file;
    char *host;
} Case;

static void case_free(gpointer p)
{
    Case *c = p;
    g_free(c->name);
    g_free(c->caps_alias);
    g_free(c->caps_file);
    g_free(c->host);
    g_free(c);
}

static const TvQemuCaps *fixture_caps(const char *emulator, void *opaque)
{
    return opaque;
}

static void run_case(gconstpointer data)
{
    const Case *c = data;
    g_autoptr(TvQemuCaps) caps = tv_test_load_caps_for_host(c->caps_file, c->host);
    g_autoptr(TvHostFacts) host = tv_test_load_host(c->host);
    g_autofree char *xml_path = tv_test_path("qemuxml2argvdata", c->name, NULL);
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
                                      .paused = true };
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
    g_autofree char *cases_path = tv_test_path("qemuxml2argvdata", "cases", NULL);
    TvTestCases *tc = tv_test_cases_load(cases_path);
    for (guint i = 0; i < tc->cases->len; i++) {
        char **w = g_ptr_array_index(tc->cases, i);
        if (!w[1] || !w[2])
            g_error("%s: 'NAME CAPS HOST' expected near '%s'", cases_path, w[0]);
        Case *c = g_new0(Case, 1);
        c->name = g_strdup(w[0]);
        c->caps_alias = g_strdup(w[1]);
        c->caps_file = g_strdup(tv_test_caps_file(tc, w[1]));
        c->host = g_strdup(w[2]);
        g_autofree char *test = g_strdup_printf("/qemuxml2argv/%s/%s/%s", w[0], w[1], w[2]);
        g_test_add_data_func_full(test, c, run_case, case_free);
    }
    int ret = g_test_run();
    tv_test_cases_free(tc);
    return ret;
}
