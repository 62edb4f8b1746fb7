/* Device parts of the domain definition that have files of their own:
 * device addresses, controllers, input devices, graphics, video, audio,
 * channels, panic and watchdog devices.  Included by domain_conf.h, which
 * holds TvDomainDevices. */
#pragma once

#include "tv_enum.h"

#include <stdbool.h>

/* ---- <address> (domain_address.c) ---- */

typedef enum {
    TV_ADDRESS_NONE = 0, /* not written: assigned by post-parse where the device needs one */
    TV_ADDRESS_PCI,
    TV_ADDRESS_USB,
    TV_ADDRESS_DRIVE,
    TV_ADDRESS_VIRTIO_SERIAL,
    TV_ADDRESS_CCID, /* a smartcard's slot on a CCID controller (domain_smartcard.h) */
    TV_ADDRESS_LAST
} TvAddressType;
TV_ENUM_DECL(tv_address_type) /* "", "pci", "usb", "drive", "virtio-serial", "ccid" */

typedef enum {
    TV_MULTIFUNCTION_ABSENT = 0,
    TV_MULTIFUNCTION_ON,
    TV_MULTIFUNCTION_OFF,
    TV_MULTIFUNCTION_LAST
} TvMultifunction;
TV_ENUM_DECL(tv_multifunction) /* "", "on", "off" */

#define TV_USB_PORTS_MAX          15    /* qemu-xhci: p2 and p3 */
#define TV_SCSI_UNIT_MAX          16383 /* virtio-scsi LUNs */
#define TV_VIRTIO_SERIAL_PORT_MAX 30    /* virtio-serial: 31 ports, 0 is the console's */

typedef struct {
    TvAddressType type;
    /* pci: domain bus slot function multifunction */
    unsigned domain, bus, slot, function;
    TvMultifunction multifunction;
    /* usb: bus port; drive: controller bus target unit; virtio-serial: controller bus port;
     * ccid: controller slot */
    unsigned controller, target, unit, port;
} TvDeviceAddress;

/* "0000:01:00.0", "usb bus 0 port 1", ... for messages. */
char *tv_domain_address_string(const TvDeviceAddress *addr);

/* ---- <controller> (domain_controller.c) ---- */

typedef enum {
    TV_CONTROLLER_NONE = 0,
    TV_CONTROLLER_PCI,
    TV_CONTROLLER_USB,
    TV_CONTROLLER_SCSI,
    TV_CONTROLLER_VIRTIO_SERIAL,
    TV_CONTROLLER_CCID, /* a USB smartcard reader (usb-ccid), added for a <smartcard> */
    TV_CONTROLLER_LAST
} TvControllerType;
TV_ENUM_DECL(tv_controller_type) /* "", "pci", "usb", "scsi", "virtio-serial", "ccid" */

typedef enum {
    TV_CONTROLLER_MODEL_DEFAULT = 0, /* not written: post-parse chooses */
    TV_CONTROLLER_MODEL_PCIE_ROOT,
    TV_CONTROLLER_MODEL_PCIE_ROOT_PORT,
    TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE,
    TV_CONTROLLER_MODEL_QEMU_XHCI,
    TV_CONTROLLER_MODEL_NONE, /* usb: the guest has no USB controller */
    TV_CONTROLLER_MODEL_VIRTIO_SCSI,
    TV_CONTROLLER_MODEL_LAST
} TvControllerModel;
TV_ENUM_DECL(tv_controller_model)

typedef struct {
    TvControllerType type;
    int index; /* -1 until the parser numbers it (lowest free index of its type) */
    TvControllerModel model;
    bool model_name; /* <model name='...'/> (pci): QEMU's device name, written by post-parse */
    unsigned ports;  /* usb: USB 2 and USB 3 ports each; virtio-serial: ports; 0: default */
    int chassis;     /* pcie-root-port <target chassis port>: -1 until post-parse assigns */
    int port;
    char *alias; /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address;
} TvDomainController;

/* QEMU's device for a controller model ("pcie-root-port", "qemu-xhci"), as
 * libvirt writes it in <model name='...'/>; NULL for pcie-root and none. */
const char *tv_controller_model_device(TvControllerModel model);

/* ---- <input> (domain_input.c) ---- */

typedef enum {
    TV_INPUT_TYPE_NONE = 0,
    TV_INPUT_TYPE_TABLET,
    TV_INPUT_TYPE_KEYBOARD,
    TV_INPUT_TYPE_MOUSE,
    TV_INPUT_TYPE_LAST
} TvInputType;
TV_ENUM_DECL(tv_input_type)

typedef enum {
    TV_INPUT_BUS_DEFAULT = 0, /* usb, as libvirt on aarch64 */
    TV_INPUT_BUS_USB,
    TV_INPUT_BUS_VIRTIO,
    TV_INPUT_BUS_LAST
} TvInputBus;
TV_ENUM_DECL(tv_input_bus)

typedef struct {
    TvInputType type;
    TvInputBus bus;
    char *alias; /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address;
} TvDomainInput;

/* ---- <graphics>, <video>, <audio> (domain_graphics.c) ---- */

typedef enum {
    TV_GRAPHICS_TYPE_NONE = 0,
    TV_GRAPHICS_TYPE_VNC,
    TV_GRAPHICS_TYPE_LAST
} TvGraphicsType;
TV_ENUM_DECL(tv_graphics_type)

#define TV_VNC_PORT_MIN 5900
#define TV_VNC_PORT_MAX 65535

typedef struct {
    TvGraphicsType type;
    int port;      /* -1: chosen at start (autoport) */
    bool autoport; /* port -1 <=> autoport */
    char *listen;  /* the address QEMU listens on; NULL: the default, which the live
                      definition names (resolved at start) */
    int live_port; /* live: the port QEMU listens on; 0 when not running */
} TvDomainGraphics;

typedef enum {
    TV_VIDEO_MODEL_NONE = 0,
    TV_VIDEO_MODEL_VIRTIO, /* virtio-gpu-pci */
    TV_VIDEO_MODEL_RAMFB,
    TV_VIDEO_MODEL_NO_DEVICE, /* model type='none': no display device */
    TV_VIDEO_MODEL_LAST
} TvVideoModel;
TV_ENUM_DECL(tv_video_model) /* "", "virtio", "ramfb", "none" */

typedef struct {
    TvVideoModel model;
    unsigned heads; /* 0: not written (1) */
    bool primary;   /* primary='yes' */
    TvDeviceAddress address;
} TvDomainVideo;

typedef enum {
    TV_AUDIO_TYPE_NONE = 0,
    TV_AUDIO_TYPE_NO_BACKEND, /* type='none': a backend that plays nothing */
    TV_AUDIO_TYPE_LAST
} TvAudioType;
TV_ENUM_DECL(tv_audio_type) /* "", "none" */

typedef struct {
    unsigned id; /* 1.. */
    TvAudioType type;
} TvDomainAudio;

/* ---- <serial>, <console>, <channel> targets (domain_chr.c) ---- */

typedef enum {
    TV_CHR_KIND_SERIAL = 0,
    TV_CHR_KIND_CONSOLE,
    TV_CHR_KIND_CHANNEL,
} TvChrKind;

typedef enum {
    TV_CHR_TARGET_DEFAULT = 0,   /* serial: system-serial (post-parse); console: serial */
    TV_CHR_TARGET_SYSTEM_SERIAL, /* serial: the virt machine's PL011 */
    TV_CHR_TARGET_PCI_SERIAL,    /* serial: QEMU's pci-serial (a 16550 on PCI) */
    TV_CHR_TARGET_SERIAL,        /* console: the serial port of its number */
    TV_CHR_TARGET_VIRTIO,        /* console: virtconsole; channel: virtserialport */
    TV_CHR_TARGET_LAST
} TvChrTargetType;
TV_ENUM_DECL(tv_chr_target_type)
/* libvirt's <model name> of a serial target type: "pl011", "pci-serial". */
const char *tv_chr_target_model(TvChrTargetType type);

/* ---- <panic>, <watchdog> (domain_misc_devices.c) ---- */

typedef enum {
    TV_PANIC_MODEL_NONE = 0,
    TV_PANIC_MODEL_PVPANIC, /* pvpanic-pci */
    TV_PANIC_MODEL_LAST
} TvPanicModel;
TV_ENUM_DECL(tv_panic_model)

typedef struct {
    TvPanicModel model;
    TvDeviceAddress address;
} TvDomainPanic;

typedef enum {
    TV_WATCHDOG_MODEL_NONE = 0,
    TV_WATCHDOG_MODEL_I6300ESB,
    TV_WATCHDOG_MODEL_LAST
} TvWatchdogModel;
TV_ENUM_DECL(tv_watchdog_model)

typedef enum {
    TV_WATCHDOG_ACTION_DEFAULT = 0, /* reset */
    TV_WATCHDOG_ACTION_RESET,
    TV_WATCHDOG_ACTION_SHUTDOWN,
    TV_WATCHDOG_ACTION_POWEROFF,
    TV_WATCHDOG_ACTION_PAUSE,
    TV_WATCHDOG_ACTION_NONE,
    TV_WATCHDOG_ACTION_INJECT_NMI,
    TV_WATCHDOG_ACTION_LAST
} TvWatchdogAction;
TV_ENUM_DECL(tv_watchdog_action)

typedef struct {
    TvWatchdogModel model;
    TvWatchdogAction action;
    char *alias; /* live: QEMU's id of the device (<alias name=.../>) */
    TvDeviceAddress address;
} TvDomainWatchdog;

/* ---- <disk> (domain_disk.c) ---- */

typedef enum {
    TV_DISK_TYPE_NONE = 0, /* the parser sets one: file when not written */
    TV_DISK_TYPE_FILE,
    TV_DISK_TYPE_BLOCK,
    TV_DISK_TYPE_LAST
} TvDiskType;
TV_ENUM_DECL(tv_disk_type) /* "", "file", "block" */

typedef enum {
    TV_DISK_DEVICE_NONE = 0, /* the parser sets one: disk when not written */
    TV_DISK_DEVICE_DISK,
    TV_DISK_DEVICE_CDROM,
    TV_DISK_DEVICE_LAST
} TvDiskDevice;
TV_ENUM_DECL(tv_disk_device) /* "", "disk", "cdrom" */

typedef enum {
    TV_DISK_BUS_NONE = 0, /* the parser sets one from the target's name: vd virtio, sd scsi */
    TV_DISK_BUS_VIRTIO,
    TV_DISK_BUS_SCSI,
    TV_DISK_BUS_USB,
    TV_DISK_BUS_LAST
} TvDiskBus;
TV_ENUM_DECL(tv_disk_bus) /* "", "virtio", "scsi", "usb" */

typedef enum {
    TV_DISK_CACHE_DEFAULT = 0, /* QEMU's: writeback */
    TV_DISK_CACHE_NONE,
    TV_DISK_CACHE_WRITETHROUGH,
    TV_DISK_CACHE_WRITEBACK,
    TV_DISK_CACHE_DIRECTSYNC,
    TV_DISK_CACHE_UNSAFE,
    TV_DISK_CACHE_LAST
} TvDiskCache;
TV_ENUM_DECL(tv_disk_cache)

typedef enum {
    TV_DISK_IO_DEFAULT = 0,
    TV_DISK_IO_NATIVE,
    TV_DISK_IO_THREADS,
    TV_DISK_IO_IO_URING,
    TV_DISK_IO_LAST
} TvDiskIo;
TV_ENUM_DECL(tv_disk_io)

typedef enum {
    TV_DISK_DISCARD_DEFAULT = 0,
    TV_DISK_DISCARD_UNMAP,
    TV_DISK_DISCARD_IGNORE,
    TV_DISK_DISCARD_LAST
} TvDiskDiscard;
TV_ENUM_DECL(tv_disk_discard)

/* sda -> 0, sdz -> 25, sdaa -> 26: the unit a SCSI disk gets; -1 for a name
 * that is not PREFIX and one or two letters. */
int tv_disk_name_index(const char *dev, const char *prefix);
