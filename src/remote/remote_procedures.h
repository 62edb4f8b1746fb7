/* The remote program's procedure table: number, name, XDR filters of the
 * arguments and result, and where a call may run. */
#pragma once

#include <glib.h>
#include <rpc/rpc.h>

typedef enum {
    TV_PROC_READONLY_OK = 1 << 0,    /* allowed on a read-only connection; never waits for a job */
    TV_PROC_BEFORE_OPEN = 1 << 1,    /* allowed before CONNECT_OPEN */
    TV_PROC_SERVER_MESSAGE = 1 << 2, /* only sent by the server (events) */
    TV_PROC_INLINE = 1 << 3,         /* never blocks: answered on the reading thread */
} TvRemoteProcedureFlags;

typedef struct {
    int proc;
    const char *name;
    xdrproc_t args_filter;
    gsize args_size;
    xdrproc_t ret_filter;
    gsize ret_size;
    unsigned flags;
} TvRemoteProcedure;

/* NULL for a number the protocol tables do not know. */
const TvRemoteProcedure *tv_remote_procedure_find(int proc);
gsize tv_remote_procedure_count(void);
const TvRemoteProcedure *tv_remote_procedure_at(gsize index);
gsize tv_remote_procedure_index(const TvRemoteProcedure *proc);

/* The procedure table of each group beyond the core one, sorted by number
 * (remote_storage_procedures.c, ...); a group's XDR comes from its own .x. */
extern const TvRemoteProcedure tv_remote_storage_procedures[];
extern const gsize tv_remote_storage_procedures_count;
extern const TvRemoteProcedure tv_remote_host_procedures[];
extern const gsize tv_remote_host_procedures_count;
extern const TvRemoteProcedure tv_remote_network_procedures[];
extern const gsize tv_remote_network_procedures_count;
extern const TvRemoteProcedure tv_remote_device_procedures[];
extern const gsize tv_remote_device_procedures_count;
extern const TvRemoteProcedure tv_remote_agent_procedures[];
extern const gsize tv_remote_agent_procedures_count;
extern const TvRemoteProcedure tv_remote_save_procedures[];
extern const gsize tv_remote_save_procedures_count;
extern const TvRemoteProcedure tv_remote_stats_procedures[];
extern const gsize tv_remote_stats_procedures_count;
