/* A resolved domain definition + capabilities -> QEMU's argv. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"
#include "qemu_monitor.h"
#include "qemu_mte.h"

typedef struct {
    const char *monitor_path; /* QMP socket; NULL: no monitor options */
    int monitor_fd;           /* > 0: QMP on this listening socket passed to QEMU, not the path */
    int channel_fd_first; /* > 0: bind-mode unix channels listen on fds from this one, in order */
    const int *net_fds;   /* per <interface>: the descriptor of its tap in QEMU, 0: none */
    bool paused;          /* -S: start with vCPUs stopped (the runtime resumes) */
    bool incoming;        /* -incoming defer: receive the guest's state (migrate-incoming) */
    bool sandbox;         /* -sandbox with every deny (qemu_security.h) */
    int vsock_fd;         /* > 0: the guest's /dev/vhost-vsock descriptor in QEMU (vhostfd) */
    int tpm_fd;           /* <tpm>: the descriptor of its swtpm's socket in QEMU (required) */
    int smartcard_fd; /* > 0: a passthrough <smartcard>'s bind-mode unix socket (else its path) */
} TvQemuCommandOptions;

/* argv[0] is the emulator; NULL-terminated GPtrArray of g_malloc'd strings. */
GPtrArray *tv_qemu_build_command(const TvDomainDef *def, const TvQemuCaps *caps,
                                 const TvQemuMtePlan *mte, const TvQemuCommandOptions *opts);
/* Shell-quoted, one option (with its value) per line joined by " \\\n". */
char *tv_qemu_command_format(GPtrArray *argv);
/* QEMU's device for an <input> ("usb-tablet", "virtio-keyboard-pci") and
 * the id of USB controller N ("usb" for 0, as libvirt's alias). */
const char *tv_qemu_input_device(const TvDomainInput *input);
const char *tv_qemu_usb_id(unsigned index);
/* QEMU option syntax: ',' becomes ",,". */
char *tv_qemu_escape_opt(const char *value);

/* One QEMU object (-device, -blockdev, -netdev; QMP device_add,
 * blockdev-add, netdev_add at hot-plug) as typed properties
 * (qemu_command_object.c).  head: written bare first on the command line
 * (a -device's driver, a -netdev's type); NULL for -blockdev. */
typedef struct {
    char *head;
    GArray *props; /* TvQmpProp; names and strings owned */
} TvQemuObject;
TvQemuObject *tv_qemu_object_new(const char *head);
void tv_qemu_object_free(TvQemuObject *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuObject, tv_qemu_object_free)
void tv_qemu_object_str(TvQemuObject *o, const char *name, const char *value);
void tv_qemu_object_strf(TvQemuObject *o, const char *name, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void tv_qemu_object_int(TvQemuObject *o, const char *name, gint64 value);
void tv_qemu_object_bool(TvQemuObject *o, const char *name, bool value);
/* The string property name, or NULL. */
const char *tv_qemu_object_get(const TvQemuObject *o, const char *name);
/* The properties but those named in skip (NULL-terminated), borrowed from
 * o, in a new array (g_free it) of *n. */
TvQmpProp *tv_qemu_object_props_except(const TvQemuObject *o, const char *const *skip, size_t *n);
/* QEMU's option syntax: "head,name=value,..." */
char *tv_qemu_object_format(const TvQemuObject *o);
/* The bus/addr properties of a device's address. */
void tv_qemu_object_add_address(TvQemuObject *o, const TvDeviceAddress *addr);

/* <disk> (qemu_command_disk.c).  The id QEMU knows disk i by: its alias,
 * else the one a start gives it ("virtio-disk0", "scsi0-0-0-1",
 * "usb-disk2"). */
char *tv_qemu_disk_alias(const TvDomainDisk *d, size_t i);
/* Its block nodes PREFIX-storage and PREFIX-format (a disk with media). */
void tv_qemu_disk_nodes(const TvDomainDisk *d, const char *prefix, TvQemuObject **storage,
                        TvQemuObject **format);
/* Its device, id alias, on node PREFIX-format; bootindex 0: none. */
TvQemuObject *tv_qemu_disk_device(const TvDomainDisk *d, const char *alias, const char *prefix,
                                  unsigned bootindex);
/* <interface> (qemu_command.c): id alias ("net0" for interface 0 at start),
 * its netdev is "host" + alias.  fd: the tap's descriptor (a number on the
 * command line, a getfd name over QMP), or NULL. */
char *tv_qemu_net_alias(const TvDomainNet *n, size_t i);
TvQemuObject *tv_qemu_net_netdev(const TvDomainNet *n, const char *alias, const char *fd);
TvQemuObject *tv_qemu_net_device(const TvDomainNet *n, const char *alias, unsigned bootindex);
/* <controller>: the id QEMU knows it by (its alias, else libvirt's:
 * "pcie.0", "pci.N", "usb", "scsiN", "virtio-serialN"; NULL for a USB
 * controller of model none), and the device of a SCSI (virtio-scsi) or
 * virtio-serial controller, id alias (qemu_command_devices.c). */
char *tv_qemu_controller_alias(const TvDomainController *c);
TvQemuObject *tv_qemu_controller_device(const TvDomainController *c, const char *alias);
/* The aliases a start gives (devices without one). */
void tv_qemu_assign_aliases(TvDomainDef *def);

/* <rng>, <input>, <watchdog>, <serial>, <console>, <channel>
 * (qemu_command_pluggable.c): the id QEMU knows device i by (its alias,
 * else a start's: "rng0", "input0", "watchdog0", "serial0", "console0",
 * "channel0"); a character device's host side (chardev) is "char" + alias,
 * an rng's backend object "obj" + alias. */
char *tv_qemu_rng_alias(const TvDomainRng *r, size_t i);
char *tv_qemu_input_alias(const TvDomainInput *in, size_t i);
char *tv_qemu_watchdog_alias(const TvDomainWatchdog *wd, size_t i);
char *tv_qemu_chr_alias(const TvDomainChr *c, TvChrKind kind, size_t i);
void tv_qemu_assign_pluggable_aliases(TvDomainDef *def);
TvQemuObject *tv_qemu_rng_backend(const TvDomainRng *r, const char *alias);
TvQemuObject *tv_qemu_rng_device(const TvDomainRng *r, const char *alias);
TvQemuObject *tv_qemu_input_object(const TvDomainInput *in, const char *alias);
TvQemuObject *tv_qemu_watchdog_device(const TvDomainWatchdog *wd, const char *alias);
/* QEMU's watchdog action (-action watchdog=, set-action): "reset" by default */
const char *tv_qemu_watchdog_action(const TvDomainWatchdog *wd);
/* The guest side: virtserialport (channel), virtconsole, pci-serial. */
TvQemuObject *tv_qemu_chr_device(const TvDomainChr *c, TvChrKind kind, const char *alias);
