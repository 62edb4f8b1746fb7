/* Node devices as libvirt's node device driver lists them, from sysfs under
 * the host root: the machine ("computer", capability system), PCI devices
 * (pci_DDDD_BB_SS_F, under the PCI bridge above them or the computer) and
 * network interfaces (net_<name>_<mac>, under their PCI device), with the
 * names of R/usr/share/misc/pci.ids (Debian's pci.ids) when present.  Block and
 * USB devices are not listed.  The list is kept until the set of entries in
 * sys/bus/pci/devices and sys/class/net changes; each XML is read afresh
 * (link state changes). */
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdio.h>
#include <string.h>

#define ATTR_MAX    4096
#define PCI_IDS_MAX (16 * 1024 * 1024)

/* libvirt's VIR_CONNECT_LIST_NODE_DEVICES_* bits: capabilities (a device
 * matches when it has one of those asked; none asked: all), and the
 * active/inactive pair (every device listed here is active). */
enum {
    LIST_CAP_SYSTEM = 1u << 0,
    LIST_CAP_PCI_DEV = 1u << 1,
    LIST_CAP_NET = 1u << 4,
    LIST_CAPS = (1u << 30) - 1,
    LIST_INACTIVE = 1u << 30,
    LIST_ACTIVE = 1u << 31,
};

typedef enum {
    DEV_SYSTEM,
    DEV_PCI,
    DEV_NET,
} DevKind;

typedef struct {
    char *name;
    char *parent; /* NULL for the computer */
    DevKind kind;
    char *sysfs;                    /* under the root, e.g. "sys/devices/pci0000:00/0000:00:04.0" */
    char *address;                  /* pci: "0000:00:04.0"; net: the interface name */
    unsigned vendor_id, product_id; /* pci */
    char *vendor_name, *product_name; /* pci.ids, when known */
} NodeDev;

struct _TvDriverNodeDevs {
    char *signature; /* the directory entries it was read from */
    GPtrArray *devs; /* NodeDev, sorted by name */
};

static void nodedev_free(gpointer p)
{
    NodeDev *d = p;
    g_free(d->name);
    g_free(d->parent);
    g_free(d->sysfs);
    g_free(d->address);
    g_free(d->vendor_name);
    g_free(d->product_name);
    g_free(d);
}

void tv_driver_nodedevs_free(TvDriverNodeDevs *nd)
{
    if (!nd)
        return;
    g_free(nd->signature);
    g_ptr_array_unref(nd->devs);
    g_free(nd);
}

static char *read_attr(const char *root, const char *dir, const char *attr)
{
    g_autofree char *path = g_build_filename(root, dir, attr, NULL);
    char *data = NULL;
    if (tv_file_read_all(path, ATTR_MAX, &data, NULL) < 0) {
        tv_error_reset();
        return NULL;
    }
    return g_strstrip(data);
}

static gint compare_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a directory under root: a part of the cache key. */
static GPtrArray *dir_entries(const char *root, const char *rel)
{
    g_autofree char *dir = g_build_filename(root, rel, NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    while (d && (e = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(e));
    g_ptr_array_sort(names, compare_str);
    return names;
}

/* The sysfs path a link under root points to, relative to root
 * ("sys/devices/..."); NULL when it is no link into sys/devices. */
static char *link_target(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *target = g_file_read_link(path, NULL);
    if (!target)
        return NULL;
    g_autofree char *dir = g_path_get_dirname(rel);
    g_autofree char *joined = g_build_filename(dir, target, NULL);
    g_autoptr(GPtrArray) parts = g_ptr_array_new();
    g_auto(GStrv) comps = g_strsplit(joined, "/", -1);
    for (char **c = comps; *c; c++) {
        if (!**c || strcmp(*c, ".") == 0)
            continue;
        if (strcmp(*c, "..") == 0) {
            if (parts->len)
                g_ptr_array_remove_index(parts, parts->len - 1);
            continue;
        }
        g_ptr_array_add(parts, *c);
    }
    g_ptr_array_add(parts, NULL);
    char *norm = g_strjoinv("/", (char **)parts->pdata);
    if (!g_str_has_prefix(norm, "sys/devices/")) {
        g_free(norm);
        return NULL;
    }
    return norm;
}

static bool parse_pci_address(const char *addr, unsigned v[4])
{
    return sscanf(addr, "%x:%x:%x.%x", &v[0], &v[1], &v[2], &v[3]) == 4;
}

static char *pci_name(const char *addr)
{
    unsigned v[4];
    if (!parse_pci_address(addr, v))
        return NULL;
    return g_strdup_printf("pci_%04x_%02x_%02x_%x", v[0], v[1], v[2], v[3]);
}

/* The PCI device a sysfs path lies under (its closest PCI ancestor), by name. */
static char *pci_ancestor(GHashTable *pci_by_path, const char *sysfs)
{
    g_autofree char *p = g_path_get_dirname(sysfs);
    while (strcmp(p, "sys/devices") != 0 && strcmp(p, ".") != 0 && strcmp(p, "/") != 0) {
        const char *name = g_hash_table_lookup(pci_by_path, p);
        if (name)
            return g_strdup(name);
        char *up = g_path_get_dirname(p);
        g_free(p);
        p = up;
    }
    return g_strdup("computer");
}

/* Vendor and device names from the host's pci.ids for the devices listed (one pass). */
static void pci_names(GPtrArray *devs, const char *root)
{
    bool any = false;
    for (guint i = 0; i < devs->len && !any; i++)
        any = ((NodeDev *)g_ptr_array_index(devs, i))->kind == DEV_PCI;
    g_autofree char *data = NULL;
    g_autofree char *ids = g_build_filename(root, "usr/share/misc/pci.ids", NULL);
    if (!any || tv_file_read_all(ids, PCI_IDS_MAX, &data, NULL) < 0) {
        tv_error_reset(); /* names are optional, as without libpciaccess */
        return;
    }
    unsigned vendor = 0;
    for (char *line = data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || !line[0] || (line[0] == '\t' && line[1] == '\t'))
            continue;
        if (line[0] == 'C' && line[1] == ' ')
            break; /* the device classes follow the vendors */
        char *end = NULL;
        bool top = line[0] != '\t';
        unsigned id = (unsigned)strtoul(top ? line : line + 1, &end, 16);
        const char *name = end ? end + strspn(end, " \t") : "";
        if (top)
            vendor = id;
        for (guint i = 0; i < devs->len; i++) {
            NodeDev *d = g_ptr_array_index(devs, i);
            if (d->kind != DEV_PCI || d->vendor_id != vendor)
                continue;
            if (top && !d->vendor_name)
                d->vendor_name = g_strdup(name);
            else if (!top && d->product_id == id && !d->product_name)
                d->product_name = g_strdup(name);
        }
    }
}

static NodeDev *dev_new(DevKind kind, char *name, char *parent, char *sysfs, char *address)
{
    NodeDev *d = g_new0(NodeDev, 1);
    d->kind = kind;
    d->name = name;
    d->parent = parent;
    d->sysfs = sysfs;
    d->address = address;
    return d;
}

static gint compare_dev(gconstpointer a, gconstpointer b)
{
    return strcmp((*(NodeDev *const *)a)->name, (*(NodeDev *const *)b)->name);
}

static TvDriverNodeDevs *scan(const char *root, GPtrArray *pci, GPtrArray *net, char *signature)
{
    TvDriverNodeDevs *nd = g_new0(TvDriverNodeDevs, 1);
    nd->signature = signature;
    nd->devs = g_ptr_array_new_with_free_func(nodedev_free);
    g_ptr_array_add(nd->devs, dev_new(DEV_SYSTEM, g_strdup("computer"), NULL, NULL, NULL));
    g_autoptr(GHashTable) pci_by_path = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *pcis = g_ptr_array_new();
    for (guint i = 0; i < pci->len; i++) {
        const char *addr = g_ptr_array_index(pci, i);
        g_autofree char *rel = g_build_filename("sys/bus/pci/devices", addr, NULL);
        char *sysfs = link_target(root, rel);
        char *name = pci_name(addr);
        if (!sysfs || !name) {
            g_free(sysfs);
            g_free(name);
            continue;
        }
        NodeDev *d = dev_new(DEV_PCI, name, NULL, sysfs, g_strdup(addr));
        g_autofree char *vendor = read_attr(root, sysfs, "vendor");
        g_autofree char *product = read_attr(root, sysfs, "device");
        d->vendor_id = vendor ? (unsigned)g_ascii_strtoull(vendor, NULL, 16) : 0;
        d->product_id = product ? (unsigned)g_ascii_strtoull(product, NULL, 16) : 0;
        g_hash_table_insert(pci_by_path, d->sysfs, d->name);
        g_ptr_array_add(pcis, d);
    }
    for (guint i = 0; i < pcis->len; i++) { /* parents once every device is known */
        NodeDev *d = g_ptr_array_index(pcis, i);
        d->parent = pci_ancestor(pci_by_path, d->sysfs);
        g_ptr_array_add(nd->devs, d);
    }
    g_ptr_array_free(pcis, TRUE);
    for (guint i = 0; i < net->len; i++) {
        const char *ifname = g_ptr_array_index(net, i);
        g_autofree char *rel = g_build_filename("sys/class/net", ifname, NULL);
        char *sysfs = link_target(root, rel);
        if (!sysfs)
            continue;
        g_autofree char *mac = read_attr(root, sysfs, "address");
        g_autofree char *flat = g_strdup(mac ? mac : "00:00:00:00:00:00");
        g_strdelimit(flat, ":", '_');
        char *name = g_strdup_printf("net_%s_%s", ifname, flat);
        g_ptr_array_add(nd->devs, dev_new(DEV_NET, name, pci_ancestor(pci_by_path, sysfs), sysfs,
                                          g_strdup(ifname)));
    }
    pci_names(nd->devs, root);
    g_ptr_array_sort(nd->devs, compare_dev);
    return nd;
}

/* The current list (a reference held by the caller through *hold). */
static TvDriverNodeDevs *current(TvQemuDriver *drv)
{
    const char *root = drv->host->root;
    g_autoptr(GPtrArray) pci = dir_entries(root, "sys/bus/pci/devices");
    g_autoptr(GPtrArray) net = dir_entries(root, "sys/class/net");
    g_ptr_array_add(pci, NULL);
    g_ptr_array_add(net, NULL);
    g_autofree char *a = g_strjoinv(" ", (char **)pci->pdata);
    g_autofree char *b = g_strjoinv(" ", (char **)net->pdata);
    char *signature = g_strdup_printf("%s|%s", a, b);
    g_ptr_array_remove_index(pci, pci->len - 1);
    g_ptr_array_remove_index(net, net->len - 1);
    g_mutex_lock(&drv->nodedev_lock);
    if (drv->nodedevs && strcmp(drv->nodedevs->signature, signature) == 0) {
        g_free(signature);
        return drv->nodedevs; /* under nodedev_lock: the caller unlocks */
    }
    /* scanned without the lock (pci.ids is megabytes): the daemon's reading
     * thread answers from the old listing meanwhile, and never waits */
    g_mutex_unlock(&drv->nodedev_lock);
    TvDriverNodeDevs *fresh = scan(root, pci, net, signature);
    g_mutex_lock(&drv->nodedev_lock);
    tv_driver_nodedevs_free(drv->nodedevs);
    drv->nodedevs = fresh;
    return fresh;
}

static void release(TvQemuDriver *drv)
{
    g_mutex_unlock(&drv->nodedev_lock);
}

static const char *cap_name(DevKind kind)
{
    switch (kind) {
    case DEV_SYSTEM:
        return "system";
    case DEV_PCI:
        return "pci";
    case DEV_NET:
        return "net";
    }
    return "";
}

static unsigned cap_bit(DevKind kind)
{
    switch (kind) {
    case DEV_SYSTEM:
        return LIST_CAP_SYSTEM;
    case DEV_PCI:
        return LIST_CAP_PCI_DEV;
    case DEV_NET:
        return LIST_CAP_NET;
    }
    return 0;
}

GStrv tv_qemu_driver_node_device_names(TvQemuDriver *drv, const char *cap, unsigned list_flags)
{
    unsigned caps = list_flags & LIST_CAPS;
    /* only inactive devices asked for: there are none */
    bool none = (list_flags & LIST_INACTIVE) && !(list_flags & LIST_ACTIVE);
    GPtrArray *out = g_ptr_array_new();
    TvDriverNodeDevs *nd = current(drv);
    for (guint i = 0; i < nd->devs->len && !none; i++) {
        NodeDev *d = g_ptr_array_index(nd->devs, i);
        if (cap && strcmp(cap, cap_name(d->kind)) != 0)
            continue;
        if (caps && !(caps & cap_bit(d->kind)))
            continue;
        g_ptr_array_add(out, g_strdup(d->name));
    }
    release(drv);
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(out, FALSE);
}

/* The listing is sorted by name (scan): a binary search. */
static NodeDev *find_in(TvDriverNodeDevs *nd, const char *name)
{
    guint lo = 0, hi = nd && name ? nd->devs->len : 0;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        NodeDev *d = g_ptr_array_index(nd->devs, mid);
        int c = strcmp(name, d->name);
        if (c == 0)
            return d;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

gboolean tv_qemu_driver_node_device_listed(TvQemuDriver *drv, const char *name)
{
    if (!g_mutex_trylock(&drv->nodedev_lock))
        return FALSE; /* another thread is scanning or formatting */
    gboolean listed = find_in(drv->nodedevs, name) != NULL;
    g_mutex_unlock(&drv->nodedev_lock);
    return listed;
}

/* The device of that name (under nodedev_lock), or NULL with NO_NODE_DEVICE.
 * A name the last listing had is answered from it, as libvirt answers from
 * the list udev keeps: a client asks about each device of a listing in turn
 * (Nova's resource tracker: three listCaps, a parent and an XMLDesc per
 * device, every minute), and none of that rescans sysfs.  A name it had not
 * is looked for in a fresh scan; a device gone since is still found until
 * the next listing (its XMLDesc then reads what sysfs has left). */
static NodeDev *find(TvQemuDriver *drv, const char *name)
{
    g_mutex_lock(&drv->nodedev_lock);
    NodeDev *d = find_in(drv->nodedevs, name);
    if (d)
        return d;
    g_mutex_unlock(&drv->nodedev_lock);
    d = find_in(current(drv), name);
    if (d)
        return d;
    release(drv);
    tv_error_report(TV_FROM_NODEDEV, TV_ERR_NO_NODE_DEVICE,
                    "Node device not found: no node device with matching name '%s'",
                    name ? name : "");
    return NULL;
}

int tv_qemu_driver_node_device_lookup(TvQemuDriver *drv, const char *name)
{
    if (!find(drv, name))
        return -1;
    release(drv);
    return 0;
}

int tv_qemu_driver_node_device_parent(TvQemuDriver *drv, const char *name, char **parent)
{
    NodeDev *d = find(drv, name);
    if (!d)
        return -1;
    *parent = g_strdup(d->parent);
    release(drv);
    return 0;
}

GStrv tv_qemu_driver_node_device_caps(TvQemuDriver *drv, const char *name)
{
    NodeDev *d = find(drv, name);
    if (!d)
        return NULL;
    GStrv caps = g_new0(char *, 2);
    caps[0] = g_strdup(cap_name(d->kind));
    release(drv);
    return caps;
}

static void format_system(const char *root, TvXmlWriter *w)
{
    g_autofree char *uuid = read_attr(root, "sys/class/dmi/id", "product_uuid");
    tv_xml_line(w, "<capability type='system'>");
    w->indent++;
    tv_xml_line(w, "<hardware>");
    w->indent++;
    unsigned char raw[TV_UUID_LEN];
    char text[TV_UUID_STRLEN + 1] = "00000000-0000-0000-0000-000000000000";
    if (uuid && tv_uuid_parse(uuid, raw) == 0)
        tv_uuid_format(raw, text);
    tv_xml_line(w, "<uuid>%s</uuid>", text);
    w->indent--;
    tv_xml_line(w, "</hardware>");
    tv_xml_line(w, "<firmware>");
    tv_xml_line(w, "</firmware>");
    w->indent--;
    tv_xml_line(w, "</capability>");
}

/* A sysfs link's last component ("virtio-pci", "12"), or NULL. */
static char *link_basename(const char *root, const char *dir, const char *attr)
{
    g_autofree char *path = g_build_filename(root, dir, attr, NULL);
    g_autofree char *target = g_file_read_link(path, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

static void format_pci(const char *root, const NodeDev *d, TvXmlWriter *w)
{
    unsigned v[4] = { 0 };
    parse_pci_address(d->address, v);
    g_autofree char *cls = read_attr(root, d->sysfs, "class");
    g_autofree char *numa = read_attr(root, d->sysfs, "numa_node");
    g_autofree char *group = link_basename(root, d->sysfs, "iommu_group");
    tv_xml_line(w, "<capability type='pci'>");
    w->indent++;
    if (cls)
        tv_xml_line(w, "<class>0x%06llx</class>",
                    (unsigned long long)g_ascii_strtoull(cls, NULL, 16));
    tv_xml_line(w, "<domain>%u</domain>", v[0]);
    tv_xml_line(w, "<bus>%u</bus>", v[1]);
    tv_xml_line(w, "<slot>%u</slot>", v[2]);
    tv_xml_line(w, "<function>%u</function>", v[3]);
    g_autofree char *pname = d->product_name ? tv_xml_esc(d->product_name) : NULL;
    g_autofree char *vname = d->vendor_name ? tv_xml_esc(d->vendor_name) : NULL;
    if (pname)
        tv_xml_line(w, "<product id='0x%04x'>%s</product>", d->product_id, pname);
    else
        tv_xml_line(w, "<product id='0x%04x'/>", d->product_id);
    if (vname)
        tv_xml_line(w, "<vendor id='0x%04x'>%s</vendor>", d->vendor_id, vname);
    else
        tv_xml_line(w, "<vendor id='0x%04x'/>", d->vendor_id);
    if (group) {
        tv_xml_line(w, "<iommuGroup number='%llu'>",
                    (unsigned long long)g_ascii_strtoull(group, NULL, 10));
        tv_xml_line(w, "  <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>",
                    v[0], v[1], v[2], v[3]);
        tv_xml_line(w, "</iommuGroup>");
    }
    if (numa && numa[0] != '-')
        tv_xml_line(w, "<numa node='%llu'/>", (unsigned long long)g_ascii_strtoull(numa, NULL, 10));
    w->indent--;
    tv_xml_line(w, "</capability>");
}

static void format_net(const char *root, const NodeDev *d, TvXmlWriter *w)
{
    g_autofree char *mac = read_attr(root, d->sysfs, "address");
    g_autofree char *state = read_attr(root, d->sysfs, "operstate");
    g_autofree char *speed = read_attr(root, d->sysfs, "speed");
    g_autofree char *type = read_attr(root, d->sysfs, "type");
    g_autofree char *ifname = tv_xml_esc(d->address);
    g_autofree char *mac_esc = tv_xml_esc(mac ? mac : "00:00:00:00:00:00");
    g_autofree char *state_esc = tv_xml_esc(state ? state : "unknown");
    tv_xml_line(w, "<capability type='net'>");
    w->indent++;
    tv_xml_line(w, "<interface>%s</interface>", ifname);
    tv_xml_line(w, "<address>%s</address>", mac_esc);
    if (speed && speed[0] != '-' && g_ascii_strtoull(speed, NULL, 10) > 0)
        tv_xml_line(w, "<link speed='%llu' state='%s'/>",
                    (unsigned long long)g_ascii_strtoull(speed, NULL, 10), state_esc);
    else
        tv_xml_line(w, "<link state='%s'/>", state_esc);
    /* ARPHRD_ETHER (1) and the loopback (772): libvirt's 802.3 sub-capability */
    if (type && (strcmp(type, "1") == 0 || strcmp(type, "772") == 0))
        tv_xml_line(w, "<capability type='80203'/>");
    w->indent--;
    tv_xml_line(w, "</capability>");
}

char *tv_qemu_driver_node_device_xml(TvQemuDriver *drv, const char *name, unsigned flags)
{
    if (flags) {
        tv_error_report(TV_FROM_NODEDEV, TV_ERR_INVALID_ARG,
                        "node device XML flags 0x%x are not supported; accepted: 0", flags);
        return NULL;
    }
    NodeDev *d = find(drv, name);
    if (!d)
        return NULL;
    const char *root = drv->host->root;
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_xml_line(&w, "<device>");
    w.indent++;
    g_autofree char *ename = tv_xml_esc(d->name);
    tv_xml_line(&w, "<name>%s</name>", ename);
    if (d->sysfs) {
        g_autofree char *path = tv_xml_esc(d->sysfs + strlen("sys")); /* "/devices/..." */
        tv_xml_line(&w, "<path>/sys%s</path>", path);
    }
    if (d->parent) {
        g_autofree char *parent = tv_xml_esc(d->parent);
        tv_xml_line(&w, "<parent>%s</parent>", parent);
    }
    g_autofree char *driver = d->sysfs ? link_basename(root, d->sysfs, "driver") : NULL;
    if (driver) {
        g_autofree char *desc = tv_xml_esc(driver);
        tv_xml_line(&w, "<driver>");
        tv_xml_line(&w, "  <name>%s</name>", desc);
        tv_xml_line(&w, "</driver>");
    }
    switch (d->kind) {
    case DEV_SYSTEM:
        format_system(root, &w);
        break;
    case DEV_PCI:
        format_pci(root, d, &w);
        break;
    case DEV_NET:
        format_net(root, d, &w);
        break;
    }
    release(drv);
    w.indent--;
    tv_xml_line(&w, "</device>");
    return tv_xml_writer_finish(&w);
}
