/* A libvirt-protocol server that does nothing but replay: every call is
 * answered with the reply recorded for its procedure (by
 * bench/replay-record.py), with the call's serial.  One blocking read and
 * one write per call, no dispatch, no driver: what is left of a call's time
 * against it is the client's own part and the kernel's, a floor for any
 * daemon the same client talks to (docs/performance.md, "Daemon").
 *
 *   replay-daemon SOCKET RECORDING
 *
 * Serves one connection at a time until killed.  A call whose procedure was
 * not recorded ends that connection (the recording must cover what the
 * client sends). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REMOTE_PROGRAM    0x20008086u
#define KEEPALIVE_PROGRAM 0x6b656570u
#define HEADER            28 /* length word + six header words */
#define BUF_SIZE          (4u << 20)

typedef struct {
    uint32_t proc, status, len;
    unsigned char *data;
} Reply;

static Reply *replies;
static size_t n_replies;

static int load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint32_t w[3];
    while (fread(w, sizeof(w), 1, f) == 1) {
        Reply r = { ntohl(w[0]), ntohl(w[1]), ntohl(w[2]), NULL };
        if (r.len > BUF_SIZE - HEADER || !(r.data = malloc(r.len ? r.len : 1)) ||
            fread(r.data, 1, r.len, f) != r.len) {
            fprintf(stderr, "%s: truncated or oversized record\n", path);
            fclose(f);
            return -1;
        }
        Reply *grown = realloc(replies, (n_replies + 1) * sizeof(*replies));
        if (!grown) {
            fclose(f);
            return -1;
        }
        replies = grown;
        replies[n_replies++] = r;
    }
    fclose(f);
    return 0;
}

static const Reply *find(uint32_t proc)
{
    for (size_t i = 0; i < n_replies; i++)
        if (replies[i].proc == proc)
            return &replies[i];
    return NULL;
}

static void put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Answer every whole call in in[0..fill); returns bytes used or -1. */
static long answer(int fd, const unsigned char *in, size_t fill, unsigned char *out)
{
    size_t pos = 0, olen = 0;
    while (fill - pos >= HEADER) {
        uint32_t len = get32(in + pos);
        if (len < HEADER || len > BUF_SIZE) {
            fprintf(stderr, "replay-daemon: bad frame length %u\n", len);
            return -1;
        }
        if (fill - pos < len)
            break;
        const unsigned char *h = in + pos + 4;
        uint32_t prog = get32(h), proc = get32(h + 8), type = get32(h + 12);
        const Reply *r = NULL;
        uint32_t plen = 0;
        if (prog == KEEPALIVE_PROGRAM && proc == 1) {
            /* ping: pong */
        } else if (prog == REMOTE_PROGRAM && type == 0) {
            if (!(r = find(proc))) {
                fprintf(stderr, "replay-daemon: procedure %u was not recorded\n", proc);
                return -1;
            }
            plen = r->len;
        } else {
            pos += len;
            continue;
        }
        if (olen + HEADER + plen > BUF_SIZE) {
            if (write_all(fd, out, olen) < 0)
                return -1;
            olen = 0;
        }
        unsigned char *o = out + olen;
        put32(o, HEADER + plen);
        memcpy(o + 4, h, 24);
        if (r) {
            put32(o + 16, 1); /* REPLY */
            put32(o + 24, r->status);
            memcpy(o + HEADER, r->data, plen);
        } else {
            put32(o + 12, 2); /* PONG */
        }
        olen += HEADER + plen;
        pos += len;
    }
    if (olen && write_all(fd, out, olen) < 0)
        return -1;
    return (long)pos;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: replay-daemon SOCKET RECORDING\n");
        return 2;
    }
    if (load(argv[2]) < 0)
        return 1;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "socket path too long\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(ls, 16) < 0) {
        perror(argv[1]);
        return 1;
    }
    unsigned char *in = malloc(BUF_SIZE), *out = malloc(BUF_SIZE);
    if (!in || !out)
        return 1;
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        size_t fill = 0;
        for (;;) {
            ssize_t n = read(fd, in + fill, BUF_SIZE - fill);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            fill += (size_t)n;
            long used = answer(fd, in, fill, out);
            if (used < 0)
                break;
            memmove(in, in + used, fill - (size_t)used);
            fill -= (size_t)used;
        }
        close(fd);
    }
}
