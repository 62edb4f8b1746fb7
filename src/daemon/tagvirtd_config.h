/* tagvirtd.conf: a small "key = value" file ('#' comments, "quoted" strings,
 * numbers; permissions in octal). */
#pragma once

#include <glib.h>

#include "rpc_server.h"

typedef struct {
    TvRpcServerConfig rpc;
    guint unix_sock_rw_perms;
    guint unix_sock_ro_perms;
    guint log_level; /* 1 debug, 2 info, 3 warning, 4 error */
    char *emulator;  /* NULL: the driver's default */
    char *host_root; /* NULL: "/" */
    gboolean autostart;
    gboolean prefork_qemu; /* fork domains' QEMUs from a preloaded one (off by default) */
    /* QEMU's confinement (qemu_security.h, docs/security.rst) */
    char *user;  /* NULL: tagvirt-qemu */
    char *group; /* NULL: the user's group */
    gboolean seccomp_sandbox;
    char *namespaces; /* "mount" (the default) or "" */
    gboolean dynamic_ownership;
    char *security_driver; /* "auto" (the default), "apparmor", "none" */
    /* make the 'default' NAT network at the first start; -1: yes unless --root */
    gboolean default_network;
    char *storage_pool_roots; /* ':'-separated folders pool targets may be in; NULL: defaults */
    /* TCP with TLS, as libvirtd's keys (docs/migration.rst): served with --listen */
    gboolean listen_tls;
    char *listen_addr; /* NULL: every address */
    char *tls_port;    /* a port number or service name; NULL: 16514 */
    char *auth_tls;    /* NULL or "none": the certificate is the authentication */
    char *ca_file, *cert_file, *key_file, *crl_file; /* NULL: libvirt's locations */
    gboolean tls_no_verify_certificate;
    gboolean tls_no_sanity_certificate;
    char **tls_allowed_dn_list;        /* NULL: any certificate the CA signed */
    char *tls_priority;                /* NULL: "NORMAL" */
    gboolean allow_broken_tag_storage; /* MTE on QEMU 7.2's broken tag storage */
    guint job_wait_ms; /* how long a domain's job waits for another (libvirt: 30 s) */
    /* incoming migrations: QEMU's TCP ports and default listen address */
    guint migration_port_min, migration_port_max;
    char *migration_address;
    guint migration_incoming_timeout; /* seconds */
    /* TLS for QEMU's migration stream (VIR_MIGRATE_TLS): the x509 folder
     * (NULL: /etc/pki/qemu, or ROOT/pki/qemu with --root) and whether the
     * destination asks for the source's certificate (default on) */
    char *migrate_tls_x509_cert_dir;
    gboolean migrate_tls_x509_verify;
} TvDaemonConfig;

void tv_daemon_config_init(TvDaemonConfig *cfg);
void tv_daemon_config_clear(TvDaemonConfig *cfg);
/* Read path over the defaults; a missing file is an error only when
 * must_exist.  -1 with a tv_error naming the file, line and key. */
int tv_daemon_config_load(TvDaemonConfig *cfg, const char *path, gboolean must_exist);
/* Same for text already in memory (name is used in messages). */
int tv_daemon_config_parse(TvDaemonConfig *cfg, const char *name, const char *text);
