/* Domain XML formatter: <devices>, in libvirt's order (emulator, disks,
 * controllers, interfaces, serials, consoles, inputs, graphics, audio,
 * video, memballoon, rngs). */
#include "domain_parse_priv.h"
#include "domain_redirdev_priv.h"

static void format_net(TvXmlWriter *w, const TvDomainNet *net, bool live, bool status)
{
    tv_xml_line(w, "<interface type='%s'>", tv_net_type_to_string(net->type));
    w->indent++;
    if (net->mac) {
        g_autofree char *mac = tv_xml_esc(net->mac);
        tv_xml_line(w, "<mac address='%s'/>", mac);
    }
    if (net->type == TV_NET_TYPE_NETWORK) {
        /* live: the bridge the tap joined, as libvirt shows it */
        g_autofree char *network = tv_xml_esc(net->network);
        g_autofree char *group = net->portgroup ? tv_xml_esc(net->portgroup) : NULL;
        g_autofree char *bridge = live && net->bridge ? tv_xml_esc(net->bridge) : NULL;
        tv_xml_line(w, "<source network='%s'%s%s%s%s%s%s/>", network, group ? " portgroup='" : "",
                    group ? group : "", group ? "'" : "", bridge ? " bridge='" : "",
                    bridge ? bridge : "", bridge ? "'" : "");
    } else if (net->bridge) {
        g_autofree char *bridge = tv_xml_esc(net->bridge);
        tv_xml_line(w, "<source bridge='%s'/>", bridge);
    }
    /* a tap the kernel named is the running domain's */
    if (net->ifname && (live || !net->ifname_generated)) {
        g_autofree char *ifname = tv_xml_esc(net->ifname);
        tv_xml_line(w, "<target dev='%s'%s%s/>", ifname, net->unmanaged ? " managed='no'" : "",
                    status && net->ifname_generated ? " generated='yes'" : "");
    }
    if (net->model) {
        g_autofree char *model = tv_xml_esc(net->model);
        tv_xml_line(w, "<model type='%s'/>", model);
    }
    if (net->driver_qemu)
        tv_xml_line(w, "<driver name='qemu'/>");
    if (net->link != TV_NET_LINK_DEFAULT)
        tv_xml_line(w, "<link state='%s'/>", tv_net_link_state_to_string(net->link));
    if (net->mtu)
        tv_xml_line(w, "<mtu size='%u'/>", net->mtu);
    tv_domain_device_boot_format(w, net->boot_order);
    tv_domain_alias_format(w, net->alias, live);
    tv_domain_address_format(w, &net->address);
    w->indent--;
    tv_xml_line(w, "</interface>");
}

static void format_rng(TvXmlWriter *w, const TvDomainRng *rng, bool live)
{
    g_autofree char *path = tv_xml_esc(rng->backend_path);
    tv_xml_line(w, "<rng model='virtio'>");
    w->indent++;
    tv_xml_line(w, "<backend model='random'>%s</backend>", path);
    tv_domain_alias_format(w, rng->alias, live);
    tv_domain_address_format(w, &rng->address);
    w->indent--;
    tv_xml_line(w, "</rng>");
}

static bool devices_empty(const TvDomainDevices *devs)
{
    return !devs->emulator && !devs->ndisks && !devs->nnets && !devs->nserials &&
           !devs->nconsoles && !devs->nrngs && devs->memballoon == TV_BALLOON_MODEL_DEFAULT &&
           !devs->ncontrollers && !devs->ninputs && !devs->ngraphics && !devs->naudios &&
           !devs->nvideos && !devs->nchannels && !devs->npanics && !devs->nwatchdogs &&
           !devs->nsounds && !devs->nfilesystems && !devs->vsock && !devs->tpm &&
           !devs->nsmartcards && !devs->nredirdevs && !devs->redirfilter;
}

void tv_domain_format_devices(TvXmlWriter *w, const TvDomainDevices *devs, unsigned flags)
{
    bool live = (flags & (TV_DOMAIN_FORMAT_LIVE | TV_DOMAIN_FORMAT_STATUS)) &&
                !(flags & TV_DOMAIN_FORMAT_MIGRATABLE);
    bool status = (flags & TV_DOMAIN_FORMAT_STATUS) != 0;
    if (devices_empty(devs))
        return;
    tv_xml_line(w, "<devices>");
    w->indent++;
    if (devs->emulator) {
        g_autofree char *emulator = tv_xml_esc(devs->emulator);
        tv_xml_line(w, "<emulator>%s</emulator>", emulator);
    }
    for (size_t i = 0; i < devs->ndisks; i++)
        tv_domain_format_disk(w, devs->disks[i], live);
    for (size_t i = 0; i < devs->ncontrollers; i++)
        tv_domain_format_controller(w, devs->controllers[i], live);
    for (size_t i = 0; i < devs->nfilesystems; i++)
        tv_domain_format_filesystem(w, devs->filesystems[i]);
    for (size_t i = 0; i < devs->nnets; i++)
        format_net(w, devs->nets[i], live, status);
    for (size_t i = 0; i < devs->nsmartcards; i++)
        tv_domain_format_smartcard(w, devs->smartcards[i], live);
    for (size_t i = 0; i < devs->nserials; i++)
        tv_domain_format_chr(w, TV_CHR_KIND_SERIAL, devs->serials[i], live, status);
    for (size_t i = 0; i < devs->nconsoles; i++)
        tv_domain_format_chr(w, TV_CHR_KIND_CONSOLE, devs->consoles[i], live, status);
    for (size_t i = 0; i < devs->nchannels; i++)
        tv_domain_format_chr(w, TV_CHR_KIND_CHANNEL, devs->channels[i], live, status);
    for (size_t i = 0; i < devs->ninputs; i++)
        tv_domain_format_input(w, devs->inputs[i], live);
    if (devs->tpm)
        tv_domain_format_tpm(w, devs->tpm, live);
    for (size_t i = 0; i < devs->ngraphics; i++)
        tv_domain_format_graphics(w, devs->graphics[i], live);
    for (size_t i = 0; i < devs->nsounds; i++)
        tv_domain_format_sound(w, devs->sounds[i]);
    for (size_t i = 0; i < devs->naudios; i++)
        tv_domain_format_audio(w, devs->audios[i]);
    for (size_t i = 0; i < devs->nvideos; i++)
        tv_domain_format_video(w, devs->videos[i]);
    for (size_t i = 0; i < devs->nwatchdogs; i++)
        tv_domain_format_watchdog(w, devs->watchdogs[i], live);
    for (size_t i = 0; i < devs->nredirdevs; i++)
        tv_domain_format_redirdev(w, devs->redirdevs[i], live);
    if (devs->redirfilter)
        tv_domain_format_redirfilter(w, devs->redirfilter);
    if (devs->memballoon != TV_BALLOON_MODEL_DEFAULT)
        tv_domain_format_memballoon(w, devs);
    for (size_t i = 0; i < devs->nrngs; i++)
        format_rng(w, devs->rngs[i], live);
    for (size_t i = 0; i < devs->npanics; i++)
        tv_domain_format_panic(w, devs->panics[i]);
    if (devs->vsock)
        tv_domain_format_vsock(w, devs->vsock);
    w->indent--;
    tv_xml_line(w, "</devices>");
}
