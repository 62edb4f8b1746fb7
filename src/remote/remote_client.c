/* A connection to another daemon's remote program (remote_client.h). */
#include "remote_client.h"
#include "remote_protocol.h"
#include "tv_error.h"

#include <string.h>

#define TLS_PORT      16514
#define SYSTEM_SOCKET "/run/tagvirt/tagvirtd-sock"

struct TvRemoteClient {
    TvRpcClient *rpc;
    TvTlsContext *tls;
};

static void client_free(TvRemoteClient *rc)
{
    tv_rpc_client_free(rc->rpc);
    tv_tls_context_free(rc->tls);
    g_free(rc);
}

int tv_remote_client_call(TvRemoteClient *rc, int proc, xdrproc_t args_filter, const void *args,
                          xdrproc_t ret_filter, void *ret, guint timeout_ms)
{
    return tv_rpc_client_call(rc->rpc, TVR_REMOTE_PROGRAM, TVR_REMOTE_VERSION, proc, args_filter,
                              args, ret_filter, ret, timeout_ms);
}

static char *query_param(GUri *uri, const char *name)
{
    const char *query = g_uri_get_query(uri);
    if (!query)
        return NULL;
    g_autoptr(GHashTable) params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
    const char *v = params ? g_hash_table_lookup(params, name) : NULL;
    return g_strdup(v);
}

static TvRpcClient *connect_tls(TvRemoteClient *rc, GUri *uri, guint timeout_ms)
{
    g_autofree char *pkipath = query_param(uri, "pkipath");
    g_autofree char *no_verify = query_param(uri, "no_verify");
    g_autofree char *ca = NULL, *cert = NULL, *key = NULL, *crl = NULL;
    tv_tls_default_paths(false, pkipath, &ca, &cert, &key, &crl);
    TvTlsConfig cfg = { .server = false,
                        .ca_file = ca,
                        .cert_file = cert,
                        .key_file = key,
                        .crl_file = crl,
                        .verify_peer = g_strcmp0(no_verify, "1") != 0 };
    rc->tls = tv_tls_context_new(&cfg);
    if (!rc->tls)
        return NULL;
    int port = g_uri_get_port(uri);
    return tv_rpc_client_connect_tcp(g_uri_get_host(uri), port > 0 ? (guint)port : TLS_PORT,
                                     rc->tls, timeout_ms);
}

TvRemoteClient *tv_remote_client_open(const char *uri_str, guint timeout_ms)
{
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GUri) uri = g_uri_parse(uri_str, G_URI_FLAGS_NONE, &gerr);
    if (!uri) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG, "invalid URI '%s': %s", uri_str,
                        gerr->message);
        return NULL;
    }
    const char *scheme = g_uri_get_scheme(uri);
    const char *host = g_uri_get_host(uri);
    TvRemoteClient *rc = g_new0(TvRemoteClient, 1);
    if (strcmp(scheme, "qemu+tls") == 0 && host && *host) {
        rc->rpc = connect_tls(rc, uri, timeout_ms);
    } else if (strcmp(scheme, "qemu+unix") == 0 || strcmp(scheme, "qemu") == 0) {
        g_autofree char *socket = query_param(uri, "socket");
        rc->rpc = tv_rpc_client_connect_unix(socket ? socket : SYSTEM_SOCKET, timeout_ms);
    } else {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "cannot reach '%s': accepted are qemu+tls://HOST/system, "
                        "qemu+unix:///system?socket=PATH and qemu:///system",
                        uri_str);
    }
    if (!rc->rpc) {
        client_free(rc);
        return NULL;
    }
    tvr_auth_list_ret auth;
    memset(&auth, 0, sizeof(auth));
    char dummy = 0;
    tvr_connect_open_args open = { NULL, 0 };
    char *name = g_strdup("qemu:///system");
    open.name = &name;
    int res = tv_remote_client_call(rc, TVR_PROC_AUTH_LIST, TV_XDR(xdr_void), &dummy,
                                    TV_XDR(xdr_tvr_auth_list_ret), &auth, timeout_ms);
    if (res == 0) {
        /* only "none" is spoken here: TLS certificates or unix permissions */
        bool none = false;
        for (u_int i = 0; i < auth.types.types_len; i++)
            none |= auth.types.types_val[i] == 0;
        xdr_free(TV_XDR(xdr_tvr_auth_list_ret), &auth);
        if (!none) {
            tv_error_report(TV_FROM_RPC, TV_ERR_AUTH_FAILED,
                            "'%s' asks for an authentication other than none (SASL, polkit)",
                            uri_str);
            res = -1;
        }
    }
    if (res == 0)
        res = tv_remote_client_call(rc, TVR_PROC_CONNECT_OPEN, TV_XDR(xdr_tvr_connect_open_args),
                                    &open, TV_XDR(xdr_void), &dummy, timeout_ms);
    g_free(name);
    if (res < 0) {
        tv_error_prefix("cannot open '%s'", uri_str);
        client_free(rc);
        return NULL;
    }
    return rc;
}

bool tv_remote_client_is_broken(TvRemoteClient *rc)
{
    return tv_rpc_client_is_broken(rc->rpc);
}

void tv_remote_client_close(TvRemoteClient *rc)
{
    if (!rc)
        return;
    /* the caller's error (why it closes) outlives a failed goodbye */
    TvError *err = tv_error_steal();
    char dummy = 0;
    if (tv_remote_client_call(rc, TVR_PROC_CONNECT_CLOSE, TV_XDR(xdr_void), &dummy,
                              TV_XDR(xdr_void), &dummy, 5000) < 0)
        tv_error_reset();
    client_free(rc);
    tv_error_restore(err);
}
