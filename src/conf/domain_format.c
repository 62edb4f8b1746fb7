/* Domain XML formatter: the <domain> element down to <clock> and the
 * lifecycle actions, in libvirt's element order; <devices> has its own file.
 * Whatever is written here parses back to the same definition. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

/* Element text: a carriage return would become a newline on re-parse. */
static char *esc_text(const char *s)
{
    g_autofree char *escaped = tv_xml_esc(s);
    if (!strchr(escaped, '\r'))
        return g_steal_pointer(&escaped);
    GString *out = g_string_new(NULL);
    for (const char *p = escaped; *p; p++) {
        if (*p == '\r')
            g_string_append(out, "&#13;");
        else
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

static void text_element(TvXmlWriter *w, const char *name, const char *value)
{
    if (!value)
        return;
    g_autofree char *text = esc_text(value);
    tv_xml_line(w, "<%s>%s</%s>", name, text, name);
}

static void format_os(TvXmlWriter *w, const TvDomainOs *os)
{
    const TvDomainOsBoot *boot = &os->boot;
    tv_xml_line(w, "<os%s>", tv_domain_firmware_os_attr(&boot->fw));
    w->indent++;
    GString *attrs = g_string_new(NULL);
    if (os->arch) {
        g_autofree char *arch = tv_xml_esc(os->arch);
        g_string_append_printf(attrs, " arch='%s'", arch);
    }
    if (os->machine) {
        g_autofree char *machine = tv_xml_esc(os->machine);
        g_string_append_printf(attrs, " machine='%s'", machine);
    }
    g_autofree char *type = esc_text(os->type ? os->type : "hvm");
    tv_xml_line(w, "<type%s>%s</type>", attrs->str, type);
    g_string_free(attrs, TRUE);
    tv_domain_firmware_format(w, &boot->fw);
    text_element(w, "kernel", boot->kernel);
    text_element(w, "initrd", boot->initrd);
    text_element(w, "cmdline", boot->cmdline);
    text_element(w, "dtb", boot->dtb);
    tv_domain_boot_devs_format(w, &boot->order);
    w->indent--;
    tv_xml_line(w, "</os>");
}

static void format_features(TvXmlWriter *w, const TvDomainFeatures *f, unsigned flags)
{
    TvDomainMteFormat how = (flags & TV_DOMAIN_FORMAT_STATUS) ? TV_DOMAIN_MTE_FORMAT_STATUS
                            : (flags & TV_DOMAIN_FORMAT_MIGRATABLE)
                                ? TV_DOMAIN_MTE_FORMAT_MIGRATABLE
                            : (flags & TV_DOMAIN_FORMAT_LIVE) ? TV_DOMAIN_MTE_FORMAT_LIVE
                                                              : TV_DOMAIN_MTE_FORMAT_INACTIVE;
    if (f->acpi != TV_FEATURE_STATE_ON && f->pmu == TV_FEATURE_STATE_ABSENT && !f->gic_present &&
        !tv_domain_mte_formats_element(&f->mte, how) && !tv_domain_features_compat_any(&f->compat))
        return;
    tv_xml_line(w, "<features>");
    w->indent++;
    if (f->acpi == TV_FEATURE_STATE_ON)
        tv_xml_line(w, "<acpi/>");
    tv_domain_features_compat_format_x86(w, &f->compat);
    if (f->pmu != TV_FEATURE_STATE_ABSENT)
        tv_xml_line(w, "<pmu state='%s'/>", tv_feature_state_to_string(f->pmu));
    if (f->gic_present && f->gic != TV_GIC_VERSION_DEFAULT)
        tv_xml_line(w, "<gic version='%s'/>", tv_gic_version_to_string(f->gic));
    else if (f->gic_present)
        tv_xml_line(w, "<gic/>");
    tv_domain_features_compat_format_vmcoreinfo(w, &f->compat);
    tv_domain_mte_format(w, &f->mte, how);
    w->indent--;
    tv_xml_line(w, "</features>");
}

static void format_lifecycle(TvXmlWriter *w, const char *name, TvLifecycleAction action)
{
    if (action != TV_LIFECYCLE_DEFAULT)
        tv_xml_line(w, "<%s>%s</%s>", name, tv_lifecycle_action_to_string(action), name);
}

static void format_head(TvXmlWriter *w, const TvDomainDef *def, unsigned flags)
{
    bool show_id = (flags & (TV_DOMAIN_FORMAT_LIVE | TV_DOMAIN_FORMAT_STATUS)) &&
                   !(flags & TV_DOMAIN_FORMAT_MIGRATABLE) && def->id >= 0;
    const char *type = tv_virt_type_to_string(def->virt_type);
    g_autofree char *id = show_id ? g_strdup_printf(" id='%d'", def->id) : g_strdup("");
    tv_xml_line(w, "<domain type='%s'%s>", type && *type ? type : "qemu", id);
    w->indent++;
    text_element(w, "name", def->name);
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(def->uuid, uuid);
    tv_xml_line(w, "<uuid>%s</uuid>", uuid);
    text_element(w, "title", def->title);
    text_element(w, "description", def->description);
    tv_domain_metadata_format(w, def->metadata);
    tv_xml_line(w, "<memory unit='KiB'>%llu</memory>", def->memory_kib);
    tv_xml_line(w, "<currentMemory unit='KiB'>%llu</currentMemory>",
                def->current_memory_kib ? def->current_memory_kib : def->memory_kib);
    if (def->vcpus_current && def->vcpus_current < def->vcpus)
        tv_xml_line(w, "<vcpu current='%u'>%u</vcpu>", def->vcpus_current, def->vcpus);
    else
        tv_xml_line(w, "<vcpu>%u</vcpu>", def->vcpus ? def->vcpus : 1);
}

void tv_domain_def_format_into(TvXmlWriter *w, const TvDomainDef *def, unsigned flags)
{
    format_head(w, def, flags);
    format_os(w, &def->os);
    format_features(w, &def->features, flags);
    tv_domain_format_cpu(w, &def->cpu);
    if (def->clock != TV_CLOCK_OFFSET_DEFAULT)
        tv_xml_line(w, "<clock offset='%s'/>", tv_clock_offset_to_string(def->clock));
    format_lifecycle(w, "on_poweroff", def->on_poweroff);
    format_lifecycle(w, "on_reboot", def->on_reboot);
    format_lifecycle(w, "on_crash", def->on_crash);
    tv_domain_format_devices(w, &def->devices, flags);
    if (flags & TV_DOMAIN_FORMAT_STATUS)
        tv_domain_guest_abi_format(w, &def->guest_abi);
    w->indent--;
    tv_xml_line(w, "</domain>");
}

char *tv_domain_def_format(const TvDomainDef *def, unsigned flags)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_domain_def_format_into(&w, def, flags);
    return tv_xml_writer_finish(&w);
}
