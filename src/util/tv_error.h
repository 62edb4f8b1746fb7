/* Error reporting: the place that detects a problem reports it here, with
 * libvirt's code and domain numbers so clients show the right class; callers
 * only return -1.  The last error is per thread. */
#pragma once

#include <glib.h>

typedef enum {
    TV_ERR_OK = 0,
    TV_ERR_INTERNAL_ERROR = 1,
    TV_ERR_NO_SUPPORT = 3,
    TV_ERR_INVALID_ARG = 8,
    TV_ERR_OPERATION_FAILED = 9,
    TV_ERR_XML_ERROR = 27,
    TV_ERR_XML_DETAIL = 35,
    TV_ERR_DOM_EXIST = 28,
    TV_ERR_OPERATION_DENIED = 29,
    TV_ERR_SYSTEM_ERROR = 38,
    TV_ERR_RPC = 39,
    TV_ERR_NO_DOMAIN = 42,
    TV_ERR_NO_NETWORK = 43,
    TV_ERR_AUTH_FAILED = 45,
    TV_ERR_NO_NODE_DEVICE = 53,
    TV_ERR_NO_STORAGE_POOL = 49,
    TV_ERR_NO_STORAGE_VOL = 50,
    TV_ERR_OPERATION_INVALID = 55,
    TV_ERR_NO_SECRET = 66,
    TV_ERR_CONFIG_UNSUPPORTED = 67,
    TV_ERR_OPERATION_TIMEOUT = 68,
    TV_ERR_ARGUMENT_UNSUPPORTED = 74,
    TV_ERR_STORAGE_POOL_BUILT = 76,
    TV_ERR_OPERATION_ABORTED = 78,
    TV_ERR_NO_DOMAIN_SNAPSHOT = 72,
    TV_ERR_NO_DOMAIN_METADATA = 80,
    TV_ERR_OPERATION_UNSUPPORTED = 84,
    TV_ERR_CPU_INCOMPATIBLE = 91,
    TV_ERR_STORAGE_VOL_EXIST = 90,
    TV_ERR_XML_INVALID_SCHEMA = 92,
    TV_ERR_DEVICE_MISSING = 99,
} TvErrorCode;

typedef enum {
    TV_FROM_NONE = 0,
    TV_FROM_XML = 5,
    TV_FROM_RPC = 7,
    TV_FROM_CONF = 9,
    TV_FROM_QEMU = 10,
    TV_FROM_STORAGE = 18,
    TV_FROM_NETWORK = 19,
    TV_FROM_DOMAIN = 20,
    TV_FROM_NODEDEV = 22,
    TV_FROM_SECRET = 30,
    TV_FROM_DOMAIN_SNAPSHOT = 35,
    TV_FROM_CPU = 31,
    TV_FROM_CAPABILITIES = 44,
} TvErrorDomain;

typedef struct {
    TvErrorCode code;
    TvErrorDomain domain;
    char *message;
} TvError;

void tv_error_report(TvErrorDomain domain, TvErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* SYSTEM_ERROR with ": <strerror(errnum)>" appended. */
void tv_error_report_errno(TvErrorDomain domain, int errnum, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Prefix the current error's message with "<prefix>: " (context on the way up). */
void tv_error_prefix(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

const TvError *tv_error_last(void);
/* The last message, or "unknown error" when none was reported. */
const char *tv_error_message(void);
TvErrorCode tv_error_code(void);
void tv_error_reset(void);
/* Detach the last error (caller frees with tv_error_free); none left behind. */
TvError *tv_error_steal(void);
void tv_error_restore(TvError *err);
void tv_error_free(TvError *err);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvError, tv_error_free)
