/* tagvirt run FILE: start a domain through the runtime, show its serial
 * console on stdout, stop it on Ctrl-C; exit 0 only when the guest powered
 * off by itself. */
#include "qemu_process.h"
#include "qemu_security.h"
#include "tagvirt_cli.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

typedef struct {
    gboolean no_console;
    gboolean console;
    char *state_dir;
    char *log_dir;
    char *live_xml;
    int shutdown_timeout; /* seconds */
    int monitor_timeout;  /* ms */
} RunOptions;

typedef struct {
    int wake_fd;
    int console_fd;
    bool stdout_closed; /* EPIPE: keep draining the console, show nothing */
    bool stopping;
    gint64 kill_at; /* monotonic µs; 0: none */
} RunLoop;

static void on_state(TvQemuProcess *proc, int state, int reason, void *opaque)
{
    RunLoop *loop = opaque;
    uint64_t one = 1;
    (void)!write(loop->wake_fd, &one, sizeof(one));
}

static char *default_state_dir(void)
{
    if (geteuid() == 0)
        return g_strdup("/run/tagvirt");
    const char *xdg = g_getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg)
        return g_build_filename(xdg, "tagvirt", NULL);
    return g_build_filename(g_get_user_runtime_dir(), "tagvirt", NULL);
}

static int write_out(RunLoop *loop, const char *buf, size_t len)
{
    while (len > 0 && !loop->stdout_closed) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            loop->stdout_closed = true; /* the guest runs on; its output is dropped */
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copy what the console has to stdout; -1 at EOF/EIO (QEMU closed it). */
static int pump_console(RunLoop *loop)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(loop->console_fd, buf, sizeof(buf));
        if (n > 0) {
            write_out(loop, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        close(loop->console_fd);
        loop->console_fd = -1;
        return -1;
    }
}

static void on_signal(TvQemuProcess *proc, RunLoop *loop, const RunOptions *o, int sig)
{
    if (loop->stopping) {
        fprintf(stderr, "tagvirt: %s again: destroying '%s'\n", strsignal(sig),
                tv_qemu_process_name(proc));
        if (tv_qemu_process_destroy(proc) < 0)
            tv_cli_fail();
        return;
    }
    loop->stopping = true;
    fprintf(stderr, "\ntagvirt: %s: powering '%s' down (killed after %d s)\n", strsignal(sig),
            tv_qemu_process_name(proc), o->shutdown_timeout);
    loop->kill_at = g_get_monotonic_time() + (gint64)o->shutdown_timeout * G_USEC_PER_SEC;
    if (tv_qemu_process_shutdown(proc) < 0)
        loop->kill_at = g_get_monotonic_time(); /* no monitor: kill now */
}

static int poll_timeout(const RunLoop *loop)
{
    if (!loop->kill_at)
        return -1;
    gint64 left = loop->kill_at - g_get_monotonic_time();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* Until QEMU is gone: console to stdout, signals to a clean stop. */
static void run_loop(TvQemuProcess *proc, RunLoop *loop, const RunOptions *o, int sig_fd)
{
    while (tv_qemu_process_is_active(proc)) {
        struct pollfd fds[3] = {
            { .fd = loop->wake_fd, .events = POLLIN },
            { .fd = sig_fd, .events = POLLIN },
            { .fd = loop->console_fd, .events = POLLIN },
        };
        int n = poll(fds, 3, poll_timeout(loop));
        if (n < 0 && errno != EINTR)
            break;
        if (fds[0].revents) {
            uint64_t v;
            (void)!read(loop->wake_fd, &v, sizeof(v));
        }
        if (fds[2].revents)
            pump_console(loop);
        if (fds[1].revents) {
            struct signalfd_siginfo si;
            if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                on_signal(proc, loop, o, (int)si.ssi_signo);
        }
        if (loop->kill_at && g_get_monotonic_time() >= loop->kill_at) {
            loop->kill_at = 0;
            fprintf(stderr, "tagvirt: '%s' did not power off: destroying it\n",
                    tv_qemu_process_name(proc));
            if (tv_qemu_process_destroy(proc) < 0)
                tv_cli_fail();
        }
    }
    /* the rest of the output is in the pty until we read it */
    while (loop->console_fd >= 0 && pump_console(loop) == 0) {
        struct pollfd p = { .fd = loop->console_fd, .events = POLLIN };
        if (poll(&p, 1, 100) <= 0)
            break;
    }
}

static int report_end(TvQemuProcess *proc, const RunLoop *loop)
{
    int state = 0, reason = 0;
    tv_qemu_process_get_state(proc, &state, &reason);
    g_autofree char *how = tv_qemu_process_exit_description(proc);
    if (state == TV_DOMAIN_STATE_SHUTOFF && reason == TV_DOMAIN_SHUTOFF_SHUTDOWN && !loop->stopping)
        return 0;
    fprintf(stderr, "tagvirt: domain '%s' shut off (%s): QEMU %s\n", tv_qemu_process_name(proc),
            tv_domain_reason_to_string(state, reason), how ? how : "still running");
    if (reason == TV_DOMAIN_SHUTOFF_CRASHED) {
        g_autofree char *tail = tv_qemu_process_log_tail(proc, 2048);
        if (tail)
            fprintf(stderr, "tagvirt: the end of QEMU's log:\n%s\n", tail);
    }
    return -1;
}

static int write_live_xml(TvQemuProcess *proc, const char *path)
{
    g_autofree char *xml = tv_qemu_process_format_xml(proc, TV_DOMAIN_FORMAT_LIVE);
    if (strcmp(path, "-") == 0) {
        fputs(xml, stderr);
        return 0;
    }
    return tv_file_write_atomic(path, xml, strlen(xml), 0644);
}

static int run_domain(TvCliContext *cli, const char *file, RunOptions *o)
{
    const TvQemuCaps *caps = NULL;
    g_autoptr(TvDomainDef) def = tv_cli_load_domain(cli, file, &caps);
    if (!def)
        return tv_cli_fail();
    g_autofree char *state_dir = o->state_dir ? g_strdup(o->state_dir) : default_state_dir();
    g_autofree char *log_dir =
        o->log_dir ? g_strdup(o->log_dir)
                   : g_build_filename(g_get_user_cache_dir(), "tagvirt", "log", NULL);
    if (tv_qemu_process_become_subreaper() < 0)
        return tv_cli_fail();

    /* signals arrive through a signalfd; every thread started later keeps them blocked */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill the guest's manager */
    int sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    RunLoop loop = { .wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .console_fd = -1 };
    if (sig_fd < 0 || loop.wake_fd < 0) {
        tv_error_report_errno(TV_FROM_NONE, errno, "cannot set up signal handling");
        return tv_cli_fail();
    }
    /* QEMU as the caller (an ordinary user, or root), sandboxed, in its own
     * session; tagvirtd is the way to a dedicated user (docs/security.rst) */
    g_autoptr(TvQemuSecurity) sec = tv_qemu_security_new_caller();
    TvQemuProcessConfig cfg = {
        .security = sec,
        .state_dir = state_dir,
        .log_dir = log_dir,
        .caps = caps,
        .host = cli->host,
        .monitor_timeout_ms = (unsigned)MAX(o->monitor_timeout, 0),
        .state_cb = on_state,
        .state_opaque = &loop,
    };
    bool console = !o->no_console;
    int ret = -1;
    g_autoptr(TvQemuProcess) proc =
        tv_qemu_process_start(def, &cfg, console ? TV_QEMU_PROCESS_START_CONSOLE : 0);
    if (!proc) {
        tv_cli_fail();
        goto out;
    }
    loop.console_fd = tv_qemu_process_steal_console(proc);
    if (console && loop.console_fd < 0)
        fprintf(stderr, "tagvirt: '%s' has no pty serial port: no console to show\n", def->name);
    if (o->live_xml && write_live_xml(proc, o->live_xml) < 0)
        tv_cli_fail(); /* the guest runs anyway */
    run_loop(proc, &loop, o, sig_fd);
    ret = report_end(proc, &loop);
out:
    if (loop.console_fd >= 0)
        close(loop.console_fd);
    close(loop.wake_fd);
    close(sig_fd);
    return ret;
}

int tv_cmd_run(int argc, char **argv)
{
    TvCliCommon common = { 0 };
    RunOptions o = { .shutdown_timeout = 3 };
    GOptionEntry entries[] = {
        { "console", 0, 0, G_OPTION_ARG_NONE, &o.console, "show serial 0 on stdout (the default)",
          NULL },
        { "no-console", 0, 0, G_OPTION_ARG_NONE, &o.no_console, "do not show the console", NULL },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir,
          "status file and monitor socket (default: $XDG_RUNTIME_DIR/tagvirt, root: "
          "/run/tagvirt)",
          "DIR" },
        { "log-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.log_dir,
          "QEMU's log, DIR/NAME.log (default: ~/.cache/tagvirt/log)", "DIR" },
        { "live-xml", 0, 0, G_OPTION_ARG_FILENAME, &o.live_xml,
          "write the live XML (resolved MTE level) to FILE once started ('-': stderr)", "FILE" },
        { "shutdown-timeout", 0, 0, G_OPTION_ARG_INT, &o.shutdown_timeout,
          "on Ctrl-C, seconds the guest gets to power off before it is killed (default 3)", "S" },
        { "monitor-timeout", 0, 0, G_OPTION_ARG_INT, &o.monitor_timeout,
          "milliseconds QEMU gets to answer QMP at start (default 10000)", "MS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("FILE - run a domain in the foreground with its serial console");
    g_option_context_add_main_entries(ctx, entries, NULL);
    tv_cli_add_common(ctx, &common);
    int ret = -1;
    TvCliContext cli;
    if (tv_cli_parse(ctx, &argc, &argv) < 0)
        goto out;
    if (argc != 2) {
        fprintf(stderr, "tagvirt: error: expected one domain XML FILE\n");
        goto out;
    }
    if (o.console && o.no_console) {
        fprintf(stderr, "tagvirt: error: --console and --no-console contradict each other\n");
        goto out;
    }
    if (tv_cli_context_init(&cli, &common) < 0) {
        tv_cli_fail();
        goto out;
    }
    ret = run_domain(&cli, argv[1], &o);
    tv_cli_context_clear(&cli);
out:
    g_free(o.state_dir);
    g_free(o.log_dir);
    g_free(o.live_xml);
    tv_cli_common_clear(&common);
    return ret;
}
