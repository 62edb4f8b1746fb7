/* Domain definition basics: enum spellings, freeing, copying, UUIDs and the
 * domain name rule. */
#include "domain_conf.h"
#include "domain_conf_testing.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_virt_type, TV_VIRT_LAST, "", "qemu", "kvm")
TV_ENUM_IMPL(tv_feature_state, TV_FEATURE_STATE_LAST, "", "on", "off")
TV_ENUM_IMPL(tv_gic_version, TV_GIC_VERSION_LAST, "", "2", "3", "host")
TV_ENUM_IMPL(tv_cpu_mode, TV_CPU_MODE_LAST, "", "custom", "host-passthrough", "maximum")
TV_ENUM_IMPL(tv_clock_offset, TV_CLOCK_OFFSET_LAST, "", "utc", "localtime")
TV_ENUM_IMPL(tv_lifecycle_action, TV_LIFECYCLE_LAST, "", "destroy", "restart", "preserve",
             "rename-restart", "coredump-destroy", "coredump-restart")
TV_ENUM_IMPL(tv_disk_format, TV_DISK_FORMAT_LAST, "", "raw", "qcow2")
TV_ENUM_IMPL(tv_net_type, TV_NET_TYPE_LAST, "", "user", "ethernet", "bridge", "network")
TV_ENUM_IMPL(tv_net_link_state, TV_NET_LINK_LAST, "", "up", "down")
TV_ENUM_IMPL(tv_chr_type, TV_CHR_TYPE_LAST, "", "pty", "file", "unix")
TV_ENUM_IMPL(tv_chr_unix_mode, TV_CHR_UNIX_MODE_LAST, "", "bind", "connect")
TV_ENUM_IMPL(tv_balloon_model, TV_BALLOON_MODEL_LAST, "", "virtio", "none")

#define TV_DOMAIN_NAME_MAX 200

void tv_domain_net_free(TvDomainNet *net)
{
    if (!net)
        return;
    g_free(net->mac);
    g_free(net->ifname);
    g_free(net->bridge);
    g_free(net->network);
    g_free(net->portgroup);
    g_free(net->model);
    g_free(net->alias);
    g_free(net);
}

void tv_domain_rng_free(TvDomainRng *rng)
{
    if (!rng)
        return;
    g_free(rng->backend_path);
    g_free(rng->alias);
    g_free(rng);
}

static void devices_clear(TvDomainDevices *devs)
{
    g_free(devs->emulator);
    for (size_t i = 0; i < devs->ndisks; i++)
        tv_domain_disk_free(devs->disks[i]);
    g_free(devs->disks);
    for (size_t i = 0; i < devs->nnets; i++)
        tv_domain_net_free(devs->nets[i]);
    g_free(devs->nets);
    for (size_t i = 0; i < devs->nserials; i++)
        tv_domain_chr_free(devs->serials[i]);
    g_free(devs->serials);
    for (size_t i = 0; i < devs->nconsoles; i++)
        tv_domain_chr_free(devs->consoles[i]);
    g_free(devs->consoles);
    for (size_t i = 0; i < devs->nrngs; i++)
        tv_domain_rng_free(devs->rngs[i]);
    g_free(devs->rngs);
    for (size_t i = 0; i < devs->ncontrollers; i++)
        tv_domain_controller_free(devs->controllers[i]);
    g_free(devs->controllers);
    for (size_t i = 0; i < devs->ninputs; i++)
        tv_domain_input_free(devs->inputs[i]);
    g_free(devs->inputs);
    for (size_t i = 0; i < devs->ngraphics; i++)
        tv_domain_graphics_free(devs->graphics[i]);
    g_free(devs->graphics);
    for (size_t i = 0; i < devs->nvideos; i++)
        g_free(devs->videos[i]);
    g_free(devs->videos);
    for (size_t i = 0; i < devs->naudios; i++)
        g_free(devs->audios[i]);
    g_free(devs->audios);
    for (size_t i = 0; i < devs->nchannels; i++)
        tv_domain_chr_free(devs->channels[i]);
    g_free(devs->channels);
    for (size_t i = 0; i < devs->npanics; i++)
        g_free(devs->panics[i]);
    g_free(devs->panics);
    tv_domain_tpm_free(devs->tpm);
    for (size_t i = 0; i < devs->nsmartcards; i++)
        tv_domain_smartcard_free(devs->smartcards[i]);
    g_free(devs->smartcards);
    for (size_t i = 0; i < devs->nredirdevs; i++)
        tv_domain_redirdev_free(devs->redirdevs[i]);
    g_free(devs->redirdevs);
    tv_domain_redirfilter_free(devs->redirfilter);
    for (size_t i = 0; i < devs->nwatchdogs; i++)
        tv_domain_watchdog_free(devs->watchdogs[i]);
    g_free(devs->watchdogs);
    for (size_t i = 0; i < devs->nsounds; i++)
        tv_domain_sound_free(devs->sounds[i]);
    g_free(devs->sounds);
    for (size_t i = 0; i < devs->nfilesystems; i++)
        tv_domain_filesystem_free(devs->filesystems[i]);
    g_free(devs->filesystems);
    g_free(devs->vsock);
}

void tv_domain_def_free(TvDomainDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    tv_domain_metadata_free(def->metadata);
    g_free(def->os.type);
    g_free(def->os.arch);
    g_free(def->os.machine);
    g_free(def->os.boot.kernel);
    g_free(def->os.boot.initrd);
    g_free(def->os.boot.cmdline);
    g_free(def->os.boot.dtb);
    tv_domain_firmware_clear(&def->os.boot.fw);
    g_free(def->cpu.model);
    for (size_t i = 0; i < def->cpu.nfeatures; i++)
        g_free(def->cpu.features[i].name);
    g_free(def->cpu.features);
    devices_clear(&def->devices);
    tv_domain_guest_abi_clear(&def->guest_abi);
    g_free(def);
}

TvDomainDef *tv_domain_def_copy(const TvDomainDef *def)
{
    g_autofree char *xml = tv_domain_def_format(def, TV_DOMAIN_FORMAT_STATUS);
    if (!xml)
        return NULL;
    TvDomainDef *copy = tv_domain_def_parse(xml, strlen(xml), TV_DOMAIN_PARSE_STATUS);
    if (!copy) {
        tv_error_prefix("cannot copy the definition of domain '%s'", def->name);
        return NULL;
    }
    /* the status XML writes generated MACs out; keep the original's record */
    for (size_t i = 0; i < def->devices.nnets && i < copy->devices.nnets; i++)
        copy->devices.nets[i]->mac_written = def->devices.nets[i]->mac_written;
    copy->current_memory_kib = def->current_memory_kib;
    return copy;
}

int tv_domain_name_check(const char *name)
{
    if (!name || !*name) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR, "domain name must not be empty");
        return -1;
    }
    size_t len = strlen(name);
    if (len > TV_DOMAIN_NAME_MAX) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR,
                        "domain name is %zu bytes long: at most %d bytes are allowed", len,
                        TV_DOMAIN_NAME_MAX);
        return -1;
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR, "domain name is not valid UTF-8");
        return -1;
    }
    g_autofree char *shown = g_strescape(name, NULL);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR,
                            "invalid domain name '%s': control characters are not allowed", shown);
            return -1;
        }
    }
    if (strchr(name, '/')) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR,
                        "invalid domain name '%s': '/' is not allowed", shown);
        return -1;
    }
    if (name[0] == '.') {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_XML_ERROR,
                        "invalid domain name '%s': a name must not start with '.'", shown);
        return -1;
    }
    return 0;
}

void tv_uuid_format(const unsigned char uuid[TV_UUID_LEN], char out[TV_UUID_STRLEN + 1])
{
    g_snprintf(out, TV_UUID_STRLEN + 1,
               "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
               uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
               uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

/* Canonical 8-4-4-4-12 form or 32 hex digits; nothing else. */
int tv_uuid_parse(const char *str, unsigned char uuid[TV_UUID_LEN])
{
    size_t len = str ? strlen(str) : 0;
    bool dashed = len == TV_UUID_STRLEN;
    if (!dashed && len != 2 * TV_UUID_LEN)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (str[i] != '-')
                return -1;
            i++;
            continue;
        }
        int hi = g_ascii_xdigit_value(str[i]);
        int lo = i + 1 < len ? g_ascii_xdigit_value(str[i + 1]) : -1;
        if (hi < 0 || lo < 0 || n >= TV_UUID_LEN)
            return -1;
        uuid[n++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    return n == TV_UUID_LEN ? 0 : -1;
}

static GMutex test_rand_lock;
static GRand *test_rand;

void tv_domain_conf_test_seed(guint32 seed)
{
    g_mutex_lock(&test_rand_lock);
    if (test_rand)
        g_rand_free(test_rand);
    test_rand = seed ? g_rand_new_with_seed(seed) : NULL;
    g_mutex_unlock(&test_rand_lock);
}

void tv_conf_random_bytes(unsigned char *buf, size_t len)
{
    g_mutex_lock(&test_rand_lock);
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(test_rand ? g_rand_int(test_rand) : g_random_int()) & 0xff;
    g_mutex_unlock(&test_rand_lock);
}

void tv_uuid_generate(unsigned char uuid[TV_UUID_LEN])
{
    tv_conf_random_bytes(uuid, TV_UUID_LEN);
    uuid[6] = (uuid[6] & 0x0f) | 0x40; /* version 4: random */
    uuid[8] = (uuid[8] & 0x3f) | 0x80; /* RFC 4122 variant */
}

unsigned tv_domain_def_vcpus_current(const TvDomainDef *def)
{
    return def->vcpus_current && def->vcpus_current < def->vcpus ? def->vcpus_current : def->vcpus;
}

TvDomainDisk *tv_domain_def_take_disk(TvDomainDef *def, size_t i)
{
    TvDomainDevices *d = &def->devices;
    TvDomainDisk *disk = d->disks[i];
    memmove(d->disks + i, d->disks + i + 1, (d->ndisks - i - 1) * sizeof(*d->disks));
    d->ndisks--;
    return disk;
}

TvDomainNet *tv_domain_def_take_net(TvDomainDef *def, size_t i)
{
    TvDomainDevices *d = &def->devices;
    TvDomainNet *net = d->nets[i];
    memmove(d->nets + i, d->nets + i + 1, (d->nnets - i - 1) * sizeof(*d->nets));
    d->nnets--;
    return net;
}

TvDomainController *tv_domain_def_take_controller(TvDomainDef *def, size_t i)
{
    TvDomainDevices *d = &def->devices;
    TvDomainController *c = d->controllers[i];
    memmove(d->controllers + i, d->controllers + i + 1,
            (d->ncontrollers - i - 1) * sizeof(*d->controllers));
    d->ncontrollers--;
    return c;
}
