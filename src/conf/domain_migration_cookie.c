#include "domain_migration_cookie.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

void tv_migration_cookie_clear(TvMigrationCookie *c)
{
    g_free(c->name);
    tv_domain_guest_abi_clear(&c->abi);
    memset(c, 0, sizeof(*c));
}

/* <statistics>'s attributes, in order, and where each lives */
#define STAT(name, field)                                                                          \
    {                                                                                              \
        name, G_STRUCT_OFFSET(TvMigrationStats, field)                                             \
    }
static const struct {
    const char *name;
    gsize offset;
} stat_attrs[] = {
    STAT("elapsed", elapsed),
    STAT("downtime", downtime),
    STAT("setup", setup),
    STAT("data-total", data_total),
    STAT("data-processed", data_processed),
    STAT("data-remaining", data_remaining),
    STAT("mem-bps", mem_bps),
    STAT("mem-iteration", mem_iteration),
    STAT("mem-page-size", mem_page_size),
    STAT("mem-constant", mem_constant),
    STAT("mem-normal", mem_normal),
    STAT("mem-normal-bytes", mem_normal_bytes),
};
#undef STAT

static unsigned long long *stat_field(TvMigrationStats *st, gsize i)
{
    return G_STRUCT_MEMBER_P(st, stat_attrs[i].offset);
}

static void format_stats(TvXmlWriter *w, const TvMigrationStats *st)
{
    GString *line = g_string_new("<statistics");
    for (gsize i = 0; i < G_N_ELEMENTS(stat_attrs); i++)
        g_string_append_printf(line, " %s='%llu'", stat_attrs[i].name,
                               *stat_field((TvMigrationStats *)st, i));
    g_string_append(line, "/>");
    tv_xml_line(w, "%s", line->str);
    g_string_free(line, TRUE);
}

static int parse_stats(xmlNodePtr node, TvMigrationStats *st)
{
    const char *allowed[G_N_ELEMENTS(stat_attrs) + 1];
    for (gsize i = 0; i < G_N_ELEMENTS(stat_attrs); i++)
        allowed[i] = stat_attrs[i].name;
    allowed[G_N_ELEMENTS(stat_attrs)] = NULL;
    static const char *const no_children[] = { NULL };
    if (tv_xml_check_attrs(node, allowed) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0)
        return -1;
    for (gsize i = 0; i < G_N_ELEMENTS(stat_attrs); i++) {
        g_autofree char *v = tv_xml_prop(node, stat_attrs[i].name);
        if (!v)
            continue;
        g_autofree char *what =
            g_strdup_printf("attribute '%s' of <statistics>", stat_attrs[i].name);
        if (tv_parse_ull(v, 0, G_MAXUINT64, what, stat_field(st, i)) < 0)
            return -1;
    }
    return 0;
}

char *tv_migration_cookie_format(const TvMigrationCookie *c)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_xml_line(&w, "<tagvirt-migration version='1'>");
    w.indent++;
    g_autofree char *name = tv_xml_esc(c->name);
    tv_xml_line(&w, "<name>%s</name>", name);
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(c->uuid, uuid);
    tv_xml_line(&w, "<uuid>%s</uuid>", uuid);
    tv_domain_guest_abi_format(&w, &c->abi);
    if (c->has_stats)
        format_stats(&w, &c->stats);
    w.indent--;
    tv_xml_line(&w, "</tagvirt-migration>");
    return tv_xml_writer_finish(&w);
}

static int cookie_error(const char *what)
{
    tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR, "migration cookie: %s", what);
    return -1;
}

static int parse_root(xmlNodePtr root, TvMigrationCookie *c)
{
    static const char *const attrs[] = { "version", NULL };
    static const char *const children[] = { "name", "uuid", "guestabi", "statistics", NULL };
    static const char *const required[] = { "name", "uuid", "guestabi", NULL };
    if (!root || strcmp((const char *)root->name, "tagvirt-migration") != 0)
        return cookie_error("expected a <tagvirt-migration> element (the source is not a "
                            "tagvirt daemon, or speaks another cookie)");
    if (tv_xml_check_attrs(root, attrs) < 0 || tv_xml_check_children(root, children, false) < 0)
        return -1;
    g_autofree char *version = tv_xml_prop(root, "version");
    if (g_strcmp0(version, "1") != 0) {
        g_autofree char *msg =
            g_strdup_printf("version '%s' is not supported; accepted: '1'", version ? version : "");
        return cookie_error(msg);
    }
    for (const char *const *n = required; *n; n++)
        if (tv_xml_child_count(root, *n) != 1) {
            g_autofree char *msg = g_strdup_printf("exactly one <%s> is required", *n);
            return cookie_error(msg);
        }
    c->name = tv_xml_text(tv_xml_child(root, "name"));
    if (!c->name || !*c->name)
        return cookie_error("<name> is empty");
    g_autofree char *uuid = tv_xml_text(tv_xml_child(root, "uuid"));
    if (!uuid || tv_uuid_parse(uuid, c->uuid) < 0) {
        g_autofree char *msg = g_strdup_printf("invalid <uuid> '%s'", uuid ? uuid : "");
        return cookie_error(msg);
    }
    if (tv_domain_guest_abi_parse(tv_xml_child(root, "guestabi"), &c->abi) < 0) {
        tv_error_prefix("migration cookie");
        return -1;
    }
    int nstats = tv_xml_child_count(root, "statistics");
    if (nstats > 1)
        return cookie_error("at most one <statistics> is accepted");
    if (nstats == 1) {
        if (parse_stats(tv_xml_child(root, "statistics"), &c->stats) < 0) {
            tv_error_prefix("migration cookie");
            return -1;
        }
        c->has_stats = true;
    }
    return 0;
}

int tv_migration_cookie_parse(const char *buf, size_t len, TvMigrationCookie *c)
{
    memset(c, 0, sizeof(*c));
    if (len > 0 && buf[len - 1] == '\0')
        len--;
    if (!buf || len == 0)
        return cookie_error("none was sent (the source must be a tagvirt daemon)");
    if (len > TV_MIGRATION_COOKIE_MAX) {
        g_autofree char *msg =
            g_strdup_printf("%zu bytes, more than the %d accepted", len, TV_MIGRATION_COOKIE_MAX);
        return cookie_error(msg);
    }
    if (memchr(buf, '\0', len))
        return cookie_error("a NUL byte inside the XML");
    g_autoptr(xmlDoc) doc = tv_xml_parse(buf, len, "migration cookie");
    if (!doc)
        return -1;
    if (parse_root(xmlDocGetRootElement(doc), c) < 0) {
        tv_migration_cookie_clear(c);
        return -1;
    }
    return 0;
}
