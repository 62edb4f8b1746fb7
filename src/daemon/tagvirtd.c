/* tagvirtd: serves libvirt's RPC protocol on unix sockets for the QEMU driver. */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "remote.h"
#include "rpc_server.h"
#include "tagvirt-config.h"
#include "tagvirtd_config.h"
#include "tagvirtd_log.h"
#include "tagvirtd_systemd.h"
#include "tv_error.h"
#include "tv_file.h"
#if TAGVIRT_WITH_DRIVER
#include "tagvirtd_driver.h"
#endif

#define SOCKET_NAME    "tagvirtd-sock"
#define SOCKET_NAME_RO "tagvirtd-sock-ro"
#define CONFIG_NAME    "tagvirtd.conf"

typedef struct {
    char *root;        /* --root: everything under it; NULL: system paths */
    char *config_path; /* --config */
    gboolean listen;   /* --listen: serve TCP with TLS as listen_tls says */
    gboolean verbose;
    gboolean version;
} Options;

typedef struct {
    char *socket_dir;
    char *socket_rw;
    char *socket_ro;
    char *config;
} Paths;

static int parse_options(int *argc, char ***argv, Options *opts)
{
    GOptionEntry entries[] = {
        { "root", 'r', 0, G_OPTION_ARG_FILENAME, &opts->root,
          "keep sockets, configuration and state under DIR instead of the system paths", "DIR" },
        { "config", 'f', 0, G_OPTION_ARG_FILENAME, &opts->config_path,
          "configuration file (default: " CONFIG_NAME " in the root or /etc/tagvirt)", "FILE" },
        { "listen", 'l', 0, G_OPTION_ARG_NONE, &opts->listen,
          "listen for TCP connections with TLS (listen_tls, tls_port, listen_addr)", NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opts->verbose, "log debug messages", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &opts->version, "print the version and exit",
          NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- tagvirt daemon");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "tagvirtd: %s\n", err->message);
        return -1;
    }
    if (*argc > 1) {
        fprintf(stderr, "tagvirtd: unexpected argument '%s'\n", (*argv)[1]);
        return -1;
    }
    if (opts->root && !g_path_is_absolute(opts->root)) {
        g_autofree char *cwd = g_get_current_dir();
        char *abs = g_build_filename(cwd, opts->root, NULL);
        g_free(opts->root);
        opts->root = abs;
    }
    return 0;
}

static void paths_init(Paths *paths, const Options *opts)
{
    paths->socket_dir = g_strdup(opts->root ? opts->root : TAGVIRT_RUNSTATEDIR "/tagvirt");
    paths->socket_rw = g_build_filename(paths->socket_dir, SOCKET_NAME, NULL);
    paths->socket_ro = g_build_filename(paths->socket_dir, SOCKET_NAME_RO, NULL);
    if (opts->config_path)
        paths->config = g_strdup(opts->config_path);
    else if (opts->root)
        paths->config = g_build_filename(opts->root, CONFIG_NAME, NULL);
    else
        paths->config = g_build_filename(TAGVIRT_SYSCONFDIR, "tagvirt", CONFIG_NAME, NULL);
}

static void paths_clear(Paths *paths)
{
    g_free(paths->socket_dir);
    g_free(paths->socket_rw);
    g_free(paths->socket_ro);
    g_free(paths->config);
}

/* Thousands of clients need thousands of descriptors. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            g_info("cannot raise the descriptor limit: %s", g_strerror(errno));
    }
}

/* libvirt's TLS files: the configured ones, else /etc/pki (system) or, with
 * --root DIR, DIR/pki laid out as a client's pkipath (cacert.pem,
 * servercert.pem, serverkey.pem, cacrl.pem). */
static int listen_tls(TvRpcServer *srv, const TvDaemonConfig *cfg, const Options *opts)
{
    g_autofree char *pki = opts->root ? g_build_filename(opts->root, "pki", NULL) : NULL;
    g_autofree char *ca = NULL, *cert = NULL, *key = NULL, *crl = NULL;
    tv_tls_default_paths(true, pki, &ca, &cert, &key, &crl);
    TvTlsConfig tc = {
        .server = true,
        .ca_file = cfg->ca_file ? cfg->ca_file : ca,
        .cert_file = cfg->cert_file ? cfg->cert_file : cert,
        .key_file = cfg->key_file ? cfg->key_file : key,
        /* libvirtd reads a CRL only when one is configured */
        .crl_file = cfg->crl_file,
        .priority = cfg->tls_priority,
        .verify_peer = !cfg->tls_no_verify_certificate,
        .no_sanity = cfg->tls_no_sanity_certificate,
    };
    TvTlsContext *tls = tv_tls_context_new(&tc);
    if (!tls) {
        tv_error_prefix("cannot listen for TLS (listen_tls)");
        return -1;
    }
    const char *port = cfg->tls_port ? cfg->tls_port : "16514";
    int bound = tv_rpc_server_add_tls(srv, cfg->listen_addr, port, tls,
                                      (const char *const *)cfg->tls_allowed_dn_list);
    if (bound < 0)
        return -1;
    if (cfg->tls_no_verify_certificate)
        g_warning("tls_no_verify_certificate = 1: TLS clients are not asked for a valid "
                  "certificate; anybody who reaches port %d can manage this host",
                  bound);
    g_info("listening for TLS on %s port %d", cfg->listen_addr ? cfg->listen_addr : "every address",
           bound);
    return 0;
}

static int listen_all(TvRpcServer *srv, const TvDaemonConfig *cfg, const Options *opts,
                      const Paths *paths)
{
    if (opts->listen && cfg->listen_tls && listen_tls(srv, cfg, opts) < 0)
        return -1;
    g_autoptr(GArray) activated = tv_daemon_activated_sockets();
    if (activated->len > 0) {
        for (guint i = 0; i < activated->len; i++) {
            TvActivatedSocket *s = &g_array_index(activated, TvActivatedSocket, i);
            if (tv_rpc_server_add_fd(srv, s->fd, s->readonly) < 0)
                return -1;
        }
        g_info("serving %u sockets passed by systemd", activated->len);
        return 0;
    }
    if (tv_dir_ensure(paths->socket_dir, 0755) < 0)
        return -1;
    if (tv_rpc_server_add_unix(srv, paths->socket_rw, cfg->unix_sock_rw_perms, FALSE) < 0 ||
        tv_rpc_server_add_unix(srv, paths->socket_ro, cfg->unix_sock_ro_perms, TRUE) < 0)
        return -1;
    g_info("listening on %s and %s", paths->socket_rw, paths->socket_ro);
    return 0;
}

static gboolean on_quit_signal(gpointer loop)
{
    g_message("shutting down on signal");
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_hangup_signal(gpointer data)
{
    g_message("SIGHUP: reloading the configuration is not supported; restart tagvirtd instead");
    return G_SOURCE_CONTINUE;
}

static int run(const Options *opts, const Paths *paths, TvDaemonConfig *cfg)
{
    TvQemuDriver *drv = NULL;
#if TAGVIRT_WITH_DRIVER
    drv = tv_daemon_driver_open(cfg, opts->root);
    if (!drv)
        return -1;
#endif
    g_autoptr(TvRemote) remote = tv_remote_new(drv);
#if TAGVIRT_WITH_DRIVER
    tv_daemon_driver_attach(drv, remote);
#endif

    TvRpcProgram program;
    tv_remote_program(remote, &program);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    TvRpcServer *srv = tv_rpc_server_new(&cfg->rpc, &program, NULL);
    int rc = listen_all(srv, cfg, opts, paths);
    if (rc == 0) {
        guint term = g_unix_signal_add(SIGTERM, on_quit_signal, loop);
        guint intr = g_unix_signal_add(SIGINT, on_quit_signal, loop);
        guint hup = g_unix_signal_add(SIGHUP, on_hangup_signal, NULL);
        g_message("tagvirtd %s ready (%s)", TAGVIRT_VERSION,
                  drv ? "QEMU driver" : "connection procedures only: built without the driver");
        tv_daemon_notify("READY=1");
        g_main_loop_run(loop);
        tv_daemon_notify("STOPPING=1");
        g_source_remove(term);
        g_source_remove(intr);
        g_source_remove(hup);
    }
    /* no call runs after this, so the driver can go */
    tv_rpc_server_free(srv);
#if TAGVIRT_WITH_DRIVER
    tv_daemon_driver_close(drv);
#endif
    return rc;
}

int main(int argc, char **argv)
{
    Options opts = { 0 };
    if (parse_options(&argc, &argv, &opts) < 0)
        return 2;
    if (opts.version) {
        printf("tagvirtd %s\n", TAGVIRT_VERSION);
        return 0;
    }

    Paths paths = { 0 };
    paths_init(&paths, &opts);
    TvDaemonConfig cfg;
    tv_daemon_config_init(&cfg);
    int rc = 0;
    if (tv_daemon_config_load(&cfg, paths.config, opts.config_path != NULL) < 0) {
        fprintf(stderr, "tagvirtd: %s\n", tv_error_message());
        rc = 1;
        goto out;
    }
    tv_daemon_log_init(opts.verbose ? 1 : cfg.log_level);

    /* QEMU processes whose parent exits are handed to us, not to init */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        g_warning("cannot become a child subreaper: %s", g_strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    if (opts.root && tv_dir_ensure(opts.root, 0755) < 0) {
        g_critical("%s", tv_error_message());
        rc = 1;
        goto out;
    }

    if (run(&opts, &paths, &cfg) < 0) {
        g_critical("%s", tv_error_message());
        rc = 1;
    }
out:
    tv_daemon_config_clear(&cfg);
    paths_clear(&paths);
    g_free(opts.root);
    g_free(opts.config_path);
    return rc;
}
