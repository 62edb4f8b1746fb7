#include "tv_file.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_full(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int tv_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        tv_error_report_errno(TV_FROM_NONE, err, "cannot flush directory '%s' to disk", dir);
        return -1;
    }
    close(fd);
    return 0;
}

int tv_file_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    g_autofree char *tmp = g_strdup_printf("%s" TV_FILE_TEMP_SUFFIX, path);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_NONE, errno, "cannot create a temporary file for '%s'", path);
        return -1;
    }
    if (write_full(fd, data, len) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        int err = errno;
        close(fd);
        unlink(tmp);
        tv_error_report_errno(TV_FROM_NONE, err, "cannot write '%s'", path);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        tv_error_report_errno(TV_FROM_NONE, err, "cannot replace '%s'", path);
        return -1;
    }
    /* the rename is on disk only once the folder is */
    g_autofree char *dir = g_path_get_dirname(path);
    if (tv_dir_sync(dir) < 0) {
        tv_error_prefix("'%s' was replaced but may not survive a crash of the machine", path);
        return -1;
    }
    return 0;
}

/* What g_mkstemp puts in place of XXXXXX. */
static bool is_temp_tail(const char *s)
{
    if (strlen(s) != 6)
        return false;
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s))
            return false;
    }
    return true;
}

int tv_file_remove_temporaries(const char *dir, const char *suffix)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return 0;
    g_autofree char *marker = g_strdup_printf("%s.", suffix);
    int removed = 0;
    const char *entry;
    while ((entry = g_dir_read_name(d))) {
        const char *tail = g_strrstr(entry, marker);
        if (!tail || !is_temp_tail(tail + strlen(marker)))
            continue;
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) || g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            continue;
        if (unlink(path) == 0) {
            g_message("removed '%s', a temporary file left by an interrupted write", path);
            removed++;
        }
    }
    return removed;
}

int tv_file_read_all(const char *path, size_t max_len, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_NONE, errno, "cannot open '%s'", path);
        return -1;
    }
    GString *buf = g_string_sized_new(4096);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            close(fd);
            g_string_free(buf, TRUE);
            tv_error_report_errno(TV_FROM_NONE, err, "cannot read '%s'", path);
            return -1;
        }
        if (n == 0)
            break;
        if (buf->len + (size_t)n > max_len) {
            close(fd);
            g_string_free(buf, TRUE);
            tv_error_report(TV_FROM_NONE, TV_ERR_INVALID_ARG,
                            "file '%s' is larger than the limit of %zu bytes", path, max_len);
            return -1;
        }
        g_string_append_len(buf, chunk, n);
    }
    close(fd);
    if (len)
        *len = buf->len;
    *data = g_string_free(buf, FALSE);
    return 0;
}

int tv_dir_ensure(const char *path, mode_t mode)
{
    if (g_mkdir_with_parents(path, (int)mode) < 0) {
        tv_error_report_errno(TV_FROM_NONE, errno, "cannot create directory '%s'", path);
        return -1;
    }
    return 0;
}

int tv_file_remove(const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        tv_error_report_errno(TV_FROM_NONE, errno, "cannot remove '%s'", path);
        return -1;
    }
    return 0;
}

ssize_t tv_socket_send_fd(int sock, const void *byte, int fd, int flags)
{
    struct iovec iov = { .iov_base = (void *)byte, .iov_len = 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}
