/* <host> of the capabilities as libvirt writes it: uuid, <cpu> (arch,
 * model, vendor, topology, features, page sizes), power management,
 * IOMMU, and <topology><cells> (memory, pages, distances, CPUs with their
 * socket, die, core and thread siblings), which Nova's resource tracker and
 * NUMA placement read. */
#include "qemu_driver_priv.h"
#include "qemu_host_cpu.h"
#include "tv_error.h"

#include <string.h>

/* /etc/machine-id as a UUID, else one derived from the host name. */
static void host_uuid(char out[TV_UUID_STRLEN + 1])
{
    unsigned char uuid[TV_UUID_LEN];
    g_autofree char *id = NULL;
    if (g_file_get_contents("/etc/machine-id", &id, NULL, NULL) &&
        tv_uuid_parse(g_strstrip(id), uuid) == 0) {
        tv_uuid_format(uuid, out);
        return;
    }
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, g_get_host_name(), -1);
    for (size_t i = 0; i < TV_UUID_LEN; i++)
        uuid[i] = (unsigned char)(g_ascii_xdigit_value(sum[2 * i]) << 4 |
                                  g_ascii_xdigit_value(sum[2 * i + 1]));
    tv_uuid_format(uuid, out);
}

static void format_cpu(TvQemuDriver *drv, const TvHostTopology *topo, TvXmlWriter *w)
{
    g_autoptr(TvHostCpuModel) cpu = tv_host_cpu_model_read(drv->host);
    g_autofree char *arch = tv_xml_esc(drv->host->arch ? drv->host->arch : "x86_64");
    tv_xml_line(w, "<cpu>");
    w->indent++;
    tv_xml_line(w, "<arch>%s</arch>", arch);
    if (cpu->model) {
        g_autofree char *model = tv_xml_esc(cpu->model);
        tv_xml_line(w, "<model>%s</model>", model);
    }
    if (cpu->vendor) {
        g_autofree char *vendor = tv_xml_esc(cpu->vendor);
        tv_xml_line(w, "<vendor>%s</vendor>", vendor);
    }
    tv_xml_line(w, "<topology sockets='%u' dies='1' cores='%u' threads='%u'/>", topo->sockets,
                topo->cores, topo->threads);
    for (char **f = cpu->features; f && *f; f++)
        tv_xml_line(w, "<feature name='%s'/>", *f); /* hwcap words: no escaping needed */
    if (topo->ncells > 0) {
        const TvHostCell *c = &topo->cells[0];
        for (size_t i = 0; i < c->npages; i++)
            tv_xml_line(w, "<pages unit='KiB' size='%llu'/>", c->pages[i].size_kib);
    }
    w->indent--;
    tv_xml_line(w, "</cpu>");
}

static void format_cell(const TvHostTopology *topo, const TvHostCell *cell, TvXmlWriter *w)
{
    tv_xml_line(w, "<cell id='%u'>", cell->id);
    w->indent++;
    tv_xml_line(w, "<memory unit='KiB'>%llu</memory>", cell->memory_kib);
    for (size_t i = 0; i < cell->npages; i++)
        tv_xml_line(w, "<pages unit='KiB' size='%llu'>%llu</pages>", cell->pages[i].size_kib,
                    cell->pages[i].total);
    if (cell->distances) {
        tv_xml_line(w, "<distances>");
        w->indent++;
        for (size_t i = 0; i < topo->ncells; i++)
            tv_xml_line(w, "<sibling id='%u' value='%u'/>", topo->cells[i].id, cell->distances[i]);
        w->indent--;
        tv_xml_line(w, "</distances>");
    }
    tv_xml_line(w, "<cpus num='%zu'>", cell->ncpus);
    w->indent++;
    for (size_t i = 0; i < cell->ncpus; i++) {
        const TvHostCpu *c = &cell->cpus[i];
        if (!c->online) { /* libvirt lists an offline CPU by its id alone */
            tv_xml_line(w, "<cpu id='%u'/>", c->id);
            continue;
        }
        g_autofree char *sib = tv_xml_esc(c->siblings ? c->siblings : "");
        tv_xml_line(w, "<cpu id='%u' socket_id='%d' die_id='%d' core_id='%d' siblings='%s'/>",
                    c->id, c->socket_id, c->die_id, c->core_id, sib);
    }
    w->indent--;
    tv_xml_line(w, "</cpus>");
    w->indent--;
    tv_xml_line(w, "</cell>");
}

void tv_driver_format_host(TvQemuDriver *drv, const TvHostTopology *topo, TvXmlWriter *w)
{
    char uuid[TV_UUID_STRLEN + 1];
    host_uuid(uuid);
    tv_xml_line(w, "<host>");
    w->indent++;
    tv_xml_line(w, "<uuid>%s</uuid>", uuid);
    format_cpu(drv, topo, w);
    tv_xml_line(w, "<power_management/>");
    tv_xml_line(w, "<iommu support='no'/>");
    tv_xml_line(w, "<topology>");
    w->indent++;
    tv_xml_line(w, "<cells num='%zu'>", topo->ncells);
    w->indent++;
    for (size_t i = 0; i < topo->ncells; i++)
        format_cell(topo, &topo->cells[i], w);
    w->indent--;
    tv_xml_line(w, "</cells>");
    w->indent--;
    tv_xml_line(w, "</topology>");
    w->indent--;
    tv_xml_line(w, "</host>");
}
