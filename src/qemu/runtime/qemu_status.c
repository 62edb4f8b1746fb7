/* Status file: format, parse, atomic write, and is its pid still our QEMU. */
#include "qemu_status.h"
#include "qemu_command.h"
#include "qemu_process.h"
#include "tv_error.h"
#include "tv_file.h"
#include "tv_xml.h"

#include <errno.h>
#include <string.h>

#define CMDLINE_MAX (256 * 1024)

void tv_qemu_status_free(TvQemuStatus *st)
{
    if (!st)
        return;
    g_free(st->monitor_path);
    g_free(st->log_path);
    tv_qemu_caps_fingerprint_clear(&st->fingerprint);
    g_free(st->console_path);
    tv_domain_def_free(st->def);
    g_free(st);
}

char *tv_qemu_status_format(const TvQemuStatus *st)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    g_autofree char *mon = tv_xml_esc(st->monitor_path);
    g_autofree char *log = tv_xml_esc(st->log_path);
    tv_xml_line(&w,
                "<domstatus state='%s' reason='%s' pid='%d' starttime='%llu' monitor='%s' "
                "log='%s'>",
                tv_domain_state_to_string(st->state),
                tv_domain_reason_to_string(st->state, st->reason), (int)st->pid, st->start_time,
                mon, log);
    w.indent++;
    tv_qemu_caps_fingerprint_format(&w, &st->fingerprint);
    if (st->console_path) {
        g_autofree char *cons = tv_xml_esc(st->console_path);
        tv_xml_line(&w, "<console port='0' path='%s'/>", cons);
    }
    /* in the same writer: text of several lines (a <description>) is kept as
     * it is, where indenting each line of the formatted domain changed it at
     * every rewrite */
    tv_domain_def_format_into(&w, st->def, TV_DOMAIN_FORMAT_STATUS);
    w.indent--;
    tv_xml_line(&w, "</domstatus>");
    return tv_xml_writer_finish(&w);
}

static int parse_ll(xmlNodePtr node, const char *attr, long long *out)
{
    g_autofree char *v = tv_xml_prop(node, attr);
    g_autofree char *what = g_strdup_printf("attribute '%s' of <%s>", attr, node->name);
    unsigned long long n = 0;
    if (!v) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "status file: missing %s", what);
        return -1;
    }
    if (tv_parse_ull(v, 0, G_MAXINT64, what, &n) < 0)
        return -1;
    *out = (long long)n;
    return 0;
}

static int parse_state(xmlNodePtr root, TvQemuStatus *st)
{
    g_autofree char *state = tv_xml_prop(root, "state");
    g_autofree char *reason = tv_xml_prop(root, "reason");
    st->state = state ? tv_domain_state_from_string(state) : -1;
    if (st->state < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                        "status file: attribute 'state' of <domstatus> is '%s'; expected "
                        "'running', 'paused', ...",
                        state ? state : "(missing)");
        return -1;
    }
    st->reason = reason ? tv_domain_reason_from_string(st->state, reason) : 0;
    if (st->reason < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                        "status file: reason '%s' is not known for state '%s'", reason, state);
        return -1;
    }
    return 0;
}

/* The <domain> child serialised again for the domain parser. */
static TvDomainDef *parse_domain(xmlDocPtr doc, xmlNodePtr node)
{
    if (!node) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "status file: missing <domain>");
        return NULL;
    }
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, node, 0, 0);
    TvDomainDef *def = tv_domain_def_parse((const char *)xmlBufferContent(buf),
                                           (size_t)xmlBufferLength(buf), TV_DOMAIN_PARSE_STATUS);
    xmlBufferFree(buf);
    if (!def)
        tv_error_prefix("status file");
    return def;
}

TvQemuStatus *tv_qemu_status_parse(const char *xml, size_t len)
{
    xmlDocPtr doc = tv_xml_parse(xml, len, "status file");
    if (!doc)
        return NULL;
    g_autoptr(TvQemuStatus) st = g_new0(TvQemuStatus, 1);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    static const char *const attrs[] = { "state",   "reason", "pid", "starttime",
                                         "monitor", "log",    NULL };
    static const char *const children[] = { "fingerprint", "console", "domain", NULL };
    long long pid = 0, start = 0;
    int ret = -1;
    if (strcmp((const char *)root->name, "domstatus") != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                        "status file: root element is <%s>; expected <domstatus>", root->name);
        goto out;
    }
    if (tv_xml_check_attrs(root, attrs) < 0 || tv_xml_check_children(root, children, false) < 0 ||
        parse_state(root, st) < 0 || parse_ll(root, "pid", &pid) < 0 ||
        parse_ll(root, "starttime", &start) < 0)
        goto out;
    /* pid 0: a start that has not spawned QEMU yet (tv_qemu_status_is_start) */
    if ((pid <= 1 && !(pid == 0 && tv_qemu_status_is_start(st))) || pid > G_MAXINT32) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "status file: pid %lld is not valid", pid);
        goto out;
    }
    st->pid = (pid_t)pid;
    st->start_time = (unsigned long long)start;
    st->monitor_path = tv_xml_prop(root, "monitor");
    st->log_path = tv_xml_prop(root, "log");
    if (!st->monitor_path) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                        "status file: missing attribute 'monitor' of <domstatus>");
        goto out;
    }
    if (tv_qemu_caps_fingerprint_parse(tv_xml_child(root, "fingerprint"), &st->fingerprint) < 0) {
        tv_error_prefix("status file");
        goto out;
    }
    xmlNodePtr cons = tv_xml_child(root, "console");
    if (cons)
        st->console_path = tv_xml_prop(cons, "path");
    st->def = parse_domain(doc, tv_xml_child(root, "domain"));
    if (st->def)
        ret = 0;
out:
    xmlFreeDoc(doc);
    return ret == 0 ? g_steal_pointer(&st) : NULL;
}

bool tv_qemu_status_is_start(const TvQemuStatus *st)
{
    return st->state == TV_DOMAIN_STATE_PAUSED && st->reason == TV_DOMAIN_PAUSED_STARTING_UP;
}

int tv_qemu_state_check_len(const char *what, size_t len)
{
    if (len > TV_QEMU_STATE_FILE_MAX) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s would be %zu bytes: the limit is %d bytes, the largest file tagvirt "
                        "reads back",
                        what, len, TV_QEMU_STATE_FILE_MAX);
        return -1;
    }
    return 0;
}

int tv_qemu_state_check_def(const TvDomainDef *def)
{
    /* as the two files hold it: plain, and one level down in <domstatus> */
    size_t max = TV_QEMU_STATE_FILE_MAX - TV_QEMU_STATUS_RESERVE;
    g_autofree char *plain = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    w.indent = 1;
    tv_domain_def_format_into(&w, def, TV_DOMAIN_FORMAT_STATUS);
    g_autofree char *status = tv_xml_writer_finish(&w);
    size_t len = MAX(strlen(plain), strlen(status));
    if (len > max) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "the definition of domain '%s' is %zu bytes as tagvirt stores it: at most "
                        "%zu bytes are accepted (a file of %d bytes, less %d for the state "
                        "recorded beside it), so that it can be read back and returned by "
                        "dumpxml; shorten the <description> or other text",
                        def->name, len, max, TV_QEMU_STATE_FILE_MAX, TV_QEMU_STATUS_RESERVE);
        return -1;
    }
    return 0;
}

int tv_qemu_status_write(const char *path, const TvQemuStatus *st)
{
    g_autofree char *xml = tv_qemu_status_format(st);
    size_t len = strlen(xml);
    g_autofree char *what = g_strdup_printf("status file '%s'", path);
    if (tv_qemu_state_check_len(what, len) < 0)
        return -1;
    return tv_file_write_atomic(path, xml, len, 0600);
}

TvQemuStatus *tv_qemu_status_read(const char *path)
{
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, TV_QEMU_STATE_FILE_MAX, &xml, &len) < 0)
        return NULL;
    TvQemuStatus *st = tv_qemu_status_parse(xml, len);
    if (!st)
        tv_error_prefix("%s", path);
    return st;
}

int tv_qemu_proc_stat(pid_t pid, unsigned long long *start_time, char *state, pid_t *ppid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    /* the command name may hold spaces and ')': fields start after the last ')' */
    const char *p = strrchr(text, ')');
    if (!p)
        return -1;
    g_auto(GStrv) fields = g_strsplit(p + 2, " ", 0);
    /* fields[0] is field 3 (state), so field N is fields[N - 3] */
    if (g_strv_length(fields) < 20)
        return -1;
    if (state)
        *state = fields[0][0];
    if (ppid)
        *ppid = (pid_t)g_ascii_strtoll(fields[1], NULL, 10);
    if (start_time)
        *start_time = g_ascii_strtoull(fields[19], NULL, 10);
    return 0;
}

bool tv_qemu_cmdline_names_guest(const char *cmdline, size_t len, const char *name)
{
    g_autofree char *esc = tv_qemu_escape_opt(name);
    g_autofree char *want = g_strdup_printf("guest=%s", esc);
    size_t want_len = strlen(want);
    bool after_name = false;
    for (size_t off = 0; off < len;) {
        const char *arg = cmdline + off;
        size_t n = strnlen(arg, len - off);
        if (after_name && n >= want_len && strncmp(arg, want, want_len) == 0 &&
            (arg[want_len] == ',' || arg[want_len] == '\0'))
            return true;
        after_name = strcmp(arg, "-name") == 0;
        off += n + 1;
    }
    return false;
}

bool tv_qemu_cmdline_has_monitor(const char *cmdline, size_t len, const char *monitor_path)
{
    g_autofree char *esc = tv_qemu_escape_opt(monitor_path);
    g_autofree char *want = g_strdup_printf("path=%s", esc);
    size_t want_len = strlen(want);
    for (size_t off = 0; off < len;) {
        const char *arg = cmdline + off;
        size_t n = strnlen(arg, len - off);
        /* an option of the -chardev: after a ',' (or first), up to a ',' (or last) */
        for (const char *p = arg; (p = strstr(p, want)) && p < arg + n; p++) {
            bool starts = p == arg || (p[-1] == ',' && (p - 1 == arg || p[-2] != ','));
            if (starts && (p[want_len] == ',' || p[want_len] == '\0'))
                return true;
        }
        off += n + 1;
    }
    return false;
}

TvQemuStatusPid tv_qemu_status_check_pid(const TvQemuStatus *st, char **why)
{
    unsigned long long start = 0;
    char state = 0;
    if (tv_qemu_proc_stat(st->pid, &start, &state, NULL) < 0 || state == 'Z' || state == 'X') {
        if (why)
            *why = g_strdup_printf("process %d is gone", (int)st->pid);
        return TV_QEMU_STATUS_PID_GONE;
    }
    if (start != st->start_time) {
        if (why)
            *why = g_strdup_printf("process %d started at tick %llu, not at %llu as recorded: "
                                   "the pid was reused by another program",
                                   (int)st->pid, start, st->start_time);
        return TV_QEMU_STATUS_PID_OTHER;
    }
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)st->pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &cmdline, &len, NULL) || len > CMDLINE_MAX ||
        !tv_qemu_cmdline_names_guest(cmdline, len, st->def->name)) {
        if (why)
            *why = g_strdup_printf("process %d is not QEMU for domain '%s' (its command line "
                                   "has no '-name guest=%s')",
                                   (int)st->pid, st->def->name, st->def->name);
        return TV_QEMU_STATUS_PID_OTHER;
    }
    return TV_QEMU_STATUS_PID_ALIVE;
}
