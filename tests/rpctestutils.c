#include "rpctestutils.h"

#include <string.h>

static void put32(GByteArray *a, guint32 v)
{
    guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
    g_byte_array_append(a, b, 4);
}

GBytes *tv_test_raw_frame(guint32 length, guint32 prog, guint32 vers, gint32 proc, gint32 type,
                          guint32 serial, gint32 status, const void *payload, gsize payload_len)
{
    GByteArray *a = g_byte_array_new();
    put32(a, length ? length : (guint32)(TV_RPC_FRAME_MIN + payload_len));
    put32(a, prog);
    put32(a, vers);
    put32(a, (guint32)proc);
    put32(a, (guint32)type);
    put32(a, serial);
    put32(a, (guint32)status);
    if (payload_len)
        g_byte_array_append(a, payload, (guint)payload_len);
    return g_byte_array_free_to_bytes(a);
}

GBytes *tv_test_call(int proc, guint32 serial, xdrproc_t filter, const void *args)
{
    tvr_header hdr = {
        TVR_REMOTE_PROGRAM, TVR_REMOTE_VERSION, proc, TVR_CALL, serial, TVR_STATUS_OK
    };
    GBytes *frame = tv_rpc_message_encode(&hdr, filter, args);
    g_assert_nonnull(frame);
    return frame;
}

GBytes *tv_test_words(const guint32 *words, gsize n)
{
    GByteArray *a = g_byte_array_new();
    for (gsize i = 0; i < n; i++)
        put32(a, words[i]);
    return g_byte_array_free_to_bytes(a);
}

int tv_test_reply_status(GBytes *frame, guint32 serial, int proc, TvRpcMessage *msg)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    /* a reply is not something a server accepts, so the decoder calls it a bad header */
    g_assert_cmpint(tv_rpc_message_decode(data, len, msg), ==, TV_RPC_FRAME_BAD_HEADER);
    g_assert_cmphex(msg->header.prog, ==, TVR_REMOTE_PROGRAM);
    g_assert_cmpuint(msg->header.vers, ==, TVR_REMOTE_VERSION);
    g_assert_cmpint(msg->header.proc, ==, proc);
    g_assert_cmpint(msg->header.type, ==, TVR_REPLY);
    g_assert_cmpuint(msg->header.serial, ==, serial);
    return msg->header.status;
}

void tv_test_reply_error(GBytes *frame, tvr_error *err)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    TvRpcMessage msg;
    tv_rpc_message_decode(data, len, &msg);
    g_assert_cmpint(msg.header.status, ==, TVR_STATUS_ERROR);
    memset(err, 0, sizeof(*err));
    g_assert_true(tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_error), err));
    g_assert_nonnull(err->message);
}
