/* <tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>:
 * parse, check and format.  What the guest sees and how swtpm runs are the
 * QEMU driver's (qemu_command_tpm.c, qemu_process_swtpm.c). */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_tpm_model, TV_TPM_MODEL_LAST, "", "tpm-tis", "tpm-crb")
TV_ENUM_IMPL(tv_tpm_backend, TV_TPM_BACKEND_LAST, "", "emulator")

void tv_domain_tpm_free(TvDomainTpm *tpm)
{
    if (!tpm)
        return;
    g_free(tpm->alias);
    g_free(tpm);
}

/* Backend types libvirt knows that tagvirt does not run, and why. */
static int refuse_backend_type(xmlNodePtr backend, const char *type)
{
    const char *why = NULL;
    if (strcmp(type, "passthrough") == 0)
        why = "a host TPM (/dev/tpm0) is not passed to guests: one guest would own the "
              "host's TPM, and its state could not follow the guest";
    else if (strcmp(type, "external") == 0)
        why = "a swtpm started by someone else is not supported: tagvirt starts and stops "
              "the guest's swtpm itself";
    if (!why)
        return 0;
    g_autofree char *path = tv_xml_node_path(backend);
    tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported TPM backend type '%s' in %s: %s; accepted: 'emulator'", type, path,
                    why);
    return -1;
}

static int parse_backend(xmlNodePtr backend, TvDomainTpm *tpm)
{
    static const char *const attrs[] = { "type", "version", NULL };
    static const char *const no_children[] = { NULL };
    g_autofree char *type = tv_xml_prop(backend, "type");
    if (type && refuse_backend_type(backend, type) < 0)
        return -1;
    int backend_type = 0;
    if (tv_xml_check_attrs(backend, attrs) < 0 ||
        tv_xml_check_children(backend, no_children, false) < 0 ||
        tv_conf_attr_enum(backend, "type", true, tv_tpm_backend_from_string, tv_tpm_backend_list,
                          &backend_type) < 0)
        return -1;
    tpm->backend = backend_type;
    g_autofree char *version = tv_xml_prop(backend, "version");
    if (version && strcmp(version, "2.0") != 0) {
        g_autofree char *path = tv_xml_node_path(backend);
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported TPM version '%s' in attribute 'version' of %s: tagvirt "
                        "emulates TPM 2.0 only (as libvirt chooses for the aarch64 virt "
                        "machine); accepted: '2.0'",
                        version, path);
        return -1;
    }
    return 0;
}

int tv_domain_parse_tpm(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "backend", "alias", NULL };
    if (devs->tpm) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "element <tpm> appears twice in /domain/devices: a guest has one TPM");
        return -1;
    }
    TvDomainTpm *tpm = g_new0(TvDomainTpm, 1);
    devs->tpm = tpm;
    int model = TV_TPM_MODEL_TIS;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "model", false, tv_tpm_model_from_string, tv_tpm_model_list,
                          &model) < 0)
        return -1;
    tpm->model = model;
    xmlNodePtr backend = tv_xml_child(node, "backend");
    if (!backend) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <backend type='emulator' version='2.0'/> in %s", path);
        return -1;
    }
    if (parse_backend(backend, tpm) < 0)
        return -1;
    return tv_domain_alias_parse_child(node, flags, &tpm->alias);
}

int tv_domain_tpm_refuse_transfer(const TvDomainDef *def, const char *operation)
{
    if (!def->devices.tpm)
        return 0;
    tv_error_report(TV_FROM_XML, TV_ERR_OPERATION_UNSUPPORTED,
                    "%s of domain '%s' refused: it has a <tpm model='%s'> whose state lives in "
                    "its swtpm, and tagvirt does not carry TPM state with the guest's state yet",
                    operation, def->name, tv_tpm_model_to_string(def->devices.tpm->model));
    return -1;
}

void tv_domain_format_tpm(TvXmlWriter *w, const TvDomainTpm *tpm, bool live)
{
    tv_xml_line(w, "<tpm model='%s'>", tv_tpm_model_to_string(tpm->model));
    w->indent++;
    tv_xml_line(w, "<backend type='%s' version='2.0'/>", tv_tpm_backend_to_string(tpm->backend));
    tv_domain_alias_format(w, tpm->alias, live);
    w->indent--;
    tv_xml_line(w, "</tpm>");
}
