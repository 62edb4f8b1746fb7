/* A resolved domain definition + capabilities -> QEMU's argv. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"
#include "qemu_mte.h"

typedef struct {
    const char *monitor_path; /* QMP socket; NULL: no monitor options */
    int monitor_fd;           /* > 0: QMP on this listening socket passed to QEMU, not the path */
    int channel_fd_first; /* > 0: bind-mode unix channels listen on fds from this one, in order */
    const int *net_fds;   /* per <interface>: the descriptor of its tap in QEMU, 0: none */
    bool paused;          /* -S: start with vCPUs stopped (the runtime resumes) */
    bool incoming;        /* -incoming defer: receive the guest's state (migrate-incoming) */
    bool sandbox;         /* -sandbox with every deny (qemu_security.h) */
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
