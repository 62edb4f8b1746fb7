/* TLS sessions for the RPC server and client (rpc_tls.h), on GnuTLS. */
#include "rpc_tls.h"
#include "tv_error.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

struct TvTlsContext {
    gnutls_certificate_credentials_t cred;
    bool server;
    bool verify_peer;
    char *priority;
};

struct TvTlsSession {
    TvTlsContext *ctx;
    gnutls_session_t session;
    char *hostname;
};

void tv_tls_default_paths(bool server, const char *pkipath, char **ca, char **cert, char **key,
                          char **crl)
{
    const char *who = server ? "server" : "client";
    if (pkipath) {
        *ca = g_build_filename(pkipath, "cacert.pem", NULL);
        *crl = g_build_filename(pkipath, "cacrl.pem", NULL);
        g_autofree char *c = g_strconcat(who, "cert.pem", NULL);
        g_autofree char *k = g_strconcat(who, "key.pem", NULL);
        *cert = g_build_filename(pkipath, c, NULL);
        *key = g_build_filename(pkipath, k, NULL);
        return;
    }
    *ca = g_strdup("/etc/pki/CA/cacert.pem");
    *crl = g_strdup("/etc/pki/CA/cacrl.pem");
    *cert = g_strdup_printf("/etc/pki/libvirt/%scert.pem", who);
    *key = g_strdup_printf("/etc/pki/libvirt/private/%skey.pem", who);
}

static int tls_fail(const char *what, const char *file, int err)
{
    tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR, "%s '%s': %s", what, file,
                    gnutls_strerror(err));
    return -1;
}

static void global_init(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        gnutls_global_init();
        g_once_init_leave(&once, 1);
    }
}

static int load_certs(const char *file, gnutls_x509_crt_t **certs, unsigned *n)
{
    gnutls_datum_t data = { NULL, 0 };
    int err = gnutls_load_file(file, &data);
    if (err < 0)
        return tls_fail("cannot read", file, err);
    err = gnutls_x509_crt_list_import2(certs, n, &data, GNUTLS_X509_FMT_PEM, 0);
    gnutls_free(data.data);
    if (err < 0)
        return tls_fail("cannot parse the certificates of", file, err);
    return 0;
}

static void free_certs(gnutls_x509_crt_t *certs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(certs[i]);
    gnutls_free(certs);
}

/* Our own certificate: signed by the CA, not expired, not yet valid. */
static int check_own_cert(const TvTlsConfig *cfg)
{
    gnutls_x509_crt_t *cas = NULL, *mine = NULL;
    unsigned ncas = 0, nmine = 0;
    int rc = -1;
    if (load_certs(cfg->ca_file, &cas, &ncas) < 0 || load_certs(cfg->cert_file, &mine, &nmine) < 0)
        goto out;
    time_t now = time(NULL);
    if (gnutls_x509_crt_get_activation_time(mine[0]) > now) {
        tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR, "certificate '%s' is not valid yet",
                        cfg->cert_file);
        goto out;
    }
    if (gnutls_x509_crt_get_expiration_time(mine[0]) < now) {
        tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR, "certificate '%s' has expired",
                        cfg->cert_file);
        goto out;
    }
    unsigned status = 0;
    int err = gnutls_x509_crt_list_verify(mine, nmine, cas, ncas, NULL, 0, 0, &status);
    if (err < 0 || status) {
        tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR,
                        "certificate '%s' is not signed by the CA of '%s'", cfg->cert_file,
                        cfg->ca_file);
        goto out;
    }
    rc = 0;
out:
    free_certs(cas, ncas);
    free_certs(mine, nmine);
    return rc;
}

TvTlsContext *tv_tls_context_new(const TvTlsConfig *cfg)
{
    global_init();
    if (!cfg->no_sanity && check_own_cert(cfg) < 0)
        return NULL;
    g_autoptr(TvTlsContext) ctx = g_new0(TvTlsContext, 1);
    ctx->server = cfg->server;
    ctx->verify_peer = cfg->verify_peer;
    ctx->priority = g_strdup(cfg->priority ? cfg->priority : "NORMAL");
    int err = gnutls_certificate_allocate_credentials(&ctx->cred);
    if (err < 0) {
        tls_fail("cannot set up TLS for", cfg->cert_file, err);
        return NULL;
    }
    err = gnutls_certificate_set_x509_trust_file(ctx->cred, cfg->ca_file, GNUTLS_X509_FMT_PEM);
    if (err < 0) {
        tls_fail("cannot load the CA certificate", cfg->ca_file, err);
        return NULL;
    }
    if (cfg->crl_file && g_file_test(cfg->crl_file, G_FILE_TEST_EXISTS)) {
        err = gnutls_certificate_set_x509_crl_file(ctx->cred, cfg->crl_file, GNUTLS_X509_FMT_PEM);
        if (err < 0) {
            tls_fail("cannot load the CRL", cfg->crl_file, err);
            return NULL;
        }
    }
    err = gnutls_certificate_set_x509_key_file(ctx->cred, cfg->cert_file, cfg->key_file,
                                               GNUTLS_X509_FMT_PEM);
    if (err < 0) {
        g_autofree char *pair = g_strdup_printf("%s' with key '%s", cfg->cert_file, cfg->key_file);
        tls_fail("cannot load the certificate", pair, err);
        return NULL;
    }
    return g_steal_pointer(&ctx);
}

void tv_tls_context_free(TvTlsContext *ctx)
{
    if (!ctx)
        return;
    if (ctx->cred)
        gnutls_certificate_free_credentials(ctx->cred);
    g_free(ctx->priority);
    g_free(ctx);
}

TvTlsSession *tv_tls_session_new(TvTlsContext *ctx, int fd, const char *hostname)
{
    g_autoptr(TvTlsSession) s = g_new0(TvTlsSession, 1);
    s->ctx = ctx;
    s->hostname = g_strdup(hostname);
    int err =
        gnutls_init(&s->session, (ctx->server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
    if (err == 0)
        err = gnutls_priority_set_direct(s->session, ctx->priority, NULL);
    if (err == 0)
        err = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, ctx->cred);
    if (err == 0 && !ctx->server && hostname)
        err = gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, hostname, strlen(hostname));
    if (err < 0) {
        tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR, "cannot start a TLS session: %s",
                        gnutls_strerror(err));
        return NULL;
    }
    if (ctx->server)
        gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(s->session, fd);
    return g_steal_pointer(&s);
}

void tv_tls_session_free(TvTlsSession *s)
{
    if (!s)
        return;
    if (s->session)
        gnutls_deinit(s->session);
    g_free(s->hostname);
    g_free(s);
}

int tv_tls_session_handshake(TvTlsSession *s)
{
    int err = gnutls_handshake(s->session);
    if (err == 0)
        return 1;
    if (err == GNUTLS_E_AGAIN || err == GNUTLS_E_INTERRUPTED)
        return 0;
    tv_error_report(TV_FROM_RPC, TV_ERR_AUTH_FAILED, "TLS handshake failed: %s",
                    gnutls_strerror(err));
    return -1;
}

bool tv_tls_session_wants_write(TvTlsSession *s)
{
    return gnutls_record_get_direction(s->session) == 1;
}

int tv_tls_session_check_peer(TvTlsSession *s)
{
    const char *who = s->ctx->server ? "client" : "server";
    unsigned n = 0;
    if (!gnutls_certificate_get_peers(s->session, &n) || n == 0) {
        if (!s->ctx->verify_peer)
            return 0;
        tv_error_report(TV_FROM_RPC, TV_ERR_AUTH_FAILED, "the %s sent no certificate", who);
        return -1;
    }
    unsigned status = 0;
    int err =
        gnutls_certificate_verify_peers3(s->session, s->ctx->server ? NULL : s->hostname, &status);
    if (err < 0) {
        tv_error_report(TV_FROM_RPC, TV_ERR_AUTH_FAILED, "cannot verify the %s's certificate: %s",
                        who, gnutls_strerror(err));
        return -1;
    }
    if (status && s->ctx->verify_peer) {
        gnutls_datum_t out = { NULL, 0 };
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
        tv_error_report(TV_FROM_RPC, TV_ERR_AUTH_FAILED, "the %s's certificate is refused: %s", who,
                        out.data ? (const char *)out.data : "invalid");
        gnutls_free(out.data);
        return -1;
    }
    return 0;
}

char *tv_tls_session_peer_dn(TvTlsSession *s)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s->session, &n);
    if (!certs || n == 0)
        return NULL;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return NULL;
    char *dn = NULL;
    gnutls_datum_t out = { NULL, 0 };
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
        gnutls_x509_crt_get_dn2(crt, &out) == 0)
        dn = g_strndup((const char *)out.data, out.size);
    gnutls_free(out.data);
    gnutls_x509_crt_deinit(crt);
    return dn;
}

static ssize_t io_result(ssize_t n, const char *what)
{
    if (n >= 0)
        return n;
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
        errno = EAGAIN;
        return -1;
    }
    tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR, "TLS %s failed: %s", what,
                    gnutls_strerror((int)n));
    errno = EIO;
    return -1;
}

ssize_t tv_tls_session_read(TvTlsSession *s, void *buf, size_t len)
{
    ssize_t n = gnutls_record_recv(s->session, buf, len);
    /* libvirt's clients close the socket without a TLS close_notify */
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    return io_result(n, "read");
}

ssize_t tv_tls_session_write(TvTlsSession *s, const void *buf, size_t len)
{
    /* after EAGAIN GnuTLS wants the same buffer again: callers retry with it */
    return io_result(gnutls_record_send(s->session, buf, len), "write");
}

size_t tv_tls_session_pending(TvTlsSession *s)
{
    return gnutls_record_check_pending(s->session);
}
