#include "qemu_mte_levels.h"
#include "tagvirt_cli.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdio.h>
#include <string.h>

#define DOMAIN_XML_MAX (4 * 1024 * 1024)

void tv_cli_add_common(GOptionContext *ctx, TvCliCommon *c)
{
    GOptionEntry entries[] = {
        { "emulator", 0, 0, G_OPTION_ARG_FILENAME, &c->emulator,
          "QEMU binary (default: the domain's <emulator>, else " TV_QEMU_DEFAULT_EMULATOR ")",
          "PATH" },
        { "cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &c->cache_dir,
          "capabilities cache (default: $XDG_CACHE_HOME/tagvirt/capabilities)", "DIR" },
        { "host-root", 0, 0, G_OPTION_ARG_FILENAME, &c->host_root,
          "read host facts (KVM, MTE hwcaps) under DIR: a fixture host", "DIR" },
        { "probe-firmware", 0, 0, G_OPTION_ARG_FILENAME, &c->firmware,
          "the probe program booted per CPU model (default: the built/installed probe.elf)",
          "FILE" },
        { "no-cache", 0, 0, G_OPTION_ARG_NONE, &c->no_cache,
          "probe the emulator now; neither read nor write the cache", NULL },
        { "allow-broken-tag-storage", 0, 0, G_OPTION_ARG_NONE, &c->allow_broken_tag_storage,
          "offer MTE even where the probe found the emulator's tag storage broken (QEMU 7.2); "
          "warns at every start",
          NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

void tv_cli_common_clear(TvCliCommon *c)
{
    g_free(c->emulator);
    g_free(c->cache_dir);
    g_free(c->host_root);
    g_free(c->firmware);
}

int tv_cli_parse(GOptionContext *ctx, int *argc, char ***argv)
{
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "tagvirt: error: %s\n", err->message);
        return -1;
    }
    return 0;
}

int tv_cli_fail(void)
{
    fprintf(stderr, "tagvirt: error: %s\n", tv_error_message());
    return -1;
}

static TvQemuCaps *cli_caps_lookup(const char *emulator, void *opaque)
{
    const TvQemuCaps *caps = tv_cli_caps(opaque, emulator);
    return caps ? tv_qemu_caps_ref((TvQemuCaps *)caps) : NULL;
}

int tv_cli_context_init(TvCliContext *cli, TvCliCommon *common)
{
    memset(cli, 0, sizeof(*cli));
    cli->common = common;
    tv_qemu_mte_set_allow_broken_tag_storage(common->allow_broken_tag_storage);
    cli->host = tv_host_facts_read(common->host_root);
    if (!cli->host)
        return -1;
    cli->held = g_ptr_array_new_with_free_func((GDestroyNotify)tv_qemu_caps_unref);
    if (!common->no_cache) {
        TvQemuCapsProbeOptions opts = { .probe_firmware = common->firmware };
        g_autofree char *dir =
            common->cache_dir
                ? g_strdup(common->cache_dir)
                : g_build_filename(g_get_user_cache_dir(), "tagvirt", "capabilities", NULL);
        cli->cache = tv_qemu_caps_cache_new(dir, cli->host, &opts);
    }
    cli->pipe.default_emulator = common->emulator;
    cli->pipe.host = cli->host;
    cli->pipe.caps_lookup = cli_caps_lookup;
    cli->pipe.caps_opaque = cli;
    return 0;
}

void tv_cli_context_clear(TvCliContext *cli)
{
    if (cli->held)
        g_ptr_array_unref(cli->held);
    if (cli->cache)
        tv_qemu_caps_cache_free(cli->cache);
    tv_host_facts_free(cli->host);
}

const TvQemuCaps *tv_cli_caps(TvCliContext *cli, const char *emulator)
{
    if (!emulator)
        emulator = cli->common->emulator ? cli->common->emulator : TV_QEMU_DEFAULT_EMULATOR;
    if (!cli->cache) {
        if (cli->owned && g_strcmp0(cli->owned->binary, emulator) == 0)
            return cli->owned;
        TvQemuCapsProbeOptions opts = { .probe_firmware = cli->common->firmware };
        TvQemuCaps *caps = tv_qemu_caps_probe(emulator, cli->host, &opts);
        if (caps) {
            g_ptr_array_add(cli->held, caps);
            cli->owned = caps;
        }
        return caps;
    }
    TvQemuCaps *caps = tv_qemu_caps_cache_lookup(cli->cache, emulator);
    if (caps)
        g_ptr_array_add(cli->held, caps);
    return caps;
}

TvDomainDef *tv_cli_load_domain(TvCliContext *cli, const char *path, const TvQemuCaps **caps)
{
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, DOMAIN_XML_MAX, &xml, &len) < 0)
        return NULL;
    TvQemuCaps *ref = NULL;
    TvDomainDef *def = tv_qemu_domain_load(&cli->pipe, xml, len, 0, caps ? &ref : NULL);
    if (ref) {
        g_ptr_array_add(cli->held, ref);
        *caps = ref;
    }
    return def;
}
