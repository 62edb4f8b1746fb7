/* <smartcard mode='host|host-certificates|passthrough'>: parse, check and
 * format, and the CCID controller (a USB smartcard reader) each card sits
 * in, added and addressed as libvirt does.  What QEMU gets is the QEMU
 * driver's (qemu_command_smartcard.c). */
#include "domain_bus_address.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_smartcard_mode, TV_SMARTCARD_MODE_LAST, "", "host", "host-certificates",
             "passthrough")
TV_ENUM_IMPL(tv_smartcard_chr, TV_SMARTCARD_CHR_LAST, "", "unix", "tcp")

void tv_domain_smartcard_free(TvDomainSmartcard *card)
{
    if (!card)
        return;
    for (size_t i = 0; i < TV_SMARTCARD_CERTS; i++)
        g_free(card->certs[i]);
    g_free(card->database);
    g_free(card->path);
    g_free(card->host);
    g_free(card->service);
    g_free(card->alias);
    g_free(card);
}

const char *tv_domain_smartcard_database(const TvDomainSmartcard *card)
{
    return card->database ? card->database : TV_SMARTCARD_DEFAULT_DB;
}

/* Element text without control characters (certificate nicknames). */
static int parse_name(xmlNodePtr node, char **out)
{
    if (tv_conf_text(node, true, out) < 0)
        return -1;
    for (const char *p = *out; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            g_autofree char *path = tv_xml_node_path(node);
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "invalid certificate name in %s: control characters are not allowed",
                            path);
            return -1;
        }
    }
    return 0;
}

static int parse_certificates(xmlNodePtr node, TvDomainSmartcard *card)
{
    g_autofree char *path = tv_xml_node_path(node);
    unsigned n = tv_xml_child_count(node, "certificate");
    if (card->mode != TV_SMARTCARD_MODE_HOST_CERTIFICATES) {
        if (n || tv_xml_child(node, "database")) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "%s: <certificate> and <database> belong to mode "
                            "'host-certificates', not to mode '%s'",
                            path, tv_smartcard_mode_to_string(card->mode));
            return -1;
        }
        return 0;
    }
    if (n != TV_SMARTCARD_CERTS) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s has %u <certificate> elements: mode 'host-certificates' takes "
                        "exactly %d (the nicknames of three certificates in the NSS database)",
                        path, n, TV_SMARTCARD_CERTS);
        return -1;
    }
    size_t i = 0;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "certificate") == 0 &&
            parse_name(c, &card->certs[i++]) < 0)
            return -1;
    }
    xmlNodePtr db = tv_xml_child(node, "database");
    if (db && (tv_conf_text(db, true, &card->database) < 0 ||
               tv_conf_path_check(db, NULL, card->database) < 0))
        return -1;
    /* libvirt's own example writes the folder with a trailing '/' */
    size_t len = card->database ? strlen(card->database) : 0;
    while (len > 1 && card->database[len - 1] == '/')
        card->database[--len] = '\0';
    return 0;
}

/* type='...' of a passthrough card: unix or tcp; the others libvirt knows
 * refused naming why. */
static int parse_chr_type(xmlNodePtr node, TvDomainSmartcard *card)
{
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *type = tv_xml_prop(node, "type");
    /* virt-install and virt-manager 4.1 write type='tcp' for mode host
     * too; libvirt ignores it there, and so does tagvirt */
    if (card->mode != TV_SMARTCARD_MODE_PASSTHROUGH)
        return 0;
    if (type && strcmp(type, "spicevmc") == 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported smartcard passthrough type 'spicevmc' in %s: it needs a "
                        "SPICE display, and the QEMU builds tagvirt runs have no SPICE; "
                        "accepted: 'unix', 'tcp' (a socket to a smartcard provider such as "
                        "vscclient)",
                        path);
        return -1;
    }
    int chr = 0;
    if (tv_conf_attr_enum(node, "type", true, tv_smartcard_chr_from_string, tv_smartcard_chr_list,
                          &chr) < 0)
        return -1;
    card->chr = chr;
    xmlNodePtr source = tv_xml_child(node, "source");
    if (!source) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <source> in %s: a '%s' passthrough card needs %s", path,
                        type,
                        card->chr == TV_SMARTCARD_CHR_TCP
                            ? "<source mode='bind|connect' host='...' service='PORT'/>"
                            : "<source mode='bind|connect' path='/absolute/socket'/>");
        return -1;
    }
    bool tcp = card->chr == TV_SMARTCARD_CHR_TCP;
    TvConfSocketSource out = { &card->bind, &card->path, &card->host, &card->service };
    if (tv_conf_socket_source(source, tcp, &out) < 0)
        return -1;
    xmlNodePtr protocol = tv_xml_child(node, "protocol");
    return protocol ? tv_conf_socket_protocol(protocol, tcp, "passthrough <smartcard>") : 0;
}

int tv_domain_parse_smartcard(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "mode", "type", NULL };
    static const char *const children[] = { "certificate", "database", "source", "protocol",
                                            "address",     "alias",    NULL };
    static const char *const once[] = {
        "database", "source", "protocol", "address", "alias", NULL
    };
    TvDomainSmartcard *card = g_new0(TvDomainSmartcard, 1);
    TV_APPEND(devs->smartcards, devs->nsmartcards, card);
    int mode = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, once) < 0 ||
        tv_conf_attr_enum(node, "mode", true, tv_smartcard_mode_from_string, tv_smartcard_mode_list,
                          &mode) < 0)
        return -1;
    card->mode = mode;
    if (card->mode != TV_SMARTCARD_MODE_PASSTHROUGH &&
        (tv_xml_child(node, "source") || tv_xml_child(node, "protocol"))) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s: <source> and <protocol> belong to mode 'passthrough', not to mode "
                        "'%s'",
                        path, tv_smartcard_mode_to_string(card->mode));
        return -1;
    }
    if (parse_certificates(node, card) < 0 || parse_chr_type(node, card) < 0 ||
        tv_domain_alias_parse_child(node, flags, &card->alias) < 0)
        return -1;
    return tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_CCID), &card->address);
}

/* The CCID controller a card's address names, as libvirt adds it: index N
 * for a card on controller N. */
static void add_ccid_controller(TvDomainDevices *d, unsigned index)
{
    for (size_t i = 0; i < d->ncontrollers; i++) {
        if (d->controllers[i]->type == TV_CONTROLLER_CCID &&
            (unsigned)d->controllers[i]->index == index)
            return;
    }
    TvDomainController *c = g_new0(TvDomainController, 1);
    c->type = TV_CONTROLLER_CCID;
    c->index = (int)index;
    c->chassis = c->port = -1;
    TV_APPEND(d->controllers, d->ncontrollers, c);
}

int tv_domain_smartcard_prepare(TvDomainDef *def)
{
    TvDomainDevices *d = &def->devices;
    if (!d->nsmartcards)
        return 0;
    const TvDomainController *usb = tv_domain_controller_find(def, TV_CONTROLLER_USB, 0);
    if (!usb || usb->model == TV_CONTROLLER_MODEL_NONE) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "<smartcard mode='%s'> needs a USB controller for its CCID reader "
                        "(usb-ccid), but USB is disabled for this domain (%s); add <controller "
                        "type='usb' model='qemu-xhci'/>",
                        tv_smartcard_mode_to_string(d->smartcards[0]->mode),
                        usb ? "<controller type='usb' model='none'>"
                            : "no <controller type='usb'>");
        return -1;
    }
    /* cards without an address take the first free slot: slot 0 of the
     * lowest controller no card has (QEMU's usb-ccid has one slot) */
    for (size_t i = 0; i < d->nsmartcards; i++) {
        TvDeviceAddress *a = &d->smartcards[i]->address;
        if (a->type != TV_ADDRESS_CCID)
            continue;
        for (size_t j = 0; j < i; j++) {
            const TvDeviceAddress *b = &d->smartcards[j]->address;
            if (b->type == TV_ADDRESS_CCID && b->controller == a->controller &&
                b->slot == a->slot) {
                tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                                "ccid controller %u slot %u is given to two <smartcard> "
                                "elements",
                                a->controller, a->slot);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < d->nsmartcards; i++) {
        TvDeviceAddress *a = &d->smartcards[i]->address;
        if (a->type == TV_ADDRESS_CCID)
            continue;
        unsigned controller = 0;
        for (bool taken = true; taken; controller += taken) {
            taken = false;
            for (size_t j = 0; j < d->nsmartcards; j++) {
                const TvDeviceAddress *b = &d->smartcards[j]->address;
                taken = taken || (j != i && b->type == TV_ADDRESS_CCID &&
                                  b->controller == controller && b->slot == 0);
            }
        }
        *a = (TvDeviceAddress){ .type = TV_ADDRESS_CCID, .controller = controller };
    }
    for (size_t i = 0; i < d->nsmartcards; i++)
        add_ccid_controller(d, d->smartcards[i]->address.controller);
    return 0;
}

void tv_domain_format_smartcard(TvXmlWriter *w, const TvDomainSmartcard *card, bool live)
{
    const char *mode = tv_smartcard_mode_to_string(card->mode);
    bool body = card->mode != TV_SMARTCARD_MODE_HOST || card->address.type != TV_ADDRESS_NONE ||
                (live && card->alias);
    if (card->mode == TV_SMARTCARD_MODE_PASSTHROUGH)
        tv_xml_line(w, "<smartcard mode='%s' type='%s'>", mode,
                    tv_smartcard_chr_to_string(card->chr));
    else
        tv_xml_line(w, body ? "<smartcard mode='%s'>" : "<smartcard mode='%s'/>", mode);
    if (!body)
        return;
    w->indent++;
    for (size_t i = 0; i < TV_SMARTCARD_CERTS && card->certs[i]; i++) {
        g_autofree char *cert = tv_xml_esc(card->certs[i]);
        tv_xml_line(w, "<certificate>%s</certificate>", cert);
    }
    if (card->database) {
        g_autofree char *db = tv_xml_esc(card->database);
        tv_xml_line(w, "<database>%s</database>", db);
    }
    const char *source_mode = card->bind ? "bind" : "connect";
    if (card->chr == TV_SMARTCARD_CHR_UNIX) {
        g_autofree char *path = tv_xml_esc(card->path);
        tv_xml_line(w, "<source mode='%s' path='%s'/>", source_mode, path);
    } else if (card->chr == TV_SMARTCARD_CHR_TCP) {
        g_autofree char *host = tv_xml_esc(card->host);
        tv_xml_line(w, "<source mode='%s' host='%s' service='%s'/>", source_mode, host,
                    card->service);
        tv_xml_line(w, "<protocol type='raw'/>");
    }
    tv_domain_alias_format(w, card->alias, live);
    tv_domain_address_format(w, &card->address);
    w->indent--;
    tv_xml_line(w, "</smartcard>");
}
