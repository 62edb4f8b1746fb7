/* DAC labelling: the files a domain's QEMU opens by path are given to its
 * user (and group) at start and given back at stop, as libvirt's DAC driver
 * does.  The original owner is remembered twice: in an extended attribute of
 * the file (trusted.tagvirt.dac = "UID:GID:REFS", shared by every running
 * domain that uses the file, so the last one to stop gives it back), and in
 * a per-domain record (STATE_DIR/NAME.dac) that says which files to give
 * back, also after tagvirtd restarted or the definition changed.
 *
 * For other folks' new file kinds (UEFI nvram, disks, taps, ...): add them
 * to tv_qemu_security_domain_files(); the runtime labels, checks (as QEMU's
 * user, before exec) and restores everything that function lists. */
#pragma once

#include "domain_conf.h"
#include "qemu_security.h"
#include "qemu_security_launch.h"

/* The files QEMU opens by path for def: kernel, initrd, dtb, loader, nvram,
 * disks, file chardevs and chardev <log> files, rng backends, <filesystem>
 * source folders.  A GArray of TvQemuLaunchFile whose
 * paths point into def. */
GArray *tv_qemu_security_domain_files(const TvDomainDef *def);

/* Give the files to QEMU's user; record them in record_path (written before
 * the first chown, so a crash in between still gives them back).  Files
 * under /dev are left alone (their owners belong to udev).  On failure,
 * what was done is undone and -1 is returned with a tv_error. */
int tv_qemu_security_dac_label(const TvQemuSecurity *sec, const char *record_path,
                               const TvQemuLaunchFile *files, size_t nfiles);
/* Give back what record_path lists (the last user of a shared file gives it
 * to its original owner) and remove the record.  A missing record is fine.
 * Best effort: problems are logged, not reported. */
void tv_qemu_security_dac_restore(const char *record_path);

/* A file given to QEMU's user while the domain runs (a hot-plugged disk,
 * new cdrom media): labelled as above and added to the domain's record, so
 * that the stop gives it back also after tagvirtd restarted. */
int tv_qemu_security_dac_label_add(const TvQemuSecurity *sec, const char *record_path,
                                   const char *path);
/* Give back a file that record_path lists (a detached disk, replaced media;
 * labelled at start or at hot-plug) and drop it from the record.  False when
 * the record does not list it (nothing done). */
bool tv_qemu_security_dac_restore_remove(const char *record_path, const char *path);

/* Give one file to QEMU's user / back, outside a domain's start (e.g. an
 * nvram file made while the domain runs): the same memory as above. */
int tv_qemu_security_dac_label_file(const TvQemuSecurity *sec, const char *path);
void tv_qemu_security_dac_restore_file(const char *path);
