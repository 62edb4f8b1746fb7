/* Which of the devices tagvirt puts on a command line a QEMU binary has:
 * asked one type at a time (device-list-properties, which loads the module
 * a device lives in; an error reply means
 * the device does not exist), because qom-list-types loads every module of
 * the binary first.  Kept in the caps XML as <deviceTypes>. */
#include "qemu_capabilities_priv.h"
#include "tv_error.h"

#include <string.h>

/* Every -device driver the command line builder can emit (sorted; the
 * sound, filesystem, vsock, tpm, smartcard and redirdev ones of issue 9 too). */
static const char *const device_types[] = {
    "ccid-card-emulated",
    "ccid-card-passthru",
    "hda-duplex",
    "hda-micro",
    "hda-output",
    "i6300esb",
    "ich9-intel-hda",
    "intel-hda",
    "pci-serial",
    "pcie-pci-bridge",
    "pcie-root-port",
    "pvpanic-pci",
    "qemu-xhci",
    "ramfb",
    "scsi-cd",
    "scsi-hd",
    "tpm-crb-device",
    "tpm-tis-device",
    "usb-audio",
    "usb-ccid",
    "usb-kbd",
    "usb-mouse",
    "usb-redir",
    "usb-storage",
    "usb-tablet",
    "vhost-user-fs-pci",
    "vhost-vsock-pci",
    "virtconsole",
    "virtio-9p-pci",
    "virtio-balloon-pci",
    "virtio-blk-pci",
    "virtio-gpu-pci",
    "virtio-keyboard-pci",
    "virtio-mouse-pci",
    "virtio-net-pci",
    "virtio-rng-pci",
    "virtio-scsi-pci",
    "virtio-serial-pci",
    "virtio-tablet-pci",
    "virtserialport",
};

unsigned tv_qemu_caps_device_list_hash(void)
{
    unsigned h = 5381;
    for (size_t i = 0; i < G_N_ELEMENTS(device_types); i++)
        h = h * 33 + g_str_hash(device_types[i]);
    return h;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tv_caps_qmp_probe_devices(TvCapsQmp *q, TvQemuCaps *caps)
{
    GPtrArray *found = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(device_types); i++) {
        g_auto(TvQmpPropertyList) props = { 0 };
        if (tv_qemu_monitor_device_list_properties(q->mon, device_types[i], &props) == 0) {
            g_ptr_array_add(found, g_strdup(device_types[i]));
            continue;
        }
        /* not a refusal: QEMU went away or garbled */
        if (tv_qemu_monitor_error_class() == TV_QMP_ERROR_NONE) {
            g_ptr_array_free(found, TRUE);
            return -1;
        }
        tv_error_reset();
    }
    g_ptr_array_add(found, NULL);
    g_strfreev(caps->device_types);
    caps->device_types = (char **)g_ptr_array_free(found, FALSE);
    return 0;
}

bool tv_qemu_caps_has_device(const TvQemuCaps *caps, const char *type)
{
    if (!caps->device_types)
        return false;
    size_t n = g_strv_length(caps->device_types);
    return bsearch(&type, caps->device_types, n, sizeof(char *), cmp_str) != NULL;
}

void tv_qemu_caps_format_devices(TvXmlWriter *w, const TvQemuCaps *caps)
{
    tv_xml_line(w, "<deviceTypes>");
    w->indent++;
    for (char **d = caps->device_types; d && *d; d++) {
        g_autofree char *name = tv_xml_esc(*d);
        tv_xml_line(w, "<device name='%s'/>", name);
    }
    w->indent--;
    tv_xml_line(w, "</deviceTypes>");
}

int tv_qemu_caps_parse_devices(xmlNodePtr node, TvQemuCaps *caps)
{
    GPtrArray *names = g_ptr_array_new();
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            g_ptr_array_add(names, tv_xml_prop(c, "name"));
    }
    g_ptr_array_add(names, NULL);
    g_strfreev(caps->device_types);
    caps->device_types = (char **)g_ptr_array_free(names, FALSE);
    for (char **d = caps->device_types; *d; d++) {
        if (d[1] && strcmp(d[0], d[1]) >= 0) {
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                            "<deviceTypes> must be sorted and unique ('%s' before '%s')", d[0],
                            d[1]);
            return -1;
        }
    }
    return 0;
}
