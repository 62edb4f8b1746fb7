/* A blocking client of libvirt's protocol (rpc_client.h). */
#include "rpc_client.h"
#include "tv_error.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct TvRpcClient {
    GMutex lock; /* one call at a time */
    int fd;
    TvTlsSession *tls;
    guint32 serial;
    bool broken;
};

static int deadline_left(gint64 deadline)
{
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    return left > 0 ? (int)left : 0;
}

/* Wait for fd to be readable (or writable); -1 with OPERATION_TIMEOUT. */
static int wait_fd(int fd, bool write, gint64 deadline, const char *what)
{
    for (;;) {
        struct pollfd p = { fd, write ? POLLOUT : POLLIN, 0 };
        int left = deadline_left(deadline);
        int n = poll(&p, 1, left);
        if (n > 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_TIMEOUT,
                            "no answer from the other daemon while %s", what);
            return -1;
        }
        tv_error_report_errno(TV_FROM_RPC, errno, "poll while %s", what);
        return -1;
    }
}

static TvRpcClient *client_new(int fd)
{
    TvRpcClient *c = g_new0(TvRpcClient, 1);
    g_mutex_init(&c->lock);
    c->fd = fd;
    c->serial = 1;
    return c;
}

void tv_rpc_client_free(TvRpcClient *c)
{
    if (!c)
        return;
    tv_tls_session_free(c->tls);
    if (c->fd >= 0)
        close(c->fd);
    g_mutex_clear(&c->lock);
    g_free(c);
}

TvRpcClient *tv_rpc_client_connect_unix(const char *path, guint timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG, "socket path '%s' is too long", path);
        return NULL;
    }
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot connect to '%s'", path);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    (void)timeout_ms; /* a unix connect does not wait */
    return client_new(fd);
}

static int tcp_connect(const char *hostname, guint port, gint64 deadline)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res = NULL;
    g_autofree char *service = g_strdup_printf("%u", port);
    int err = getaddrinfo(hostname, service, &hints, &res);
    if (err) {
        tv_error_report(TV_FROM_RPC, TV_ERR_SYSTEM_ERROR, "cannot resolve '%s': %s", hostname,
                        gai_strerror(err));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, true, deadline, "connecting") == 0) {
            socklen_t len = sizeof(saved);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &saved, &len);
            if (saved == 0)
                break;
        } else {
            saved = errno;
            tv_error_reset();
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        tv_error_report_errno(TV_FROM_RPC, saved ? saved : ECONNREFUSED,
                              "cannot connect to %s port %u", hostname, port);
    return fd;
}

/* libvirt's server sends one byte, 1, once it accepted our certificate. */
static int tls_start(TvRpcClient *c, TvTlsContext *tls, const char *hostname, gint64 deadline)
{
    c->tls = tv_tls_session_new(tls, c->fd, hostname);
    if (!c->tls)
        return -1;
    for (;;) {
        int rc = tv_tls_session_handshake(c->tls);
        if (rc < 0)
            return -1;
        if (rc == 1)
            break;
        if (wait_fd(c->fd, tv_tls_session_wants_write(c->tls), deadline, "TLS handshake") < 0)
            return -1;
    }
    if (tv_tls_session_check_peer(c->tls) < 0)
        return -1;
    for (;;) {
        unsigned char byte = 0;
        ssize_t n = tv_tls_session_read(c->tls, &byte, 1);
        if (n == 1 && byte == 1)
            return 0;
        if (n < 0 && errno == EAGAIN) {
            if (wait_fd(c->fd, false, deadline, "waiting for the server's TLS check") < 0)
                return -1;
            continue;
        }
        tv_error_report(TV_FROM_RPC, TV_ERR_AUTH_FAILED,
                        "the server at %s refused our certificate or address", hostname);
        return -1;
    }
}

TvRpcClient *tv_rpc_client_connect_tcp(const char *hostname, guint port, TvTlsContext *tls,
                                       guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int fd = tcp_connect(hostname, port, deadline);
    if (fd < 0)
        return NULL;
    g_autoptr(TvRpcClient) c = client_new(fd);
    if (tls && tls_start(c, tls, hostname, deadline) < 0)
        return NULL;
    return g_steal_pointer(&c);
}

/* ---- frames ---- */

static int io_write(TvRpcClient *c, const guint8 *buf, gsize len, gint64 deadline)
{
    gsize done = 0;
    while (done < len) {
        ssize_t n = c->tls ? tv_tls_session_write(c->tls, buf + done, len - done)
                           : send(c->fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (gsize)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (wait_fd(c->fd, true, deadline, "sending a call") < 0)
                return -1;
            continue;
        }
        if (!c->tls || errno != EIO)
            tv_error_report_errno(TV_FROM_RPC, errno, "cannot send to the other daemon");
        return -1;
    }
    return 0;
}

static int io_read(TvRpcClient *c, guint8 *buf, gsize len, gint64 deadline)
{
    gsize done = 0;
    while (done < len) {
        ssize_t n = c->tls ? tv_tls_session_read(c->tls, buf + done, len - done)
                           : recv(c->fd, buf + done, len - done, MSG_DONTWAIT);
        if (n > 0) {
            done += (gsize)n;
            continue;
        }
        if (n == 0) {
            tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "the other daemon closed the connection");
            return -1;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (c->tls && tv_tls_session_pending(c->tls))
                continue;
            if (wait_fd(c->fd, false, deadline, "waiting for a reply") < 0)
                return -1;
            continue;
        }
        if (!c->tls || errno != EIO)
            tv_error_report_errno(TV_FROM_RPC, errno, "cannot read from the other daemon");
        return -1;
    }
    return 0;
}

/* One whole frame (length word included); NULL with a tv_error. */
static GBytes *read_frame(TvRpcClient *c, gint64 deadline)
{
    guint8 word[4];
    if (io_read(c, word, sizeof(word), deadline) < 0)
        return NULL;
    guint32 len = tv_rpc_frame_length(word);
    if (len == 0) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "the other daemon sent a frame of bad length");
        return NULL;
    }
    guint8 *buf = g_malloc(len);
    memcpy(buf, word, sizeof(word));
    if (io_read(c, buf + sizeof(word), len - sizeof(word), deadline) < 0) {
        g_free(buf);
        return NULL;
    }
    return g_bytes_new_take(buf, len);
}

static bool header_decode(const guint8 *buf, gsize len, tvr_header *hdr)
{
    XDR xdr;
    xdrmem_create(&xdr, (char *)buf + TVR_LENGTH_SIZE, (u_int)(len - TVR_LENGTH_SIZE), XDR_DECODE);
    bool ok = xdr_tvr_header(&xdr, hdr);
    xdr_destroy(&xdr);
    return ok;
}

static int decode_payload(const guint8 *buf, gsize len, xdrproc_t filter, void *obj)
{
    XDR xdr;
    gsize off = TVR_LENGTH_SIZE + TVR_HEADER_SIZE;
    xdrmem_create(&xdr, (char *)buf + off, (u_int)(len - off), XDR_DECODE);
    bool ok = filter(&xdr, obj, 0) && xdr_getpos(&xdr) == len - off;
    xdr_destroy(&xdr);
    if (!ok) {
        xdr_free(filter, obj);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "cannot decode the other daemon's reply");
        return -1;
    }
    return 0;
}

static void report_remote_error(const guint8 *buf, gsize len)
{
    tvr_error err;
    memset(&err, 0, sizeof(err));
    if (decode_payload(buf, len, TV_XDR(xdr_tvr_error), &err) < 0)
        return;
    tv_error_report((TvErrorDomain)err.domain, (TvErrorCode)err.code, "%s",
                    err.message && *err.message ? *err.message : "unknown error");
    xdr_free(TV_XDR(xdr_tvr_error), &err);
}

/* Under c->lock; -1 with *broken set when the connection cannot go on. */
static int call_locked(TvRpcClient *c, const tvr_header *call, xdrproc_t args_filter,
                       const void *args, xdrproc_t ret_filter, void *ret, gint64 deadline,
                       bool *broken)
{
    *broken = true;
    g_autoptr(GBytes) frame = tv_rpc_message_encode(call, args_filter, args);
    gsize flen = 0;
    const guint8 *fdata = frame ? g_bytes_get_data(frame, &flen) : NULL;
    if (!frame || io_write(c, fdata, flen, deadline) < 0)
        return -1;
    for (;;) {
        g_autoptr(GBytes) in = read_frame(c, deadline);
        if (!in)
            return -1;
        gsize len = 0;
        const guint8 *buf = g_bytes_get_data(in, &len);
        tvr_header hdr;
        if (len < TVR_LENGTH_SIZE + TVR_HEADER_SIZE || !header_decode(buf, len, &hdr)) {
            tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "the other daemon sent a bad header");
            return -1;
        }
        if (hdr.prog == TVR_KEEPALIVE_PROGRAM && hdr.proc == TVR_KEEPALIVE_PING) {
            g_autoptr(GBytes) pong = tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PONG);
            gsize plen = 0;
            const guint8 *pdata = pong ? g_bytes_get_data(pong, &plen) : NULL;
            if (!pong || io_write(c, pdata, plen, deadline) < 0)
                return -1;
            continue;
        }
        if (hdr.type != TVR_REPLY || hdr.serial != call->serial || hdr.prog != call->prog)
            continue; /* an event, a pong, a stream: not ours to handle */
        if (hdr.proc != call->proc) {
            tv_error_report(TV_FROM_RPC, TV_ERR_RPC,
                            "the other daemon answered procedure %d to a call of %d", hdr.proc,
                            call->proc);
            return -1;
        }
        *broken = false;
        if (hdr.status == TVR_STATUS_OK)
            return decode_payload(buf, len, ret_filter, ret);
        report_remote_error(buf, len);
        return -1;
    }
}

bool tv_rpc_client_is_broken(TvRpcClient *c)
{
    g_mutex_lock(&c->lock);
    bool broken = c->broken;
    g_mutex_unlock(&c->lock);
    return broken;
}

int tv_rpc_client_call(TvRpcClient *c, guint32 prog, guint32 vers, int proc, xdrproc_t args_filter,
                       const void *args, xdrproc_t ret_filter, void *ret, guint timeout_ms)
{
    g_mutex_lock(&c->lock);
    int rc = -1;
    if (c->broken) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "the connection to the other daemon is broken");
    } else {
        tvr_header call = { prog, vers, proc, TVR_CALL, c->serial++, TVR_STATUS_OK };
        bool broken = false;
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        rc = call_locked(c, &call, args_filter, args, ret_filter, ret, deadline, &broken);
        c->broken = broken;
    }
    g_mutex_unlock(&c->lock);
    return rc;
}
