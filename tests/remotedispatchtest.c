/* The remote program without a driver: connection-level procedures, the
 * "unknown procedure" answer clients depend on, read-only refusals, bad
 * arguments and event callbacks. */
#include <string.h>

#include "remote.h"
#include "remote_procedures.h"
#include "rpctestutils.h"

typedef struct {
    TvRemote *remote;
    TvRemoteConn *conn;
    guint32 serial;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->remote = tv_remote_new(NULL);
    f->conn = tv_remote_conn_new(f->remote, NULL, GPOINTER_TO_INT(data));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    tv_remote_conn_free(f->conn);
    tv_remote_free(f->remote);
}

/* Run one call; returns the reply frame's status and its message. */
static GBytes *call(Fixture *f, int proc, xdrproc_t filter, const void *args, int *status,
                    TvRpcMessage *reply_msg)
{
    g_autoptr(GBytes) frame = tv_test_call(proc, ++f->serial, filter, args);
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    TvRpcMessage msg;
    g_assert_cmpint(tv_rpc_message_decode(data, len, &msg), ==, TV_RPC_FRAME_CALL);
    GBytes *reply = tv_remote_dispatch(f->conn, &msg);
    g_assert_nonnull(reply);
    *status = tv_test_reply_status(reply, f->serial, proc, reply_msg);
    return reply;
}

static void ok_call(Fixture *f, int proc, xdrproc_t afilter, const void *args, xdrproc_t rfilter,
                    void *ret)
{
    int status;
    TvRpcMessage msg;
    g_autoptr(GBytes) reply = call(f, proc, afilter, args, &status, &msg);
    if (status != TVR_STATUS_OK) {
        tvr_error err;
        tv_test_reply_error(reply, &err);
        g_error("procedure %d failed: %s", proc, *err.message);
    }
    g_assert_true(tv_rpc_message_decode_payload(&msg, rfilter, ret));
}

static void error_call(Fixture *f, int proc, xdrproc_t afilter, const void *args, int code,
                       int domain, const char *prefix)
{
    int status;
    TvRpcMessage msg;
    g_autoptr(GBytes) reply = call(f, proc, afilter, args, &status, &msg);
    g_assert_cmpint(status, ==, TVR_STATUS_ERROR);
    tvr_error err;
    tv_test_reply_error(reply, &err);
    g_test_message("procedure %d: %s", proc, *err.message);
    g_assert_cmpint(err.code, ==, code);
    g_assert_cmpint(err.domain, ==, domain);
    g_assert_cmpint(err.level, ==, 2);
    g_assert_true(g_str_has_prefix(*err.message, prefix));
    xdr_free(TV_XDR(xdr_tvr_error), &err);
}

static void open_conn(Fixture *f, const char *uri, unsigned flags)
{
    char *name = (char *)uri;
    tvr_connect_open_args args = { uri ? &name : NULL, flags };
    char dummy;
    ok_call(f, TVR_PROC_CONNECT_OPEN, TV_XDR(xdr_tvr_connect_open_args), &args, TV_XDR(xdr_void),
            &dummy);
}

static int feature(Fixture *f, int feat)
{
    tvr_connect_supports_feature_args args = { feat };
    tvr_connect_supports_feature_ret ret = { -1 };
    ok_call(f, TVR_PROC_CONNECT_SUPPORTS_FEATURE, TV_XDR(xdr_tvr_connect_supports_feature_args),
            &args, TV_XDR(xdr_tvr_connect_supports_feature_ret), &ret);
    return ret.supported;
}

/* What virsh does on every command, in its order. */
static void test_setup_sequence(Fixture *f, gconstpointer data)
{
    tvr_auth_list_ret auth = { 0 };
    ok_call(f, TVR_PROC_AUTH_LIST, TV_XDR(xdr_void), NULL, TV_XDR(xdr_tvr_auth_list_ret), &auth);
    g_assert_cmpuint(auth.types.types_len, ==, 1);
    g_assert_cmpint(auth.types.types_val[0], ==, 0);
    xdr_free(TV_XDR(xdr_tvr_auth_list_ret), &auth);

    g_assert_cmpint(feature(f, 10), ==, 1); /* keepalive */
    open_conn(f, "qemu:///system", 0);
    g_assert_cmpint(feature(f, 14), ==, 1); /* event callbacks */
    g_assert_cmpint(feature(f, 15), ==, 1); /* close callback: 360/361 below */
    /* without a driver: no migration (v3 6, p2p 4, migratable XML 11,
     * params 13 need the QEMU driver; migration-test.py sees them with it) */
    for (int feat = 3; feat <= 13; feat++)
        if (feat != 9 && feat != 10)
            g_assert_cmpint(feature(f, feat), ==, 0);
    g_assert_cmpint(feature(f, 9999), ==, 0);

    char dummy;
    ok_call(f, TVR_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, TV_XDR(xdr_void), NULL, TV_XDR(xdr_void),
            &dummy);
    error_call(f, TVR_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, TV_XDR(xdr_void), NULL,
               TV_ERR_OPERATION_INVALID, TV_FROM_RPC, "a close callback is already");
    ok_call(f, TVR_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, TV_XDR(xdr_void), NULL, TV_XDR(xdr_void),
            &dummy);

    tvr_connect_get_type_ret type = { 0 };
    ok_call(f, TVR_PROC_CONNECT_GET_TYPE, TV_XDR(xdr_void), NULL,
            TV_XDR(xdr_tvr_connect_get_type_ret), &type);
    g_assert_cmpstr(type.type, ==, "QEMU");
    xdr_free(TV_XDR(xdr_tvr_connect_get_type_ret), &type);

    tvr_connect_get_hostname_ret host = { 0 };
    ok_call(f, TVR_PROC_CONNECT_GET_HOSTNAME, TV_XDR(xdr_void), NULL,
            TV_XDR(xdr_tvr_connect_get_hostname_ret), &host);
    g_assert_cmpstr(host.hostname, ==, g_get_host_name());
    xdr_free(TV_XDR(xdr_tvr_connect_get_hostname_ret), &host);

    tvr_connect_get_lib_version_ret lib = { 0 };
    ok_call(f, TVR_PROC_CONNECT_GET_LIB_VERSION, TV_XDR(xdr_void), NULL,
            TV_XDR(xdr_tvr_connect_get_lib_version_ret), &lib);
    g_assert_cmpuint(lib.lib_ver, ==, TV_REMOTE_LIB_VERSION);

    tvr_connect_is_secure_ret secure = { 0 };
    ok_call(f, TVR_PROC_CONNECT_IS_SECURE, TV_XDR(xdr_void), NULL,
            TV_XDR(xdr_tvr_connect_is_secure_ret), &secure);
    g_assert_cmpint(secure.secure, ==, 1);

    tvr_connect_get_version_ret ver = { 7 };
    ok_call(f, TVR_PROC_CONNECT_GET_VERSION, TV_XDR(xdr_void), NULL,
            TV_XDR(xdr_tvr_connect_get_version_ret), &ver);
    g_assert_cmpuint(ver.hv_ver, ==, 0); /* unknown without a driver */

    ok_call(f, TVR_PROC_CONNECT_CLOSE, TV_XDR(xdr_void), NULL, TV_XDR(xdr_void), &dummy);
    error_call(f, TVR_PROC_CONNECT_GET_TYPE, TV_XDR(xdr_void), NULL, TV_ERR_OPERATION_INVALID,
               TV_FROM_RPC, "connection not open");
}

static void test_open_errors(Fixture *f, gconstpointer data)
{
    error_call(f, TVR_PROC_CONNECT_GET_HOSTNAME, TV_XDR(xdr_void), NULL, TV_ERR_OPERATION_INVALID,
               TV_FROM_RPC, "connection not open");
    const char *bad_uris[] = { "xen:///system", "qemu:///embed", "lxc://", "::::" };
    for (gsize i = 0; i < G_N_ELEMENTS(bad_uris); i++) {
        char *name = (char *)bad_uris[i];
        tvr_connect_open_args args = { &name, 0 };
        error_call(f, TVR_PROC_CONNECT_OPEN, TV_XDR(xdr_tvr_connect_open_args), &args,
                   TV_ERR_NO_SUPPORT, TV_FROM_RPC, "tagvirtd cannot open");
    }
    tvr_connect_open_args flags = { NULL, 0x10 };
    error_call(f, TVR_PROC_CONNECT_OPEN, TV_XDR(xdr_tvr_connect_open_args), &flags,
               TV_ERR_INVALID_ARG, TV_FROM_RPC, "CONNECT_OPEN flags 0x10");
    open_conn(f, NULL, 0);
    tvr_connect_open_args again = { NULL, 0 };
    error_call(f, TVR_PROC_CONNECT_OPEN, TV_XDR(xdr_tvr_connect_open_args), &again,
               TV_ERR_OPERATION_INVALID, TV_FROM_RPC, "connection already open");
}

static void test_unknown_procedure(Fixture *f, gconstpointer data)
{
    open_conn(f, "qemu:///system", 0);
    /* not in the table at all, in the table without a driver, and a server-only message */
    const int procs[] = { 0,
                          8,
                          51,
                          999,
                          -5,
                          TVR_PROC_CONNECT_LIST_ALL_DOMAINS,
                          TVR_PROC_DOMAIN_GET_STATE,
                          TVR_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE };
    for (gsize i = 0; i < G_N_ELEMENTS(procs); i++)
        error_call(f, procs[i], TV_XDR(xdr_void), NULL, TV_ERR_RPC, TV_FROM_RPC,
                   "unknown procedure");
}

static void test_readonly(Fixture *f, gconstpointer data)
{
    open_conn(f, "qemu:///system", 0);
    g_assert_cmpint(feature(f, 10), ==, 1);
    tvr_domain_args dom = { { (char *)"vm1", { 0 }, -1 } };
    const int changes[] = { TVR_PROC_DOMAIN_CREATE, TVR_PROC_DOMAIN_DESTROY,
                            TVR_PROC_DOMAIN_UNDEFINE, TVR_PROC_DOMAIN_SUSPEND };
    for (gsize i = 0; i < G_N_ELEMENTS(changes); i++)
        error_call(f, changes[i], TV_XDR(xdr_tvr_domain_args), &dom, TV_ERR_OPERATION_DENIED,
                   TV_FROM_RPC, "operation forbidden: read only access prevents");
    /* queries stay allowed (and are unknown without a driver) */
    error_call(f, TVR_PROC_DOMAIN_IS_ACTIVE, TV_XDR(xdr_tvr_domain_args), &dom, TV_ERR_RPC,
               TV_FROM_RPC, "unknown procedure");
}

/* The read-write socket with CONNECT_OPEN's read-only flag acts the same. */
static void test_readonly_flag(Fixture *f, gconstpointer data)
{
    open_conn(f, "qemu:///system", 1);
    tvr_domain_define_xml_args def = { (char *)"<domain/>" };
    error_call(f, TVR_PROC_DOMAIN_DEFINE_XML, TV_XDR(xdr_tvr_domain_define_xml_args), &def,
               TV_ERR_OPERATION_DENIED, TV_FROM_RPC, "operation forbidden");
}

static void test_bad_arguments(Fixture *f, gconstpointer data)
{
    open_conn(f, "qemu:///system", 0);
    /* SUPPORTS_FEATURE with no argument, and with one word too many */
    error_call(f, TVR_PROC_CONNECT_SUPPORTS_FEATURE, TV_XDR(xdr_void), NULL, TV_ERR_RPC,
               TV_FROM_RPC, "cannot decode the arguments of CONNECT_SUPPORTS_FEATURE");
    tvr_connect_domain_event_callback_register_any_args two = { 0, NULL };
    error_call(f, TVR_PROC_CONNECT_SUPPORTS_FEATURE,
               TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_args), &two, TV_ERR_RPC,
               TV_FROM_RPC, "cannot decode");
    /* GET_TYPE takes nothing */
    tvr_connect_supports_feature_args one = { 1 };
    error_call(f, TVR_PROC_CONNECT_GET_TYPE, TV_XDR(xdr_tvr_connect_supports_feature_args), &one,
               TV_ERR_RPC, TV_FROM_RPC, "cannot decode");
}

static void test_events(Fixture *f, gconstpointer data)
{
    open_conn(f, "qemu:///system", 0);
    tvr_connect_domain_event_callback_register_any_args reg = { 0, NULL };
    tvr_connect_domain_event_callback_register_any_ret id1 = { 0 }, id2 = { 0 };
    ok_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
            TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_args), &reg,
            TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_ret), &id1);
    tvr_nonnull_domain dom = { (char *)"vm1", { 1, 2, 3 }, -1 };
    reg.dom = &dom;
    ok_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
            TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_args), &reg,
            TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_ret), &id2);
    g_assert_cmpint(id1.callback_id, !=, id2.callback_id);

    /* an emitted event with no socket behind the connection is dropped quietly */
    TvDomainEvent ev = { .dom = { (char *)"vm1", { 1, 2, 3 }, 4 },
                         .id = TV_DOMAIN_EVENT_ID_LIFECYCLE,
                         .event = TV_DOMAIN_EVENT_STARTED };
    tv_remote_emit_event(&ev, f->remote);

    /* every id of libvirt 9.0 registers (Nova: 15, 22; virt-manager: 10, 13, 18, 19, 23) */
    for (int id = 0; id < TV_DOMAIN_EVENT_ID_LAST; id++) {
        tvr_connect_domain_event_callback_register_any_ret r = { 0 };
        reg.event_id = id;
        ok_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_args), &reg,
                TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_ret), &r);
        ev.id = (TvDomainEventId)id;
        tv_remote_emit_event(&ev, f->remote); /* every form encodes */
    }
    reg.event_id = TV_DOMAIN_EVENT_ID_LAST;
    error_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
               TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_args), &reg,
               TV_ERR_INTERNAL_ERROR, TV_FROM_RPC, "unsupported domain event ID 27");
    reg.event_id = -1;
    error_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
               TV_XDR(xdr_tvr_connect_domain_event_callback_register_any_args), &reg,
               TV_ERR_INTERNAL_ERROR, TV_FROM_RPC, "unsupported domain event ID -1");

    char dummy;
    tvr_connect_domain_event_callback_deregister_any_args dereg = { id1.callback_id };
    ok_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
            TV_XDR(xdr_tvr_connect_domain_event_callback_deregister_any_args), &dereg,
            TV_XDR(xdr_void), &dummy);
    error_call(f, TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
               TV_XDR(xdr_tvr_connect_domain_event_callback_deregister_any_args), &dereg,
               TV_ERR_INTERNAL_ERROR, TV_FROM_RPC, "domain event callback");
}

static void test_table(void)
{
    /* every entry found again by its number (each table sorted, no number in
     * two tables), and every number of the wire reference present */
    for (gsize i = 0; i < tv_remote_procedure_count(); i++)
        g_assert_true(tv_remote_procedure_find(tv_remote_procedure_at(i)->proc) ==
                      tv_remote_procedure_at(i));
    const int expected[] = { 1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,
                             15,  16,  22,  23,  24,  27,  28,  29,  33,  34,  35,  59,  60,  66,
                             149, 150, 151, 157, 160, 161, 163, 164, 183, 187, 196, 212, 231, 234,
                             258, 273, 298, 302, 303, 305, 306, 307, 316, 317, 318, 342, 350, 353 };
    for (gsize i = 0; i < G_N_ELEMENTS(expected); i++)
        g_assert_nonnull(tv_remote_procedure_find(expected[i]));
    g_assert_nonnull(tv_remote_procedure_find(174)); /* updateDeviceFlags */
    g_assert_nonnull(tv_remote_procedure_find(392)); /* detachDeviceAlias */
    g_assert_null(tv_remote_procedure_find(103));    /* blockPeek: not implemented */
    /* nothing that changes a domain is allowed read-only */
    const int changes[] = { 8,   9,   10,  11,  12,  13,  27,  28,  29,  33,  34,  35,  160, 161,
                            164, 174, 196, 231, 234, 258, 302, 303, 305, 306, 307, 350, 392 };
    for (gsize i = 0; i < G_N_ELEMENTS(changes); i++)
        g_assert_false(tv_remote_procedure_find(changes[i])->flags & TV_PROC_READONLY_OK);
    /* job, managed save and snapshot queries: read-only and on the reading thread */
    const int queries[] = { 163, 183, 187, 298 };
    for (gsize i = 0; i < G_N_ELEMENTS(queries); i++) {
        unsigned flags = tv_remote_procedure_find(queries[i])->flags;
        g_assert_true((flags & TV_PROC_READONLY_OK) && (flags & TV_PROC_INLINE));
    }
    /* issue 9: host facts, node devices, secrets, vCPU/metadata reads and every
     * event registration work read-only (libvirt: connect:read, getattr) ... */
    const int host_reads[] = { 17,  18,  19,  20,  101, 102, 111, 112, 113, 114, 115, 116,
                               117, 139, 140, 141, 147, 158, 162, 200, 227, 228, 230, 265,
                               285, 287, 293, 312, 313, 314, 368, 369, 374, 375, 380, 381 };
    for (gsize i = 0; i < G_N_ELEMENTS(host_reads); i++)
        g_assert_true(tv_remote_procedure_find(host_reads[i])->flags & TV_PROC_READONLY_OK);
    /* ... what changes a domain does not */
    const int host_changes[] = { 30, 31, 32, 199, 204, 245, 264 };
    for (gsize i = 0; i < G_N_ELEMENTS(host_changes); i++)
        g_assert_false(tv_remote_procedure_find(host_changes[i])->flags & TV_PROC_READONLY_OK);
    /* event messages are the server's only */
    const int messages[] = { 315, 318, 319, 328, 331, 333, 346, 348, 354,
                             363, 367, 370, 373, 376, 377, 379, 382, 383 };
    for (gsize i = 0; i < G_N_ELEMENTS(messages); i++)
        g_assert_true(tv_remote_procedure_find(messages[i])->flags & TV_PROC_SERVER_MESSAGE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, ro, fn)                                                                          \
    g_test_add(path, Fixture, GINT_TO_POINTER(ro), fixture_setup, fn, fixture_teardown)
    ADD("/remote/setup-sequence", FALSE, test_setup_sequence);
    ADD("/remote/open-errors", FALSE, test_open_errors);
    ADD("/remote/unknown-procedure", FALSE, test_unknown_procedure);
    ADD("/remote/readonly-socket", TRUE, test_readonly);
    ADD("/remote/readonly-flag", FALSE, test_readonly_flag);
    ADD("/remote/bad-arguments", FALSE, test_bad_arguments);
    ADD("/remote/events", FALSE, test_events);
    g_test_add_func("/remote/table", test_table);
    return g_test_run();
}
