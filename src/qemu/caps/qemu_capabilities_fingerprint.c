/* The fingerprint of a QEMU binary (what a cached probe is valid for), and
 * its one XML codec, <fingerprint .../>, used by the capabilities cache and
 * by the runtime's status files alike. */
#include "qemu_capabilities.h"
#include "qemu_capabilities_priv.h"
#include "tagvirt-config.h"
#include "tv_error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int tv_qemu_caps_fingerprint_read(const char *binary, const TvHostFacts *host,
                                  TvQemuCapsFingerprint *fp)
{
    struct stat st;
    if (stat(binary, &st) < 0) {
        tv_error_report_errno(TV_FROM_CAPABILITIES, errno, "cannot use QEMU binary '%s'", binary);
        return -1;
    }
    fp->binary_path = g_strdup(binary);
    fp->size = (long long)st.st_size;
    fp->mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    fp->ctime = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
    /* a cached probe of another device list (an upgrade that asks for new
     * -device types) is stale too */
    fp->tagvirt_version =
        g_strdup_printf("%s+devices-%08x", TAGVIRT_VERSION, tv_qemu_caps_device_list_hash());
    fp->kernel_release = g_strdup(host->kernel_release);
    fp->kvm_present = host->kvm_present;
    return 0;
}

void tv_qemu_caps_fingerprint_clear(TvQemuCapsFingerprint *fp)
{
    g_free(fp->binary_path);
    g_free(fp->tagvirt_version);
    g_free(fp->kernel_release);
    memset(fp, 0, sizeof(*fp));
}

void tv_qemu_caps_fingerprint_copy(TvQemuCapsFingerprint *dst, const TvQemuCapsFingerprint *src)
{
    *dst = *src;
    dst->binary_path = g_strdup(src->binary_path);
    dst->tagvirt_version = g_strdup(src->tagvirt_version);
    dst->kernel_release = g_strdup(src->kernel_release);
}

bool tv_qemu_caps_fingerprint_equal(const TvQemuCapsFingerprint *a, const TvQemuCapsFingerprint *b)
{
    return g_strcmp0(a->binary_path, b->binary_path) == 0 && a->size == b->size &&
           a->mtime == b->mtime && a->ctime == b->ctime &&
           g_strcmp0(a->tagvirt_version, b->tagvirt_version) == 0 &&
           g_strcmp0(a->kernel_release, b->kernel_release) == 0 && a->kvm_present == b->kvm_present;
}

void tv_qemu_caps_fingerprint_format(TvXmlWriter *w, const TvQemuCapsFingerprint *fp)
{
    g_autofree char *p = tv_xml_esc(fp->binary_path);
    g_autofree char *v = tv_xml_esc(fp->tagvirt_version);
    g_autofree char *k = tv_xml_esc(fp->kernel_release);
    tv_xml_line(w,
                "<fingerprint path='%s' size='%lld' mtime='%lld' ctime='%lld' tagvirt='%s' "
                "kernel='%s' kvm='%s'/>",
                p, fp->size, fp->mtime, fp->ctime, v, k, fp->kvm_present ? "yes" : "no");
}

static int required(xmlNodePtr node, const char *attr, char **out)
{
    if ((*out = tv_xml_prop(node, attr)))
        return 0;
    tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR, "<fingerprint> has no attribute '%s'",
                    attr);
    return -1;
}

static int number(xmlNodePtr node, const char *attr, long long *out)
{
    g_autofree char *v = NULL;
    unsigned long long n = 0;
    g_autofree char *what = g_strdup_printf("attribute '%s' of <fingerprint>", attr);
    if (required(node, attr, &v) < 0 || tv_parse_ull(v, 0, G_MAXINT64, what, &n) < 0)
        return -1;
    *out = (long long)n;
    return 0;
}

int tv_qemu_caps_fingerprint_parse(xmlNodePtr node, TvQemuCapsFingerprint *fp)
{
    static const char *const attrs[] = { "path",    "size",   "mtime", "ctime",
                                         "tagvirt", "kernel", "kvm",   NULL };
    g_autofree char *kvm = NULL;
    memset(fp, 0, sizeof(*fp));
    if (!node) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR, "missing <fingerprint>");
        return -1;
    }
    if (tv_xml_check_attrs(node, attrs) < 0 || required(node, "path", &fp->binary_path) < 0 ||
        number(node, "size", &fp->size) < 0 || number(node, "mtime", &fp->mtime) < 0 ||
        number(node, "ctime", &fp->ctime) < 0 ||
        required(node, "tagvirt", &fp->tagvirt_version) < 0 ||
        required(node, "kernel", &fp->kernel_release) < 0 || required(node, "kvm", &kvm) < 0)
        goto fail;
    if (!g_str_equal(kvm, "yes") && !g_str_equal(kvm, "no")) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute 'kvm' of <fingerprint> must be 'yes' or 'no', not '%s'", kvm);
        goto fail;
    }
    fp->kvm_present = g_str_equal(kvm, "yes");
    return 0;
fail:
    tv_qemu_caps_fingerprint_clear(fp);
    return -1;
}
