#include "domain_guest_abi.h"
#include "tv_error.h"

#include <inttypes.h>
#include <string.h>

void tv_domain_guest_abi_clear(TvDomainGuestAbi *abi)
{
    g_free(abi->accel);
    g_free(abi->cpu_model);
    g_free(abi->machine);
    g_free(abi->emulator);
    memset(abi, 0, sizeof(*abi));
}

void tv_domain_guest_abi_copy(TvDomainGuestAbi *dst, const TvDomainGuestAbi *src)
{
    tv_domain_guest_abi_clear(dst);
    *dst = *src;
    dst->accel = g_strdup(src->accel);
    dst->cpu_model = g_strdup(src->cpu_model);
    dst->machine = g_strdup(src->machine);
    dst->emulator = g_strdup(src->emulator);
}

void tv_domain_guest_abi_mte(const TvDomainGuestAbi *abi, TvMteAbi *out)
{
    tv_mte_abi_from_regs(abi->pfr1, abi->pfr2, out);
}

void tv_domain_guest_abi_format(TvXmlWriter *w, const TvDomainGuestAbi *abi)
{
    if (!abi->valid)
        return;
    g_autofree char *accel = tv_xml_esc(abi->accel);
    g_autofree char *cpu = tv_xml_esc(abi->cpu_model);
    g_autofree char *machine = tv_xml_esc(abi->machine);
    g_autofree char *emu = abi->emulator ? tv_xml_esc(abi->emulator) : NULL;
    g_autofree char *emu_attr = emu ? g_strdup_printf(" emulator='%s'", emu) : g_strdup("");
    tv_xml_line(w,
                "<guestabi accel='%s' cpu='%s' machine='%s' pfr1='0x%016" PRIx64
                "' pfr2='0x%016" PRIx64 "'%s/>",
                accel, cpu, machine, abi->pfr1, abi->pfr2, emu_attr);
}

static int need_attr(xmlNodePtr node, const char *name, char **out)
{
    *out = tv_xml_prop(node, name);
    if (!*out || !**out) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing attribute '%s' of <guestabi>",
                        name);
        g_clear_pointer(out, g_free);
        return -1;
    }
    return 0;
}

static int need_reg(xmlNodePtr node, const char *name, uint64_t *out)
{
    g_autofree char *s = NULL;
    if (need_attr(node, name, &s) < 0)
        return -1;
    g_autofree char *what = g_strdup_printf("attribute '%s' of <guestabi>", name);
    unsigned long long v = 0;
    if (tv_parse_ull(s, 0, G_MAXUINT64, what, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

int tv_domain_guest_abi_parse(xmlNodePtr node, TvDomainGuestAbi *abi)
{
    static const char *const attrs[] = {
        "accel", "cpu", "machine", "pfr1", "pfr2", "emulator", NULL
    };
    TvDomainGuestAbi tmp = { 0 };
    static const char *const no_children[] = { NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        need_attr(node, "accel", &tmp.accel) < 0 || need_attr(node, "cpu", &tmp.cpu_model) < 0 ||
        need_attr(node, "machine", &tmp.machine) < 0 || need_reg(node, "pfr1", &tmp.pfr1) < 0 ||
        need_reg(node, "pfr2", &tmp.pfr2) < 0) {
        tv_domain_guest_abi_clear(&tmp);
        return -1;
    }
    if (strcmp(tmp.accel, "tcg") != 0 && strcmp(tmp.accel, "kvm") != 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'accel' of <guestabi>: expected 'tcg' "
                        "or 'kvm'",
                        tmp.accel);
        tv_domain_guest_abi_clear(&tmp);
        return -1;
    }
    tmp.emulator = tv_xml_prop(node, "emulator");
    tmp.valid = true;
    tv_domain_guest_abi_clear(abi);
    *abi = tmp;
    return 0;
}

/* The 4-bit fields with a name (Arm ARM, ID_AA64PFR1_EL1 and ID_AA64PFR2_EL1). */
static const char *const pfr1_fields[16] = {
    [0] = "BT",   [1] = "SSBS",      [2] = "MTE",       [3] = "RAS_frac", [4] = "MPAM_frac",
    [6] = "SME",  [7] = "RNDR_trap", [8] = "CSV2_frac", [9] = "NMI",      [10] = "MTE_frac",
    [11] = "GCS", [12] = "THE",      [13] = "MTEX",     [14] = "DF2",     [15] = "PFAR",
};
static const char *const pfr2_fields[16] = {
    [0] = "MTEPERM",
    [1] = "MTESTOREONLY",
    [2] = "MTEFAR",
};

const char *tv_guest_abi_field_name(int reg, unsigned shift)
{
    if (shift >= 64 || shift % 4)
        return NULL;
    return (reg == 1 ? pfr1_fields : pfr2_fields)[shift / 4];
}

static bool check_text(const char *what, const char *a, const char *b, const char *src_label,
                       const char *dst_label)
{
    if (g_strcmp0(a, b) == 0)
        return true;
    tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                    "guest ABI: %s differs: %s '%s', %s '%s'", what, src_label, a ? a : "?",
                    dst_label, b ? b : "?");
    return false;
}

static bool check_field(int reg, unsigned shift, uint64_t a, uint64_t b, const char *src_label,
                        const char *dst_label)
{
    unsigned va = (unsigned)((a >> shift) & 0xf), vb = (unsigned)((b >> shift) & 0xf);
    if (va == vb)
        return true;
    const char *name = tv_guest_abi_field_name(reg, shift);
    g_autofree char *field =
        name ? g_strdup_printf("ID_AA64PFR%d_EL1.%s", reg, name)
             : g_strdup_printf("ID_AA64PFR%d_EL1 bits [%u:%u]", reg, shift + 3, shift);
    tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                    "guest ABI: %s differs: %s %u, %s %u", field, src_label, va, dst_label, vb);
    return false;
}

bool tv_domain_guest_abi_check(const TvDomainGuestAbi *src, const TvDomainGuestAbi *dst,
                               const char *src_label, const char *dst_label)
{
    if (!src->valid || !dst->valid) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                        "guest ABI: the %s has no recorded guest ABI to compare",
                        src->valid ? dst_label : src_label);
        return false;
    }
    if (!check_text("the accelerator", src->accel, dst->accel, src_label, dst_label) ||
        !check_text("the CPU model", src->cpu_model, dst->cpu_model, src_label, dst_label) ||
        !check_text("the machine type", src->machine, dst->machine, src_label, dst_label))
        return false;
    /* MTE first: it is what tagvirt promises above all */
    static const struct {
        int reg;
        unsigned shift;
    } mte_first[] = { { 1, 8 }, { 1, 40 }, { 1, 52 }, { 2, 8 }, { 2, 4 }, { 2, 0 } };
    for (size_t i = 0; i < G_N_ELEMENTS(mte_first); i++) {
        uint64_t a = mte_first[i].reg == 1 ? src->pfr1 : src->pfr2;
        uint64_t b = mte_first[i].reg == 1 ? dst->pfr1 : dst->pfr2;
        if (!check_field(mte_first[i].reg, mte_first[i].shift, a, b, src_label, dst_label))
            return false;
    }
    for (int reg = 1; reg <= 2; reg++) {
        uint64_t a = reg == 1 ? src->pfr1 : src->pfr2;
        uint64_t b = reg == 1 ? dst->pfr1 : dst->pfr2;
        for (unsigned shift = 0; shift < 64; shift += 4)
            if (!check_field(reg, shift, a, b, src_label, dst_label))
                return false;
    }
    return true;
}
