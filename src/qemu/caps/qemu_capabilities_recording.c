/* Recordings of a capability probe: the QMP conversation and the guest-ABI
 * boots, as a readable text file (format in docs/capabilities.rst). */
#include "qemu_capabilities_priv.h"
#include "tv_error.h"

#include <string.h>

#define RECORDING_HEADER "# tagvirt QEMU capabilities recording, format 1"

void tv_guest_abi_boot_free(TvGuestAbiBoot *boot)
{
    if (!boot)
        return;
    g_free(boot->cpu_model);
    g_free(boot->text);
    g_free(boot);
}

TvQemuCapsRecording *tv_qemu_caps_recording_new(void)
{
    TvQemuCapsRecording *rec = g_new0(TvQemuCapsRecording, 1);
    rec->qmp = tv_qemu_monitor_script_new();
    rec->boots = g_ptr_array_new_with_free_func((GDestroyNotify)tv_guest_abi_boot_free);
    return rec;
}

void tv_qemu_caps_recording_free(TvQemuCapsRecording *rec)
{
    if (!rec)
        return;
    g_free(rec->comment);
    tv_qemu_monitor_script_free(rec->qmp);
    g_ptr_array_unref(rec->boots);
    g_free(rec);
}

char *tv_qemu_caps_recording_format(const TvQemuCapsRecording *rec)
{
    GString *out = g_string_new(RECORDING_HEADER "\n");
    if (rec->comment) {
        g_auto(GStrv) lines = g_strsplit(rec->comment, "\n", -1);
        for (char **l = lines; *l; l++)
            g_string_append_printf(out, "# %s\n", *l);
    }
    tv_qemu_monitor_script_format(rec->qmp, out);
    for (guint i = 0; i < rec->boots->len; i++) {
        TvGuestAbiBoot *b = rec->boots->pdata[i];
        g_string_append_printf(out, "@%s %s %s mte=%s%s\n%s\n", b->refused ? "refused" : "boot",
                               b->cpu_model, tv_accel_to_string(b->accel), b->mte ? "on" : "off",
                               b->again ? " again" : "", b->text ? b->text : "");
    }
    return g_string_free(out, FALSE);
}

static int parse_boot_header(const char *kind, const char *args, unsigned lineno,
                             TvGuestAbiBoot *boot)
{
    g_auto(GStrv) w = g_strsplit(args, " ", -1);
    int accel = -1;
    guint n = g_strv_length(w);
    if ((n != 3 && n != 4) || (accel = tv_accel_from_string(w[1])) <= 0 ||
        (!g_str_equal(w[2], "mte=on") && !g_str_equal(w[2], "mte=off")) ||
        (n == 4 && (!g_str_equal(w[3], "again") || !g_str_equal(w[2], "mte=on")))) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "recording line %u: expected '@%s MODEL tcg|kvm mte=on|off' or '@%s "
                        "MODEL tcg|kvm mte=on again', got '@%s %s'",
                        lineno, kind, kind, kind, args);
        return -1;
    }
    boot->again = n == 4;
    boot->cpu_model = g_strdup(w[0]);
    boot->accel = (TvAccel)accel;
    boot->mte = g_str_equal(w[2], "mte=on");
    boot->refused = g_str_equal(kind, "refused");
    boot->done = true;
    return 0;
}

/* One section: '@kind args' then its body up to the next '@' line. */
static int add_section(TvQemuCapsRecording *rec, const char *header, GString *body, unsigned lineno)
{
    g_autofree char *kind = NULL;
    const char *sp = strchr(header, ' ');
    kind = sp ? g_strndup(header, (gsize)(sp - header)) : g_strdup(header);
    const char *args = sp ? sp + 1 : "";

    if (g_str_equal(kind, "boot") || g_str_equal(kind, "refused")) {
        g_autoptr(TvGuestAbiBoot) boot = g_new0(TvGuestAbiBoot, 1);
        if (parse_boot_header(kind, args, lineno, boot) < 0)
            return -1;
        boot->text = g_strstrip(g_strdup(body->str));
        g_ptr_array_add(rec->boots, g_steal_pointer(&boot));
        return 0;
    }
    if (!g_str_equal(kind, "greeting") && !g_str_equal(kind, "command") &&
        !g_str_equal(kind, "reply") && !g_str_equal(kind, "event")) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "recording line %u: unknown section '@%s' (expected greeting, command, "
                        "reply, event, boot or refused)",
                        lineno, kind);
        return -1;
    }
    /* the QMP conversation: the monitor layer replays it */
    return tv_qemu_monitor_script_add(rec->qmp, kind, body->str, lineno);
}

TvQemuCapsRecording *tv_qemu_caps_recording_parse(const char *text, size_t len)
{
    g_autoptr(TvQemuCapsRecording) rec = tv_qemu_caps_recording_new();
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    g_autoptr(GString) body = g_string_new(NULL);
    g_autoptr(GString) comment = g_string_new(NULL);
    g_autofree char *header = NULL;
    unsigned header_line = 0;
    bool seen_magic = false;
    int rc = 0;

    for (unsigned i = 0; lines[i] && rc == 0; i++) {
        const char *l = lines[i];
        if (i == 0) {
            if (!g_str_equal(l, RECORDING_HEADER)) {
                tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                                "not a tagvirt capabilities recording: the first line must be "
                                "'%s'",
                                RECORDING_HEADER);
                return NULL;
            }
            seen_magic = true;
            continue;
        }
        if (l[0] == '#') {
            if (!header) /* comments before the first section are the header */
                g_string_append_printf(comment, "%s%s", comment->len ? "\n" : "",
                                       l[1] == ' ' ? l + 2 : l + 1);
            continue;
        }
        if (l[0] == '@') {
            if (header)
                rc = add_section(rec, header, body, header_line);
            g_free(header);
            header = g_strdup(l + 1);
            header_line = i + 1;
            g_string_truncate(body, 0);
            continue;
        }
        if (!header) {
            if (*l) {
                tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                                "recording line %u: text before the first '@' section", i + 1);
                rc = -1;
            }
            continue;
        }
        g_string_append_printf(body, "%s\n", l);
    }
    if (rc == 0 && header)
        rc = add_section(rec, header, body, header_line);
    if (rc == 0)
        rc = tv_qemu_monitor_script_check(rec->qmp);
    if (rc < 0 || !seen_magic)
        return NULL;
    if (comment->len)
        rec->comment = g_strdup(comment->str);
    return g_steal_pointer(&rec);
}
