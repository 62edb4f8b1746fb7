#include "tagvirtd_log.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static guint log_level = 3;
static gboolean to_journal;

/* syslog priority of a GLib level */
static int priority_of(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return 3;
    if (level & G_LOG_LEVEL_WARNING)
        return 4;
    if (level & G_LOG_LEVEL_MESSAGE)
        return 5;
    if (level & G_LOG_LEVEL_INFO)
        return 6;
    return 7;
}

static gboolean wanted(int priority)
{
    switch (log_level) {
    case 1:
        return TRUE;
    case 2:
        return priority <= 6;
    case 3:
        return priority <= 5;
    default:
        return priority <= 3;
    }
}

static const char *priority_name(int priority)
{
    switch (priority) {
    case 3:
        return "error";
    case 4:
        return "warning";
    case 5:
        return "notice";
    case 6:
        return "info";
    default:
        return "debug";
    }
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                               gpointer data)
{
    int priority = priority_of(level);
    if (!wanted(priority))
        return G_LOG_WRITER_HANDLED;
    const char *message = "";
    const char *domain = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
        else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    if (to_journal) {
        fprintf(stderr, "<%d>%s%s%s\n", priority, domain ? domain : "", domain ? ": " : "",
                message);
    } else {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = g_date_time_format(now, "%F %T.%f");
        fprintf(stderr, "%.23s tagvirtd[%d]: %s: %s%s%s\n", stamp, (int)getpid(),
                priority_name(priority), domain ? domain : "", domain ? ": " : "", message);
    }
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

/* systemd sets JOURNAL_STREAM=dev:inode of the stream it connected to stderr */
static gboolean stderr_is_journal(void)
{
    const char *env = g_getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return FALSE;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tv_daemon_log_init(guint level)
{
    log_level = level;
    to_journal = stderr_is_journal();
    g_log_set_writer_func(writer, NULL, NULL);
}
