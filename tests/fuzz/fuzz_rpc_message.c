/* Fuzz target for the RPC decoder: one input is one frame as a client would
 * send it (length word included).  It is classified, its arguments decoded
 * with the filter the procedure table names, and calls are dispatched to the
 * remote program without a driver; every reply must decode again.  Stream
 * packets go to the stream layer of such a connection (no stream is open).
 *
 * libFuzzer: LLVMFuzzerTestOneInput is the entry point (clang
 * -fsanitize=fuzzer).  Standalone (-DTV_FUZZ_STANDALONE): main() replays the
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

#ifdef TV_FUZZ_STANDALONE
static gint compare_paths(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *path, GPtrArray *files)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(files, g_strdup(path));
        return;
    }
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    while (dir && (name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_build_filename(path, name, NULL));
    g_ptr_array_sort(names, compare_paths);
    for (guint i = 0; i < names->len; i++)
        g_ptr_array_add(files, g_strdup(names->pdata[i]));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (int i = 1; i < argc; i++)
        collect(argv[i], files);
    if (files->len == 0) {
        printf("Bail out! no input files\n");
        return 1;
    }
    printf("1..%u\n", files->len);
    int failed = 0;
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *bytes = NULL;
        gsize len = 0;
        g_autoptr(GError) err = NULL;
        if (!g_file_get_contents(files->pdata[i], &bytes, &len, &err)) {
            printf("not ok %u - %s: %s\n", i + 1, (char *)files->pdata[i], err->message);
            failed++;
            continue;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)bytes, len);
        printf("ok %u - %s\n", i + 1, (char *)files->pdata[i]);
    }
    return failed ? 1 : 0;
}
#endif
