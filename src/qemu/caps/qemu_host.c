/* Host facts that decide what KVM guests get, read under a root so tests can
 * use fixture hosts (see qemu_host.h for the layout). */
#include "qemu_host.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define HOST_FILE_MAX      (1024 * 1024)
#define HWCAP2_MTE_BIT     (1UL << 18)
#define HWCAP2_MTE3_BIT    (1UL << 22)
#define KVM_CAP_ARM_MTE_NR 205

void tv_host_facts_free(TvHostFacts *host)
{
    if (!host)
        return;
    g_free(host->root);
    g_free(host->kernel_release);
    g_free(host->arch);
    g_free(host);
}

static bool is_real_root(const char *root)
{
    return !root || g_str_equal(root, "/");
}

/* Words of the first 'Features' line of cpuinfo (all CPUs list the same). */
static void read_cpuinfo(const char *path, TvHostFacts *host, bool need_arch)
{
    g_autofree char *data = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, HOST_FILE_MAX, &data, &len) < 0) {
        tv_error_reset(); /* a host without cpuinfo has no MTE words: not fatal */
        return;
    }
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    bool features_seen = false;
    for (char **l = lines; *l; l++) {
        char *colon = strchr(*l, ':');
        if (!colon)
            continue;
        g_autofree char *key = g_strstrip(g_strndup(*l, (gsize)(colon - *l)));
        if (!features_seen && g_str_equal(key, "Features")) {
            features_seen = true;
            g_auto(GStrv) words = g_strsplit_set(colon + 1, " \t", -1);
            for (char **w = words; *w; w++) {
                if (g_str_equal(*w, "mte"))
                    host->hwcap_mte = true;
                else if (g_str_equal(*w, "mte3"))
                    host->hwcap_mte3 = true;
            }
        }
        /* under a fixture root uname cannot be faked: the cpuinfo layout tells */
        if (need_arch && !host->arch && g_str_equal(key, "vendor_id"))
            host->arch = g_strdup("x86_64");
    }
    if (need_arch && !host->arch && features_seen)
        host->arch = g_strdup("aarch64"); /* only arm64 cpuinfo has 'Features' */
}

/* A fixture /dev/kvm lists capabilities as NAME=VALUE lines. */
static void read_fixture_kvm(const char *path, TvHostFacts *host)
{
    g_autofree char *data = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, HOST_FILE_MAX, &data, &len) < 0) {
        tv_error_reset();
        return;
    }
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_strstrip(*l);
        if (g_str_equal(*l, "KVM_CAP_ARM_MTE=1"))
            host->kvm_cap_arm_mte = true;
    }
}

static void read_real_kvm(TvHostFacts *host)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_MTE_NR) > 0)
        host->kvm_cap_arm_mte = true;
    close(fd);
}

TvHostFacts *tv_host_facts_read(const char *root)
{
    g_autoptr(TvHostFacts) host = g_new0(TvHostFacts, 1);
    bool real = is_real_root(root);
    host->root = g_strdup(real ? "/" : root);

    g_autofree char *osrelease = g_build_filename(host->root, "proc/sys/kernel/osrelease", NULL);
    g_autofree char *cpuinfo = g_build_filename(host->root, "proc/cpuinfo", NULL);
    g_autofree char *kvm = g_build_filename(host->root, "dev/kvm", NULL);

    if (real) {
        struct utsname u;
        if (uname(&u) < 0) {
            tv_error_report_errno(TV_FROM_CAPABILITIES, errno, "cannot read the host's uname");
            return NULL;
        }
        host->kernel_release = g_strdup(u.release);
        host->arch = g_strdup(u.machine);
    } else {
        g_autofree char *data = NULL;
        size_t len = 0;
        if (tv_file_read_all(osrelease, HOST_FILE_MAX, &data, &len) < 0) {
            tv_error_prefix("host root '%s' has no kernel release", host->root);
            return NULL;
        }
        host->kernel_release = g_strdup(g_strstrip(data));
    }

    read_cpuinfo(cpuinfo, host, !real);
    if (!host->arch)
        host->arch = g_strdup("unknown");

    struct stat st;
    host->kvm_present = stat(kvm, &st) == 0;
    if (real) {
#ifdef AT_HWCAP2
        if (g_str_equal(host->arch, "aarch64")) {
            unsigned long hwcap2 = getauxval(AT_HWCAP2);
            host->hwcap_mte |= (hwcap2 & HWCAP2_MTE_BIT) != 0;
            host->hwcap_mte3 |= (hwcap2 & HWCAP2_MTE3_BIT) != 0;
        }
#endif
        if (host->kvm_present)
            read_real_kvm(host);
    } else if (host->kvm_present && S_ISREG(st.st_mode)) {
        read_fixture_kvm(kvm, host);
    }
    return g_steal_pointer(&host);
}

int tv_host_mte_level(const TvHostFacts *host)
{
    if (!tv_host_kvm_usable(host) || !host->kvm_cap_arm_mte || !host->hwcap_mte)
        return 0;
    return host->hwcap_mte3 ? 3 : 2;
}

bool tv_host_kvm_usable(const TvHostFacts *host)
{
    return host && host->kvm_present && host->arch && g_str_equal(host->arch, "aarch64");
}
