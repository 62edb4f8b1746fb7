/* <smartcard> at start (qemu_process_priv.h).  Before QEMU exists: an NSS
 * database a card reads (mode host: /etc/pki/nssdb; host-certificates: its
 * <database>) must be a folder holding an NSS database, or the start is
 * refused naming it; a passthrough card's bind-mode unix socket is made
 * here and passed to QEMU like a channel's (QEMU confined to its own user
 * could not create it).  At stop that socket is removed. */
#include "qemu_process_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* NSS's database files: SQLite (cert9.db, key4.db) or the old DBM ones */
static bool has_nss_files(const char *dir)
{
    static const char *const sets[][2] = { { "cert9.db", "key4.db" }, { "cert8.db", "key3.db" } };
    for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
        g_autofree char *cert = g_build_filename(dir, sets[i][0], NULL);
        g_autofree char *key = g_build_filename(dir, sets[i][1], NULL);
        if (access(cert, F_OK) == 0 && access(key, F_OK) == 0)
            return true;
    }
    return false;
}

static int check_database(const TvDomainSmartcard *card)
{
    const char *db = tv_domain_smartcard_database(card);
    const char *mode = tv_smartcard_mode_to_string(card->mode);
    const char *where = card->database ? "its <database>" : "the default NSS database";
    struct stat st;
    int err = stat(db, &st) < 0 ? errno : 0;
    if (err || !S_ISDIR(st.st_mode)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "<smartcard mode='%s'> reads %s '%s', which %s", mode, where, db,
                        err == ENOENT ? "does not exist"
                        : err         ? g_strerror(err)
                                      : "is not a folder");
        return -1;
    }
    if (!has_nss_files(db)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "<smartcard mode='%s'> reads %s '%s', which holds no NSS database "
                        "(cert9.db and key4.db; create one with 'certutil -N -d sql:%s')",
                        mode, where, db, db);
        return -1;
    }
    return 0;
}

/* A bind-mode socket replaces a stale socket, never another kind of file. */
static int listen_socket(const TvDomainSmartcard *card, GArray *fds, int *smartcard_fd)
{
    struct stat st;
    if (lstat(card->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "<smartcard mode='passthrough' type='unix'> would listen on '%s', which "
                        "exists and is not a socket",
                        card->path);
        return -1;
    }
    int fd = tv_qemu_process_listen(card->path, "smartcard");
    if (fd < 0)
        return -1;
    g_array_append_val(fds, fd);
    *smartcard_fd = TV_QEMU_PASSED_FD_FIRST + (int)fds->len - 1;
    return 0;
}

int tv_qemu_process_prepare_smartcard(const TvDomainDef *live, GArray *fds, int *smartcard_fd)
{
    *smartcard_fd = 0;
    for (size_t i = 0; i < live->devices.nsmartcards; i++) {
        const TvDomainSmartcard *card = live->devices.smartcards[i];
        int rc = 0;
        if (card->mode != TV_SMARTCARD_MODE_PASSTHROUGH)
            rc = check_database(card);
        else if (card->chr == TV_SMARTCARD_CHR_UNIX && card->bind)
            rc = listen_socket(card, fds, smartcard_fd);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void tv_qemu_process_remove_smartcard(const TvDomainDef *def)
{
    for (size_t i = 0; def && i < def->devices.nsmartcards; i++) {
        const TvDomainSmartcard *card = def->devices.smartcards[i];
        if (card->chr != TV_SMARTCARD_CHR_UNIX || !card->bind)
            continue;
        struct stat st;
        if (lstat(card->path, &st) == 0 && S_ISSOCK(st.st_mode) && tv_file_remove(card->path) < 0)
            tv_error_reset(); /* best effort: a stale socket is replaced at the next start */
    }
}
