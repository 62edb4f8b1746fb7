/* <graphics type='vnc'>, <video> and <audio>: the guest's display and the
 * (silent) audio backend VNC needs. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_graphics_type, TV_GRAPHICS_TYPE_LAST, "", "vnc")
TV_ENUM_IMPL(tv_video_model, TV_VIDEO_MODEL_LAST, "", "virtio", "ramfb", "none")
TV_ENUM_IMPL(tv_audio_type, TV_AUDIO_TYPE_LAST, "", "none")

#define VIDEO_HEADS_MAX 16 /* virtio-gpu's max_outputs */
#define AUDIO_ID_MAX    255

void tv_domain_graphics_free(TvDomainGraphics *g)
{
    if (!g)
        return;
    g_free(g->listen);
    g_free(g);
}

/* An IP address or a host name: what QEMU's -vnc takes before the display. */
static int check_listen(xmlNodePtr node, const char *attr, const char *value)
{
    bool ok = *value && strlen(value) <= 253;
    for (const char *p = value; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '.' || *p == ':' || *p == '-';
    if (ok)
        return 0;
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *shown = g_strescape(value, NULL);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute '%s' of %s: expected an IP address or a "
                    "host name",
                    shown, attr, path);
    return -1;
}

static int parse_listen_element(xmlNodePtr node, char **address)
{
    static const char *const attrs[] = { "type", "address", NULL };
    static const char *const none[] = { NULL };
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *type = tv_xml_prop(node, "type");
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0)
        return -1;
    if (!type || strcmp(type, "address") != 0) {
        g_autofree char *shown = g_strescape(type ? type : "", NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported listen type '%s' in %s: VNC listens on a network address "
                        "(type='address')",
                        shown, path);
        return -1;
    }
    *address = tv_xml_prop(node, "address");
    if (*address && check_listen(node, "address", *address) < 0)
        return -1;
    return 0;
}

static int parse_vnc_port(xmlNodePtr node, TvDomainGraphics *g, unsigned flags)
{
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *port = tv_xml_prop(node, "port");
    TvFeatureState ap = TV_FEATURE_STATE_ABSENT;
    if (tv_conf_attr_yesno(node, "autoport", &ap) < 0)
        return -1;
    g->port = -1;
    if (port && strcmp(port, "-1") != 0) {
        unsigned long long v = 0;
        if (tv_conf_number(node, "port", port, TV_VNC_PORT_MIN, TV_VNC_PORT_MAX, &v) < 0)
            return -1;
        g->port = (int)v;
    }
    bool status = (flags & TV_DOMAIN_PARSE_STATUS) != 0;
    if (g->port >= 0 && ap == TV_FEATURE_STATE_ON) {
        if (!status) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "%s has port='%d' and autoport='yes': give a port with "
                            "autoport='no' (or none), or let tagvirt choose with port='-1'",
                            path, g->port);
            return -1;
        }
        g->live_port = g->port; /* status XML: the port the running QEMU got */
        g->port = -1;
    } else if (status && g->port >= 0) {
        g->live_port = g->port;
    }
    if (g->port < 0 && ap == TV_FEATURE_STATE_OFF) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s has autoport='no' but no port: give port='5900' to '65535'", path);
        return -1;
    }
    g->autoport = g->port < 0;
    return 0;
}

static int refuse_attr(xmlNodePtr node, const char *attr, const char *why)
{
    g_autofree char *value = tv_xml_prop(node, attr);
    if (!value)
        return 0;
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED, "unsupported attribute '%s' of %s: %s",
                    attr, path, why);
    return -1;
}

int tv_domain_parse_graphics(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type",   "port",      "autoport", "listen",
                                         "passwd", "websocket", NULL };
    static const char *const children[] = { "listen", NULL };
    int type = 0;
    TvDomainGraphics *g = g_new0(TvDomainGraphics, 1);
    TV_APPEND(devs->graphics, devs->ngraphics, g);
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *type_str = tv_xml_prop(node, "type");
    if (type_str && strcmp(type_str, "spice") == 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported graphics type 'spice' in %s: tagvirt offers VNC "
                        "(<graphics type='vnc'>)",
                        path);
        return -1;
    }
    if (tv_conf_attr_enum(node, "type", true, tv_graphics_type_from_string, tv_graphics_type_list,
                          &type) < 0 ||
        tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        refuse_attr(node, "passwd",
                    "VNC passwords are not supported (VNC's DES password is weak; reach the "
                    "display through an SSH tunnel to a 127.0.0.1 listener)") < 0 ||
        refuse_attr(node, "websocket", "tagvirt's VNC server has no websocket listener") < 0 ||
        parse_vnc_port(node, g, flags) < 0)
        return -1;
    g->type = type;
    g->listen = tv_xml_prop(node, "listen");
    if (g->listen && check_listen(node, "listen", g->listen) < 0)
        return -1;
    xmlNodePtr child = tv_xml_child(node, "listen");
    g_autofree char *address = NULL;
    if (child && parse_listen_element(child, &address) < 0)
        return -1;
    if (address && g->listen && strcmp(address, g->listen) != 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s has listen='%s' but its <listen> has address='%s': they must be the "
                        "same",
                        path, g->listen, address);
        return -1;
    }
    if (address && !g->listen)
        g->listen = g_steal_pointer(&address);
    if (devs->ngraphics > 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "/domain/devices has %zu <graphics> elements: only one VNC display is "
                        "supported",
                        devs->ngraphics);
        return -1;
    }
    return 0;
}

void tv_domain_format_graphics(TvXmlWriter *w, const TvDomainGraphics *g, bool live)
{
    int port = live && g->live_port > 0 ? g->live_port : g->port;
    g_autofree char *esc = g->listen ? tv_xml_esc(g->listen) : NULL;
    g_autofree char *listen_attr = esc ? g_strdup_printf(" listen='%s'", esc) : g_strdup("");
    tv_xml_line(w, "<graphics type='%s' port='%d' autoport='%s'%s>",
                tv_graphics_type_to_string(g->type), port, g->autoport ? "yes" : "no", listen_attr);
    w->indent++;
    if (esc)
        tv_xml_line(w, "<listen type='address' address='%s'/>", esc);
    else
        tv_xml_line(w, "<listen type='address'/>");
    w->indent--;
    tv_xml_line(w, "</graphics>");
}

static int parse_video_model(xmlNodePtr node, TvDomainVideo *video)
{
    static const char *const attrs[] = { "type", "heads", "primary", NULL };
    static const char *const none[] = { NULL };
    g_autofree char *path = tv_xml_node_path(node);
    int model = 0;
    TvFeatureState primary = TV_FEATURE_STATE_ABSENT;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_video_model_from_string, tv_video_model_list,
                          &model) < 0 ||
        tv_conf_attr_yesno(node, "primary", &primary) < 0)
        return -1;
    video->model = model;
    g_autofree char *heads = tv_xml_prop(node, "heads");
    unsigned long long v = 1;
    unsigned max = video->model == TV_VIDEO_MODEL_VIRTIO ? VIDEO_HEADS_MAX : 1;
    if (heads && video->model == TV_VIDEO_MODEL_NO_DEVICE) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "attribute 'heads' of %s: model 'none' has no display", path);
        return -1;
    }
    if (heads && tv_conf_number(node, "heads", heads, 1, max, &v) < 0)
        return -1;
    video->heads = (unsigned)v;
    if (primary == TV_FEATURE_STATE_OFF) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "primary='no' on %s: the only video device is the primary one", path);
        return -1;
    }
    video->primary = video->model != TV_VIDEO_MODEL_NO_DEVICE;
    return 0;
}

int tv_domain_parse_video(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const children[] = { "model", "address", NULL };
    static const char *const none[] = { NULL };
    TvDomainVideo *video = g_new0(TvDomainVideo, 1);
    TV_APPEND(devs->videos, devs->nvideos, video);
    g_autofree char *path = tv_xml_node_path(node);
    if (tv_xml_check_attrs(node, none) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0)
        return -1;
    xmlNodePtr model = tv_xml_child(node, "model");
    if (!model) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <model type='virtio|ramfb|none'/> in %s", path);
        return -1;
    }
    if (parse_video_model(model, video) < 0)
        return -1;
    unsigned types = video->model == TV_VIDEO_MODEL_VIRTIO ? TV_ADDR_MASK(TV_ADDRESS_PCI) : 0;
    if (tv_domain_address_parse_child(node, types, &video->address) < 0)
        return -1;
    if (devs->nvideos > 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "/domain/devices has %zu <video> elements: only one video device is "
                        "supported",
                        devs->nvideos);
        return -1;
    }
    return 0;
}

void tv_domain_format_video(TvXmlWriter *w, const TvDomainVideo *video)
{
    tv_xml_line(w, "<video>");
    w->indent++;
    if (video->model == TV_VIDEO_MODEL_NO_DEVICE)
        tv_xml_line(w, "<model type='none'/>");
    else
        tv_xml_line(w, "<model type='%s' heads='%u' primary='yes'/>",
                    tv_video_model_to_string(video->model), video->heads ? video->heads : 1);
    tv_domain_address_format(w, &video->address);
    w->indent--;
    tv_xml_line(w, "</video>");
}

int tv_domain_parse_audio(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "id", "type", NULL };
    static const char *const none[] = { NULL };
    int type = 0;
    unsigned long long id = 0;
    TvDomainAudio *audio = g_new0(TvDomainAudio, 1);
    TV_APPEND(devs->audios, devs->naudios, audio);
    g_autofree char *id_str = tv_xml_prop(node, "id");
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_audio_type_from_string, tv_audio_type_list,
                          &type) < 0 ||
        tv_conf_number(node, "id", id_str, 1, AUDIO_ID_MAX, &id) < 0)
        return -1;
    audio->type = type;
    audio->id = (unsigned)id;
    for (size_t i = 0; i + 1 < devs->naudios; i++) {
        if (devs->audios[i]->id == audio->id) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two <audio> elements in /domain/devices have id='%u': each needs "
                            "its own",
                            audio->id);
            return -1;
        }
    }
    return 0;
}

void tv_domain_format_audio(TvXmlWriter *w, const TvDomainAudio *audio)
{
    tv_xml_line(w, "<audio id='%u' type='%s'/>", audio->id, tv_audio_type_to_string(audio->type));
}
