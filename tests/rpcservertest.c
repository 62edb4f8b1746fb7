/* The RPC server with a test program on a real unix socket: a slow call
 * must not hold up keepalive, quick calls or other clients; server-initiated
 * messages arrive; stopping waits for running calls. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc_server.h"
#include "rpctestutils.h"

#define PROC_SLOW  1
#define PROC_QUICK 2
#define SLOW_MS    1500

typedef struct {
    char *dir;
    char *path;
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    TvRpcServer *srv;
    GMutex lock;
    TvRpcConn *last_client; /* referenced */
    gint slow_running;
} Fixture;

static GBytes *test_dispatch(TvRpcConn *client, const TvRpcMessage *call, void *opaque)
{
    Fixture *f = opaque;
    if (call->header.proc == PROC_SLOW) {
        g_atomic_int_inc(&f->slow_running);
        g_usleep(SLOW_MS * 1000);
        g_atomic_int_dec_and_test(&f->slow_running);
    }
    guint32 value = (guint32)call->header.proc;
    return tv_rpc_message_encode_reply(&call->header, TV_XDR(xdr_u_int), &value);
}

static gboolean test_is_priority(int proc, void *opaque)
{
    return proc != PROC_SLOW;
}

static gpointer test_client_open(TvRpcConn *client, void *opaque)
{
    Fixture *f = opaque;
    g_mutex_lock(&f->lock);
    g_clear_pointer(&f->last_client, tv_rpc_conn_unref);
    f->last_client = tv_rpc_conn_ref(client);
    g_mutex_unlock(&f->lock);
    return GINT_TO_POINTER(1);
}

static gpointer loop_thread(gpointer data)
{
    Fixture *f = data;
    g_main_context_push_thread_default(f->ctx);
    g_main_loop_run(f->loop);
    g_main_context_pop_thread_default(f->ctx);
    return NULL;
}

static void setup(Fixture *f, gconstpointer data)
{
    g_mutex_init(&f->lock);
    f->dir = g_dir_make_tmp("rpcservertest-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "sock", NULL);
    f->ctx = g_main_context_new();
    f->loop = g_main_loop_new(f->ctx, FALSE);
    TvRpcServerConfig cfg;
    tv_rpc_server_config_init(&cfg);
    cfg.max_workers = 1; /* one slow call at a time: quick calls must not queue behind it */
    cfg.prio_workers = 2;
    TvRpcProgram prog = {
        .prog = TVR_REMOTE_PROGRAM,
        .vers = TVR_REMOTE_VERSION,
        .dispatch = test_dispatch,
        .is_priority = test_is_priority,
        .client_open = test_client_open,
        .opaque = f,
    };
    f->srv = tv_rpc_server_new(&cfg, &prog, f->ctx);
    g_assert_cmpint(tv_rpc_server_add_unix(f->srv, f->path, 0600, FALSE), ==, 0);
    f->thread = g_thread_new("loop", loop_thread, f);
}

static void stop_loop(Fixture *f)
{
    if (!f->thread)
        return;
    g_main_loop_quit(f->loop);
    g_main_context_wakeup(f->ctx);
    g_thread_join(f->thread);
    f->thread = NULL;
}

static void teardown(Fixture *f, gconstpointer data)
{
    stop_loop(f);
    tv_rpc_server_free(f->srv);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    g_clear_pointer(&f->last_client, tv_rpc_conn_unref);
    g_main_loop_unref(f->loop);
    g_main_context_unref(f->ctx);
    rmdir(f->dir);
    g_free(f->dir);
    g_free(f->path);
    g_mutex_clear(&f->lock);
}

static int connect_to(Fixture *f)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, f->path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_bytes(int fd, GBytes *frame)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    g_assert_cmpint(send(fd, data, len, MSG_NOSIGNAL), ==, (gssize)len);
    g_bytes_unref(frame);
}

static void send_call(int fd, int proc, guint32 serial)
{
    send_bytes(fd, tv_test_call(proc, serial, TV_XDR(xdr_void), NULL));
}

/* One frame, or NULL at end of stream. */
static GBytes *recv_frame(int fd)
{
    guint8 word[4];
    gssize n = recv(fd, word, 4, MSG_WAITALL);
    if (n == 0)
        return NULL;
    g_assert_cmpint(n, ==, 4);
    guint32 len = tv_rpc_frame_length(word);
    g_assert_cmpuint(len, >, 0);
    guint8 *buf = g_malloc(len);
    memcpy(buf, word, 4);
    g_assert_cmpint(recv(fd, buf + 4, len - 4, MSG_WAITALL), ==, (gssize)(len - 4));
    return g_bytes_new_take(buf, len);
}

static TvRpcFrameKind recv_kind(int fd, TvRpcMessage *msg, GBytes **keep)
{
    *keep = recv_frame(fd);
    g_assert_nonnull(*keep);
    gsize len;
    const guint8 *data = g_bytes_get_data(*keep, &len);
    return tv_rpc_message_decode(data, len, msg);
}

static void test_slow_call(Fixture *f, gconstpointer data)
{
    int a = connect_to(f);
    int b = connect_to(f);
    gint64 start = g_get_monotonic_time();
    send_call(a, PROC_SLOW, 1);
    while (!g_atomic_int_get(&f->slow_running))
        g_usleep(1000);

    /* the same client: keepalive and a quick call are answered while the slow one runs */
    send_bytes(a, tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PING));
    TvRpcMessage msg;
    g_autoptr(GBytes) pong = NULL;
    g_assert_cmpint(recv_kind(a, &msg, &pong), ==, TV_RPC_FRAME_PONG);
    send_call(a, PROC_QUICK, 2);
    g_autoptr(GBytes) quick = NULL;
    recv_kind(a, &msg, &quick);
    g_assert_cmpuint(msg.header.serial, ==, 2);

    /* another client too, even with the only job worker busy */
    send_call(b, PROC_QUICK, 7);
    g_autoptr(GBytes) other = NULL;
    recv_kind(b, &msg, &other);
    g_assert_cmpuint(msg.header.serial, ==, 7);
    g_assert_cmpint(g_get_monotonic_time() - start, <, SLOW_MS * 1000);
    g_assert_cmpint(g_atomic_int_get(&f->slow_running), ==, 1);

    g_autoptr(GBytes) slow = NULL;
    recv_kind(a, &msg, &slow);
    g_assert_cmpuint(msg.header.serial, ==, 1);
    g_assert_cmpint(msg.header.status, ==, TVR_STATUS_OK);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, SLOW_MS * 1000);
    close(a);
    close(b);
}

static void test_server_message(Fixture *f, gconstpointer data)
{
    int fd = connect_to(f);
    send_call(fd, PROC_QUICK, 1);
    TvRpcMessage msg;
    g_autoptr(GBytes) reply = NULL;
    recv_kind(fd, &msg, &reply);

    tvr_header hdr = { TVR_REMOTE_PROGRAM, 1, 318, TVR_MESSAGE, 0, TVR_STATUS_OK };
    guint32 value = 99;
    g_mutex_lock(&f->lock);
    g_assert_true(
        tv_rpc_conn_send(f->last_client, tv_rpc_message_encode(&hdr, TV_XDR(xdr_u_int), &value)));
    g_mutex_unlock(&f->lock);
    g_autoptr(GBytes) event = recv_frame(fd);
    gsize len;
    const guint8 *bytes = g_bytes_get_data(event, &len);
    g_assert_cmpuint(len, ==, 32);
    tv_rpc_message_decode(bytes, len, &msg);
    g_assert_cmpint(msg.header.type, ==, TVR_MESSAGE);
    g_assert_cmpint(msg.header.proc, ==, 318);

    /* after the client is gone, sending is refused quietly */
    close(fd);
    for (int i = 0; i < 200 && tv_rpc_server_client_count(f->srv) > 0; i++)
        g_usleep(10000);
    g_assert_cmpuint(tv_rpc_server_client_count(f->srv), ==, 0);
    g_mutex_lock(&f->lock);
    g_assert_false(
        tv_rpc_conn_send(f->last_client, tv_rpc_message_encode(&hdr, TV_XDR(xdr_u_int), &value)));
    g_mutex_unlock(&f->lock);
}

static void test_stop_during_call(Fixture *f, gconstpointer data)
{
    int fd = connect_to(f);
    send_call(fd, PROC_SLOW, 1);
    while (!g_atomic_int_get(&f->slow_running))
        g_usleep(1000);
    stop_loop(f);
    tv_rpc_server_stop(f->srv);
    /* stop returned after the call finished; the client was hung up, no reply */
    g_assert_cmpint(g_atomic_int_get(&f->slow_running), ==, 0);
    g_autoptr(GBytes) none = recv_frame(fd);
    g_assert_null(none);
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/rpc/server/slow-call", Fixture, NULL, setup, test_slow_call, teardown);
    g_test_add("/rpc/server/message", Fixture, NULL, setup, test_server_message, teardown);
    g_test_add("/rpc/server/stop-during-call", Fixture, NULL, setup, test_stop_during_call,
               teardown);
    return g_test_run();
}
