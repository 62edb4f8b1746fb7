#include "tv_error.h"

#include <string.h>

void tv_error_free(TvError *err)
{
    if (!err)
        return;
    g_free(err->message);
    g_free(err);
}

/* Per thread; what a thread leaves set is freed when it ends (worker
 * threads end with the error of their last call still set). */
static GPrivate last_error_key = G_PRIVATE_INIT((GDestroyNotify)tv_error_free);

static TvError *current(void)
{
    return g_private_get(&last_error_key);
}

/* Replace (and free) the thread's error. */
static void put_error(TvError *err)
{
    g_private_replace(&last_error_key, err);
}

static void set_error(TvErrorDomain domain, TvErrorCode code, char *message)
{
    TvError *err = g_new0(TvError, 1);
    err->domain = domain;
    err->code = code;
    err->message = message;
    put_error(err);
}

void tv_error_report(TvErrorDomain domain, TvErrorCode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(domain, code, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void tv_error_report_errno(TvErrorDomain domain, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    set_error(domain, TV_ERR_SYSTEM_ERROR, g_strdup_printf("%s: %s", msg, g_strerror(errnum)));
}

void tv_error_prefix(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    TvError *err = current();
    if (!err) {
        set_error(TV_FROM_NONE, TV_ERR_INTERNAL_ERROR, g_steal_pointer(&prefix));
        return;
    }
    char *joined = g_strdup_printf("%s: %s", prefix, err->message);
    g_free(err->message);
    err->message = joined;
}

const TvError *tv_error_last(void)
{
    return current();
}

const char *tv_error_message(void)
{
    const TvError *err = current();
    return err ? err->message : "unknown error";
}

TvErrorCode tv_error_code(void)
{
    const TvError *err = current();
    return err ? err->code : TV_ERR_OK;
}

void tv_error_reset(void)
{
    put_error(NULL);
}

TvError *tv_error_steal(void)
{
    TvError *err = current();
    g_private_set(&last_error_key, NULL); /* set: no free */
    return err;
}

void tv_error_restore(TvError *err)
{
    put_error(err);
}
