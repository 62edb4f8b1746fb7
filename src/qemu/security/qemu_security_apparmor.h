/* A per-domain AppArmor profile for QEMU where the host enforces AppArmor:
 * QEMU may read its binary, its data and libraries, the domain's files (and
 * write the writable ones), the minimal devices, and nothing else of the
 * host's files.  Loaded with apparmor_parser before the start, removed when
 * the domain is gone. */
#pragma once

#include "domain_conf.h"
#include "qemu_security.h"
#include "qemu_security_launch.h"

/* "tagvirt-<uuid>" */
char *tv_qemu_apparmor_label(const TvDomainDef *def);
/* Sockets QEMU opens itself, beyond the descriptors it is given. */
typedef enum {
    TV_QEMU_APPARMOR_TCP = 1 << 0,          /* TCP (a passthrough smartcard's socket) */
    TV_QEMU_APPARMOR_UNIX_CONNECT = 1 << 1, /* connects to a unix socket by its path */
} TvQemuApparmorNet;
/* What def makes QEMU open (TvQemuApparmorNet flags). */
unsigned tv_qemu_apparmor_net_needs(const TvDomainDef *def);
/* The profile's text; net: TvQemuApparmorNet flags. */
char *tv_qemu_apparmor_profile(const char *label, const char *emulator,
                               const TvQemuLaunchFile *files, size_t nfiles, unsigned net);
/* A domain's swtpm gets a profile of its own, "tagvirt-<uuid>-swtpm": its
 * binary and libraries, its state folder (read-write, with locks), its log
 * (write), the socket it was given; nothing of QEMU's. */
char *tv_qemu_apparmor_swtpm_label(const TvDomainDef *def);
char *tv_qemu_apparmor_swtpm_profile(const char *label, const char *swtpm, const char *state_dir,
                                     const char *log_path);
/* Write the profile to path and load it (apparmor_parser -r); -1 with a tv_error. */
int tv_qemu_apparmor_load(const char *path, const char *text);
/* Unload and remove the profile at path (best effort; a missing file is fine). */
void tv_qemu_apparmor_unload(const char *path);
