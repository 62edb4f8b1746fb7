/* The domain definition: what a user's domain XML says, in structs.
 *
 * Pipeline (docs/architecture.rst): tv_domain_def_parse() -> qemu post-parse ->
 * validate -> resolve at start -> tv_domain_def_format().  conf knows nothing
 * of QEMU: capability-dependent defaults and checks live in src/qemu. */
#pragma once

#include "domain_cpu.h"
#include "domain_devices.h"
#include "domain_features_compat.h"
#include "domain_filesystem.h"
#include "domain_guest_abi.h"
#include "domain_metadata.h"
#include "domain_mte.h"
#include "domain_os_boot.h"
#include "domain_os_firmware.h"
#include "domain_redirdev.h"
#include "domain_sound.h"
#include "domain_vsock.h"
#include "domain_smartcard.h"
#include "domain_tpm.h"
#include "tv_enum.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TV_UUID_LEN    16
#define TV_UUID_STRLEN 36

typedef enum {
    TV_VIRT_NONE = 0,
    TV_VIRT_QEMU, /* TCG */
    TV_VIRT_KVM,
    TV_VIRT_LAST
} TvVirtType;
TV_ENUM_DECL(tv_virt_type)

typedef enum {
    TV_FEATURE_STATE_ABSENT = 0,
    TV_FEATURE_STATE_ON,
    TV_FEATURE_STATE_OFF,
    TV_FEATURE_STATE_LAST
} TvFeatureState;
TV_ENUM_DECL(tv_feature_state) /* "", "on", "off" */

typedef enum {
    TV_GIC_VERSION_DEFAULT = 0, /* not written: post-parse chooses */
    TV_GIC_VERSION_2,
    TV_GIC_VERSION_3,
    TV_GIC_VERSION_HOST,
    TV_GIC_VERSION_LAST
} TvGicVersion;
TV_ENUM_DECL(tv_gic_version) /* "", "2", "3", "host" */

typedef enum {
    TV_CPU_MODE_DEFAULT = 0, /* no <cpu>: post-parse picks (TCG: maximum, KVM: host-passthrough) */
    TV_CPU_MODE_CUSTOM,
    TV_CPU_MODE_HOST_PASSTHROUGH,
    TV_CPU_MODE_MAXIMUM,
    TV_CPU_MODE_LAST
} TvCpuMode;
TV_ENUM_DECL(tv_cpu_mode)

typedef enum {
    TV_CLOCK_OFFSET_DEFAULT = 0,
    TV_CLOCK_OFFSET_UTC,
    TV_CLOCK_OFFSET_LOCALTIME,
    TV_CLOCK_OFFSET_LAST
} TvClockOffset;
TV_ENUM_DECL(tv_clock_offset)

typedef enum {
    TV_LIFECYCLE_DEFAULT = 0, /* on_poweroff destroy, on_reboot restart, on_crash destroy */
    TV_LIFECYCLE_DESTROY,
    TV_LIFECYCLE_RESTART,
    TV_LIFECYCLE_PRESERVE,
    TV_LIFECYCLE_RENAME_RESTART,   /* parsed as libvirt does; the QEMU driver refuses it */
    TV_LIFECYCLE_COREDUMP_DESTROY, /* on_crash only */
    TV_LIFECYCLE_COREDUMP_RESTART, /* on_crash only */
    TV_LIFECYCLE_LAST
} TvLifecycleAction;
TV_ENUM_DECL(tv_lifecycle_action)

typedef enum {
    TV_DISK_FORMAT_DEFAULT = 0, /* raw */
    TV_DISK_FORMAT_RAW,
    TV_DISK_FORMAT_QCOW2,
    TV_DISK_FORMAT_LAST
} TvDiskFormat;
TV_ENUM_DECL(tv_disk_format)

typedef enum {
    TV_NET_TYPE_NONE = 0,
    TV_NET_TYPE_USER,
    TV_NET_TYPE_ETHERNET,
    TV_NET_TYPE_BRIDGE,
    TV_NET_TYPE_NETWORK, /* a tap on the bridge of a virtual network (the network driver's) */
    TV_NET_TYPE_LAST
} TvNetType;
TV_ENUM_DECL(tv_net_type)

/* <link state='up|down'/> of an interface; DEFAULT (not written) is up */
typedef enum {
    TV_NET_LINK_DEFAULT = 0,
    TV_NET_LINK_UP,
    TV_NET_LINK_DOWN,
    TV_NET_LINK_LAST
} TvNetLinkState;
TV_ENUM_DECL(tv_net_link_state)

typedef enum {
    TV_CHR_TYPE_NONE = 0,
    TV_CHR_TYPE_PTY,
    TV_CHR_TYPE_FILE,
    TV_CHR_TYPE_UNIX,
    TV_CHR_TYPE_LAST
} TvChrType;
TV_ENUM_DECL(tv_chr_type)

typedef enum {
    TV_CHR_UNIX_MODE_DEFAULT = 0, /* bind */
    TV_CHR_UNIX_MODE_BIND,
    TV_CHR_UNIX_MODE_CONNECT,
    TV_CHR_UNIX_MODE_LAST
} TvChrUnixMode;
TV_ENUM_DECL(tv_chr_unix_mode)

typedef enum {
    TV_BALLOON_MODEL_DEFAULT = 0, /* no <memballoon>: none */
    TV_BALLOON_MODEL_VIRTIO,
    TV_BALLOON_MODEL_NONE,
    TV_BALLOON_MODEL_LAST
} TvBalloonModel;
TV_ENUM_DECL(tv_balloon_model)

typedef struct {
    char *kernel;
    char *initrd;
    char *cmdline;
    char *dtb;
    /* firmware='efi', <firmware>, <loader>, <nvram> (domain_os_firmware.h) */
    TvDomainFirmware fw;
    /* <boot dev='...'/> (domain_os_boot.h) */
    TvDomainBootOrder order;
} TvDomainOsBoot;

typedef struct {
    char *type;    /* "hvm" */
    char *arch;    /* "aarch64" */
    char *machine; /* as written; post-parse replaces an alias with the versioned type */
    TvDomainOsBoot boot;
} TvDomainOs;

typedef struct {
    TvFeatureState acpi; /* <acpi/> present -> ON; absent -> ABSENT */
    TvGicVersion gic;
    bool gic_present;
    TvFeatureState pmu;
    TvDomainMte mte;
    /* <apic/>, <pae/>, <hap/>, <vmcoreinfo/> (domain_features_compat.h) */
    TvDomainFeaturesCompat compat;
} TvDomainFeatures;

typedef struct {
    TvCpuMode mode;
    char *model; /* custom mode only */
    /* <topology>: sockets x cores x threads = the vCPU count; 0: absent */
    unsigned sockets, cores, threads;
    /* match, check, migratable, <model fallback>, <feature> (domain_cpu.h) */
    TvCpuMatch match;
    TvCpuCheck check;
    TvFeatureState migratable;
    TvCpuFallback fallback;
    TvDomainCpuFeature *features;
    size_t nfeatures;
} TvDomainCpu;

/* <disk> (domain_disk.c) */
typedef struct {
    TvDiskType type;
    TvDiskDevice device;
    TvDiskBus bus;
    char *path; /* the file or the block device; NULL: a cdrom without media */
    TvDiskFormat format;
    TvDiskCache cache;
    TvDiskIo io;
    TvDiskDiscard discard;
    char *target_dev; /* "vda", "sda" */
    bool readonly;    /* written, or a cdrom */
    bool shareable;
    char *serial;
    unsigned boot_order; /* <boot order='N'/>; 0: none (domain_os_boot.h) */
    char *alias;         /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address;
} TvDomainDisk;

typedef struct {
    TvNetType type;
    char *mac;             /* "52:54:00:xx:xx:xx"; generated when absent */
    bool mac_written;      /* the user wrote it (kept for messages; both are formatted) */
    char *ifname;          /* ethernet, bridge: <target dev=...> (tap device) */
    bool ifname_generated; /* live: the kernel named the tap (vnetN) */
    bool unmanaged;        /* ethernet: <target managed='no'>: the tap exists already */
    char *bridge;          /* bridge: <source bridge='br0'/>; network: live, the network's */
    char *network;         /* network: <source network='default'/> */
    char *portgroup;       /* network: <source portgroup='...'/>, or NULL */
    unsigned mtu;          /* <mtu size='N'/>; 0: the bridge's (or the tap's) */
    char *model;           /* "virtio" */
    bool driver_qemu;      /* <driver name='qemu'/>: QEMU's own virtio-net, as always here */
    unsigned boot_order;   /* <boot order='N'/>; 0: none (domain_os_boot.h) */
    TvNetLinkState link;   /* <link state=.../>: the guest sees its carrier (set_link) */
    char *alias;           /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address;
} TvDomainNet;

/* <serial>, <console> and <channel> (domain_chr.c). */
typedef struct {
    TvChrType type;
    char *path; /* file, unix; a unix channel's is generated at start when absent */
    TvChrUnixMode unix_mode;
    unsigned port; /* <target port='N'/> (serial, console) */
    TvChrTargetType target_type;
    bool model_name;     /* <target><model name='pl011|pci-serial'/> (serial) */
    char *target_name;   /* channel: <target type='virtio' name='org.qemu.guest_agent.0'/> */
    bool path_generated; /* live: the runtime chose the unix socket's path */
    char *log_file;      /* <log file='...' append='on|off'/> */
    TvFeatureState log_append;
    char *alias;             /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address; /* pci-serial: PCI; channel: virtio-serial */
} TvDomainChr;

typedef struct {
    char *backend_path; /* <backend model='random'>/dev/urandom</backend> */
    char *alias;        /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address;
} TvDomainRng;

typedef struct {
    char *emulator;
    TvDomainDisk **disks;
    size_t ndisks;
    TvDomainNet **nets;
    size_t nnets;
    TvDomainChr **serials;
    size_t nserials;
    TvDomainChr **consoles; /* target type serial: an alias of serial N */
    size_t nconsoles;
    TvDomainChr **channels;
    size_t nchannels;
    TvDomainRng **rngs;
    size_t nrngs;
    TvBalloonModel memballoon;
    TvDeviceAddress memballoon_address;
    bool memballoon_stats;      /* <stats period='N'/> written */
    unsigned memballoon_period; /* seconds; 0 turns polling off */
    TvFeatureState memballoon_autodeflate;
    TvFeatureState memballoon_free_page_reporting;
    TvDomainPanic **panics;
    size_t npanics;
    TvDomainWatchdog **watchdogs;
    size_t nwatchdogs;
    TvDomainController **controllers;
    size_t ncontrollers;
    TvDomainInput **inputs;
    size_t ninputs;
    TvDomainGraphics **graphics;
    size_t ngraphics;
    TvDomainVideo **videos;
    size_t nvideos;
    TvDomainAudio **audios;
    size_t naudios;
    TvDomainSound **sounds; /* domain_sound.h, domain_filesystem.h, domain_vsock.h */
    size_t nsounds;
    TvDomainFilesystem **filesystems;
    size_t nfilesystems;
    TvDomainVsock *vsock;           /* NULL: none */
    TvDomainTpm *tpm;               /* <tpm>: NULL when absent (domain_tpm.h) */
    TvDomainSmartcard **smartcards; /* domain_smartcard.h */
    size_t nsmartcards;
    TvDomainRedirdev **redirdevs; /* <redirdev> (domain_redirdev.h) */
    size_t nredirdevs;
    TvDomainRedirFilter *redirfilter; /* <redirfilter>: NULL when absent */
} TvDomainDevices;

typedef struct {
    TvVirtType virt_type;
    int id; /* live only: -1 when not running */
    char *name;
    unsigned char uuid[TV_UUID_LEN];
    char *title;
    char *description;
    TvDomainMetadata *metadata; /* <metadata>: NULL when absent (domain_metadata.h) */
    unsigned long long memory_kib;
    unsigned long long current_memory_kib; /* 0: same as memory */
    unsigned vcpus;                        /* how many exist: <vcpu>M</vcpu> */
    unsigned vcpus_current;                /* present at start when fewer (current='N'); 0: all */
    TvDomainOs os;
    TvDomainFeatures features;
    TvDomainCpu cpu;
    TvClockOffset clock;
    TvLifecycleAction on_poweroff;
    TvLifecycleAction on_reboot;
    TvLifecycleAction on_crash;
    TvDomainDevices devices;
    /* recorded at start (status XML only): what the guest sees of its CPU and
     * machine (domain_guest_abi.h) */
    TvDomainGuestAbi guest_abi;
} TvDomainDef;

typedef enum {
    TV_DOMAIN_FORMAT_INACTIVE = 0,        /* what the user wrote (persistent definition) */
    TV_DOMAIN_FORMAT_LIVE = 1 << 0,       /* id, resolved values (MTE level as a number) */
    TV_DOMAIN_FORMAT_MIGRATABLE = 1 << 1, /* resolved values, no id: for another host */
    TV_DOMAIN_FORMAT_STATUS = 1 << 2,     /* live + the recorded MTE fields and <guestabi> */
} TvDomainFormatFlags;

typedef enum {
    TV_DOMAIN_PARSE_DEFAULT = 0,
    TV_DOMAIN_PARSE_STATUS =
        1 << 0, /* accept what STATUS format writes (recorded ABI, <guestabi>) */
} TvDomainParseFlags;

/* Parse len bytes of domain XML.  Unknown elements and attributes are errors
 * (never dropped).  A missing uuid is generated; a missing MAC is generated. */
TvDomainDef *tv_domain_def_parse(const char *xml, size_t len, unsigned flags);
char *tv_domain_def_format(const TvDomainDef *def, unsigned flags);
/* The same, appended to a writer at its indentation (a document that holds a
 * domain, such as the runtime's status file).  Text of several lines, such as
 * a <description>, is written as it is: never indented again. */
struct TvXmlWriter;
void tv_domain_def_format_into(struct TvXmlWriter *w, const TvDomainDef *def, unsigned flags);
TvDomainDef *tv_domain_def_copy(const TvDomainDef *def); /* via format+parse STATUS */
void tv_domain_def_free(TvDomainDef *def);
void tv_domain_disk_free(TvDomainDisk *disk);
void tv_domain_net_free(TvDomainNet *net);
/* Disk, interface or controller i out of def (the caller owns it). */
TvDomainDisk *tv_domain_def_take_disk(TvDomainDef *def, size_t i);
TvDomainNet *tv_domain_def_take_net(TvDomainDef *def, size_t i);
TvDomainController *tv_domain_def_take_controller(TvDomainDef *def, size_t i);
void tv_domain_controller_free(TvDomainController *ctrl);
void tv_domain_chr_free(TvDomainChr *chr);
void tv_domain_rng_free(TvDomainRng *rng);
void tv_domain_input_free(TvDomainInput *input);
void tv_domain_watchdog_free(TvDomainWatchdog *wd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvDomainDef, tv_domain_def_free)

/* The vCPUs present at start (current='N', else all of them). */
unsigned tv_domain_def_vcpus_current(const TvDomainDef *def);
/* Boot orders across the definition: per-device <boot order> values are
 * unique and not mixed with <os><boot dev> (domain_os_boot.c). */
int tv_domain_boot_check(const TvDomainDef *def);

/* libvirt's setMetadata for TITLE and DESCRIPTION: NULL or "" removes it;
 * a title must be one line. */
int tv_domain_def_set_title(TvDomainDef *def, const char *title);
void tv_domain_def_set_description(TvDomainDef *def, const char *description);

/* RelaxNG check against src/conf/schemas/domain.rng (installed copy, or the
 * source tree's when run uninstalled). */
int tv_domain_def_validate_schema(const char *xml, size_t len);

/* Save and migration move QEMU's state only: with a <tpm>,
 * OPERATION_UNSUPPORTED naming it (operation: "save", "migration"). */
int tv_domain_tpm_refuse_transfer(const TvDomainDef *def, const char *operation);

/* Names that could escape a state directory or confuse a terminal. */
int tv_domain_name_check(const char *name);

void tv_uuid_format(const unsigned char uuid[TV_UUID_LEN], char out[TV_UUID_STRLEN + 1]);
int tv_uuid_parse(const char *str, unsigned char uuid[TV_UUID_LEN]);
void tv_uuid_generate(unsigned char uuid[TV_UUID_LEN]);
