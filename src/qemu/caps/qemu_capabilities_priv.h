/* Internals shared by the capability probe's files (not for other modules). */
#pragma once

#include "qemu_capabilities.h"
#include "qemu_monitor.h"
#include "qemu_zygote.h"
#include "tv_xml.h"

#define TV_QEMU_CAPS_TIMEOUT_DEFAULT 5000

/* One guest-ABI boot: what to run and what came out. */
typedef struct {
    char *cpu_model;
    TvAccel accel;
    bool mte;
    bool done;
    bool refused; /* QEMU exited with an error message instead of the lines */
    bool again;   /* the repeat of an mte=on boot that showed tag storage: it must
                   * print the same (a QEMU that contradicts itself is not cached) */
    char *text;   /* the TAGVIRT-PROBE and TAGVIRT-TAGS lines, or QEMU's refusal text */
} TvGuestAbiBoot;

void tv_guest_abi_boot_free(TvGuestAbiBoot *boot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvGuestAbiBoot, tv_guest_abi_boot_free)

/* The boots of one probe, in a stable order (CPU models sorted by name, mte
 * on then off, KVM last).  The QMP side pushes them as soon as it learns a
 * model is 64-bit, so boots overlap the rest of the conversation; a runner
 * thread starts them as they arrive. */
typedef struct _TvGuestAbiQueue TvGuestAbiQueue;
TvGuestAbiQueue *tv_guest_abi_queue_new(void);
void tv_guest_abi_queue_free(TvGuestAbiQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvGuestAbiQueue, tv_guest_abi_queue_free)
/* Both boots (mte=on, mte=off) of one model and accelerator. */
void tv_guest_abi_queue_push_model(TvGuestAbiQueue *queue, const char *model, TvAccel accel);
/* No more boots will come. */
void tv_guest_abi_queue_close(TvGuestAbiQueue *queue);
/* The boots pushed so far (TvGuestAbiBoot *); read once the runner is done. */
GPtrArray *tv_guest_abi_queue_boots(TvGuestAbiQueue *queue);

/* Boot what the queue gets, at most parallel at once, each under timeout_ms,
 * until it is closed and empty.  A refusal is a result; a hang, a crash or
 * garbage is an error (the rest is then abandoned). */
int tv_guest_abi_run(const char *binary, const char *firmware, TvGuestAbiQueue *queue,
                     unsigned parallel, unsigned timeout_ms, TvQemuZygote *zygote);

/* Fill caps->probes from finished boots; every mte=on boot that shows tag
 * storage must have its repeat ('again') with the same output. */
int tv_guest_abi_apply(TvQemuCaps *caps, GPtrArray *boots);

/* The firmware path: opts, $TAGVIRT_FIRMWARE_DIR/probe.elf, the build tree,
 * then the installed copy. */
char *tv_guest_abi_firmware_path(const char *requested);

/* Recordings (format in docs/capabilities.rst): the QMP conversation (the
 * monitor layer's script) and the boots. */
typedef struct {
    char *comment;            /* header comment lines, without '# ' */
    TvQemuMonitorScript *qmp; /* greeting, commands and replies */
    GPtrArray *boots;         /* TvGuestAbiBoot * (done) */
} TvQemuCapsRecording;

TvQemuCapsRecording *tv_qemu_caps_recording_new(void);
void tv_qemu_caps_recording_free(TvQemuCapsRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuCapsRecording, tv_qemu_caps_recording_free)
char *tv_qemu_caps_recording_format(const TvQemuCapsRecording *rec);
TvQemuCapsRecording *tv_qemu_caps_recording_parse(const char *text, size_t len);

/* The QMP side of a probe, live or replayed from a recording: the same
 * typed commands on either kind of monitor. */
typedef struct {
    TvQemuMonitor *mon;
    TvGuestAbiQueue *boots; /* gets the boots as the CPU models are learned */
    bool kvm;               /* also boot 'host' under KVM (the host can) */
    unsigned timeout_ms;
} TvCapsQmp;

/* What the guest-ABI boots need: target arch, accelerators, CPU models
 * (64-bit or not), pushing boots to q->boots on the way; the queue is closed
 * at the end, also on failure.  Then the rest: version, machines, virt properties, GIC,
 * commands, query-mte-capabilities, quit. */
int tv_caps_qmp_probe_cpus(TvCapsQmp *q, TvQemuCaps *caps);
int tv_caps_qmp_probe_rest(TvCapsQmp *q, TvQemuCaps *caps);
/* qemu_capabilities_devices.c: the device types (one device-list-properties
 * each), and their <deviceTypes> element in the caps XML. */
int tv_caps_qmp_probe_devices(TvCapsQmp *q, TvQemuCaps *caps);
/* A hash of the -device types asked: part of the cache fingerprint. */
unsigned tv_qemu_caps_device_list_hash(void);
void tv_qemu_caps_format_devices(TvXmlWriter *w, const TvQemuCaps *caps);
int tv_qemu_caps_parse_devices(xmlNodePtr node, TvQemuCaps *caps);
