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

#define PROC_SLOW      1
#define PROC_QUICK     2
#define PROC_KEEPALIVE 3 /* as CONNECT_SUPPORTS_FEATURE(KEEPALIVE): the server may ping */
#define SLOW_MS        1500

/* What a test changes in the server's configuration. */
typedef struct {
    void (*tweak)(TvRpcServerConfig *cfg);
} Variant;

typedef struct {
    char *dir;
    char *path;
    char *path_ro;
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
    if (call->header.proc == PROC_KEEPALIVE)
        tv_rpc_conn_start_keepalive(client);
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
    f->path_ro = g_build_filename(f->dir, "sock-ro", NULL);
    f->ctx = g_main_context_new();
    f->loop = g_main_loop_new(f->ctx, FALSE);
    TvRpcServerConfig cfg;
    tv_rpc_server_config_init(&cfg);
    cfg.max_workers = 1; /* one slow call at a time: quick calls must not queue behind it */
    cfg.prio_workers = 2;
    const Variant *variant = data;
    if (variant)
        variant->tweak(&cfg);
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
    g_assert_cmpint(tv_rpc_server_add_unix(f->srv, f->path_ro, 0666, TRUE), ==, 0);
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
    g_assert_false(g_file_test(f->path_ro, G_FILE_TEST_EXISTS));
    g_clear_pointer(&f->last_client, tv_rpc_conn_unref);
    g_main_loop_unref(f->loop);
    g_main_context_unref(f->ctx);
    rmdir(f->dir);
    g_free(f->dir);
    g_free(f->path);
    g_free(f->path_ro);
    g_mutex_clear(&f->lock);
}

static int connect_path(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int connect_to(Fixture *f)
{
    return connect_path(f->path);
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

/* A call answered: this client is served. */
static void expect_served(int fd, guint32 serial)
{
    send_call(fd, PROC_QUICK, serial);
    TvRpcMessage msg;
    g_autoptr(GBytes) reply = NULL;
    recv_kind(fd, &msg, &reply);
    g_assert_cmpint(msg.header.type, ==, TVR_REPLY);
    g_assert_cmpuint(msg.header.serial, ==, serial);
}

/* Hung up at once: EOF (or a reset) before any frame. */
static void expect_refused(int fd)
{
    guint8 byte;
    g_autoptr(GBytes) call = tv_test_call(PROC_QUICK, 1, TV_XDR(xdr_void), NULL);
    gsize len;
    const guint8 *data = g_bytes_get_data(call, &len);
    (void)!send(fd, data, len, MSG_NOSIGNAL); /* may fail: the server may have closed already */
    g_assert_cmpint(recv(fd, &byte, 1, 0), <=, 0);
}

static void five_clients(TvRpcServerConfig *cfg)
{
    cfg->max_clients = 5; /* max_ro_clients derived: 4 */
}

static void test_readonly_limit(Fixture *f, gconstpointer data)
{
    int ro[5], rw[2];
    for (int i = 0; i < 4; i++) {
        ro[i] = connect_path(f->path_ro);
        expect_served(ro[i], 10 + i);
    }
    g_test_expect_message("tagvirt-rpc", G_LOG_LEVEL_WARNING,
                          "refusing a connection to the read-only socket from pid *, uid *: 4 "
                          "clients connected, 4 of them read-only (max_ro_clients reached*");
    ro[4] = connect_path(f->path_ro);
    expect_refused(ro[4]);
    /* the fifth slot is the read-write socket's, and then nobody gets in */
    rw[0] = connect_to(f);
    expect_served(rw[0], 20);
    g_test_expect_message("tagvirt-rpc", G_LOG_LEVEL_WARNING,
                          "refusing a connection to the read-write socket from * (max_clients "
                          "reached*");
    rw[1] = connect_to(f);
    expect_refused(rw[1]);
    g_test_assert_expected_messages();
    /* a read-only client leaving frees a read-only slot */
    close(ro[0]);
    for (int i = 0; i < 200 && tv_rpc_server_client_count(f->srv) > 4; i++)
        g_usleep(10000);
    ro[0] = connect_path(f->path_ro);
    expect_served(ro[0], 30);
    for (int i = 0; i < 5; i++)
        close(ro[i]);
    close(rw[0]);
    close(rw[1]);
}

static void keepalive_count_0(TvRpcServerConfig *cfg)
{
    cfg->keepalive_interval = 1;
    cfg->keepalive_count = 0;
}

/* libvirt's keepalive_count 0: a keepalive client is never pinged but hung up
 * after keepalive_interval seconds without a message; one that keeps sending
 * whole messages stays. */
static void test_keepalive_count_0(Fixture *f, gconstpointer data)
{
    int quiet = connect_to(f);
    int chatty = connect_to(f);
    send_call(quiet, PROC_KEEPALIVE, 1);
    send_call(chatty, PROC_KEEPALIVE, 1);
    g_autoptr(GBytes) r1 = recv_frame(quiet);
    g_autoptr(GBytes) r2 = recv_frame(chatty);
    g_assert_nonnull(r1);
    g_assert_nonnull(r2);
    gint64 start = g_get_monotonic_time();
    for (guint32 serial = 2; g_get_monotonic_time() - start < 3 * G_USEC_PER_SEC; serial++) {
        expect_served(chatty, serial);
        g_usleep(400 * 1000);
    }
    g_autoptr(GBytes) none = recv_frame(quiet); /* no ping first: EOF */
    g_assert_null(none);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    close(quiet);
    close(chatty);
}

static void keepalive_off(TvRpcServerConfig *cfg)
{
    cfg->keepalive_interval = -1;
    cfg->keepalive_count = 0;
}

/* keepalive_interval -1: never pinged, never dropped for silence. */
static void test_keepalive_off(Fixture *f, gconstpointer data)
{
    int fd = connect_to(f);
    send_call(fd, PROC_KEEPALIVE, 1);
    g_autoptr(GBytes) reply = recv_frame(fd);
    g_assert_nonnull(reply);
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    guint8 byte;
    g_assert_cmpint(recv(fd, &byte, 1, 0), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
    expect_served(fd, 2);
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/rpc/server/slow-call", Fixture, NULL, setup, test_slow_call, teardown);
    g_test_add("/rpc/server/message", Fixture, NULL, setup, test_server_message, teardown);
    g_test_add("/rpc/server/stop-during-call", Fixture, NULL, setup, test_stop_during_call,
               teardown);
    static const Variant five = { five_clients }, ka0 = { keepalive_count_0 },
                         kaoff = { keepalive_off };
    g_test_add("/rpc/server/readonly-limit", Fixture, &five, setup, test_readonly_limit, teardown);
    g_test_add("/rpc/server/keepalive-count-0", Fixture, &ka0, setup, test_keepalive_count_0,
               teardown);
    g_test_add("/rpc/server/keepalive-off", Fixture, &kaoff, setup, test_keepalive_off, teardown);
    return g_test_run();
}
