/* <cpu>: mode, match, check, migratable, <model fallback>, <topology>,
 * <feature>; parse and format (domain_cpu.h). */
#include "domain_conf.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_cpu_match, TV_CPU_MATCH_LAST, "", "exact", "minimum", "strict")
TV_ENUM_IMPL(tv_cpu_check, TV_CPU_CHECK_LAST, "", "none", "partial", "full")
TV_ENUM_IMPL(tv_cpu_fallback, TV_CPU_FALLBACK_LAST, "", "allow", "forbid")
TV_ENUM_IMPL(tv_cpu_feature_policy, TV_CPU_POLICY_LAST, "", "force", "require", "optional",
             "disable", "forbid")

#define TV_CPU_FEATURES_MAX 64

static const char *const none[] = { NULL };

bool tv_cpu_feature_policy_on(TvCpuFeaturePolicy policy)
{
    return policy == TV_CPU_POLICY_FORCE || policy == TV_CPU_POLICY_REQUIRE ||
           policy == TV_CPU_POLICY_OPTIONAL;
}

/* <topology sockets='S' cores='C' threads='T'/>; dies and clusters (libvirt
 * writes dies='1') only as 1: QEMU's virt machine has no dies, and clusters
 * are not modelled here. */
static int parse_topology(xmlNodePtr node, TvDomainCpu *cpu)
{
    static const char *const attrs[] = { "sockets", "dies", "clusters", "cores", "threads", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0 ||
        tv_conf_attr_fixed(node, "dies", false, "1") < 0 ||
        tv_conf_attr_fixed(node, "clusters", false, "1") < 0)
        return -1;
    const char *names[] = { "sockets", "cores", "threads" };
    unsigned *fields[] = { &cpu->sockets, &cpu->cores, &cpu->threads };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *value = NULL;
        unsigned long long v = 0;
        if (tv_conf_attr_required(node, names[i], &value) < 0 ||
            tv_conf_number(node, names[i], value, 1, TV_VCPUS_MAX, &v) < 0)
            return -1;
        *fields[i] = (unsigned)v;
    }
    return 0;
}

static int parse_model(xmlNodePtr node, TvDomainCpu *cpu)
{
    static const char *const attrs[] = { "fallback", NULL };
    int fallback = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, true) < 0 ||
        tv_conf_attr_enum(node, "fallback", false, tv_cpu_fallback_from_string,
                          tv_cpu_fallback_list, &fallback) < 0)
        return -1;
    cpu->fallback = fallback;
    cpu->model = tv_xml_text(node);
    if (!cpu->model) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element /domain/cpu/model must not be empty");
        return -1;
    }
    return tv_conf_word_check(node, NULL, cpu->model);
}

static int parse_features(xmlNodePtr node, TvDomainCpu *cpu)
{
    static const char *const attrs[] = { "policy", "name", NULL };
    unsigned n = tv_xml_child_count(node, "feature");
    if (n > TV_CPU_FEATURES_MAX) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "/domain/cpu has %u <feature> elements: at most %d are allowed", n,
                        TV_CPU_FEATURES_MAX);
        return -1;
    }
    cpu->features = g_new0(TvDomainCpuFeature, n ? n : 1);
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "feature") != 0)
            continue;
        TvDomainCpuFeature *f = &cpu->features[cpu->nfeatures++];
        int policy = 0;
        if (tv_xml_check_attrs(c, attrs) < 0 || tv_xml_check_children(c, none, false) < 0 ||
            tv_conf_attr_enum(c, "policy", true, tv_cpu_feature_policy_from_string,
                              tv_cpu_feature_policy_list, &policy) < 0 ||
            tv_conf_attr_required(c, "name", &f->name) < 0 ||
            tv_conf_word_check(c, "name", f->name) < 0)
            return -1;
        f->policy = policy;
        for (size_t i = 0; i + 1 < cpu->nfeatures; i++) {
            if (strcmp(cpu->features[i].name, f->name) == 0) {
                tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                                "CPU feature '%s' is named more than once in /domain/cpu", f->name);
                return -1;
            }
        }
    }
    return 0;
}

static int parse_cpu_attrs(xmlNodePtr node, TvDomainCpu *cpu, int *mode)
{
    static const char *const attrs[] = { "mode", "match", "check", "migratable", NULL };
    int match = 0, check = 0, migratable = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "mode", false, tv_cpu_mode_from_string, tv_cpu_mode_list, mode) <
            0 ||
        tv_conf_attr_enum(node, "match", false, tv_cpu_match_from_string, tv_cpu_match_list,
                          &match) < 0 ||
        tv_conf_attr_enum(node, "check", false, tv_cpu_check_from_string, tv_cpu_check_list,
                          &check) < 0 ||
        tv_conf_attr_enum(node, "migratable", false, tv_feature_state_from_string,
                          tv_feature_state_list, &migratable) < 0)
        return -1;
    cpu->match = match;
    cpu->check = check;
    cpu->migratable = migratable;
    return 0;
}

/* What libvirt allows per mode. */
static int check_mode_rules(const TvDomainCpu *cpu, int mode, bool has_model)
{
    const char *what = NULL;
    if (mode != TV_CPU_MODE_CUSTOM && has_model)
        what = "<model>";
    else if (mode != TV_CPU_MODE_CUSTOM && cpu->match)
        what = "attribute 'match'";
    else if (mode == TV_CPU_MODE_CUSTOM && cpu->migratable)
        what = "attribute 'migratable'";
    if (what) {
        tv_error_report(
            TV_FROM_XML, TV_ERR_XML_ERROR, "%s in /domain/cpu is not allowed with mode='%s' (%s)",
            what, tv_cpu_mode_to_string(mode),
            mode == TV_CPU_MODE_CUSTOM ? "migratable is for host-passthrough and maximum"
                                       : "<model> and match are for mode='custom'");
        return -1;
    }
    if (mode == TV_CPU_MODE_CUSTOM && !has_model) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "/domain/cpu with mode='custom' needs <model>NAME</model>");
        return -1;
    }
    return 0;
}

int tv_domain_parse_cpu(xmlNodePtr node, TvDomainCpu *cpu)
{
    static const char *const children[] = { "model", "topology", "feature", NULL };
    static const char *const once[] = { "model", "topology", NULL };
    int mode = TV_CPU_MODE_CUSTOM; /* libvirt's default for a written <cpu> */
    if (parse_cpu_attrs(node, cpu, &mode) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, once) < 0)
        return -1;
    xmlNodePtr topology = tv_xml_child(node, "topology");
    if (topology && parse_topology(topology, cpu) < 0)
        return -1;
    if (parse_features(node, cpu) < 0)
        return -1;
    xmlNodePtr model = tv_xml_child(node, "model");
    g_autofree char *mode_attr = tv_xml_prop(node, "mode");
    if (!mode_attr && !model && (topology || cpu->nfeatures || cpu->check))
        mode = TV_CPU_MODE_DEFAULT; /* no model: the emulator's default model */
    if (mode != TV_CPU_MODE_DEFAULT && check_mode_rules(cpu, mode, model != NULL) < 0)
        return -1;
    cpu->mode = mode;
    return model ? parse_model(model, cpu) : 0;
}

static char *cpu_attrs(const TvDomainCpu *cpu)
{
    GString *a = g_string_new(NULL);
    if (cpu->mode != TV_CPU_MODE_DEFAULT)
        g_string_append_printf(a, " mode='%s'", tv_cpu_mode_to_string(cpu->mode));
    if (cpu->match)
        g_string_append_printf(a, " match='%s'", tv_cpu_match_to_string(cpu->match));
    if (cpu->check)
        g_string_append_printf(a, " check='%s'", tv_cpu_check_to_string(cpu->check));
    if (cpu->migratable)
        g_string_append_printf(a, " migratable='%s'", tv_feature_state_to_string(cpu->migratable));
    return g_string_free(a, FALSE);
}

void tv_domain_format_cpu(TvXmlWriter *w, const TvDomainCpu *cpu)
{
    bool topology = cpu->sockets > 0;
    if (cpu->mode == TV_CPU_MODE_DEFAULT && !topology && !cpu->nfeatures && !cpu->check)
        return;
    g_autofree char *attrs = cpu_attrs(cpu);
    if (!cpu->model && !topology && !cpu->nfeatures) {
        tv_xml_line(w, "<cpu%s/>", attrs);
        return;
    }
    tv_xml_line(w, "<cpu%s>", attrs);
    w->indent++;
    if (cpu->model) {
        g_autofree char *model = tv_xml_esc(cpu->model);
        g_autofree char *fb =
            cpu->fallback
                ? g_strdup_printf(" fallback='%s'", tv_cpu_fallback_to_string(cpu->fallback))
                : g_strdup("");
        tv_xml_line(w, "<model%s>%s</model>", fb, model);
    }
    if (topology)
        tv_xml_line(w, "<topology sockets='%u' cores='%u' threads='%u'/>", cpu->sockets, cpu->cores,
                    cpu->threads);
    for (size_t i = 0; i < cpu->nfeatures; i++) {
        g_autofree char *name = tv_xml_esc(cpu->features[i].name);
        tv_xml_line(w, "<feature policy='%s' name='%s'/>",
                    tv_cpu_feature_policy_to_string(cpu->features[i].policy), name);
    }
    w->indent--;
    tv_xml_line(w, "</cpu>");
}
