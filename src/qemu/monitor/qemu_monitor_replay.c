/* Recorded QMP conversations: the script the recorder fills and the replay
 * transport reads, and its text form (the QMP sections of a capabilities
 * recording, docs/capabilities.rst, and tests/qemumonitordata/). */
#include "qemu_monitor_priv.h"
#include "tv_error.h"

#include <string.h>

#define JSON_STYLE                                                                                 \
    (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
#define SESSIONS_HEADER "# tagvirt QMP recording, format 1"

struct _TvQemuMonitorScript {
    GArray *entries; /* TvQmpScriptEntry */
};

static const char *const kind_names[] = {
    [TV_QMP_SCRIPT_GREETING] = "greeting",
    [TV_QMP_SCRIPT_COMMAND] = "command",
    [TV_QMP_SCRIPT_REPLY] = "reply",
    [TV_QMP_SCRIPT_EVENT] = "event",
};

static void entry_clear(gpointer p)
{
    json_object_put(((TvQmpScriptEntry *)p)->msg);
}

TvQemuMonitorScript *tv_qemu_monitor_script_new(void)
{
    TvQemuMonitorScript *s = g_new0(TvQemuMonitorScript, 1);
    s->entries = g_array_new(FALSE, TRUE, sizeof(TvQmpScriptEntry));
    g_array_set_clear_func(s->entries, entry_clear);
    return s;
}

void tv_qemu_monitor_script_free(TvQemuMonitorScript *script)
{
    if (!script)
        return;
    g_array_unref(script->entries);
    g_free(script);
}

guint tv_qemu_monitor_script_length(const TvQemuMonitorScript *script)
{
    return script ? script->entries->len : 0;
}

const TvQmpScriptEntry *tv_qemu_monitor_script_entry(const TvQemuMonitorScript *script, guint i)
{
    return &g_array_index(script->entries, TvQmpScriptEntry, i);
}

void tv_qemu_monitor_script_append(TvQemuMonitorScript *script, TvQmpScriptKind kind,
                                   json_object *msg)
{
    /* the monitor reuses its command object: keep a copy */
    TvQmpScriptEntry e = { .kind = kind };
    json_object_deep_copy(msg, &e.msg, NULL);
    g_array_append_val(script->entries, e);
}

bool tv_qemu_monitor_script_has_greeting(const TvQemuMonitorScript *script)
{
    for (guint i = 0; i < script->entries->len; i++) {
        if (tv_qemu_monitor_script_entry(script, i)->kind == TV_QMP_SCRIPT_GREETING)
            return true;
    }
    return false;
}

/* The last command and reply entries: is a command still without reply? */
static bool command_pending(const TvQemuMonitorScript *script)
{
    for (guint i = script->entries->len; i > 0; i--) {
        TvQmpScriptKind k = tv_qemu_monitor_script_entry(script, i - 1)->kind;
        if (k == TV_QMP_SCRIPT_COMMAND)
            return true;
        if (k == TV_QMP_SCRIPT_REPLY)
            return false;
    }
    return false;
}

int tv_qemu_monitor_script_add(TvQemuMonitorScript *script, const char *kind, const char *body,
                               unsigned lineno)
{
    int k = -1;
    for (guint i = 0; i < G_N_ELEMENTS(kind_names); i++) {
        if (g_str_equal(kind, kind_names[i]))
            k = (int)i;
    }
    if (k < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "recording line %u: unknown section '@%s' (expected greeting, command, "
                        "reply or event)",
                        lineno, kind);
        return -1;
    }
    enum json_tokener_error jerr;
    json_object *obj = json_tokener_parse_verbose(body, &jerr);
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "recording line %u: '@%s' is not followed by a JSON object (%s)", lineno,
                        kind, json_tokener_error_desc(jerr));
        return -1;
    }
    const char *problem = NULL;
    if (k == TV_QMP_SCRIPT_COMMAND && command_pending(script))
        problem = "a command without a reply before it";
    else if (k == TV_QMP_SCRIPT_REPLY && !command_pending(script))
        problem = "a reply without a command";
    if (problem) {
        json_object_put(obj);
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "recording line %u: %s", lineno,
                        problem);
        return -1;
    }
    TvQmpScriptEntry e = { .kind = (TvQmpScriptKind)k, .msg = obj };
    g_array_append_val(script->entries, e);
    return 0;
}

int tv_qemu_monitor_script_check(const TvQemuMonitorScript *script)
{
    if (!command_pending(script))
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                    "recording ends with a command that has no reply");
    return -1;
}

void tv_qemu_monitor_script_format(const TvQemuMonitorScript *script, GString *out)
{
    for (guint i = 0; i < script->entries->len; i++) {
        const TvQmpScriptEntry *e = tv_qemu_monitor_script_entry(script, i);
        g_string_append_printf(out, "@%s\n%s\n", kind_names[e->kind],
                               json_object_to_json_string_ext(e->msg, JSON_STYLE));
    }
}

/* One '@kind' section of a sessions file. */
static int sessions_section(GHashTable *sessions, TvQemuMonitorScript **cur, const char *header,
                            GString *body, unsigned lineno)
{
    if (g_str_has_prefix(header, "session ")) {
        const char *name = header + strlen("session ");
        if (!*name || g_hash_table_contains(sessions, name)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "recording line %u: session '%s' has no name or comes twice", lineno,
                            name);
            return -1;
        }
        *cur = tv_qemu_monitor_script_new();
        g_hash_table_insert(sessions, g_strdup(name), *cur);
        return 0;
    }
    if (!*cur) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "recording line %u: '@%s' before the first '@session'", lineno, header);
        return -1;
    }
    return tv_qemu_monitor_script_add(*cur, header, body->str, lineno);
}

GHashTable *tv_qemu_monitor_sessions_parse(const char *text, size_t len)
{
    g_autoptr(GHashTable) sessions = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, (GDestroyNotify)tv_qemu_monitor_script_free);
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    if (!lines[0] || !g_str_equal(lines[0], SESSIONS_HEADER)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "not a tagvirt QMP recording: the first line must be '%s'",
                        SESSIONS_HEADER);
        return NULL;
    }
    TvQemuMonitorScript *cur = NULL;
    g_autoptr(GString) body = g_string_new(NULL);
    g_autofree char *header = NULL;
    unsigned header_line = 0;
    for (unsigned i = 1; lines[i]; i++) {
        const char *l = lines[i];
        if (l[0] == '#')
            continue;
        if (l[0] == '@') {
            if (header && sessions_section(sessions, &cur, header, body, header_line) < 0)
                return NULL;
            g_free(header);
            header = g_strdup(l + 1);
            header_line = i + 1;
            g_string_truncate(body, 0);
            continue;
        }
        if (!header && *l) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "recording line %u: text before the first '@' section", i + 1);
            return NULL;
        }
        g_string_append_printf(body, "%s\n", l);
    }
    if (header && sessions_section(sessions, &cur, header, body, header_line) < 0)
        return NULL;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, sessions);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        if (tv_qemu_monitor_script_check(value) < 0)
            return NULL;
    }
    return g_steal_pointer(&sessions);
}

char *tv_qemu_monitor_sessions_format(const char *comment, const char *const *names,
                                      TvQemuMonitorScript *const *scripts, size_t n)
{
    GString *out = g_string_new(SESSIONS_HEADER "\n");
    if (comment) {
        g_auto(GStrv) lines = g_strsplit(comment, "\n", -1);
        for (char **l = lines; *l; l++)
            g_string_append_printf(out, "# %s\n", *l);
    }
    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(out, "@session %s\n", names[i]);
        tv_qemu_monitor_script_format(scripts[i], out);
    }
    return g_string_free(out, FALSE);
}
