/* The destination of a migration (docs/migration.rst): after Prepare's
 * checks (qemu_driver_migrate.c), the incoming QEMU on a TCP port of the
 * configured range, paused, in the domain's MIGRATION_IN job; Finish waits
 * for the guest to arrive and runs it (or stops the incoming QEMU and
 * leaves nothing behind when the migration failed or was cancelled). */
#include "domain_migration_cookie.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* After the source's QEMU completed, the last bytes are on their way: the
 * incoming QEMU has them within seconds, a minute means it never will. */
#define FINISH_WAIT_MS 60000

/* One incoming migration between Prepare and Finish (drv->incoming). */
typedef struct {
    TvDriverDomain *dom; /* a reference; in its MIGRATION_IN job */
    int port;
    unsigned flags;
    bool created;      /* the domain object was made for it */
    char *xml;         /* the definition it runs (destination_xml) */
    char *persist_xml; /* persistent_xml, or NULL */
    guint64 caller;    /* the connection that prepared it (0: none) */
    guint64 serial;    /* never reused: what its expiry watches */
    gint64 expires;    /* monotonic µs: stopped then unless it receives */
} TvDriverIncoming;

static void incoming_free(TvDriverIncoming *in)
{
    tv_driver_domain_unref(in->dom);
    g_free(in->xml);
    g_free(in->persist_xml);
    g_free(in);
}

void tv_driver_migrations_free_all(TvQemuDriver *drv)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->incoming);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        g_hash_table_iter_steal(&it);
        incoming_free(value);
    }
}

/* "tcp:HOST:PORT", "tcp://HOST[:PORT][/]", "tcp:[V6]:PORT": the host and
 * the port (0 when absent) in place; false when it is none of those. */
static bool split_tcp_uri(char *rest, char **host, int *port)
{
    char *slash = strchr(rest, '/');
    if (slash)
        *slash = '\0';
    char *colon = NULL;
    if (rest[0] == '[') {
        char *end = strchr(rest, ']');
        if (!end || (end[1] && end[1] != ':'))
            return false;
        *end = '\0';
        *host = rest + 1;
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        colon = strrchr(rest, ':');
        if (colon)
            *colon = '\0';
        *host = rest;
    }
    *port = 0;
    if (colon) {
        char *end = NULL;
        long v = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || v < 1 || v > 65535)
            return false;
        *port = (int)v;
    }
    return **host != '\0';
}

/* The host (newly allocated) and port of a migrate_uri; -1 with an error. */
static int parse_tcp_uri(const char *uri, char **host, int *port)
{
    const char *p = g_str_has_prefix(uri, "tcp://") ? uri + 6
                    : g_str_has_prefix(uri, "tcp:") ? uri + 4
                                                    : NULL;
    g_autofree char *rest = g_strdup(p ? p : "");
    char *h = NULL;
    if (!p || !split_tcp_uri(rest, &h, port)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration URI '%s' is not supported: give tcp:HOST:PORT or "
                        "tcp://HOST[:PORT]",
                        uri);
        return -1;
    }
    *host = g_strdup(h);
    return 0;
}

/* The address the incoming QEMU listens on: the caller's listen_address,
 * the host of its migrate_uri, the configured one, the address the call
 * came in on, or the loopback address for a call over a unix socket. */
static char *listen_address(TvQemuDriver *drv, const TvMigrateParams *p, int *port)
{
    *port = 0;
    char *host = NULL;
    if (p->uri && parse_tcp_uri(p->uri, &host, port) < 0)
        return NULL;
    if (p->listen_address) {
        g_free(host);
        return g_strdup(p->listen_address);
    }
    if (host)
        return host;
    if (drv->migration_address)
        return g_strdup(drv->migration_address);
    return g_strdup(p->local_addr ? p->local_addr : "127.0.0.1");
}

/* Can QEMU bind addr:port now?  (It binds with SO_REUSEADDR too.) */
static bool port_free(const char *addr, int port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char service[8];
    g_snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(addr, service, &hints, &res) != 0 || !res)
        return false;
    int s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    bool ok = s >= 0 && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
              bind(s, res->ai_addr, res->ai_addrlen) == 0;
    if (s >= 0)
        close(s);
    freeaddrinfo(res);
    return ok;
}

/* Under drv->lock: a port of the range no incoming migration holds and
 * nothing listens on; -1 with an error. */
static int port_reserve_locked(TvQemuDriver *drv, const char *addr)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(addr, NULL, &hints, &res);
    if (gai != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migration: the listen address '%s' does not resolve: %s", addr,
                        gai_strerror(gai));
        return -1;
    }
    freeaddrinfo(res);
    for (unsigned port = drv->migration_port_min; port <= drv->migration_port_max; port++) {
        bool held = false;
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, drv->incoming);
        while (!held && g_hash_table_iter_next(&it, NULL, &value))
            held = ((TvDriverIncoming *)value)->port == (int)port;
        if (!held && port_free(addr, (int)port))
            return (int)port;
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_SYSTEM_ERROR,
                    "migration: no free TCP port on '%s' in the range %u-%u "
                    "(migration_port_min, migration_port_max)",
                    addr, drv->migration_port_min, drv->migration_port_max);
    return -1;
}

static char *host_port(const char *host, int port)
{
    return strchr(host, ':') ? g_strdup_printf("[%s]:%d", host, port)
                             : g_strdup_printf("%s:%d", host, port);
}

/* Take (or make) the domain object for def and register the migration. */
static TvDriverIncoming *incoming_register(TvQemuDriver *drv, const TvDomainDef *def,
                                           const char *addr, int want_port)
{
    g_mutex_lock(&drv->define_lock);
    g_mutex_lock(&drv->lock);
    TvDriverIncoming *in = NULL;
    if (g_hash_table_lookup(drv->incoming, def->name)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "migration refused by the destination: an incoming migration of domain "
                        "'%s' is already in progress here",
                        def->name);
        goto out;
    }
    int port = want_port ? want_port : port_reserve_locked(drv, addr);
    if (port < 0)
        goto out;
    in = g_new0(TvDriverIncoming, 1);
    in->port = port;
    in->serial = ++drv->incoming_serial;
    in->expires = G_MAXINT64; /* set once its QEMU listens */
    TvDriverDomain *dom = g_hash_table_lookup(drv->by_uuid, def->uuid);
    if (dom) {
        in->dom = tv_driver_domain_ref(dom);
    } else {
        in->dom = tv_driver_domain_new(drv, def->name, def->uuid);
        in->created = true;
        tv_driver_list_add_locked(drv, in->dom);
    }
    g_hash_table_insert(drv->incoming, in->dom->name, in);
out:
    g_mutex_unlock(&drv->lock);
    g_mutex_unlock(&drv->define_lock);
    return in;
}

/* Forget the migration; the domain leaves the list when it was made for
 * it and is not running (a failed start, a stopped incoming QEMU). */
static void incoming_unregister(TvQemuDriver *drv, TvDriverIncoming *in)
{
    g_mutex_lock(&drv->lock);
    if (g_hash_table_lookup(drv->incoming, in->dom->name) == in)
        g_hash_table_remove(drv->incoming, in->dom->name);
    g_cond_broadcast(&drv->incoming_cond); /* its expiry returns */
    g_mutex_lock(&in->dom->lock);
    bool drop = in->created && !in->dom->def && !in->dom->run && !in->dom->removed;
    g_mutex_unlock(&in->dom->lock);
    if (drop)
        tv_driver_list_remove_locked(drv, in->dom);
    g_mutex_unlock(&drv->lock);
}

static TvDriverIncoming *incoming_by_serial_locked(TvQemuDriver *drv, guint64 serial)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->incoming);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (((TvDriverIncoming *)value)->serial == serial)
            return value;
    return NULL;
}

/* Another process bound the port between our choice and QEMU's bind: two
 * daemons on one host that prepare at once test-bind the same free port. */
static bool port_was_taken(void)
{
    const char *msg = tv_error_message();
    return msg && strstr(msg, "Address already in use") != NULL;
}

/* How often a Prepare moves on to another port when its port was taken. */
#define PORT_RETRIES 8

/* The incoming QEMU listening on *port of addr.  A QEMU whose
 * migrate-incoming failed does not take another one (QEMU 10.0: "Illegal
 * migration incoming state: setup"), so when the port was taken meanwhile
 * the failed start (which leaves nothing) is repeated on the next free port,
 * which the migration then holds. */
static int start_listening(TvQemuDriver *drv, TvDriverDomain *dom, const TvDomainDef *def,
                           guint64 serial, const char *addr, const TvQemuMigrationTls *tls,
                           int *port)
{
    for (int tries = 0;; tries++) {
        g_autofree char *where = host_port(addr, *port);
        g_autofree char *uri = g_strdup_printf("tcp:%s", where);
        TvQemuIncoming qin = { .uri = uri, .fd = -1, .tls = tls };
        TvDomainDef *copy = tv_domain_def_copy(def);
        if (!copy)
            return -1;
        if (tv_driver_start_incoming_in_job(drv, dom, copy, &qin, 1 /* MIGRATED */) == 0)
            return 0;
        if (tries >= PORT_RETRIES || !port_was_taken())
            return -1;
        g_message("migration of domain '%s' in: %s was taken meanwhile (another process bound "
                  "it): %s",
                  dom->name, uri, tv_error_message());
        tv_error_reset();
        g_mutex_lock(&drv->lock);
        TvDriverIncoming *in = incoming_by_serial_locked(drv, serial);
        int next = in ? port_reserve_locked(drv, addr) : -1;
        if (next > 0)
            in->port = next;
        g_mutex_unlock(&drv->lock);
        if (next < 0)
            return -1;
        *port = next;
    }
}

int tv_driver_migrate_incoming(TvQemuDriver *drv, TvDomainDef *def, const TvMigrateParams *params,
                               unsigned flags, char **uri_out)
{
    int want_port = 0;
    if (tv_domain_tpm_refuse_transfer(def, "incoming migration") < 0) {
        tv_domain_def_free(def);
        return -1;
    }
    g_autofree char *addr = listen_address(drv, params, &want_port);
    if (!addr) {
        tv_domain_def_free(def);
        return -1;
    }
    TvDriverIncoming *in = incoming_register(drv, def, addr, want_port);
    if (!in) {
        tv_domain_def_free(def);
        return -1;
    }
    guint64 serial = in->serial; /* in is Finish's once the answer is out */
    in->flags = flags;
    in->caller = params->caller;
    in->xml = g_strdup(params->dest_xml);
    in->persist_xml = g_strdup(params->persist_xml);
    TvDriverDomain *dom = in->dom;
    if (tv_driver_async_begin(dom, TV_JOB_ASYNC_MIGRATION_IN, "migration in") < 0) {
        incoming_unregister(drv, in);
        incoming_free(in);
        tv_domain_def_free(def);
        return -1;
    }
    g_mutex_lock(&dom->lock);
    bool active = dom->run != NULL;
    g_mutex_unlock(&dom->lock);
    TvQemuMigrationTls tls;
    tv_driver_migrate_tls(drv, true, NULL, &tls);
    int port = in->port;
    int rc = -1;
    if (active) { /* started meanwhile */
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "migration refused by the destination: domain '%s' is already running "
                        "here",
                        dom->name);
    } else {
        rc = start_listening(drv, dom, def, serial, addr, (flags & TV_MIGRATE_TLS) ? &tls : NULL,
                             &port);
    }
    tv_domain_def_free(def);
    if (rc < 0) {
        tv_error_prefix("migration of domain '%s': the destination could not start its QEMU",
                        dom->name);
        tv_driver_async_end(dom, TV_JOB_FAILED);
        incoming_unregister(drv, in);
        incoming_free(in);
        return -1;
    }
    g_autofree char *where = host_port(addr, port);
    g_autofree char *qemu_uri = g_strdup_printf("tcp:%s", where);
    /* the address the source's QEMU connects to: a wildcard is no address */
    const char *out_host = addr;
    if (strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0)
        out_host = g_get_host_name();
    g_autofree char *out_where = host_port(out_host, port);
    *uri_out = g_strdup_printf("tcp:%s", out_where);
    g_message("migration of domain '%s' in: QEMU listens on %s", dom->name, qemu_uri);
    g_mutex_lock(&drv->lock);
    TvDriverIncoming *still = incoming_by_serial_locked(drv, serial);
    if (still)
        still->expires = g_get_monotonic_time() + (gint64)drv->incoming_timeout_s * G_USEC_PER_SEC;
    g_mutex_unlock(&drv->lock);
    if (!tv_driver_migration_work_push(drv, 0, serial))
        g_warning("migration of domain '%s' in: no expiry (tagvirtd stops)", dom->name);
    return 0;
}

/* Stop the incoming QEMU (shut off, reason failed) and end the job. */
static void incoming_abandon(TvQemuDriver *drv, TvDriverIncoming *in)
{
    TvError *err = tv_error_steal();
    TvDriverRun *run = tv_driver_run_get(in->dom);
    tv_error_reset();
    if (run && run->proc && tv_qemu_process_is_active(run->proc))
        (void)tv_qemu_process_destroy_as(run->proc, TV_DOMAIN_SHUTOFF_FAILED);
    tv_driver_run_unref(run);
    tv_error_reset();
    tv_driver_async_end(in->dom, TV_JOB_FAILED);
    incoming_unregister(drv, in);
    tv_error_restore(err);
}

unsigned tv_driver_incoming_count_locked(TvQemuDriver *drv, guint64 caller)
{
    unsigned n = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->incoming);
    while (g_hash_table_iter_next(&it, NULL, &value))
        n += ((TvDriverIncoming *)value)->caller == caller;
    return n;
}

/* Stop an incoming migration nobody will finish (taken out of the table);
 * why goes to the log. */
static void incoming_stop(TvQemuDriver *drv, TvDriverIncoming *in, const char *why)
{
    tv_driver_async_continue(in->dom, "migration in (stop)");
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                    "migration of domain '%s' in: %s: its incoming QEMU here was stopped",
                    in->dom->name, why);
    g_message("%s", tv_error_message());
    incoming_abandon(drv, in);
    tv_error_reset();
    incoming_free(in);
}

void tv_driver_incoming_stop_caller(TvQemuDriver *drv, guint64 caller)
{
    g_autoptr(GPtrArray) gone = g_ptr_array_new();
    g_mutex_lock(&drv->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->incoming);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        if (((TvDriverIncoming *)value)->caller != caller)
            continue;
        g_hash_table_iter_steal(&it); /* one Finish per Prepare: now none */
        g_ptr_array_add(gone, value);
    }
    g_mutex_unlock(&drv->lock);
    for (guint i = 0; i < gone->len; i++)
        incoming_stop(drv, g_ptr_array_index(gone, i),
                      "the connection that prepared it closed before Finish");
}

/* Has the incoming QEMU of dom begun to receive (QEMU's incoming status
 * past "setup")?  A QEMU that cannot be asked has not. */
static bool incoming_receiving(TvDriverDomain *dom)
{
    TvDriverRun *run = tv_driver_run_get(dom);
    g_auto(TvQmpMigrationInfo) info = { 0 };
    bool receiving = run && run->proc && tv_qemu_process_is_active(run->proc) &&
                     tv_qemu_process_migrate_query(run->proc, &info) == 0 &&
                     info.status != TV_QMP_MIGRATION_STATUS_UNKNOWN &&
                     info.status != TV_QMP_MIGRATION_STATUS_NONE &&
                     info.status != TV_QMP_MIGRATION_STATUS_SETUP;
    tv_driver_run_unref(run);
    tv_error_reset();
    return receiving;
}

void tv_driver_incoming_expiry(TvQemuDriver *drv, guint64 serial)
{
    g_mutex_lock(&drv->lock);
    for (;;) {
        TvDriverIncoming *in = incoming_by_serial_locked(drv, serial);
        if (!in || drv->closing)
            break;
        if (g_get_monotonic_time() < in->expires) {
            g_cond_wait_until(&drv->incoming_cond, &drv->lock, in->expires);
            continue;
        }
        TvDriverDomain *dom = tv_driver_domain_ref(in->dom);
        g_mutex_unlock(&drv->lock);
        bool receiving = incoming_receiving(dom);
        tv_driver_domain_unref(dom);
        g_mutex_lock(&drv->lock);
        in = incoming_by_serial_locked(drv, serial);
        if (!in || receiving) /* finished meanwhile, or the stream is there: Finish decides */
            break;
        g_hash_table_steal(drv->incoming, in->dom->name);
        g_mutex_unlock(&drv->lock);
        g_autofree char *why = g_strdup_printf("no migration stream arrived within %u s of "
                                               "Prepare (migration_incoming_timeout)",
                                               drv->incoming_timeout_s);
        incoming_stop(drv, in, why);
        return;
    }
    g_mutex_unlock(&drv->lock);
}

/* The persistent definition Finish asks for (PERSIST_DEST), after the job. */
static int persist(TvQemuDriver *drv, const TvDriverIncoming *in, const TvMigrateParams *params)
{
    const char *xml = params->persist_xml ? params->persist_xml
                      : in->persist_xml   ? in->persist_xml
                                          : in->xml;
    TvDomainRef ref = { 0 };
    int rc = tv_qemu_driver_define(drv, xml, 0, &ref);
    tv_domain_ref_clear(&ref);
    if (rc < 0)
        tv_error_prefix("migration of domain '%s': the destination could not define it "
                        "(persist_dest)",
                        in->dom->name);
    return rc;
}

/* The completed job here gets the source's figures from Perform's cookie
 * (the incoming QEMU's query-migrate says only "completed", on 7.2, 10.0
 * and 11.1); the time elapsed is this host's own, from Prepare. */
static void finish_stats(TvDriverDomain *dom, const char *cookie, size_t len)
{
    if (!cookie || !len)
        return;
    g_auto(TvMigrationCookie) c = { 0 };
    if (tv_migration_cookie_parse(cookie, len, &c) < 0) {
        g_message("migration of domain '%s' in: no figures for the job: %s", dom->name,
                  tv_error_message());
        tv_error_reset();
        return;
    }
    if (memcmp(c.uuid, dom->uuid, sizeof(c.uuid)) != 0 || !c.has_stats) {
        g_message("migration of domain '%s' in: Finish's cookie has %s", dom->name,
                  c.has_stats ? "another guest's figures" : "no figures");
        return;
    }
    TvDomainJobStats st = {
        .type = TV_JOB_UNBOUNDED,
        .operation = TV_JOB_OPERATION_MIGRATION_IN,
        .data_total = c.stats.data_total,
        .data_processed = c.stats.data_processed,
        .data_remaining = c.stats.data_remaining,
        .mem_total = c.stats.data_total,
        .mem_processed = c.stats.data_processed,
        .mem_remaining = c.stats.data_remaining,
        .has_downtime = true,
        .downtime_ms = c.stats.downtime,
        .setup_time_ms = c.stats.setup,
        .mem_bps = c.stats.mem_bps,
        .mem_iteration = c.stats.mem_iteration,
        .mem_page_size = c.stats.mem_page_size,
        .mem_constant = c.stats.mem_constant,
        .mem_normal = c.stats.mem_normal,
        .mem_normal_bytes = c.stats.mem_normal_bytes,
    };
    tv_driver_async_set_progress(dom, &st);
}

int tv_qemu_driver_migrate_finish(TvQemuDriver *drv, const TvMigrateParams *params,
                                  const char *cookie_in, size_t cookie_len, unsigned flags,
                                  bool cancelled, TvDomainRef *out)
{
    const char *name = params->dest_name ? params->dest_name : params->dom_name;
    g_mutex_lock(&drv->lock);
    TvDriverIncoming *in = name ? g_hash_table_lookup(drv->incoming, name) : NULL;
    if (in) /* one Finish per Prepare */
        g_hash_table_steal(drv->incoming, name);
    g_mutex_unlock(&drv->lock);
    if (!in) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "migration %s: no incoming domain '%s' on this host",
                        cancelled ? "cancelled" : "cannot finish", name ? name : "");
        return -1;
    }
    TvDriverDomain *dom = in->dom;
    tv_driver_async_continue(dom, "migration in (finish)");
    if (cancelled) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "migration of domain '%s' was cancelled by the source: its incoming QEMU "
                        "here was stopped",
                        dom->name);
        incoming_abandon(drv, in);
        incoming_free(in);
        return -1;
    }
    TvDriverRun *run = tv_driver_run_get(dom);
    int rc = run && run->proc ? tv_qemu_process_incoming_wait(run->proc, FINISH_WAIT_MS) : -1;
    if (rc == 0 && (in->flags & TV_MIGRATE_TLS)) /* the stream has ended */
        tv_qemu_process_migration_tls_disable(run->proc);
    if (rc == 0 && !(flags & TV_MIGRATE_PAUSED))
        rc = tv_qemu_process_resume_as(run->proc, TV_DOMAIN_RUNNING_MIGRATED);
    else if (rc == 0) { /* finished: paused by the user now, as libvirt says (and a restart sees) */
        rc = tv_qemu_process_suspend(run->proc);
        if (rc == 0)
            tv_driver_event_queue(drv, dom, run->id, TV_DOMAIN_EVENT_SUSPENDED, 0 /* PAUSED */);
    }
    tv_driver_run_unref(run);
    if (rc < 0) {
        tv_error_prefix("migration of domain '%s' failed on the destination", dom->name);
        incoming_abandon(drv, in);
        incoming_free(in);
        return -1;
    }
    finish_stats(dom, cookie_in, cookie_len);
    tv_driver_async_end(dom, TV_JOB_COMPLETED);
    if ((flags & TV_MIGRATE_PERSIST_DEST) && persist(drv, in, params) < 0) {
        /* the source still has the guest (Confirm resumes it there) */
        TvError *err = tv_error_steal();
        TvDriverRun *r = tv_driver_run_get(dom);
        tv_error_reset();
        if (r && r->proc)
            (void)tv_qemu_process_destroy_as(r->proc, TV_DOMAIN_SHUTOFF_FAILED);
        tv_driver_run_unref(r);
        tv_error_restore(err);
        incoming_unregister(drv, in);
        incoming_free(in);
        return -1;
    }
    g_mutex_lock(&dom->lock);
    tv_driver_domain_ref_fill(dom, out);
    g_mutex_unlock(&dom->lock);
    g_message("migration of domain '%s' in: finished, the guest %s here", dom->name,
              (flags & TV_MIGRATE_PAUSED) ? "is paused" : "runs");
    incoming_unregister(drv, in);
    incoming_free(in);
    return 0;
}
