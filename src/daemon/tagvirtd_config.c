#include "tagvirtd_config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "tv_error.h"
#include "tv_file.h"

#define CONFIG_FILE_MAX (1024 * 1024)

typedef enum {
    KEY_UINT,
    KEY_INT, /* min and max are read as gint */
    KEY_PERMS,
    KEY_BOOL,
    KEY_STRING,
    KEY_SERVICE, /* a port: a number, quoted or not, or a "service name" */
    KEY_STRLIST, /* ["a", "b"] */
} KeyType;

typedef struct {
    const char *name;
    KeyType type;
    size_t offset;
    guint min, max;
} ConfigKey;

#define OFF(field) offsetof(TvDaemonConfig, field)

static const ConfigKey keys[] = {
    { "unix_sock_rw_perms", KEY_PERMS, OFF(unix_sock_rw_perms), 0, 0777 },
    { "unix_sock_ro_perms", KEY_PERMS, OFF(unix_sock_ro_perms), 0, 0777 },
    { "max_clients", KEY_UINT, OFF(rpc.max_clients), 1, 1000000 },
    { "max_ro_clients", KEY_UINT, OFF(rpc.max_ro_clients), 0, 1000000 },
    { "max_workers", KEY_UINT, OFF(rpc.max_workers), 1, 1000 },
    { "prio_workers", KEY_UINT, OFF(rpc.prio_workers), 1, 1000 },
    { "max_client_requests", KEY_UINT, OFF(rpc.max_client_requests), 1, 1000 },
    { "max_client_output", KEY_UINT, OFF(rpc.max_client_output), 4096, 1u << 30 },
    { "keepalive_interval", KEY_INT, OFF(rpc.keepalive_interval), (guint)-1, 3600 },
    { "keepalive_count", KEY_UINT, OFF(rpc.keepalive_count), 0, 1000 },
    { "handshake_timeout", KEY_UINT, OFF(rpc.handshake_timeout), 0, 86400 },
    { "message_timeout", KEY_UINT, OFF(rpc.message_timeout), 0, 86400 },
    { "log_level", KEY_UINT, OFF(log_level), 1, 4 },
    { "emulator", KEY_STRING, OFF(emulator), 0, 0 },
    { "host_root", KEY_STRING, OFF(host_root), 0, 0 },
    { "autostart", KEY_BOOL, OFF(autostart), 0, 1 },
    { "prefork_qemu", KEY_BOOL, OFF(prefork_qemu), 0, 1 },
    { "user", KEY_STRING, OFF(user), 0, 0 },
    { "group", KEY_STRING, OFF(group), 0, 0 },
    { "seccomp_sandbox", KEY_BOOL, OFF(seccomp_sandbox), 0, 1 },
    { "namespaces", KEY_STRING, OFF(namespaces), 0, 0 },
    { "dynamic_ownership", KEY_BOOL, OFF(dynamic_ownership), 0, 1 },
    { "security_driver", KEY_STRING, OFF(security_driver), 0, 0 },
    { "storage_pool_roots", KEY_STRING, OFF(storage_pool_roots), 0, 0 },
    { "default_network", KEY_BOOL, OFF(default_network), 0, 1 },
    { "listen_tls", KEY_BOOL, OFF(listen_tls), 0, 1 },
    { "listen_addr", KEY_STRING, OFF(listen_addr), 0, 0 },
    { "tls_port", KEY_SERVICE, OFF(tls_port), 0, 0 },
    { "auth_tls", KEY_STRING, OFF(auth_tls), 0, 0 },
    { "ca_file", KEY_STRING, OFF(ca_file), 0, 0 },
    { "cert_file", KEY_STRING, OFF(cert_file), 0, 0 },
    { "key_file", KEY_STRING, OFF(key_file), 0, 0 },
    { "crl_file", KEY_STRING, OFF(crl_file), 0, 0 },
    { "tls_no_verify_certificate", KEY_BOOL, OFF(tls_no_verify_certificate), 0, 1 },
    { "tls_no_sanity_certificate", KEY_BOOL, OFF(tls_no_sanity_certificate), 0, 1 },
    { "tls_allowed_dn_list", KEY_STRLIST, OFF(tls_allowed_dn_list), 0, 0 },
    { "tls_priority", KEY_STRING, OFF(tls_priority), 0, 0 },
    { "allow_broken_tag_storage", KEY_BOOL, OFF(allow_broken_tag_storage), 0, 1 },
    { "job_wait_ms", KEY_UINT, OFF(job_wait_ms), 100, 3600000 },
    { "migration_port_min", KEY_UINT, OFF(migration_port_min), 1, 65535 },
    { "migration_port_max", KEY_UINT, OFF(migration_port_max), 1, 65535 },
    { "migration_address", KEY_STRING, OFF(migration_address), 0, 0 },
    { "migration_incoming_timeout", KEY_UINT, OFF(migration_incoming_timeout), 1, 86400 },
    { "migrate_tls_x509_cert_dir", KEY_STRING, OFF(migrate_tls_x509_cert_dir), 0, 0 },
    { "migrate_tls_x509_verify", KEY_BOOL, OFF(migrate_tls_x509_verify), 0, 1 },
};

void tv_daemon_config_init(TvDaemonConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    tv_rpc_server_config_init(&cfg->rpc);
    cfg->unix_sock_rw_perms = 0600;
    cfg->unix_sock_ro_perms = 0666;
    cfg->log_level = 3;
    cfg->autostart = TRUE;
    /* one preloaded QEMU's layout shared by every guest: an opt-in (docs/security.rst) */
    cfg->prefork_qemu = FALSE;
    cfg->seccomp_sandbox = TRUE;
    cfg->dynamic_ownership = TRUE;
    cfg->default_network = -1;       /* on for the system daemon, off under --root */
    cfg->listen_tls = TRUE;          /* as libvirtd: only with --listen */
    cfg->job_wait_ms = 30000;        /* libvirt's */
    cfg->migration_port_min = 49152; /* libvirt's */
    cfg->migration_port_max = 49215;
    cfg->migration_incoming_timeout = 120;
    cfg->migrate_tls_x509_verify = TRUE; /* libvirt's default_tls_x509_verify */
}

void tv_daemon_config_clear(TvDaemonConfig *cfg)
{
    g_clear_pointer(&cfg->emulator, g_free);
    g_clear_pointer(&cfg->host_root, g_free);
    g_clear_pointer(&cfg->user, g_free);
    g_clear_pointer(&cfg->group, g_free);
    g_clear_pointer(&cfg->namespaces, g_free);
    g_clear_pointer(&cfg->security_driver, g_free);
    g_clear_pointer(&cfg->storage_pool_roots, g_free);
    g_clear_pointer(&cfg->listen_addr, g_free);
    g_clear_pointer(&cfg->migration_address, g_free);
    g_clear_pointer(&cfg->migrate_tls_x509_cert_dir, g_free);
    g_clear_pointer(&cfg->tls_port, g_free);
    g_clear_pointer(&cfg->auth_tls, g_free);
    g_clear_pointer(&cfg->ca_file, g_free);
    g_clear_pointer(&cfg->cert_file, g_free);
    g_clear_pointer(&cfg->key_file, g_free);
    g_clear_pointer(&cfg->crl_file, g_free);
    g_clear_pointer(&cfg->tls_allowed_dn_list, g_strfreev);
    g_clear_pointer(&cfg->tls_priority, g_free);
}

static char *key_list(void)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", keys[i].name);
    return g_string_free(s, FALSE);
}

static const ConfigKey *find_key(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* "text" -> text with \" and \\ undone; NULL when not a closed quoted string */
static char *unquote(const char *value)
{
    size_t len = strlen(value);
    if (len < 2 || value[0] != '"' || value[len - 1] != '"')
        return NULL;
    GString *s = g_string_new(NULL);
    for (size_t i = 1; i < len - 1; i++) {
        if (value[i] == '\\' && i + 1 < len - 1)
            i++;
        else if (value[i] == '"') {
            g_string_free(s, TRUE);
            return NULL;
        }
        g_string_append_c(s, value[i]);
    }
    return g_string_free(s, FALSE);
}

/* ["a", "b"] (spaces and a trailing comma allowed) -> a NULL-terminated
 * list; NULL when it is not one. */
static char **parse_list(const char *value)
{
    size_t len = strlen(value);
    if (len < 2 || value[0] != '[' || value[len - 1] != ']')
        return NULL;
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
    const char *p = value + 1, *end = value + len - 1;
    for (;;) {
        while (p < end && g_ascii_isspace(*p))
            p++;
        if (p == end)
            break;
        if (*p != '"')
            return NULL;
        const char *q = p + 1;
        while (q < end && *q != '"')
            q += *q == '\\' && q + 1 < end ? 2 : 1;
        if (q >= end)
            return NULL;
        g_autofree char *quoted = g_strndup(p, (gsize)(q - p + 1));
        char *item = unquote(quoted);
        if (!item)
            return NULL;
        g_ptr_array_add(items, item);
        p = q + 1;
        while (p < end && g_ascii_isspace(*p))
            p++;
        if (p < end && *p != ',')
            return NULL;
        if (p < end)
            p++;
    }
    g_ptr_array_add(items, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&items), FALSE);
}

static int set_value(TvDaemonConfig *cfg, const ConfigKey *key, const char *value,
                     const char *where)
{
    char *field = (char *)cfg + key->offset;
    if (key->type == KEY_STRLIST) {
        char **list = parse_list(value);
        if (!list) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: %s must be a list of \"quoted strings\" such as [\"a\", \"b\"], "
                            "not '%s'",
                            where, key->name, value);
            return -1;
        }
        g_strfreev(*(char ***)field);
        *(char ***)field = list;
        return 0;
    }
    if (key->type == KEY_SERVICE) {
        g_autofree char *text = unquote(value);
        const char *v = text ? text : value;
        guint64 n;
        gboolean number = g_ascii_string_to_unsigned(v, 10, 0, 65535, &n, NULL);
        gboolean name = text && *v && g_ascii_isalpha(*v) && !strpbrk(v, " \t/:");
        if (!number && !name) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: %s must be a port number from 0 to 65535 or a \"service "
                            "name\", not '%s'",
                            where, key->name, value);
            return -1;
        }
        g_free(*(char **)field);
        *(char **)field = g_strdup(v);
        return 0;
    }
    if (key->type == KEY_STRING) {
        char *text = unquote(value);
        if (!text) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: %s must be a \"quoted string\", not '%s'", where, key->name,
                            value);
            return -1;
        }
        g_free(*(char **)field);
        *(char **)field = text;
        return 0;
    }

    /* numbers may be quoted too ("0660" as libvirtd.conf writes permissions) */
    g_autofree char *unquoted = unquote(value);
    const char *digits = unquoted ? unquoted : value;
    if (key->type == KEY_INT) {
        gint64 n;
        if (!*digits ||
            !g_ascii_string_to_signed(digits, 10, (gint)key->min, (gint)key->max, &n, NULL)) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: %s must be a number from %d to %d, not '%s'", where, key->name,
                            (gint)key->min, (gint)key->max, value);
            return -1;
        }
        *(gint *)field = (gint)n;
        return 0;
    }
    guint base = key->type == KEY_PERMS ? 8 : 10;
    guint64 n;
    if (!*digits || !g_ascii_string_to_unsigned(digits, base, key->min, key->max, &n, NULL)) {
        if (key->type == KEY_PERMS)
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: %s must be octal permissions from 0 to 0%o, not '%s'", where,
                            key->name, key->max, value);
        else
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: %s must be a number from %u to %u, not '%s'", where, key->name,
                            key->min, key->max, value);
        return -1;
    }
    if (key->type == KEY_BOOL)
        *(gboolean *)field = n != 0;
    else
        *(guint *)field = (guint)n;
    return 0;
}

/* What no single key can check. */
static int check_keys(const TvDaemonConfig *cfg, const char *name)
{
    const TvRpcServerConfig *rpc = &cfg->rpc;
    if (rpc->max_ro_clients != TV_RPC_SERVER_DERIVED && rpc->max_ro_clients >= rpc->max_clients) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s: max_ro_clients (%u) must be below max_clients (%u): the slots "
                        "between them are kept for the read-write socket",
                        name, rpc->max_ro_clients, rpc->max_clients);
        return -1;
    }
    if (cfg->auth_tls && !g_str_equal(cfg->auth_tls, "none")) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s: auth_tls \"%s\" is not supported; accepted: \"none\" (the client "
                        "certificate is the authentication)",
                        name, cfg->auth_tls);
        return -1;
    }
    if (cfg->migration_port_min > cfg->migration_port_max) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s: migration_port_min (%u) must not be above migration_port_max (%u)",
                        name, cfg->migration_port_min, cfg->migration_port_max);
        return -1;
    }
    if (cfg->tls_allowed_dn_list && !cfg->tls_allowed_dn_list[0]) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s: tls_allowed_dn_list is empty, so no client could connect; leave "
                        "it out to allow every certificate the CA signed",
                        name);
        return -1;
    }
    return 0;
}

int tv_daemon_config_parse(TvDaemonConfig *cfg, const char *name, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autofree char *where = g_strdup_printf("%s:%u", name, i + 1);
        char *line = g_strstrip(lines[i]);
        /* a list may go on over several lines, as in libvirtd.conf */
        g_autofree char *joined = NULL;
        if (*line != '#' && strchr(line, '[') && !strchr(line, ']')) {
            GString *all = g_string_new(line);
            while (lines[i + 1] && !strchr(all->str, ']'))
                g_string_append_printf(all, " %s", g_strstrip(lines[++i]));
            line = joined = g_string_free(all, FALSE);
        }
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: expected 'key = value', got '%s'", where, line);
            return -1;
        }
        *eq = '\0';
        char *key_name = g_strstrip(line);
        char *value = g_strstrip(eq + 1);
        /* a comment after an unquoted value */
        if (*value != '"' && *value != '[') {
            char *hash = strchr(value, '#');
            if (hash) {
                *hash = '\0';
                value = g_strstrip(value);
            }
        }
        const ConfigKey *key = find_key(key_name);
        if (!key) {
            g_autofree char *accepted = key_list();
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: unknown key '%s'; accepted: %s", where, key_name, accepted);
            return -1;
        }
        if (set_value(cfg, key, value, where) < 0)
            return -1;
    }
    return check_keys(cfg, name);
}

int tv_daemon_config_load(TvDaemonConfig *cfg, const char *path, gboolean must_exist)
{
    if (!must_exist && !g_file_test(path, G_FILE_TEST_EXISTS))
        return 0;
    g_autofree char *text = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, CONFIG_FILE_MAX, &text, &len) < 0)
        return -1;
    if (memchr(text, '\0', len)) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s: contains a NUL byte; expected a text file", path);
        return -1;
    }
    return tv_daemon_config_parse(cfg, path, text);
}
