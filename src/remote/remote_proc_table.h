/* What a procedure table file needs: the PROC() entry of a procedure by its
 * TVR_PROC_ name, XDR types and flags (remote_procedures.h). */
#pragma once

#include "remote_procedures.h"
#include "rpc_message.h"

/* "no arguments" / "no result": one byte of storage, the void filter */
typedef char tv_void;
#define xdr_tv_void xdr_void

#define RO    TV_PROC_READONLY_OK
#define EARLY TV_PROC_BEFORE_OPEN
#define NB    TV_PROC_INLINE

#define PROC(name, args, ret, flags)                                                               \
    {                                                                                              \
        TVR_PROC_##name, #name, TV_XDR(xdr_##args), sizeof(args), TV_XDR(xdr_##ret), sizeof(ret),  \
            (flags)                                                                                \
    }
