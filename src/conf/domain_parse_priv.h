/* Internal to src/conf: the pieces of the domain XML parser and formatter
 * that live in separate files, and the helpers they share. */
#pragma once

#include "domain_conf.h"
#include "tv_xml.h"

#include <libxml/tree.h>
#include <stdbool.h>

#define TV_VCPUS_MAX 512 /* <vcpu> and each <topology> factor */

typedef int (*TvEnumFromString)(const char *str);
typedef char *(*TvEnumList)(void);

/* Each child element named in once (NULL-terminated) may appear at most once. */
int tv_conf_check_once(xmlNodePtr node, const char *const *once);
/* An element that holds only text: no attributes, no child elements.
 * required: empty text is an error; otherwise *out is NULL when empty. */
int tv_conf_text(xmlNodePtr node, bool required, char **out);
/* A required attribute (present, not empty). */
int tv_conf_attr_required(xmlNodePtr node, const char *attr, char **out);
/* An enum attribute; *out stays untouched when the attribute is absent and
 * not required. */
int tv_conf_attr_enum(xmlNodePtr node, const char *attr, bool required, TvEnumFromString from,
                      TvEnumList list, int *out);
/* An enum as an element's text. */
int tv_conf_text_enum(xmlNodePtr node, TvEnumFromString from, TvEnumList list, int *out);
/* An attribute that only takes one fixed value (e.g. model='virtio'). */
int tv_conf_attr_fixed(xmlNodePtr node, const char *attr, bool required, const char *value);
/* A decimal number (digits only) from an attribute (attr) or the element's
 * text (attr NULL), with the accepted range in errors. */
int tv_conf_number(xmlNodePtr node, const char *attr, const char *value, unsigned long long min,
                   unsigned long long max, unsigned long long *out);
/* An absolute path without control characters; attr NULL for element text. */
int tv_conf_path_check(xmlNodePtr node, const char *attr, const char *path);
/* Conservative name characters for values passed on a command line
 * (machine type, CPU model, arch): letters, digits, '.', '_', '-'. */
int tv_conf_word_check(xmlNodePtr node, const char *attr, const char *value);

/* Where the <source> of a socket character device goes (the owner's
 * fields): bind from mode='bind' (connect is the default); a unix socket's
 * path, or a tcp socket's host and service (the port, as a decimal number). */
typedef struct {
    bool *bind;
    char **path;
    char **host;
    char **service;
} TvConfSocketSource;
/* <source mode=... path=.../> (tcp false) or <source mode=... host=...
 * service=.../> (tcp true) of a <smartcard> or <redirdev>
 * (domain_socket_source.c). */
int tv_conf_socket_source(xmlNodePtr source, bool tcp, TvConfSocketSource *out);
/* <protocol type='raw'/>: only a tcp socket has one; owner names the device
 * in the error ("<redirdev>"). */
int tv_conf_socket_protocol(xmlNodePtr node, bool tcp, const char *owner);

/* "yes"/"no" into ON/OFF. */
int tv_conf_attr_yesno(xmlNodePtr node, const char *attr, TvFeatureState *out);

void tv_conf_random_bytes(unsigned char *buf, size_t len);

int tv_domain_parse_memory(xmlNodePtr node, unsigned long long *kib);
int tv_domain_parse_os(xmlNodePtr node, TvDomainOs *os);
int tv_domain_parse_features(xmlNodePtr node, TvDomainFeatures *features, unsigned flags);
int tv_domain_parse_cpu(xmlNodePtr node, TvDomainCpu *cpu);
int tv_domain_parse_devices(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);

/* MAC addresses: "52:54:00:12:34:56"; multicast is refused. */
int tv_mac_parse(xmlNodePtr node, const char *str, char **normalised);
char *tv_mac_generate(void);

void tv_domain_format_cpu(TvXmlWriter *w, const TvDomainCpu *cpu);
/* <address> of a device; types is a mask of (1u << TvAddressType) it may
 * have.  _child parses device's <address> child when there is one. */
int tv_domain_address_parse(xmlNodePtr node, unsigned types, TvDeviceAddress *addr);
int tv_domain_address_parse_child(xmlNodePtr device, unsigned types, TvDeviceAddress *addr);
void tv_domain_address_format(TvXmlWriter *w, const TvDeviceAddress *addr);
/* <alias name='...'/> of a disk or an interface: the id QEMU knows the
 * device by.  It is the running domain's: kept from a status file
 * (TV_DOMAIN_PARSE_STATUS), accepted and dropped elsewhere (a live XML
 * given back to define or detach), as libvirt drops aliases it made. */
int tv_domain_alias_parse_child(xmlNodePtr device, unsigned flags, char **alias);
void tv_domain_alias_format(TvXmlWriter *w, const char *alias, bool live);
#define TV_ADDR_MASK(t) (1u << (t))

/* Per device class (domain_controller.c, domain_input.c, domain_graphics.c). */
int tv_domain_parse_controller(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_controller(TvXmlWriter *w, const TvDomainController *ctrl, bool live);
int tv_domain_controllers_finish(TvDomainDevices *devs);
int tv_domain_parse_input(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_input(TvXmlWriter *w, const TvDomainInput *input, bool live);
int tv_domain_parse_graphics(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_graphics(TvXmlWriter *w, const TvDomainGraphics *g, bool live);
void tv_domain_graphics_free(TvDomainGraphics *g);
int tv_domain_parse_video(xmlNodePtr node, TvDomainDevices *devs);
void tv_domain_format_video(TvXmlWriter *w, const TvDomainVideo *video);
int tv_domain_parse_audio(xmlNodePtr node, TvDomainDevices *devs);
/* domain_disk.c */
int tv_domain_parse_disk(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_disk(TvXmlWriter *w, const TvDomainDisk *disk, bool live);
/* domain_chr.c */
int tv_domain_parse_chr(xmlNodePtr node, TvChrKind kind, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_chr(TvXmlWriter *w, TvChrKind kind, const TvDomainChr *chr, bool live,
                          bool status);
/* domain_misc_devices.c */
int tv_domain_parse_memballoon(xmlNodePtr node, TvDomainDevices *devs);
void tv_domain_format_memballoon(TvXmlWriter *w, const TvDomainDevices *devs);
int tv_domain_parse_panic(xmlNodePtr node, TvDomainDevices *devs);
void tv_domain_format_panic(TvXmlWriter *w, const TvDomainPanic *panic);
int tv_domain_parse_watchdog(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_watchdog(TvXmlWriter *w, const TvDomainWatchdog *watchdog, bool live);
void tv_domain_format_audio(TvXmlWriter *w, const TvDomainAudio *audio);
/* domain_sound.c, domain_filesystem.c, domain_vsock.c; tv_domain_sound_check
 * runs once all devices are parsed (<audio id> references). */
int tv_domain_parse_sound(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
int tv_domain_sound_check(const TvDomainDevices *devs);
void tv_domain_format_sound(TvXmlWriter *w, const TvDomainSound *sound);
int tv_domain_parse_filesystem(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_filesystem(TvXmlWriter *w, const TvDomainFilesystem *fs);
int tv_domain_parse_vsock(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_vsock(TvXmlWriter *w, const TvDomainVsock *vsock);
/* domain_smartcard.c */
int tv_domain_parse_smartcard(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_smartcard(TvXmlWriter *w, const TvDomainSmartcard *card, bool live);
/* domain_tpm.c */
int tv_domain_parse_tpm(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
void tv_domain_format_tpm(TvXmlWriter *w, const TvDomainTpm *tpm, bool live);

#define TV_APPEND(array, count, item)                                                              \
    do {                                                                                           \
        (array) = g_renew(__typeof__(*(array)), (array), (count) + 1);                             \
        (array)[(count)++] = (item);                                                               \
    } while (0)

void tv_domain_format_devices(TvXmlWriter *w, const TvDomainDevices *devs, unsigned flags);
