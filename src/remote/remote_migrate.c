/* Migration v3 with parameters on the wire (302, 303, 305, 306, 307;
 * docs/migration.rst): typed parameters to TvMigrateParams, the driver's
 * steps (qemu_driver_migrate*.c), and for peer-to-peer (Perform3 with
 * PEER2PEER and a destination URI) this daemon as the destination's
 * client: Begin here, Prepare there, Perform here, Finish there, Confirm
 * here. */
#include "remote_domain.h"
#include "remote_client.h"
#include "remote_priv.h"

#include <string.h>

#define DRV(conn) ((conn)->remote->drv)

/* TYPED_PARAM_STRING */
#define PARAM_STRING 7

/* the destination's Prepare must answer well before a client gives up */
#define P2P_TIMEOUT_MS (60 * 1000)

/* TYPED_PARAM_ULLONG */
#define PARAM_ULLONG 4

/* The parameters tagvirt reads; the other names libvirt defines are
 * accepted with their type and have no effect. */
static int params_read(TvRemoteConn *conn, const tvr_params *in, TvMigrateParams *out)
{
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
        { "destination_xml", offsetof(TvMigrateParams, dest_xml) },
        { "destination_name", offsetof(TvMigrateParams, dest_name) },
        { "persistent_xml", offsetof(TvMigrateParams, persist_xml) },
        { "migrate_uri", offsetof(TvMigrateParams, uri) },
        { "listen_address", offsetof(TvMigrateParams, listen_address) },
    };
    memset(out, 0, sizeof(*out));
    for (u_int i = 0; i < in->tvr_params_len; i++) {
        const tvr_typed_param *p = &in->tvr_params_val[i];
        if (strcmp(p->field, "bandwidth") == 0) {
            if (p->value.type != PARAM_ULLONG) {
                tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                                "migration parameter 'bandwidth' must be an unsigned long long "
                                "(type %d), got type %d",
                                PARAM_ULLONG, p->value.type);
                return -1;
            }
            out->has_bandwidth = true;
            out->bandwidth = p->value.tvr_typed_param_value_u.ul;
            continue;
        }
        for (size_t j = 0; j < G_N_ELEMENTS(strings); j++) {
            if (strcmp(p->field, strings[j].name) != 0)
                continue;
            if (p->value.type != PARAM_STRING) {
                tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                                "migration parameter '%s' must be a string (type %d), got "
                                "type %d",
                                p->field, PARAM_STRING, p->value.type);
                return -1;
            }
            const char **slot = (const char **)((char *)out + strings[j].offset);
            if (*slot) {
                tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                                "migration parameter '%s' is given more than once", p->field);
                return -1;
            }
            *slot = p->value.tvr_typed_param_value_u.s;
        }
    }
    out->local_addr = conn ? tv_remote_conn_local_address(conn) : NULL;
    out->caller = conn ? conn->serial : 0;
    return 0;
}

static void cookie_set(tvr_cookie *c, char *xml)
{
    c->tvr_cookie_len = xml ? (u_int)strlen(xml) + 1 : 0;
    c->tvr_cookie_val = xml;
}

static int h_begin(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_begin3_params_args *args = a;
    tvr_domain_migrate_begin3_params_ret *ret = r;
    TvMigrateParams params;
    if (params_read(conn, &args->params, &params) < 0)
        return -1;
    char *xml = NULL, *cookie = NULL;
    if (tv_qemu_driver_migrate_begin(DRV(conn), (const unsigned char *)args->dom.uuid, &params,
                                     args->flags, &xml, &cookie) < 0)
        return -1;
    ret->xml = xml;
    cookie_set(&ret->cookie_out, cookie);
    return 0;
}

static int h_prepare(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_prepare3_params_args *args = a;
    tvr_domain_migrate_prepare3_params_ret *ret = r;
    TvMigrateParams params;
    if (params_read(conn, &args->params, &params) < 0)
        return -1;
    char *cookie = NULL, *uri = NULL;
    if (tv_qemu_driver_migrate_prepare(DRV(conn), &params, args->cookie_in.tvr_cookie_val,
                                       args->cookie_in.tvr_cookie_len, args->flags, &cookie,
                                       &uri) < 0)
        return -1;
    cookie_set(&ret->cookie_out, cookie);
    if (uri) {
        ret->uri_out = g_new0(char *, 1);
        *ret->uri_out = uri;
    }
    return 0;
}

/* The source's parameters for the destination: destination_xml replaced by
 * what Begin gave, destination_name added for Finish (libvirt's client does
 * the same), migrate_uri kept for Prepare only (Perform sends to the answer). */
static tvr_typed_param *p2p_params(const tvr_params *src, const char *xml, const char *name,
                                   bool finish, u_int *n)
{
    tvr_typed_param *params = g_new0(tvr_typed_param, src->tvr_params_len + 2);
    bool has_name = false;
    *n = 0;
    for (u_int i = 0; i < src->tvr_params_len; i++) {
        const char *f = src->tvr_params_val[i].field;
        if (strcmp(f, "destination_xml") == 0)
            continue;
        has_name = has_name || strcmp(f, "destination_name") == 0;
        params[(*n)++] = src->tvr_params_val[i];
    }
    params[*n].field = (char *)"destination_xml";
    params[*n].value.type = PARAM_STRING;
    params[*n].value.tvr_typed_param_value_u.s = (char *)xml;
    (*n)++;
    if (finish && !has_name) {
        params[*n].field = (char *)"destination_name";
        params[*n].value.type = PARAM_STRING;
        params[*n].value.tvr_typed_param_value_u.s = (char *)name;
        (*n)++;
    }
    return params;
}

/* Finish on the destination: 0 when it runs the guest now. */
static int p2p_finish(TvRemoteClient *rc, const tvr_params *src_params, const char *xml,
                      const char *name, const char *cookie, unsigned flags, bool cancelled)
{
    u_int n = 0;
    g_autofree tvr_typed_param *params = p2p_params(src_params, xml, name, true, &n);
    tvr_domain_migrate_finish3_params_args fin = {
        .params = { .tvr_params_len = n, .tvr_params_val = params },
        .cookie_in = { .tvr_cookie_len = cookie ? (u_int)strlen(cookie) + 1 : 0,
                       .tvr_cookie_val = (char *)cookie },
        .flags = flags & ~TV_MIGRATE_PEER2PEER,
        .cancelled = cancelled,
    };
    tvr_domain_migrate_finish3_params_ret fret = { 0 };
    if (tv_remote_client_call(rc, TVR_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS,
                              TV_XDR(xdr_tvr_domain_migrate_finish3_params_args), &fin,
                              TV_XDR(xdr_tvr_domain_migrate_finish3_params_ret), &fret,
                              P2P_TIMEOUT_MS) < 0)
        return -1;
    xdr_free(TV_XDR(xdr_tvr_domain_migrate_finish3_params_ret), (char *)&fret);
    return 0;
}

/* While QEMU copies (peer_check): is the destination's daemon still there?
 * One cheap call a second; its connection closing (the daemon died) fails at
 * once, a cut network after PING_TIMEOUT_MS. */
#define PING_TIMEOUT_MS 5000

static int p2p_ping(void *opaque)
{
    TvRemoteClient *rc = opaque;
    tvr_connect_get_lib_version_ret ret = { 0 };
    char dummy = 0;
    if (tv_remote_client_call(rc, TVR_PROC_CONNECT_GET_LIB_VERSION, TV_XDR(xdr_void), &dummy,
                              TV_XDR(xdr_tvr_connect_get_lib_version_ret), &ret,
                              PING_TIMEOUT_MS) < 0) {
        tv_error_prefix("the connection to the destination's daemon was lost");
        return -1;
    }
    return 0;
}

/* After a Finish whose answer never came (its connection broke): does the
 * destination run the guest?  Asked again over a new connection (the
 * destination's daemon may be restarting; its restart stops an incoming QEMU
 * that Finish had not run) until it says: 1, it runs the guest (Finish ran
 * it; a guest paused by the user counts); 0, it has no such domain or it is
 * shut off; -1, no answer within ASK_WINDOW_MS.  Paused by the migration
 * is no answer yet: the incoming QEMU is being stopped, or Finish runs. */
#define ASK_WINDOW_MS (60 * 1000)
#define ASK_RETRY_MS  1000

static int ask_once(const char *dconnuri, const unsigned char *uuid)
{
    g_autoptr(TvRemoteClient) rc = tv_remote_client_open(dconnuri, PING_TIMEOUT_MS);
    if (!rc)
        return -1;
    tvr_domain_lookup_by_uuid_args look = { 0 };
    memcpy(look.uuid, uuid, sizeof(look.uuid));
    tvr_domain_ret found = { 0 };
    if (tv_remote_client_call(rc, TVR_PROC_DOMAIN_LOOKUP_BY_UUID,
                              TV_XDR(xdr_tvr_domain_lookup_by_uuid_args), &look,
                              TV_XDR(xdr_tvr_domain_ret), &found, PING_TIMEOUT_MS) < 0) {
        const TvError *e = tv_error_last();
        return e && e->code == TV_ERR_NO_DOMAIN && !tv_remote_client_is_broken(rc) ? 0 : -1;
    }
    tvr_domain_flags_args args = { .dom = found.dom };
    tvr_domain_get_state_ret st = { 0 };
    int rc_state =
        tv_remote_client_call(rc, TVR_PROC_DOMAIN_GET_STATE, TV_XDR(xdr_tvr_domain_flags_args),
                              &args, TV_XDR(xdr_tvr_domain_get_state_ret), &st, PING_TIMEOUT_MS);
    xdr_free(TV_XDR(xdr_tvr_domain_ret), (char *)&found);
    if (rc_state < 0)
        return -1;
    if (st.state == TV_DOMAIN_STATE_SHUTOFF)
        return 0;
    if (st.state == TV_DOMAIN_STATE_PAUSED && st.reason == TV_DOMAIN_PAUSED_MIGRATION)
        return -1;
    return 1;
}

static int p2p_ask_destination(const char *dconnuri, const unsigned char *uuid)
{
    gint64 deadline = g_get_monotonic_time() + ASK_WINDOW_MS * 1000;
    for (;;) {
        int there = ask_once(dconnuri, uuid);
        tv_error_reset();
        if (there >= 0 || g_get_monotonic_time() >= deadline)
            return there;
        g_usleep(ASK_RETRY_MS * 1000);
    }
}

/* Finish failed after the copy completed.  An answer from the destination
 * means it stopped its incoming QEMU: the guest runs on here.  No answer:
 * the destination is asked what it runs, and the source follows it. */
static int p2p_finish_failed(TvQemuDriver *drv, TvRemoteClient *rc, const char *dconnuri,
                             const unsigned char *uuid, unsigned flags)
{
    TvError *err = tv_error_steal();
    int there = tv_remote_client_is_broken(rc) ? p2p_ask_destination(dconnuri, uuid) : 0;
    if (there == 1) {
        g_message("migration: Finish's answer was lost, but the destination runs the guest: "
                  "the source's QEMU ends");
        tv_error_free(err);
        return tv_qemu_driver_migrate_confirm(drv, uuid, flags, false);
    }
    if (there == 0) {
        (void)tv_qemu_driver_migrate_confirm(drv, uuid, flags, true);
        tv_error_restore(err);
        return -1;
    }
    (void)tv_qemu_driver_migrate_unconfirmed(drv, uuid, "the destination did not answer Finish");
    tv_error_restore(err);
    tv_error_prefix("migration: the destination did not answer Finish nor could it be asked "
                    "since; the guest stays paused here (resume it only if the destination "
                    "does not run it)");
    return -1;
}

/* Peer-to-peer: Begin here, Prepare there, Perform here, Finish there,
 * Confirm here; every failure leaves the guest running here and nothing
 * there. */
static int p2p_migrate(TvRemoteConn *conn, const unsigned char *uuid, const char *dconnuri,
                       const tvr_params *src_params, const TvMigrateParams *params, unsigned flags)
{
    TvQemuDriver *drv = DRV(conn);
    g_autofree char *xml = NULL, *cookie = NULL;
    if (tv_qemu_driver_migrate_begin(drv, uuid, params, flags, &xml, &cookie) < 0)
        return -1;
    g_autoptr(TvRemoteClient) rc = tv_remote_client_open(dconnuri, P2P_TIMEOUT_MS);
    if (!rc) {
        tv_error_prefix("migration: cannot connect to the destination '%s'", dconnuri);
        return -1;
    }
    TvDomainRef self = { 0 };
    if (tv_qemu_driver_lookup_by_uuid(drv, uuid, &self) < 0)
        return -1;
    g_autofree char *name = g_strdup(params->dest_name ? params->dest_name : self.name);
    tv_domain_ref_clear(&self);
    u_int n = 0;
    g_autofree tvr_typed_param *pparams = p2p_params(src_params, xml, name, false, &n);
    tvr_domain_migrate_prepare3_params_args args = {
        .params = { .tvr_params_len = n, .tvr_params_val = pparams },
        .cookie_in = { .tvr_cookie_len = (u_int)strlen(cookie) + 1,
                       .tvr_cookie_val = (char *)cookie },
        .flags = flags & ~TV_MIGRATE_PEER2PEER,
    };
    tvr_domain_migrate_prepare3_params_ret ret = { 0 };
    if (tv_remote_client_call(rc, TVR_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                              TV_XDR(xdr_tvr_domain_migrate_prepare3_params_args), &args,
                              TV_XDR(xdr_tvr_domain_migrate_prepare3_params_ret), &ret,
                              P2P_TIMEOUT_MS) < 0)
        return -1;
    g_autofree char *uri = ret.uri_out && *ret.uri_out ? g_strdup(*ret.uri_out) : NULL;
    xdr_free(TV_XDR(xdr_tvr_domain_migrate_prepare3_params_ret), (char *)&ret);
    TvMigrateParams local = *params;
    local.uri = uri;
    local.caller = 0; /* the copy goes on when the client that asked for it leaves */
    local.peer_check = p2p_ping;
    local.peer_opaque = rc;
    g_autofree char *done = NULL; /* Perform's cookie, for Finish */
    if (tv_qemu_driver_migrate_perform(drv, uuid, &local, flags, &done) < 0) {
        TvError *err = tv_error_steal();
        (void)p2p_finish(rc, src_params, xml, name, NULL, flags, true);
        tv_error_restore(err);
        return -1;
    }
    if (p2p_finish(rc, src_params, xml, name, done, flags, false) < 0)
        return p2p_finish_failed(drv, rc, dconnuri, uuid, flags);
    return tv_qemu_driver_migrate_confirm(drv, uuid, flags, false);
}

static int h_perform(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_perform3_params_args *args = a;
    TvMigrateParams params;
    if (params_read(conn, &args->params, &params) < 0)
        return -1;
    const unsigned char *uuid = (const unsigned char *)args->dom.uuid;
    if (!(args->flags & TV_MIGRATE_PEER2PEER)) {
        /* client-managed: the client gives Perform's cookie to Finish */
        tvr_domain_migrate_perform3_params_ret *ret = r;
        char *cookie = NULL;
        if (tv_qemu_driver_migrate_perform(DRV(conn), uuid, &params, args->flags, &cookie) < 0)
            return -1;
        cookie_set(&ret->cookie_out, cookie);
        return 0;
    }
    if (!args->dconnuri || !*args->dconnuri || !**args->dconnuri) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "peer-to-peer migration needs the destination's URI (dconnuri)");
        return -1;
    }
    return p2p_migrate(conn, uuid, *args->dconnuri, &args->params, &params, args->flags);
}

/* For tests only (tests/daemon/migration-fault-test.py, docs/migration.rst
 * "The destination's daemon, after Finish ran"): while the file that
 * TAGVIRT_TEST_FINISH_HOLD names exists (at most a minute), a Finish that
 * ran holds its answer, so that a test can kill this daemon between Finish
 * running the guest and the source hearing it.  Unset: nothing waits. */
#define FINISH_HOLD_MAX_MS 60000

static void test_finish_hold(void)
{
    const char *path = g_getenv("TAGVIRT_TEST_FINISH_HOLD");
    for (int waited = 0;
         path && *path && waited < FINISH_HOLD_MAX_MS && g_file_test(path, G_FILE_TEST_EXISTS);
         waited += 50)
        g_usleep(50 * 1000);
}

static int h_finish(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_finish3_params_args *args = a;
    TvMigrateParams params;
    if (params_read(conn, &args->params, &params) < 0)
        return -1;
    tvr_domain_migrate_finish3_params_ret *ret = r;
    TvDomainRef ref = { 0 };
    if (tv_qemu_driver_migrate_finish(DRV(conn), &params, args->cookie_in.tvr_cookie_val,
                                      args->cookie_in.tvr_cookie_len, args->flags,
                                      args->cancelled != 0, &ref) < 0) {
        tv_domain_ref_clear(&ref);
        return -1;
    }
    test_finish_hold();
    ret->dom.name = g_steal_pointer(&ref.name);
    memcpy(ret->dom.uuid, ref.uuid, sizeof(ret->dom.uuid));
    ret->dom.id = ref.id;
    return 0;
}

static int h_confirm(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_confirm3_params_args *args = a;
    TvMigrateParams params;
    if (params_read(conn, &args->params, &params) < 0)
        return -1;
    return tv_qemu_driver_migrate_confirm(DRV(conn), (const unsigned char *)args->dom.uuid,
                                          args->flags, args->cancelled != 0);
}

static int h_set_max_downtime(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_set_max_downtime_args *args = a;
    return tv_qemu_driver_migrate_set_max_downtime(DRV(conn), (const unsigned char *)args->dom.uuid,
                                                   args->downtime, args->flags);
}

static int h_get_max_downtime(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    tvr_domain_migrate_get_max_downtime_ret *ret = r;
    unsigned long long ms = 0;
    if (tv_qemu_driver_migrate_get_max_downtime(DRV(conn), (const unsigned char *)args->dom.uuid,
                                                args->flags, &ms) < 0)
        return -1;
    ret->downtime = ms;
    return 0;
}

static int h_set_max_speed(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_migrate_set_max_speed_args *args = a;
    return tv_qemu_driver_migrate_set_max_speed(DRV(conn), (const unsigned char *)args->dom.uuid,
                                                args->bandwidth, args->flags);
}

static int h_get_max_speed(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_flags_args *args = a;
    tvr_domain_migrate_get_max_speed_ret *ret = r;
    unsigned long long mib = 0;
    if (tv_qemu_driver_migrate_get_max_speed(DRV(conn), (const unsigned char *)args->dom.uuid,
                                             args->flags, &mib) < 0)
        return -1;
    ret->bandwidth = mib;
    return 0;
}

static const TvRemoteHandlerEntry migrate_handlers[] = {
    { TVR_PROC_DOMAIN_MIGRATE_BEGIN3_PARAMS, h_begin },
    { TVR_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, h_prepare },
    { TVR_PROC_DOMAIN_MIGRATE_PERFORM3_PARAMS, h_perform },
    { TVR_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS, h_finish },
    { TVR_PROC_DOMAIN_MIGRATE_CONFIRM3_PARAMS, h_confirm },
    { TVR_PROC_DOMAIN_MIGRATE_SET_MAX_DOWNTIME, h_set_max_downtime },
    { TVR_PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME, h_get_max_downtime },
    { TVR_PROC_DOMAIN_MIGRATE_SET_MAX_SPEED, h_set_max_speed },
    { TVR_PROC_DOMAIN_MIGRATE_GET_MAX_SPEED, h_get_max_speed },
};

void tv_remote_register_migrate_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, migrate_handlers, G_N_ELEMENTS(migrate_handlers));
}
