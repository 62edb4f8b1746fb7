/* Files: atomic writes (temporary file, fsync, rename, fsync of the folder)
 * and bounded reads. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <sys/types.h>

int tv_file_write_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* Atomic for readers (temporary file, rename) but not flushed to disk: for
 * state that means nothing after the machine restarts (a running QEMU's
 * status), where an fsync would only cost time. */
int tv_file_write_volatile(const char *path, const char *data, size_t len, mode_t mode);
/* Reads at most max_len bytes; a longer file is an error naming the limit. */
int tv_file_read_all(const char *path, size_t max_len, char **data, size_t *len);
int tv_dir_ensure(const char *path, mode_t mode);
/* Remove a file; a missing file is not an error. */
int tv_file_remove(const char *path);
