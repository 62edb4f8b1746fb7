/* Resolving the confinement settings; see qemu_security.h. */
#include "qemu_security_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tv_qemu_security_free(TvQemuSecurity *sec)
{
    if (!sec)
        return;
    g_free(sec->user_name);
    g_free(sec->group_name);
    g_free(sec->groups);
    g_free(sec);
}

/* "+123" is a number, anything else a name */
static bool parse_numeric(const char *s, guint64 *out)
{
    return s[0] == '+' && g_ascii_string_to_unsigned(s + 1, 10, 0, G_MAXINT32, out, NULL);
}

static int resolve_user(TvQemuSecurity *sec, const char *user)
{
    guint64 n;
    struct passwd *pw = parse_numeric(user, &n) ? getpwuid((uid_t)n) : getpwnam(user);
    if (!pw && parse_numeric(user, &n)) {
        /* a bare uid without a passwd entry: allowed, as libvirt's "+N" */
        sec->uid = (uid_t)n;
        sec->gid = (gid_t)n;
        sec->user_name = g_strdup(user);
        return 0;
    }
    if (!pw) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "QEMU's user '%s' does not exist: create it (the installed "
                        "sysusers.d/tagvirt.conf, or scripts/install-deps.sh, makes '%s'), name "
                        "another with 'user' in tagvirtd.conf, or set user = \"root\" to run QEMU "
                        "as root (docs/security.rst)",
                        user, TV_QEMU_SECURITY_DEFAULT_USER);
        return -1;
    }
    sec->uid = pw->pw_uid;
    sec->gid = pw->pw_gid;
    sec->user_name = g_strdup(pw->pw_name);
    int ngroups = 64;
    g_autofree gid_t *groups = g_new(gid_t, ngroups);
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0) {
        groups = g_renew(gid_t, groups, ngroups);
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
            ngroups = 0;
    }
    sec->groups = g_steal_pointer(&groups);
    sec->ngroups = (size_t)MAX(ngroups, 0);
    return 0;
}

static int resolve_group(TvQemuSecurity *sec, const char *group)
{
    guint64 n;
    if (parse_numeric(group, &n)) {
        sec->gid = (gid_t)n;
        sec->group_name = g_strdup(group);
        return 0;
    }
    struct group *gr = getgrnam(group);
    if (!gr) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "QEMU's group '%s' does not exist: create it, or name another with "
                        "'group' in tagvirtd.conf",
                        group);
        return -1;
    }
    sec->gid = gr->gr_gid;
    sec->group_name = g_strdup(gr->gr_name);
    return 0;
}

static void fill_group_name(TvQemuSecurity *sec)
{
    if (sec->group_name)
        return;
    struct group *gr = getgrgid(sec->gid);
    sec->group_name = gr ? g_strdup(gr->gr_name) : g_strdup_printf("+%u", (unsigned)sec->gid);
}

TvQemuSecurity *tv_qemu_security_new_caller(void)
{
    TvQemuSecurity *sec = g_new0(TvQemuSecurity, 1);
    sec->uid = geteuid();
    sec->gid = getegid();
    struct passwd *pw = getpwuid(sec->uid);
    sec->user_name = pw ? g_strdup(pw->pw_name) : g_strdup_printf("+%u", (unsigned)sec->uid);
    fill_group_name(sec);
    sec->sandbox = true;
    return sec;
}

TvQemuSecurity *tv_qemu_security_new(const TvQemuSecurityConfig *cfg)
{
    g_autoptr(TvQemuSecurity) sec = tv_qemu_security_new_caller();
    sec->sandbox = cfg->sandbox;
    const char *user = cfg->user ? cfg->user : TV_QEMU_SECURITY_DEFAULT_USER;
    if (geteuid() != 0) {
        /* an unprivileged manager cannot change users: QEMU runs as it */
        if (cfg->user && g_strcmp0(cfg->user, sec->user_name) != 0) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "QEMU cannot run as user '%s': this process runs as '%s' and is not "
                            "root; leave 'user' unset",
                            cfg->user, sec->user_name);
            return NULL;
        }
        return g_steal_pointer(&sec);
    }
    if (g_strcmp0(user, "root") != 0 && g_strcmp0(user, "+0") != 0) {
        g_clear_pointer(&sec->user_name, g_free);
        g_clear_pointer(&sec->group_name, g_free);
        if (resolve_user(sec, user) < 0)
            return NULL;
        sec->change_user = true;
    }
    if (cfg->group && resolve_group(sec, cfg->group) < 0)
        return NULL;
    if (cfg->group && !sec->change_user && sec->gid != 0)
        sec->change_user = true; /* root with another group */
    fill_group_name(sec);
    sec->mount_namespace = cfg->mount_namespace;
    sec->dynamic_ownership = cfg->dynamic_ownership && sec->change_user;
    if (cfg->apparmor != TV_QEMU_APPARMOR_OFF) {
        g_autofree char *why = NULL;
        sec->apparmor = tv_qemu_apparmor_available(&why);
        if (!sec->apparmor && cfg->apparmor == TV_QEMU_APPARMOR_REQUIRED) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "security_driver = \"apparmor\" but %s", why);
            return NULL;
        }
    }
    return g_steal_pointer(&sec);
}

bool tv_qemu_security_sandbox(const TvQemuSecurity *sec)
{
    return sec && sec->sandbox;
}

uid_t tv_qemu_security_uid(const TvQemuSecurity *sec)
{
    return sec ? sec->uid : geteuid();
}

gid_t tv_qemu_security_gid(const TvQemuSecurity *sec)
{
    return sec ? sec->gid : getegid();
}

bool tv_qemu_security_changes_user(const TvQemuSecurity *sec)
{
    return sec && sec->change_user;
}

bool tv_qemu_security_dynamic_ownership(const TvQemuSecurity *sec)
{
    return sec && sec->dynamic_ownership;
}

bool tv_qemu_security_mount_namespace(const TvQemuSecurity *sec)
{
    return sec && sec->mount_namespace;
}

bool tv_qemu_security_apparmor(const TvQemuSecurity *sec)
{
    return sec && sec->apparmor;
}

char *tv_qemu_security_describe(const TvQemuSecurity *sec)
{
    if (!sec)
        return g_strdup("as the calling user, not confined");
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "user %s, group %s (uid %u, gid %u)", sec->user_name, sec->group_name,
                           (unsigned)sec->uid, (unsigned)sec->gid);
    g_string_append(s, sec->sandbox ? ", seccomp sandbox" : ", no seccomp sandbox");
    g_string_append(s, ", own session");
    if (sec->mount_namespace)
        g_string_append(s, ", private mount namespace with a minimal /dev");
    if (sec->dynamic_ownership)
        g_string_append(s, ", files given to it at start and back at stop");
    if (sec->apparmor)
        g_string_append(s, ", AppArmor profile");
    return g_string_free(s, FALSE);
}
