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

#define PROC_FILE_MAX (4 * 1024 * 1024)

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

/* The lines of a /proc file (under the host root); none when unreadable. */
static GStrv read_proc_lines(const char *root, const char *file)
{
    g_autofree char *path = g_build_filename(root ? root : "/", file, NULL);
    g_autofree char *data = NULL;
    if (tv_file_read_all(path, PROC_FILE_MAX, &data, NULL) < 0) {
        tv_error_reset(); /* missing facts are reported as 0 */
        return g_new0(char *, 1);
    }
    return g_strsplit(data, "\n", -1);
}

/* The value of "key : value" on a line, or NULL (trimmed copy). */
static char *line_value(const char *line, const char *key)
{
    const char *colon = strchr(line, ':');
    if (!colon)
        return NULL;
    g_autofree char *k = g_strstrip(g_strndup(line, (gsize)(colon - line)));
    return strcmp(k, key) == 0 ? g_strstrip(g_strdup(colon + 1)) : NULL;
}

static char *first_value(GStrv lines, const char *key)
{
    for (char **l = lines; *l; l++) {
        char *v = line_value(*l, key);
        if (v)
            return v;
    }
    return NULL;
}

static unsigned first_uint(GStrv lines, const char *key)
{
    g_autofree char *v = first_value(lines, key);
    return v ? (unsigned)g_ascii_strtoull(v, NULL, 10) : 0;
}

static unsigned distinct_values(GStrv lines, const char *key)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (char **l = lines; *l; l++) {
        char *v = line_value(*l, key);
        if (v)
            g_hash_table_add(seen, v);
    }
    return g_hash_table_size(seen);
}

typedef struct {
    unsigned cpus, sockets, cores, threads, mhz;
} Topology;

static void host_topology(TvQemuDriver *drv, Topology *t)
{
    g_auto(GStrv) cpu = read_proc_lines(drv->host->root, "proc/cpuinfo");
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    t->cpus = online > 0 ? (unsigned)online : 1;
    t->sockets = MAX(distinct_values(cpu, "physical id"), 1);
    unsigned cores = first_uint(cpu, "cpu cores"), siblings = first_uint(cpu, "siblings");
    t->cores = cores ? cores : t->cpus / t->sockets;
    t->threads = cores && siblings >= cores ? siblings / cores : 1;
    if (t->sockets * t->cores * t->threads != t->cpus) { /* odd /proc: keep the product right */
        t->sockets = 1;
        t->cores = t->cpus;
        t->threads = 1;
    }
    g_autofree char *mhz = first_value(cpu, "cpu MHz");
    t->mhz = mhz ? (unsigned)g_ascii_strtod(mhz, NULL) : 0;
}

int tv_qemu_driver_node_info(TvQemuDriver *drv, TvNodeInfo *info)
{
    memset(info, 0, sizeof(*info));
    struct utsname u;
    const char *arch = drv->host->arch ? drv->host->arch : (uname(&u) == 0 ? u.machine : "");
    g_strlcpy(info->model, arch, sizeof(info->model));
    g_auto(GStrv) mem = read_proc_lines(drv->host->root, "proc/meminfo");
    info->memory_kib = first_uint(mem, "MemTotal"); /* "N kB" */
    Topology t;
    host_topology(drv, &t);
    info->cpus = (int)t.cpus;
    info->mhz = (int)t.mhz;
    info->nodes = 1;
    info->sockets = (int)t.sockets;
    info->cores = (int)t.cores;
    info->threads = (int)t.threads;
    return 0;
}

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

static void format_host(TvQemuDriver *drv, TvXmlWriter *w)
{
    char uuid[TV_UUID_STRLEN + 1];
    host_uuid(uuid);
    Topology t;
    host_topology(drv, &t);
    g_autofree char *arch = tv_xml_esc(drv->host->arch ? drv->host->arch : "x86_64");
    tv_xml_line(w, "<host>");
    w->indent++;
    tv_xml_line(w, "<uuid>%s</uuid>", uuid);
    tv_xml_line(w, "<cpu>");
    w->indent++;
    tv_xml_line(w, "<arch>%s</arch>", arch);
    tv_xml_line(w, "<topology sockets='%u' dies='1' cores='%u' threads='%u'/>", t.sockets, t.cores,
                t.threads);
    w->indent--;
    tv_xml_line(w, "</cpu>");
    tv_xml_line(w, "<power_management/>");
    tv_xml_line(w, "<iommu support='no'/>");
    w->indent--;
    tv_xml_line(w, "</host>");
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
    g_mutex_lock(&drv->host_lock);
    char *xml = drv->caps_xml && drv->caps_xml_from == caps ? g_strdup(drv->caps_xml) : NULL;
    g_mutex_unlock(&drv->host_lock);
    if (xml)
        return xml;

    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_xml_line(&w, "<capabilities>");
    w.indent++;
    format_host(drv, &w);
    format_guest(drv, caps, &w);
    w.indent--;
    tv_xml_line(&w, "</capabilities>");
    xml = tv_xml_writer_finish(&w);
    g_mutex_lock(&drv->host_lock);
    g_free(drv->caps_xml);
    drv->caps_xml = g_strdup(xml);
    tv_qemu_caps_unref(drv->caps_xml_from);
    drv->caps_xml_from = tv_qemu_caps_ref(caps);
    g_mutex_unlock(&drv->host_lock);
    return xml;
}
