/* CPU models, compare and baseline as libvirt's aarch64 CPU driver answers
 * them (libvirt 9.0's cpu_arm): a host CPU (one with <arch>) is compatible
 * when its vendor and model are the host's; a guest CPU is judged by what
 * the emulator offers, since guests run on QEMU's models (libvirt's ARM
 * driver calls every guest CPU identical; tagvirt refuses a model the
 * default emulator does not have); the baseline of host CPUs is the first
 * one's model.  CPU model names are the default emulator's aarch64 models
 * (libvirt 9.0 answers an empty list for aarch64: it has no model list). */
#include "qemu_driver_priv.h"
#include "qemu_host_cpu.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <string.h>

/* libvirt's VIR_CONNECT_COMPARE_CPU_* and VIR_CONNECT_BASELINE_CPU_* */
enum {
    COMPARE_FAIL_INCOMPATIBLE = 1,
    COMPARE_VALIDATE_XML = 2,
    BASELINE_EXPAND_FEATURES = 1,
    BASELINE_MIGRATABLE = 2,
};

/* virCPUCompareResult */
enum {
    CPU_INCOMPATIBLE = 0,
    CPU_IDENTICAL = 1,
};

/* libvirt's architecture names (virArch): any of them is a valid question. */
static const char *const arch_names[] = {
    "none",   "alpha",  "armv6l",   "armv7l",      "armv7b",   "aarch64",    "cris",
    "i686",   "ia64",   "lm32",     "loongarch64", "m68k",     "microblaze", "microblazeel",
    "mips",   "mipsel", "mips64",   "mips64el",    "openrisc", "parisc",     "parisc64",
    "ppc",    "ppcle",  "ppc64",    "ppc64le",     "ppcemb",   "riscv32",    "riscv64",
    "s390",   "s390x",  "sh4",      "sh4eb",       "sparc",    "sparc64",    "unicore32",
    "x86_64", "xtensa", "xtensaeb",
};

GStrv tv_qemu_driver_cpu_model_names(TvQemuDriver *drv, const char *arch, unsigned flags)
{
    if (flags) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "CPU model names flags 0x%x are not supported; accepted: 0", flags);
        return NULL;
    }
    if (!arch || !g_strv_contains(arch_names, arch)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "cannot find architecture %s: expected a libvirt architecture name such "
                        "as aarch64",
                        arch ? arch : "(null)");
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new();
    if (strcmp(arch, "aarch64") == 0) { /* the only one tagvirt runs */
        g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
        if (!caps) {
            g_ptr_array_free(out, TRUE);
            return NULL;
        }
        for (size_t i = 0; i < caps->ncpu_models; i++)
            if (caps->cpu_models[i].aarch64 && strcmp(caps->cpu_models[i].name, "host") != 0)
                g_ptr_array_add(out, g_strdup(caps->cpu_models[i].name));
    }
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(out, FALSE);
}

typedef struct {
    bool host; /* has <arch>: a host CPU */
    char *arch;
    char *model;
    char *vendor;
    char *mode; /* guest CPUs */
} CpuDef;

static void cpu_def_clear(CpuDef *cpu)
{
    g_free(cpu->arch);
    g_free(cpu->model);
    g_free(cpu->vendor);
    g_free(cpu->mode);
}

static char *child_text(xmlNodePtr node, const char *name)
{
    xmlNodePtr c = tv_xml_child(node, name);
    if (!c)
        return NULL;
    g_autofree char *text = (char *)xmlNodeGetContent(c);
    return text ? g_strstrip(g_strdup(text)) : NULL;
}

/* One <cpu> as libvirt's CPU definition parser reads it; errors with
 * libvirt's codes (domain CPU). */
static int cpu_parse_doc(xmlDocPtr doc, bool validate, bool baseline, CpuDef *out);

static int cpu_parse(const char *xml, bool validate, bool baseline, CpuDef *out)
{
    xmlDocPtr doc = tv_xml_parse(xml, strlen(xml), "CPU definition");
    if (!doc) { /* libvirt's class for a parse error of a CPU definition */
        g_autoptr(TvError) e = tv_error_steal();
        tv_error_report(TV_FROM_CPU, TV_ERR_XML_DETAIL, "%s", e ? e->message : "malformed");
        return -1;
    }
    int rc = cpu_parse_doc(doc, validate, baseline, out);
    xmlFreeDoc(doc);
    return rc;
}

static int cpu_parse_doc(xmlDocPtr doc, bool validate, bool baseline, CpuDef *out)
{
    static const char *const known[] = { "arch",    "model",       "vendor", "topology",
                                         "feature", "cache",       "numa",   "signature",
                                         "counter", "maxphysaddr", "pages",  NULL };
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "cpu") != 0) {
        tv_error_report(TV_FROM_CPU, TV_ERR_XML_ERROR,
                        "XML does not contain expected 'cpu' element (found '%s')",
                        root ? (const char *)root->name : "nothing");
        return -1;
    }
    for (xmlNodePtr c = root->children; validate && c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !g_strv_contains(known, (const char *)c->name)) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_INVALID_SCHEMA,
                            "CPU definition failed to validate: element <cpu> has extra content: "
                            "<%s>",
                            (const char *)c->name);
            return -1;
        }
    }
    out->arch = child_text(root, "arch");
    out->host = out->arch != NULL || baseline;
    out->model = child_text(root, "model");
    out->vendor = child_text(root, "vendor");
    out->mode = tv_xml_prop(root, "mode");
    if (out->host && out->mode) {
        tv_error_report(TV_FROM_CPU, TV_ERR_CONFIG_UNSUPPORTED,
                        "attribute mode is only allowed for a guest CPU (one without <arch>)");
        return -1;
    }
    if (out->host && (!out->model || !*out->model)) {
        tv_error_report(TV_FROM_CPU, TV_ERR_XML_ERROR,
                        "missing CPU model name: a host CPU (<arch>) needs <model>");
        return -1;
    }
    return 0;
}

static int incompatible(unsigned flags, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int incompatible(unsigned flags, const char *fmt, ...)
{
    if (!(flags & COMPARE_FAIL_INCOMPATIBLE))
        return CPU_INCOMPATIBLE;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tv_error_report(TV_FROM_CPU, TV_ERR_CPU_INCOMPATIBLE,
                    "the CPU is incompatible with host CPU: %s", msg);
    return -1;
}

static int compare_host_cpu(TvQemuDriver *drv, const CpuDef *cpu, unsigned flags)
{
    g_autoptr(TvHostCpuModel) host = tv_host_cpu_model_read(drv->host);
    const char *arch = drv->host->arch ? drv->host->arch : "unknown";
    if (g_strcmp0(cpu->arch, arch) != 0)
        return incompatible(flags, "CPU arch %s does not match host arch %s", cpu->arch, arch);
    if (!host->model)
        return incompatible(flags, "unknown host CPU (its model is not in libvirt's CPU map)");
    if (g_strcmp0(host->vendor, cpu->vendor) != 0 || g_strcmp0(host->model, cpu->model) != 0)
        return incompatible(flags,
                            "host CPU model does not match required CPU vendor %s or(and) model "
                            "%s (the host has %s %s)",
                            cpu->vendor ? cpu->vendor : "(none)", cpu->model,
                            host->vendor ? host->vendor : "", host->model);
    return CPU_IDENTICAL;
}

static int compare_guest_cpu(TvQemuDriver *drv, const CpuDef *cpu, unsigned flags)
{
    if (!cpu->model || g_strcmp0(cpu->mode, "host-passthrough") == 0 ||
        g_strcmp0(cpu->mode, "maximum") == 0 || g_strcmp0(cpu->mode, "host-model") == 0)
        return CPU_IDENTICAL;
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
    if (!caps)
        return -1;
    const TvQemuCpuModel *m = tv_qemu_caps_cpu_model(caps, cpu->model);
    if (!m || !m->aarch64)
        return incompatible(flags, "CPU model '%s' is not an aarch64 model of %s", cpu->model,
                            caps->binary);
    return CPU_IDENTICAL;
}

int tv_qemu_driver_compare_cpu(TvQemuDriver *drv, const char *xml, unsigned flags)
{
    unsigned known = COMPARE_FAIL_INCOMPATIBLE | COMPARE_VALIDATE_XML;
    if (flags & ~known) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "CPU compare flags 0x%x are not supported; accepted: 0x1 (fail "
                        "incompatible), 0x2 (validate XML)",
                        flags);
        return -1;
    }
    CpuDef cpu = { 0 };
    int rc = cpu_parse(xml, flags & COMPARE_VALIDATE_XML, false, &cpu);
    if (rc == 0)
        rc = cpu.host ? compare_host_cpu(drv, &cpu, flags) : compare_guest_cpu(drv, &cpu, flags);
    cpu_def_clear(&cpu);
    return rc;
}

char *tv_qemu_driver_baseline_cpu(TvQemuDriver *drv, char *const *xmls, size_t n, unsigned flags)
{
    unsigned known = BASELINE_EXPAND_FEATURES | BASELINE_MIGRATABLE;
    if (flags & ~known) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "CPU baseline flags 0x%x are not supported; accepted: 0x1 (expand "
                        "features), 0x2 (migratable)",
                        flags);
        return NULL;
    }
    if (n == 0) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INVALID_ARG,
                        "no CPU definitions to baseline: give at least one host CPU");
        return NULL;
    }
    g_autofree char *model = NULL;
    for (size_t i = 0; i < n; i++) {
        CpuDef cpu = { 0 };
        int rc = cpu_parse(xmls[i], false, true, &cpu);
        if (rc == 0 && i == 0)
            model = g_steal_pointer(&cpu.model);
        cpu_def_clear(&cpu);
        if (rc < 0) {
            tv_error_prefix("CPU %zu of %zu", i + 1, n);
            return NULL;
        }
    }
    /* libvirt's ARM baseline: the first CPU's model, nothing else (no features) */
    g_autofree char *esc = tv_xml_esc(model);
    return g_strdup_printf("<cpu mode='custom' match='exact'>\n"
                           "  <model fallback='allow'>%s</model>\n"
                           "</cpu>\n",
                           esc);
}
