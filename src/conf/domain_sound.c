/* <sound model='ich6|ich9|usb'>: an Intel HDA controller with its codecs
 * (<codec type='duplex|micro|output'/>, one hda-duplex when none is
 * written), or a USB audio device; <audio id='N'/> names the <audio>
 * backend it plays to.  The other models libvirt knows (ac97, es1370, sb16,
 * pcspk, ich7) are x86 ISA or PCI cards that the aarch64 'virt' machine
 * does not offer in tagvirt. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_sound_model, TV_SOUND_MODEL_LAST, "", "ich6", "ich9", "usb")
TV_ENUM_IMPL(tv_sound_codec, TV_SOUND_CODEC_LAST, "", "duplex", "micro", "output")

#define AUDIO_ID_MAX 255 /* as <audio id> (domain_graphics.c) */

static const char *const no_children[] = { NULL };

void tv_domain_sound_free(TvDomainSound *sound)
{
    if (!sound)
        return;
    g_free(sound->codecs);
    g_free(sound);
}

unsigned tv_domain_sound_audio_id(const TvDomainSound *sound, TvDomainAudio *const *audios,
                                  size_t naudios)
{
    if (sound->audio_id)
        return sound->audio_id;
    return naudios ? audios[0]->id : 0;
}

static int parse_codec(xmlNodePtr node, TvDomainSound *sound)
{
    static const char *const attrs[] = { "type", NULL };
    int type = 0;
    g_autofree char *path = tv_xml_node_path(node);
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_sound_codec_from_string, tv_sound_codec_list,
                          &type) < 0)
        return -1;
    if (sound->model == TV_SOUND_MODEL_USB) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s: codecs belong to an Intel HDA controller (model 'ich6' or 'ich9'), "
                        "not to model 'usb'",
                        path);
        return -1;
    }
    if (sound->ncodecs == TV_SOUND_CODECS_MAX) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "too many <codec> elements in %s: an HDA controller takes at most %d", path,
                        TV_SOUND_CODECS_MAX);
        return -1;
    }
    sound->codecs = g_renew(TvSoundCodec, sound->codecs, sound->ncodecs + 1);
    sound->codecs[sound->ncodecs++] = type;
    return 0;
}

static int parse_audio_ref(xmlNodePtr node, TvDomainSound *sound)
{
    static const char *const attrs[] = { "id", NULL };
    unsigned long long id = 0;
    g_autofree char *id_str = NULL;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_required(node, "id", &id_str) < 0 ||
        tv_conf_number(node, "id", id_str, 1, AUDIO_ID_MAX, &id) < 0)
        return -1;
    sound->audio_id = (unsigned)id;
    return 0;
}

int tv_domain_parse_sound(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "codec", "audio", "address", "alias", NULL };
    static const char *const once[] = { "audio", "address", "alias", NULL };
    int model = 0;
    g_autofree char *alias = NULL;
    TvDomainSound *sound = g_new0(TvDomainSound, 1);
    TV_APPEND(devs->sounds, devs->nsounds, sound);
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, once) < 0 ||
        tv_conf_attr_enum(node, "model", true, tv_sound_model_from_string, tv_sound_model_list,
                          &model) < 0)
        return -1;
    sound->model = model;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "codec") == 0 &&
            parse_codec(c, sound) < 0)
            return -1;
    }
    xmlNodePtr audio = tv_xml_child(node, "audio");
    if (audio && parse_audio_ref(audio, sound) < 0)
        return -1;
    unsigned types =
        model == TV_SOUND_MODEL_USB ? TV_ADDR_MASK(TV_ADDRESS_USB) : TV_ADDR_MASK(TV_ADDRESS_PCI);
    /* an alias of a live XML given back is accepted and dropped */
    if (tv_domain_alias_parse_child(node, flags & ~TV_DOMAIN_PARSE_STATUS, &alias) < 0)
        return -1;
    return tv_domain_address_parse_child(node, types, &sound->address);
}

int tv_domain_sound_check(const TvDomainDevices *devs)
{
    for (size_t i = 0; i < devs->nsounds; i++) {
        const TvDomainSound *s = devs->sounds[i];
        bool found = !s->audio_id;
        for (size_t j = 0; j < devs->naudios && !found; j++)
            found = devs->audios[j]->id == s->audio_id;
        if (!found) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "<sound model='%s'> plays to <audio id='%u'/>, but /domain/devices "
                            "has no <audio> backend with that id",
                            tv_sound_model_to_string(s->model), s->audio_id);
            return -1;
        }
    }
    return 0;
}

void tv_domain_format_sound(TvXmlWriter *w, const TvDomainSound *sound)
{
    const char *model = tv_sound_model_to_string(sound->model);
    if (!sound->ncodecs && !sound->audio_id && sound->address.type == TV_ADDRESS_NONE) {
        tv_xml_line(w, "<sound model='%s'/>", model);
        return;
    }
    tv_xml_line(w, "<sound model='%s'>", model);
    w->indent++;
    for (size_t i = 0; i < sound->ncodecs; i++)
        tv_xml_line(w, "<codec type='%s'/>", tv_sound_codec_to_string(sound->codecs[i]));
    if (sound->audio_id)
        tv_xml_line(w, "<audio id='%u'/>", sound->audio_id);
    tv_domain_address_format(w, &sound->address);
    w->indent--;
    tv_xml_line(w, "</sound>");
}
