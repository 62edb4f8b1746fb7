/* QEMU capabilities without running QEMU: every recording in
 * tests/qemucapabilitiesdata/ is replayed and compared with its expected caps
 * XML (TAGVIRT_REGENERATE=1 rewrites them), the XML parses back to the same
 * text, replay refuses a conversation in another order, and the host fixtures
 * in tests/hostdata/ read as expected.  Bad binaries fail fast and clearly. */
#include "qemu_capabilities.h"
#include "qemu_host.h"
#include "qemu_mte.h"
#include "qemu_mte_levels.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_file.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *srcdir(void)
{
    const char *d = g_getenv("TAGVIRT_TESTS_SRCDIR");
    return d ? d : TAGVIRT_SRCDIR "/tests";
}

static char *read_file(const char *path, size_t *len)
{
    gchar *data = NULL;
    gsize l = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &l, &err))
        g_error("%s", err->message);
    if (len)
        *len = l;
    return data;
}

/* ---- replay of every recording ---- */

static void test_replay(gconstpointer data)
{
    const char *replies = data;
    g_autofree char *stem = g_strndup(replies, strlen(replies) - strlen(".replies"));
    g_autofree char *xml_path = g_strdup_printf("%s.xml", stem);
    size_t len = 0;
    g_autofree char *text = read_file(replies, &len);
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_replay(text, len, "qemu-system-aarch64");
    if (!caps)
        g_error("replay of %s: %s", replies, tv_error_message());
    g_autofree char *xml = tv_qemu_caps_format(caps);

    if (g_getenv("TAGVIRT_REGENERATE")) {
        g_assert_cmpint(tv_file_write_atomic(xml_path, xml, strlen(xml), 0644), ==, 0);
    }
    g_autofree char *expected = read_file(xml_path, NULL);
    g_assert_cmpstr(xml, ==, expected);

    /* the XML is also the cache format: it must read back to the same text */
    g_autoptr(TvQemuCaps) parsed = tv_qemu_caps_parse(xml, strlen(xml));
    if (!parsed)
        g_error("parse of %s: %s", xml_path, tv_error_message());
    g_autofree char *again = tv_qemu_caps_format(parsed);
    g_assert_cmpstr(again, ==, xml);

    /* every 64-bit CPU model has a probe per accelerator, with both states */
    for (size_t i = 0; i < caps->ncpu_models; i++) {
        if (!caps->cpu_models[i].aarch64)
            continue;
        const TvGuestAbiProbe *p =
            tv_qemu_caps_guest_abi(caps, caps->cpu_models[i].name, TV_ACCEL_TCG);
        g_assert_nonnull(p);
        g_assert_true(p->mte_on.ran && p->mte_off.ran);
        /* mte=off is refused only for a model virt rejects outright (11.1: cortex-a78ae) */
        if (p->mte_off.refused)
            g_assert_true(p->mte_on.refused && g_str_has_prefix(p->mte_off.error, "Invalid CPU"));
    }
}

/* The facts the issue names, read from the 7.2 and >= 8.2 recordings. */
static const TvQemuCaps *replayed(const char *name)
{
    static GHashTable *done;
    if (!done)
        done = g_hash_table_new(g_str_hash, g_str_equal);
    TvQemuCaps *caps = g_hash_table_lookup(done, name);
    if (caps)
        return caps;
    g_autofree char *path = g_build_filename(srcdir(), "qemucapabilitiesdata", name, NULL);
    size_t len = 0;
    g_autofree char *text = read_file(path, &len);
    caps = tv_qemu_caps_replay(text, len, "qemu-system-aarch64");
    if (!caps)
        g_error("%s: %s", name, tv_error_message());
    g_hash_table_insert(done, g_strdup(name), caps);
    return caps;
}

#define NOT_PROBED (-2)
#define REFUSED    (-3)

/* The level the model gives (2, 3, 4; 0 nothing; -1 no level), or the above. */
static int abi_level(const TvQemuCaps *caps, const char *model, bool on)
{
    const TvGuestAbiProbe *p = tv_qemu_caps_guest_abi(caps, model, TV_ACCEL_TCG);
    if (!p)
        return NOT_PROBED;
    const TvGuestAbiResult *r = on ? &p->mte_on : &p->mte_off;
    if (r->refused)
        return REFUSED;
    return tv_mte_abi_level(&r->abi);
}

/* The MTE field alone (what "off" shows from QEMU 8.2 on), or the above. */
static int mte_field(const TvQemuCaps *caps, const char *model, bool on)
{
    const TvGuestAbiProbe *p = tv_qemu_caps_guest_abi(caps, model, TV_ACCEL_TCG);
    if (!p)
        return NOT_PROBED;
    const TvGuestAbiResult *r = on ? &p->mte_on : &p->mte_off;
    return r->refused ? REFUSED : r->abi.mte;
}

static char *find_recording(const char *prefix)
{
    g_autofree char *dir = g_build_filename(srcdir(), "qemucapabilitiesdata", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, prefix) && g_str_has_suffix(name, ".replies"))
            return g_strdup(name);
    }
    return NULL;
}

static void test_facts_72(void)
{
    g_autofree char *name = find_recording("caps_7.2.");
    g_assert_nonnull(name);
    const TvQemuCaps *caps = replayed(name);
    g_assert_cmpuint(caps->version / 1000, ==, 7002);
    g_assert_true(tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE));
    g_assert_false(tv_qemu_caps_has_mte_version(caps));
    g_assert_cmpint(abi_level(caps, "max", true), ==, 3);
    g_assert_cmpint(abi_level(caps, "max", false), ==, 0);
    g_assert_cmpint(abi_level(caps, "cortex-a57", true), ==, REFUSED);
    const TvGuestAbiProbe *p = tv_qemu_caps_guest_abi(caps, "cortex-a57", TV_ACCEL_TCG);
    g_assert_cmpstr(p->mte_on.error, ==, "MTE requested, but not supported by the guest CPU");
    g_assert_null(tv_qemu_caps_cpu_model(caps, "cortex-a710"));
    const TvQemuCpuModel *a15 = tv_qemu_caps_cpu_model(caps, "cortex-a15");
    g_assert_nonnull(a15);
    g_assert_false(a15->aarch64);
    g_assert_null(tv_qemu_caps_guest_abi(caps, "cortex-a15", TV_ACCEL_TCG));
    const TvQemuMachine *virt = tv_qemu_caps_machine(caps, "virt");
    g_assert_nonnull(virt);
    g_assert_cmpstr(virt->name, ==, "virt-7.2");
    g_assert_true(tv_qemu_caps_has_command(caps, "query-gic-capabilities"));
    g_assert_false(tv_qemu_caps_has_command(caps, "query-mte-capabilities"));
}

static void test_facts_newer(void)
{
    g_autofree char *name = find_recording("caps_10.");
    if (!name) {
        g_test_skip("no QEMU 10 recording");
        return;
    }
    const TvQemuCaps *caps = replayed(name);
    g_assert_cmpint(abi_level(caps, "max", true), ==, 3);
    g_assert_cmpint(mte_field(caps, "max", false), ==, 1);
    g_assert_cmpint(abi_level(caps, "max", false), ==, -1); /* instructions only: no level */
    g_assert_cmpint(abi_level(caps, "cortex-a710", true), ==, 2);
    g_assert_cmpint(abi_level(caps, "neoverse-n2", true), ==, 2);
    g_assert_cmpint(mte_field(caps, "neoverse-n2", false), ==, 1);
    g_assert_cmpint(abi_level(caps, "cortex-a55", true), ==, REFUSED);
}

/* QEMU 11.1: max is level 4 (never 3), off keeps the MTE4 fields, and
 * cortex-a78ae is refused on virt with MTE on and off alike. */
static void test_facts_111(void)
{
    g_autofree char *name = find_recording("caps_11.1.");
    g_assert_nonnull(name);
    const TvQemuCaps *caps = replayed(name);
    g_assert_cmpint(abi_level(caps, "max", true), ==, 4);
    g_assert_cmpint(mte_field(caps, "max", false), ==, 1);
    const TvGuestAbiProbe *max = tv_qemu_caps_guest_abi(caps, "max", TV_ACCEL_TCG);
    g_assert_cmpint(max->mte_off.abi.mteperm, ==, 1);
    g_assert_cmpint(abi_level(caps, "cortex-a710", true), ==, 2);
    g_assert_cmpint(abi_level(caps, "cortex-a78ae", true), ==, REFUSED);
    g_assert_cmpint(abi_level(caps, "cortex-a78ae", false), ==, REFUSED);
    g_assert_nonnull(tv_qemu_caps_model_refusal(caps, "cortex-a78ae", TV_ACCEL_TCG));
    g_assert_null(tv_qemu_caps_model_refusal(caps, "cortex-a57", TV_ACCEL_TCG));
    g_assert_cmpuint(tv_qemu_mte_levels(caps, NULL, TV_ACCEL_TCG), ==, (1u << 2) | (1u << 4));
}

static void test_facts_hypothetical(void)
{
    g_autofree char *name = find_recording("caps_hypothetical-mte-version");
    g_assert_nonnull(name);
    const TvQemuCaps *caps = replayed(name);
    g_assert_true(tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE_VERSION));
    g_assert_true(tv_qemu_caps_has_mte_version(caps));
    const TvQemuMteCaps *tcg = tv_qemu_caps_mte_caps(caps, TV_ACCEL_TCG);
    g_assert_nonnull(tcg);
    g_assert_cmpuint(tcg->nlevels, >=, 1);
    g_assert_null(tv_qemu_caps_mte_caps(caps, TV_ACCEL_KVM));
}

/* The probe's tag-storage self-test: 7.2 fails it (QEMU gitlab issue 1416),
 * 10.0 and 11.1 pass; MTE on 7.2 is then refused unless explicitly allowed. */
static void test_tag_storage(void)
{
    g_autofree char *n72 = find_recording("caps_7.2.");
    g_autofree char *n10 = find_recording("caps_10.");
    g_autofree char *n11 = find_recording("caps_11.1.");
    const TvQemuCaps *c72 = replayed(n72), *c10 = replayed(n10), *c11 = replayed(n11);
    const TvGuestAbiProbe *max72 = tv_qemu_caps_guest_abi(c72, "max", TV_ACCEL_TCG);
    g_assert_cmpint(max72->mte_on.tags.result, ==, TV_TAG_TEST_FAILED);
    g_assert_cmpstr(max72->mte_on.tags.read, ==, "3434");
    g_assert_true(max72->mte_on.tags.fault);
    g_assert_cmphex(max72->mte_on.tags.esr, ==, 0x96000011);
    g_assert_cmpint(max72->mte_off.tags.result, ==, TV_TAG_TEST_NONE);
    const char *ok_models[][2] = {
        { "10", "max" }, { "10", "cortex-a710" }, { "11", "max" }, { "11", "neoverse-n2" }
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ok_models); i++) {
        const TvQemuCaps *c = ok_models[i][0][1] == '0' ? c10 : c11;
        const TvGuestAbiProbe *p = tv_qemu_caps_guest_abi(c, ok_models[i][1], TV_ACCEL_TCG);
        g_assert_cmpint(p->mte_on.tags.result, ==, TV_TAG_TEST_OK);
        g_assert_cmpstr(p->mte_on.tags.read, ==, "1234");
    }

    /* refused by default, naming the defect and the fix */
    static const char xml[] =
        "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>"
        "<os><type arch='aarch64' machine='virt'>hvm</type><kernel>/k</kernel></os>"
        "<features><mte version='3'/></features><cpu mode='maximum'/></domain>";
    g_autoptr(TvDomainDef) def = tv_domain_def_parse(xml, strlen(xml), 0);
    g_assert_nonnull(def);
    TvQemuMtePlan plan;
    g_assert_cmpuint(tv_qemu_mte_levels(c72, NULL, TV_ACCEL_TCG), ==, 0);
    tv_error_reset();
    g_assert_cmpint(tv_qemu_mte_plan(def, c72, NULL, &plan), ==, -1);
    g_assert_nonnull(strstr(tv_error_message(), "tag storage is broken (tags 1 2 3 4 stored in "
                                                "neighbouring granules read back as 3 4 3 4"));
    g_assert_nonnull(strstr(tv_error_message(), "QEMU gitlab issue 1416"));
    g_assert_nonnull(strstr(tv_error_message(), "fixed in QEMU 8.0"));
    /* the same on 10.0: no warning */
    g_assert_cmpint(tv_qemu_mte_plan(def, c10, NULL, &plan), ==, 0);
    g_assert_cmpstr(plan.warning, ==, "");
    /* allowed explicitly: given, with a warning for every start */
    tv_qemu_mte_set_allow_broken_tag_storage(true);
    g_assert_cmpuint(tv_qemu_mte_levels(c72, NULL, TV_ACCEL_TCG), ==, 1u << 3);
    g_assert_cmpint(tv_qemu_mte_plan(def, c72, NULL, &plan), ==, 0);
    g_assert_cmpint(plan.level, ==, 3);
    g_assert_nonnull(strstr(plan.warning, "tag storage is broken"));
    tv_qemu_mte_set_allow_broken_tag_storage(false);
}

/* Replace the first occurrence of from by to (the recording must hold it). */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    g_assert_nonnull(at);
    GString *out = g_string_new_len(text, at - text);
    g_string_append(out, to);
    g_string_append(out, at + strlen(from));
    return g_string_free(out, FALSE);
}

/* Bad probe output in a recording: a clear error, no caps. */
static void test_bad_probe_output(void)
{
    g_autofree char *name = find_recording("caps_10.");
    g_autofree char *path = g_build_filename(srcdir(), "qemucapabilitiesdata", name, NULL);
    g_autofree char *text = read_file(path, NULL);
    static const char again[] = "@boot max tcg mte=on again\n"
                                "TAGVIRT-PROBE PFR1=0000001001000321 PFR2=0000000000000000\n"
                                "TAGVIRT-TAGS stored=1234 read=1234 access=ok\n";
    const struct {
        const char *from, *to, *message;
    } cases[] = {
        /* the repeat of a boot prints other registers: the QEMU contradicts itself */
        { again,
          "@boot max tcg mte=on again\n"
          "TAGVIRT-PROBE PFR1=0000001001000221 PFR2=0000000000000000\n"
          "TAGVIRT-TAGS stored=1234 read=1234 access=ok\n",
          "contradicts itself" },
        /* ... or another tag test result */
        { again,
          "@boot max tcg mte=on again\n"
          "TAGVIRT-PROBE PFR1=0000001001000321 PFR2=0000000000000000\n"
          "TAGVIRT-TAGS stored=1234 read=3434 access=ok\n",
          "contradicts itself" },
        /* no repeat at all */
        { again, "", "has no repeated boot" },
        /* garbage from the firmware */
        { "TAGVIRT-TAGS stored=1234 read=1234 access=ok\n@boot max tcg mte=off",
          "TAGVIRT-TAGS stored=1234 read=12x4 access=ok\n@boot max tcg mte=off",
          "malformed tag test line 'TAGVIRT-TAGS stored=1234 read=12x4 access=ok'" },
        { "TAGVIRT-PROBE PFR1=0000000000000121", "TAGVIRT-PROBE PFR1=00000000000001zz",
          "malformed probe line" },
        /* a tag test where the registers show no tag storage */
        { "TAGVIRT-PROBE PFR1=0000000000000121 PFR2=0000000000000000\nTAGVIRT-TAGS none",
          "TAGVIRT-PROBE PFR1=0000000000000121 PFR2=0000000000000000\nTAGVIRT-TAGS stored=1234 "
          "read=1234 access=ok",
          "show MTE 1 but the tag test ran" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *bad = replace_once(text, cases[i].from, cases[i].to);
        tv_error_reset();
        g_assert_null(tv_qemu_caps_replay(bad, strlen(bad), "qemu-system-aarch64"));
        if (!strstr(tv_error_message(), cases[i].message))
            g_error("case %zu: '%s' lacks '%s'", i, tv_error_message(), cases[i].message);
    }
}

/* A recording with a field out of range: a clear error, no caps. */
static void test_out_of_range(void)
{
    g_autofree char *name = find_recording("caps_hypothetical-mte-version");
    g_autofree char *path = g_build_filename(srcdir(), "qemucapabilitiesdata", name, NULL);
    g_autofree char *text = read_file(path, NULL);
    g_autofree char *bad = replace_once(text, "\"versions\": [\n        2,\n        3\n",
                                        "\"versions\": [\n        2,\n        7\n");
    tv_error_reset();
    g_assert_null(tv_qemu_caps_replay(bad, strlen(bad), "qemu-system-aarch64"));
    g_assert_nonnull(strstr(tv_error_message(), "lists version '7' for accelerator 'tcg': "
                                                "expected a level from 2 to 4"));
}

/* ---- replay must follow the recorded order ---- */

static char *swap_first_two_qom_commands(const char *text)
{
    /* replace the second CPU model's typename by the first's: order differs */
    const char *key = "\"typename\": \"";
    const char *a = strstr(text, key);
    g_assert_nonnull(a);
    const char *b = strstr(a + 1, key);
    g_assert_nonnull(b);
    const char *a_end = strchr(a + strlen(key), '"');
    const char *b_end = strchr(b + strlen(key), '"');
    GString *out = g_string_new_len(text, b - text);
    g_string_append_len(out, a, a_end - a);
    g_string_append(out, b_end);
    return g_string_free(out, FALSE);
}

static void test_replay_order(void)
{
    g_autofree char *name = find_recording("caps_7.2.");
    g_autofree char *path = g_build_filename(srcdir(), "qemucapabilitiesdata", name, NULL);
    g_autofree char *text = read_file(path, NULL);
    g_autofree char *bad = swap_first_two_qom_commands(text);
    tv_error_reset();
    g_assert_null(tv_qemu_caps_replay(bad, strlen(bad), "qemu-system-aarch64"));
    g_assert_nonnull(strstr(tv_error_message(), "but the probe asks"));

    /* a recording with a boot removed is incomplete */
    char *boot = strstr(text, "@boot max tcg mte=on");
    g_assert_nonnull(boot);
    memcpy(boot, "@boot xxx", 9);
    g_assert_null(tv_qemu_caps_replay(text, strlen(text), "qemu-system-aarch64"));
    g_assert_nonnull(strstr(tv_error_message(), "'max' with tcg and mte=on"));

    g_assert_null(tv_qemu_caps_replay("garbage", 7, "x"));
    g_assert_nonnull(strstr(tv_error_message(), "not a tagvirt capabilities recording"));
}

/* ---- XML ---- */

static void test_xml_errors(void)
{
    const char *bad[][2] = {
        { "<domain/>", "root element" },
        { "<qemuCaps><machine name='virt-9.0' default='maybe' deprecated='no' "
          "maxCpus='1'/></qemuCaps>",
          "must be 'yes' or 'no'" },
        { "<qemuCaps><flag name='virt-mtee'/></qemuCaps>",
          "unknown capability flag 'virt-mtee' in <flag name=...>: expected one of 'accel-tcg'" },
        { "<qemuCaps><fingerprint path='/q' size='1' mtime='2' ctime='3' tagvirt='0' "
          "kernel='6' kvm='maybe'/></qemuCaps>",
          "attribute 'kvm' of <fingerprint> must be 'yes' or 'no', not 'maybe'" },
        { "<qemuCaps><fingerprint path='/q' size='-1' mtime='2' ctime='3' tagvirt='0' "
          "kernel='6' kvm='no'/></qemuCaps>",
          "'size' of <fingerprint>" },
        { "<qemuCaps><bogus/></qemuCaps>", "bogus" },
        { "<qemuCaps><guestAbi cpu='max' accel='hvf'/></qemuCaps>", "accel" },
        { "<qemuCaps><commands><command name='b'/><command name='a'/></commands></qemuCaps>",
          "sorted" },
        { "<qemuCaps><guestAbi cpu='max' accel='tcg'><mte state='on' pfr1='zz' "
          "pfr2='0'/></guestAbi></qemuCaps>",
          "pfr1" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        tv_error_reset();
        g_autoptr(TvQemuCaps) caps = tv_qemu_caps_parse(bad[i][0], strlen(bad[i][0]));
        g_assert_null(caps);
        if (!strstr(tv_error_message(), bad[i][1]))
            g_error("'%s': error '%s' does not mention '%s'", bad[i][0], tv_error_message(),
                    bad[i][1]);
    }
}

/* ---- host fixtures ---- */

static void test_host(void)
{
    struct {
        const char *name, *arch;
        bool kvm, cap;
        int level;
    } hosts[] = {
        { "x86_64-nokvm", "x86_64", false, false, 0 },
        { "aarch64-kvm-nomte", "aarch64", true, false, 0 },
        { "aarch64-kvm-mte2", "aarch64", true, true, 2 },
        { "aarch64-kvm-mte3", "aarch64", true, true, 3 },
        { "aarch64-kvm-mte3-nocap", "aarch64", true, false, 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(hosts); i++) {
        g_autofree char *root = g_build_filename(srcdir(), "hostdata", hosts[i].name, NULL);
        g_autoptr(TvHostFacts) h = tv_host_facts_read(root);
        if (!h)
            g_error("%s: %s", hosts[i].name, tv_error_message());
        g_assert_cmpstr(h->arch, ==, hosts[i].arch);
        g_assert_nonnull(h->kernel_release);
        g_assert_cmpint(h->kvm_present, ==, hosts[i].kvm);
        g_assert_cmpint(tv_host_kvm_usable(h), ==, hosts[i].kvm);
        g_assert_cmpint(h->kvm_cap_arm_mte, ==, hosts[i].cap);
        g_assert_cmpint(tv_host_mte_level(h), ==, hosts[i].level);
    }
    g_autoptr(TvHostFacts) real = tv_host_facts_read(NULL);
    g_assert_nonnull(real);
    g_assert_cmpstr(real->root, ==, "/");
    g_assert_nonnull(real->kernel_release);

    tv_error_reset();
    g_autoptr(TvHostFacts) none = tv_host_facts_read("/nonexistent-root");
    g_assert_null(none);
    g_assert_nonnull(strstr(tv_error_message(), "kernel release"));
}

/* ---- bad binaries: each a clear error, quickly, nothing left running ---- */

static char *tmpdir;

static char *write_script(const char *name, const char *body, mode_t mode)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);
    g_assert_cmpint(tv_file_write_atomic(path, text, strlen(text), mode), ==, 0);
    return g_steal_pointer(&path);
}

static void expect_probe_error(const char *binary, const char *needle, unsigned timeout_ms)
{
    TvQemuCapsProbeOptions opts = { .timeout_ms = timeout_ms };
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    tv_error_reset();
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_probe(binary, host, &opts);
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_null(caps);
    if (!strstr(tv_error_message(), needle))
        g_error("probe of %s: error '%s' does not mention '%s'", binary, tv_error_message(),
                needle);
    g_test_message("%s: %s (%" G_GINT64_FORMAT " ms)", binary, tv_error_message(), ms);
    g_assert_cmpint(ms, <, timeout_ms * 3 + 1000);
}

static void test_bad_binaries(void)
{
    expect_probe_error("/nonexistent/qemu-system-aarch64", "No such file", 2000);
    g_autofree char *noexec = write_script("noexec", "exit 0", 0644);
    expect_probe_error(noexec, "not executable", 2000);
    expect_probe_error("/bin/true", "QMP greeting", 2000);
    expect_probe_error("/bin/cat", "invalid option", 2000);
    g_autofree char *hang = write_script("hang", "sleep 1000", 0755);
    expect_probe_error(hang, "timed out waiting for the QMP greeting", 500);
    g_autofree char *crash = write_script("crash", "kill -SEGV $$", 0755);
    expect_probe_error(crash, "signal 11", 2000);
    g_autofree char *x86 = g_find_program_in_path("qemu-system-x86_64");
    if (x86)
        expect_probe_error(x86, "emulates 'x86_64', not 'aarch64'", 5000);
    /* the hang script's 'sleep' was in its process group: killed with it */
    g_autofree char *out = NULL;
    g_autofree char *cmd = g_strdup_printf("pgrep -f '%s'", hang);
    g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL);
    g_assert_cmpstr(out, ==, "");
}

/* The probe of a QEMU that lies: an error, and nothing in the cache. */
static void expect_lookup_error(const char *binary, const char *needle)
{
    g_autofree char *cache = g_build_filename(tmpdir, "cache-bad", NULL);
    TvQemuCapsProbeOptions opts = { .timeout_ms = 10000 };
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    tv_error_reset();
    g_autoptr(TvQemuCapsCache) cc = tv_qemu_caps_cache_new(cache, host, &opts);
    g_assert_null(tv_qemu_caps_cache_lookup(cc, binary));
    if (!strstr(tv_error_message(), needle))
        g_error("probe of %s: error '%s' does not mention '%s'", binary, tv_error_message(),
                needle);
    g_test_message("%s: %s", binary, tv_error_message());
    g_autoptr(GDir) d = g_dir_open(cache, 0, NULL);
    const char *entry = d ? g_dir_read_name(d) : NULL;
    if (entry)
        g_error("probe of %s failed but '%s' was cached", binary, entry);
}

/* A real QEMU (the one on PATH) behind wrappers whose probe boots lie. */
static void test_lying_qemu(void)
{
    g_autofree char *real = g_find_program_in_path("qemu-system-aarch64");
    if (!real) {
        g_test_fail_printf("no qemu-system-aarch64 on PATH");
        return;
    }
    /* every mte=on boot changes PFR1's low byte: the repeat of max differs */
    g_autofree char *counter = g_build_filename(tmpdir, "boots", NULL);
    g_autofree char *body = g_strdup_printf(
        "case \"$*\" in *mte=on*-kernel*) ;; *) exec '%s' \"$@\" ;; esac\n"
        "n=$(flock '%s' sh -c 'n=$(cat %s.n 2>/dev/null || echo 16); echo $((n + 1)) > %s.n; "
        "echo $n')\n"
        "out=$('%s' \"$@\"); rc=$?\n"
        "printf '%%s\\n' \"$out\" | sed \"s/^\\(TAGVIRT-PROBE PFR1=..............\\)../\\1$(printf "
        "%%02x $n)/\"\n"
        "exit $rc",
        real, counter, counter, counter, real);
    g_autofree char *contradicts = write_script("contradicts", body, 0755);
    expect_lookup_error(contradicts, "contradicts itself");
    /* probe firmware that prints garbage */
    g_autofree char *garbage_body = g_strdup_printf(
        "case \"$*\" in *-kernel*) printf 'TAGVIRT-PROBE PFR1=%%s\\nTAGVIRT-TAGS none\\n' \"$$\"; "
        "exit 0 ;; esac\nexec '%s' \"$@\"",
        real);
    g_autofree char *garbage = write_script("garbage", garbage_body, 0755);
    expect_lookup_error(garbage, "malformed probe line");
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("qemucapstest-XXXXXX", NULL);

    g_autofree char *dir = g_build_filename(srcdir(), "qemucapabilitiesdata", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".replies"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, cmp_names);
    for (guint i = 0; i < names->len; i++) {
        char *path = g_build_filename(dir, names->pdata[i], NULL);
        g_autofree char *test = g_strdup_printf("/qemucaps/replay/%s", (char *)names->pdata[i]);
        g_test_add_data_func_full(test, path, test_replay, g_free);
    }
    g_test_add_func("/qemucaps/facts/7.2", test_facts_72);
    g_test_add_func("/qemucaps/facts/newer", test_facts_newer);
    g_test_add_func("/qemucaps/facts/11.1", test_facts_111);
    g_test_add_func("/qemucaps/tag-storage", test_tag_storage);
    g_test_add_func("/qemucaps/bad-probe-output", test_bad_probe_output);
    g_test_add_func("/qemucaps/out-of-range", test_out_of_range);
    g_test_add_func("/qemucaps/facts/hypothetical", test_facts_hypothetical);
    g_test_add_func("/qemucaps/replay-order", test_replay_order);
    g_test_add_func("/qemucaps/xml-errors", test_xml_errors);
    g_test_add_func("/qemucaps/host", test_host);
    g_test_add_func("/qemucaps/bad-binaries", test_bad_binaries);
    g_test_add_func("/qemucaps/lying-qemu", test_lying_qemu);
    int rc = g_test_run();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmpdir);
    (void)!system(rm);
    return rc;
}
