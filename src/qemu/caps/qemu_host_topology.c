/* Host CPUs, NUMA cells and memory from sysfs and /proc under a root (see
 * qemu_host_topology.h for the files). */
#include "qemu_host_topology.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SMALL_FILE_MAX (64 * 1024)
#define PROC_FILE_MAX  (4 * 1024 * 1024)
#define CPU_ID_MAX     65535 /* beyond any machine; bounds a corrupt list */

/* A file under root, stripped; NULL when unreadable (no error left behind). */
static char *read_text(const char *root, const char *rel, size_t max)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    char *data = NULL;
    if (tv_file_read_all(path, max, &data, NULL) < 0) {
        tv_error_reset();
        return NULL;
    }
    return g_strstrip(data);
}

static bool read_int(const char *root, const char *rel, int *out)
{
    g_autofree char *text = read_text(root, rel, SMALL_FILE_MAX);
    char *end = NULL;
    if (!text || !*text)
        return false;
    long long v = g_ascii_strtoll(text, &end, 10);
    if (*end || v < G_MININT || v > G_MAXINT)
        return false;
    *out = (int)v;
    return true;
}

bool tv_host_parse_cpu_list(const char *text, GArray *out)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    for (char **p = parts; *p; p++) {
        g_strstrip(*p);
        if (!**p)
            continue;
        char *end = NULL;
        guint64 lo = g_ascii_strtoull(*p, &end, 10), hi = lo;
        if (end == *p)
            return false;
        if (*end == '-') {
            const char *rest = end + 1;
            hi = g_ascii_strtoull(rest, &end, 10);
            if (end == rest)
                return false;
        }
        if (*end || hi < lo || hi > CPU_ID_MAX)
            return false;
        for (guint64 i = lo; i <= hi; i++) {
            unsigned id = (unsigned)i;
            g_array_append_val(out, id);
        }
    }
    return true;
}

/* A CPU list file as a sorted array; NULL when missing or malformed. */
static GArray *read_cpu_list(const char *root, const char *rel)
{
    g_autofree char *text = read_text(root, rel, SMALL_FILE_MAX);
    if (!text)
        return NULL;
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
    if (!tv_host_parse_cpu_list(text, ids)) {
        g_array_unref(ids);
        return NULL;
    }
    return ids;
}

static bool in_list(GArray *ids, unsigned id)
{
    for (guint i = 0; ids && i < ids->len; i++)
        if (g_array_index(ids, unsigned, i) == id)
            return true;
    return false;
}

/* "key: N kB" (or "Node 0 key: N kB") lines: the value of key, in KiB. */
static bool meminfo_value(const char *text, const char *key, unsigned long long *out)
{
    g_autofree char *needle = g_strdup_printf("%s:", key);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        g_autofree char *line = eol ? g_strndup(p, (gsize)(eol - p)) : g_strdup(p);
        const char *hit = strstr(line, needle);
        if (hit && (hit == line || hit[-1] == ' ')) {
            *out = g_ascii_strtoull(hit + strlen(needle), NULL, 10);
            return true;
        }
        p = eol ? eol + 1 : NULL;
    }
    return false;
}

bool tv_host_meminfo(const char *root, unsigned long long out[4])
{
    g_autofree char *text = read_text(root, "proc/meminfo", PROC_FILE_MAX);
    static const char *const keys[4] = { "MemTotal", "MemFree", "Buffers", "Cached" };
    if (!text)
        return false;
    for (int i = 0; i < 4; i++)
        if (!meminfo_value(text, keys[i], &out[i]))
            out[i] = 0;
    return out[0] > 0;
}

bool tv_host_cpu_times(const char *root, int cpu, unsigned long long out[4])
{
    g_autofree char *text = read_text(root, "proc/stat", PROC_FILE_MAX);
    if (!text)
        return false;
    g_autofree char *want = cpu < 0 ? g_strdup("cpu") : g_strdup_printf("cpu%d", cpu);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long tick_ns = 1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit_set(*l, " \t", -1);
        guint n = 0;
        unsigned long long v[8] = { 0 };
        if (!f[0] || strcmp(f[0], want) != 0)
            continue;
        for (char **w = f + 1; *w && n < 8; w++)
            if (**w)
                v[n++] = g_ascii_strtoull(*w, NULL, 10);
        if (n < 4)
            return false;
        /* user nice system idle iowait irq softirq steal */
        out[0] = (v[0] + v[1]) * tick_ns;        /* user */
        out[1] = (v[2] + v[5] + v[6]) * tick_ns; /* kernel */
        out[2] = v[3] * tick_ns;                 /* idle */
        out[3] = v[4] * tick_ns;                 /* iowait */
        return true;
    }
    return false;
}

static void read_cpu(const char *root, unsigned id, GArray *online, TvHostCpu *cpu)
{
    g_autofree char *base = g_strdup_printf("sys/devices/system/cpu/cpu%u/topology", id);
    g_autofree char *pkg = g_strdup_printf("%s/physical_package_id", base);
    g_autofree char *die = g_strdup_printf("%s/die_id", base);
    g_autofree char *core = g_strdup_printf("%s/core_id", base);
    g_autofree char *sib = g_strdup_printf("%s/thread_siblings_list", base);
    cpu->id = id;
    cpu->online = online ? in_list(online, id) : true;
    cpu->socket_id = cpu->die_id = cpu->core_id = -1;
    if (!cpu->online)
        return; /* an offline CPU has no topology in sysfs, and libvirt lists none */
    if (!read_int(root, pkg, &cpu->socket_id))
        cpu->socket_id = 0;
    if (!read_int(root, die, &cpu->die_id))
        cpu->die_id = 0;
    if (!read_int(root, core, &cpu->core_id))
        cpu->core_id = (int)id;
    cpu->siblings = read_text(root, sib, SMALL_FILE_MAX);
    if (!cpu->siblings)
        cpu->siblings = g_strdup_printf("%u", id);
}

static gint compare_ull(gconstpointer a, gconstpointer b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

static void read_hugepage_sizes(const char *root, TvHostTopology *topo)
{
    g_autofree char *dir = g_build_filename(root, "sys/kernel/mm/hugepages", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(unsigned long long));
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        unsigned long long kib = 0;
        if (sscanf(e, "hugepages-%llukB", &kib) == 1 && kib > 0)
            g_array_append_val(sizes, kib);
    }
    g_array_sort(sizes, compare_ull);
    topo->nhugepage_sizes = sizes->len;
    topo->hugepage_sizes_kib = (unsigned long long *)g_array_free(sizes, FALSE);
}

/* Base pages (what huge pages do not hold) and each huge page size of a cell. */
static void cell_pages(const char *root, const char *node_dir, TvHostTopology *topo,
                       TvHostCell *cell)
{
    long psize = sysconf(_SC_PAGESIZE);
    unsigned long long base_kib = psize > 0 ? (unsigned long long)psize / 1024 : 4;
    cell->npages = 1 + topo->nhugepage_sizes;
    cell->pages = g_new0(TvHostPages, cell->npages);
    unsigned long long huge_kib = 0, huge_free_kib = 0;
    for (size_t i = 0; i < topo->nhugepage_sizes; i++) {
        TvHostPages *p = &cell->pages[i + 1];
        p->size_kib = topo->hugepage_sizes_kib[i];
        int nr = 0, fr = 0;
        if (node_dir) {
            g_autofree char *n = g_strdup_printf("%s/hugepages/hugepages-%llukB/nr_hugepages",
                                                 node_dir, p->size_kib);
            g_autofree char *f = g_strdup_printf("%s/hugepages/hugepages-%llukB/free_hugepages",
                                                 node_dir, p->size_kib);
            if (!read_int(root, n, &nr) || nr < 0)
                nr = 0;
            if (!read_int(root, f, &fr) || fr < 0)
                fr = 0;
        }
        p->total = (unsigned long long)nr;
        p->free = (unsigned long long)fr;
        huge_kib += p->total * p->size_kib;
        huge_free_kib += p->free * p->size_kib;
    }
    cell->pages[0].size_kib = base_kib;
    cell->pages[0].total =
        cell->memory_kib > huge_kib ? (cell->memory_kib - huge_kib) / base_kib : 0;
    cell->pages[0].free =
        cell->free_kib > huge_free_kib ? (cell->free_kib - huge_free_kib) / base_kib : 0;
}

static void fill_cell_cpus(const char *root, TvHostCell *cell, GArray *ids, GArray *online)
{
    cell->ncpus = ids->len;
    cell->cpus = g_new0(TvHostCpu, MAX(ids->len, 1));
    for (guint i = 0; i < ids->len; i++)
        read_cpu(root, g_array_index(ids, unsigned, i), online, &cell->cpus[i]);
}

static bool read_numa_cells(const char *root, TvHostTopology *topo, GArray *online)
{
    g_autoptr(GArray) nodes = read_cpu_list(root, "sys/devices/system/node/online");
    if (!nodes || nodes->len == 0)
        return false;
    topo->ncells = nodes->len;
    topo->cells = g_new0(TvHostCell, topo->ncells);
    for (guint i = 0; i < nodes->len; i++) {
        TvHostCell *cell = &topo->cells[i];
        cell->id = g_array_index(nodes, unsigned, i);
        g_autofree char *dir = g_strdup_printf("sys/devices/system/node/node%u", cell->id);
        g_autofree char *cpulist = g_strdup_printf("%s/cpulist", dir);
        g_autofree char *meminfo = g_strdup_printf("%s/meminfo", dir);
        g_autofree char *distance = g_strdup_printf("%s/distance", dir);
        g_autoptr(GArray) ids = read_cpu_list(root, cpulist);
        if (!ids)
            ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
        fill_cell_cpus(root, cell, ids, online);
        g_autofree char *mem = read_text(root, meminfo, SMALL_FILE_MAX);
        if (mem) {
            meminfo_value(mem, "MemTotal", &cell->memory_kib);
            meminfo_value(mem, "MemFree", &cell->free_kib);
        }
        g_autofree char *dist = read_text(root, distance, SMALL_FILE_MAX);
        g_auto(GStrv) words = dist ? g_strsplit_set(dist, " \t", -1) : NULL;
        if (words && g_strv_length(words) == nodes->len) {
            cell->distances = g_new0(unsigned, nodes->len);
            for (guint j = 0; j < nodes->len; j++)
                cell->distances[j] = (unsigned)g_ascii_strtoull(words[j], NULL, 10);
        }
        cell_pages(root, dir, topo, cell);
    }
    return true;
}

/* No NUMA in sysfs: one cell with every CPU and all memory. */
static void single_cell(const char *root, TvHostTopology *topo, GArray *present, GArray *online)
{
    topo->ncells = 1;
    topo->cells = g_new0(TvHostCell, 1);
    TvHostCell *cell = &topo->cells[0];
    fill_cell_cpus(root, cell, present, online);
    unsigned long long mem[4] = { 0 };
    if (tv_host_meminfo(root, mem)) {
        cell->memory_kib = mem[0];
        cell->free_kib = mem[1];
    }
    cell->distances = g_new0(unsigned, 1);
    cell->distances[0] = 10;
    cell_pages(root, NULL, topo, cell);
}

/* CPUs the cpuinfo lists, when sysfs has no CPU list (fixture hosts). */
static GArray *cpuinfo_cpus(const char *root)
{
    g_autofree char *text = read_text(root, "proc/cpuinfo", PROC_FILE_MAX);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
    g_auto(GStrv) lines = text ? g_strsplit(text, "\n", -1) : g_new0(char *, 1);
    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "processor")) {
            const char *colon = strchr(*l, ':');
            unsigned id = colon ? (unsigned)g_ascii_strtoull(colon + 1, NULL, 10) : ids->len;
            if (id <= CPU_ID_MAX)
                g_array_append_val(ids, id);
        }
    }
    if (ids->len == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (unsigned i = 0; i < (unsigned)(n > 0 ? n : 1); i++)
            g_array_append_val(ids, i);
    }
    return ids;
}

static unsigned distinct(GArray *values)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < values->len; i++)
        g_hash_table_add(seen, GINT_TO_POINTER(g_array_index(values, int, i) + 1));
    return g_hash_table_size(seen);
}

/* sockets per cell, cores per socket, threads per core (libvirt's node
 * info); the flat 1 x 1 x N x 1 when the product does not match. */
static void node_shape(TvHostTopology *topo)
{
    const TvHostCell *cell = &topo->cells[0];
    g_autoptr(GArray) sockets = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GArray) cores = g_array_new(FALSE, FALSE, sizeof(int));
    int first_socket = -1;
    unsigned threads = 1;
    for (size_t i = 0; i < cell->ncpus; i++) {
        const TvHostCpu *c = &cell->cpus[i];
        if (!c->online)
            continue;
        g_array_append_val(sockets, c->socket_id);
        if (first_socket < 0)
            first_socket = c->socket_id;
        if (c->socket_id == first_socket)
            g_array_append_val(cores, c->core_id);
        g_autoptr(GArray) sib = g_array_new(FALSE, FALSE, sizeof(unsigned));
        if (c->siblings && tv_host_parse_cpu_list(c->siblings, sib))
            threads = MAX(threads, sib->len);
    }
    topo->sockets = MAX(distinct(sockets), 1);
    topo->cores = MAX(distinct(cores), 1);
    topo->threads = threads;
    if (topo->ncells * topo->sockets * topo->cores * topo->threads != topo->nonline) {
        topo->sockets = 1;
        topo->cores = topo->nonline;
        topo->threads = 1;
    }
}

TvHostTopology *tv_host_topology_read(const char *root)
{
    if (!root)
        root = "/";
    TvHostTopology *topo = g_new0(TvHostTopology, 1);
    g_autoptr(GArray) present = read_cpu_list(root, "sys/devices/system/cpu/present");
    g_autoptr(GArray) online = read_cpu_list(root, "sys/devices/system/cpu/online");
    if (!present)
        present = cpuinfo_cpus(root);
    if (!online)
        online = g_array_copy(present);
    unsigned highest = 0;
    for (guint i = 0; i < present->len; i++)
        highest = MAX(highest, g_array_index(present, unsigned, i));
    topo->ncpus = present->len ? highest + 1 : 0;
    topo->online_map = g_new0(guint8, (topo->ncpus + 7) / 8 + 1);
    for (guint i = 0; i < online->len; i++) {
        unsigned id = g_array_index(online, unsigned, i);
        if (id < topo->ncpus && in_list(present, id)) {
            topo->online_map[id / 8] |= (guint8)(1u << (id % 8));
            topo->nonline++;
        }
    }
    unsigned long long mem[4] = { 0 };
    if (tv_host_meminfo(root, mem))
        topo->memory_kib = mem[0];
    read_hugepage_sizes(root, topo);
    if (!read_numa_cells(root, topo, online))
        single_cell(root, topo, present, online);
    node_shape(topo);
    return topo;
}

void tv_host_topology_free(TvHostTopology *topo)
{
    if (!topo)
        return;
    for (size_t i = 0; i < topo->ncells; i++) {
        TvHostCell *cell = &topo->cells[i];
        for (size_t j = 0; j < cell->ncpus; j++)
            g_free(cell->cpus[j].siblings);
        g_free(cell->cpus);
        g_free(cell->distances);
        g_free(cell->pages);
    }
    g_free(topo->cells);
    g_free(topo->online_map);
    g_free(topo->hugepage_sizes_kib);
    g_free(topo);
}
