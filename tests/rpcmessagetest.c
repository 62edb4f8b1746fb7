/* The frame decoder and the XDR filters generated from remote_protocol.x:
 * good frames, and every kind of bad one a client could send. */
#include <string.h>

#include "rpc_message.h"
#include "rpctestutils.h"

static TvRpcFrameKind decode_bytes(GBytes *frame, TvRpcMessage *msg)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    return tv_rpc_message_decode(data, len, msg);
}

static void test_call(void)
{
    tvr_connect_supports_feature_args args = { 10 };
    g_autoptr(GBytes) frame = tv_test_call(TVR_PROC_CONNECT_SUPPORTS_FEATURE, 42,
                                           TV_XDR(xdr_tvr_connect_supports_feature_args), &args);
    g_assert_cmpuint(g_bytes_get_size(frame), ==, 32);
    TvRpcMessage msg;
    g_assert_cmpint(decode_bytes(frame, &msg), ==, TV_RPC_FRAME_CALL);
    g_assert_cmphex(msg.header.prog, ==, 0x20008086);
    g_assert_cmpint(msg.header.proc, ==, 60);
    g_assert_cmpuint(msg.header.serial, ==, 42);
    g_assert_cmpuint(msg.payload_len, ==, 4);

    tvr_connect_supports_feature_args back = { 0 };
    g_assert_true(
        tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_connect_supports_feature_args), &back));
    g_assert_cmpint(back.feature, ==, 10);
}

static void test_keepalive(void)
{
    TvRpcMessage msg;
    g_autoptr(GBytes) ping = tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PING);
    g_autoptr(GBytes) pong = tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PONG);
    g_assert_cmpint(decode_bytes(ping, &msg), ==, TV_RPC_FRAME_PING);
    g_assert_cmphex(msg.header.prog, ==, 0x6b656570);
    g_assert_cmpint(msg.header.type, ==, TVR_MESSAGE);
    g_assert_cmpuint(msg.header.serial, ==, 0);
    g_assert_cmpint(decode_bytes(pong, &msg), ==, TV_RPC_FRAME_PONG);
    g_assert_cmpuint(g_bytes_get_size(pong), ==, 28);

    /* keepalive with a payload, an unknown keepalive procedure, a wrong version */
    guint32 extra = 0;
    g_autoptr(GBytes) fat =
        tv_test_raw_frame(0, TVR_KEEPALIVE_PROGRAM, 1, 1, TVR_MESSAGE, 0, 0, &extra, 4);
    g_autoptr(GBytes) proc3 =
        tv_test_raw_frame(0, TVR_KEEPALIVE_PROGRAM, 1, 3, TVR_MESSAGE, 0, 0, NULL, 0);
    g_autoptr(GBytes) vers2 =
        tv_test_raw_frame(0, TVR_KEEPALIVE_PROGRAM, 2, 1, TVR_MESSAGE, 0, 0, NULL, 0);
    g_assert_cmpint(decode_bytes(fat, &msg), ==, TV_RPC_FRAME_BAD_HEADER);
    g_assert_cmpint(decode_bytes(proc3, &msg), ==, TV_RPC_FRAME_BAD_HEADER);
    g_assert_cmpint(decode_bytes(vers2, &msg), ==, TV_RPC_FRAME_BAD_HEADER);
}

static void test_truncated(void)
{
    tvr_connect_open_args args = { 0 };
    char *name = (char *)"qemu:///system";
    args.name = &name;
    g_autoptr(GBytes) frame =
        tv_test_call(TVR_PROC_CONNECT_OPEN, 1, TV_XDR(xdr_tvr_connect_open_args), &args);
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    TvRpcMessage msg;
    for (gsize cut = 0; cut < len; cut++)
        g_assert_cmpint(tv_rpc_message_decode(data, cut, &msg), ==, TV_RPC_FRAME_INCOMPLETE);
    g_assert_cmpint(tv_rpc_message_decode(data, len, &msg), ==, TV_RPC_FRAME_CALL);
}

static void test_length_limits(void)
{
    TvRpcMessage msg;
    const guint32 bad[] = { 0, 4, 27, TVR_MESSAGE_MAX + 1, 0x7fffffff, 0xffffffff };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GBytes) f = tv_test_raw_frame(bad[i] ? bad[i] : 1, TVR_REMOTE_PROGRAM, 1, 3,
                                                TVR_CALL, 1, 0, NULL, 0);
        g_assert_cmpint(decode_bytes(f, &msg), ==, TV_RPC_FRAME_BAD_LENGTH);
        guint8 word[4] = { bad[i] >> 24, bad[i] >> 16, bad[i] >> 8, bad[i] };
        g_assert_cmpuint(tv_rpc_frame_length(word), ==, 0);
    }
    /* the largest length is accepted, and then the bytes are missing */
    g_autoptr(GBytes) max =
        tv_test_raw_frame(TVR_MESSAGE_MAX, TVR_REMOTE_PROGRAM, 1, 3, TVR_CALL, 1, 0, NULL, 0);
    g_assert_cmpint(decode_bytes(max, &msg), ==, TV_RPC_FRAME_INCOMPLETE);
    /* more bytes than announced */
    guint32 extra[2] = { 0, 0 };
    g_autoptr(GBytes) trailing =
        tv_test_raw_frame(28, TVR_REMOTE_PROGRAM, 1, 3, TVR_CALL, 1, 0, extra, sizeof(extra));
    g_assert_cmpint(decode_bytes(trailing, &msg), ==, TV_RPC_FRAME_TRAILING);
}

static void test_bad_header(void)
{
    TvRpcMessage msg;
    const struct {
        guint32 prog;
        gint32 type, status;
        TvRpcFrameKind kind;
    } cases[] = {
        { TVR_REMOTE_PROGRAM, TVR_REPLY, 0, TV_RPC_FRAME_BAD_HEADER },
        { TVR_REMOTE_PROGRAM, TVR_STREAM, 77, TV_RPC_FRAME_BAD_HEADER },
        /* finish, data and abort of a stream; the server decides whether one is open */
        { TVR_REMOTE_PROGRAM, TVR_STREAM, TVR_STATUS_OK, TV_RPC_FRAME_STREAM },
        { TVR_REMOTE_PROGRAM, TVR_STREAM, TVR_STATUS_CONTINUE, TV_RPC_FRAME_STREAM },
        { TVR_REMOTE_PROGRAM, TVR_STREAM, TVR_STATUS_ERROR, TV_RPC_FRAME_STREAM },
        { TVR_REMOTE_PROGRAM, TVR_MESSAGE, 0, TV_RPC_FRAME_BAD_HEADER },
        { TVR_REMOTE_PROGRAM, 4, 0, TV_RPC_FRAME_BAD_HEADER },
        { TVR_REMOTE_PROGRAM, -1, 0, TV_RPC_FRAME_BAD_HEADER },
        { TVR_REMOTE_PROGRAM, TVR_CALL, TVR_STATUS_ERROR, TV_RPC_FRAME_BAD_HEADER },
        { TVR_REMOTE_PROGRAM, TVR_CALL, 77, TV_RPC_FRAME_BAD_HEADER },
        /* an unknown program is still a call: the server answers it with an error */
        { 0x12345678, TVR_CALL, 0, TV_RPC_FRAME_CALL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GBytes) f =
            tv_test_raw_frame(0, cases[i].prog, 1, 3, cases[i].type, 9, cases[i].status, NULL, 0);
        g_assert_cmpint(decode_bytes(f, &msg), ==, cases[i].kind);
    }
}

/* Payloads that must be refused by the generated filters, none of them
 * allocating what their length word claims. */
static void test_garbage_payload(void)
{
    const struct {
        const char *what;
        guint32 words[8];
        gsize n;
    } open_cases[] = {
        { "empty", { 0 }, 0 },
        { "optional flag 2", { 2, 0 }, 2 },
        { "string of 4 GiB", { 1, 0xffffffff, 0 }, 3 },
        { "string one byte over the limit", { 1, TVR_STRING_MAX + 1, 0 }, 3 },
        { "string longer than the payload", { 1, 100, 0x41414141, 0 }, 4 },
        { "flags missing", { 1, 4, 0x71656d75 }, 3 },
        { "trailing word", { 0, 0, 0 }, 3 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(open_cases); i++) {
        g_autoptr(GBytes) payload = tv_test_words(open_cases[i].words, open_cases[i].n);
        TvRpcMessage msg = { 0 };
        msg.payload = g_bytes_get_data(payload, &msg.payload_len);
        tvr_connect_open_args args = { 0 };
        g_test_message("CONNECT_OPEN payload: %s", open_cases[i].what);
        g_assert_false(
            tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_connect_open_args), &args));
        g_assert_null(args.name);
    }

    /* typed parameters: unknown type 8, and 65 of them */
    const guint32 bad_type[] = { 1, 4, 0x62616e64, 8, 0, 0 };
    const guint32 too_many[] = { TVR_PARAMS_MAX + 1 };
    const guint32 *p_cases[] = { bad_type, too_many };
    gsize p_lens[] = { G_N_ELEMENTS(bad_type), G_N_ELEMENTS(too_many) };
    for (gsize i = 0; i < G_N_ELEMENTS(p_cases); i++) {
        g_autoptr(GBytes) payload = tv_test_words(p_cases[i], p_lens[i]);
        TvRpcMessage msg = { 0 };
        msg.payload = g_bytes_get_data(payload, &msg.payload_len);
        tvr_params params = { 0 };
        g_assert_false(tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_params), &params));
    }

    /* a domain list claiming 16385 entries */
    const guint32 list[] = { TVR_DOMAIN_LIST_MAX + 1, 0 };
    g_autoptr(GBytes) payload = tv_test_words(list, G_N_ELEMENTS(list));
    TvRpcMessage msg = { 0 };
    msg.payload = g_bytes_get_data(payload, &msg.payload_len);
    tvr_connect_list_all_domains_ret ret = { 0 };
    g_assert_false(
        tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_connect_list_all_domains_ret), &ret));
}

static void test_typed_params(void)
{
    char *s = (char *)"tcp://dst:49152";
    tvr_typed_param items[3] = { 0 };
    items[0].field = (char *)"migrate_uri";
    items[0].value.type = 7;
    items[0].value.tvr_typed_param_value_u.s = s;
    items[1].field = (char *)"bandwidth";
    items[1].value.type = 4;
    items[1].value.tvr_typed_param_value_u.ul = 1ULL << 40;
    items[2].field = (char *)"x";
    items[2].value.type = 5;
    items[2].value.tvr_typed_param_value_u.d = 0.5;
    tvr_params params = { 3, items };
    tvr_header hdr = { TVR_REMOTE_PROGRAM, 1, TVR_PROC_DOMAIN_GET_JOB_STATS, TVR_CALL, 1, 0 };
    g_autoptr(GBytes) frame = tv_rpc_message_encode(&hdr, TV_XDR(xdr_tvr_params), &params);
    g_assert_nonnull(frame);
    TvRpcMessage msg;
    g_assert_cmpint(decode_bytes(frame, &msg), ==, TV_RPC_FRAME_CALL);
    tvr_params back = { 0 };
    g_assert_true(tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_params), &back));
    g_assert_cmpuint(back.tvr_params_len, ==, 3);
    g_assert_cmpstr(back.tvr_params_val[0].value.tvr_typed_param_value_u.s, ==, s);
    g_assert_cmpuint(back.tvr_params_val[1].value.tvr_typed_param_value_u.ul, ==, 1ULL << 40);
    g_assert_cmpfloat(back.tvr_params_val[2].value.tvr_typed_param_value_u.d, ==, 0.5);
    xdr_free(TV_XDR(xdr_tvr_params), &back);
}

/* Stream packets carry raw bytes, keep the call's procedure and serial, and
 * decode as STREAM frames again; a stream error carries libvirt's error. */
/* DOMAIN_OPEN_GRAPHICS_FD's reply as libvirt's client reads it: type
 * REPLY_WITH_FDS (5), then the descriptor count, then the (empty) payload. */
static void test_reply_fds(void)
{
    tvr_header call = { TVR_REMOTE_PROGRAM, 1, 343, TVR_CALL, 9, 0 };
    g_autoptr(GBytes) frame = tv_rpc_message_encode_reply_fds(&call, 1, TV_XDR(xdr_void), NULL);
    static const guint8 expected[] = {
        0,    0,    0,    32,                              /* length */
        0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 1, 0x57, /* prog, vers, proc 343 */
        0,    0,    0,    5,    0, 0, 0, 9, 0, 0, 0, 0,    /* REPLY_WITH_FDS, serial, OK */
        0,    0,    0,    1,                               /* one descriptor */
    };
    gsize len;
    const guint8 *bytes = g_bytes_get_data(frame, &len);
    g_assert_cmpmem(bytes, len, expected, sizeof(expected));
}

static void test_stream_packets(void)
{
    tvr_header call = { TVR_REMOTE_PROGRAM, 1, 201, TVR_CALL, 77, 0 };
    const char data[] = "guest output\r\n";
    g_autoptr(GBytes) frame =
        tv_rpc_message_encode_stream(&call, TVR_STATUS_CONTINUE, data, sizeof(data) - 1);
    gsize len;
    const guint8 *bytes = g_bytes_get_data(frame, &len);
    TvRpcMessage msg;
    g_assert_cmpint(tv_rpc_message_decode(bytes, len, &msg), ==, TV_RPC_FRAME_STREAM);
    g_assert_cmpint(msg.header.type, ==, TVR_STREAM);
    g_assert_cmpint(msg.header.status, ==, TVR_STATUS_CONTINUE);
    g_assert_cmpint(msg.header.proc, ==, 201);
    g_assert_cmpuint(msg.header.serial, ==, 77);
    g_assert_cmpmem(msg.payload, msg.payload_len, data, sizeof(data) - 1);

    g_autoptr(GBytes) end = tv_rpc_message_encode_stream(&call, TVR_STATUS_CONTINUE, NULL, 0);
    g_assert_cmpuint(g_bytes_get_size(end), ==, TV_RPC_FRAME_MIN);

    g_autoptr(GBytes) err =
        tv_rpc_message_encode_stream_error(&call, TV_FROM_RPC, TV_ERR_RPC, "gone");
    bytes = g_bytes_get_data(err, &len);
    g_assert_cmpint(tv_rpc_message_decode(bytes, len, &msg), ==, TV_RPC_FRAME_STREAM);
    g_assert_cmpint(msg.header.status, ==, TVR_STATUS_ERROR);
    tvr_error e = { 0 };
    g_assert_true(tv_rpc_message_decode_payload(&msg, TV_XDR(xdr_tvr_error), &e));
    g_assert_cmpint(e.code, ==, 39);
    g_assert_cmpstr(*e.message, ==, "gone");
    xdr_free(TV_XDR(xdr_tvr_error), &e);

    /* a packet beyond the message limit is refused, not truncated */
    g_autofree char *huge = g_malloc0(TVR_MESSAGE_MAX);
    g_assert_null(tv_rpc_message_encode_stream(&call, TVR_STATUS_CONTINUE, huge, TVR_MESSAGE_MAX));
    tv_error_reset();
}

static void test_error_reply(void)
{
    tvr_header call = { TVR_REMOTE_PROGRAM, 1, 273, TVR_CALL, 1234, 0 };
    g_autoptr(GBytes) frame =
        tv_rpc_message_encode_error(&call, TV_FROM_RPC, TV_ERR_RPC, "unknown procedure: 273");
    TvRpcMessage msg;
    g_assert_cmpint(tv_test_reply_status(frame, 1234, 273, &msg), ==, TVR_STATUS_ERROR);
    tvr_error err;
    tv_test_reply_error(frame, &err);
    g_assert_cmpint(err.code, ==, 39);
    g_assert_cmpint(err.domain, ==, 7);
    g_assert_cmpint(err.level, ==, 2);
    g_assert_cmpstr(*err.message, ==, "unknown procedure: 273");
    g_assert_null(err.dom);
    g_assert_null(err.net);
    xdr_free(TV_XDR(xdr_tvr_error), &err);

    /* invalid UTF-8 and a huge message still make a frame */
    g_autofree char *huge = g_strnfill(TVR_STRING_MAX + 10, 'x');
    huge[0] = (char)0xff;
    g_autoptr(GBytes) big =
        tv_rpc_message_encode_error(&call, TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, huge);
    g_assert_nonnull(big);
    g_assert_cmpuint(g_bytes_get_size(big), <, 100 * 1024);
}

static void test_encode_limit(void)
{
    /* 16384 domains with 2 KiB names: over the 32 MiB message limit */
    gsize n = TVR_DOMAIN_LIST_MAX;
    g_autofree char *name = g_strnfill(2100, 'd');
    g_autofree tvr_nonnull_domain *doms = g_new0(tvr_nonnull_domain, n);
    for (gsize i = 0; i < n; i++)
        doms[i].name = name;
    tvr_connect_list_all_domains_ret ret = { { (u_int)n, doms }, (u_int)n };
    tvr_header call = { TVR_REMOTE_PROGRAM, 1, 273, TVR_CALL, 5, 0 };
    tv_error_reset();
    GBytes *frame =
        tv_rpc_message_encode_reply(&call, TV_XDR(xdr_tvr_connect_list_all_domains_ret), &ret);
    g_assert_null(frame);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_RPC);
    g_assert_true(strstr(tv_error_message(), "exceeds the limit") != NULL);

    /* a string over the string limit is refused by the filter itself */
    g_autofree char *long_xml = g_strnfill(TVR_STRING_MAX + 1, 'x');
    tvr_domain_get_xml_desc_ret xml = { long_xml };
    tv_error_reset();
    g_assert_null(
        tv_rpc_message_encode_reply(&call, TV_XDR(xdr_tvr_domain_get_xml_desc_ret), &xml));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_RPC);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/decode/call", test_call);
    g_test_add_func("/rpc/decode/keepalive", test_keepalive);
    g_test_add_func("/rpc/decode/truncated", test_truncated);
    g_test_add_func("/rpc/decode/length-limits", test_length_limits);
    g_test_add_func("/rpc/decode/bad-header", test_bad_header);
    g_test_add_func("/rpc/payload/garbage", test_garbage_payload);
    g_test_add_func("/rpc/payload/typed-params", test_typed_params);
    g_test_add_func("/rpc/encode/error", test_error_reply);
    g_test_add_func("/rpc/encode/stream", test_stream_packets);
    g_test_add_func("/rpc/encode/reply-fds", test_reply_fds);
    g_test_add_func("/rpc/encode/limit", test_encode_limit);
    return g_test_run();
}
