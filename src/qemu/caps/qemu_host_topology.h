/* The host's CPUs, NUMA cells and memory as libvirt reports them (the
 * <host><topology> of the capabilities, node info, the CPU map, the node's
 * statistics), read under the host root so tests can use fixture hosts
 * (tests/hostdata/):
 *
 *   R/sys/devices/system/cpu/{present,online}          CPU lists ("0-7")
 *   R/sys/devices/system/cpu/cpuN/topology/{physical_package_id,die_id,
 *                                           core_id,thread_siblings_list}
 *   R/sys/devices/system/node/nodeN/{cpulist,meminfo,distance}
 *   R/sys/devices/system/node/nodeN/hugepages/hugepages-<size>kB/{nr,free}_hugepages
 *   R/proc/meminfo, R/proc/stat, R/proc/cpuinfo        (no sysfs: one cell)
 *
 * A host without NUMA directories is one cell holding every CPU and all of
 * MemTotal, as libvirt reports it. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    unsigned id;
    int socket_id; /* -1 when sysfs does not say */
    int die_id;
    int core_id;
    char *siblings; /* thread siblings, "0" or "0,4" */
    bool online;
} TvHostCpu;

typedef struct {
    unsigned long long size_kib;
    unsigned long long total; /* pages */
    unsigned long long free;
} TvHostPages;

typedef struct {
    unsigned id;
    unsigned long long memory_kib;
    unsigned long long free_kib;
    TvHostCpu *cpus;
    size_t ncpus;
    unsigned *distances; /* to cells 0..ncells-1; NULL when unknown */
    TvHostPages *pages;  /* the base page first, then huge pages */
    size_t npages;
} TvHostCell;

typedef struct {
    TvHostCell *cells;
    size_t ncells;
    unsigned ncpus;                /* present CPUs: the CPU map's bit count (highest id + 1) */
    unsigned nonline;              /* online ones */
    guint8 *online_map;            /* (ncpus + 7) / 8 bytes */
    unsigned long long memory_kib; /* MemTotal */
    /* node info's view: cells x sockets per cell x cores x threads */
    unsigned sockets, cores, threads;
    unsigned long long *hugepage_sizes_kib; /* sizes the kernel offers */
    size_t nhugepage_sizes;
} TvHostTopology;

TvHostTopology *tv_host_topology_read(const char *root);
void tv_host_topology_free(TvHostTopology *topo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvHostTopology, tv_host_topology_free)

/* Parse a kernel CPU list ("0-3,8,10-11") into sorted ids; false when bad. */
bool tv_host_parse_cpu_list(const char *text, GArray *out /* unsigned */);

/* /proc/stat's times of CPU cpu (-1: the "cpu" total line) in ns:
 * user (with nice), kernel (system, irq, softirq), idle, iowait.  false
 * when the CPU has no line (offline or absent). */
bool tv_host_cpu_times(const char *root, int cpu, unsigned long long out[4]);
/* /proc/meminfo: MemTotal, MemFree, Buffers, Cached in KiB. */
bool tv_host_meminfo(const char *root, unsigned long long out[4]);
