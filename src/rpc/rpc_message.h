/* Framing of libvirt RPC messages: the u32 length word (counting itself), the
 * 24-byte header and the XDR payload.  Limits are checked on the length word,
 * before anything is allocated for the message. */
#pragma once

#include <glib.h>
#include <rpc/rpc.h>

#include "rpc_protocol.h"
#include "tv_error.h"

/* length word + header: the shortest valid frame */
#define TV_RPC_FRAME_MIN (TVR_LENGTH_SIZE + TVR_HEADER_SIZE)

typedef struct {
    tvr_header header;
    const guint8 *payload; /* inside the decoded buffer */
    gsize payload_len;
} TvRpcMessage;

/* What a frame is, decided from its length word and header alone. */
typedef enum {
    TV_RPC_FRAME_CALL = 0,   /* a CALL (status OK) of some program: dispatch or refuse */
    TV_RPC_FRAME_PING,       /* keepalive PING: answer PONG */
    TV_RPC_FRAME_PONG,       /* keepalive PONG */
    TV_RPC_FRAME_STREAM,     /* data (CONTINUE), finish (OK) or abort (ERROR) of a stream */
    TV_RPC_FRAME_INCOMPLETE, /* fewer bytes than the length word announces */
    TV_RPC_FRAME_BAD_LENGTH, /* length word below 28 or above TVR_MESSAGE_MAX */
    TV_RPC_FRAME_TRAILING,   /* more bytes than the length word announces */
    TV_RPC_FRAME_BAD_HEADER, /* type, status or keepalive procedure a server never accepts */
} TvRpcFrameKind;

const char *tv_rpc_frame_kind_describe(TvRpcFrameKind kind);

/* Length announced by the first 4 bytes, or 0 when it is outside the limits. */
guint32 tv_rpc_frame_length(const guint8 word[4]);

/* The decoder entry point: classify one complete frame of len bytes (length
 * word included) and fill msg for CALL/PING/PONG.  Never allocates; safe on
 * any input. */
TvRpcFrameKind tv_rpc_message_decode(const guint8 *buf, gsize len, TvRpcMessage *msg);

/* Decode msg's payload with filter into obj (zeroed by the caller); FALSE on
 * malformed XDR or bytes left over, with obj freed again. */
gboolean tv_rpc_message_decode_payload(const TvRpcMessage *msg, xdrproc_t filter, void *obj);

/* A whole frame: length word, header, filter(payload).  NULL with a tv_error
 * (RPC) when it would exceed TVR_MESSAGE_MAX or the filter fails. */
GBytes *tv_rpc_message_encode(const tvr_header *hdr, xdrproc_t filter, const void *payload);
/* REPLY to call (prog, vers, proc, serial copied) with status OK. */
GBytes *tv_rpc_message_encode_reply(const tvr_header *call, xdrproc_t filter, const void *ret);
/* REPLY_WITH_FDS to call with status OK: the count nfds, then filter(ret); the
 * descriptors themselves go after the frame (tv_rpc_conn_send_fds). */
GBytes *tv_rpc_message_encode_reply_fds(const tvr_header *call, guint nfds, xdrproc_t filter,
                                        const void *ret);
/* REPLY with status ERROR carrying code, domain, level 2 and message. */
GBytes *tv_rpc_message_encode_error(const tvr_header *call, TvErrorDomain domain, TvErrorCode code,
                                    const char *message);
/* A STREAM frame for the stream opened by the call stream (prog, vers, proc,
 * serial copied): status TVR_STATUS_CONTINUE with raw data (len 0: the end
 * of the data), or TVR_STATUS_OK with none (a finish or abort confirmed). */
GBytes *tv_rpc_message_encode_stream(const tvr_header *stream, int status, const void *data,
                                     gsize len);
/* A STREAM frame with status ERROR: the stream failed (code, domain, message
 * as in tv_rpc_message_encode_error). */
GBytes *tv_rpc_message_encode_stream_error(const tvr_header *stream, TvErrorDomain domain,
                                           TvErrorCode code, const char *message);
/* Keepalive PING or PONG (proc TVR_KEEPALIVE_*). */
GBytes *tv_rpc_message_encode_keepalive(int proc);

/* Casts a typed XDR filter to the generic filter type without a
 * function-type-cast warning. */
#define TV_XDR(fn) ((xdrproc_t)(void (*)(void))(fn))
