/* Domain XML formatter: <devices>, in libvirt's order (emulator, disks,
 * controllers, interfaces, serials, consoles, memballoon, rngs). */
#include "domain_parse_priv.h"

static void format_disk(TvXmlWriter *w, const TvDomainDisk *disk)
{
    g_autofree char *path = tv_xml_esc(disk->path);
    g_autofree char *dev = tv_xml_esc(disk->target_dev);
    tv_xml_line(w, "<disk type='file' device='disk'>");
    w->indent++;
    if (disk->format != TV_DISK_FORMAT_DEFAULT)
        tv_xml_line(w, "<driver name='qemu' type='%s'/>", tv_disk_format_to_string(disk->format));
    tv_xml_line(w, "<source file='%s'/>", path);
    tv_xml_line(w, "<target dev='%s' bus='virtio'/>", dev);
    tv_domain_device_boot_format(w, disk->boot_order);
    if (disk->readonly)
        tv_xml_line(w, "<readonly/>");
    w->indent--;
    tv_xml_line(w, "</disk>");
}

static void format_net(TvXmlWriter *w, const TvDomainNet *net)
{
    tv_xml_line(w, "<interface type='%s'>", tv_net_type_to_string(net->type));
    w->indent++;
    if (net->mac) {
        g_autofree char *mac = tv_xml_esc(net->mac);
        tv_xml_line(w, "<mac address='%s'/>", mac);
    }
    if (net->ifname) {
        g_autofree char *ifname = tv_xml_esc(net->ifname);
        tv_xml_line(w, "<target dev='%s'/>", ifname);
    }
    if (net->model) {
        g_autofree char *model = tv_xml_esc(net->model);
        tv_xml_line(w, "<model type='%s'/>", model);
    }
    tv_domain_device_boot_format(w, net->boot_order);
    w->indent--;
    tv_xml_line(w, "</interface>");
}

static void format_chr(TvXmlWriter *w, const char *element, const TvDomainChr *chr, bool live)
{
    tv_xml_line(w, "<%s type='%s'>", element, tv_chr_type_to_string(chr->type));
    w->indent++;
    /* a pty's path is what start allocated: live and status XML only */
    if (chr->path && (chr->type != TV_CHR_TYPE_PTY || live)) {
        g_autofree char *path = tv_xml_esc(chr->path);
        if (chr->type == TV_CHR_TYPE_UNIX && chr->unix_mode != TV_CHR_UNIX_MODE_DEFAULT)
            tv_xml_line(w, "<source mode='%s' path='%s'/>",
                        tv_chr_unix_mode_to_string(chr->unix_mode), path);
        else
            tv_xml_line(w, "<source path='%s'/>", path);
    }
    if (g_str_equal(element, "console"))
        tv_xml_line(w, "<target type='serial' port='%u'/>", chr->port);
    else
        tv_xml_line(w, "<target port='%u'/>", chr->port);
    w->indent--;
    tv_xml_line(w, "</%s>", element);
}

static void format_rng(TvXmlWriter *w, const TvDomainRng *rng)
{
    g_autofree char *path = tv_xml_esc(rng->backend_path);
    tv_xml_line(w, "<rng model='virtio'>");
    w->indent++;
    tv_xml_line(w, "<backend model='random'>%s</backend>", path);
    w->indent--;
    tv_xml_line(w, "</rng>");
}

static bool devices_empty(const TvDomainDevices *devs)
{
    return !devs->emulator && !devs->ndisks && !devs->nnets && !devs->nserials &&
           !devs->nconsoles && !devs->nrngs && devs->memballoon == TV_BALLOON_MODEL_DEFAULT &&
           !devs->usb_none;
}

void tv_domain_format_devices(TvXmlWriter *w, const TvDomainDevices *devs, unsigned flags)
{
    bool live = (flags & (TV_DOMAIN_FORMAT_LIVE | TV_DOMAIN_FORMAT_STATUS)) &&
                !(flags & TV_DOMAIN_FORMAT_MIGRATABLE);
    if (devices_empty(devs))
        return;
    tv_xml_line(w, "<devices>");
    w->indent++;
    if (devs->emulator) {
        g_autofree char *emulator = tv_xml_esc(devs->emulator);
        tv_xml_line(w, "<emulator>%s</emulator>", emulator);
    }
    for (size_t i = 0; i < devs->ndisks; i++)
        format_disk(w, devs->disks[i]);
    if (devs->usb_none)
        tv_xml_line(w, "<controller type='usb' model='none'/>");
    for (size_t i = 0; i < devs->nnets; i++)
        format_net(w, devs->nets[i]);
    for (size_t i = 0; i < devs->nserials; i++)
        format_chr(w, "serial", devs->serials[i], live);
    for (size_t i = 0; i < devs->nconsoles; i++)
        format_chr(w, "console", devs->consoles[i], live);
    if (devs->memballoon != TV_BALLOON_MODEL_DEFAULT)
        tv_xml_line(w, "<memballoon model='%s'/>", tv_balloon_model_to_string(devs->memballoon));
    for (size_t i = 0; i < devs->nrngs; i++)
        format_rng(w, devs->rngs[i]);
    w->indent--;
    tv_xml_line(w, "</devices>");
}
