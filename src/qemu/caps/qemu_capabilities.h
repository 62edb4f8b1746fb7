/* What one QEMU binary can do, probed over QMP and by booting tagvirt's own
 * probe firmware (firmware/probe.S) per CPU model and accelerator.
 *
 * Nothing here is a table of facts: every field comes from the binary (or
 * from a recording of it, tests/qemucapabilitiesdata/). */
#pragma once

#include "domain_mte.h"
#include "qemu_host.h"
#include "tv_enum.h"
#include "tv_xml.h"

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

/* The probe firmware's tag-storage self-test (firmware/probe.S): tags 1 2 3 4
 * stored in four neighbouring granules, read back, then loaded through
 * correctly tagged pointers with synchronous tag checks.  Run when the CPU
 * shows tag storage (MTE >= 2). */
typedef enum {
    TV_TAG_TEST_NONE = 0, /* not run: no tag storage */
    TV_TAG_TEST_OK,       /* read back 1234, no fault */
    TV_TAG_TEST_FAILED,   /* another read-back, or a correctly tagged access faulted */
} TvTagTestResult;

typedef struct {
    TvTagTestResult result;
    char read[5]; /* the tags read back, "1234" when the storage works */
    bool fault;   /* a correctly tagged load faulted */
    uint64_t esr; /* ESR_EL1 of that fault */
} TvTagTest;

/* One boot of the probe firmware. */
typedef struct {
    bool ran;     /* false: not attempted (e.g. KVM absent) */
    bool refused; /* QEMU exited with an error instead of printing the registers */
    char *error;  /* QEMU's own text when refused (first line of stderr), else NULL */
    uint64_t pfr1;
    uint64_t pfr2;
    TvMteAbi abi; /* decoded from pfr1/pfr2 when !refused */
    TvTagTest tags;
} TvGuestAbiResult;

/* "tags 1 2 3 4 stored in neighbouring granules read back as 3 4 3 4, and a
 * correctly tagged load faulted (ESR 0x96000011)" for a failed test. */
char *tv_tag_test_describe(const TvTagTest *t);

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

/* What a binary has, one flag each.  Adding one: an entry here and its name
 * in the string table (qemu_capabilities.c), the probe that sets it
 * (qemu_capabilities_probe.c); the caps XML writes and reads every flag by
 * that name (<flag name='virt-mte'/>). */
typedef enum {
    TV_QEMU_CAPS_NONE = 0,               /* "" (value 0 is "absent": tv_enum.h) */
    TV_QEMU_CAPS_ACCEL_TCG,              /* "accel-tcg": the tcg-accel QOM type exists */
    TV_QEMU_CAPS_ACCEL_KVM,              /* "accel-kvm": query-kvm says present */
    TV_QEMU_CAPS_VIRT_MTE,               /* "virt-mte": the virt machine's 'mte' (bool) */
    TV_QEMU_CAPS_VIRT_MTE_VERSION,       /* "virt-mte-version" (the proposed interface) */
    TV_QEMU_CAPS_VIRT_GIC_VERSION,       /* "virt-gic-version" */
    TV_QEMU_CAPS_VIRT_ACPI,              /* "virt-acpi" */
    TV_QEMU_CAPS_GIC2_EMULATED,          /* "gic2-emulated": query-gic-capabilities, TCG */
    TV_QEMU_CAPS_GIC3_EMULATED,          /* "gic3-emulated" */
    TV_QEMU_CAPS_GIC2_KERNEL,            /* "gic2-kernel": KVM */
    TV_QEMU_CAPS_GIC3_KERNEL,            /* "gic3-kernel" */
    TV_QEMU_CAPS_QUERY_MTE_CAPABILITIES, /* "query-mte-capabilities" in query-commands */
    TV_QEMU_CAPS_LAST
} TvQemuCapsFlag;
TV_ENUM_DECL(tv_qemu_caps_flag)

typedef struct {
    gint refs; /* tv_qemu_caps_ref/unref: shared by the cache and its users */
    char *binary;
    unsigned version; /* major * 1000000 + minor * 1000 + micro */
    char *package;    /* "Debian 1:7.2+dfsg-7+deb12u18+b3" */
    char *arch;       /* "aarch64" */

    guint32 flags; /* bit N: TvQemuCapsFlag N */

    TvQemuMachine *machines;
    size_t nmachines;

    TvQemuCpuModel *cpu_models;
    size_t ncpu_models;

    char **commands;     /* query-commands, sorted */
    char **device_types; /* the -device drivers tagvirt uses that the binary has, sorted */

    TvQemuMteCaps *mte_caps; /* from query-mte-capabilities when present */
    size_t nmte_caps;

    TvGuestAbiProbe *probes; /* one per 64-bit CPU model and accelerator */
    size_t nprobes;

    TvQemuCapsFingerprint fingerprint;
} TvQemuCaps;

/* The fingerprint: read from the binary as it is now, compared, copied, and
 * its one XML codec (the cache and the runtime's status files). */
int tv_qemu_caps_fingerprint_read(const char *binary, const TvHostFacts *host,
                                  TvQemuCapsFingerprint *fp);
void tv_qemu_caps_fingerprint_clear(TvQemuCapsFingerprint *fp);
void tv_qemu_caps_fingerprint_copy(TvQemuCapsFingerprint *dst, const TvQemuCapsFingerprint *src);
bool tv_qemu_caps_fingerprint_equal(const TvQemuCapsFingerprint *a, const TvQemuCapsFingerprint *b);
void tv_qemu_caps_fingerprint_format(TvXmlWriter *w, const TvQemuCapsFingerprint *fp);
/* Every attribute required and checked; -1 with an error, fp left empty. */
int tv_qemu_caps_fingerprint_parse(xmlNodePtr node, TvQemuCapsFingerprint *fp);

/* A new, empty TvQemuCaps with one reference.  Caps are immutable once
 * made: a cache hands out references, a caller that is done unrefs. */
TvQemuCaps *tv_qemu_caps_new(void);
TvQemuCaps *tv_qemu_caps_ref(TvQemuCaps *caps);
void tv_qemu_caps_unref(TvQemuCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuCaps, tv_qemu_caps_unref)

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

/* The capabilities cache of one owner (the driver, the tagvirt tool, a
 * test): in memory, then dir/<hash of path>.xml when its fingerprint matches
 * (binary path/size/mtime/ctime, tagvirt version, kernel release, /dev/kvm),
 * else a probe stored atomically.  host: borrowed (NULL: read this host's
 * facts once); opts: copied (NULL: defaults). */
typedef struct TvQemuCapsCache TvQemuCapsCache;
TvQemuCapsCache *tv_qemu_caps_cache_new(const char *dir, const TvHostFacts *host,
                                        const TvQemuCapsProbeOptions *opts);
void tv_qemu_caps_cache_free(TvQemuCapsCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuCapsCache, tv_qemu_caps_cache_free)
/* A reference to binary's caps (tv_qemu_caps_unref it), or NULL with an
 * error.  Caps a newer lookup replaced stay valid for who holds them. */
TvQemuCaps *tv_qemu_caps_cache_lookup(TvQemuCapsCache *cache, const char *binary);
/* Forget what is in memory (the next lookup reads the disk again). */
void tv_qemu_caps_cache_clear_memory(TvQemuCapsCache *cache);

bool tv_qemu_caps_get(const TvQemuCaps *caps, TvQemuCapsFlag flag);
void tv_qemu_caps_set(TvQemuCaps *caps, TvQemuCapsFlag flag, bool on);

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
