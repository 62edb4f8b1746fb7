/* Frame builders for the wire-protocol tests. */
#pragma once

#include <glib.h>

#include "rpc_message.h"
#include "remote_protocol.h"

/* A frame laid out byte by byte (big-endian), length word = 28 + payload_len
 * unless length is non-zero. */
GBytes *tv_test_raw_frame(guint32 length, guint32 prog, guint32 vers, gint32 proc, gint32 type,
                          guint32 serial, gint32 status, const void *payload, gsize payload_len);
/* A CALL of the remote program with args encoded by filter. */
GBytes *tv_test_call(int proc, guint32 serial, xdrproc_t filter, const void *args);
/* Payload bytes from 32-bit big-endian words. */
GBytes *tv_test_words(const guint32 *words, gsize n);
/* Decode a frame that must be a REPLY to serial; returns its status. */
int tv_test_reply_status(GBytes *frame, guint32 serial, int proc, TvRpcMessage *msg);
/* Decode an error reply's payload; g_assert on anything malformed. */
void tv_test_reply_error(GBytes *frame, tvr_error *err);
