/* Fuzz target for the RPC decoder: one input is one frame as a client would
 * send it (length word included).  It is classified, its arguments decoded
 * with the filter the procedure table names, and calls are dispatched to the
 * remote program without a driver; every reply must decode again.  Stream
 * packets go to the stream layer of such a connection (no stream is open).
 *
 * libFuzzer: LLVMFuzzerTestOneInput is the entry point (clang
 * -fsanitize=fuzzer).  Linked with fuzz_replay.c: a program that replays the
 * files and folders named on the command line and prints TAP. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "remote_procedures.h"
#include "rpc_message.h"
#include "remote_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static TvRemote *fuzz_remote(void)
{
    static TvRemote *remote;
    if (!remote)
        remote = tv_remote_new(NULL);
    return remote;
}

static void check_reply(GBytes *reply, const tvr_header *call)
{
    gsize len;
    const guint8 *bytes = g_bytes_get_data(reply, &len);
    TvRpcMessage msg;
    if (tv_rpc_message_decode(bytes, len, &msg) != TV_RPC_FRAME_BAD_HEADER ||
        msg.header.type != TVR_REPLY || msg.header.serial != call->serial ||
        msg.header.proc != call->proc)
        abort();
    if (msg.header.status == TVR_STATUS_ERROR) {
        tvr_error err = { 0 };
        if (!tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_error), &err) || !err.message)
            abort();
        xdr_free(TV_XDR(xdr_tvr_error), &err);
    }
}

/* The connection state the input asks for: serial bit 0 opened, bit 1 read-only. */
static TvRemoteConn *make_conn(const tvr_header *hdr)
{
    TvRemoteConn *conn = tv_remote_conn_new(fuzz_remote(), NULL, (hdr->serial & 2) != 0);
    if (hdr->serial & 1) {
        tvr_connect_open_args args = { NULL, 0 };
        tvr_header open_hdr = { TVR_REMOTE_PROGRAM, 1, TVR_PROC_CONNECT_OPEN, TVR_CALL, 0, 0 };
        g_autoptr(GBytes) frame =
            tv_rpc_message_encode(&open_hdr, TV_XDR(xdr_tvr_connect_open_args), &args);
        gsize len;
        const guint8 *bytes = g_bytes_get_data(frame, &len);
        TvRpcMessage msg;
        tv_rpc_message_decode(bytes, len, &msg);
        GBytes *reply = tv_remote_dispatch(conn, &msg);
        if (reply)
            g_bytes_unref(reply);
    }
    return conn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4)
        (void)tv_rpc_frame_length(data);
    TvRpcMessage msg;
    TvRpcFrameKind kind = tv_rpc_message_decode(data, size, &msg);
    if (kind == TV_RPC_FRAME_STREAM) {
        TvRemoteConn *conn = make_conn(&msg.header);
        tv_remote_stream_packet(conn, &msg);
        tv_remote_conn_free(conn);
        return 0;
    }
    if (kind != TV_RPC_FRAME_CALL)
        return 0;

    const TvRemoteProcedure *proc = tv_remote_procedure_find(msg.header.proc);
    if (proc) {
        void *args = g_malloc0(proc->args_size);
        if (tv_rpc_message_decode_payload(&msg, proc->args_filter, args))
            xdr_free(proc->args_filter, args);
        g_free(args);
    }
    if (msg.header.prog != TVR_REMOTE_PROGRAM || msg.header.vers != TVR_REMOTE_VERSION)
        return 0;

    TvRemoteConn *conn = make_conn(&msg.header);
    GBytes *reply = tv_remote_dispatch(conn, &msg);
    if (!reply)
        abort();
    check_reply(reply, &msg.header);
    g_bytes_unref(reply);
    tv_remote_conn_free(conn);
    return 0;
}
