#include "tv_error.h"

#include <string.h>

static __thread TvError *last_error;

void tv_error_free(TvError *err)
{
    if (!err)
        return;
    g_free(err->message);
    g_free(err);
}

static void set_error(TvErrorDomain domain, TvErrorCode code, char *message)
{
    tv_error_free(last_error);
    last_error = g_new0(TvError, 1);
    last_error->domain = domain;
    last_error->code = code;
    last_error->message = message;
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
    if (!last_error) {
        set_error(TV_FROM_NONE, TV_ERR_INTERNAL_ERROR, g_steal_pointer(&prefix));
        return;
    }
    char *joined = g_strdup_printf("%s: %s", prefix, last_error->message);
    g_free(last_error->message);
    last_error->message = joined;
}

const TvError *tv_error_last(void)
{
    return last_error;
}

const char *tv_error_message(void)
{
    return last_error ? last_error->message : "unknown error";
}

TvErrorCode tv_error_code(void)
{
    return last_error ? last_error->code : TV_ERR_OK;
}

void tv_error_reset(void)
{
    tv_error_free(last_error);
    last_error = NULL;
}

TvError *tv_error_steal(void)
{
    return g_steal_pointer(&last_error);
}

void tv_error_restore(TvError *err)
{
    tv_error_free(last_error);
    last_error = err;
}
