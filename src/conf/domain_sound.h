/* <sound model='ich6|ich9|usb'> with <codec type=.../> and <audio id=.../>
 * (domain_sound.c).  Included by domain_conf.h. */
#pragma once

#include "domain_devices.h"
#include "tv_enum.h"

#include <stddef.h>

typedef enum {
    TV_SOUND_MODEL_NONE = 0,
    TV_SOUND_MODEL_ICH6, /* intel-hda (conventional PCI) */
    TV_SOUND_MODEL_ICH9, /* ich9-intel-hda (conventional PCI, as libvirt places it) */
    TV_SOUND_MODEL_USB,  /* usb-audio on the USB controller */
    TV_SOUND_MODEL_LAST
} TvSoundModel;
TV_ENUM_DECL(tv_sound_model) /* "", "ich6", "ich9", "usb" */

typedef enum {
    TV_SOUND_CODEC_NONE = 0,
    TV_SOUND_CODEC_DUPLEX, /* hda-duplex: line out and line in */
    TV_SOUND_CODEC_MICRO,  /* hda-micro: speaker and microphone */
    TV_SOUND_CODEC_OUTPUT, /* hda-output: line out only */
    TV_SOUND_CODEC_LAST
} TvSoundCodec;
TV_ENUM_DECL(tv_sound_codec) /* "", "duplex", "micro", "output" */

#define TV_SOUND_CODECS_MAX 15 /* an HDA link has codec addresses 0 to 14 */

typedef struct {
    TvSoundModel model;
    TvSoundCodec *codecs; /* HDA only; none written: QEMU gets one hda-duplex */
    size_t ncodecs;
    unsigned audio_id; /* <audio id='N'/>: the backend it plays to; 0: the first one */
    TvDeviceAddress address;
} TvDomainSound;

void tv_domain_sound_free(TvDomainSound *sound);
/* The id of the <audio> backend a sound device plays to: its <audio id>,
 * else the first backend's; 0 when there is none. */
unsigned tv_domain_sound_audio_id(const TvDomainSound *sound, TvDomainAudio *const *audios,
                                  size_t naudios);
