#include "domain_capabilities.h"
#include "tv_xml.h"

void tv_domain_caps_free(TvDomainCaps *caps)
{
    if (!caps)
        return;
    g_free(caps->path);
    g_free(caps->domain);
    g_free(caps->machine);
    g_free(caps->arch);
    g_strfreev(caps->cpu_models);
    g_strfreev(caps->loader_values);
    g_free(caps->cpu_usable);
    g_free(caps);
}

static void format_enum(TvXmlWriter *w, const char *name, const char *const *values)
{
    if (!values || !*values) {
        tv_xml_line(w, "<enum name='%s'/>", name);
        return;
    }
    tv_xml_line(w, "<enum name='%s'>", name);
    w->indent++;
    for (; *values; values++)
        tv_xml_line(w, "<value>%s</value>", *values);
    w->indent--;
    tv_xml_line(w, "</enum>");
}

/* libvirt's <tpm> block: the models, backends and versions <tpm> takes. */
static void format_tpm(TvXmlWriter *w, bool supported)
{
    static const char *const models[] = { "tpm-tis", NULL };
    static const char *const backends[] = { "emulator", NULL };
    static const char *const versions[] = { "2.0", NULL };
    if (!supported) {
        tv_xml_line(w, "<tpm supported='no'/>");
        return;
    }
    tv_xml_line(w, "<tpm supported='yes'>");
    w->indent++;
    format_enum(w, "model", models);
    format_enum(w, "backendModel", backends);
    format_enum(w, "backendVersion", versions);
    w->indent--;
    tv_xml_line(w, "</tpm>");
}

static void format_version_feature(TvXmlWriter *w, const char *name, bool supported, unsigned mask)
{
    if (!supported || !mask) {
        tv_xml_line(w, "<%s supported='no'/>", name);
        return;
    }
    tv_xml_line(w, "<%s supported='yes'>", name);
    w->indent++;
    tv_xml_line(w, "<enum name='version'>");
    w->indent++;
    for (unsigned v = 0; v < 32; v++) {
        if (mask & (1u << v))
            tv_xml_line(w, "<value>%u</value>", v);
    }
    w->indent--;
    tv_xml_line(w, "</enum>");
    w->indent--;
    tv_xml_line(w, "</%s>", name);
}

static void format_cpu(TvXmlWriter *w, const TvDomainCaps *caps)
{
    tv_xml_line(w, "<cpu>");
    w->indent++;
    tv_xml_line(w, "<mode name='host-passthrough' supported='%s'/>",
                caps->host_passthrough ? "yes" : "no");
    tv_xml_line(w, "<mode name='maximum' supported='%s'/>", caps->maximum ? "yes" : "no");
    tv_xml_line(w, "<mode name='host-model' supported='no'/>");
    if (!caps->cpu_models || !*caps->cpu_models) {
        tv_xml_line(w, "<mode name='custom' supported='no'/>");
    } else {
        tv_xml_line(w, "<mode name='custom' supported='yes'>");
        w->indent++;
        for (size_t i = 0; caps->cpu_models[i]; i++) {
            g_autofree char *esc = tv_xml_esc(caps->cpu_models[i]);
            bool usable = !caps->cpu_usable || caps->cpu_usable[i];
            tv_xml_line(w, "<model usable='%s' vendor='unknown'>%s</model>", usable ? "yes" : "no",
                        esc);
        }
        w->indent--;
        tv_xml_line(w, "</mode>");
    }
    w->indent--;
    tv_xml_line(w, "</cpu>");
}

char *tv_domain_caps_format(const TvDomainCaps *caps)
{
    static const char *const loader_types[] = { "rom", "pflash", NULL };
    static const char *const yes_no[] = { "yes", "no", NULL };
    static const char *const firmware_values[] = { "efi", NULL };
    static const char *const secure_values[] = { "no", NULL };
    static const char *const disk_devices[] = { "disk", NULL };
    static const char *const disk_buses[] = { "virtio", NULL };
    static const char *const rng_models[] = { "virtio", NULL };
    static const char *const rng_backends[] = { "random", NULL };
    TvXmlWriter w;
    g_autofree char *path = tv_xml_esc(caps->path);
    g_autofree char *machine = tv_xml_esc(caps->machine);

    tv_xml_writer_init(&w);
    tv_xml_line(&w, "<domainCapabilities>");
    w.indent++;
    tv_xml_line(&w, "<path>%s</path>", path);
    tv_xml_line(&w, "<domain>%s</domain>", caps->domain);
    tv_xml_line(&w, "<machine>%s</machine>", machine);
    tv_xml_line(&w, "<arch>%s</arch>", caps->arch);
    tv_xml_line(&w, "<vcpu max='%u'/>", caps->max_vcpus);
    tv_xml_line(&w, "<iothreads supported='no'/>");
    tv_xml_line(&w, "<os supported='yes'>");
    w.indent++;
    format_enum(&w, "firmware", caps->firmware_efi ? firmware_values : NULL);
    if (caps->loader_supported) {
        tv_xml_line(&w, "<loader supported='yes'>");
        w.indent++;
        for (char **v = caps->loader_values; v && *v; v++) {
            g_autofree char *esc = tv_xml_esc(*v);
            tv_xml_line(&w, "<value>%s</value>", esc);
        }
        format_enum(&w, "type", loader_types);
        format_enum(&w, "readonly", yes_no);
        /* secure='yes' (SMM-protected flash) is x86 only */
        format_enum(&w, "secure", secure_values);
        w.indent--;
        tv_xml_line(&w, "</loader>");
    } else {
        tv_xml_line(&w, "<loader supported='no'/>");
    }
    w.indent--;
    tv_xml_line(&w, "</os>");
    format_cpu(&w, caps);
    tv_xml_line(&w, "<devices>");
    w.indent++;
    tv_xml_line(&w, "<disk supported='%s'>", caps->disk_supported ? "yes" : "no");
    w.indent++;
    format_enum(&w, "diskDevice", disk_devices);
    format_enum(&w, "bus", disk_buses);
    w.indent--;
    tv_xml_line(&w, "</disk>");
    tv_xml_line(&w, "<graphics supported='no'/>");
    tv_xml_line(&w, "<video supported='no'/>");
    tv_xml_line(&w, "<hostdev supported='no'/>");
    tv_xml_line(&w, "<rng supported='%s'>", caps->rng_supported ? "yes" : "no");
    w.indent++;
    format_enum(&w, "model", rng_models);
    format_enum(&w, "backendModel", rng_backends);
    w.indent--;
    tv_xml_line(&w, "</rng>");
    if (caps->filesystem_supported) {
        static const char *const fs_drivers[] = { "default", "path", NULL };
        tv_xml_line(&w, "<filesystem supported='yes'>");
        w.indent++;
        format_enum(&w, "driverType", fs_drivers);
        w.indent--;
        tv_xml_line(&w, "</filesystem>");
    } else {
        tv_xml_line(&w, "<filesystem supported='no'/>");
    }
    format_tpm(&w, caps->tpm_supported);
    if (caps->redirdev_supported) {
        static const char *const redirdev_buses[] = { "usb", NULL };
        tv_xml_line(&w, "<redirdev supported='yes'>");
        w.indent++;
        format_enum(&w, "bus", redirdev_buses);
        w.indent--;
        tv_xml_line(&w, "</redirdev>");
    } else {
        tv_xml_line(&w, "<redirdev supported='no'/>");
    }
    w.indent--;
    tv_xml_line(&w, "</devices>");
    tv_xml_line(&w, "<features>");
    w.indent++;
    format_version_feature(&w, "gic", caps->gic_supported, caps->gic_versions);
    tv_xml_line(&w, "<vmcoreinfo supported='yes'/>");
    tv_xml_line(&w, "<genid supported='no'/>");
    tv_xml_line(&w, "<sev supported='no'/>");
    format_version_feature(&w, "mte", caps->mte_supported, caps->mte_versions);
    w.indent--;
    tv_xml_line(&w, "</features>");
    w.indent--;
    tv_xml_line(&w, "</domainCapabilities>");
    return tv_xml_writer_finish(&w);
}
