/* AppArmor for QEMU; see qemu_security_apparmor.h. */
#include "qemu_security_apparmor.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>

static char *find_parser(void)
{
    const char *fixed[] = { "/sbin/apparmor_parser", "/usr/sbin/apparmor_parser" };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        if (g_file_test(fixed[i], G_FILE_TEST_IS_EXECUTABLE))
            return g_strdup(fixed[i]);
    }
    return g_find_program_in_path("apparmor_parser");
}

bool tv_qemu_apparmor_available(char **why)
{
    g_autofree char *enabled = NULL;
    const char *reason = NULL;
    if (!g_file_get_contents("/sys/module/apparmor/parameters/enabled", &enabled, NULL, NULL))
        reason = "this kernel has no AppArmor (/sys/module/apparmor is missing)";
    else if (enabled[0] != 'Y')
        reason = "AppArmor is disabled in this kernel (apparmor=0 or another LSM)";
    else if (!g_file_test("/sys/kernel/security/apparmor", G_FILE_TEST_IS_DIR))
        reason = "securityfs shows no AppArmor (/sys/kernel/security/apparmor)";
    else {
        g_autofree char *parser = find_parser();
        if (!parser)
            reason = "apparmor_parser is not installed (package apparmor)";
    }
    if (why)
        *why = reason ? g_strdup(reason) : NULL;
    return reason == NULL;
}

char *tv_qemu_apparmor_label(const TvDomainDef *def)
{
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(def->uuid, uuid);
    return g_strdup_printf("tagvirt-%s", uuid);
}

/* a path as an AppArmor rule: quoted, with the globbing characters escaped;
 * glob (unescaped) is appended: a slash and two stars for what a folder holds */
static void add_rule_glob(GString *s, const char *path, const char *glob, const char *perms)
{
    g_string_append(s, "  \"");
    for (const char *p = path; *p; p++) {
        if (strchr("\"\\*?[]{}^", *p))
            g_string_append_c(s, '\\');
        g_string_append_c(s, *p);
    }
    g_string_append_printf(s, "%s\" %s,\n", glob, perms);
}

static void add_rule(GString *s, const char *path, const char *perms)
{
    /* a folder (a <filesystem> share): the folder and all it holds */
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        add_rule_glob(s, path, "/", "r");
        add_rule_glob(s, path, "/**", perms);
        return;
    }
    add_rule_glob(s, path, "", perms);
}

unsigned tv_qemu_apparmor_net_needs(const TvDomainDef *def)
{
    unsigned net = 0;
    for (size_t i = 0; i < def->devices.nsmartcards; i++) {
        const TvDomainSmartcard *card = def->devices.smartcards[i];
        if (card->chr == TV_SMARTCARD_CHR_TCP)
            net |= TV_QEMU_APPARMOR_TCP;
        else if (card->chr == TV_SMARTCARD_CHR_UNIX && !card->bind)
            net |= TV_QEMU_APPARMOR_UNIX_CONNECT;
    }
    for (size_t i = 0; i < def->devices.nchannels; i++) {
        const TvDomainChr *ch = def->devices.channels[i];
        if (ch->type == TV_CHR_TYPE_UNIX && ch->unix_mode == TV_CHR_UNIX_MODE_CONNECT)
            net |= TV_QEMU_APPARMOR_UNIX_CONNECT;
    }
    return net;
}

char *tv_qemu_apparmor_profile(const char *label, const char *emulator,
                               const TvQemuLaunchFile *files, size_t nfiles, unsigned net)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "# made by tagvirtd for one domain; removed when the domain stops\n"
                           "abi <abi/3.0>,\n"
                           "include <tunables/global>\n"
                           "profile %s flags=(attach_disconnected) {\n"
                           "  include <abstractions/base>\n"
                           "  include <abstractions/consoles>\n"
                           "  /usr/share/qemu/** r,\n"
                           "  /usr/share/seabios/** r,\n"
                           "  /usr/share/AAVMF/** r,\n"
                           "  /usr/share/qemu-efi-aarch64/** r,\n"
                           "  /{usr/,}lib{,32,64}/** mr,\n"
                           "  /dev/kvm rw,\n"
                           "  /dev/ptmx rw,\n"
                           "  /dev/pts/* rw,\n"
                           "  /dev/{null,zero,full,random,urandom} rw,\n"
                           "  /proc/@{pid}/{fd,task,stat,status,auxv,maps,smaps} r,\n"
                           "  /proc/@{pid}/task/*/comm rw,\n"
                           "  /proc/sys/vm/overcommit_memory r,\n"
                           "  /sys/devices/system/cpu/** r,\n"
                           "  /sys/devices/system/node/** r,\n"
                           "  /sys/kernel/mm/transparent_hugepage/** r,\n"
                           "  signal (receive) peer=unconfined,\n"
                           "  unix (accept, receive, send, getattr, getopt, setopt, shutdown),\n",
                           label);
    if (net & TV_QEMU_APPARMOR_TCP)
        g_string_append(s, "  network inet stream,\n"
                           "  network inet6 stream,\n");
    if (net & TV_QEMU_APPARMOR_UNIX_CONNECT)
        g_string_append(s, "  unix (create, connect) type=stream,\n");
    add_rule(s, emulator, "mrix");
    for (size_t i = 0; i < nfiles; i++)
        add_rule(s, files[i].path, files[i].write ? "rwk" : "rk");
    g_string_append(s, "}\n");
    return g_string_free(s, FALSE);
}

char *tv_qemu_apparmor_swtpm_label(const TvDomainDef *def)
{
    g_autofree char *label = tv_qemu_apparmor_label(def);
    return g_strdup_printf("%s-swtpm", label);
}

char *tv_qemu_apparmor_swtpm_profile(const char *label, const char *swtpm, const char *state_dir,
                                     const char *log_path)
{
    GString *s = g_string_new(NULL);
    /* base: the loader, libraries, /dev/null and /dev/urandom; openssl:
     * libtpms' crypto reads its configuration.  The socket is the end of
     * the pair the daemon made (and the data channel QEMU sends over it):
     * no socket file, no network. */
    g_string_append_printf(
        s,
        "# made by tagvirtd for one domain's swtpm; removed when it ends\n"
        "abi <abi/3.0>,\n"
        "include <tunables/global>\n"
        "profile %s flags=(attach_disconnected) {\n"
        "  include <abstractions/base>\n"
        "  include <abstractions/openssl>\n"
        "  signal (receive) peer=unconfined,\n"
        "  unix (send, receive, getattr, getopt, setopt, shutdown) type=stream,\n",
        label);
    add_rule_glob(s, swtpm, "", "mr");
    add_rule_glob(s, state_dir, "/", "r");
    add_rule_glob(s, state_dir, "/**", "rwk");
    add_rule_glob(s, log_path, "", "w");
    g_string_append(s, "}\n");
    return g_string_free(s, FALSE);
}

static int run_parser(const char *flag, const char *path)
{
    g_autofree char *parser = find_parser();
    if (!parser) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "cannot load AppArmor profile '%s': apparmor_parser is not installed",
                        path);
        return -1;
    }
    const char *argv[] = { parser, flag, "-W", path, NULL };
    g_autofree char *err = NULL;
    gint status = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                      &status, &gerr) ||
        !g_spawn_check_wait_status(status, NULL)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED, "apparmor_parser %s '%s' failed: %s",
                        flag, path,
                        gerr ? gerr->message : (err && *err ? g_strstrip(err) : "no message"));
        return -1;
    }
    return 0;
}

int tv_qemu_apparmor_load(const char *path, const char *text)
{
    if (tv_file_write_atomic(path, text, strlen(text), 0600) < 0)
        return -1;
    if (run_parser("-r", path) < 0) {
        tv_file_remove(path);
        return -1;
    }
    return 0;
}

void tv_qemu_apparmor_unload(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return;
    if (run_parser("-R", path) < 0) {
        g_warning("%s", tv_error_message());
        tv_error_reset();
    }
    tv_file_remove(path);
}
