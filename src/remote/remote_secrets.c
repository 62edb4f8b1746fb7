/* Secrets as libvirt answers them on a host that has none: empty lists and
 * counts, lookups that find nothing (NO_SECRET).  tagvirt has no secret
 * store, so defining a secret stays an unknown procedure (the client says
 * "not supported"); clients that only look for secrets (Nova, virt-manager)
 * work unchanged. */
#include "remote_priv.h"

#include "domain_conf.h"

#include <string.h>

/* libvirt's VIR_CONNECT_LIST_SECRETS_{EPHEMERAL,NO_EPHEMERAL,PRIVATE,NO_PRIVATE} */
#define LIST_SECRETS_FLAGS 0xfu

static int num_of_secrets(TvRemoteConn *conn, const void *a, void *r)
{
    ((tvr_num_ret *)r)->num = 0;
    return 0;
}

static int list_secrets(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_list_secrets_args *args = a;
    if (args->maxuuids > TVR_SECRET_LIST_MAX || args->maxuuids < 0) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "maxuuids %d is out of range: expected 0 to %d", args->maxuuids,
                        TVR_SECRET_LIST_MAX);
        return -1;
    }
    return 0; /* no uuids */
}

static int lookup_by_uuid(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_secret_lookup_by_uuid_args *args = a;
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format((const unsigned char *)args->uuid, uuid);
    tv_error_report(TV_FROM_SECRET, TV_ERR_NO_SECRET,
                    "Secret not found: no secret with matching uuid '%s' (tagvirtd keeps no "
                    "secrets)",
                    uuid);
    return -1;
}

static int lookup_by_usage(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_secret_lookup_by_usage_args *args = a;
    tv_error_report(TV_FROM_SECRET, TV_ERR_NO_SECRET,
                    "Secret not found: no secret with matching usage '%s' (tagvirtd keeps no "
                    "secrets)",
                    args->usage_id);
    return -1;
}

static int list_all_secrets(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_list_all_args *args = a;
    if (args->flags & ~LIST_SECRETS_FLAGS) {
        tv_error_report(TV_FROM_SECRET, TV_ERR_INVALID_ARG,
                        "secret list flags 0x%x are not supported; accepted: 0x%x", args->flags,
                        LIST_SECRETS_FLAGS);
        return -1;
    }
    ((tvr_connect_list_all_secrets_ret *)r)->ret = 0;
    return 0;
}

const TvRemoteHandlerEntry tv_remote_secret_handlers[] = {
    { TVR_PROC_CONNECT_NUM_OF_SECRETS, num_of_secrets },
    { TVR_PROC_CONNECT_LIST_SECRETS, list_secrets },
    { TVR_PROC_SECRET_LOOKUP_BY_UUID, lookup_by_uuid },
    { TVR_PROC_SECRET_LOOKUP_BY_USAGE, lookup_by_usage },
    { TVR_PROC_CONNECT_LIST_ALL_SECRETS, list_all_secrets },
};
const gsize tv_remote_secret_handlers_count = G_N_ELEMENTS(tv_remote_secret_handlers);
