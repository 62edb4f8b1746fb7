/* TLS for libvirt's protocol (GnuTLS, x509), as libvirt speaks it: the
 * server presents its certificate and asks for the client's; both are
 * checked against the CA (and a CRL when there is one); a client also checks
 * the server's name.  After the handshake the server sends one byte, 1,
 * when it accepted the client (libvirt's clients wait for it). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct TvTlsContext TvTlsContext;
typedef struct TvTlsSession TvTlsSession;

typedef struct {
    bool server;
    const char *ca_file;   /* required */
    const char *cert_file; /* required */
    const char *key_file;  /* required */
    const char *crl_file;  /* optional: NULL or a missing file is no CRL */
    const char *priority;  /* NULL: "NORMAL" */
    /* server: refuse clients without a valid certificate (libvirt's
     * tls_no_verify_certificate = 0); client: check the server's */
    bool verify_peer;
    /* skip the checks of our own certificate at load (libvirtd's
     * tls_no_sanity_certificate) */
    bool no_sanity;
} TvTlsConfig;

/* libvirt's file locations: PKI/CA/cacert.pem, PKI/CA/cacrl.pem,
 * PKI/libvirt/servercert.pem (clientcert.pem), PKI/libvirt/private/
 * serverkey.pem (clientkey.pem) with PKI /etc/pki; a client's pkipath=DIR
 * has DIR/cacert.pem, DIR/clientcert.pem, DIR/clientkey.pem. */
void tv_tls_default_paths(bool server, const char *pkipath, char **ca, char **cert, char **key,
                          char **crl);

/* Loads and checks the files: each readable, the certificate signed by the
 * CA, in its validity period, matching the key.  NULL with a tv_error that
 * names the file and what is wrong. */
TvTlsContext *tv_tls_context_new(const TvTlsConfig *cfg);
void tv_tls_context_free(TvTlsContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvTlsContext, tv_tls_context_free)

/* A session over the connected socket fd (not taken).  hostname: the name a
 * client expects in the server's certificate (NULL: not checked). */
TvTlsSession *tv_tls_session_new(TvTlsContext *ctx, int fd, const char *hostname);
void tv_tls_session_free(TvTlsSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvTlsSession, tv_tls_session_free)

/* 1 done, 0 again when fd is readable (or writable: tv_tls_session_wants_write),
 * -1 with a tv_error. */
int tv_tls_session_handshake(TvTlsSession *s);
bool tv_tls_session_wants_write(TvTlsSession *s);
/* After the handshake: the peer's certificate chain (and the server's name
 * for a client); -1 with a tv_error naming the peer and the reason. */
int tv_tls_session_check_peer(TvTlsSession *s);
/* The distinguished name of the peer's certificate, or NULL. */
char *tv_tls_session_peer_dn(TvTlsSession *s);

/* As read(2)/write(2): -1 with errno EAGAIN when the socket would block,
 * EIO (and a tv_error) on a TLS failure; 0 at the end of the stream. */
ssize_t tv_tls_session_read(TvTlsSession *s, void *buf, size_t len);
ssize_t tv_tls_session_write(TvTlsSession *s, const void *buf, size_t len);
/* Bytes already decrypted and waiting (read them before polling again). */
size_t tv_tls_session_pending(TvTlsSession *s);
