/* Giving files to QEMU's user and back; see qemu_security_dac.h. */
#include "qemu_security_dac.h"
#include "qemu_security_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DAC_XATTR "trusted.tagvirt.dac"

static void add_file(GArray *files, const char *path, bool write)
{
    if (!path || !*path)
        return;
    for (guint i = 0; i < files->len; i++) {
        TvQemuLaunchFile *f = &g_array_index(files, TvQemuLaunchFile, i);
        if (strcmp(f->path, path) == 0) {
            f->write = f->write || write;
            return;
        }
    }
    TvQemuLaunchFile f = { .path = path, .write = write };
    g_array_append_val(files, f);
}

GArray *tv_qemu_security_domain_files(const TvDomainDef *def)
{
    GArray *files = g_array_new(FALSE, TRUE, sizeof(TvQemuLaunchFile));
    const TvDomainOsBoot *boot = &def->os.boot;
    add_file(files, boot->kernel, false);
    add_file(files, boot->initrd, false);
    add_file(files, boot->dtb, false);
    add_file(files, boot->fw.loader, false);
    add_file(files, boot->fw.nvram, true);
    for (size_t i = 0; i < def->devices.ndisks; i++)
        add_file(files, def->devices.disks[i]->path, !def->devices.disks[i]->readonly);
    for (size_t i = 0; i < def->devices.nserials; i++) {
        const TvDomainChr *c = def->devices.serials[i];
        if (c->type == TV_CHR_TYPE_FILE)
            add_file(files, c->path, true);
        add_file(files, c->log_file, true);
    }
    for (size_t i = 0; i < def->devices.nchannels; i++)
        add_file(files, def->devices.channels[i]->log_file, true);
    for (size_t i = 0; i < def->devices.nrngs; i++)
        add_file(files, def->devices.rngs[i]->backend_path, false);
    /* a 9p share: the AppArmor profile opens the folder and what it holds;
     * its owner is left as it is (folders are never given, as in libvirt:
     * QEMU's user must be able to use the share, docs/formatdomain.rst) */
    for (size_t i = 0; i < def->devices.nfilesystems; i++) {
        const TvDomainFilesystem *fs = def->devices.filesystems[i];
        add_file(files, fs->source_dir, !fs->readonly);
    }
    /* a smartcard's NSS database: a folder, read (never given, like a
     * share); a passthrough card's socket QEMU connects to, given like a
     * connect-mode character device's in libvirt */
    for (size_t i = 0; i < def->devices.nsmartcards; i++) {
        const TvDomainSmartcard *card = def->devices.smartcards[i];
        if (card->mode != TV_SMARTCARD_MODE_PASSTHROUGH)
            add_file(files, tv_domain_smartcard_database(card), false);
        else if (card->chr == TV_SMARTCARD_CHR_UNIX && !card->bind)
            add_file(files, card->path, true);
    }
    return files;
}

/* "UID:GID:REFS" of the file's original owner, or false when it has none */
static bool read_memory(const char *path, uid_t *uid, gid_t *gid, unsigned *refs)
{
    char buf[64];
    ssize_t n = lgetxattr(path, DAC_XATTR, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    unsigned u, g;
    if (sscanf(buf, "%u:%u:%u", &u, &g, refs) != 3)
        return false;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return true;
}

static int write_memory(const char *path, uid_t uid, gid_t gid, unsigned refs)
{
    char buf[64];
    int len = snprintf(buf, sizeof(buf), "%u:%u:%u", (unsigned)uid, (unsigned)gid, refs);
    return lsetxattr(path, DAC_XATTR, buf, (size_t)len, 0);
}

/* One file to QEMU's user.
 * *orig gets its owner before (for the record). */
static int label_one(const TvQemuSecurity *sec, const char *path, struct stat *orig)
{
    if (stat(path, orig) < 0) {
        /* QEMU's own check reports it with the user's view; nothing to give */
        orig->st_uid = (uid_t)-1;
        return 0;
    }
    if (S_ISCHR(orig->st_mode) || S_ISBLK(orig->st_mode) || S_ISDIR(orig->st_mode))
        return 0; /* device nodes belong to udev; folders are not given */
    uid_t ouid = orig->st_uid;
    gid_t ogid = orig->st_gid;
    unsigned refs = 0;
    bool remembered = read_memory(path, &ouid, &ogid, &refs);
    if (!remembered)
        refs = 0, ouid = orig->st_uid, ogid = orig->st_gid;
    /* no extended attributes here (some file systems): the record alone remembers */
    if (write_memory(path, ouid, ogid, refs + 1) < 0 && errno != ENOTSUP && errno != EOPNOTSUPP) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot remember the owner of '%s'", path);
        return -1;
    }
    orig->st_uid = ouid;
    orig->st_gid = ogid;
    if (chown(path, sec->uid, sec->gid) < 0) {
        int err = errno;
        if (!remembered)
            lremovexattr(path, DAC_XATTR);
        else
            write_memory(path, ouid, ogid, refs);
        tv_error_report_errno(TV_FROM_QEMU, err, "cannot give '%s' to QEMU's user %s (uid %u)",
                              path, sec->user_name, (unsigned)sec->uid);
        return -1;
    }
    return 0;
}

/* Undo one label: the last user gives the file back to its first owner. */
static void restore_one(const char *path, uid_t rec_uid, gid_t rec_gid)
{
    uid_t uid = rec_uid;
    gid_t gid = rec_gid;
    unsigned refs = 1;
    bool remembered = read_memory(path, &uid, &gid, &refs);
    if (remembered && refs > 1) {
        if (write_memory(path, uid, gid, refs - 1) < 0)
            g_warning("cannot update the owner memory of '%s': %s", path, g_strerror(errno));
        return;
    }
    if (remembered)
        lremovexattr(path, DAC_XATTR);
    if (chown(path, uid, gid) < 0 && errno != ENOENT)
        g_warning("cannot give '%s' back to uid %u gid %u: %s", path, (unsigned)uid, (unsigned)gid,
                  g_strerror(errno));
}

static GString *record_text(const char *const *paths, const struct stat *orig, size_t n)
{
    GString *s =
        g_string_new("# tagvirt: files given to QEMU's user: UID GID PATH (original owner)\n");
    for (size_t i = 0; i < n; i++) {
        if (orig[i].st_uid != (uid_t)-1)
            g_string_append_printf(s, "%u %u %s\n", (unsigned)orig[i].st_uid,
                                   (unsigned)orig[i].st_gid, paths[i]);
    }
    return s;
}

int tv_qemu_security_dac_label(const TvQemuSecurity *sec, const char *record_path,
                               const TvQemuLaunchFile *files, size_t nfiles)
{
    if (!tv_qemu_security_dynamic_ownership(sec))
        return 0;
    g_autofree struct stat *orig = g_new0(struct stat, nfiles + 1);
    g_autofree const char **paths = g_new0(const char *, nfiles + 1);
    size_t n = 0;
    /* the record first, with the owners as they are now */
    for (size_t i = 0; i < nfiles; i++) {
        paths[i] = files[i].path;
        if (stat(files[i].path, &orig[i]) < 0 || S_ISCHR(orig[i].st_mode) ||
            S_ISBLK(orig[i].st_mode) || S_ISDIR(orig[i].st_mode))
            orig[i].st_uid = (uid_t)-1;
    }
    {
        g_autoptr(GString) text = record_text(paths, orig, nfiles);
        if (tv_file_write_atomic(record_path, text->str, text->len, 0600) < 0)
            return -1;
    }
    for (; n < nfiles; n++) {
        if (orig[n].st_uid == (uid_t)-1)
            continue;
        if (label_one(sec, files[n].path, &orig[n]) < 0)
            break;
    }
    if (n == nfiles) {
        /* the record again, with the owners remembered for shared files */
        g_autoptr(GString) text = record_text(paths, orig, n);
        if (tv_file_write_atomic(record_path, text->str, text->len, 0600) == 0)
            return 0;
    }
    /* undo exactly what was done here */
    TvError *err = tv_error_steal();
    for (size_t i = 0; i < n; i++) {
        if (orig[i].st_uid != (uid_t)-1)
            restore_one(paths[i], orig[i].st_uid, orig[i].st_gid);
    }
    tv_file_remove(record_path);
    tv_error_restore(err);
    return -1;
}

/* The record's lines other than the comment; missing record: none. */
static GPtrArray *record_lines(const char *record_path)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *text = NULL;
    size_t len = 0;
    if (!g_file_test(record_path, G_FILE_TEST_EXISTS))
        return lines;
    if (tv_file_read_all(record_path, 16 * 1024 * 1024, &text, &len) < 0) {
        g_warning("%s", tv_error_message());
        tv_error_reset();
        return lines;
    }
    g_auto(GStrv) split = g_strsplit(text, "\n", -1);
    for (size_t i = 0; split[i]; i++) {
        if (split[i][0] && split[i][0] != '#')
            g_ptr_array_add(lines, g_strdup(split[i]));
    }
    return lines;
}

static int record_write(const char *record_path, GPtrArray *lines)
{
    g_autoptr(GString) s = record_text(NULL, NULL, 0);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(s, "%s\n", (const char *)g_ptr_array_index(lines, i));
    return tv_file_write_atomic(record_path, s->str, s->len, 0600);
}

/* The path of one record line "UID GID PATH" (its owner into uid and gid); NULL
 * for a line that is not one. */
static const char *record_parse(const char *line, uid_t *uid, gid_t *gid)
{
    unsigned u, g;
    int off = 0;
    if (sscanf(line, "%u %u %n", &u, &g, &off) < 2 || !off)
        return NULL;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return line + off;
}

/* The index of the first line of lines that names path, or -1. */
static gint record_find(GPtrArray *lines, const char *path, uid_t *uid, gid_t *gid)
{
    for (guint i = 0; i < lines->len; i++) {
        const char *named = record_parse(g_ptr_array_index(lines, i), uid, gid);
        if (named && strcmp(named, path) == 0)
            return (gint)i;
    }
    return -1;
}

void tv_qemu_security_dac_restore(const char *record_path)
{
    if (!g_file_test(record_path, G_FILE_TEST_EXISTS))
        return;
    g_autoptr(GPtrArray) lines = record_lines(record_path);
    for (guint i = 0; i < lines->len; i++) {
        uid_t uid;
        gid_t gid;
        const char *path = record_parse(g_ptr_array_index(lines, i), &uid, &gid);
        if (path)
            restore_one(path, uid, gid);
    }
    tv_file_remove(record_path);
}

int tv_qemu_security_dac_label_add(const TvQemuSecurity *sec, const char *record_path,
                                   const char *path)
{
    if (!tv_qemu_security_dynamic_ownership(sec))
        return 0;
    struct stat orig;
    if (stat(path, &orig) < 0 || S_ISCHR(orig.st_mode) || S_ISBLK(orig.st_mode) ||
        S_ISDIR(orig.st_mode))
        return 0; /* as at start: QEMU reports a missing file; device nodes are udev's */
    g_autoptr(GPtrArray) lines = record_lines(record_path);
    /* in the record before the chown, so that a crash in between gives it back */
    g_ptr_array_add(
        lines, g_strdup_printf("%u %u %s", (unsigned)orig.st_uid, (unsigned)orig.st_gid, path));
    if (record_write(record_path, lines) < 0)
        return -1;
    if (label_one(sec, path, &orig) < 0) {
        TvError *err = tv_error_steal();
        g_ptr_array_remove_index(lines, lines->len - 1);
        if (record_write(record_path, lines) < 0)
            tv_error_reset();
        tv_error_restore(err);
        return -1;
    }
    /* again with the first owner, for a file other domains use too */
    g_ptr_array_remove_index(lines, lines->len - 1);
    g_ptr_array_add(
        lines, g_strdup_printf("%u %u %s", (unsigned)orig.st_uid, (unsigned)orig.st_gid, path));
    if (record_write(record_path, lines) < 0) {
        g_warning("%s", tv_error_message());
        tv_error_reset();
    }
    return 0;
}

bool tv_qemu_security_dac_restore_remove(const char *record_path, const char *path)
{
    g_autoptr(GPtrArray) lines = record_lines(record_path);
    uid_t uid;
    gid_t gid;
    gint i = record_find(lines, path, &uid, &gid);
    if (i < 0)
        return false;
    restore_one(path, uid, gid);
    g_ptr_array_remove_index(lines, (guint)i);
    if (record_write(record_path, lines) < 0) {
        g_warning("%s", tv_error_message());
        tv_error_reset();
    }
    return true;
}

int tv_qemu_security_dac_label_file(const TvQemuSecurity *sec, const char *path)
{
    if (!tv_qemu_security_dynamic_ownership(sec))
        return 0;
    struct stat st;
    return label_one(sec, path, &st);
}

void tv_qemu_security_dac_restore_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        restore_one(path, st.st_uid, st.st_gid);
}
