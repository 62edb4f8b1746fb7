/* Host CPU model, vendor and features from cpuinfo (see qemu_host_cpu.h). */
#include "qemu_host_cpu.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>

#define CPUINFO_MAX (4 * 1024 * 1024)

/* libvirt 9.0's CPU map for aarch64 (src/cpu_map/arm_vendors.xml and the
 * arm_<model>.xml files): implementer -> vendor, part -> model. */
static const struct {
    unsigned id;
    const char *name;
} vendors[] = {
    { 0x41, "ARM" },     { 0x42, "Broadcom" },  { 0x43, "Cavium" },   { 0x44, "DigitalEquipment" },
    { 0x46, "Fujitsu" }, { 0x48, "HiSilicon" }, { 0x49, "Infineon" }, { 0x4d, "Freescale" },
    { 0x4e, "NVIDIA" },  { 0x50, "APM" },       { 0x51, "Qualcomm" }, { 0x56, "Marvell" },
    { 0x69, "Intel" },   { 0x70, "Phytium" },
};

static const struct {
    unsigned part;
    const char *name;
} models[] = {
    { 0x001, "a64fx" },         { 0x0af, "ThunderX2 99xx" }, { 0x662, "FT-2000+" },
    { 0x663, "Tengyun-S2500" }, { 0xc00, "Falkor" },         { 0xd01, "Kunpeng-920" },
    { 0xd03, "cortex-a53" },    { 0xd07, "cortex-a57" },     { 0xd08, "cortex-a72" },
    { 0xd0c, "Neoverse-N1" },   { 0xd40, "Neoverse-V1" },    { 0xd49, "Neoverse-N2" },
};

/* AT_HWCAP bits 0-31 in order: the features libvirt lists for an aarch64 host. */
static const char *const hwcap_names[] = {
    "fp",      "asimd", "evtstrm", "aes",   "pmull",    "sha1",   "sha2", "crc32",
    "atomics", "fphp",  "asimdhp", "cpuid", "asimdrdm", "jscvt",  "fcma", "lrcpc",
    "dcpop",   "sha3",  "sm3",     "sm4",   "asimddp",  "sha512", "sve",  "asimdfhm",
    "dit",     "uscat", "ilrcpc",  "flagm", "ssbs",     "sb",     "paca", "pacg",
};

void tv_host_cpu_model_free(TvHostCpuModel *cpu)
{
    if (!cpu)
        return;
    g_free(cpu->model);
    g_free(cpu->vendor);
    g_strfreev(cpu->features);
    g_free(cpu);
}

bool tv_host_cpu_model_known(const char *model)
{
    for (size_t i = 0; model && i < G_N_ELEMENTS(models); i++)
        if (strcmp(models[i].name, model) == 0)
            return true;
    return false;
}

/* The first "key : value" of cpuinfo (trimmed copy), or NULL. */
static char *cpuinfo_value(GStrv lines, const char *key)
{
    for (char **l = lines; *l; l++) {
        const char *colon = strchr(*l, ':');
        if (!colon)
            continue;
        g_autofree char *k = g_strstrip(g_strndup(*l, (gsize)(colon - *l)));
        if (strcmp(k, key) == 0)
            return g_strstrip(g_strdup(colon + 1));
    }
    return NULL;
}

static void aarch64_cpu(GStrv lines, TvHostCpuModel *cpu)
{
    g_autofree char *impl = cpuinfo_value(lines, "CPU implementer");
    g_autofree char *part = cpuinfo_value(lines, "CPU part");
    if (!impl || !part)
        return;
    unsigned impl_id = (unsigned)g_ascii_strtoull(impl, NULL, 0);
    unsigned part_id = (unsigned)g_ascii_strtoull(part, NULL, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(models) && !cpu->model; i++)
        if (models[i].part == part_id)
            cpu->model = g_strdup(models[i].name);
    if (!cpu->model)
        return; /* libvirt: "Cannot find CPU model with PVR ...": no model, no features */
    for (size_t i = 0; i < G_N_ELEMENTS(vendors) && !cpu->vendor; i++)
        if (vendors[i].id == impl_id)
            cpu->vendor = g_strdup(vendors[i].name);
    if (!cpu->vendor)
        return; /* an unknown implementer stops libvirt's decoding after the model */
    g_autofree char *words = cpuinfo_value(lines, "Features");
    g_auto(GStrv) have = g_strsplit_set(words ? words : "", " \t", -1);
    GPtrArray *features = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(hwcap_names); i++)
        if (g_strv_contains((const char *const *)have, hwcap_names[i]))
            g_ptr_array_add(features, g_strdup(hwcap_names[i]));
    g_ptr_array_add(features, NULL);
    cpu->features = (GStrv)g_ptr_array_free(features, FALSE);
}

TvHostCpuModel *tv_host_cpu_model_read(const TvHostFacts *host)
{
    TvHostCpuModel *cpu = g_new0(TvHostCpuModel, 1);
    g_autofree char *path = g_build_filename(host->root ? host->root : "/", "proc/cpuinfo", NULL);
    g_autofree char *data = NULL;
    if (tv_file_read_all(path, CPUINFO_MAX, &data, NULL) < 0) {
        tv_error_reset(); /* no cpuinfo: arch and topology only */
        return cpu;
    }
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    if (host->arch && strcmp(host->arch, "aarch64") == 0) {
        aarch64_cpu(lines, cpu);
    } else {
        g_autofree char *vendor = cpuinfo_value(lines, "vendor_id");
        if (g_strcmp0(vendor, "GenuineIntel") == 0)
            cpu->vendor = g_strdup("Intel");
        else if (g_strcmp0(vendor, "AuthenticAMD") == 0)
            cpu->vendor = g_strdup("AMD");
    }
    if (!cpu->features)
        cpu->features = g_new0(char *, 1);
    return cpu;
}
