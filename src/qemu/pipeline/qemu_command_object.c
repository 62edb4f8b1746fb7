/* One QEMU object (a -device, -blockdev or -netdev) as a list of typed
 * properties: the command line writes it in QEMU's option syntax, QMP
 * (device_add, blockdev-add, netdev_add at hot-plug) sends the same list as
 * JSON.  One builder per device class (qemu_command_disk.c,
 * qemu_command.c's interfaces) serves both. */
#include "qemu_command_priv.h"

#include <string.h>

TvQemuObject *tv_qemu_object_new(const char *head)
{
    TvQemuObject *o = g_new0(TvQemuObject, 1);
    o->head = g_strdup(head);
    o->props = g_array_new(FALSE, TRUE, sizeof(TvQmpProp));
    return o;
}

void tv_qemu_object_free(TvQemuObject *o)
{
    if (!o)
        return;
    for (guint i = 0; i < o->props->len; i++) {
        TvQmpProp *p = &g_array_index(o->props, TvQmpProp, i);
        g_free((char *)p->name);
        if (p->value.type == TV_QMP_VALUE_STRING)
            g_free(p->value.s);
    }
    g_array_free(o->props, TRUE);
    g_free(o->head);
    g_free(o);
}

static void add(TvQemuObject *o, const char *name, TvQmpValue v)
{
    TvQmpProp p = { .name = g_strdup(name), .value = v };
    g_array_append_val(o->props, p);
}

void tv_qemu_object_str(TvQemuObject *o, const char *name, const char *value)
{
    add(o, name, (TvQmpValue){ .type = TV_QMP_VALUE_STRING, .s = g_strdup(value) });
}

void tv_qemu_object_strf(TvQemuObject *o, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(o, name, (TvQmpValue){ .type = TV_QMP_VALUE_STRING, .s = g_strdup_vprintf(fmt, ap) });
    va_end(ap);
}

void tv_qemu_object_int(TvQemuObject *o, const char *name, gint64 value)
{
    add(o, name, (TvQmpValue){ .type = TV_QMP_VALUE_INT, .i = value });
}

void tv_qemu_object_bool(TvQemuObject *o, const char *name, bool value)
{
    add(o, name, (TvQmpValue){ .type = TV_QMP_VALUE_BOOL, .b = value });
}

const char *tv_qemu_object_get(const TvQemuObject *o, const char *name)
{
    for (guint i = 0; i < o->props->len; i++) {
        const TvQmpProp *p = &g_array_index(o->props, TvQmpProp, i);
        if (strcmp(p->name, name) == 0 && p->value.type == TV_QMP_VALUE_STRING)
            return p->value.s;
    }
    return NULL;
}

TvQmpProp *tv_qemu_object_props_except(const TvQemuObject *o, const char *const *skip, size_t *n)
{
    TvQmpProp *out = g_new0(TvQmpProp, o->props->len + 1);
    *n = 0;
    for (guint i = 0; i < o->props->len; i++) {
        const TvQmpProp *p = &g_array_index(o->props, TvQmpProp, i);
        bool skipped = false;
        for (size_t k = 0; skip && skip[k]; k++)
            skipped = skipped || strcmp(p->name, skip[k]) == 0;
        if (!skipped)
            out[(*n)++] = *p; /* borrowed */
    }
    return out;
}

char *tv_qemu_object_format(const TvQemuObject *o)
{
    GString *out = g_string_new(o->head);
    for (guint i = 0; i < o->props->len; i++) {
        const TvQmpProp *p = &g_array_index(o->props, TvQmpProp, i);
        if (out->len)
            g_string_append_c(out, ',');
        g_string_append_printf(out, "%s=", p->name);
        switch (p->value.type) {
        case TV_QMP_VALUE_STRING: {
            g_autofree char *v = tv_qemu_escape_opt(p->value.s);
            g_string_append(out, v);
            break;
        }
        case TV_QMP_VALUE_INT:
            g_string_append_printf(out, "%" G_GINT64_FORMAT, p->value.i);
            break;
        case TV_QMP_VALUE_BOOL:
            g_string_append(out, p->value.b ? "on" : "off");
            break;
        case TV_QMP_VALUE_DOUBLE:
            g_string_append_printf(out, "%g", p->value.d);
            break;
        case TV_QMP_VALUE_NONE:
            break;
        }
    }
    return g_string_free(out, FALSE);
}

void tv_qemu_object_add_address(TvQemuObject *o, const TvDeviceAddress *a)
{
    switch (a->type) {
    case TV_ADDRESS_PCI:
        if (a->bus == 0)
            tv_qemu_object_str(o, "bus", "pcie.0");
        else
            tv_qemu_object_strf(o, "bus", "pci.%u", a->bus);
        if (a->multifunction == TV_MULTIFUNCTION_ON)
            tv_qemu_object_bool(o, "multifunction", true);
        if (a->function)
            tv_qemu_object_strf(o, "addr", "0x%x.0x%x", a->slot, a->function);
        else
            tv_qemu_object_strf(o, "addr", "0x%x", a->slot);
        break;
    case TV_ADDRESS_USB:
        tv_qemu_object_strf(o, "bus", "%s.0", tv_qemu_usb_id(a->controller));
        tv_qemu_object_strf(o, "port", "%u", a->port); /* a string property */
        break;
    case TV_ADDRESS_DRIVE:
        tv_qemu_object_strf(o, "bus", "scsi%u.0", a->controller);
        tv_qemu_object_int(o, "channel", a->bus);
        tv_qemu_object_int(o, "scsi-id", a->target);
        tv_qemu_object_int(o, "lun", a->unit);
        break;
    case TV_ADDRESS_VIRTIO_SERIAL:
        tv_qemu_object_strf(o, "bus", "virtio-serial%u.0", a->controller);
        tv_qemu_object_int(o, "nr", a->port);
        break;
    case TV_ADDRESS_CCID: /* usb-ccid has one slot: its bus names it */
        tv_qemu_object_strf(o, "bus", "ccid%u.0", a->controller);
        break;
    case TV_ADDRESS_NONE:
    case TV_ADDRESS_LAST:
        break;
    }
}

void tv_qemu_argv_add_object(GPtrArray *argv, const char *option, const TvQemuObject *o)
{
    tv_qemu_argv_add(argv, option);
    g_ptr_array_add(argv, tv_qemu_object_format(o));
}
