/* The host as the driver describes it, on fixture hosts (tests/hostdata/):
 * <host> of the capabilities (NUMA cells, CPUs, pages, the CPU model libvirt
 * names), node info, the CPU map, CPU and memory statistics, free memory,
 * CPU compare/baseline, node devices.  One report per host in
 * tests/hostcapsdata/<host>.txt; TAGVIRT_REGENERATE=1 rewrites them.  Bad
 * arguments get libvirt's error classes. */
#include "drivertestutils.h"
#include "qemu_driver_priv.h"
#include "testutils.h"
#include "tv_error.h"

#include <string.h>
#include <unistd.h>

static const char *const hosts[] = { "aarch64-numa-tx2", "aarch64-kvm-mte3", "x86_64-nokvm" };

static bool open_host(DtEnv *env, const char *host)
{
    if (!dt_env_init(env))
        return false;
    env->host_root = tv_test_path("hostdata", host, NULL);
    dt_open(env, false);
    return true;
}

/* <host>...</host> of the capabilities without the machine's uuid. */
static char *host_section(const char *caps)
{
    const char *start = strstr(caps, "  <host>"), *end = strstr(caps, "</host>\n");
    g_assert_nonnull(start);
    g_assert_nonnull(end);
    g_autofree char *host = g_strndup(start, (gsize)(end + strlen("</host>\n") - start));
    GString *out = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(host, "\n", -1);
    for (char **l = lines; *l; l++)
        if (!strstr(*l, "<uuid>") && **l)
            g_string_append_printf(out, "%s\n", *l);
    return g_string_free(out, FALSE);
}

static void report_stats(GString *r, const char *what, int n, const TvNodeStat *s)
{
    g_string_append_printf(r, "%s:", what);
    for (int i = 0; i < n; i++)
        g_string_append_printf(r, " %s=%llu", s[i].field, s[i].value);
    g_string_append(r, "\n");
}

static void report_error(GString *r, const char *what)
{
    g_string_append_printf(r, "%s: error %d: %s\n", what, tv_error_code(), tv_error_message());
    tv_error_reset();
}

static void report_node(GString *r, TvQemuDriver *drv)
{
    TvNodeInfo ni;
    g_assert_cmpint(tv_qemu_driver_node_info(drv, &ni), ==, 0);
    g_assert_true(tv_qemu_driver_node_topology_known(drv));
    g_string_append_printf(r,
                           "== node info\nmodel=%s memory=%llu cpus=%d mhz=%d nodes=%d "
                           "sockets=%d cores=%d threads=%d\n",
                           ni.model, ni.memory_kib, ni.cpus, ni.mhz, ni.nodes, ni.sockets, ni.cores,
                           ni.threads);
    g_assert_cmpint(ni.nodes * ni.sockets * ni.cores * ni.threads, ==, ni.cpus);

    guint8 *map = NULL;
    unsigned online = 0;
    int n = tv_qemu_driver_node_cpu_map(drv, &map, &online, 0);
    g_assert_cmpint(n, >, 0);
    g_string_append_printf(r, "== cpu map\n%d CPUs, %u online:", n, online);
    for (int i = 0; i < (n + 7) / 8; i++)
        g_string_append_printf(r, " %02x", map[i]);
    g_string_append(r, "\n");
    g_free(map);

    g_string_append(r, "== statistics\n");
    TvNodeStat s[TV_NODE_STATS_MAX];
    int k = tv_qemu_driver_node_cpu_stats(drv, -1, 0, s);
    if (k < 0)
        report_error(r, "cpu all");
    else
        report_stats(r, "cpu all", k, s);
    if ((k = tv_qemu_driver_node_cpu_stats(drv, 1, 0, s)) < 0)
        report_error(r, "cpu 1");
    else
        report_stats(r, "cpu 1", k, s);
    if ((k = tv_qemu_driver_node_memory_stats(drv, -1, 0, s)) < 0)
        report_error(r, "memory all");
    else
        report_stats(r, "memory all", k, s);
    for (int cell = 0; cell < 3; cell++) {
        g_autofree char *what = g_strdup_printf("memory cell %d", cell);
        if ((k = tv_qemu_driver_node_memory_stats(drv, cell, 0, s)) < 0)
            report_error(r, what);
        else
            report_stats(r, what, k, s);
    }
    unsigned long long cells[4] = { 0 };
    k = tv_qemu_driver_node_cells_free_memory(drv, 0, 4, cells);
    g_string_append_printf(r, "cells free memory:");
    for (int i = 0; i < k; i++)
        g_string_append_printf(r, " %llu", cells[i]);
    g_string_append(r, "\n");
}

static void report_cpu(GString *r, TvQemuDriver *drv)
{
    static const char *const cpus[] = {
        "<cpu><arch>aarch64</arch><vendor>Cavium</vendor><model>ThunderX2 99xx</model></cpu>",
        "<cpu><arch>aarch64</arch><vendor>ARM</vendor><model>Neoverse-N1</model></cpu>",
        "<cpu mode='custom'><model>cortex-a57</model></cpu>",
        "<cpu mode='custom'><model>not-a-model</model></cpu>",
        "<cpu mode='host-passthrough'/>",
    };
    g_string_append(r, "== cpu compare\n");
    for (gsize i = 0; i < G_N_ELEMENTS(cpus); i++) {
        int rc = tv_qemu_driver_compare_cpu(drv, cpus[i], 0);
        g_string_append_printf(r, "%s -> %d\n", cpus[i], rc);
        g_assert_cmpint(rc, >=, 0);
    }
    g_assert_cmpint(tv_qemu_driver_compare_cpu(drv, cpus[1], 1 /* fail incompatible */), ==, -1);
    report_error(r, "Neoverse-N1, fail incompatible");
    char *const two[] = { (char *)cpus[0], (char *)cpus[1] };
    g_autofree char *base = tv_qemu_driver_baseline_cpu(drv, two, 2, 0);
    g_assert_nonnull(base);
    g_string_append_printf(r, "== cpu baseline\n%s", base);
}

static void report_nodedevs(GString *r, TvQemuDriver *drv)
{
    g_auto(GStrv) names = tv_qemu_driver_node_device_names(drv, NULL, 0);
    g_assert_nonnull(names);
    g_auto(GStrv) pci = tv_qemu_driver_node_device_names(drv, "pci", 0);
    g_auto(GStrv) net = tv_qemu_driver_node_device_names(drv, NULL, 1 << 4);
    g_autofree char *all = g_strjoinv(" ", names);
    g_autofree char *pcis = g_strjoinv(" ", pci);
    g_autofree char *nets = g_strjoinv(" ", net);
    g_string_append_printf(r, "== node devices\nall: %s\npci: %s\nnet (flag): %s\n", all, pcis,
                           nets);
    for (char **n = names; *n; n++) {
        g_autofree char *xml = tv_qemu_driver_node_device_xml(drv, *n, 0);
        g_autofree char *parent = NULL;
        g_assert_cmpint(tv_qemu_driver_node_device_parent(drv, *n, &parent), ==, 0);
        g_auto(GStrv) caps = tv_qemu_driver_node_device_caps(drv, *n);
        g_assert_nonnull(xml);
        g_assert_nonnull(caps);
        g_autofree char *capl = g_strjoinv(",", caps);
        g_string_append_printf(r, "-- %s (parent %s, caps %s)\n%s", *n, parent ? parent : "none",
                               capl, xml);
    }
}

static void test_host_report(gconstpointer data)
{
    const char *host = data;
    DtEnv env;
    if (!open_host(&env, host))
        return;
    GString *r = g_string_new(NULL);
    /* until the topology is read once, node info is a worker's call */
    g_assert_false(tv_qemu_driver_node_topology_known(env.drv));
    g_autofree char *caps = tv_qemu_driver_capabilities(env.drv);
    g_assert_nonnull(caps);
    g_autofree char *section = host_section(caps);
    g_string_append_printf(r, "== capabilities <host> (uuid left out)\n%s", section);
    report_node(r, env.drv);
    report_cpu(r, env.drv);
    if (strcmp(host, "aarch64-numa-tx2") == 0) /* the others have no sysfs in the fixture */
        report_nodedevs(r, env.drv);
    g_autofree char *text = g_string_free(r, FALSE);
    g_autofree char *file = g_strdup_printf("%s.txt", host);
    g_autofree char *path = tv_test_path("hostcapsdata", file, NULL);
    tv_test_compare(path, text, NULL);
    dt_env_clear(&env);
}

static void add_pci(const char *root, const char *addr, const char *product)
{
    g_autofree char *dir = g_strdup_printf("%s/sys/devices/pci0000:00/%s", root, addr);
    g_autofree char *links = g_build_filename(root, "sys/bus/pci/devices", NULL);
    g_autofree char *link = g_build_filename(links, addr, NULL);
    g_autofree char *target = g_strdup_printf("../../../devices/pci0000:00/%s", addr);
    g_autofree char *vendor = g_build_filename(dir, "vendor", NULL);
    g_autofree char *device = g_build_filename(dir, "device", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(links, 0755), ==, 0);
    g_assert_true(g_file_set_contents(vendor, "0x1af4\n", -1, NULL));
    g_assert_true(g_file_set_contents(device, product, -1, NULL));
    g_assert_cmpint(symlink(target, link), ==, 0);
}

/* Node devices come from the last listing while a client walks it (no
 * rescan per call); a name the listing had not is looked for afresh, and a
 * device gone is gone at the next listing.  "Listed" (what lets the daemon
 * answer on its reading thread) follows the listing held, and is FALSE
 * while another thread holds it. */
static void test_nodedev_rescan(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.host_root = g_build_filename(env.root, "host", NULL);
    g_autofree char *proc = g_build_filename(env.host_root, "proc/sys/kernel", NULL);
    g_autofree char *release = g_build_filename(proc, "osrelease", NULL);
    g_assert_cmpint(g_mkdir_with_parents(proc, 0755), ==, 0);
    g_assert_true(g_file_set_contents(release, "6.1.0-test\n", -1, NULL));
    add_pci(env.host_root, "0000:00:01.0", "0x1000\n");
    TvQemuDriver *drv = dt_open(&env, false);
    g_assert_false(tv_qemu_driver_node_device_listed(drv, "pci_0000_00_01_0")); /* none yet */
    g_auto(GStrv) first = tv_qemu_driver_node_device_names(drv, NULL, 0);
    g_assert_true(g_strv_contains((const char *const *)first, "pci_0000_00_01_0"));
    for (char **n = first; *n; n++)
        g_assert_true(tv_qemu_driver_node_device_listed(drv, *n));
    g_assert_false(tv_qemu_driver_node_device_listed(drv, "pci_0000_00_02_0"));
    g_assert_false(tv_qemu_driver_node_device_listed(drv, "pci_0000_00_00_9"));
    g_assert_false(tv_qemu_driver_node_device_listed(drv, "zzz"));
    add_pci(env.host_root, "0000:00:02.0", "0x1041\n");
    g_assert_false(tv_qemu_driver_node_device_listed(drv, "pci_0000_00_02_0"));
    g_assert_cmpint(tv_qemu_driver_node_device_lookup(drv, "pci_0000_00_02_0"), ==, 0);
    g_assert_true(tv_qemu_driver_node_device_listed(drv, "pci_0000_00_02_0")); /* rescanned */
    g_mutex_lock(&drv->nodedev_lock); /* another thread scanning */
    g_assert_false(tv_qemu_driver_node_device_listed(drv, "pci_0000_00_02_0"));
    g_mutex_unlock(&drv->nodedev_lock);
    g_autofree char *gone =
        g_build_filename(env.host_root, "sys/bus/pci/devices/0000:00:01.0", NULL);
    g_assert_cmpint(unlink(gone), ==, 0);
    g_assert_cmpint(tv_qemu_driver_node_device_lookup(drv, "pci_0000_00_01_0"), ==, 0);
    g_auto(GStrv) second = tv_qemu_driver_node_device_names(drv, NULL, 0);
    g_assert_false(g_strv_contains((const char *const *)second, "pci_0000_00_01_0"));
    g_assert_true(g_strv_contains((const char *const *)second, "pci_0000_00_02_0"));
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_node_device_lookup(drv, "pci_0000_00_01_0"), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_NODE_DEVICE);
    dt_env_clear(&env);
}

/* Bad arguments: libvirt's classes, clear messages, nothing else changes. */
static void test_bad_arguments(void)
{
    DtEnv env;
    if (!open_host(&env, "aarch64-numa-tx2"))
        return;
    TvQemuDriver *drv = env.drv;
    TvNodeStat s[TV_NODE_STATS_MAX];
    struct {
        int rc;
        TvErrorCode code;
    } cases[] = {
        { tv_qemu_driver_node_cpu_stats(drv, 8, 0, s), TV_ERR_INVALID_ARG },
        { tv_qemu_driver_node_cpu_stats(drv, -2, 0, s), TV_ERR_INVALID_ARG },
        { tv_qemu_driver_node_cpu_stats(drv, -1, 1, s), TV_ERR_INVALID_ARG },
        { tv_qemu_driver_node_memory_stats(drv, 2, 0, s), TV_ERR_INVALID_ARG },
        { tv_qemu_driver_node_cpu_map(drv, NULL, NULL, 4), TV_ERR_INVALID_ARG },
        { tv_qemu_driver_node_device_lookup(drv, "pci_0000_ff_00_0"), TV_ERR_NO_NODE_DEVICE },
        { tv_qemu_driver_compare_cpu(drv, "<cpu", 0), TV_ERR_XML_DETAIL },
        { tv_qemu_driver_compare_cpu(drv, "<memory/>", 0), TV_ERR_XML_ERROR },
        { tv_qemu_driver_compare_cpu(drv, "<cpu><arch>aarch64</arch></cpu>", 0), TV_ERR_XML_ERROR },
        { tv_qemu_driver_compare_cpu(drv, "<cpu><arch>aarch64</arch><model>x</model><y/></cpu>", 2),
          TV_ERR_XML_INVALID_SCHEMA },
        { tv_qemu_driver_compare_cpu(drv, "<cpu/>", 8), TV_ERR_INVALID_ARG },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %zu", i);
        g_assert_cmpint(cases[i].rc, ==, -1);
    }
    /* each reported its own error: run them again one by one for the code */
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_node_cpu_stats(drv, 8, 0, s), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    g_assert_nonnull(strstr(tv_error_message(), "cpuNum 8"));
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_node_device_lookup(drv, "nope"), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_NODE_DEVICE);
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_compare_cpu(drv, "<cpu", 0), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_XML_DETAIL);
    tv_error_reset();
    g_assert_null(tv_qemu_driver_baseline_cpu(drv, NULL, 0, 0));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    tv_error_reset();
    char *const guest[] = { (char *)"<cpu mode='custom'><model>cortex-a57</model></cpu>" };
    g_assert_null(tv_qemu_driver_baseline_cpu(drv, guest, 1, 0));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_CONFIG_UNSUPPORTED);
    tv_error_reset();
    g_assert_null(tv_qemu_driver_cpu_model_names(drv, "pdp11", 0));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    tv_error_reset();
    g_auto(GStrv) none = tv_qemu_driver_cpu_model_names(drv, "x86_64", 0);
    g_assert_nonnull(none);
    g_assert_cmpuint(g_strv_length(none), ==, 0);
    g_auto(GStrv) models = tv_qemu_driver_cpu_model_names(drv, "aarch64", 0);
    g_assert_true(g_strv_contains((const char *const *)models, "cortex-a57"));
    g_assert_true(g_strv_contains((const char *const *)models, "max"));
    dt_env_clear(&env);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(hosts); i++) {
        g_autofree char *path = g_strdup_printf("/driver/host/report/%s", hosts[i]);
        g_test_add_data_func(path, hosts[i], test_host_report);
    }
    g_test_add_func("/driver/host/bad-arguments", test_bad_arguments);
    g_test_add_func("/driver/host/nodedev-rescan", test_nodedev_rescan);
    return dt_run_guarded(g_test_run);
}
