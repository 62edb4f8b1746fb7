/* The destination's Prepare against cookies that do not belong to the
 * guest: a cookie of another guest (uuid, or name), a malformed one, one
 * without the guest ABI.  Each is refused with libvirt's error class before
 * anything exists on the destination: no domain, no QEMU. */
#include "drivertestutils.h"
#include "tv_error.h"

#include <string.h>

#define UUID_GUEST "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
#define UUID_OTHER "00112233-4455-6677-8899-aabbccddeeff"
#define GUEST_ABI  "<guestabi accel='tcg' cpu='max' machine='virt' pfr1='0x21' pfr2='0'/>"

static void prepare_refused(DtEnv *env, const char *xml, const char *cookie, TvErrorCode code,
                            const char *words)
{
    TvMigrateParams params = { .dest_xml = xml };
    g_autofree char *cookie_out = NULL;
    g_autofree char *uri_out = NULL;
    int rc = tv_qemu_driver_migrate_prepare(env->drv, &params, cookie, strlen(cookie) + 1,
                                            TV_MIGRATE_LIVE, &cookie_out, &uri_out);
    g_assert_cmpint(rc, ==, -1);
    g_test_message("refused: %s", tv_error_message());
    g_assert_cmpint(tv_error_code(), ==, code);
    g_assert_nonnull(strstr(tv_error_message(), words));
    tv_error_reset();
    g_assert_null(uri_out);
    g_autofree char *names = dt_list_names(env->drv, 0);
    g_assert_cmpstr(names, ==, "");
    g_assert_false(dt_qemu_running("mig"));
}

static void test_foreign_cookies(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml =
        dt_domain_xml(&env, "mig", UUID_GUEST, env.demo_loop, "<mte version='3'/>", NULL);

    g_autofree char *other_uuid =
        g_strdup_printf("<tagvirt-migration version='1'><name>mig</name><uuid>%s</uuid>%s"
                        "</tagvirt-migration>",
                        UUID_OTHER, GUEST_ABI);
    prepare_refused(&env, xml, other_uuid, TV_ERR_INVALID_ARG,
                    "migration cookie is from another guest: uuid '" UUID_OTHER "'");

    g_autofree char *other_name =
        g_strdup_printf("<tagvirt-migration version='1'><name>other</name><uuid>%s</uuid>%s"
                        "</tagvirt-migration>",
                        UUID_GUEST, GUEST_ABI);
    prepare_refused(&env, xml, other_name, TV_ERR_INVALID_ARG,
                    "migration cookie is from another guest: name 'other'");

    prepare_refused(&env, xml, "<tagvirt-migration version='1'><name>mig", TV_ERR_XML_ERROR,
                    "cookie");

    g_autofree char *no_abi =
        g_strdup_printf("<tagvirt-migration version='1'><name>mig</name><uuid>%s</uuid>"
                        "</tagvirt-migration>",
                        UUID_GUEST);
    prepare_refused(&env, xml, no_abi, TV_ERR_XML_ERROR, "guestabi");
    dt_env_clear(&env);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/driver/migrate/foreign-cookies", test_foreign_cookies);
    return dt_run_guarded(g_test_run);
}
