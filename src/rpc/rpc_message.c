#include "rpc_message.h"

#include <string.h>

/* Error messages are cut here so an error reply always fits in a frame. */
#define ERROR_MESSAGE_MAX (64 * 1024)

const char *tv_rpc_frame_kind_describe(TvRpcFrameKind kind)
{
    switch (kind) {
    case TV_RPC_FRAME_CALL:
        return "call";
    case TV_RPC_FRAME_PING:
        return "keepalive ping";
    case TV_RPC_FRAME_PONG:
        return "keepalive pong";
    case TV_RPC_FRAME_STREAM:
        return "stream packet";
    case TV_RPC_FRAME_INCOMPLETE:
        return "truncated frame";
    case TV_RPC_FRAME_BAD_LENGTH:
        return "length word outside 28..33554432";
    case TV_RPC_FRAME_TRAILING:
        return "bytes after the announced length";
    case TV_RPC_FRAME_BAD_HEADER:
        return "header a server does not accept (type, status or keepalive procedure)";
    }
    return "unknown frame kind";
}

guint32 tv_rpc_frame_length(const guint8 word[4])
{
    guint32 len = ((guint32)word[0] << 24) | ((guint32)word[1] << 16) | ((guint32)word[2] << 8) |
                  (guint32)word[3];
    if (len < TV_RPC_FRAME_MIN || len > TVR_MESSAGE_MAX)
        return 0;
    return len;
}

static TvRpcFrameKind classify(const tvr_header *hdr, gsize payload_len)
{
    switch (hdr->type) {
    case TVR_CALL:
        return hdr->status == TVR_STATUS_OK ? TV_RPC_FRAME_CALL : TV_RPC_FRAME_BAD_HEADER;
    case TVR_MESSAGE:
        if (hdr->prog != TVR_KEEPALIVE_PROGRAM || hdr->vers != TVR_KEEPALIVE_VERSION ||
            hdr->status != TVR_STATUS_OK || payload_len != 0)
            return TV_RPC_FRAME_BAD_HEADER;
        if (hdr->proc == TVR_KEEPALIVE_PING)
            return TV_RPC_FRAME_PING;
        if (hdr->proc == TVR_KEEPALIVE_PONG)
            return TV_RPC_FRAME_PONG;
        return TV_RPC_FRAME_BAD_HEADER;
    case TVR_STREAM:
        return hdr->status == TVR_STATUS_CONTINUE || hdr->status == TVR_STATUS_OK ||
                       hdr->status == TVR_STATUS_ERROR
                   ? TV_RPC_FRAME_STREAM
                   : TV_RPC_FRAME_BAD_HEADER;
    default:
        /* REPLY travels only from server to client; the rest is not a type */
        return TV_RPC_FRAME_BAD_HEADER;
    }
}

TvRpcFrameKind tv_rpc_message_decode(const guint8 *buf, gsize len, TvRpcMessage *msg)
{
    memset(msg, 0, sizeof(*msg));
    if (len < TVR_LENGTH_SIZE)
        return TV_RPC_FRAME_INCOMPLETE;
    guint32 announced = tv_rpc_frame_length(buf);
    if (announced == 0)
        return TV_RPC_FRAME_BAD_LENGTH;
    if (len < announced)
        return TV_RPC_FRAME_INCOMPLETE;
    if (len > announced)
        return TV_RPC_FRAME_TRAILING;

    XDR xdrs;
    xdrmem_create(&xdrs, (char *)buf + TVR_LENGTH_SIZE, TVR_HEADER_SIZE, XDR_DECODE);
    gboolean ok = xdr_tvr_header(&xdrs, &msg->header);
    xdr_destroy(&xdrs);
    if (!ok)
        return TV_RPC_FRAME_INCOMPLETE; /* unreachable: announced >= 28 */

    msg->payload = buf + TV_RPC_FRAME_MIN;
    msg->payload_len = announced - TV_RPC_FRAME_MIN;
    return classify(&msg->header, msg->payload_len);
}

gboolean tv_rpc_message_decode_payload(const TvRpcMessage *msg, xdrproc_t filter, void *obj)
{
    XDR xdrs;
    xdrmem_create(&xdrs, (char *)msg->payload, msg->payload_len, XDR_DECODE);
    gboolean ok = filter(&xdrs, obj) && xdr_getpos(&xdrs) == msg->payload_len;
    xdr_destroy(&xdrs);
    if (!ok)
        xdr_free(filter, obj);
    return ok;
}

/* A buffer of total bytes with the length word and hdr written; the
 * payload goes after TV_RPC_FRAME_MIN.  NULL with a tv_error. */
static guint8 *frame_start(gsize total, const tvr_header *hdr)
{
    guint8 *buf = g_malloc(total);
    buf[0] = (guint8)(total >> 24);
    buf[1] = (guint8)(total >> 16);
    buf[2] = (guint8)(total >> 8);
    buf[3] = (guint8)total;
    XDR xdrs;
    xdrmem_create(&xdrs, (char *)buf + TVR_LENGTH_SIZE, TVR_HEADER_SIZE, XDR_ENCODE);
    gboolean ok = xdr_tvr_header(&xdrs, (tvr_header *)hdr);
    xdr_destroy(&xdrs);
    if (!ok) {
        g_free(buf);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "cannot encode the header of procedure %d",
                        hdr->proc);
        return NULL;
    }
    return buf;
}

GBytes *tv_rpc_message_encode(const tvr_header *hdr, xdrproc_t filter, const void *payload)
{
    unsigned long payload_len = xdr_sizeof(filter, (void *)payload);
    unsigned long total = TV_RPC_FRAME_MIN + (unsigned long)payload_len;
    if (total > TVR_MESSAGE_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC,
                        "message of %lu bytes for procedure %d exceeds the limit of %d bytes",
                        total, hdr->proc, TVR_MESSAGE_MAX);
        return NULL;
    }

    guint8 *buf = frame_start(total, hdr);
    if (!buf)
        return NULL;
    XDR xdrs;
    xdrmem_create(&xdrs, (char *)buf + TV_RPC_FRAME_MIN, total - TV_RPC_FRAME_MIN, XDR_ENCODE);
    gboolean ok = filter(&xdrs, (void *)payload) && xdr_getpos(&xdrs) == total - TV_RPC_FRAME_MIN;
    xdr_destroy(&xdrs);
    if (!ok) {
        g_free(buf);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "cannot encode the message of procedure %d",
                        hdr->proc);
        return NULL;
    }
    return g_bytes_new_take(buf, total);
}

GBytes *tv_rpc_message_encode_reply(const tvr_header *call, xdrproc_t filter, const void *ret)
{
    tvr_header hdr = *call;
    hdr.type = TVR_REPLY;
    hdr.status = TVR_STATUS_OK;
    return tv_rpc_message_encode(&hdr, filter, ret);
}

typedef struct {
    unsigned int nfds;
    xdrproc_t filter;
    const void *ret;
} FdsPayload;

static bool_t xdr_fds_payload(XDR *xdrs, void *p)
{
    FdsPayload *f = p;
    return xdr_u_int(xdrs, &f->nfds) && f->filter(xdrs, (void *)f->ret);
}

GBytes *tv_rpc_message_encode_reply_fds(const tvr_header *call, guint nfds, xdrproc_t filter,
                                        const void *ret)
{
    tvr_header hdr = *call;
    hdr.type = TVR_REPLY_WITH_FDS;
    hdr.status = TVR_STATUS_OK;
    FdsPayload payload = { nfds, filter, ret };
    return tv_rpc_message_encode(&hdr, TV_XDR(xdr_fds_payload), &payload);
}

static GBytes *encode_error(const tvr_header *call, int type, TvErrorDomain domain,
                            TvErrorCode code, const char *message)
{
    tvr_header hdr = *call;
    hdr.type = type;
    hdr.status = TVR_STATUS_ERROR;

    g_autofree char *text = g_utf8_make_valid(message ? message : "unknown error", -1);
    if (strlen(text) > ERROR_MESSAGE_MAX)
        *g_utf8_find_prev_char(text, text + ERROR_MESSAGE_MAX + 1) = '\0';
    tvr_error err = { 0 };
    err.code = code;
    err.domain = domain;
    err.message = &text;
    err.level = 2;
    return tv_rpc_message_encode(&hdr, TV_XDR(xdr_tvr_error), &err);
}

GBytes *tv_rpc_message_encode_error(const tvr_header *call, TvErrorDomain domain, TvErrorCode code,
                                    const char *message)
{
    return encode_error(call, TVR_REPLY, domain, code, message);
}

GBytes *tv_rpc_message_encode_stream_error(const tvr_header *stream, TvErrorDomain domain,
                                           TvErrorCode code, const char *message)
{
    return encode_error(stream, TVR_STREAM, domain, code, message);
}

GBytes *tv_rpc_message_encode_stream(const tvr_header *stream, int status, const void *data,
                                     gsize len)
{
    gsize total = TV_RPC_FRAME_MIN + len;
    if (total > TVR_MESSAGE_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "stream packet of %zu bytes exceeds the limit",
                        total);
        return NULL;
    }
    tvr_header hdr = *stream;
    hdr.type = TVR_STREAM;
    hdr.status = status;
    guint8 *buf = frame_start(total, &hdr);
    if (!buf)
        return NULL;
    if (len)
        memcpy(buf + TV_RPC_FRAME_MIN, data, len); /* stream data is raw, not XDR */
    return g_bytes_new_take(buf, total);
}

GBytes *tv_rpc_message_encode_keepalive(int proc)
{
    tvr_header hdr = { 0 };
    hdr.prog = TVR_KEEPALIVE_PROGRAM;
    hdr.vers = TVR_KEEPALIVE_VERSION;
    hdr.proc = proc;
    hdr.type = TVR_MESSAGE;
    hdr.serial = 0;
    hdr.status = TVR_STATUS_OK;
    return tv_rpc_message_encode(&hdr, TV_XDR(xdr_void), NULL);
}
