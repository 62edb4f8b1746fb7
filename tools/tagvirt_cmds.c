/* tagvirt domcapabilities | domxml-to-native | validate | probe */
#include "qemu_command.h"
#include "qemu_domaincaps.h"
#include "qemu_mte_levels.h"
#include "tagvirt_cli.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdio.h>
#include <string.h>

static int print_domcaps(TvCliContext *cli, const char *arch, const char *machine,
                         const char *virttype)
{
    const TvQemuCaps *caps = tv_cli_caps(cli, NULL);
    if (!caps)
        return tv_cli_fail();
    g_autoptr(TvDomainCaps) dc = tv_qemu_domain_caps(caps, cli->host, machine, arch, virttype);
    if (!dc)
        return tv_cli_fail();
    g_autofree char *xml = tv_domain_caps_format(dc);
    fputs(xml, stdout);
    return 0;
}

int tv_cmd_domcapabilities(int argc, char **argv)
{
    TvCliCommon common = { 0 };
    g_autofree char *arch = NULL, *machine = NULL, *virttype = NULL;
    GOptionEntry entries[] = {
        { "arch", 0, 0, G_OPTION_ARG_STRING, &arch, "guest architecture (aarch64)", "A" },
        { "machine", 0, 0, G_OPTION_ARG_STRING, &machine, "machine type (default: virt)", "M" },
        { "virttype", 0, 0, G_OPTION_ARG_STRING, &virttype, "qemu (TCG) or kvm", "T" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- domain capabilities");
    g_option_context_add_main_entries(ctx, entries, NULL);
    tv_cli_add_common(ctx, &common);
    int ret = -1;
    TvCliContext cli;
    if (tv_cli_parse(ctx, &argc, &argv) == 0) {
        if (tv_cli_context_init(&cli, &common) < 0) {
            tv_cli_fail();
        } else {
            ret = print_domcaps(&cli, arch, machine, virttype);
            tv_cli_context_clear(&cli);
        }
    }
    tv_cli_common_clear(&common);
    return ret;
}

/* Shared by domxml-to-native and validate: one FILE argument. */
static int load_one(int argc, char **argv, const char *summary, bool schema, TvCliCommon *common,
                    TvCliContext *cli, TvDomainDef **def, const TvQemuCaps **caps)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
    tv_cli_add_common(ctx, common);
    if (tv_cli_parse(ctx, &argc, &argv) < 0)
        return -1;
    if (argc != 2) {
        fprintf(stderr, "tagvirt: error: expected one domain XML FILE\n");
        return -1;
    }
    if (tv_cli_context_init(cli, common) < 0)
        return tv_cli_fail();
    *def = tv_cli_load_domain(cli, argv[1], caps);
    if (!*def)
        goto fail;
    if (schema) { /* after the parser, whose messages name the value and what is accepted */
        g_autofree char *xml = NULL;
        size_t len = 0;
        if (tv_file_read_all(argv[1], 4 * 1024 * 1024, &xml, &len) < 0 ||
            tv_domain_def_validate_schema(xml, len) < 0)
            goto fail;
    }
    return 0;

fail:
    g_clear_pointer(def, tv_domain_def_free);
    tv_cli_context_clear(cli);
    return tv_cli_fail();
}

int tv_cmd_domxml_to_native(int argc, char **argv)
{
    TvCliCommon common = { 0 };
    TvCliContext cli;
    TvDomainDef *def = NULL;
    const TvQemuCaps *caps = NULL;
    if (load_one(argc, argv, "FILE - print the QEMU command line", false, &common, &cli, &def,
                 &caps) < 0) {
        tv_cli_common_clear(&common);
        return -1;
    }
    int ret = -1;
    TvQemuMtePlan plan;
    if (tv_qemu_domain_resolve(def, caps, cli.host, &plan) < 0) {
        tv_cli_fail();
    } else {
        /* a <tpm>'s swtpm socket is a descriptor of the start: shown as fd 4 */
        TvQemuCommandOptions opts = { .tpm_fd = 4 };
        g_autoptr(GPtrArray) cmd = tv_qemu_build_command(def, caps, &plan, &opts);
        if (!cmd) {
            tv_cli_fail();
        } else {
            g_autofree char *text = tv_qemu_command_format(cmd);
            fputs(text, stdout);
            ret = 0;
        }
    }
    tv_domain_def_free(def);
    tv_cli_context_clear(&cli);
    tv_cli_common_clear(&common);
    return ret;
}

int tv_cmd_validate(int argc, char **argv)
{
    TvCliCommon common = { 0 };
    TvCliContext cli;
    TvDomainDef *def = NULL;
    const TvQemuCaps *caps = NULL;
    if (load_one(argc, argv, "FILE - validate a domain XML file", true, &common, &cli, &def,
                 &caps) < 0) {
        tv_cli_common_clear(&common);
        return -1;
    }
    printf("%s: valid for %s (%s", def->name, caps->binary,
           def->virt_type == TV_VIRT_KVM ? "KVM" : "TCG");
    TvQemuMtePlan plan;
    if (tv_qemu_mte_plan(def, caps, cli.host, &plan) == 0 && plan.level) {
        printf(", MTE level %d", plan.level);
    } else if (plan.abi.valid) {
        /* "off" is what the guest sees, not always 0 (QEMU 8.2 and later) */
        g_autofree char *seen = tv_mte_abi_summary(&plan.abi);
        printf(", MTE off: the guest sees MTE %s", seen);
    }
    printf(")\n");
    tv_domain_def_free(def);
    tv_cli_context_clear(&cli);
    tv_cli_common_clear(&common);
    return 0;
}

static char *describe_result(const TvGuestAbiResult *r)
{
    if (!r->ran)
        return g_strdup("-");
    if (r->refused)
        return g_strdup("refused (see below)");
    return tv_mte_abi_summary(&r->abi);
}

/* Each distinct refusal once, with the models that got it and for which
 * MTE setting; a model refused with mte=off too cannot run on virt at all. */
static void print_refusals(const TvQemuCaps *caps)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
    for (size_t i = 0; i < caps->nprobes; i++) {
        const TvGuestAbiResult *results[] = { &caps->probes[i].mte_on, &caps->probes[i].mte_off };
        for (size_t k = 0; k < G_N_ELEMENTS(results); k++) {
            const char *text = results[k]->error ? results[k]->error : "(no message)";
            if (!results[k]->ran || !results[k]->refused || g_hash_table_contains(seen, text))
                continue;
            g_hash_table_add(seen, (gpointer)text);
            printf("refused: QEMU said '%s' for:", text);
            for (size_t j = 0; j < caps->nprobes; j++) {
                const TvGuestAbiProbe *p = &caps->probes[j];
                bool on = p->mte_on.ran && p->mte_on.refused &&
                          g_strcmp0(p->mte_on.error ? p->mte_on.error : "(no message)", text) == 0;
                bool off =
                    p->mte_off.ran && p->mte_off.refused &&
                    g_strcmp0(p->mte_off.error ? p->mte_off.error : "(no message)", text) == 0;
                if (on || off)
                    printf(" %s (%s)", p->cpu_model,
                           on && off ? "mte=on and mte=off"
                           : on      ? "mte=on"
                                     : "mte=off");
            }
            printf("\n");
        }
    }
    GString *unusable = g_string_new(NULL);
    for (size_t i = 0; i < caps->nprobes; i++) {
        if (tv_qemu_caps_model_refusal(caps, caps->probes[i].cpu_model, caps->probes[i].accel))
            g_string_append_printf(unusable, " %s", caps->probes[i].cpu_model);
    }
    if (unusable->len)
        printf("not usable on virt (refused with MTE off too):%s\n", unusable->str);
    g_string_free(unusable, TRUE);
}

/* What the tag-storage self-test found wrong, once per model. */
static void print_tag_defects(const TvQemuCaps *caps)
{
    for (size_t i = 0; i < caps->nprobes; i++) {
        const TvGuestAbiProbe *p = &caps->probes[i];
        if (p->mte_on.tags.result != TV_TAG_TEST_FAILED)
            continue;
        g_autofree char *what = tv_tag_test_describe(&p->mte_on.tags);
        printf("tag storage broken with %s: %s (QEMU gitlab issue 1416, fixed in QEMU 8.0); "
               "MTE is %s here\n",
               p->cpu_model, what,
               tv_qemu_mte_allow_broken_tag_storage()
                   ? "allowed anyway (--allow-broken-tag-storage)"
                   : "not offered");
    }
}

int tv_cmd_probe(int argc, char **argv)
{
    TvCliCommon common = { 0 };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- probe an emulator's MTE levels");
    tv_cli_add_common(ctx, &common);
    TvCliContext cli;
    int ret = -1;
    if (tv_cli_parse(ctx, &argc, &argv) < 0)
        goto out_common;
    if (tv_cli_context_init(&cli, &common) < 0) {
        tv_cli_fail();
        goto out_common;
    }
    const TvQemuCaps *caps = tv_cli_caps(&cli, NULL);
    if (!caps) {
        tv_cli_fail();
    } else {
        printf("%s: QEMU %u.%u.%u%s%s%s\n", caps->binary, caps->version / 1000000,
               (caps->version / 1000) % 1000, caps->version % 1000, caps->package ? " (" : "",
               caps->package ? caps->package : "", caps->package ? ")" : "");
        printf("interface: %s\n",
               tv_qemu_caps_has_mte_version(caps)
                   ? "mte-version + query-mte-capabilities"
                   : (tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE) ? "mte=on|off only"
                                                                    : "no MTE property"));
        printf("%-16s %-5s %-22s %-14s %s\n", "CPU model", "accel", "mte=on", "tag storage",
               "mte=off");
        for (size_t i = 0; i < caps->nprobes; i++) {
            const TvGuestAbiProbe *p = &caps->probes[i];
            g_autofree char *on = describe_result(&p->mte_on);
            g_autofree char *off = describe_result(&p->mte_off);
            const char *tags = p->mte_on.tags.result == TV_TAG_TEST_OK       ? "works"
                               : p->mte_on.tags.result == TV_TAG_TEST_FAILED ? "BROKEN"
                                                                             : "-";
            printf("%-16s %-5s %-22s %-14s %s\n", p->cpu_model, tv_accel_to_string(p->accel), on,
                   tags, off);
        }
        print_refusals(caps);
        print_tag_defects(caps);
        ret = 0;
    }
    tv_cli_context_clear(&cli);
out_common:
    tv_cli_common_clear(&common);
    return ret;
}
