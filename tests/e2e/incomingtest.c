/* End-to-end tests of the incoming QEMU (src/qemu/runtime/qemu_process_incoming.c)
 * with the real QEMU: a running MTE guest moved to a second QEMU over TCP
 * (a live migration without the daemons) and through a file descriptor (a
 * save and restore), and a stream QEMU cannot load.  Each QEMU has its own
 * state folder, as two hosts would.  TAGVIRT_E2E_QEMU=PATH runs them with
 * another QEMU build (7.2 takes "fd:" for a file, 11.1 only "file:"). */
#include "tagvirt-config.h"
#include "e2eutils.h"
#include "qemu_process.h"
#include "qemu_status.h"
#include "tv_error.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* MTE 3 on the system QEMU; the highest level of another build
 * (TAGVIRT_E2E_QEMU: QEMU 11.1's max is level 4), or TAGVIRT_E2E_MTE (7.2
 * has no usable level: "<mte state='off'/>"). */
static const char *mte(void)
{
    if (g_getenv("TAGVIRT_E2E_MTE"))
        return g_getenv("TAGVIRT_E2E_MTE");
    return g_getenv("TAGVIRT_E2E_QEMU") ? "<mte version='max'/>" : "<mte version='3'/>";
}

static void assert_state(TvQemuProcess *proc, int want_state, int want_reason)
{
    int state = -1, reason = -1;
    tv_qemu_process_get_state(proc, &state, &reason);
    g_assert_cmpstr(tv_domain_state_to_string(state), ==, tv_domain_state_to_string(want_state));
    g_assert_cmpstr(tv_domain_reason_to_string(state, reason), ==,
                    tv_domain_reason_to_string(want_state, want_reason));
}

/* The destination's configuration: its own state folder. */
static TvQemuProcessConfig dest_config(void)
{
    static char *dir;
    if (!dir)
        dir = g_build_filename(e2e.dir, "dest-state", NULL);
    TvQemuProcessConfig cfg = e2e_config();
    cfg.state_dir = dir;
    return cfg;
}

/* A TCP port on 127.0.0.1 that nothing listens on now. */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(s, (struct sockaddr *)&a, &len), ==, 0);
    close(s);
    return ntohs(a.sin_port);
}

/* The source's migration until QEMU says it completed. */
static void wait_sent(TvQemuProcess *src)
{
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    int status = 0;
    do {
        g_usleep(20000);
        TvQmpMigrationInfo info;
        g_assert_cmpint(tv_qemu_process_migrate_query(src, &info), ==, 0);
        status = info.status;
        if (status == TV_QMP_MIGRATION_STATUS_FAILED)
            g_error("migration failed: %s", info.error_desc);
        tv_qmp_migration_info_clear(&info);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    } while (status != TV_QMP_MIGRATION_STATUS_COMPLETED);
}

static void assert_no_files(const char *state_dir, const char *name)
{
    g_autofree char *status = tv_qemu_process_status_path(state_dir, name);
    g_autofree char *mon = tv_qemu_process_monitor_path(state_dir, name);
    g_assert_false(g_file_test(status, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(mon, G_FILE_TEST_EXISTS));
}

/* Live migration: the incoming QEMU listens on TCP, is paused (reason
 * migration) while it receives, runs with reason "migrated"; the source
 * pauses with reason "migration" and shuts off with reason "migrated". */
static void test_tcp(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("in-tcp", e2e.loop_image, mte(), "");
    TvQemuProcessConfig scfg = e2e_config();
    g_autoptr(TvQemuProcess) src = tv_qemu_process_start(def, &scfg, 0);
    g_assert_nonnull(src);

    g_autofree char *uri = g_strdup_printf("tcp:127.0.0.1:%d", free_port());
    TvQemuProcessConfig dcfg = dest_config();
    TvQemuIncoming in = { .uri = uri, .fd = -1 };
    g_autoptr(TvQemuProcess) dst = tv_qemu_process_start_incoming(def, &dcfg, &in);
    if (!dst)
        g_error("%s", tv_error_message());
    assert_state(dst, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_MIGRATION);
    g_autofree char *status_path = tv_qemu_process_status_path(dcfg.state_dir, "in-tcp");
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
    g_assert_nonnull(st);
    g_assert_cmpint(st->state, ==, TV_DOMAIN_STATE_PAUSED);
    g_assert_cmpint(st->reason, ==, TV_DOMAIN_PAUSED_MIGRATION);
    if (!g_getenv("TAGVIRT_E2E_MTE"))
        g_assert_cmpint(st->def->features.mte.level, >=, 3);

    TvQemuOutgoing out = { .uri = uri, .fd = -1 };
    g_assert_cmpint(tv_qemu_process_migrate_start(src, &out), ==, 0);
    wait_sent(src);
    g_assert_cmpint(tv_qemu_process_incoming_wait(dst, 60000), ==, 0);
    assert_state(dst, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_MIGRATION);
    g_assert_cmpint(tv_qemu_process_resume_as(dst, TV_DOMAIN_RUNNING_MIGRATED), ==, 0);
    assert_state(dst, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_MIGRATED);

    assert_state(src, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_MIGRATION);
    g_assert_cmpint(tv_qemu_process_destroy_as(src, TV_DOMAIN_SHUTOFF_MIGRATED), ==, 0);
    assert_state(src, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_MIGRATED);
    assert_no_files(e2e.state_dir, "in-tcp");

    g_assert_cmpint(tv_qemu_process_destroy(dst), ==, 0);
    assert_no_files(dcfg.state_dir, "in-tcp");
    e2e_assert_no_children();
}

/* Save and restore: the source writes its state to a file (fd: URI), the
 * incoming QEMU reads it from a descriptor, never from a path. */
static void test_fd(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("in-fd", e2e.loop_image, mte(), "");
    TvQemuProcessConfig scfg = e2e_config();
    g_autoptr(TvQemuProcess) src = tv_qemu_process_start(def, &scfg, 0);
    g_assert_nonnull(src);
    g_autofree char *image = g_build_filename(e2e.dir, "in-fd.save", NULL);
    int wfd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(wfd, >=, 0);
    /* a header of the caller's before QEMU's stream: both sides start after it */
    g_assert_cmpint(write(wfd, "HEADER\n", 7), ==, 7);
    TvQemuOutgoing out = { .fd = wfd, .paused_reason = TV_DOMAIN_PAUSED_SAVE };
    g_assert_cmpint(tv_qemu_process_migrate_start(src, &out), ==, 0);
    close(wfd);
    wait_sent(src);
    assert_state(src, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_SAVE);
    g_assert_cmpint(tv_qemu_process_destroy_as(src, TV_DOMAIN_SHUTOFF_SAVED), ==, 0);
    assert_state(src, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_SAVED);

    int rfd = open(image, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(rfd, >=, 0);
    char header[8] = { 0 };
    g_assert_cmpint(read(rfd, header, 7), ==, 7);
    g_assert_cmpstr(header, ==, "HEADER\n");
    TvQemuProcessConfig dcfg = dest_config();
    TvQemuIncoming in = { .fd = rfd, .paused_reason = TV_DOMAIN_PAUSED_STARTING_UP };
    g_autoptr(TvQemuProcess) dst = tv_qemu_process_start_incoming(def, &dcfg, &in);
    close(rfd);
    if (!dst)
        g_error("%s", tv_error_message());
    assert_state(dst, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_STARTING_UP);
    g_assert_cmpint(tv_qemu_process_incoming_wait(dst, 60000), ==, 0);
    g_assert_cmpint(tv_qemu_process_resume_as(dst, TV_DOMAIN_RUNNING_RESTORED), ==, 0);
    assert_state(dst, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_RESTORED);
    g_assert_cmpint(tv_qemu_process_destroy(dst), ==, 0);
    assert_no_files(dcfg.state_dir, "in-fd");
    e2e_assert_no_children();
}

/* Through a pipe (fd: on every QEMU): a copy without a file. */
static void test_pipe(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("in-pipe", e2e.loop_image, mte(), "");
    TvQemuProcessConfig scfg = e2e_config();
    g_autoptr(TvQemuProcess) src = tv_qemu_process_start(def, &scfg, 0);
    g_assert_nonnull(src);
    int p[2];
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    TvQemuProcessConfig dcfg = dest_config();
    TvQemuIncoming in = { .fd = p[0] };
    g_autoptr(TvQemuProcess) dst = tv_qemu_process_start_incoming(def, &dcfg, &in);
    close(p[0]);
    if (!dst)
        g_error("%s", tv_error_message());
    TvQemuOutgoing out = { .fd = p[1] };
    g_assert_cmpint(tv_qemu_process_migrate_start(src, &out), ==, 0);
    close(p[1]);
    wait_sent(src);
    g_assert_cmpint(tv_qemu_process_incoming_wait(dst, 60000), ==, 0);
    g_assert_cmpint(tv_qemu_process_resume_as(dst, TV_DOMAIN_RUNNING_MIGRATED), ==, 0);
    assert_state(dst, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_MIGRATED);
    g_assert_cmpint(tv_qemu_process_destroy_as(src, TV_DOMAIN_SHUTOFF_MIGRATED), ==, 0);
    g_assert_cmpint(tv_qemu_process_destroy(dst), ==, 0);
    assert_no_files(dcfg.state_dir, "in-pipe");
    e2e_assert_no_children();
}

/* A stream that is not QEMU's: the wait fails with QEMU's words, QEMU is
 * gone, nothing is left behind. */
static void test_garbage(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("in-bad", e2e.loop_image, mte(), "");
    g_autofree char *image = g_build_filename(e2e.dir, "in-bad.save", NULL);
    g_assert_true(g_file_set_contents(image, "not a migration stream\n", -1, NULL));
    int rfd = open(image, O_RDONLY | O_CLOEXEC);
    TvQemuProcessConfig dcfg = dest_config();
    TvQemuIncoming in = { .fd = rfd };
    g_autoptr(TvQemuProcess) dst = tv_qemu_process_start_incoming(def, &dcfg, &in);
    close(rfd);
    if (!dst) { /* QEMU may fail before the start returned: a start failure */
        g_test_message("start failed: %s", tv_error_message());
        g_assert_nonnull(strstr(tv_error_message(), "in-bad"));
    } else {
        g_assert_cmpint(tv_qemu_process_incoming_wait(dst, 60000), ==, -1);
        g_test_message("%s", tv_error_message());
        g_assert_nonnull(strstr(tv_error_message(), "did not receive the guest"));
        if (tv_qemu_process_is_active(dst))
            g_assert_cmpint(tv_qemu_process_destroy(dst), ==, 0);
        g_assert_false(tv_qemu_process_is_active(dst));
    }
    assert_no_files(dcfg.state_dir, "in-bad");
    e2e_assert_no_children();
}

/* Neither a URI nor a descriptor, or a URI that is not TCP: refused, nothing started. */
static void test_refused(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("in-ref", e2e.loop_image, "", "");
    TvQemuProcessConfig dcfg = dest_config();
    TvQemuIncoming none = { .fd = -1 };
    g_assert_null(tv_qemu_process_start_incoming(def, &dcfg, &none));
    g_assert_nonnull(strstr(tv_error_message(), "'tcp:HOST:PORT'"));
    TvQemuIncoming exec = { .uri = "exec:cat /etc/passwd", .fd = -1 };
    g_assert_null(tv_qemu_process_start_incoming(def, &dcfg, &exec));
    g_assert_nonnull(strstr(tv_error_message(), "exec:cat"));
    e2e_assert_no_children();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (e2e_setup() < 0) {
        g_printerr("%s\n", tv_error_message());
        return 1;
    }
    g_test_add_func("/incoming/refused", test_refused);
    g_test_add_func("/incoming/tcp", test_tcp);
    g_test_add_func("/incoming/fd", test_fd);
    g_test_add_func("/incoming/pipe", test_pipe);
    g_test_add_func("/incoming/garbage", test_garbage);
    int rc = g_test_run();
    e2e_teardown();
    return rc;
}
