/* The guest ABI checks a migration and a restore run (docs/migration.rst):
 *
 * tests/domainabidata/base.xml is the source definition; every other NAME.xml
 * is a target definition checked against it, and NAME.out holds the verdict:
 * "ok", or the error code and message that must be reported.  The check must
 * give the same verdict with the two sides swapped.  TAGVIRT_REGENERATE=1
 * rewrites the .out files.
 *
 * The recorded <guestabi> (domain_guest_abi.c): parse and format, and the
 * field-by-field comparison with registers probed from real QEMU builds.
 * The migration cookie (domain_migration_cookie.c): round trip, bad input. */
#include "domain_abi_check.h"
#include "domain_conf.h"
#include "domain_guest_abi.h"
#include "domain_migration_cookie.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <glib.h>
#include <string.h>

#define DATADIR TAGVIRT_SRCDIR "/tests/domainabidata"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

static bool regenerate(void)
{
    const char *v = g_getenv("TAGVIRT_REGENERATE");
    return v && strcmp(v, "1") == 0;
}

static TvDomainDef *load(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    g_autofree char *path = g_build_filename(DATADIR, file, NULL);
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &xml, &len, &err))
        g_error("cannot read %s: %s", path, err->message);
    tv_error_reset();
    TvDomainDef *def = tv_domain_def_parse(xml, len, 0);
    if (!def)
        g_error("%s does not parse: %s", path, tv_error_message());
    return def;
}

static char *verdict(const TvDomainDef *src, const TvDomainDef *dst)
{
    tv_error_reset();
    if (tv_domain_def_check_abi_stability(src, dst)) {
        g_assert_null(tv_error_last());
        return g_strdup("ok\n");
    }
    const TvError *e = tv_error_last();
    g_assert_nonnull(e);
    return g_strdup_printf("error %d: %s\n", e->code, e->message);
}

static void test_case(gconstpointer data)
{
    const char *name = data;
    g_autoptr(TvDomainDef) base = load("base");
    g_autoptr(TvDomainDef) target = load(name);
    g_autofree char *actual = verdict(base, target);
    g_autofree char *reverse = verdict(target, base);
    /* the same verdict both ways */
    g_assert_cmpint(strcmp(actual, "ok\n") == 0, ==, strcmp(reverse, "ok\n") == 0);

    g_autofree char *file = g_strconcat(name, ".out", NULL);
    g_autofree char *path = g_build_filename(DATADIR, file, NULL);
    if (regenerate()) {
        g_assert_true(g_file_set_contents(path, actual, -1, NULL));
        return;
    }
    g_autofree char *expected = NULL;
    if (!g_file_get_contents(path, &expected, NULL, NULL)) {
        g_test_message("missing %s; actual:\n%s", path, actual);
        g_test_fail();
        return;
    }
    g_assert_cmpstr(actual, ==, expected);
}

/* A definition is the same ABI as itself, and as its own migratable XML. */
static void test_self(void)
{
    g_autoptr(TvDomainDef) base = load("base");
    g_autofree char *xml = tv_domain_def_format(base, TV_DOMAIN_FORMAT_MIGRATABLE);
    g_autoptr(TvDomainDef) again = tv_domain_def_parse(xml, strlen(xml), 0);
    g_assert_nonnull(again);
    tv_error_reset();
    g_assert_true(tv_domain_def_check_abi_stability(base, base));
    g_assert_true(tv_domain_def_check_abi_stability(base, again));
}

/* ID_AA64PFR1/PFR2 as recorded from real QEMU builds (tests/qemucapabilitiesdata). */
#define PFR1_7_2_MAX_ON   0x0000000000000321ULL /* MTE 3 */
#define PFR1_11_1_MAX_ON  0x0010000000000321ULL /* MTE 3, MTEX 1 */
#define PFR2_11_1_MAX     0x0000000000000111ULL /* MTEFAR, MTESTOREONLY, MTEPERM */
#define PFR1_7_2_MAX_OFF  0x0000000000000021ULL
#define PFR1_10_0_MAX_OFF 0x0000000000000121ULL

static void abi_set(TvDomainGuestAbi *abi, const char *machine, uint64_t pfr1, uint64_t pfr2)
{
    tv_domain_guest_abi_clear(abi);
    abi->valid = true;
    abi->accel = g_strdup("tcg");
    abi->cpu_model = g_strdup("max");
    abi->machine = g_strdup(machine);
    abi->pfr1 = pfr1;
    abi->pfr2 = pfr2;
}

static void expect_refusal(const TvDomainGuestAbi *a, const TvDomainGuestAbi *b, const char *msg)
{
    tv_error_reset();
    g_assert_false(tv_domain_guest_abi_check(a, b, "source", "destination"));
    g_assert_cmpint(tv_error_last()->code, ==, TV_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(tv_error_message(), ==, msg);
}

static void test_guest_abi_check(void)
{
    TvDomainGuestAbi a = { 0 }, b = { 0 };
    abi_set(&a, "virt-7.2", PFR1_7_2_MAX_ON, 0);
    abi_set(&b, "virt-7.2", PFR1_7_2_MAX_ON, 0);
    tv_error_reset();
    g_assert_true(tv_domain_guest_abi_check(&a, &b, "source", "destination"));

    /* MTE 3 on 7.2 against 11.1's max: MTEX comes first of what differs */
    abi_set(&b, "virt-7.2", PFR1_11_1_MAX_ON, PFR2_11_1_MAX);
    expect_refusal(&a, &b, "guest ABI: ID_AA64PFR1_EL1.MTEX differs: source 0, destination 1");
    /* MTE off: 7.2 shows 0, 10.0 shows 1 */
    abi_set(&a, "virt-7.2", PFR1_7_2_MAX_OFF, 0);
    abi_set(&b, "virt-7.2", PFR1_10_0_MAX_OFF, 0);
    expect_refusal(&a, &b, "guest ABI: ID_AA64PFR1_EL1.MTE differs: source 0, destination 1");
    /* a field without MTE: SME */
    abi_set(&b, "virt-7.2", PFR1_7_2_MAX_OFF | (1ULL << 24), 0);
    expect_refusal(&a, &b, "guest ABI: ID_AA64PFR1_EL1.SME differs: source 0, destination 1");
    /* a field without a name here */
    abi_set(&b, "virt-7.2", PFR1_7_2_MAX_OFF, 1ULL << 60);
    expect_refusal(&a, &b,
                   "guest ABI: ID_AA64PFR2_EL1 bits [63:60] differs: source 0, destination 1");
    abi_set(&b, "virt-10.0", PFR1_7_2_MAX_OFF, 0);
    expect_refusal(&a, &b,
                   "guest ABI: the machine type differs: source 'virt-7.2', destination "
                   "'virt-10.0'");
    b.valid = false;
    expect_refusal(&a, &b, "guest ABI: the destination has no recorded guest ABI to compare");
    tv_domain_guest_abi_clear(&a);
    tv_domain_guest_abi_clear(&b);
}

static void test_guest_abi_xml(void)
{
    TvDomainGuestAbi a = { 0 }, b = { 0 };
    abi_set(&a, "virt-11.1", PFR1_11_1_MAX_ON, PFR2_11_1_MAX);
    a.emulator = g_strdup("QEMU 11.1 <built here> & 'there'");
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_domain_guest_abi_format(&w, &a);
    g_autofree char *xml = tv_xml_writer_finish(&w);
    g_assert_nonnull(strstr(xml, "pfr1='0x0010000000000321' pfr2='0x0000000000000111'"));
    g_autoptr(xmlDoc) doc = tv_xml_parse(xml, strlen(xml), "guestabi");
    g_assert_nonnull(doc);
    tv_error_reset();
    g_assert_cmpint(tv_domain_guest_abi_parse(xmlDocGetRootElement(doc), &b), ==, 0);
    g_assert_cmpstr(b.emulator, ==, a.emulator);
    g_assert_true(tv_domain_guest_abi_check(&a, &b, "source", "destination"));

    static const struct {
        const char *xml, *msg;
    } bad[] = {
        { "<guestabi cpu='max' machine='virt' pfr1='0' pfr2='0'/>",
          "missing attribute 'accel' of <guestabi>" },
        { "<guestabi accel='hvf' cpu='max' machine='virt' pfr1='0' pfr2='0'/>",
          "invalid value 'hvf' for attribute 'accel' of <guestabi>: expected 'tcg' or 'kvm'" },
        { "<guestabi accel='tcg' cpu='max' machine='virt' pfr1='0' pfr2='0' x='1'/>", "x" },
        { "<guestabi accel='tcg' cpu='max' machine='virt' pfr1='banana' pfr2='0'/>", "pfr1" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(xmlDoc) d = tv_xml_parse(bad[i].xml, strlen(bad[i].xml), "guestabi");
        g_assert_nonnull(d);
        tv_error_reset();
        g_assert_cmpint(tv_domain_guest_abi_parse(xmlDocGetRootElement(d), &b), ==, -1);
        g_assert_nonnull(strstr(tv_error_message(), bad[i].msg));
        /* a refused element leaves the record as it was */
        g_assert_true(b.valid);
    }
    tv_domain_guest_abi_clear(&a);
    tv_domain_guest_abi_clear(&b);
}

/* The migration cookie: round trip, and every malformed one refused with
 * what is wrong. */
static void test_cookie(void)
{
    g_auto(TvMigrationCookie) c = { 0 };
    c.name = g_strdup("demo");
    for (int i = 0; i < TV_UUID_LEN; i++)
        c.uuid[i] = (unsigned char)(i * 17);
    abi_set(&c.abi, "virt-10.0", PFR1_10_0_MAX_OFF, 0);
    g_autofree char *xml = tv_migration_cookie_format(&c);
    g_auto(TvMigrationCookie) back = { 0 };
    tv_error_reset();
    /* libvirt's client sends the terminating NUL too */
    g_assert_cmpint(tv_migration_cookie_parse(xml, strlen(xml) + 1, &back), ==, 0);
    g_assert_cmpstr(back.name, ==, "demo");
    g_assert_cmpmem(back.uuid, TV_UUID_LEN, c.uuid, TV_UUID_LEN);
    g_assert_true(tv_domain_guest_abi_check(&c.abi, &back.abi, "source", "destination"));
    g_assert_false(back.has_stats);

    /* Perform's cookie for Finish: the same, with the figures of the copy */
    c.has_stats = true;
    c.stats.elapsed = 1805;
    c.stats.downtime = 201;
    c.stats.data_total = 272769024;
    c.stats.mem_normal_bytes = G_MAXUINT64;
    g_autofree char *with_stats = tv_migration_cookie_format(&c);
    g_assert_nonnull(strstr(with_stats, "<statistics elapsed='1805' downtime='201' setup='0' "
                                        "data-total='272769024'"));
    g_auto(TvMigrationCookie) back2 = { 0 };
    g_assert_cmpint(tv_migration_cookie_parse(with_stats, strlen(with_stats), &back2), ==, 0);
    g_assert_true(back2.has_stats);
    g_assert_cmpmem(&back2.stats, sizeof(back2.stats), &c.stats, sizeof(c.stats));

    const char *guestabi = "<guestabi accel='tcg' cpu='max' machine='virt' pfr1='0x21' pfr2='0'/>";
    const char *uuid = "<uuid>00112233-4455-6677-8899-aabbccddeeff</uuid>";
    g_autofree char *unknown = g_strdup_printf(
        "<tagvirt-migration version='1'><name>a</name>%s%s<extra/></tagvirt-migration>", uuid,
        guestabi);
    g_autofree char *no_abi = g_strdup_printf(
        "<tagvirt-migration version='1'><name>a</name>%s</tagvirt-migration>", uuid);
    g_autofree char *v2 = g_strdup_printf(
        "<tagvirt-migration version='2'><name>a</name>%s%s</tagvirt-migration>", uuid, guestabi);
    g_autofree char *bad_uuid = g_strdup_printf(
        "<tagvirt-migration version='1'><name>a</name><uuid>x</uuid>%s</tagvirt-migration>",
        guestabi);
    g_autofree char *bad_abi =
        g_strdup_printf("<tagvirt-migration version='1'><name>a</name>%s<guestabi accel='tcg'/>"
                        "</tagvirt-migration>",
                        uuid);
    g_autofree char *bad_stat = g_strdup_printf(
        "<tagvirt-migration version='1'><name>a</name>%s%s<statistics downtime='-1'/>"
        "</tagvirt-migration>",
        uuid, guestabi);
    g_autofree char *odd_stat =
        g_strdup_printf("<tagvirt-migration version='1'><name>a</name>%s%s<statistics speed='1'/>"
                        "</tagvirt-migration>",
                        uuid, guestabi);
    g_autofree char *two_stats = g_strdup_printf(
        "<tagvirt-migration version='1'><name>a</name>%s%s<statistics/><statistics/>"
        "</tagvirt-migration>",
        uuid, guestabi);
    g_autofree char *huge = g_strnfill(TV_MIGRATION_COOKIE_MAX + 1, ' ');
    const struct {
        const char *buf;
        const char *msg;
    } bad[] = {
        { "", "migration cookie: none was sent" },
        { "<qemu-migration/>", "expected a <tagvirt-migration> element" },
        { "<tagvirt-migration", "migration cookie" },
        { unknown, "extra" },
        { no_abi, "exactly one <guestabi> is required" },
        { v2, "version '2' is not supported; accepted: '1'" },
        { bad_uuid, "invalid <uuid> 'x'" },
        { bad_abi, "migration cookie: missing attribute 'cpu' of <guestabi>" },
        { huge, "more than the 65536 accepted" },
        { bad_stat, "attribute 'downtime' of <statistics>" },
        { odd_stat, "speed" },
        { two_stats, "at most one <statistics> is accepted" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(TvMigrationCookie) out = { 0 };
        tv_error_reset();
        g_assert_cmpint(tv_migration_cookie_parse(bad[i].buf, strlen(bad[i].buf), &out), ==, -1);
        if (!strstr(tv_error_message(), bad[i].msg))
            g_error("cookie %zu: '%s' does not contain '%s'", i, tv_error_message(), bad[i].msg);
        g_assert_null(out.name);
    }
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) err = NULL;
    GDir *dir = g_dir_open(DATADIR, 0, &err);
    if (!dir)
        g_error("cannot open %s: %s", DATADIR, err->message);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *entry;
    while ((entry = g_dir_read_name(dir)))
        if (g_str_has_suffix(entry, ".xml") && strcmp(entry, "base.xml") != 0)
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    g_dir_close(dir);
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *test = g_strdup_printf("/domainabi/data/%s", (char *)names->pdata[i]);
        g_test_add_data_func(test, names->pdata[i], test_case);
    }
    g_test_add_func("/domainabi/self", test_self);
    g_test_add_func("/domainabi/guestabi-check", test_guest_abi_check);
    g_test_add_func("/domainabi/guestabi-xml", test_guest_abi_xml);
    g_test_add_func("/domainabi/cookie", test_cookie);
    return g_test_run();
}
