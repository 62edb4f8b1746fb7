/* libvirt's state and reason spellings, and the lifecycle event of each
 * state change (domain_vocab.h). */
#include "domain_vocab.h"

#include <glib.h>
#include <string.h>

static const char *const state_names[] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed",
};
static const char *const running_reasons[] = {
    "unknown",       "booted",   "migrated",           "restored",
    "from snapshot", "unpaused", "migration canceled", "save canceled",
    "wakeup",        "crashed",
};
static const char *const paused_reasons[] = {
    "unknown",  "user",          "migration", "save",     "dump",    "ioerror",
    "watchdog", "from snapshot", "shutdown",  "snapshot", "crashed", "starting up",
};
static const char *const shutdown_reasons[] = { "unknown", "user" };
static const char *const shutoff_reasons[] = {
    "unknown", "shutdown", "destroyed",     "crashed", "migrated",
    "saved",   "failed",   "from snapshot", "daemon",
};
static const char *const crashed_reasons[] = { "unknown", "panicked" };
static const char *const other_reasons[] = { "unknown" };

const char *tv_domain_state_to_string(int state)
{
    if (state < 0 || state >= (int)G_N_ELEMENTS(state_names))
        return NULL;
    return state_names[state];
}

int tv_domain_state_from_string(const char *str)
{
    for (size_t i = 0; str && i < G_N_ELEMENTS(state_names); i++) {
        if (strcmp(state_names[i], str) == 0)
            return (int)i;
    }
    return -1;
}

static const char *const *reason_table(int state, size_t *n)
{
    switch ((TvDomainState)state) {
    case TV_DOMAIN_STATE_RUNNING:
        *n = G_N_ELEMENTS(running_reasons);
        return running_reasons;
    case TV_DOMAIN_STATE_PAUSED:
        *n = G_N_ELEMENTS(paused_reasons);
        return paused_reasons;
    case TV_DOMAIN_STATE_SHUTDOWN:
        *n = G_N_ELEMENTS(shutdown_reasons);
        return shutdown_reasons;
    case TV_DOMAIN_STATE_SHUTOFF:
        *n = G_N_ELEMENTS(shutoff_reasons);
        return shutoff_reasons;
    case TV_DOMAIN_STATE_CRASHED:
        *n = G_N_ELEMENTS(crashed_reasons);
        return crashed_reasons;
    case TV_DOMAIN_STATE_NOSTATE:
    case TV_DOMAIN_STATE_BLOCKED:
        break;
    }
    *n = G_N_ELEMENTS(other_reasons);
    return other_reasons;
}

const char *tv_domain_reason_to_string(int state, int reason)
{
    size_t n = 0;
    const char *const *table = reason_table(state, &n);
    if (reason < 0 || (size_t)reason >= n)
        return "unknown";
    return table[reason];
}

int tv_domain_reason_from_string(int state, const char *str)
{
    size_t n = 0;
    const char *const *table = reason_table(state, &n);
    for (size_t i = 0; str && i < n; i++) {
        if (strcmp(table[i], str) == 0)
            return (int)i;
    }
    return -1;
}

void tv_domain_state_event(int state, int reason, int *event, int *detail)
{
    *event = -1;
    *detail = 0;
    switch ((TvDomainState)state) {
    case TV_DOMAIN_STATE_RUNNING:
        /* STARTED_BOOTED = 0, RESUMED_UNPAUSED = 0 */
        *event =
            reason == TV_DOMAIN_RUNNING_BOOTED ? TV_DOMAIN_EVENT_STARTED : TV_DOMAIN_EVENT_RESUMED;
        break;
    case TV_DOMAIN_STATE_PAUSED:
        *event = TV_DOMAIN_EVENT_SUSPENDED; /* SUSPENDED_PAUSED = 0 */
        break;
    case TV_DOMAIN_STATE_SHUTDOWN:
        *event = TV_DOMAIN_EVENT_SHUTDOWN;
        *detail = reason == TV_DOMAIN_SHUTDOWN_USER ? 1 : 0; /* GUEST = 1, FINISHED = 0 */
        break;
    case TV_DOMAIN_STATE_SHUTOFF:
        /* STOPPED_SHUTDOWN 0, DESTROYED 1, CRASHED 2, MIGRATED 3, SAVED 4, FAILED 5,
         * FROM_SNAPSHOT 6: the shut-off reason minus one */
        *event = TV_DOMAIN_EVENT_STOPPED;
        *detail = reason >= TV_DOMAIN_SHUTOFF_SHUTDOWN && reason <= TV_DOMAIN_SHUTOFF_FROM_SNAPSHOT
                      ? reason - 1
                      : 0;
        break;
    case TV_DOMAIN_STATE_CRASHED:
        *event = TV_DOMAIN_EVENT_CRASHED; /* CRASHED_PANICKED = 0 */
        break;
    case TV_DOMAIN_STATE_NOSTATE:
    case TV_DOMAIN_STATE_BLOCKED:
        break;
    }
}
