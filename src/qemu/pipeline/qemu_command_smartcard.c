/* <smartcard> on QEMU.  Each CCID controller is a usb-ccid reader on the
 * USB controller (id ccidN); the card in it is ccid-card-emulated (mode
 * host: NSS's view of the host's cards, backend nss-emulated; mode
 * host-certificates: three certificates of an NSS database, backend
 * certificates) or ccid-card-passthru over a socket chardev (mode
 * passthrough).  QEMU's CCID reader has one slot, and libvirt accepts one
 * card per guest with QEMU: so does tagvirt. */
#include "qemu_command_priv.h"
#include "qemu_domain.h"
#include "tv_error.h"

static const char *card_device(const TvDomainSmartcard *card)
{
    return card->mode == TV_SMARTCARD_MODE_PASSTHROUGH ? "ccid-card-passthru"
                                                       : "ccid-card-emulated";
}

int tv_qemu_validate_smartcards(const TvDomainDef *def, const TvQemuCaps *caps)
{
    const TvDomainDevices *d = &def->devices;
    if (!d->nsmartcards)
        return 0;
    const TvDomainSmartcard *card = d->smartcards[0];
    const char *mode = tv_smartcard_mode_to_string(card->mode);
    if (d->nsmartcards > 1) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: /domain/devices has %zu <smartcard> "
                        "elements; QEMU takes one smartcard per guest (its CCID reader has one "
                        "slot); accepted: one <smartcard>",
                        d->nsmartcards);
        return -1;
    }
    if (card->address.type == TV_ADDRESS_CCID &&
        (card->address.controller != 0 || card->address.slot != 0)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <smartcard mode='%s'> has <address "
                        "type='ccid' controller='%u' slot='%u'/>; QEMU takes one smartcard, "
                        "accepted: controller='0' slot='0'",
                        mode, card->address.controller, card->address.slot);
        return -1;
    }
    const char *need[] = { "usb-ccid", card_device(card) };
    for (size_t i = 0; i < G_N_ELEMENTS(need); i++) {
        if (tv_qemu_caps_has_device(caps, need[i]))
            continue;
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <smartcard mode='%s'> needs QEMU's '%s' "
                        "device, which emulator '%s' does not have",
                        mode, need[i], caps->binary);
        return -1;
    }
    return 0;
}

/* -chardev of a passthrough card: a unix socket (the runtime's listening
 * descriptor when it made one) or a TCP socket. */
static void build_chardev(GPtrArray *argv, const TvDomainSmartcard *card, const char *id,
                          const TvQemuCommandOptions *opts)
{
    GString *dev = g_string_new(NULL);
    if (card->chr == TV_SMARTCARD_CHR_UNIX && card->bind && opts && opts->smartcard_fd > 0) {
        g_string_append_printf(dev, "socket,id=%s,fd=%d", id, opts->smartcard_fd);
    } else if (card->chr == TV_SMARTCARD_CHR_UNIX) {
        g_autofree char *path = tv_qemu_escape_opt(card->path);
        g_string_append_printf(dev, "socket,id=%s,path=%s", id, path);
    } else {
        g_string_append_printf(dev, "socket,id=%s,host=%s,port=%s", id, card->host, card->service);
    }
    if (card->bind)
        g_string_append(dev, ",server=on,wait=off");
    tv_qemu_argv_add(argv, "-chardev");
    g_ptr_array_add(argv, g_string_free(dev, FALSE));
}

void tv_qemu_build_smartcards(GPtrArray *argv, const TvDomainDef *def,
                              const TvQemuCommandOptions *opts)
{
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->ncontrollers; i++) {
        const TvDomainController *c = d->controllers[i];
        if (c->type != TV_CONTROLLER_CCID)
            continue;
        g_autofree char *id = tv_qemu_controller_alias(c);
        g_autoptr(TvQemuObject) o = tv_qemu_object_new("usb-ccid");
        tv_qemu_object_str(o, "id", id);
        tv_qemu_object_add_address(o, &c->address);
        tv_qemu_argv_add_object(argv, "-device", o);
    }
    for (size_t i = 0; i < d->nsmartcards; i++) {
        const TvDomainSmartcard *card = d->smartcards[i];
        g_autofree char *alias =
            card->alias ? g_strdup(card->alias) : g_strdup_printf("smartcard%zu", i);
        g_autoptr(TvQemuObject) o = tv_qemu_object_new(card_device(card));
        switch (card->mode) {
        case TV_SMARTCARD_MODE_HOST:
            tv_qemu_object_str(o, "backend", "nss-emulated");
            break;
        case TV_SMARTCARD_MODE_HOST_CERTIFICATES:
            tv_qemu_object_str(o, "backend", "certificates");
            for (size_t c = 0; c < TV_SMARTCARD_CERTS; c++) {
                g_autofree char *name = g_strdup_printf("cert%zu", c + 1);
                tv_qemu_object_str(o, name, card->certs[c]);
            }
            tv_qemu_object_str(o, "db", tv_domain_smartcard_database(card));
            break;
        case TV_SMARTCARD_MODE_PASSTHROUGH: {
            g_autofree char *chardev = g_strdup_printf("char%s", alias);
            build_chardev(argv, card, chardev, opts);
            tv_qemu_object_str(o, "chardev", chardev);
            break;
        }
        case TV_SMARTCARD_MODE_NONE:
        case TV_SMARTCARD_MODE_LAST:
            break;
        }
        tv_qemu_object_str(o, "id", alias);
        tv_qemu_object_add_address(o, &card->address);
        tv_qemu_argv_add_object(argv, "-device", o);
    }
}
