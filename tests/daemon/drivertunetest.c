/* The driver's live/config changes with guests that run: metadata (title,
 * description, namespaced elements; both definitions or neither; the event),
 * vCPU counts and information, pinning, memory, reset (the reboot event),
 * the pty's path in live XML, info from the running definition.  Every bad
 * input gets libvirt's error class and leaves both definitions as they
 * were. */
#include "domain_conf.h"
#include "domain_metadata.h"
#include "drivertestutils.h"
#include "tv_error.h"

#include <string.h>
#include <unistd.h>

#define EVENT_WAIT_MS 10000
#define NS_A          "http://example.org/tagvirt/a"
#define NS_NOVA       "http://openstack.org/xmlns/libvirt/nova/1.1"

/* A demo guest with a pty serial, 2 of 4 vCPUs present and, with a virtio
 * balloon, 192 of its 256 MiB (a size below <memory> needs the balloon). */
static char *tune_xml(DtEnv *env, const char *name, const char *balloon)
{
    return g_strdup_printf("<domain type='qemu'>\n"
                           "  <name>%s</name>\n"
                           "  <memory unit='MiB'>256</memory>\n"
                           "  <currentMemory unit='MiB'>%d</currentMemory>\n"
                           "  <vcpu placement='static' current='2'>4</vcpu>\n"
                           "  <os>\n"
                           "    <type arch='aarch64' machine='virt'>hvm</type>\n"
                           "    <kernel>%s</kernel>\n"
                           "  </os>\n"
                           "  <cpu mode='maximum'/>\n"
                           "  <devices>\n"
                           "    <controller type='usb' model='none'/>\n"
                           "    <serial type='pty'/>\n"
                           "    <console type='pty'/>\n"
                           "    <memballoon model='%s'/>\n"
                           "  </devices>\n"
                           "</domain>\n",
                           name, strcmp(balloon, "virtio") == 0 ? 192 : 256, env->demo_loop,
                           balloon);
}

static char *xml_of(DtEnv *env, const TvDomainRef *ref, unsigned flags)
{
    char *xml = tv_qemu_driver_get_xml(env->drv, ref->uuid, flags);
    if (!xml)
        g_error("dumpxml: %s", tv_error_message());
    return xml;
}

/* The call failed with code, and neither definition changed. */
static void refused(DtEnv *env, const TvDomainRef *ref, int rc, TvErrorCode code,
                    const char *live_before, const char *config_before)
{
    g_assert_cmpint(rc, ==, -1);
    g_test_message("refused: %s", tv_error_message());
    g_assert_cmpint(tv_error_code(), ==, code);
    tv_error_reset();
    g_autofree char *config = xml_of(env, ref, TV_XML_INACTIVE);
    g_assert_cmpstr(config, ==, config_before);
    if (live_before) {
        g_autofree char *live = xml_of(env, ref, 0);
        g_assert_cmpstr(live, ==, live_before);
    }
}

static void test_metadata(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    TvQemuDriver *drv = env.drv;
    g_autofree char *xml = tune_xml(&env, "meta", "none");
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);

    /* shut off: current is the config */
    g_assert_cmpint(tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT,
                                                "<instance><name>vm</name></instance>", "nova",
                                                NS_NOVA, 0),
                    ==, 0);
    DtEvent ev;
    g_assert_true(
        dt_wait_event_kind(&env, "meta", TV_DOMAIN_EVENT_ID_METADATA_CHANGE, &ev, EVENT_WAIT_MS));
    g_assert_cmpint(ev.event, ==, TV_METADATA_ELEMENT);
    g_assert_cmpstr(ev.str, ==, NS_NOVA);
    g_autofree char *got =
        tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, NS_NOVA, TV_AFFECT_CONFIG);
    g_assert_cmpstr(got, ==, "<instance>\n  <name>vm</name>\n</instance>");
    g_autofree char *config = xml_of(&env, &ref, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(config, "<nova:instance xmlns:nova=\"" NS_NOVA "\">"));
    g_assert_cmpint(tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_TITLE, "A title", NULL,
                                                NULL, TV_AFFECT_CONFIG),
                    ==, 0);
    g_assert_null(
        tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, NS_NOVA, TV_AFFECT_LIVE));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID); /* not running */
    tv_error_reset();

    /* bad inputs: libvirt's codes, nothing changed */
    g_free(config);
    config = xml_of(&env, &ref, TV_XML_INACTIVE);
    refused(&env, &ref, tv_qemu_driver_set_metadata(drv, ref.uuid, 7, "x", NULL, NULL, 0),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref,
            tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, "<a/>", NULL, NS_A, 0),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref,
            tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, "<a/>", "a", NULL, 0),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref,
            tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, "<a", "a", NS_A, 0),
            TV_ERR_XML_DETAIL, NULL, config);
    refused(
        &env, &ref,
        tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_TITLE, "two\nlines", NULL, NULL, 0),
        TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref,
            tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_TITLE, "t", NULL, NULL, 8),
            TV_ERR_INVALID_ARG, NULL, config);
    GString *big = g_string_new("<big>");
    while (big->len <= TV_DOMAIN_METADATA_ELEMENT_MAX)
        g_string_append(big, "<x>0123456789abcdef</x>");
    g_string_append(big, "</big>");
    refused(&env, &ref,
            tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, big->str, "a", NS_A, 0),
            TV_ERR_INVALID_ARG, NULL, config);
    g_string_free(big, TRUE);
    g_assert_null(tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, NS_A, 0));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN_METADATA); /* unknown namespace */
    tv_error_reset();
    g_assert_null(tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_DESCRIPTION, NULL, 0));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN_METADATA);
    tv_error_reset();
    g_assert_null(tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, NS_A,
                                              TV_AFFECT_LIVE | TV_AFFECT_CONFIG));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    tv_error_reset();

    /* running: live only, then both */
    dt_start_ok(&env, &ref);
    g_assert_cmpint(tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, "<v n='1'/>",
                                                "a", NS_A, TV_AFFECT_LIVE),
                    ==, 0);
    g_autofree char *live_a =
        tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, NS_A, TV_AFFECT_CURRENT);
    g_assert_cmpstr(live_a, ==, "<v n=\"1\"/>");
    g_assert_null(
        tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, NS_A, TV_AFFECT_CONFIG));
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_DESCRIPTION, "Both",
                                                NULL, NULL, TV_AFFECT_LIVE | TV_AFFECT_CONFIG),
                    ==, 0);
    g_autofree char *d_live =
        tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_DESCRIPTION, NULL, TV_AFFECT_LIVE);
    g_autofree char *d_conf =
        tv_qemu_driver_get_metadata(drv, ref.uuid, TV_METADATA_DESCRIPTION, NULL, TV_AFFECT_CONFIG);
    g_assert_cmpstr(d_live, ==, "Both");
    g_assert_cmpstr(d_conf, ==, "Both");

    /* both or neither: the live definition is full (64 elements), the
     * config is not; a new namespace with both flags changes neither */
    for (int i = 0; i <= TV_DOMAIN_METADATA_ELEMENTS_MAX; i++) {
        g_autofree char *ns = g_strdup_printf("urn:tagvirt:test:%d", i);
        if (tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, "<e/>", "t", ns,
                                        TV_AFFECT_LIVE) < 0) {
            g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
            tv_error_reset();
            break;
        }
    }
    g_autofree char *live_full = xml_of(&env, &ref, 0);
    g_autofree char *config_now = xml_of(&env, &ref, TV_XML_INACTIVE);
    refused(&env, &ref,
            tv_qemu_driver_set_metadata(drv, ref.uuid, TV_METADATA_ELEMENT, "<e/>", "t",
                                        "urn:tagvirt:one-more", TV_AFFECT_LIVE | TV_AFFECT_CONFIG),
            TV_ERR_INVALID_ARG, live_full, config_now);
    g_assert_cmpint(tv_qemu_driver_destroy(drv, ref.uuid, 0), ==, 0);

    /* the config kept what was set on it, across a restart of the driver */
    dt_close(&env);
    dt_open(&env, false);
    g_autofree char *nova =
        tv_qemu_driver_get_metadata(env.drv, ref.uuid, TV_METADATA_ELEMENT, NS_NOVA, 0);
    g_assert_nonnull(nova);
    g_autofree char *title =
        tv_qemu_driver_get_metadata(env.drv, ref.uuid, TV_METADATA_TITLE, NULL, 0);
    g_assert_cmpstr(title, ==, "A title");

    /* a transient domain has no config to change */
    g_autofree char *txml = tune_xml(&env, "meta-transient", "none");
    TvDomainRef tref = { 0 };
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, txml, 0, &tref), ==, 0);
    g_autofree char *tlive = xml_of(&env, &tref, 0);
    g_assert_cmpint(tv_qemu_driver_set_metadata(env.drv, tref.uuid, TV_METADATA_TITLE, "x", NULL,
                                                NULL, TV_AFFECT_CONFIG),
                    ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    tv_error_reset();
    g_autofree char *tlive2 = xml_of(&env, &tref, 0);
    g_assert_cmpstr(tlive2, ==, tlive);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, tref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&tref);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_vcpus(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    TvQemuDriver *drv = env.drv;
    g_autofree char *xml = tune_xml(&env, "cpus", "none");
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    g_assert_cmpint(tv_qemu_driver_get_vcpus_flags(drv, ref.uuid, 0), ==, 2);
    g_assert_cmpint(tv_qemu_driver_get_vcpus_flags(drv, ref.uuid, TV_VCPU_MAXIMUM), ==, 4);
    g_assert_cmpint(tv_qemu_driver_get_vcpus_flags(drv, ref.uuid, TV_AFFECT_LIVE), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    tv_error_reset();

    /* out of range, zero, bad flags: refused, nothing changed */
    g_autofree char *config = xml_of(&env, &ref, TV_XML_INACTIVE);
    refused(&env, &ref, tv_qemu_driver_set_vcpus(drv, ref.uuid, 5, TV_AFFECT_CONFIG),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref, tv_qemu_driver_set_vcpus(drv, ref.uuid, 0, TV_AFFECT_CONFIG),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref,
            tv_qemu_driver_set_vcpus(drv, ref.uuid, 600, TV_AFFECT_CONFIG | TV_VCPU_MAXIMUM),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref, tv_qemu_driver_set_vcpus(drv, ref.uuid, 2, 0x40), TV_ERR_INVALID_ARG, NULL,
            config);
    refused(&env, &ref, tv_qemu_driver_set_vcpus(drv, ref.uuid, 2, TV_AFFECT_LIVE),
            TV_ERR_OPERATION_INVALID, NULL, config);

    /* config: the present count, then the maximum (present stays) */
    g_assert_cmpint(tv_qemu_driver_set_vcpus(drv, ref.uuid, 3, TV_AFFECT_CONFIG), ==, 0);
    g_free(config);
    config = xml_of(&env, &ref, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(config, "<vcpu current='3'>4</vcpu>"));
    g_assert_cmpint(tv_qemu_driver_set_vcpus(drv, ref.uuid, 2, TV_AFFECT_CONFIG | TV_VCPU_MAXIMUM),
                    ==, 0);
    g_free(config);
    config = xml_of(&env, &ref, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(config, "<vcpu>2</vcpu>"));
    g_assert_cmpint(tv_qemu_driver_set_vcpus(drv, ref.uuid, 3, TV_AFFECT_CONFIG | TV_VCPU_MAXIMUM),
                    ==, 0);

    /* running: 2 of 3 present (QEMU -smp 2,maxcpus=3), each with its thread */
    dt_start_ok(&env, &ref);
    TvVcpuInfo info[8];
    guint8 maps[8 * 4];
    int n = tv_qemu_driver_get_vcpus(drv, ref.uuid, 8, info, maps, 4);
    g_assert_cmpint(n, ==, 2);
    long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 0; i < n; i++) {
        g_assert_cmpuint(info[i].number, ==, (unsigned)i);
        g_assert_cmpint(info[i].state, ==, 1);
        g_assert_cmpint(info[i].cpu, >=, 0);
        g_assert_cmpint(info[i].cpu, <, ncpus);
        g_assert_true(maps[i * 4] & 1); /* may run on host CPU 0 */
    }
    TvDomainInfo di;
    g_assert_cmpint(tv_qemu_driver_get_info(drv, ref.uuid, &di), ==, 0);
    g_assert_cmpuint(di.vcpus, ==, 2);
    g_assert_cmpint(tv_qemu_driver_get_vcpu_pin_info(drv, ref.uuid, 8, maps, 4, TV_AFFECT_LIVE), ==,
                    3);
    g_assert_cmpint(maps[0] & ((1 << MIN(ncpus, 8)) - 1), ==, (1 << MIN(ncpus, 8)) - 1);
    g_assert_cmpint(tv_qemu_driver_get_vcpus_flags(drv, ref.uuid, TV_AFFECT_LIVE), ==, 2);
    g_assert_cmpint(tv_qemu_driver_get_vcpus_flags(drv, ref.uuid, TV_AFFECT_LIVE | TV_VCPU_MAXIMUM),
                    ==, 3);

    /* no CPU hot-plug on virt: live changes refused, the same count is fine */
    g_autofree char *live = xml_of(&env, &ref, 0);
    g_free(config);
    config = xml_of(&env, &ref, TV_XML_INACTIVE);
    refused(&env, &ref, tv_qemu_driver_set_vcpus(drv, ref.uuid, 3, TV_AFFECT_LIVE),
            TV_ERR_OPERATION_UNSUPPORTED, live, config);
    refused(&env, &ref,
            tv_qemu_driver_set_vcpus(drv, ref.uuid, 3, TV_AFFECT_LIVE | TV_AFFECT_CONFIG),
            TV_ERR_OPERATION_UNSUPPORTED, live, config);
    refused(&env, &ref,
            tv_qemu_driver_set_vcpus(drv, ref.uuid, 2, TV_AFFECT_LIVE | TV_VCPU_MAXIMUM),
            TV_ERR_INVALID_ARG, live, config);
    g_assert_cmpint(tv_qemu_driver_set_vcpus(drv, ref.uuid, 2, TV_AFFECT_LIVE), ==, 0);
    /* a config change while running: info keeps what runs */
    g_assert_cmpint(tv_qemu_driver_set_vcpus(drv, ref.uuid, 1, TV_AFFECT_CONFIG), ==, 0);
    g_assert_cmpint(tv_qemu_driver_get_info(drv, ref.uuid, &di), ==, 0);
    g_assert_cmpuint(di.vcpus, ==, 2);
    g_assert_cmpint(tv_qemu_driver_get_vcpus_flags(drv, ref.uuid, TV_AFFECT_CONFIG), ==, 1);
    g_assert_cmpint(tv_qemu_driver_destroy(drv, ref.uuid, 0), ==, 0);
    g_assert_cmpint(tv_qemu_driver_get_info(drv, ref.uuid, &di), ==, 0);
    g_assert_cmpuint(di.vcpus, ==, 1);
    g_assert_cmpint(tv_qemu_driver_get_vcpus(drv, ref.uuid, 8, info, NULL, 0), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    tv_error_reset();
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_memory(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    TvQemuDriver *drv = env.drv;
    g_autofree char *xml = tune_xml(&env, "mem", "virtio");
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    unsigned long long max = 0;
    g_assert_cmpint(tv_qemu_driver_get_max_memory(drv, ref.uuid, &max), ==, 0);
    g_assert_cmpuint(max, ==, 262144);
    g_autofree char *config = xml_of(&env, &ref, TV_XML_INACTIVE);
    refused(&env, &ref, tv_qemu_driver_set_memory(drv, ref.uuid, 300 * 1024, TV_AFFECT_CONFIG),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref, tv_qemu_driver_set_memory(drv, ref.uuid, 0, TV_AFFECT_CONFIG),
            TV_ERR_INVALID_ARG, NULL, config);
    refused(&env, &ref, tv_qemu_driver_set_memory(drv, ref.uuid, 1024, 0x40), TV_ERR_INVALID_ARG,
            NULL, config);
    refused(&env, &ref, tv_qemu_driver_set_memory(drv, ref.uuid, 1024, TV_AFFECT_LIVE),
            TV_ERR_OPERATION_INVALID, NULL, config);
    g_assert_cmpint(tv_qemu_driver_set_memory(drv, ref.uuid, 128 * 1024, TV_AFFECT_CONFIG), ==, 0);
    g_assert_cmpint(
        tv_qemu_driver_set_memory(drv, ref.uuid, 96 * 1024, TV_AFFECT_CONFIG | TV_MEM_MAXIMUM), ==,
        0);
    g_free(config);
    config = xml_of(&env, &ref, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(config, "<memory unit='KiB'>98304</memory>"));
    g_assert_nonnull(strstr(config, "<currentMemory unit='KiB'>98304</currentMemory>"));

    dt_start_ok(&env, &ref);
    g_autofree char *live = xml_of(&env, &ref, 0);
    refused(&env, &ref,
            tv_qemu_driver_set_memory(drv, ref.uuid, 64 * 1024, TV_AFFECT_LIVE | TV_MEM_MAXIMUM),
            TV_ERR_OPERATION_INVALID, live, config);
    refused(&env, &ref, tv_qemu_driver_set_memory(drv, ref.uuid, 200 * 1024, TV_AFFECT_LIVE),
            TV_ERR_INVALID_ARG, live, config);
    /* the balloon takes the target (the demo guest has no balloon driver to follow it) */
    g_assert_cmpint(tv_qemu_driver_set_memory(drv, ref.uuid, 64 * 1024, TV_AFFECT_LIVE), ==, 0);
    g_assert_cmpint(tv_qemu_driver_destroy(drv, ref.uuid, 0), ==, 0);

    /* no balloon: a running domain's memory cannot change */
    g_autofree char *nb = tune_xml(&env, "mem-noballoon", "none");
    TvDomainRef nref = { 0 };
    dt_define_ok(&env, nb, &nref);
    dt_start_ok(&env, &nref);
    g_autofree char *nlive = xml_of(&env, &nref, 0);
    g_autofree char *nconf = xml_of(&env, &nref, TV_XML_INACTIVE);
    refused(&env, &nref, tv_qemu_driver_set_memory(drv, nref.uuid, 64 * 1024, TV_AFFECT_LIVE),
            TV_ERR_OPERATION_INVALID, nlive, nconf);
    /* with config too: neither side changes */
    refused(&env, &nref,
            tv_qemu_driver_set_memory(drv, nref.uuid, 64 * 1024, TV_AFFECT_LIVE | TV_AFFECT_CONFIG),
            TV_ERR_OPERATION_INVALID, nlive, nconf);
    g_assert_cmpint(tv_qemu_driver_destroy(drv, nref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&nref);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_reset_and_pty(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    TvQemuDriver *drv = env.drv;
    g_autofree char *xml = tune_xml(&env, "rst", "none");
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    g_assert_cmpint(tv_qemu_driver_reset(drv, ref.uuid, 0), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    tv_error_reset();
    dt_start_ok(&env, &ref);
    pid_t pid = dt_qemu_pid(&env, "rst");

    /* the pty QEMU allocated, for serial 0 and its console, in live XML only */
    g_autofree char *live = xml_of(&env, &ref, 0);
    const char *src = strstr(live, "<source path='/dev/pts/");
    g_assert_nonnull(src);
    g_assert_nonnull(strstr(src + 1, "<source path='/dev/pts/"));
    g_autofree char *inactive = xml_of(&env, &ref, TV_XML_INACTIVE);
    g_assert_null(strstr(inactive, "<source"));

    g_assert_cmpint(tv_qemu_driver_reset(drv, ref.uuid, 1), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    tv_error_reset();
    dt_events_reset(&env);
    g_assert_cmpint(tv_qemu_driver_reset(drv, ref.uuid, 0), ==, 0);
    DtEvent ev;
    g_assert_true(dt_wait_event_kind(&env, "rst", TV_DOMAIN_EVENT_ID_REBOOT, &ev, EVENT_WAIT_MS));
    g_assert_cmpint(ev.id, ==, ref.id);
    /* the same QEMU goes on: a reset is no restart */
    g_assert_cmpint(dt_qemu_pid(&env, "rst"), ==, pid);
    int state = -1, reason = -1;
    g_assert_cmpint(tv_qemu_driver_get_state(drv, ref.uuid, &state, &reason), ==, 0);
    g_assert_cmpint(state, ==, TV_DOMAIN_STATE_RUNNING);
    g_assert_cmpint(tv_qemu_driver_destroy(drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/driver/tune/metadata", test_metadata);
    g_test_add_func("/driver/tune/vcpus", test_vcpus);
    g_test_add_func("/driver/tune/memory", test_memory);
    g_test_add_func("/driver/tune/reset-pty", test_reset_and_pty);
    return dt_run_guarded(g_test_run);
}
