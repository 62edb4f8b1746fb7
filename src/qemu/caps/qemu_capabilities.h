/* What one QEMU binary can do, probed over QMP and by booting tagvirt's own
 * probe firmware (firmware/probe.S) per CPU model and accelerator.
 *
 * Nothing here is a table of facts: every field comes from the binary (or
 * from a recording of it, tests/qemucapabilitiesdata/). */
#pragma once

#include "domain_mte.h"
#include "qemu_host.h"
#include "tv_enum.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TV_ACCEL_NONE = 0,
    TV_ACCEL_TCG,
    TV_ACCEL_KVM,
    TV_ACCEL_LAST
} TvAccel;
TV_ENUM_DECL(tv_accel) /* "", "tcg", "kvm" */

typedef struct {
    char *name;  /* "virt-7.2" */
    char *alias; /* "virt" or NULL */
    bool is_default;
    bool deprecated;
    unsigned max_cpus;
} TvQemuMachine;

typedef struct {
    char *name;      /* "cortex-a710" */
    char *type_name; /* "cortex-a710-arm-cpu" */
    bool aarch64;    /* its QOM type has the 'aarch64' property: a 64-bit model */
    /* of a 64-bit model: the CPU feature properties <cpu><feature> may set
     * (sve, sveNNN, pauth*, lpa2), sorted; NULL-terminated */
    char **features;
} TvQemuCpuModel;

/* One boot of the probe firmware. */
typedef struct {
    bool ran;     /* false: not attempted (e.g. KVM absent) */
    bool refused; /* QEMU exited with an error instead of printing the registers */
    char *error;  /* QEMU's own text when refused (first line of stderr), else NULL */
    uint64_t pfr1;
    uint64_t pfr2;
    TvMteAbi abi; /* decoded from pfr1/pfr2 when !refused */
} TvGuestAbiResult;

typedef struct {
    char *cpu_model; /* "max", "host", "cortex-a710" */
    TvAccel accel;
    TvGuestAbiResult mte_on;
    TvGuestAbiResult mte_off;
} TvGuestAbiProbe;

/* One entry of the proposed query-mte-capabilities command (no QEMU has it
 * yet; see the hypothetical-mte-version files in tests/qemucapabilitiesdata). */
typedef struct {
    TvAccel accel;
    int *levels; /* concrete levels mte-version=N accepts with this accelerator */
    size_t nlevels;
} TvQemuMteCaps;

typedef struct {
    char *binary_path;
    long long size;
    long long mtime;
    long long ctime;
    char *tagvirt_version;
    char *kernel_release;
    bool kvm_present;
} TvQemuCapsFingerprint;

typedef struct {
    char *binary;
    unsigned version; /* major * 1000000 + minor * 1000 + micro */
    char *package;    /* "Debian 1:7.2+dfsg-7+deb12u18+b3" */
    char *arch;       /* "aarch64" */

    bool accel_tcg; /* the binary has the accelerator (qom-list-types accel) */
    bool accel_kvm;

    TvQemuMachine *machines;
    size_t nmachines;

    /* properties of the virt machine type */
    bool virt_mte;         /* 'mte' (bool) */
    bool virt_mte_version; /* 'mte-version' (proposed interface) */
    bool virt_gic_version;
    bool virt_acpi;

    /* query-gic-capabilities */
    bool gic2_emulated, gic3_emulated; /* TCG */
    bool gic2_kernel, gic3_kernel;     /* KVM */

    TvQemuCpuModel *cpu_models;
    size_t ncpu_models;

    char **commands;     /* query-commands, sorted */
    char **device_types; /* the -device drivers tagvirt uses that the binary has, sorted */
    bool query_mte_capabilities;

    TvQemuMteCaps *mte_caps; /* from query-mte-capabilities when present */
    size_t nmte_caps;

    TvGuestAbiProbe *probes; /* one per 64-bit CPU model and accelerator */
    size_t nprobes;

    TvQemuCapsFingerprint fingerprint;
} TvQemuCaps;

void tv_qemu_caps_free(TvQemuCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuCaps, tv_qemu_caps_free)

typedef struct {
    const char *probe_firmware; /* path of probe.elf; NULL: the built/installed default */
    unsigned timeout_ms;        /* per QEMU process; 0: default (5000) */
    unsigned parallel;          /* concurrent guest boots; 0: number of CPUs + 1 */
    const char *record_path;    /* when set, write the QMP conversation + probe results there */
    bool no_zygote; /* plain spawns only, no fork server (also TAGVIRT_PROBE_ZYGOTE=0) */
} TvQemuCapsProbeOptions;

/* Probe a real binary: QMP (version, machines, virt properties, CPU models,
 * GIC, commands, accelerators, query-mte-capabilities if present) and the
 * guest-visible probe.  A missing or non-QEMU binary, a hang or a crash is a
 * clear error. */
TvQemuCaps *tv_qemu_caps_probe(const char *binary, const TvHostFacts *host,
                               const TvQemuCapsProbeOptions *opts);

/* Rebuild caps from a recording made with record_path (tests). */
TvQemuCaps *tv_qemu_caps_replay(const char *recording, size_t len, const char *binary);

/* The caps XML (cache and test format) and back. */
char *tv_qemu_caps_format(const TvQemuCaps *caps);
TvQemuCaps *tv_qemu_caps_parse(const char *xml, size_t len);

/* Cached lookup: memory, then cache_dir/<hash of path>.xml when its
 * fingerprint matches (binary path/size/mtime/ctime, tagvirt version, kernel
 * release, /dev/kvm), else probe and store atomically.  The returned caps are
 * shared and immutable: do not free. */
const TvQemuCaps *tv_qemu_caps_cache_lookup(const char *cache_dir, const char *binary,
                                            const TvHostFacts *host,
                                            const TvQemuCapsProbeOptions *opts);
void tv_qemu_caps_cache_clear_memory(void);

/* Queries used by post-parse, validation and the command line. */
const TvQemuMachine *tv_qemu_caps_machine(const TvQemuCaps *caps, const char *name_or_alias);
const TvQemuCpuModel *tv_qemu_caps_cpu_model(const TvQemuCaps *caps, const char *name);
/* Is name one of model's CPU feature properties? */
bool tv_qemu_cpu_model_has_feature(const TvQemuCpuModel *model, const char *name);
/* The QOM property names that <cpu><feature> may set (sve, sveNNN, pauth*, lpa2). */
bool tv_qemu_cpu_feature_name(const char *property);
const TvGuestAbiProbe *tv_qemu_caps_guest_abi(const TvQemuCaps *caps, const char *cpu_model,
                                              TvAccel accel);
const TvQemuMteCaps *tv_qemu_caps_mte_caps(const TvQemuCaps *caps, TvAccel accel);
/* QEMU's own refusal when it cannot run the model on virt at all (it refused
 * the probe boot with mte=off too, e.g. "Invalid CPU model"), else NULL. */
const char *tv_qemu_caps_model_refusal(const TvQemuCaps *caps, const char *cpu_model,
                                       TvAccel accel);
/* The proposed interface: virt has mte-version and query-mte-capabilities exists. */
bool tv_qemu_caps_has_mte_version(const TvQemuCaps *caps);
bool tv_qemu_caps_has_command(const TvQemuCaps *caps, const char *command);
bool tv_qemu_caps_has_device(const TvQemuCaps *caps, const char *type);
