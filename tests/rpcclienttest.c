/* The RPC client and TLS (src/rpc/rpc_client.c, rpc_tls.c,
 * src/remote/remote_client.c): TLS sessions over a socket pair with
 * certificates made by GnuTLS's certtool (a CA, a server and a client
 * certificate, a client of another CA, an expired certificate, a wrong
 * host name), and the remote program's client against a real tagvirtd.
 * Usage: rpcclienttest TAGVIRTD */
#include "remote_client.h"
#include "remote_protocol.h"
#include "rpc_tls.h"
#include "tv_error.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *tagvirtd;
static char *pki; /* certificates made once for all tests */

static void certtool(const char *const *args, const char *template_text)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, "certtool");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_autofree char *tmpl = NULL;
    if (template_text) {
        tmpl = g_build_filename(pki, "template.cfg", NULL);
        g_assert_true(g_file_set_contents(tmpl, template_text, -1, NULL));
        g_ptr_array_add(argv, "--template");
        g_ptr_array_add(argv, tmpl);
    }
    g_ptr_array_add(argv, NULL);
    g_autofree char *err = NULL;
    int status = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_spawn_sync(pki, (char **)argv->pdata, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                      &status, &gerr))
        g_error("certtool (gnutls-bin) is needed: %s", gerr->message);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("certtool failed: %s", err);
}

static void make_key(const char *name)
{
    g_autofree char *out = g_strconcat(name, "key.pem", NULL);
    const char *args[] = { "--generate-privkey", "--outfile", out, NULL };
    certtool(args, NULL);
}

/* name: a self-signed CA (ca == NULL) or a certificate signed by ca */
static void make_cert(const char *name, const char *ca, const char *tmpl)
{
    make_key(name);
    g_autofree char *key = g_strconcat(name, "key.pem", NULL);
    g_autofree char *out = g_strconcat(name, "cert.pem", NULL);
    if (!ca) {
        const char *args[] = {
            "--generate-self-signed", "--load-privkey", key, "--outfile", out, NULL
        };
        certtool(args, tmpl);
        return;
    }
    g_autofree char *ca_cert = g_strconcat(ca, "cert.pem", NULL);
    g_autofree char *ca_key = g_strconcat(ca, "key.pem", NULL);
    const char *args[] = { "--generate-certificate",
                           "--load-privkey",
                           key,
                           "--load-ca-certificate",
                           ca_cert,
                           "--load-ca-privkey",
                           ca_key,
                           "--outfile",
                           out,
                           NULL };
    certtool(args, tmpl);
}

static void make_pki(void)
{
    pki = g_dir_make_tmp("tvtls-XXXXXX", NULL);
    const char *ca = "cn = tagvirt test CA\nca\ncert_signing_key\nexpiration_days = 30\n";
    make_cert("ca", NULL, ca);
    make_cert("rogue", NULL, "cn = another CA\nca\ncert_signing_key\nexpiration_days = 30\n");
    make_cert("server", "ca",
              "organization = tagvirt\ncn = localhost\ndns_name = localhost\ntls_www_server\n"
              "encryption_key\nsigning_key\nexpiration_days = 30\n");
    make_cert("client", "ca",
              "organization = tagvirt\ncn = migration-source\ntls_www_client\n"
              "encryption_key\nsigning_key\nexpiration_days = 30\n");
    make_cert("stranger", "rogue",
              "cn = stranger\ntls_www_client\nencryption_key\nsigning_key\n"
              "expiration_days = 30\n");
    make_cert("expired", "ca",
              "cn = localhost\ntls_www_server\nencryption_key\nsigning_key\n"
              "activation_date = \"2020-01-01 00:00:00 UTC\"\n"
              "expiration_date = \"2020-02-01 00:00:00 UTC\"\n");
}

static TvTlsContext *context(bool server, const char *name, const char *ca)
{
    g_autofree char *ca_file = g_strdup_printf("%s/%scert.pem", pki, ca);
    g_autofree char *cert = g_strdup_printf("%s/%scert.pem", pki, name);
    g_autofree char *key = g_strdup_printf("%s/%skey.pem", pki, name);
    TvTlsConfig cfg = { .server = server,
                        .ca_file = ca_file,
                        .cert_file = cert,
                        .key_file = key,
                        .verify_peer = true };
    tv_error_reset();
    return tv_tls_context_new(&cfg);
}

typedef struct {
    TvTlsSession *s;
    int fd;
    int handshake;
    int check;
    char *error;
} Side;

static gpointer run_side(gpointer data)
{
    Side *side = data;
    for (int i = 0; i < 2000; i++) {
        side->handshake = tv_tls_session_handshake(side->s);
        if (side->handshake != 0)
            break;
        g_usleep(1000);
    }
    side->check = side->handshake == 1 ? tv_tls_session_check_peer(side->s) : -1;
    if (side->handshake < 0 || side->check < 0)
        side->error = g_strdup(tv_error_message());
    return NULL;
}

/* Handshake between a server and a client context over a socket pair. */
static void pair(TvTlsContext *server, TvTlsContext *client, const char *hostname, Side *srv,
                 Side *cli)
{
    int fds[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), ==, 0);
    memset(srv, 0, sizeof(*srv));
    memset(cli, 0, sizeof(*cli));
    srv->fd = fds[0];
    cli->fd = fds[1];
    srv->s = tv_tls_session_new(server, fds[0], NULL);
    cli->s = tv_tls_session_new(client, fds[1], hostname);
    GThread *t1 = g_thread_new("srv", run_side, srv);
    GThread *t2 = g_thread_new("cli", run_side, cli);
    g_thread_join(t1);
    g_thread_join(t2);
}

static void unpair(Side *srv, Side *cli)
{
    tv_tls_session_free(srv->s);
    tv_tls_session_free(cli->s);
    close(srv->fd);
    close(cli->fd);
    g_free(srv->error);
    g_free(cli->error);
}

static void test_tls_good(void)
{
    g_autoptr(TvTlsContext) server = context(true, "server", "ca");
    g_autoptr(TvTlsContext) client = context(false, "client", "ca");
    g_assert_nonnull(server);
    g_assert_nonnull(client);
    Side srv, cli;
    pair(server, client, "localhost", &srv, &cli);
    g_assert_cmpint(srv.handshake, ==, 1);
    g_assert_cmpint(cli.handshake, ==, 1);
    g_assert_cmpint(srv.check, ==, 0);
    g_assert_cmpint(cli.check, ==, 0);
    g_autofree char *dn = tv_tls_session_peer_dn(srv.s);
    g_assert_nonnull(strstr(dn, "CN=migration-source"));
    /* data both ways */
    const char msg[] = "hello over TLS";
    g_assert_cmpint(tv_tls_session_write(cli.s, msg, sizeof(msg)), ==, sizeof(msg));
    char buf[64] = { 0 };
    ssize_t n = -1;
    for (int i = 0; i < 1000 && n < 0; i++) {
        n = tv_tls_session_read(srv.s, buf, sizeof(buf));
        if (n < 0)
            g_usleep(1000);
    }
    g_assert_cmpstr(buf, ==, msg);
    unpair(&srv, &cli);
}

static void test_tls_untrusted_client(void)
{
    g_autoptr(TvTlsContext) server = context(true, "server", "ca");
    /* a client certificate of another CA, whose own CA file it trusts */
    g_autoptr(TvTlsContext) client = context(false, "stranger", "rogue");
    g_assert_nonnull(client);
    Side srv, cli;
    pair(server, client, NULL, &srv, &cli);
    /* GnuTLS offers no certificate of an issuer the server did not list */
    g_test_message("server: %s", srv.error);
    g_assert_cmpint(srv.check, ==, -1);
    g_assert_true(strstr(srv.error, "client's certificate is refused") ||
                  strstr(srv.error, "the client sent no certificate"));
    unpair(&srv, &cli);
}

static void test_tls_wrong_host(void)
{
    g_autoptr(TvTlsContext) server = context(true, "server", "ca");
    g_autoptr(TvTlsContext) client = context(false, "client", "ca");
    Side srv, cli;
    pair(server, client, "migration-target.example", &srv, &cli);
    g_assert_cmpint(cli.check, ==, -1);
    g_assert_nonnull(strstr(cli.error, "server's certificate is refused"));
    unpair(&srv, &cli);
}

static void test_tls_bad_files(void)
{
    g_assert_null(context(true, "expired", "ca"));
    g_assert_nonnull(strstr(tv_error_message(), "has expired"));
    g_assert_null(context(true, "stranger", "ca"));
    g_assert_nonnull(strstr(tv_error_message(), "is not signed by the CA"));
    g_assert_null(context(true, "nosuch", "ca"));
    g_assert_nonnull(strstr(tv_error_message(), "nosuchcert.pem"));
}

/* ---- the remote program's client against tagvirtd ---- */

static char *root;
static GPid daemon_pid;

static char *socket_uri(void)
{
    return g_strdup_printf("qemu+unix:///system?socket=%s/tagvirtd-sock", root);
}

static void start_daemon(void)
{
    root = g_dir_make_tmp("tvrpccli-XXXXXX", NULL);
    const char *argv[] = { tagvirtd, "--root", root, NULL };
    g_autoptr(GError) gerr = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &daemon_pid, &gerr));
    g_autofree char *sock = g_build_filename(root, "tagvirtd-sock", NULL);
    g_autofree char *uri = socket_uri();
    for (int i = 0; i < 1200; i++) {
        TvRemoteClient *rc =
            g_file_test(sock, G_FILE_TEST_EXISTS) ? tv_remote_client_open(uri, 5000) : NULL;
        if (rc) {
            tv_remote_client_close(rc);
            return;
        }
        g_usleep(50000);
    }
    g_error("tagvirtd did not answer within 60 s: %s", tv_error_message());
}

static void stop_daemon(void)
{
    kill(daemon_pid, SIGTERM);
    waitpid(daemon_pid, NULL, 0);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_remote_calls(void)
{
    g_autofree char *uri = socket_uri();
    g_autoptr(TvRemoteClient) rc = tv_remote_client_open(uri, 5000);
    g_assert_nonnull(rc);
    char dummy = 0;
    tvr_connect_get_type_ret type;
    memset(&type, 0, sizeof(type));
    g_assert_cmpint(tv_remote_client_call(rc, TVR_PROC_CONNECT_GET_TYPE, TV_XDR(xdr_void), &dummy,
                                          TV_XDR(xdr_tvr_connect_get_type_ret), &type, 5000),
                    ==, 0);
    g_assert_cmpstr(type.type, ==, "QEMU");
    xdr_free(TV_XDR(xdr_tvr_connect_get_type_ret), &type);

    /* an error reply keeps the server's code and message */
    tvr_domain_lookup_by_name_args args = { (char *)"no-such-domain" };
    tvr_domain_ret ret;
    memset(&ret, 0, sizeof(ret));
    tv_error_reset();
    g_assert_cmpint(tv_remote_client_call(rc, TVR_PROC_DOMAIN_LOOKUP_BY_NAME,
                                          TV_XDR(xdr_tvr_domain_lookup_by_name_args), &args,
                                          TV_XDR(xdr_tvr_domain_ret), &ret, 5000),
                    ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN);
    g_assert_nonnull(strstr(tv_error_message(), "no-such-domain"));
    /* the connection goes on after an error reply */
    memset(&type, 0, sizeof(type));
    g_assert_cmpint(tv_remote_client_call(rc, TVR_PROC_CONNECT_GET_TYPE, TV_XDR(xdr_void), &dummy,
                                          TV_XDR(xdr_tvr_connect_get_type_ret), &type, 5000),
                    ==, 0);
    xdr_free(TV_XDR(xdr_tvr_connect_get_type_ret), &type);
}

static void test_remote_bad_uris(void)
{
    g_assert_null(tv_remote_client_open("qemu+ssh://host/system", 1000));
    g_assert_nonnull(strstr(tv_error_message(), "qemu+tls://HOST/system"));
    g_assert_null(tv_remote_client_open("qemu+unix:///system?socket=/nonexistent/sock", 1000));
    g_assert_nonnull(strstr(tv_error_message(), "/nonexistent/sock"));
    /* TLS without this machine's client certificates */
    g_autofree char *uri = g_strdup_printf("qemu+tls://localhost:1/system?pkipath=%s/none", pki);
    g_assert_null(tv_remote_client_open(uri, 1000));
    g_assert_nonnull(strstr(tv_error_message(), "cacert.pem"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 2)
        g_error("usage: rpcclienttest TAGVIRTD");
    tagvirtd = argv[1];
    make_pki();
    g_test_add_func("/tls/handshake-and-data", test_tls_good);
    g_test_add_func("/tls/untrusted-client-refused", test_tls_untrusted_client);
    g_test_add_func("/tls/wrong-host-refused", test_tls_wrong_host);
    g_test_add_func("/tls/bad-files", test_tls_bad_files);
    g_test_add_func("/remote-client/calls", test_remote_calls);
    g_test_add_func("/remote-client/bad-uris", test_remote_bad_uris);
    start_daemon();
    int rc = g_test_run();
    stop_daemon();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", pki);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
