/* <sound>: an Intel HDA controller (intel-hda for ich6, ich9-intel-hda for
 * ich9) with its codecs on the controller's HDA link (bus soundN.0, one
 * hda-duplex when none is written, as libvirt gives), or usb-audio on the
 * USB controller; each plays to its <audio> backend (-audiodev, built with
 * the display in qemu_command_devices.c). */
#include "qemu_command_priv.h"
#include "qemu_domain.h"
#include "tv_error.h"

static const char *hda_device(TvSoundModel model)
{
    return model == TV_SOUND_MODEL_ICH6 ? "intel-hda" : "ich9-intel-hda";
}

void tv_qemu_build_sounds(GPtrArray *argv, const TvDomainDef *def)
{
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->nsounds; i++) {
        const TvDomainSound *s = d->sounds[i];
        unsigned audio = tv_domain_sound_audio_id(s, d->audios, d->naudios);
        if (s->model == TV_SOUND_MODEL_USB) {
            g_autofree char *dev =
                g_strdup_printf("usb-audio,id=sound%zu,audiodev=audio%u", i, audio);
            tv_qemu_argv_add_device(argv, &s->address, dev);
            continue;
        }
        g_autofree char *hda = g_strdup_printf("%s,id=sound%zu", hda_device(s->model), i);
        tv_qemu_argv_add_device(argv, &s->address, hda);
        size_t n = s->ncodecs ? s->ncodecs : 1;
        for (size_t c = 0; c < n; c++) {
            TvSoundCodec codec = s->ncodecs ? s->codecs[c] : TV_SOUND_CODEC_DUPLEX;
            tv_qemu_argv_add(argv, "-device");
            tv_qemu_argv_addf(argv,
                              "hda-%s,id=sound%zu-codec%zu,bus=sound%zu.0,cad=%zu,audiodev=audio%u",
                              tv_sound_codec_to_string(codec), i, c, i, c, audio);
        }
    }
}

int tv_qemu_validate_sounds(const TvDomainDef *def, const TvQemuCaps *caps)
{
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->nsounds; i++) {
        const TvDomainSound *s = d->sounds[i];
        const char *model = tv_sound_model_to_string(s->model);
        const char *need[1 + TV_SOUND_CODECS_MAX] = { 0 };
        size_t n = 0;
        if (s->model == TV_SOUND_MODEL_USB) {
            need[n++] = "usb-audio";
        } else {
            need[n++] = hda_device(s->model);
            need[n++] = "hda-duplex";
            for (size_t c = 0; c < s->ncodecs; c++)
                need[n++] = s->codecs[c] == TV_SOUND_CODEC_MICRO    ? "hda-micro"
                            : s->codecs[c] == TV_SOUND_CODEC_OUTPUT ? "hda-output"
                                                                    : "hda-duplex";
        }
        for (size_t k = 0; k < n; k++) {
            if (tv_qemu_caps_has_device(caps, need[k]))
                continue;
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "unsupported configuration: <sound model='%s'> needs QEMU's '%s' "
                            "device, which emulator '%s' does not have",
                            model, need[k], caps->binary);
            return -1;
        }
    }
    return 0;
}
