/* Files: atomic writes (temporary file, fsync, rename, fsync of the folder),
 * bounded reads, and a descriptor passed on a unix socket. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <sys/types.h>

/* The one writer of whole files: data goes to PATH.XXXXXX (see
 * TV_FILE_TEMP_SUFFIX), which is flushed (fsync), renamed over path, and the
 * folder flushed.  Returns 0 only once all of that is done: a reader sees the
 * old or the new file, never half of one, and so does the disk after a crash
 * of the machine.  A failure before the rename leaves path as it was. */
int tv_file_write_atomic(const char *path, const char *data, size_t len, mode_t mode);
#define TV_FILE_TEMP_SUFFIX ".XXXXXX"
/* Flush a folder's entries (a rename, an unlink, a new link) to disk. */
int tv_dir_sync(const char *dir);
/* Remove the temporary files that tv_file_write_atomic(DIR/NAME<suffix>)
 * leaves when the process is killed between creating and renaming one
 * (DIR/NAME<suffix>.XXXXXX); each is logged.  Only for a folder that no
 * other process writes to at the same time.  Returns how many went. */
int tv_file_remove_temporaries(const char *dir, const char *suffix);
/* Reads at most max_len bytes; a longer file is an error naming the limit. */
int tv_file_read_all(const char *path, size_t max_len, char **data, size_t *len);
int tv_dir_ensure(const char *path, mode_t mode);
/* Remove a file; a missing file is not an error. */
int tv_file_remove(const char *path);

/* One byte (*byte) on the unix socket sock with fd attached (SCM_RIGHTS), as
 * libvirt's and QEMU's peers take a descriptor; flags for sendmsg
 * (MSG_NOSIGNAL is added).  What sendmsg returns (1, or -1 with errno). */
ssize_t tv_socket_send_fd(int sock, const void *byte, int fd, int flags);
