/* Domain XML parse/format tests, driven by tests/domainconfdata/:
 *   NAME.xml           input
 *   NAME.out.xml       expected inactive format (good input), or
 *   NAME.err           expected error text (bad input)
 *   NAME.schema-ok     bad input that the RelaxNG schema cannot refuse (the
 *                      file says why); every other bad input must fail it
 * TAGVIRT_REGENERATE=1 rewrites .out.xml / .err from the current output. */
#include "domain_conf.h"
#include "domain_conf_testing.h"
#include "tagvirt-config.h"
#include "tv_error.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#define DATADIR   TAGVIRT_SRCDIR "/tests/domainconfdata"
#define TEST_SEED 20261101

static bool regenerate(void)
{
    const char *v = g_getenv("TAGVIRT_REGENERATE");
    return v && strcmp(v, "1") == 0;
}

static char *data_path(const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);
    return g_build_filename(DATADIR, file, NULL);
}

static char *read_file_or_fail(const char *path, gsize *len)
{
    char *data = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, len, &err))
        g_error("cannot read %s: %s", path, err->message);
    return data;
}

/* Compare with the expected file, or rewrite it when regenerating. */
static void check_expected(const char *path, const char *actual, const char *stale)
{
    if (regenerate()) {
        g_autoptr(GError) err = NULL;
        if (!g_file_set_contents(path, actual, -1, &err))
            g_error("cannot write %s: %s", path, err->message);
        if (stale)
            g_unlink(stale);
        return;
    }
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_test_message("missing %s; actual output:\n%s", path, actual);
        g_test_fail();
        return;
    }
    g_autofree char *expected = read_file_or_fail(path, NULL);
    if (strcmp(expected, actual) != 0) {
        g_test_message("%s differs.\nexpected:\n%s\nactual:\n%s", path, expected, actual);
        g_test_fail();
    }
}

static TvDomainDef *parse_string(const char *xml, unsigned flags)
{
    tv_error_reset();
    return tv_domain_def_parse(xml, strlen(xml), flags);
}

static void check_good(const char *name, const char *input, TvDomainDef *def)
{
    g_autofree char *out_path = data_path(name, ".out.xml");
    g_autofree char *err_path = data_path(name, ".err");
    g_autofree char *inactive = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    check_expected(out_path, inactive, err_path);

    /* the output parses back to the same output */
    g_autoptr(TvDomainDef) again = parse_string(inactive, 0);
    if (!again)
        g_error("%s: formatted output does not parse: %s", name, tv_error_message());
    g_autofree char *inactive2 = tv_domain_def_format(again, TV_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(inactive2, ==, inactive);

    /* status XML round trip and copy */
    g_autofree char *status = tv_domain_def_format(def, TV_DOMAIN_FORMAT_STATUS);
    g_autoptr(TvDomainDef) from_status = parse_string(status, TV_DOMAIN_PARSE_STATUS);
    if (!from_status)
        g_error("%s: status XML does not parse: %s", name, tv_error_message());
    g_autofree char *status2 = tv_domain_def_format(from_status, TV_DOMAIN_FORMAT_STATUS);
    g_assert_cmpstr(status2, ==, status);
    g_autoptr(TvDomainDef) copy = tv_domain_def_copy(def);
    g_assert_nonnull(copy);
    g_autofree char *copied = tv_domain_def_format(copy, TV_DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(copied, ==, inactive);

    /* the schema accepts what the parser accepts, and what we write */
    tv_error_reset();
    if (tv_domain_def_validate_schema(input, strlen(input)) < 0)
        g_error("%s: schema refuses an input the parser accepts: %s", name, tv_error_message());
    if (tv_domain_def_validate_schema(inactive, strlen(inactive)) < 0)
        g_error("%s: schema refuses the formatted output: %s", name, tv_error_message());
}

static void check_bad(const char *name, const char *input)
{
    g_autofree char *err_path = data_path(name, ".err");
    g_autofree char *out_path = data_path(name, ".out.xml");
    g_autofree char *schema_ok = data_path(name, ".schema-ok");
    g_autofree char *message = g_strdup_printf("%s\n", tv_error_message());
    g_assert_cmpint(tv_error_code(), !=, TV_ERR_OK);
    check_expected(err_path, message, out_path);

    tv_error_reset();
    int rc = tv_domain_def_validate_schema(input, strlen(input));
    if (g_file_test(schema_ok, G_FILE_TEST_EXISTS)) {
        if (rc < 0)
            g_error("%s: the schema refuses it (%s): remove %s", name, tv_error_message(),
                    schema_ok);
        return;
    }
    if (rc == 0)
        g_error("%s: the schema accepts input that the parser refuses; tighten domain.rng or "
                "add %s saying why it cannot",
                name, schema_ok);
    g_assert_true(tv_error_code() == TV_ERR_XML_INVALID_SCHEMA ||
                  tv_error_code() == TV_ERR_XML_ERROR);
}

static void test_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = data_path(name, ".xml");
    g_autofree char *err_path = data_path(name, ".err");
    gsize len = 0;
    g_autofree char *input = read_file_or_fail(in_path, &len);

    tv_domain_conf_test_seed(TEST_SEED);
    tv_error_reset();
    g_autoptr(TvDomainDef) def = tv_domain_def_parse(input, len, 0);
    bool want_error = g_file_test(err_path, G_FILE_TEST_EXISTS);
    if (regenerate())
        want_error = def == NULL;
    if (want_error && def) {
        g_test_message("%s: parsed, but %s expects an error", name, err_path);
        g_test_fail();
    } else if (!want_error && !def) {
        g_test_message("%s: unexpected error: %s", name, tv_error_message());
        g_test_fail();
    } else if (def) {
        check_good(name, input, def);
    } else {
        check_bad(name, input);
    }
    tv_domain_conf_test_seed(0);
}

static const char live_input[] = "<domain type='qemu'>\n"
                                 "  <name>live</name>\n"
                                 "  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>\n"
                                 "  <memory unit='MiB'>256</memory>\n"
                                 "  <os><type arch='aarch64' machine='virt'>hvm</type></os>\n"
                                 "  <features><mte version='max'/></features>\n"
                                 "  <devices><serial type='pty'/></devices>\n"
                                 "</domain>\n";

/* Live, migratable and status formats of a started domain. */
static void test_live_formats(void)
{
    g_autoptr(TvDomainDef) def = parse_string(live_input, 0);
    g_assert_nonnull(def);
    g_assert_cmpint(def->id, ==, -1);
    g_assert_cmpint(def->features.mte.level, ==, -1);
    def->id = 7;
    def->features.mte.level = 3;
    tv_mte_abi_from_regs(0x0000000001000321ULL, 0, &def->features.mte.abi);
    def->devices.serials[0]->path = g_strdup("/dev/pts/4");

    g_autofree char *inactive = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    g_assert_null(strstr(inactive, "id='7'"));
    g_assert_nonnull(strstr(inactive, "<mte version='max'/>"));
    g_assert_null(strstr(inactive, "/dev/pts/4"));

    g_autofree char *live = tv_domain_def_format(def, TV_DOMAIN_FORMAT_LIVE);
    g_assert_true(g_str_has_prefix(live, "<domain type='qemu' id='7'>\n"));
    g_assert_nonnull(strstr(live, "<mte version='3'/>"));
    g_assert_nonnull(strstr(live, "<source path='/dev/pts/4'/>"));

    g_autofree char *migratable = tv_domain_def_format(def, TV_DOMAIN_FORMAT_MIGRATABLE);
    g_assert_true(g_str_has_prefix(migratable, "<domain type='qemu'>\n"));
    g_assert_nonnull(strstr(migratable, "<mte version='3'/>"));
    g_assert_null(strstr(migratable, "/dev/pts/4"));
    g_autoptr(TvDomainDef) dest = parse_string(migratable, 0);
    g_assert_nonnull(dest);
    g_assert_cmpint(dest->features.mte.request, ==, TV_MTE_REQUEST_3);

    g_autofree char *status = tv_domain_def_format(def, TV_DOMAIN_FORMAT_STATUS);
    g_assert_nonnull(strstr(status, "id='7'"));
    g_assert_nonnull(strstr(status, "<abi mte='3'"));
    /* status XML is refused where user XML is expected */
    g_assert_null(parse_string(status, 0));
    g_autoptr(TvDomainDef) back = parse_string(status, TV_DOMAIN_PARSE_STATUS);
    g_assert_nonnull(back);
    g_assert_cmpint(back->id, ==, 7);
    g_assert_cmpint(back->features.mte.level, ==, 3);
    g_assert_cmpint(back->features.mte.request, ==, TV_MTE_REQUEST_MAX);
    g_assert_true(tv_mte_abi_equal(&back->features.mte.abi, &def->features.mte.abi));
    g_assert_cmpstr(back->devices.serials[0]->path, ==, "/dev/pts/4");

    /* a resolved level of 1 cannot be written back as a version: refused */
    g_autofree char *level1 = g_strdup(status);
    char *at = strstr(level1, "level='3'");
    g_assert_nonnull(at);
    at[7] = '1';
    g_assert_null(parse_string(level1, TV_DOMAIN_PARSE_STATUS));
    g_assert_nonnull(strstr(tv_error_message(), "'level'"));

    g_autoptr(TvDomainDef) copy = tv_domain_def_copy(def);
    g_assert_nonnull(copy);
    g_autofree char *copy_status = tv_domain_def_format(copy, TV_DOMAIN_FORMAT_STATUS);
    g_assert_cmpstr(copy_status, ==, status);
}

/* Registers measured on QEMU 10.0 and 11.1 'max' (docs/capabilities.rst). */
#define PFR1_10_0_MAX_ON  0x0000001001000321ULL
#define PFR1_11_1_MAX_ON  0x0010101012000321ULL
#define PFR2_11_1_MAX     0x0000000100000111ULL
#define PFR1_11_1_MAX_OFF 0x0010101012000121ULL

/* The levels field by field: 11.1's max is level 4, never 3. */
static void test_mte_levels(void)
{
    TvMteAbi v10, v11, off11, mixed;
    tv_mte_abi_from_regs(PFR1_10_0_MAX_ON, 0, &v10);
    tv_mte_abi_from_regs(PFR1_11_1_MAX_ON, PFR2_11_1_MAX, &v11);
    tv_mte_abi_from_regs(PFR1_11_1_MAX_OFF, PFR2_11_1_MAX, &off11);
    mixed = v10;
    mixed.mtex = 1; /* MTE 3 with one FEAT_MTE4 part: no level */
    g_assert_cmpint(tv_mte_abi_level(&v10), ==, 3);
    g_assert_cmpint(tv_mte_abi_level(&v11), ==, 4);
    g_assert_cmpint(tv_mte_abi_level(&off11), ==, -1);
    g_assert_cmpint(tv_mte_abi_level(&mixed), ==, -1);
    g_assert_true(tv_mte_abi_satisfies(&v10, 3));
    g_assert_false(tv_mte_abi_satisfies(&v11, 3));
    g_assert_true(tv_mte_abi_satisfies(&v11, 4));
    g_assert_false(tv_mte_abi_satisfies(&mixed, 3));
    g_assert_false(tv_mte_abi_satisfies(&mixed, 4));
    /* level 4 includes MTEPERM */
    TvMteAbi no_perm = v11;
    no_perm.mteperm = 0;
    g_assert_false(tv_mte_abi_satisfies(&no_perm, 4));
    g_assert_cmpint(tv_mte_level_abi(4)->mteperm, ==, 1);
    g_assert_null(tv_mte_level_abi(1));
    g_autofree char *s = tv_mte_abi_summary(&off11);
    g_assert_cmpstr(s, ==,
                    "1 (instructions only, no tag storage) with MTEX=1 MTEFAR=1 "
                    "MTESTOREONLY=1 MTEPERM=1");
}

/* The migration check compares the recorded ABI field by field. */
static void test_mte_abi_stability(void)
{
    TvDomainMte src = { .request = TV_MTE_REQUEST_3, .level = 3 };
    TvDomainMte dst = { .request = TV_MTE_REQUEST_3, .level = 3 };
    tv_mte_abi_from_regs(PFR1_10_0_MAX_ON, 0, &src.abi);
    dst.abi = src.abi;
    tv_error_reset();
    g_assert_true(tv_domain_mte_check_abi_stability(&src, &dst));
    /* a version-3 guest must not gain MTE4 on 11.1 */
    tv_mte_abi_from_regs(PFR1_11_1_MAX_ON, PFR2_11_1_MAX, &dst.abi);
    g_assert_false(tv_domain_mte_check_abi_stability(&src, &dst));
    g_assert_nonnull(strstr(tv_error_message(), "target guest sees MTE=3 MTE_frac=0 MTEX=1"));
    g_assert_nonnull(strstr(tv_error_message(), "not MTE version 3"));
    /* off on both sides, but one sees MTE 1 (QEMU 8.2+) and the other 0 (7.2) */
    TvDomainMte off72 = { .request = TV_MTE_REQUEST_ABSENT, .level = 0 };
    TvDomainMte off11 = { .request = TV_MTE_REQUEST_OFF, .level = 0 };
    tv_mte_abi_from_regs(0x0000000001000021ULL, 0, &off72.abi);
    tv_mte_abi_from_regs(PFR1_11_1_MAX_OFF, PFR2_11_1_MAX, &off11.abi);
    tv_error_reset();
    g_assert_false(tv_domain_mte_check_abi_stability(&off72, &off11));
    g_assert_nonnull(strstr(tv_error_message(), "target guest sees MTE=1"));
    /* the definitions alone (no recorded ABI: a caller's destination XML) */
    TvDomainMte plain = { .request = TV_MTE_REQUEST_3, .level = -1 };
    tv_error_reset();
    g_assert_true(tv_domain_mte_check_abi_stability(&src, &plain));
}

/* A started guest without <mte>: live XML says what it sees, status keeps
 * that nothing was written, inactive XML stays without <mte>. */
static void test_mte_off_formats(void)
{
    g_autoptr(TvDomainDef) def =
        parse_string("<domain type='qemu'><name>off</name><memory unit='MiB'>64</memory>"
                     "<os><type arch='aarch64' machine='virt'>hvm</type></os></domain>",
                     0);
    g_assert_nonnull(def);
    def->id = 3;
    def->features.mte.level = 0;
    tv_mte_abi_from_regs(PFR1_11_1_MAX_OFF, PFR2_11_1_MAX, &def->features.mte.abi);
    g_autofree char *inactive = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    g_assert_null(strstr(inactive, "<mte"));
    g_autofree char *live = tv_domain_def_format(def, TV_DOMAIN_FORMAT_LIVE);
    g_assert_nonnull(strstr(live, "<mte state='off'>"));
    g_assert_nonnull(strstr(live, "<abi mte='1' mte_frac='0' mtex='1' mtefar='1' "
                                  "mtestoreonly='1' mteperm='1'/>"));
    g_autofree char *migratable = tv_domain_def_format(def, TV_DOMAIN_FORMAT_MIGRATABLE);
    g_assert_null(strstr(migratable, "<abi"));
    g_autofree char *status = tv_domain_def_format(def, TV_DOMAIN_FORMAT_STATUS);
    g_assert_nonnull(strstr(status, "<mte state='absent' level='0'>"));
    g_autoptr(TvDomainDef) back = parse_string(status, TV_DOMAIN_PARSE_STATUS);
    g_assert_nonnull(back);
    g_assert_cmpint(back->features.mte.request, ==, TV_MTE_REQUEST_ABSENT);
    g_assert_cmpint(back->features.mte.level, ==, 0);
    g_assert_true(tv_mte_abi_equal(&back->features.mte.abi, &def->features.mte.abi));
    /* the live XML's <mte> can be defined again: <abi> is output only */
    g_autoptr(GString) no_id = g_string_new(live);
    g_assert_cmpuint(g_string_replace(no_id, " id='3'", "", 1), ==, 1);
    g_autoptr(TvDomainDef) again = parse_string(no_id->str, 0);
    g_assert_nonnull(again);
    g_assert_cmpint(again->features.mte.request, ==, TV_MTE_REQUEST_OFF);
    g_assert_false(again->features.mte.abi.valid);
    /* 'absent' is a status word only */
    g_assert_null(parse_string(status, 0));
}

static void test_uuid(void)
{
    unsigned char uuid[TV_UUID_LEN], again[TV_UUID_LEN];
    char str[TV_UUID_STRLEN + 1];
    g_assert_cmpint(tv_uuid_parse("C7A5FDBD-CDAF-9455-926A-D65C16DB1809", uuid), ==, 0);
    tv_uuid_format(uuid, str);
    g_assert_cmpstr(str, ==, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
    g_assert_cmpint(tv_uuid_parse("c7a5fdbdcdaf9455926ad65c16db1809", again), ==, 0);
    g_assert_cmpmem(uuid, TV_UUID_LEN, again, TV_UUID_LEN);
    const char *bad[] = { "",
                          "c7a5fdbd-cdaf-9455-926a-d65c16db180",
                          "c7a5fdbd-cdaf-9455-926a-d65c16db18090",
                          "c7a5fdbdcdaf-9455-926a-d65c16db1809-",
                          "g7a5fdbd-cdaf-9455-926a-d65c16db1809",
                          "c7a5fdbdcdaf9455926ad65c16db180",
                          "c7a5fdbd cdaf 9455 926a d65c16db1809" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(tv_uuid_parse(bad[i], uuid), ==, -1);
    tv_uuid_generate(uuid);
    tv_uuid_generate(again);
    g_assert_true(memcmp(uuid, again, TV_UUID_LEN) != 0);
    g_assert_cmpint(uuid[6] >> 4, ==, 4);
}

static void test_name_check(void)
{
    g_autofree char *long_ok = g_strnfill(200, 'a');
    g_autofree char *too_long = g_strnfill(201, 'a');
    g_assert_cmpint(tv_domain_name_check("guest-1.example"), ==, 0);
    g_assert_cmpint(tv_domain_name_check(long_ok), ==, 0);
    g_assert_cmpint(tv_domain_name_check("x.."), ==, 0);
    const char *bad[] = { "", ".hidden", "a/b", "tab\there", "bell\a", "del\x7f", too_long };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        tv_error_reset();
        g_assert_cmpint(tv_domain_name_check(bad[i]), ==, -1);
        g_assert_cmpint(tv_error_code(), ==, TV_ERR_XML_ERROR);
    }
}

/* Schema errors carry their own code and name the line and element. */
static void test_schema_errors(void)
{
    static const char xml[] = "<domain type='qemu'>\n"
                              "  <name>x</name>\n"
                              "  <memory>1024</memory>\n"
                              "  <os>\n"
                              "    <type machine='virt,mte=on'>hvm</type>\n"
                              "  </os>\n"
                              "</domain>\n";
    tv_error_reset();
    g_assert_cmpint(tv_domain_def_validate_schema(xml, strlen(xml)), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_XML_INVALID_SCHEMA);
    g_assert_nonnull(strstr(tv_error_message(), "line 5, element /domain/os/type"));
    g_assert_nonnull(strstr(tv_error_message(), "machine"));

    tv_error_reset();
    g_assert_cmpint(tv_domain_def_validate_schema("<domain", 7), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_XML_ERROR);
}

/* A truncated document at every length: an error, never a crash. */
static void test_truncated(void)
{
    g_autofree char *path = data_path("full", ".xml");
    gsize len = 0;
    g_autofree char *input = read_file_or_fail(path, &len);
    while (len > 0 && input[len - 1] != '>')
        len--; /* trailing whitespace is not part of the document */
    for (gsize i = 0; i < len; i++) {
        tv_error_reset();
        g_autoptr(TvDomainDef) def = tv_domain_def_parse(input, i, 0);
        if (def)
            g_error("a truncated document (%zu of %zu bytes) parsed", i, len);
        g_assert_cmpint(tv_error_code(), !=, TV_ERR_OK);
    }
}

/* g_ptr_array_sort passes pointers to the elements */
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
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".xml") && !g_str_has_suffix(entry, ".out.xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_dir_close(dir);
    g_ptr_array_sort(names, compare_names);

    for (guint i = 0; i < names->len; i++) {
        g_autofree char *test = g_strdup_printf("/domainconf/data/%s", (char *)names->pdata[i]);
        g_test_add_data_func(test, names->pdata[i], test_case);
    }
    g_test_add_func("/domainconf/live-formats", test_live_formats);
    g_test_add_func("/domainconf/mte-levels", test_mte_levels);
    g_test_add_func("/domainconf/mte-abi-stability", test_mte_abi_stability);
    g_test_add_func("/domainconf/mte-off-formats", test_mte_off_formats);
    g_test_add_func("/domainconf/uuid", test_uuid);
    g_test_add_func("/domainconf/name-check", test_name_check);
    g_test_add_func("/domainconf/truncated", test_truncated);
    g_test_add_func("/domainconf/schema-errors", test_schema_errors);
    return g_test_run();
}
