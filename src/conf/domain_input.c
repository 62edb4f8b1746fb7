/* <input type='tablet|keyboard|mouse' bus='usb|virtio'>. */
#include "domain_parse_priv.h"
#include "tv_error.h"

TV_ENUM_IMPL(tv_input_type, TV_INPUT_TYPE_LAST, "", "tablet", "keyboard", "mouse")
TV_ENUM_IMPL(tv_input_bus, TV_INPUT_BUS_LAST, "", "usb", "virtio")

void tv_domain_input_free(TvDomainInput *input)
{
    if (!input)
        return;
    g_free(input->alias);
    g_free(input);
}

int tv_domain_parse_input(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type", "bus", NULL };
    static const char *const children[] = { "alias", "address", NULL };
    int type = 0, bus = TV_INPUT_BUS_USB;
    TvDomainInput *input = g_new0(TvDomainInput, 1);
    TV_APPEND(devs->inputs, devs->ninputs, input);
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_input_type_from_string, tv_input_type_list,
                          &type) < 0 ||
        tv_conf_attr_enum(node, "bus", false, tv_input_bus_from_string, tv_input_bus_list, &bus) <
            0 ||
        tv_domain_alias_parse_child(node, flags, &input->alias) < 0)
        return -1;
    input->type = type;
    input->bus = bus; /* libvirt writes the default (usb on aarch64) back */
    unsigned types = input->bus == TV_INPUT_BUS_USB ? TV_ADDR_MASK(TV_ADDRESS_USB)
                                                    : TV_ADDR_MASK(TV_ADDRESS_PCI);
    return tv_domain_address_parse_child(node, types, &input->address);
}

void tv_domain_format_input(TvXmlWriter *w, const TvDomainInput *input, bool live)
{
    const char *type = tv_input_type_to_string(input->type);
    const char *bus = tv_input_bus_to_string(input->bus);
    if (input->address.type == TV_ADDRESS_NONE && !(live && input->alias)) {
        tv_xml_line(w, "<input type='%s' bus='%s'/>", type, bus);
        return;
    }
    tv_xml_line(w, "<input type='%s' bus='%s'>", type, bus);
    w->indent++;
    tv_domain_alias_format(w, input->alias, live);
    tv_domain_address_format(w, &input->address);
    w->indent--;
    tv_xml_line(w, "</input>");
}
