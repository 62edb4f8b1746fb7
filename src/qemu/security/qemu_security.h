/* How a domain's QEMU is confined (docs/security.rst): the user and group it
 * runs as, QEMU's seccomp sandbox, its own session, a private mount namespace
 * with a minimal /dev, ownership of the files it must open (DAC labelling,
 * qemu_security_dac.c) and an AppArmor profile where the host has AppArmor.
 *
 *   TvQemuSecurityConfig c = TV_QEMU_SECURITY_CONFIG_DEFAULT;   // tagvirt-qemu:tagvirt-qemu
 *   g_autoptr(TvQemuSecurity) sec = tv_qemu_security_new(&c);   // resolves the user
 *   TvQemuProcessConfig cfg = { ..., .security = sec };
 *
 * A NULL TvQemuSecurity (or one made by tv_qemu_security_new_caller()) runs
 * QEMU as the calling user, without a namespace: tagvirt run, tests. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#define TV_QEMU_SECURITY_DEFAULT_USER  "tagvirt-qemu"
#define TV_QEMU_SECURITY_DEFAULT_GROUP "tagvirt-qemu"
/* QEMU's own sandbox, with every optional deny */
#define TV_QEMU_SANDBOX_ARG                                                                        \
    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

typedef enum {
    TV_QEMU_APPARMOR_AUTO = 0, /* confine when the host has AppArmor */
    TV_QEMU_APPARMOR_OFF,
    TV_QEMU_APPARMOR_REQUIRED, /* refuse to start a guest when the host has none */
} TvQemuAppArmorMode;

typedef struct {
    const char *user;       /* name or "+UID"; NULL: the default; "root": no change */
    const char *group;      /* name or "+GID"; NULL: the user's primary group */
    bool sandbox;           /* -sandbox TV_QEMU_SANDBOX_ARG */
    bool mount_namespace;   /* private mount namespace with a minimal /dev */
    bool dynamic_ownership; /* chown the files QEMU opens, give them back at stop */
    TvQemuAppArmorMode apparmor;
} TvQemuSecurityConfig;

#define TV_QEMU_SECURITY_CONFIG_DEFAULT                                                            \
    {                                                                                              \
        .user = NULL, .group = NULL, .sandbox = true, .mount_namespace = true,                     \
        .dynamic_ownership = true, .apparmor = TV_QEMU_APPARMOR_AUTO                               \
    }

typedef struct _TvQemuSecurity TvQemuSecurity;

/* Resolve the user and group (a missing one is an error that says how to
 * create it or opt out).  When this process is not root, QEMU can only run
 * as this process's user: the user and group must then be unset or name it,
 * and the namespace and AppArmor are left out. */
TvQemuSecurity *tv_qemu_security_new(const TvQemuSecurityConfig *cfg);
/* QEMU as the calling user: sandbox, own session, nothing that needs root. */
TvQemuSecurity *tv_qemu_security_new_caller(void);
void tv_qemu_security_free(TvQemuSecurity *sec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuSecurity, tv_qemu_security_free)

bool tv_qemu_security_sandbox(const TvQemuSecurity *sec);
/* The uid/gid QEMU runs as (the caller's when it is not changed). */
uid_t tv_qemu_security_uid(const TvQemuSecurity *sec);
gid_t tv_qemu_security_gid(const TvQemuSecurity *sec);
/* True when QEMU runs as another user than this process (files need labels). */
bool tv_qemu_security_changes_user(const TvQemuSecurity *sec);
bool tv_qemu_security_dynamic_ownership(const TvQemuSecurity *sec);
bool tv_qemu_security_mount_namespace(const TvQemuSecurity *sec);
bool tv_qemu_security_apparmor(const TvQemuSecurity *sec);
/* "user tagvirt-qemu (uid 998, gid 998), seccomp sandbox, own mount namespace, ..." */
char *tv_qemu_security_describe(const TvQemuSecurity *sec);

/* Whether the running kernel enforces AppArmor and apparmor_parser exists;
 * *why says what is missing (may be NULL). */
bool tv_qemu_apparmor_available(char **why);
