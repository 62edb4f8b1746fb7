/* What the host offers: <capabilities> in libvirt's format, domain
 * capabilities (kept formatted in memory per emulator and caps), node info. */
#include "qemu_domaincaps.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"
#include "tv_xml.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

typedef struct {
    TvQemuCaps *from; /* a reference: the entry is good while these caps are current */
    char *xml;
} DomCapsEntry;

static void domcaps_entry_free(DomCapsEntry *e)
{
    tv_qemu_caps_unref(e->from);
    g_free(e->xml);
    g_free(e);
}

void tv_driver_host_init(TvQemuDriver *drv)
{
    drv->domcaps =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)domcaps_entry_free);
}

void tv_driver_host_clear(TvQemuDriver *drv)
{
    g_clear_pointer(&drv->domcaps, g_hash_table_destroy);
    g_clear_pointer(&drv->caps_xml, g_free);
    g_clear_pointer(&drv->caps_xml_from, tv_qemu_caps_unref);
}

char *tv_qemu_driver_domain_capabilities(TvQemuDriver *drv, const char *emulator, const char *arch,
                                         const char *machine, const char *virttype)
{
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, emulator);
    if (!caps)
        return NULL;
    g_autofree char *key = g_strdup_printf("%s\n%s\n%s\n%s", caps->binary, arch ? arch : "",
                                           machine ? machine : "", virttype ? virttype : "");
    g_mutex_lock(&drv->host_lock);
    DomCapsEntry *e = g_hash_table_lookup(drv->domcaps, key);
    char *xml = e && e->from == caps ? g_strdup(e->xml) : NULL;
    g_mutex_unlock(&drv->host_lock);
    if (xml)
        return xml;

    g_autoptr(TvDomainCaps) dc = tv_qemu_domain_caps(caps, drv->host, machine, arch, virttype);
    if (!dc)
        return NULL;
    xml = tv_domain_caps_format(dc);
    e = g_new0(DomCapsEntry, 1);
    e->from = tv_qemu_caps_ref(caps); /* held: a pointer alone could be reused */
    e->xml = g_strdup(xml);
    g_mutex_lock(&drv->host_lock);
    g_hash_table_replace(drv->domcaps, g_steal_pointer(&key), e);
    g_mutex_unlock(&drv->host_lock);
    return xml;
}

static void format_guest(TvQemuDriver *drv, const TvQemuCaps *caps, TvXmlWriter *w)
{
    g_autofree char *arch = tv_xml_esc(caps->arch ? caps->arch : "aarch64");
    g_autofree char *emulator = tv_xml_esc(caps->binary ? caps->binary : drv->emulator);
    tv_xml_line(w, "<guest>");
    w->indent++;
    tv_xml_line(w, "<os_type>hvm</os_type>");
    tv_xml_line(w, "<arch name='%s'>", arch);
    w->indent++;
    tv_xml_line(w, "<wordsize>64</wordsize>");
    tv_xml_line(w, "<emulator>%s</emulator>", emulator);
    for (size_t i = 0; i < caps->nmachines; i++) {
        const TvQemuMachine *m = &caps->machines[i];
        g_autofree char *name = tv_xml_esc(m->name);
        g_autofree char *dep = g_strdup(m->deprecated ? " deprecated='yes'" : "");
        tv_xml_line(w, "<machine maxCpus='%u'%s>%s</machine>", m->max_cpus, dep, name);
        if (m->alias) {
            g_autofree char *alias = tv_xml_esc(m->alias);
            tv_xml_line(w, "<machine canonical='%s' maxCpus='%u'%s>%s</machine>", name, m->max_cpus,
                        dep, alias);
        }
    }
    if (tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_TCG))
        tv_xml_line(w, "<domain type='qemu'/>");
    if (tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_KVM) && tv_host_kvm_usable(drv->host))
        tv_xml_line(w, "<domain type='kvm'/>");
    w->indent--;
    tv_xml_line(w, "</arch>");
    tv_xml_line(w, "<features>");
    w->indent++;
    tv_xml_line(w, "<cpuselection/>");
    tv_xml_line(w, "<deviceboot/>");
    w->indent--;
    tv_xml_line(w, "</features>");
    w->indent--;
    tv_xml_line(w, "</guest>");
}

char *tv_qemu_driver_capabilities(TvQemuDriver *drv)
{
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
    if (!caps) {
        tv_error_prefix("cannot describe the host's capabilities");
        return NULL;
    }
    /* kept while the emulator's caps and the host's online CPUs stay the same */
    g_autoptr(TvDriverTopology) topo = tv_driver_topology_get(drv);
    g_mutex_lock(&drv->host_lock);
    char *xml = drv->caps_xml && drv->caps_xml_from == caps &&
                        drv->caps_xml_topo == tv_driver_topology_generation(topo)
                    ? g_strdup(drv->caps_xml)
                    : NULL;
    g_mutex_unlock(&drv->host_lock);
    if (xml)
        return xml;

    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_xml_line(&w, "<capabilities>");
    w.indent++;
    tv_driver_format_host(drv, tv_driver_topology_of(topo), &w);
    format_guest(drv, caps, &w);
    w.indent--;
    tv_xml_line(&w, "</capabilities>");
    xml = tv_xml_writer_finish(&w);
    g_mutex_lock(&drv->host_lock);
    g_free(drv->caps_xml);
    drv->caps_xml = g_strdup(xml);
    tv_qemu_caps_unref(drv->caps_xml_from);
    drv->caps_xml_from = tv_qemu_caps_ref(caps);
    drv->caps_xml_topo = tv_driver_topology_generation(topo);
    g_mutex_unlock(&drv->host_lock);
    return xml;
}
