/* libvirt's public numbers for domains, in one place: states and their
 * reasons (virDomainState, virDomain*Reason), lifecycle events and their
 * details, and the API flags the driver and the remote layer share.  They go
 * on the wire as they are, so every value here is libvirt's number. */
#pragma once

typedef enum {
    TV_DOMAIN_STATE_NOSTATE = 0,
    TV_DOMAIN_STATE_RUNNING = 1,
    TV_DOMAIN_STATE_BLOCKED = 2,
    TV_DOMAIN_STATE_PAUSED = 3,
    TV_DOMAIN_STATE_SHUTDOWN = 4,
    TV_DOMAIN_STATE_SHUTOFF = 5,
    TV_DOMAIN_STATE_CRASHED = 6,
} TvDomainState;

/* One reason enum per state; a (state, reason) pair travels as two ints. */
typedef enum {
    TV_DOMAIN_RUNNING_UNKNOWN = 0,
    TV_DOMAIN_RUNNING_BOOTED = 1,
    TV_DOMAIN_RUNNING_MIGRATED = 2,
    TV_DOMAIN_RUNNING_RESTORED = 3,
    TV_DOMAIN_RUNNING_FROM_SNAPSHOT = 4,
    TV_DOMAIN_RUNNING_UNPAUSED = 5,
    TV_DOMAIN_RUNNING_MIGRATION_CANCELED = 6, /* paused by a migration that failed, running again */
    TV_DOMAIN_RUNNING_SAVE_CANCELED = 7,      /* paused for a save that failed, running again */
    TV_DOMAIN_RUNNING_CRASHED = 9,            /* restarted in the same QEMU after a panic */
} TvDomainRunningReason;

typedef enum {
    TV_DOMAIN_PAUSED_UNKNOWN = 0,
    TV_DOMAIN_PAUSED_USER = 1,
    TV_DOMAIN_PAUSED_MIGRATION = 2,
    TV_DOMAIN_PAUSED_SAVE = 3,
    TV_DOMAIN_PAUSED_WATCHDOG = 6, /* <watchdog action='pause'> fired */
    TV_DOMAIN_PAUSED_SHUTTING_DOWN = 8,
    TV_DOMAIN_PAUSED_CRASHED = 10,
    TV_DOMAIN_PAUSED_STARTING_UP = 11,
} TvDomainPausedReason;

typedef enum {
    TV_DOMAIN_SHUTDOWN_UNKNOWN = 0,
    TV_DOMAIN_SHUTDOWN_USER = 1,
} TvDomainShutdownReason;

typedef enum {
    TV_DOMAIN_SHUTOFF_UNKNOWN = 0,
    TV_DOMAIN_SHUTOFF_SHUTDOWN = 1, /* the guest powered off */
    TV_DOMAIN_SHUTOFF_DESTROYED = 2,
    TV_DOMAIN_SHUTOFF_CRASHED = 3, /* QEMU died (signal, error exit) or the guest panicked */
    TV_DOMAIN_SHUTOFF_MIGRATED = 4,
    TV_DOMAIN_SHUTOFF_SAVED = 5,
    TV_DOMAIN_SHUTOFF_FAILED = 6, /* start-up failed */
    TV_DOMAIN_SHUTOFF_FROM_SNAPSHOT = 7,
    TV_DOMAIN_SHUTOFF_DAEMON = 8,
} TvDomainShutoffReason;

typedef enum {
    TV_DOMAIN_CRASHED_UNKNOWN = 0,
    TV_DOMAIN_CRASHED_PANICKED = 1, /* on_crash preserve keeps the panicked guest */
} TvDomainCrashedReason;

/* Lifecycle events (virDomainEventType); the detail numbers are per event. */
typedef enum {
    TV_DOMAIN_EVENT_DEFINED = 0,
    TV_DOMAIN_EVENT_UNDEFINED = 1,
    TV_DOMAIN_EVENT_STARTED = 2,
    TV_DOMAIN_EVENT_SUSPENDED = 3,
    TV_DOMAIN_EVENT_RESUMED = 4,
    TV_DOMAIN_EVENT_STOPPED = 5,
    TV_DOMAIN_EVENT_SHUTDOWN = 6,
    TV_DOMAIN_EVENT_CRASHED = 8, /* detail PANICKED = 0 */
} TvDomainEventType;

/* The WATCHDOG event's action (virDomainEventWatchdogAction). */
typedef enum {
    TV_DOMAIN_EVENT_WATCHDOG_NONE = 0,
    TV_DOMAIN_EVENT_WATCHDOG_PAUSE = 1,
    TV_DOMAIN_EVENT_WATCHDOG_RESET = 2,
    TV_DOMAIN_EVENT_WATCHDOG_POWEROFF = 3,
    TV_DOMAIN_EVENT_WATCHDOG_SHUTDOWN = 4,
    TV_DOMAIN_EVENT_WATCHDOG_DEBUG = 5,
    TV_DOMAIN_EVENT_WATCHDOG_INJECTNMI = 6,
} TvDomainEventWatchdogAction;

/* list_all flags: libvirt's CONNECT_LIST_DOMAINS_* numbers */
enum {
    TV_LIST_ACTIVE = 1,
    TV_LIST_INACTIVE = 2,
    TV_LIST_PERSISTENT = 4,
    TV_LIST_TRANSIENT = 8,
    TV_LIST_RUNNING = 16,
    TV_LIST_PAUSED = 32,
    TV_LIST_SHUTOFF = 64,
};

/* get_xml flags: libvirt's DOMAIN_XML_* numbers */
enum {
    TV_XML_SECURE = 1,
    TV_XML_INACTIVE = 2,
    TV_XML_UPDATE_CPU = 4,
    TV_XML_MIGRATABLE = 8,
};

/* migration flags: libvirt's VIR_MIGRATE_* numbers */
enum {
    TV_MIGRATE_LIVE = 1 << 0,
    TV_MIGRATE_PEER2PEER = 1 << 1,
    TV_MIGRATE_TUNNELLED = 1 << 2,
    TV_MIGRATE_PERSIST_DEST = 1 << 3,
    TV_MIGRATE_UNDEFINE_SOURCE = 1 << 4,
    TV_MIGRATE_PAUSED = 1 << 5,
    TV_MIGRATE_NON_SHARED_DISK = 1 << 6,
    TV_MIGRATE_NON_SHARED_INC = 1 << 7,
    TV_MIGRATE_CHANGE_PROTECTION = 1 << 8,
    TV_MIGRATE_UNSAFE = 1 << 9,
    TV_MIGRATE_OFFLINE = 1 << 10,
    TV_MIGRATE_COMPRESSED = 1 << 11,
    TV_MIGRATE_ABORT_ON_ERROR = 1 << 12,
    TV_MIGRATE_AUTO_CONVERGE = 1 << 13,
    TV_MIGRATE_RDMA_PIN_ALL = 1 << 14,
    TV_MIGRATE_POSTCOPY = 1 << 15,
    TV_MIGRATE_TLS = 1 << 16,
    TV_MIGRATE_PARALLEL = 1 << 17,
    TV_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES = 1 << 18,
    TV_MIGRATE_POSTCOPY_RESUME = 1 << 19,
    TV_MIGRATE_ZEROCOPY = 1 << 20,
    TV_MIGRATE_KNOWN = (1 << 21) - 1,
};

/* define flags: libvirt's DOMAIN_DEFINE_* numbers */
enum {
    TV_DEFINE_VALIDATE = 1,
};

/* "running", "shut off", ... and "booted", "crashed", ... for messages and
 * the status file; NULL / -1 for numbers and words that are not libvirt's. */
const char *tv_domain_state_to_string(int state);
int tv_domain_state_from_string(const char *str);
const char *tv_domain_reason_to_string(int state, int reason);
int tv_domain_reason_from_string(int state, const char *str);

/* The lifecycle event (TV_DOMAIN_EVENT_*) and libvirt's detail number for a
 * state change; *event is -1 when none applies. */
void tv_domain_state_event(int state, int reason, int *event, int *detail);
