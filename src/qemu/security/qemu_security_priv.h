/* Internals shared by qemu_security*.c. */
#pragma once

#include "qemu_security.h"

struct _TvQemuSecurity {
    bool change_user; /* setgroups/setgid/setuid in the child */
    char *user_name, *group_name;
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups of the user (e.g. kvm) */
    size_t ngroups;
    bool sandbox;
    bool mount_namespace;
    bool dynamic_ownership;
    bool apparmor; /* confine with a per-domain profile */
};
