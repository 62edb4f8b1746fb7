/* Boot order: see domain_os_boot.h.  The check across devices is
 * tv_domain_boot_check() in domain_conf.h (it needs the whole definition). */
#include "domain_conf.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_boot_dev, TV_BOOT_DEV_LAST, "", "hd", "cdrom", "network")

int tv_domain_boot_devs_parse(xmlNodePtr os, TvDomainBootOrder *order)
{
    static const char *const attrs[] = { "dev", NULL };
    static const char *const none[] = { NULL };
    for (xmlNodePtr c = os->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "boot") != 0)
            continue;
        int dev = 0;
        if (tv_xml_check_attrs(c, attrs) < 0 || tv_xml_check_children(c, none, false) < 0 ||
            tv_conf_attr_enum(c, "dev", true, tv_boot_dev_from_string, tv_boot_dev_list, &dev) < 0)
            return -1;
        for (size_t i = 0; i < order->ndevs; i++) {
            if (order->devs[i] == (TvBootDev)dev) {
                g_autofree char *path = tv_xml_node_path(c);
                tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                                "conflicting boot order: %s names dev='%s' again (it is already "
                                "boot device %zu); each of 'hd', 'cdrom', 'network' may be "
                                "listed once",
                                path, tv_boot_dev_to_string(dev), i + 1);
                return -1;
            }
        }
        order->devs[order->ndevs++] = dev;
    }
    return 0;
}

void tv_domain_boot_devs_format(TvXmlWriter *w, const TvDomainBootOrder *order)
{
    for (size_t i = 0; i < order->ndevs; i++)
        tv_xml_line(w, "<boot dev='%s'/>", tv_boot_dev_to_string(order->devs[i]));
}

int tv_domain_device_boot_parse(xmlNodePtr boot, unsigned *order_out)
{
    static const char *const attrs[] = { "order", NULL };
    static const char *const none[] = { NULL };
    g_autofree char *value = NULL;
    unsigned long long v = 0;
    if (tv_xml_check_attrs(boot, attrs) < 0 || tv_xml_check_children(boot, none, false) < 0 ||
        tv_conf_attr_required(boot, "order", &value) < 0 ||
        tv_conf_number(boot, "order", value, 1, TV_BOOT_ORDER_MAX, &v) < 0)
        return -1;
    *order_out = (unsigned)v;
    return 0;
}

void tv_domain_device_boot_format(TvXmlWriter *w, unsigned order)
{
    if (order)
        tv_xml_line(w, "<boot order='%u'/>", order);
}

/* One device that has a <boot order>, for messages. */
typedef struct {
    unsigned order;
    char *what; /* "disk 'vda'" */
} BootUser;

static void collect(GArray *users, unsigned order, char *what)
{
    if (!order) {
        g_free(what);
        return;
    }
    BootUser u = { .order = order, .what = what };
    g_array_append_val(users, u);
}

static void clear_user(gpointer p)
{
    g_free(((BootUser *)p)->what);
}

int tv_domain_boot_check(const TvDomainDef *def)
{
    g_autoptr(GArray) users = g_array_new(FALSE, FALSE, sizeof(BootUser));
    g_array_set_clear_func(users, clear_user);
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->ndisks; i++)
        collect(users, d->disks[i]->boot_order,
                g_strdup_printf("disk '%s'", d->disks[i]->target_dev));
    for (size_t i = 0; i < d->nnets; i++)
        collect(users, d->nets[i]->boot_order,
                g_strdup_printf("interface %zu (MAC %s)", i + 1, d->nets[i]->mac));
    for (size_t i = 0; i < d->nredirdevs; i++)
        collect(users, d->redirdevs[i]->boot_order, tv_domain_redirdev_describe(d->redirdevs[i]));
    if (users->len && def->os.boot.order.ndevs) {
        BootUser *u = &g_array_index(users, BootUser, 0);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "conflicting boot orders: %s has <boot order='%u'/> and /domain/os has "
                        "<boot dev='%s'/>; per-device boot elements cannot be used together with "
                        "<os><boot dev>, use one or the other",
                        u->what, u->order, tv_boot_dev_to_string(def->os.boot.order.devs[0]));
        return -1;
    }
    for (guint i = 0; i < users->len; i++) {
        for (guint j = 0; j < i; j++) {
            BootUser *a = &g_array_index(users, BootUser, j);
            BootUser *b = &g_array_index(users, BootUser, i);
            if (a->order == b->order) {
                tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                                "conflicting boot orders: %s and %s both have <boot "
                                "order='%u'/>; each boot order may be used by one device",
                                a->what, b->what, a->order);
                return -1;
            }
        }
    }
    return 0;
}
