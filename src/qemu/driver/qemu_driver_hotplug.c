/* attachDevice(Flags), detachDevice(Flags), detachDeviceAlias and
 * updateDeviceFlags with libvirt's live/config semantics (docs/formatdomain.rst,
 * "Attaching and detaching devices").
 *
 * The persistent definition (AFFECT_CONFIG) is its XML with the device
 * added or removed, loaded as a define loads it (every check of define
 * applies) and written atomically.  The running guest (AFFECT_LIVE) gets
 * the device through the runtime (runtime/qemu_process_hotplug.c): the
 * live definition with the device added is parsed and given defaults and
 * an address as at define, without new controllers, then QEMU gets the
 * objects the command line would have had.  With both flags both are
 * checked before either changes.  A detach waits up to 5 s for the guest to
 * let the device go (QEMU's DEVICE_DELETED), as libvirt does; after that it
 * returns and the removal ends when the event comes (DEVICE_REMOVED). */
#include "domain_device_match.h"
#include "domain_bus_address.h"
#include "qemu_driver_priv.h"
#include "qemu_process_redirdev.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <libxml/tree.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

#define UNPLUG_WAIT_MS 5000 /* libvirt's wait for the guest to release a device */

static int check_flags(unsigned flags, const char *what)
{
    if (flags & ~(unsigned)(TV_AFFECT_LIVE | TV_AFFECT_CONFIG)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "%s flags 0x%x are not supported; accepted: 0x1 (live), 0x2 (config)", what,
                        flags);
        return -1;
    }
    return 0;
}

/* The device element of xml (its root) in a document of its own, without
 * the <alias> a live XML carries (the running guest's, never the user's);
 * *alias (may be NULL) gets it: a detach of a device copied from the live
 * XML finds that very device by it (virt-manager's Remove). */
static xmlDocPtr parse_device(const char *xml, xmlNodePtr *dev, char **alias)
{
    if (!xml) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no device XML given");
        return NULL;
    }
    xmlDocPtr doc = tv_xml_parse(xml, strlen(xml), "device XML");
    if (!doc)
        return NULL;
    *dev = xmlDocGetRootElement(doc);
    if (!*dev) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "device XML has no element");
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlNodePtr node;
    while ((node = tv_xml_child(*dev, "alias"))) {
        if (alias && !*alias)
            *alias = tv_xml_prop(node, "name");
        xmlUnlinkNode(node);
        xmlFreeNode(node);
    }
    return doc;
}

/* xml (a domain) parsed, and its <devices> (made when missing). */
static xmlDocPtr parse_domain(const char *xml, xmlNodePtr *devices)
{
    xmlDocPtr doc = tv_xml_parse(xml, strlen(xml), "domain XML");
    if (!doc)
        return NULL;
    *devices = tv_xml_child(xmlDocGetRootElement(doc), "devices");
    if (!*devices)
        *devices = xmlNewChild(xmlDocGetRootElement(doc), NULL, BAD_CAST "devices", NULL);
    return doc;
}

static char *dump(xmlDocPtr doc)
{
    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpMemory(doc, &buf, &len);
    char *out = buf ? g_strndup((const char *)buf, (gsize)len) : NULL;
    xmlFree(buf);
    if (!out)
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "cannot format the new definition");
    return out;
}

static char *target_dev(xmlNodePtr disk)
{
    xmlNodePtr target = tv_xml_child(disk, "target");
    return target ? tv_xml_prop(target, "dev") : NULL;
}

static char *mac_of(xmlNodePtr iface)
{
    xmlNodePtr mac = tv_xml_child(iface, "mac");
    char *addr = mac ? tv_xml_prop(mac, "address") : NULL;
    char *low = addr ? g_ascii_strdown(addr, -1) : NULL;
    g_free(addr);
    return low;
}

static char *alias_of(xmlNodePtr dev)
{
    xmlNodePtr alias = tv_xml_child(dev, "alias");
    return alias ? tv_xml_prop(alias, "name") : NULL;
}

/* The <controller> of dev's type and index (0 when not written), as
 * libvirt finds one. */
static xmlNodePtr find_controller(xmlNodePtr devices, xmlNodePtr dev)
{
    g_autofree char *type = tv_xml_prop(dev, "type");
    g_autofree char *index = tv_xml_prop(dev, "index");
    if (!type) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                        "missing attribute 'type' of <controller>: a controller is found by its "
                        "type and index");
        return NULL;
    }
    const char *want = index ? index : "0";
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "controller") != 0)
            continue;
        g_autofree char *t = tv_xml_prop(n, "type");
        g_autofree char *i = tv_xml_prop(n, "index");
        if (t && strcmp(t, type) == 0 && strcmp(i ? i : "0", want) == 0)
            return n;
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "controller %s:%s not found", type, want);
    return NULL;
}

/* The attribute attr of dev's child child (or of dev: child NULL), else dflt. */
static char *attr_of(xmlNodePtr dev, const char *child, const char *attr, const char *dflt)
{
    xmlNodePtr n = child ? tv_xml_child(dev, child) : dev;
    char *v = n ? tv_xml_prop(n, attr) : NULL;
    return v ? v : g_strdup(dflt);
}

/* What tells one device of the families found by a key apart from another:
 * an rng's source, an input's type and bus, a watchdog's model, a channel's
 * target name, a console's target type, a serial's port; NULL: not found
 * by a key (disks, interfaces, controllers). */
static char *device_key(xmlNodePtr n)
{
    const char *kind = (const char *)n->name;
    if (strcmp(kind, "rng") == 0) {
        xmlNodePtr backend = tv_xml_child(n, "backend");
        char *text = backend ? tv_xml_text(backend) : NULL;
        return text ? text : g_strdup("");
    }
    if (strcmp(kind, "input") == 0) {
        g_autofree char *type = attr_of(n, NULL, "type", "");
        g_autofree char *bus = attr_of(n, NULL, "bus", "usb");
        return g_strdup_printf("%s/%s", type, bus);
    }
    if (strcmp(kind, "watchdog") == 0)
        return attr_of(n, NULL, "model", "");
    if (strcmp(kind, "channel") == 0)
        return attr_of(n, "target", "name", "");
    if (strcmp(kind, "console") == 0)
        return attr_of(n, "target", "type", "serial");
    if (strcmp(kind, "serial") == 0)
        return attr_of(n, "target", "port", "0");
    if (strcmp(kind, "tpm") == 0) /* the guest's one TPM (tpmcard) */
        return g_strdup("tpm");
    if (strcmp(kind, "smartcard") == 0) /* QEMU takes one smartcard: by its mode */
        return attr_of(n, NULL, "mode", "");
    if (strcmp(kind, "redirdev") == 0) { /* its type and socket (redirdev) */
        g_autofree char *type = attr_of(n, NULL, "type", "");
        g_autofree char *host = attr_of(n, "source", "host", "");
        g_autofree char *service = attr_of(n, "source", "service", "");
        g_autofree char *path = attr_of(n, "source", "path", "");
        return g_strdup_printf("%s %s%s%s%s", type, host, *service ? ":" : "", service, path);
    }
    return NULL;
}

/* The first <rng>, <input>, <watchdog>, <channel>, <console> or <serial>
 * with dev's key; hint: the alias dev had (a copy of the live XML's), which
 * names the device when one has it. */
static xmlNodePtr find_by_key(xmlNodePtr devices, xmlNodePtr dev, const char *hint)
{
    const char *kind = (const char *)dev->name;
    g_autofree char *want = device_key(dev);
    xmlNodePtr found = NULL;
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, kind) != 0)
            continue;
        g_autofree char *have = device_key(n);
        g_autofree char *alias = hint ? alias_of(n) : NULL;
        if (alias && strcmp(alias, hint) == 0)
            return n;
        if (!found && g_strcmp0(have, want) == 0)
            found = n;
    }
    if (!found)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no matching <%s> (%s) found", kind,
                        want);
    return found;
}

/* As libvirt: a disk by its target; an interface by its MAC, or the only
 * interface when no MAC is given; an rng, input, watchdog or character
 * device by its key (device_key); with alias, the device of that alias. */
static xmlNodePtr find_device(xmlNodePtr devices, xmlNodePtr dev, const char *alias,
                              const char *hint)
{
    const char *kind = dev ? (const char *)dev->name : NULL;
    g_autofree char *want = NULL;
    if (alias) {
        for (xmlNodePtr n = devices->children; n; n = n->next) {
            g_autofree char *have = n->type == XML_ELEMENT_NODE ? alias_of(n) : NULL;
            if (have && strcmp(have, alias) == 0)
                return n;
        }
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no device found with alias %s",
                        alias);
        return NULL;
    }
    if (strcmp(kind, "disk") == 0) {
        want = target_dev(dev);
        if (!want) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                            "missing <target dev='...'/> in <disk>: a disk to detach is found by "
                            "its target");
            return NULL;
        }
    } else if (strcmp(kind, "interface") == 0) {
        want = mac_of(dev);
    } else if (strcmp(kind, "controller") == 0) {
        return find_controller(devices, dev);
    } else if ((want = device_key(dev))) {
        return find_by_key(devices, dev, hint);
    } else {
        bool handled = false; /* sound, filesystem, vsock (domain_device_match.h) */
        xmlNodePtr n = tv_domain_xml_find_guest_device(devices, dev, &handled);
        if (handled)
            return n;
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "detaching <%s> is not supported; accepted: <disk> (by its target), "
                        "<interface> (by its MAC), <controller> (by its type and index), "
                        "<filesystem> (by its target dir), <sound> (by its model), <vsock>, "
                        "<rng>, <input>, <watchdog>, <channel>, <console>, <serial>, "
                        "<redirdev> (by its type and source)",
                        kind);
        return NULL;
    }
    xmlNodePtr found = NULL;
    unsigned matches = 0;
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, kind) != 0)
            continue;
        g_autofree char *have = strcmp(kind, "disk") == 0 ? target_dev(n) : mac_of(n);
        if (want && (!have || strcmp(have, want) != 0))
            continue;
        found = n;
        matches++;
    }
    if (matches == 1)
        return found;
    if (matches > 1) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "multiple matching <interface> devices found: give the <mac address> "
                        "of the one to detach");
        return NULL;
    }
    if (strcmp(kind, "disk") == 0)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no target device %s", want);
    else if (want)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING,
                        "no device matching MAC address %s found", want);
    else
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no <interface> found to detach");
    return NULL;
}

/* -1 with an error when controller ctrl of definition xml cannot go: it
 * is not a SCSI or virtio-serial controller, or something is on it. */
static int controller_busy(TvQemuDriver *drv, const char *xml, xmlNodePtr ctrl)
{
    g_autofree char *type = tv_xml_prop(ctrl, "type");
    g_autofree char *index = tv_xml_prop(ctrl, "index");
    g_autoptr(TvDomainDef) def =
        tv_qemu_domain_load(&drv->pipe, xml, strlen(xml), TV_DOMAIN_PARSE_DEFAULT, NULL);
    if (!def)
        return -1;
    int t = type ? tv_controller_type_from_string(type) : -1;
    const TvDomainController *c =
        t > 0 ? tv_domain_controller_find(def, (TvControllerType)t,
                                          (unsigned)g_ascii_strtoull(index ? index : "0", NULL, 10))
              : NULL;
    if (!c) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "controller %s:%s not found",
                        type ? type : "", index ? index : "0");
        return -1;
    }
    return tv_domain_controller_check_removal(def, c);
}

/* The persistent definition with dev added (add) or the device it names
 * removed, loaded as define loads it; NULL with an error. */
static TvDomainDef *config_edit(TvQemuDriver *drv, TvDriverDomain *dom, xmlNodePtr dev,
                                const char *alias, const char *hint, bool add)
{
    g_autofree char *xml = tv_qemu_driver_get_xml(drv, dom->uuid, TV_XML_INACTIVE | TV_XML_SECURE);
    xmlNodePtr devices = NULL;
    g_autoptr(xmlDoc) doc = xml ? parse_domain(xml, &devices) : NULL;
    if (!doc)
        return NULL;
    if (add) {
        xmlAddChild(devices, xmlDocCopyNode(dev, doc, 1));
    } else {
        xmlNodePtr old = find_device(devices, dev, alias, hint);
        if (!old || (strcmp((const char *)old->name, "controller") == 0 &&
                     controller_busy(drv, xml, old) < 0))
            return NULL;
        xmlUnlinkNode(old);
        xmlFreeNode(old);
    }
    g_autofree char *text = dump(doc);
    TvDomainDef *def =
        text ? tv_qemu_domain_load(&drv->pipe, text, strlen(text), TV_DOMAIN_PARSE_DEFAULT, NULL)
             : NULL;
    if (!def && add)
        tv_error_prefix("cannot attach <%s>", (const char *)dev->name);
    return def;
}

/* The devices of def that hot-plug adds and removes. */
static size_t pluggable_count(const TvDomainDef *def)
{
    const TvDomainDevices *d = &def->devices;
    return d->ndisks + d->nnets + d->ncontrollers + d->nrngs + d->ninputs + d->nwatchdogs +
           d->nserials + d->nconsoles + d->nchannels + d->nredirdevs;
}

/* The running guest's definition (status XML) with dev added, given
 * defaults and an address for hot-plug. */
static TvDomainDef *live_with(TvQemuDriver *drv, TvDriverRun *run, xmlNodePtr dev,
                              TvQemuCaps **caps)
{
    g_autoptr(TvDomainDef) live = tv_qemu_process_copy_def(run->proc);
    g_autofree char *xml = live ? tv_domain_def_format(live, TV_DOMAIN_FORMAT_STATUS) : NULL;
    xmlNodePtr devices = NULL;
    g_autoptr(xmlDoc) doc = xml ? parse_domain(xml, &devices) : NULL;
    if (!doc)
        return NULL;
    xmlAddChild(devices, xmlDocCopyNode(dev, doc, 1));
    g_autofree char *text = dump(doc);
    g_autoptr(TvDomainDef) next =
        text ? tv_domain_def_parse(text, strlen(text), TV_DOMAIN_PARSE_STATUS) : NULL;
    if (!next)
        return NULL;
    g_autofree char *target = strcmp((const char *)dev->name, "disk") == 0 ? target_dev(dev) : NULL;
    g_autofree char *ctype = tv_xml_prop(dev, "type");
    g_autofree char *what = target ? g_strdup_printf("<disk> '%s'", target)
                            : strcmp((const char *)dev->name, "controller") == 0
                                ? g_strdup_printf("<controller type='%s'>", ctype ? ctype : "")
                                : g_strdup_printf("<%s>", (const char *)dev->name);
    *caps = tv_driver_caps(drv, tv_driver_emulator_of(drv, next));
    if (!*caps || tv_qemu_domain_post_parse_hotplug(next, what) < 0 ||
        tv_qemu_validate_devices(next, *caps) < 0 || tv_domain_boot_check(next) < 0)
        return NULL;
    if (pluggable_count(next) != pluggable_count(live) + 1) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "%s: the running guest's definition did not take exactly one device", what);
        return NULL;
    }
    return g_steal_pointer(&next);
}

/* libvirt's refusal of a controller QEMU cannot take into a PCIe root port. */
static int controller_pluggable(xmlNodePtr dev)
{
    g_autofree char *type = tv_xml_prop(dev, "type");
    if (type && (strcmp(type, "scsi") == 0 || strcmp(type, "virtio-serial") == 0))
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                    "'%s' controller cannot be hot plugged: only 'scsi' (virtio-scsi) and "
                    "'virtio-serial' controllers can (use --config for the next start)",
                    type ? type : "");
    return -1;
}

/* The controller of next that live lacks (the one being attached). */
static ssize_t new_controller(const TvDomainDef *live, const TvDomainDef *next)
{
    for (size_t i = 0; i < next->devices.ncontrollers; i++) {
        const TvDomainController *c = next->devices.controllers[i];
        if (!tv_domain_controller_find(live, c->type, (unsigned)c->index))
            return (ssize_t)i;
    }
    return -1;
}

/* The last of a device list (the one live_with added) out of it. */
#define TAKE_LAST(list, n) ((list)[--(n)])

/* Hot-plug of the device of kind that next has last in its list: an rng,
 * input, watchdog, character device or redirdev.  *alias gets its alias. */
static int attach_more(TvQemuProcess *proc, const char *kind, TvDomainDef *next,
                       const TvQemuProcessConfig *cfg, char **alias)
{
    TvDomainDevices *d = &next->devices;
    int rc = -1;
    if (strcmp(kind, "rng") == 0) {
        TvDomainRng *r = TAKE_LAST(d->rngs, d->nrngs);
        if ((rc = tv_qemu_process_attach_rng(proc, r, cfg)) < 0)
            tv_domain_rng_free(r);
        *alias = rc == 0 ? g_strdup(r->alias) : NULL;
    } else if (strcmp(kind, "input") == 0) {
        TvDomainInput *in = TAKE_LAST(d->inputs, d->ninputs);
        if ((rc = tv_qemu_process_attach_input(proc, in)) < 0)
            tv_domain_input_free(in);
        *alias = rc == 0 ? g_strdup(in->alias) : NULL;
    } else if (strcmp(kind, "watchdog") == 0) {
        TvDomainWatchdog *wd = TAKE_LAST(d->watchdogs, d->nwatchdogs);
        if ((rc = tv_qemu_process_attach_watchdog(proc, wd)) < 0)
            tv_domain_watchdog_free(wd);
        *alias = rc == 0 ? g_strdup(wd->alias) : NULL;
    } else if (strcmp(kind, "redirdev") == 0) {
        TvDomainRedirdev *r = TAKE_LAST(d->redirdevs, d->nredirdevs);
        if ((rc = tv_qemu_process_attach_redirdev(proc, next, r)) < 0)
            tv_domain_redirdev_free(r);
        *alias = rc == 0 ? g_strdup(r->alias) : NULL;
    } else {
        TvChrKind ck = strcmp(kind, "channel") == 0   ? TV_CHR_KIND_CHANNEL
                       : strcmp(kind, "console") == 0 ? TV_CHR_KIND_CONSOLE
                                                      : TV_CHR_KIND_SERIAL;
        TvDomainChr *c = ck == TV_CHR_KIND_CHANNEL   ? TAKE_LAST(d->channels, d->nchannels)
                         : ck == TV_CHR_KIND_CONSOLE ? TAKE_LAST(d->consoles, d->nconsoles)
                                                     : TAKE_LAST(d->serials, d->nserials);
        if ((rc = tv_qemu_process_attach_chr(proc, ck, c, cfg)) < 0)
            tv_domain_chr_free(c);
        *alias = rc == 0 ? g_strdup(c->alias) : NULL;
    }
    return rc;
}

static bool live_pluggable(const char *kind)
{
    static const char *const kinds[] = { "disk",   "interface", "controller", "rng",
                                         "input",  "watchdog",  "channel",    "console",
                                         "serial", "redirdev",  NULL };
    return g_strv_contains(kinds, kind);
}

static int attach_live(TvQemuDriver *drv, TvDriverDomain *dom, xmlNodePtr dev, char **alias)
{
    const char *kind = (const char *)dev->name;
    if (!live_pluggable(kind)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "hot-plugging <%s> into a running guest is not supported; accepted: <disk> "
                        "(bus virtio or scsi, a file or a block device), <interface> (type "
                        "user, network, bridge or ethernet), <controller> (type scsi or "
                        "virtio-serial), <rng>, <input>, <watchdog>, <channel>, a virtio "
                        "<console>, a pci-serial <serial> and <redirdev> (tcp or unix); use "
                        "--config for the next start",
                        kind);
        return -1;
    }
    if (strcmp(kind, "controller") == 0 && controller_pluggable(dev) < 0)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    int rc = -1;
    TvQemuCaps *caps = NULL;
    TvDomainDef *next = NULL;
    if (!run->proc) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    } else if ((next = live_with(drv, run, dev, &caps))) {
        TvQemuProcessConfig cfg = tv_driver_process_config(drv, caps, run);
        if (strcmp(kind, "disk") == 0) {
            TvDomainDisk *disk = tv_domain_def_take_disk(next, next->devices.ndisks - 1);
            rc = tv_qemu_process_attach_disk(run->proc, disk, &cfg);
            *alias = rc == 0 ? g_strdup(disk->alias) : NULL;
            if (rc < 0)
                tv_domain_disk_free(disk);
        } else if (strcmp(kind, "interface") == 0) {
            TvDomainNet *net = tv_domain_def_take_net(next, next->devices.nnets - 1);
            rc = tv_qemu_process_attach_net(run->proc, net, &cfg);
            *alias = rc == 0 ? g_strdup(net->alias) : NULL;
            if (rc < 0)
                tv_domain_net_free(net);
        } else if (strcmp(kind, "controller") != 0) {
            rc = attach_more(run->proc, kind, next, &cfg, alias);
        } else {
            g_autoptr(TvDomainDef) live = tv_qemu_process_copy_def(run->proc);
            ssize_t i = live ? new_controller(live, next) : -1;
            TvDomainController *c = i >= 0 ? tv_domain_def_take_controller(next, (size_t)i) : NULL;
            if (!c && live)
                tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                                "the running guest's definition did not take the controller");
            rc = c ? tv_qemu_process_attach_controller(run->proc, c) : -1;
            *alias = rc == 0 ? g_strdup(c->alias) : NULL;
            if (rc < 0)
                tv_domain_controller_free(c);
        }
    }
    tv_domain_def_free(next);
    if (caps)
        tv_qemu_caps_unref(caps);
    tv_driver_run_unref(run);
    return rc;
}

/* The persistent definition becomes def (in the domain's job). */
static int config_save(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def)
{
    TvDomainRef ref = { 0 };
    int rc = tv_driver_define_update(drv, dom, def, &ref);
    tv_domain_ref_clear(&ref);
    return rc;
}

static void device_removed(TvQemuDriver *drv, TvDriverDomain *dom, const char *alias)
{
    g_mutex_lock(&dom->lock);
    int id = dom->run ? dom->run->id : -1;
    g_mutex_unlock(&dom->lock);
    tv_driver_event_queue_other(drv, dom, id, TV_DOMAIN_EVENT_ID_DEVICE_REMOVED, 0, 0, alias, 0);
}

/* The running guest's device that dev (or alias) names: its alias. */
static char *live_alias(TvDriverRun *run, xmlNodePtr dev, const char *alias, const char *hint)
{
    g_autofree char *xml = tv_qemu_process_format_xml(run->proc, TV_DOMAIN_FORMAT_STATUS);
    xmlNodePtr devices = NULL;
    g_autoptr(xmlDoc) doc = xml ? parse_domain(xml, &devices) : NULL;
    xmlNodePtr found = doc ? find_device(devices, dev, alias, hint) : NULL;
    if (!found)
        return NULL;
    if (!live_pluggable((const char *)found->name)) { /* <tpm>, <smartcard>: as libvirt */
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "live detach of <%s> is not supported (detach it with --config for the "
                        "next start)",
                        (const char *)found->name);
        return NULL;
    }
    char *name = alias_of(found);
    if (!name)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "<%s> of the running guest cannot be detached: only disks, interfaces, "
                        "controllers (scsi, virtio-serial), rngs, inputs, watchdogs, "
                        "character devices and redirdevs can",
                        (const char *)found->name);
    return name;
}

static int detach_live(TvQemuDriver *drv, TvDriverDomain *dom, xmlNodePtr dev, const char *alias,
                       const char *hint)
{
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    int rc = -1;
    g_autofree char *name = run->proc ? live_alias(run, dev, alias, hint) : NULL;
    if (!run->proc)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    else if (name)
        rc = tv_qemu_process_detach_device(run->proc, name, UNPLUG_WAIT_MS);
    if (rc == 1)
        device_removed(drv, dom, name);
    tv_driver_run_unref(run);
    return rc < 0 ? -1 : 0;
}

typedef struct {
    TvDriverRun *run;
    char *alias;
} Removal;

/* The end of an unplug the guest finished after detach returned. */
static gpointer removal_thread(gpointer data)
{
    Removal *r = data;
    TvDriverDomain *dom = r->run->dom;
    if (tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "device removal") == 0) {
        if (r->run->proc && tv_qemu_process_unplug_finish(r->run->proc, r->alias) == 1)
            device_removed(r->run->drv, dom, r->alias);
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    } else {
        g_warning("%s: device '%s' left the guest but its removal waits: %s", dom->name, r->alias,
                  tv_error_message());
        tv_error_reset();
    }
    tv_driver_run_unref(r->run);
    g_free(r->alias);
    g_free(r);
    return NULL;
}

void tv_driver_device_deleted(TvDriverRun *run, const char *alias)
{
    if (!alias || !run->proc || !tv_qemu_process_unplug_pending(run->proc, alias))
        return;
    Removal *r = g_new0(Removal, 1);
    g_atomic_int_inc(&run->refs);
    r->run = run;
    r->alias = g_strdup(alias);
    g_thread_unref(g_thread_new("tv-device-removal", removal_thread, r));
}

/* A definition made around dev (one <disk> or <interface>), parsed by the
 * domain parser (so its checks apply), or NULL with an error. */
static TvDomainDef *device_alone(xmlNodePtr dev)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr dom = xmlNewNode(NULL, BAD_CAST "domain");
    xmlDocSetRootElement(doc, dom);
    xmlNewProp(dom, BAD_CAST "type", BAD_CAST "qemu");
    xmlNewChild(dom, NULL, BAD_CAST "name", BAD_CAST "media");
    xmlNewChild(dom, NULL, BAD_CAST "memory", BAD_CAST "1024");
    xmlNodePtr os = xmlNewChild(dom, NULL, BAD_CAST "os", NULL);
    xmlNodePtr type = xmlNewChild(os, NULL, BAD_CAST "type", BAD_CAST "hvm");
    xmlNewProp(type, BAD_CAST "arch", BAD_CAST "aarch64");
    xmlNewProp(type, BAD_CAST "machine", BAD_CAST "virt");
    xmlNodePtr devices = xmlNewChild(dom, NULL, BAD_CAST "devices", NULL);
    xmlAddChild(devices, xmlDocCopyNode(dev, doc, 1));
    g_autofree char *text = dump(doc);
    return text ? tv_domain_def_parse(text, strlen(text), TV_DOMAIN_PARSE_DEFAULT) : NULL;
}

static int update_live(TvQemuDriver *drv, TvDriverDomain *dom, const TvDomainDef *media)
{
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    int rc = -1;
    if (!run->proc) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    } else {
        g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, NULL);
        TvQemuProcessConfig cfg = tv_driver_process_config(drv, caps, run);
        const TvDomainDisk *disk = media->devices.disks[0];
        rc = tv_qemu_process_change_media(run->proc, disk->target_dev, disk, &cfg);
    }
    tv_driver_run_unref(run);
    return rc;
}

/* The persistent definition with the disk of dev's target replaced by dev. */
static TvDomainDef *config_replace(TvQemuDriver *drv, TvDriverDomain *dom, xmlNodePtr dev)
{
    g_autofree char *xml = tv_qemu_driver_get_xml(drv, dom->uuid, TV_XML_INACTIVE | TV_XML_SECURE);
    xmlNodePtr devices = NULL;
    g_autoptr(xmlDoc) doc = xml ? parse_domain(xml, &devices) : NULL;
    xmlNodePtr old = doc ? find_device(devices, dev, NULL, NULL) : NULL;
    if (!old)
        return NULL;
    xmlNodePtr address = tv_xml_child(old, "address");
    xmlNodePtr copy = xmlDocCopyNode(dev, doc, 1);
    if (address && !tv_xml_child(copy, "address")) /* the disk keeps its place */
        xmlAddChild(copy, xmlDocCopyNode(address, doc, 1));
    xmlFreeNode(xmlReplaceNode(old, copy));
    g_autofree char *text = dump(doc);
    return text ? tv_qemu_domain_load(&drv->pipe, text, strlen(text), TV_DOMAIN_PARSE_DEFAULT, NULL)
                : NULL;
}

/* -1 with an error when want (an update of interface have) changes more
 * than its link state: tagvirt changes a NIC's link only. */
static int link_only(const TvDomainNet *have, const TvDomainNet *want)
{
    const char *what = NULL;
    if (have->type != want->type)
        what = "type";
    else if (have->type == TV_NET_TYPE_NETWORK && g_strcmp0(have->network, want->network) != 0)
        what = "<source network>";
    else if (have->type == TV_NET_TYPE_BRIDGE && g_strcmp0(have->bridge, want->bridge) != 0)
        what = "<source bridge>";
    else if (have->type == TV_NET_TYPE_NETWORK && want->portgroup &&
             g_strcmp0(have->portgroup, want->portgroup) != 0)
        what = "<source portgroup>";
    else if (want->model && g_strcmp0(have->model, want->model) != 0)
        what = "<model>";
    else if (want->mtu && have->mtu != want->mtu)
        what = "<mtu>";
    if (!what)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                    "cannot change the %s of interface %s: an update of an <interface> can only "
                    "change its <link state='up|down'/>",
                    what, have->mac);
    return -1;
}

/* The interface of def that dev names (its MAC, or the only one). */
static TvDomainNet *net_of(const TvDomainDef *def, xmlNodePtr dev)
{
    g_autofree char *mac = mac_of(dev);
    TvDomainNet *found = NULL;
    for (size_t i = 0; i < def->devices.nnets; i++) {
        TvDomainNet *n = def->devices.nets[i];
        if (!mac && found) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "multiple matching <interface> devices found: give the <mac "
                            "address> of the one to update");
            return NULL;
        }
        if (!mac || g_ascii_strcasecmp(n->mac, mac) == 0)
            found = n;
    }
    if (!found && mac)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING,
                        "no device matching MAC address %s found", mac);
    else if (!found)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no <interface> found to update");
    return found;
}

/* The persistent definition with the <link> of the interface dev names set
 * to want's. */
static TvDomainDef *config_link(TvQemuDriver *drv, TvDriverDomain *dom, xmlNodePtr dev,
                                const TvDomainNet *want)
{
    g_autofree char *xml = tv_qemu_driver_get_xml(drv, dom->uuid, TV_XML_INACTIVE | TV_XML_SECURE);
    g_autoptr(TvDomainDef) old = xml ? tv_domain_def_parse(xml, strlen(xml), 0) : NULL;
    const TvDomainNet *have = old ? net_of(old, dev) : NULL;
    if (!have || link_only(have, want) < 0)
        return NULL;
    xmlNodePtr devices = NULL;
    g_autoptr(xmlDoc) doc = parse_domain(xml, &devices);
    xmlNodePtr node = NULL;
    for (xmlNodePtr n = doc ? devices->children : NULL; n && !node; n = n->next) {
        g_autofree char *mac =
            n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "interface") == 0
                ? mac_of(n)
                : NULL;
        if (mac && g_ascii_strcasecmp(mac, have->mac) == 0)
            node = n;
    }
    if (!node) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "interface %s is not in the definition's XML", have->mac);
        return NULL;
    }
    xmlNodePtr link;
    while ((link = tv_xml_child(node, "link"))) {
        xmlUnlinkNode(link);
        xmlFreeNode(link);
    }
    if (want->link != TV_NET_LINK_DEFAULT) {
        link = xmlNewChild(node, NULL, BAD_CAST "link", NULL);
        xmlNewProp(link, BAD_CAST "state", BAD_CAST tv_net_link_state_to_string(want->link));
    }
    g_autofree char *text = dump(doc);
    return text ? tv_qemu_domain_load(&drv->pipe, text, strlen(text), TV_DOMAIN_PARSE_DEFAULT, NULL)
                : NULL;
}

static int link_live(TvDriverDomain *dom, xmlNodePtr dev, const TvDomainNet *want)
{
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run)
        return -1;
    int rc = -1;
    g_autoptr(TvDomainDef) live = run->proc ? tv_qemu_process_copy_def(run->proc) : NULL;
    const TvDomainNet *have = live ? net_of(live, dev) : NULL;
    if (!run->proc)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    else if (have && link_only(have, want) == 0)
        rc = tv_qemu_process_set_link(run->proc, have->mac, want->link);
    tv_driver_run_unref(run);
    return rc;
}

#define UPDATE_FORCE 4 /* VIR_DOMAIN_DEVICE_MODIFY_FORCE: the tray is always forced open */

typedef enum {
    CHANGE_ATTACH,
    CHANGE_DETACH,
    CHANGE_MEDIA,
    CHANGE_LINK
} ChangeKind;

/* One change of a domain's devices, in its definition and/or its running
 * guest. */
typedef struct {
    ChangeKind kind;
    xmlNodePtr dev;           /* the device element given */
    const char *alias;        /* detach by alias (dev NULL) */
    const char *hint;         /* the alias dev carried (a copy of the live XML's device) */
    const TvDomainDef *media; /* CHANGE_MEDIA: the new cdrom disk */
    const TvDomainNet *link;  /* CHANGE_LINK: the interface with its new link */
} Change;

static TvDomainDef *change_config(TvQemuDriver *drv, TvDriverDomain *dom, const Change *c)
{
    switch (c->kind) {
    case CHANGE_ATTACH:
        return config_edit(drv, dom, c->dev, NULL, NULL, true);
    case CHANGE_DETACH:
        return config_edit(drv, dom, c->dev, c->alias, c->hint, false);
    case CHANGE_MEDIA:
        return config_replace(drv, dom, c->dev);
    case CHANGE_LINK:
        return config_link(drv, dom, c->dev, c->link);
    }
    return NULL;
}

static int change_live(TvQemuDriver *drv, TvDriverDomain *dom, const Change *c, char **added)
{
    switch (c->kind) {
    case CHANGE_ATTACH:
        return attach_live(drv, dom, c->dev, added);
    case CHANGE_DETACH:
        return detach_live(drv, dom, c->dev, c->alias, c->hint);
    case CHANGE_MEDIA:
        return update_live(drv, dom, c->media);
    case CHANGE_LINK:
        return link_live(dom, c->dev, c->link);
    }
    return -1;
}

/* libvirt's live/config semantics: the definition's change is checked
 * (made, not saved) first, then the running guest changes, then the
 * definition is saved; all in one job of the domain. */
static int change(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags, const Change *c)
{
    static const char *const jobs[] = { "attach device", "detach device", "update device",
                                        "update device" };
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, jobs[c->kind]) < 0)
        return -1;
    bool live = false, config = false;
    TvDomainDef *cfgdef = NULL;
    g_autofree char *added = NULL;
    int rc = tv_driver_affect(dom, flags, true, &live, &config);
    if (rc == 0 && config && !(cfgdef = change_config(drv, dom, c)))
        rc = -1;
    if (rc == 0 && live)
        rc = change_live(drv, dom, c, &added);
    if (rc == 0 && config)
        rc = config_save(drv, dom, g_steal_pointer(&cfgdef));
    tv_domain_def_free(cfgdef);
    if (added) {
        g_mutex_lock(&dom->lock);
        int id = dom->run ? dom->run->id : -1;
        g_mutex_unlock(&dom->lock);
        tv_driver_event_queue_other(drv, dom, id, TV_DOMAIN_EVENT_ID_DEVICE_ADDED, 0, 0, added, 0);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

int tv_qemu_driver_attach_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags)
{
    xmlNodePtr dev = NULL;
    if (check_flags(flags, "attaching a device") < 0)
        return -1;
    g_autoptr(xmlDoc) devdoc = parse_device(xml, &dev, NULL);
    if (!devdoc)
        return -1;
    return change(drv, uuid, flags, &(Change){ .kind = CHANGE_ATTACH, .dev = dev });
}

int tv_qemu_driver_detach_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags)
{
    xmlNodePtr dev = NULL;
    g_autofree char *hint = NULL;
    if (check_flags(flags, "detaching a device") < 0)
        return -1;
    g_autoptr(xmlDoc) devdoc = parse_device(xml, &dev, &hint);
    if (!devdoc)
        return -1;
    return change(drv, uuid, flags, &(Change){ .kind = CHANGE_DETACH, .dev = dev, .hint = hint });
}

int tv_qemu_driver_detach_device_alias(TvQemuDriver *drv, const unsigned char *uuid,
                                       const char *alias, unsigned flags)
{
    if (check_flags(flags, "detaching a device by alias") < 0)
        return -1;
    if (!alias || !*alias) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no device alias given");
        return -1;
    }
    return change(drv, uuid, flags, &(Change){ .kind = CHANGE_DETACH, .alias = alias });
}

int tv_qemu_driver_update_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags)
{
    xmlNodePtr dev = NULL;
    if (check_flags(flags & ~(unsigned)UPDATE_FORCE, "updating a device") < 0)
        return -1;
    flags &= ~(unsigned)UPDATE_FORCE;
    g_autoptr(xmlDoc) devdoc = parse_device(xml, &dev, NULL);
    if (!devdoc)
        return -1;
    const char *kind = (const char *)dev->name;
    if (strcmp(kind, "disk") != 0 && strcmp(kind, "interface") != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "updating <%s> is not supported; accepted: a cdrom <disk> (media change: "
                        "a new <source>, or none to eject) and an <interface>'s <link state>",
                        kind);
        return -1;
    }
    g_autoptr(TvDomainDef) alone = device_alone(dev);
    if (!alone)
        return -1;
    if (strcmp(kind, "interface") == 0)
        return change(drv, uuid, flags,
                      &(Change){ .kind = CHANGE_LINK, .dev = dev, .link = alone->devices.nets[0] });
    if (alone->devices.disks[0]->device != TV_DISK_DEVICE_CDROM) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "updating <disk> '%s': only a cdrom's media can be changed (give "
                        "device='cdrom' and the new <source>, or none to eject)",
                        alone->devices.disks[0]->target_dev);
        return -1;
    }
    return change(drv, uuid, flags, &(Change){ .kind = CHANGE_MEDIA, .dev = dev, .media = alone });
}
