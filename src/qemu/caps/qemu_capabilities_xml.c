/* The caps XML: the cache file and the tests' expected output.  Sorted and
 * one fact per line, so a diff between two QEMUs reads as their difference
 * (format in docs/capabilities.rst). */
#include "qemu_capabilities_priv.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <inttypes.h>
#include <string.h>

static const char *yesno(bool b)
{
    return b ? "yes" : "no";
}

static void format_result(TvXmlWriter *w, const char *state, const TvGuestAbiResult *r)
{
    if (!r->ran) {
        tv_xml_line(w, "<mte state='%s' ran='no'/>", state);
        return;
    }
    if (r->refused) {
        g_autofree char *e = tv_xml_esc(r->error);
        tv_xml_line(w, "<mte state='%s' refused='%s'/>", state, e);
        return;
    }
    const TvMteAbi *a = &r->abi;
    int level = tv_mte_abi_level(a);
    g_autofree char *level_s = level >= 0 ? g_strdup_printf("%d", level) : g_strdup("none");
    g_autofree char *tags = NULL;
    switch (r->tags.result) {
    case TV_TAG_TEST_NONE:
        tags = g_strdup("");
        break;
    case TV_TAG_TEST_OK:
    case TV_TAG_TEST_FAILED:
        tags = r->tags.fault ? g_strdup_printf(" tagsRead='%s' tagsFaultEsr='0x%016" PRIx64 "'",
                                               r->tags.read, r->tags.esr)
                             : g_strdup_printf(" tagsRead='%s'", r->tags.read);
        break;
    }
    tv_xml_line(w,
                "<mte state='%s' pfr1='0x%016" PRIx64 "' pfr2='0x%016" PRIx64 "' level='%s' "
                "mte='%u' mteFrac='%u' mtex='%u' mtefar='%u' mtestoreonly='%u' mteperm='%u' "
                "tagStorage='%s'%s/>",
                state, r->pfr1, r->pfr2, level_s, a->mte, a->mte_frac, a->mtex, a->mtefar,
                a->mtestoreonly, a->mteperm,
                r->tags.result == TV_TAG_TEST_OK       ? "works"
                : r->tags.result == TV_TAG_TEST_FAILED ? "broken"
                                                       : "none",
                tags);
}

char *tv_qemu_caps_format(const TvQemuCaps *caps)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    g_autofree char *bin = tv_xml_esc(caps->binary);
    g_autofree char *pkg = tv_xml_esc(caps->package);
    g_autofree char *arch = tv_xml_esc(caps->arch);

    tv_xml_line(&w, "<qemuCaps>");
    w.indent++;
    tv_xml_line(&w, "<emulator path='%s' arch='%s'/>", bin, arch);
    tv_xml_line(&w, "<version major='%u' minor='%u' micro='%u' package='%s'/>",
                caps->version / 1000000, caps->version / 1000 % 1000, caps->version % 1000, pkg);
    const TvQemuCapsFingerprint *fp = &caps->fingerprint;
    if (fp->binary_path)
        tv_qemu_caps_fingerprint_format(&w, fp);
    for (int f = TV_QEMU_CAPS_NONE + 1; f < TV_QEMU_CAPS_LAST; f++) {
        if (tv_qemu_caps_get(caps, (TvQemuCapsFlag)f))
            tv_xml_line(&w, "<flag name='%s'/>", tv_qemu_caps_flag_to_string((TvQemuCapsFlag)f));
    }
    for (size_t i = 0; i < caps->nmachines; i++) {
        const TvQemuMachine *m = &caps->machines[i];
        g_autofree char *name = tv_xml_esc(m->name);
        g_autofree char *alias = NULL;
        if (m->alias) {
            g_autofree char *a = tv_xml_esc(m->alias);
            alias = g_strdup_printf(" alias='%s'", a);
        }
        tv_xml_line(&w, "<machine name='%s'%s default='%s' deprecated='%s' maxCpus='%u'/>", name,
                    alias ? alias : "", yesno(m->is_default), yesno(m->deprecated), m->max_cpus);
    }
    for (size_t i = 0; i < caps->ncpu_models; i++) {
        const TvQemuCpuModel *c = &caps->cpu_models[i];
        g_autofree char *name = tv_xml_esc(c->name);
        g_autofree char *type = tv_xml_esc(c->type_name);
        if (c->aarch64) {
            g_autofree char *features = c->features ? g_strjoinv(" ", c->features) : g_strdup("");
            tv_xml_line(&w, "<cpu name='%s' type='%s' aarch64='yes' features='%s'/>", name, type,
                        features);
        } else {
            tv_xml_line(&w, "<cpu name='%s' type='%s' aarch64='no'/>", name, type);
        }
    }
    for (size_t i = 0; i < caps->nmte_caps; i++) {
        const TvQemuMteCaps *mc = &caps->mte_caps[i];
        tv_xml_line(&w, "<mteCaps accel='%s'>", tv_accel_to_string(mc->accel));
        w.indent++;
        for (size_t j = 0; j < mc->nlevels; j++)
            tv_xml_line(&w, "<level>%d</level>", mc->levels[j]);
        w.indent--;
        tv_xml_line(&w, "</mteCaps>");
    }
    for (size_t i = 0; i < caps->nprobes; i++) {
        const TvGuestAbiProbe *p = &caps->probes[i];
        g_autofree char *cpu = tv_xml_esc(p->cpu_model);
        tv_xml_line(&w, "<guestAbi cpu='%s' accel='%s'>", cpu, tv_accel_to_string(p->accel));
        w.indent++;
        format_result(&w, "on", &p->mte_on);
        format_result(&w, "off", &p->mte_off);
        w.indent--;
        tv_xml_line(&w, "</guestAbi>");
    }
    tv_xml_line(&w, "<commands>");
    w.indent++;
    for (char **c = caps->commands; c && *c; c++) {
        g_autofree char *name = tv_xml_esc(*c);
        tv_xml_line(&w, "<command name='%s'/>", name);
    }
    w.indent--;
    tv_xml_line(&w, "</commands>");
    tv_qemu_caps_format_devices(&w, caps);
    w.indent--;
    tv_xml_line(&w, "</qemuCaps>");
    return tv_xml_writer_finish(&w);
}

/* ---- parsing ---- */

static int get_yesno(xmlNodePtr node, const char *attr, bool *out)
{
    g_autofree char *v = tv_xml_prop(node, attr);
    if (v && g_str_equal(v, "yes"))
        *out = true;
    else if (v && g_str_equal(v, "no"))
        *out = false;
    else {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute '%s' of %s must be 'yes' or 'no', not '%s'", attr, path,
                        v ? v : "(absent)");
        return -1;
    }
    return 0;
}

static int get_ull(xmlNodePtr node, const char *attr, unsigned long long max,
                   unsigned long long *out)
{
    g_autofree char *v = tv_xml_prop(node, attr);
    /* fast path for the cache: the element path is only built for an error */
    char *end = NULL;
    if (v && g_ascii_isdigit(v[0])) {
        guint64 n = g_ascii_strtoull(v, &end, 0);
        if (end && *end == '\0' && n <= max) {
            *out = n;
            return 0;
        }
    }
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *what = g_strdup_printf("attribute '%s' of %s", attr, path);
    return tv_parse_ull(v ? v : "", 0, max, what, out);
}

static int get_str(xmlNodePtr node, const char *attr, char **out)
{
    *out = tv_xml_prop(node, attr);
    if (*out)
        return 0;
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR, "%s has no attribute '%s'", path, attr);
    return -1;
}

static int parse_version(xmlNodePtr node, TvQemuCaps *caps)
{
    static const char *const attrs[] = { "major", "minor", "micro", "package", NULL };
    unsigned long long major, minor, micro;
    if (tv_xml_check_attrs(node, attrs) < 0 || get_ull(node, "major", 4000, &major) < 0 ||
        get_ull(node, "minor", 999, &minor) < 0 || get_ull(node, "micro", 999, &micro) < 0)
        return -1;
    caps->version = (unsigned)(major * 1000000 + minor * 1000 + micro);
    caps->package = tv_xml_prop(node, "package");
    return 0;
}

/* <flag name='virt-mte'/>: the binary has it */
static int parse_flag(xmlNodePtr node, TvQemuCaps *caps)
{
    static const char *const attrs[] = { "name", NULL };
    g_autofree char *name = NULL;
    if (tv_xml_check_attrs(node, attrs) < 0 || get_str(node, "name", &name) < 0)
        return -1;
    int f = tv_qemu_caps_flag_from_string(name);
    if (f <= TV_QEMU_CAPS_NONE) {
        g_autofree char *list = tv_qemu_caps_flag_list();
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "unknown capability flag '%s' in <flag name=...>: expected one of %s", name,
                        list);
        return -1;
    }
    tv_qemu_caps_set(caps, (TvQemuCapsFlag)f, true);
    return 0;
}

static int parse_machine(xmlNodePtr node, TvQemuMachine *m)
{
    static const char *const attrs[] = {
        "name", "alias", "default", "deprecated", "maxCpus", NULL
    };
    unsigned long long max;
    if (tv_xml_check_attrs(node, attrs) < 0 || get_str(node, "name", &m->name) < 0 ||
        get_yesno(node, "default", &m->is_default) < 0 ||
        get_yesno(node, "deprecated", &m->deprecated) < 0 ||
        get_ull(node, "maxCpus", G_MAXUINT, &max) < 0)
        return -1;
    m->alias = tv_xml_prop(node, "alias");
    m->max_cpus = (unsigned)max;
    return 0;
}

/* tagStorage='none|works|broken', tagsRead='1234', tagsFaultEsr='0x...' */
static int parse_tag_test(xmlNodePtr node, TvGuestAbiResult *r)
{
    g_autofree char *storage = NULL, *read = NULL;
    if (get_str(node, "tagStorage", &storage) < 0)
        return -1;
    bool expected = tv_mte_abi_has_tag_storage(&r->abi);
    if (g_str_equal(storage, "none") && !expected)
        return 0;
    if (!expected || (!g_str_equal(storage, "works") && !g_str_equal(storage, "broken"))) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute 'tagStorage' of %s is '%s'; expected %s for MTE %u", path,
                        storage, expected ? "'works' or 'broken'" : "'none'", r->abi.mte);
        return -1;
    }
    if (get_str(node, "tagsRead", &read) < 0)
        return -1;
    bool hex = strlen(read) == 4;
    for (size_t i = 0; hex && i < 4; i++)
        hex = g_ascii_isxdigit(read[i]) && !g_ascii_isupper(read[i]);
    if (!hex) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute 'tagsRead' of %s is '%s'; expected four tags, 0-9 a-f", path,
                        read);
        return -1;
    }
    memcpy(r->tags.read, read, 5);
    g_autofree char *esr = tv_xml_prop(node, "tagsFaultEsr");
    if (esr) {
        unsigned long long v;
        if (get_ull(node, "tagsFaultEsr", G_MAXUINT64, &v) < 0)
            return -1;
        r->tags.fault = true;
        r->tags.esr = v;
    }
    r->tags.result =
        !r->tags.fault && g_str_equal(read, "1234") ? TV_TAG_TEST_OK : TV_TAG_TEST_FAILED;
    if ((r->tags.result == TV_TAG_TEST_OK) != g_str_equal(storage, "works")) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute 'tagStorage' of %s says '%s' but tagsRead='%s'%s", path, storage,
                        read, r->tags.fault ? " with a fault" : "");
        return -1;
    }
    return 0;
}

static int parse_result(xmlNodePtr node, TvGuestAbiResult *r)
{
    static const char *const attrs[] = { "state",      "ran",      "refused",      "pfr1",
                                         "pfr2",       "level",    "mte",          "mteFrac",
                                         "mtex",       "mtefar",   "mtestoreonly", "mteperm",
                                         "tagStorage", "tagsRead", "tagsFaultEsr", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0)
        return -1;
    g_autofree char *ran = tv_xml_prop(node, "ran");
    if (ran) {
        if (g_str_equal(ran, "no"))
            return 0;
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute 'ran' of <mte> can only be 'no', not '%s'", ran);
        return -1;
    }
    r->ran = true;
    if ((r->error = tv_xml_prop(node, "refused"))) {
        r->refused = true;
        return 0;
    }
    unsigned long long pfr1, pfr2;
    if (get_ull(node, "pfr1", G_MAXUINT64, &pfr1) < 0 ||
        get_ull(node, "pfr2", G_MAXUINT64, &pfr2) < 0)
        return -1;
    r->pfr1 = pfr1;
    r->pfr2 = pfr2;
    /* the decoded attributes are for readers: the registers are the fact */
    tv_mte_abi_from_regs(r->pfr1, r->pfr2, &r->abi);
    return parse_tag_test(node, r);
}

static int parse_guest_abi(xmlNodePtr node, TvGuestAbiProbe *p)
{
    static const char *const attrs[] = { "cpu", "accel", NULL };
    static const char *const children[] = { "mte", NULL };
    g_autofree char *accel = NULL;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        get_str(node, "cpu", &p->cpu_model) < 0 || get_str(node, "accel", &accel) < 0)
        return -1;
    int a = tv_accel_from_string(accel);
    if (a <= 0) {
        g_autofree char *list = tv_accel_list();
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "attribute 'accel' of <guestAbi> must be one of %s, not '%s'", list, accel);
        return -1;
    }
    p->accel = (TvAccel)a;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *state = tv_xml_prop(c, "state");
        TvGuestAbiResult *r = g_strcmp0(state, "on") == 0    ? &p->mte_on
                              : g_strcmp0(state, "off") == 0 ? &p->mte_off
                                                             : NULL;
        if (!r) {
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                            "attribute 'state' of <mte> in <guestAbi cpu='%s'> must be 'on' or "
                            "'off'",
                            p->cpu_model);
            return -1;
        }
        if (parse_result(c, r) < 0)
            return -1;
    }
    return 0;
}

static int parse_mte_caps(xmlNodePtr node, TvQemuMteCaps *mc)
{
    g_autofree char *accel = tv_xml_prop(node, "accel");
    int a = tv_accel_from_string(accel);
    if (a <= 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "<mteCaps> needs accel='tcg' or accel='kvm'");
        return -1;
    }
    mc->accel = (TvAccel)a;
    mc->levels = g_new0(int, tv_xml_child_count(node, "level") + 1);
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *text = tv_xml_text(c);
        unsigned long long v;
        if (tv_parse_ull(text ? text : "", 0, 15, "<level> of <mteCaps>", &v) < 0)
            return -1;
        mc->levels[mc->nlevels++] = (int)v;
    }
    return 0;
}

static int parse_commands(xmlNodePtr node, TvQemuCaps *caps)
{
    GPtrArray *names = g_ptr_array_new();
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            g_ptr_array_add(names, tv_xml_prop(c, "name"));
    }
    g_ptr_array_add(names, NULL);
    caps->commands = (char **)g_ptr_array_free(names, FALSE);
    for (char **c = caps->commands; *c; c++) {
        if (c[1] && strcmp(c[0], c[1]) >= 0) {
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                            "<commands> must be sorted and unique ('%s' before '%s')", c[0], c[1]);
            return -1;
        }
    }
    return 0;
}

static int parse_root(xmlNodePtr root, TvQemuCaps *caps)
{
    static const char *const children[] = { "emulator", "version",     "fingerprint", "flag",
                                            "machine",  "cpu",         "mteCaps",     "guestAbi",
                                            "commands", "deviceTypes", NULL };
    if (tv_xml_check_children(root, children, false) < 0)
        return -1;
    caps->machines = g_new0(TvQemuMachine, tv_xml_child_count(root, "machine") + 1);
    caps->cpu_models = g_new0(TvQemuCpuModel, tv_xml_child_count(root, "cpu") + 1);
    caps->mte_caps = g_new0(TvQemuMteCaps, tv_xml_child_count(root, "mteCaps") + 1);
    caps->probes = g_new0(TvGuestAbiProbe, tv_xml_child_count(root, "guestAbi") + 1);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        int rc = 0;
        if (g_str_equal(name, "emulator")) {
            caps->binary = tv_xml_prop(n, "path");
            caps->arch = tv_xml_prop(n, "arch");
        } else if (g_str_equal(name, "version")) {
            rc = parse_version(n, caps);
        } else if (g_str_equal(name, "fingerprint")) {
            rc = tv_qemu_caps_fingerprint_parse(n, &caps->fingerprint);
        } else if (g_str_equal(name, "flag")) {
            rc = parse_flag(n, caps);
        } else if (g_str_equal(name, "machine")) {
            rc = parse_machine(n, &caps->machines[caps->nmachines++]);
        } else if (g_str_equal(name, "cpu")) {
            TvQemuCpuModel *c = &caps->cpu_models[caps->ncpu_models++];
            rc = get_str(n, "name", &c->name) < 0 || get_str(n, "type", &c->type_name) < 0 ||
                         get_yesno(n, "aarch64", &c->aarch64) < 0
                     ? -1
                     : 0;
            /* required of 64-bit models: a cache file without it is from before */
            g_autofree char *features = c->aarch64 ? tv_xml_prop(n, "features") : NULL;
            if (rc == 0 && c->aarch64 && !features) {
                tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                                "<cpu name='%s'> of a 64-bit model has no 'features' attribute",
                                c->name);
                rc = -1;
            } else if (features) {
                c->features = g_strsplit_set(features, " ", -1);
                /* "" splits into one empty word */
                if (c->features[0] && !*c->features[0])
                    g_clear_pointer(&c->features, g_strfreev);
            }
        } else if (g_str_equal(name, "mteCaps")) {
            rc = parse_mte_caps(n, &caps->mte_caps[caps->nmte_caps++]);
        } else if (g_str_equal(name, "guestAbi")) {
            rc = parse_guest_abi(n, &caps->probes[caps->nprobes++]);
        } else if (g_str_equal(name, "commands")) {
            rc = parse_commands(n, caps);
        } else if (g_str_equal(name, "deviceTypes")) {
            rc = tv_qemu_caps_parse_devices(n, caps);
        }
        if (rc < 0)
            return -1;
    }
    /* required: a cache entry written before tagvirt recorded device types is a miss */
    if (!tv_xml_child(root, "deviceTypes")) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "QEMU capabilities XML has no <deviceTypes> (written by an older "
                        "tagvirt)");
        return -1;
    }
    return 0;
}

TvQemuCaps *tv_qemu_caps_parse(const char *xml, size_t len)
{
    xmlDocPtr doc = tv_xml_parse(xml, len, "QEMU capabilities XML");
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_new();
    int rc = -1;
    if (!root || !g_str_equal((const char *)root->name, "qemuCaps"))
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_XML_ERROR,
                        "QEMU capabilities XML must have <qemuCaps> as its root element");
    else
        rc = parse_root(root, caps);
    xmlFreeDoc(doc);
    if (rc < 0)
        return NULL;
    return g_steal_pointer(&caps);
}
