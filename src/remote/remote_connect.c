/* Connection-level procedures: they work without a hypervisor driver. */
#include "remote_priv.h"

#include <string.h>

/* CONNECT_OPEN flags: libvirt's VIR_CONNECT_RO and VIR_CONNECT_NO_ALIASES */
#define OPEN_READONLY   1u
#define OPEN_NO_ALIASES 2u

/* CONNECT_SUPPORTS_FEATURE numbers */
enum {
    FEATURE_MIGRATION_P2P = 4,
    FEATURE_MIGRATION_V3 = 6,
    FEATURE_FD_PASSING = 8,
    FEATURE_TYPED_PARAM_STRING = 9,
    FEATURE_XML_MIGRATABLE = 11,
    FEATURE_MIGRATION_PARAMS = 13,
    FEATURE_KEEPALIVE = 10,
    FEATURE_EVENT_CALLBACKS = 14,
    FEATURE_CLOSE_CALLBACK = 15,
};

/* The URIs this daemon serves, as the client passes them after dropping the
 * transport and query ("qemu+unix:///system?socket=..." -> "qemu:///system"). */
static int check_uri(const char *name)
{
    if (!name || !*name)
        return 0;
    g_autofree char *scheme = NULL;
    g_autofree char *path = NULL;
    if (g_uri_split(name, G_URI_FLAGS_NONE, &scheme, NULL, NULL, NULL, &path, NULL, NULL, NULL) &&
        scheme && g_ascii_strcasecmp(scheme, "qemu") == 0 && path &&
        (strcmp(path, "/system") == 0 || strcmp(path, "/session") == 0))
        return 0;
    tv_error_report(TV_FROM_RPC, TV_ERR_NO_SUPPORT,
                    "tagvirtd cannot open '%s'; it serves 'qemu:///system' and 'qemu:///session'",
                    name);
    return -1;
}

static int connect_open(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_open_args *args = argsp;
    unsigned unknown = args->flags & ~(OPEN_READONLY | OPEN_NO_ALIASES);
    if (unknown) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "CONNECT_OPEN flags 0x%x are not supported; accepted: 0x1 (read-only), "
                        "0x2 (no aliases)",
                        unknown);
        return -1;
    }
    if (check_uri(args->name ? *args->name : NULL) < 0)
        return -1;

    g_mutex_lock(&conn->lock);
    gboolean already = conn->open;
    if (!already) {
        conn->open = TRUE;
        if (args->flags & OPEN_READONLY)
            conn->readonly = TRUE;
    }
    g_mutex_unlock(&conn->lock);
    if (already) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_INVALID, "connection already open");
        return -1;
    }
    return 0;
}

static int connect_close(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tv_remote_events_drop_conn(conn);
    g_mutex_lock(&conn->lock);
    conn->open = FALSE;
    conn->close_callback = FALSE;
    g_mutex_unlock(&conn->lock);
    return 0;
}

static int connect_get_type(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tvr_connect_get_type_ret *ret = retp;
    ret->type = g_strdup("QEMU");
    return 0;
}

/* Without a driver the hypervisor version is unknown: 0, as libvirt defines. */
static int connect_get_version(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tvr_connect_get_version_ret *ret = retp;
    ret->hv_ver = 0;
    return 0;
}

static int connect_get_hostname(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tvr_connect_get_hostname_ret *ret = retp;
    ret->hostname = g_strdup(g_get_host_name());
    return 0;
}

static int connect_supports_feature(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_supports_feature_args *args = argsp;
    tvr_connect_supports_feature_ret *ret = retp;
    switch (args->feature) {
    case FEATURE_KEEPALIVE:
        /* a client asks only when it will answer pings: start pinging it */
        if (conn->client)
            tv_rpc_conn_start_keepalive(conn->client);
        ret->supported = 1;
        break;
    case FEATURE_FD_PASSING:
        /* descriptors travel on unix sockets only (DOMAIN_OPEN_GRAPHICS_FD) */
        ret->supported = conn->client && tv_rpc_conn_can_pass_fds(conn->client);
        break;
    case FEATURE_TYPED_PARAM_STRING:
    case FEATURE_EVENT_CALLBACKS:
    case FEATURE_CLOSE_CALLBACK:
        ret->supported = 1;
        break;
    /* migration v3 with parameters and peer-to-peer, served by the QEMU
     * driver (remote_migrate.c, docs/migration.rst); change protection,
     * v1/v2 and offline are not */
    case FEATURE_MIGRATION_P2P:
    case FEATURE_MIGRATION_V3:
    case FEATURE_XML_MIGRATABLE:
    case FEATURE_MIGRATION_PARAMS:
        ret->supported = conn->remote->drv != NULL;
        break;
    default:
        /* migration v1/v2, change protection, ...: not offered */
        ret->supported = 0;
        break;
    }
    return 0;
}

static int auth_list(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tvr_auth_list_ret *ret = retp;
    /* unix sockets: file permissions are the authentication, so "none" */
    ret->types.types_len = 1;
    ret->types.types_val = g_new0(int, 1);
    return 0;
}

static int connect_is_secure(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tvr_connect_is_secure_ret *ret = retp;
    ret->secure = 1; /* unix sockets never leave the host */
    return 0;
}

static int connect_get_lib_version(TvRemoteConn *conn, const void *argsp, void *retp)
{
    tvr_connect_get_lib_version_ret *ret = retp;
    ret->lib_ver = TV_REMOTE_LIB_VERSION;
    return 0;
}

static int set_close_callback(TvRemoteConn *conn, gboolean on)
{
    g_mutex_lock(&conn->lock);
    gboolean was = conn->close_callback;
    conn->close_callback = on;
    g_mutex_unlock(&conn->lock);
    if (was == on) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_INVALID,
                        on ? "a close callback is already registered"
                           : "no close callback is registered");
        return -1;
    }
    return 0;
}

static int connect_register_close_callback(TvRemoteConn *conn, const void *argsp, void *retp)
{
    return set_close_callback(conn, TRUE);
}

static int connect_unregister_close_callback(TvRemoteConn *conn, const void *argsp, void *retp)
{
    return set_close_callback(conn, FALSE);
}

const TvRemoteHandlerEntry tv_remote_connect_handlers[] = {
    { TVR_PROC_CONNECT_OPEN, connect_open },
    { TVR_PROC_CONNECT_CLOSE, connect_close },
    { TVR_PROC_CONNECT_GET_TYPE, connect_get_type },
    { TVR_PROC_CONNECT_GET_VERSION, connect_get_version },
    { TVR_PROC_CONNECT_GET_HOSTNAME, connect_get_hostname },
    { TVR_PROC_CONNECT_SUPPORTS_FEATURE, connect_supports_feature },
    { TVR_PROC_AUTH_LIST, auth_list },
    { TVR_PROC_CONNECT_IS_SECURE, connect_is_secure },
    { TVR_PROC_CONNECT_GET_LIB_VERSION, connect_get_lib_version },
    { TVR_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, connect_register_close_callback },
    { TVR_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, connect_unregister_close_callback },
};
const gsize tv_remote_connect_handlers_count = G_N_ELEMENTS(tv_remote_connect_handlers);
