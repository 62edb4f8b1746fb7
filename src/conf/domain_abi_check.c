#include "domain_abi_check.h"
#include "tv_error.h"

#include <string.h>

static bool differs(const char *element, const char *a, const char *b)
{
    tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                    "guest ABI: %s differs: source '%s', target '%s'", element, a ? a : "",
                    b ? b : "");
    return false;
}

static bool same_text(const char *element, const char *a, const char *b)
{
    return g_strcmp0(a ? a : "", b ? b : "") == 0 || differs(element, a, b);
}

static bool same_num(const char *element, unsigned long long a, unsigned long long b)
{
    if (a == b)
        return true;
    g_autofree char *sa = g_strdup_printf("%llu", a);
    g_autofree char *sb = g_strdup_printf("%llu", b);
    return differs(element, sa, sb);
}

static bool same_address(const char *device, const TvDeviceAddress *a, const TvDeviceAddress *b)
{
    g_autofree char *sa = tv_domain_address_string(a);
    g_autofree char *sb = tv_domain_address_string(b);
    g_autofree char *element = g_strdup_printf("the <address> of %s", device);
    return same_text(element, sa, sb);
}

static bool same_count(const char *element, size_t a, size_t b)
{
    g_autofree char *what = g_strdup_printf("the number of <%s> devices", element);
    return same_num(what, a, b);
}

static bool check_identity(const TvDomainDef *src, const TvDomainDef *dst)
{
    char us[TV_UUID_STRLEN + 1], ud[TV_UUID_STRLEN + 1];
    tv_uuid_format(src->uuid, us);
    tv_uuid_format(dst->uuid, ud);
    return same_text("<domain type>", tv_virt_type_to_string(src->virt_type),
                     tv_virt_type_to_string(dst->virt_type)) &&
           same_text("<uuid>", us, ud) && same_text("<name>", src->name, dst->name) &&
           same_text("<os><type>", src->os.type, dst->os.type) &&
           same_text("<os><type arch>", src->os.arch, dst->os.arch) &&
           same_text("<os><type machine>", src->os.machine, dst->os.machine) &&
           same_num("<memory> (KiB)", src->memory_kib, dst->memory_kib) &&
           same_num("<vcpu>", src->vcpus ? src->vcpus : 1, dst->vcpus ? dst->vcpus : 1);
}

static bool check_features(const TvDomainFeatures *a, const TvDomainFeatures *b)
{
    return same_text("<features><acpi>", tv_feature_state_to_string(a->acpi),
                     tv_feature_state_to_string(b->acpi)) &&
           same_text("<features><gic version>",
                     a->gic_present ? tv_gic_version_to_string(a->gic) : "absent",
                     b->gic_present ? tv_gic_version_to_string(b->gic) : "absent") &&
           same_text("<features><pmu state>", tv_feature_state_to_string(a->pmu),
                     tv_feature_state_to_string(b->pmu)) &&
           tv_domain_mte_check_abi_stability(&a->mte, &b->mte);
}

static const TvDomainCpuFeature *find_feature(const TvDomainCpu *cpu, const char *name)
{
    for (size_t i = 0; i < cpu->nfeatures; i++)
        if (strcmp(cpu->features[i].name, name) == 0)
            return &cpu->features[i];
    return NULL;
}

static const char *feature_value(const TvDomainCpuFeature *f)
{
    if (!f)
        return "not written";
    return tv_cpu_feature_policy_on(f->policy) ? "on" : "off";
}

/* every feature written on one side must be there, on or off alike, on the other */
static bool check_cpu_features(const TvDomainCpu *a, const TvDomainCpu *b)
{
    const TvDomainCpu *sides[] = { a, b };
    for (size_t s = 0; s < 2; s++) {
        for (size_t i = 0; i < sides[s]->nfeatures; i++) {
            const char *name = sides[s]->features[i].name;
            const TvDomainCpuFeature *fa = find_feature(a, name), *fb = find_feature(b, name);
            g_autofree char *element = g_strdup_printf("<cpu><feature name='%s'>", name);
            if (!same_text(element, feature_value(fa), feature_value(fb)))
                return false;
        }
    }
    return true;
}

static bool check_cpu(const TvDomainCpu *a, const TvDomainCpu *b)
{
    return same_text("<cpu mode>", tv_cpu_mode_to_string(a->mode),
                     tv_cpu_mode_to_string(b->mode)) &&
           same_text("<cpu><model>", a->model, b->model) &&
           same_num("<cpu><topology sockets>", a->sockets, b->sockets) &&
           same_num("<cpu><topology cores>", a->cores, b->cores) &&
           same_num("<cpu><topology threads>", a->threads, b->threads) && check_cpu_features(a, b);
}

static bool check_disks(const TvDomainDevices *a, const TvDomainDevices *b)
{
    if (!same_count("disk", a->ndisks, b->ndisks))
        return false;
    for (size_t i = 0; i < a->ndisks; i++) {
        const TvDomainDisk *x = a->disks[i], *y = b->disks[i];
        g_autofree char *dev = g_strdup_printf("<disk> %zu", i + 1);
        g_autofree char *target = g_strdup_printf("<target dev> of %s", dev);
        g_autofree char *bus = g_strdup_printf("<target bus> of <disk dev='%s'>", x->target_dev);
        g_autofree char *kind = g_strdup_printf("<disk device> of <disk dev='%s'>", x->target_dev);
        g_autofree char *name = g_strdup_printf("<disk dev='%s'>", x->target_dev);
        if (!same_text(target, x->target_dev, y->target_dev) ||
            !same_text(kind, tv_disk_device_to_string(x->device),
                       tv_disk_device_to_string(y->device)) ||
            !same_text(bus, tv_disk_bus_to_string(x->bus), tv_disk_bus_to_string(y->bus)) ||
            !same_address(name, &x->address, &y->address))
            return false;
    }
    return true;
}

static bool check_nets(const TvDomainDevices *a, const TvDomainDevices *b)
{
    if (!same_count("interface", a->nnets, b->nnets))
        return false;
    for (size_t i = 0; i < a->nnets; i++) {
        const TvDomainNet *x = a->nets[i], *y = b->nets[i];
        g_autofree char *dev = g_strdup_printf("<interface> %zu", i + 1);
        g_autofree char *mac = g_strdup_printf("<mac address> of %s", dev);
        g_autofree char *model = g_strdup_printf("<model type> of %s", dev);
        if (!same_text(mac, x->mac, y->mac) || !same_text(model, x->model, y->model) ||
            !same_address(dev, &x->address, &y->address))
            return false;
    }
    return true;
}

static bool check_controllers(const TvDomainDevices *a, const TvDomainDevices *b)
{
    if (!same_count("controller", a->ncontrollers, b->ncontrollers))
        return false;
    for (size_t i = 0; i < a->ncontrollers; i++) {
        const TvDomainController *x = a->controllers[i], *y = b->controllers[i];
        g_autofree char *dev = g_strdup_printf("<controller> %zu", i + 1);
        g_autofree char *type = g_strdup_printf("<controller type> of %s", dev);
        g_autofree char *index = g_strdup_printf("<controller index> of %s", dev);
        g_autofree char *name = g_strdup_printf("<controller type='%s' index='%d'>",
                                                tv_controller_type_to_string(x->type), x->index);
        g_autofree char *model = g_strdup_printf("<model> of %s", name);
        g_autofree char *ports = g_strdup_printf("<controller ports> of %s", name);
        if (!same_text(type, tv_controller_type_to_string(x->type),
                       tv_controller_type_to_string(y->type)) ||
            !same_num(index, (unsigned)x->index, (unsigned)y->index) ||
            !same_text(model, tv_controller_model_to_string(x->model),
                       tv_controller_model_to_string(y->model)) ||
            !same_num(ports, x->ports, y->ports) || !same_address(name, &x->address, &y->address))
            return false;
    }
    return true;
}

static bool check_chrs(const char *element, TvDomainChr *const *a, size_t na, TvDomainChr *const *b,
                       size_t nb)
{
    if (!same_count(element, na, nb))
        return false;
    for (size_t i = 0; i < na; i++) {
        g_autofree char *dev = g_strdup_printf("<%s> %zu", element, i + 1);
        g_autofree char *type = g_strdup_printf("<target type> of %s", dev);
        g_autofree char *port = g_strdup_printf("<target port> of %s", dev);
        g_autofree char *name = g_strdup_printf("<target name> of %s", dev);
        if (!same_text(type, tv_chr_target_type_to_string(a[i]->target_type),
                       tv_chr_target_type_to_string(b[i]->target_type)) ||
            !same_num(port, a[i]->port, b[i]->port) ||
            !same_text(name, a[i]->target_name, b[i]->target_name) ||
            !same_address(dev, &a[i]->address, &b[i]->address))
            return false;
    }
    return true;
}

/* devices known by a model and an address */
static bool check_model(const char *element, size_t i, const char *ma, const char *mb,
                        const TvDeviceAddress *aa, const TvDeviceAddress *ab)
{
    g_autofree char *dev = g_strdup_printf("<%s> %zu", element, i + 1);
    g_autofree char *model = g_strdup_printf("the model of %s", dev);
    return same_text(model, ma, mb) && same_address(dev, aa, ab);
}

static bool check_small_devices(const TvDomainDevices *a, const TvDomainDevices *b)
{
    if (!same_count("rng", a->nrngs, b->nrngs) || !same_count("panic", a->npanics, b->npanics) ||
        !same_count("watchdog", a->nwatchdogs, b->nwatchdogs) ||
        !same_count("input", a->ninputs, b->ninputs) ||
        !same_count("video", a->nvideos, b->nvideos) ||
        !same_count("tpm", a->tpm != NULL, b->tpm != NULL) ||
        !same_count("smartcard", a->nsmartcards, b->nsmartcards))
        return false;
    for (size_t i = 0; i < a->nsmartcards; i++)
        if (!check_model("smartcard", i, tv_smartcard_mode_to_string(a->smartcards[i]->mode),
                         tv_smartcard_mode_to_string(b->smartcards[i]->mode),
                         &a->smartcards[i]->address, &b->smartcards[i]->address))
            return false;
    static const TvDeviceAddress sysbus = { 0 }; /* a TPM has no address */
    if (a->tpm && !check_model("tpm", 0, tv_tpm_model_to_string(a->tpm->model),
                               tv_tpm_model_to_string(b->tpm->model), &sysbus, &sysbus))
        return false;
    for (size_t i = 0; i < a->nrngs; i++)
        if (!check_model("rng", i, "virtio", "virtio", &a->rngs[i]->address, &b->rngs[i]->address))
            return false;
    for (size_t i = 0; i < a->npanics; i++)
        if (!check_model("panic", i, tv_panic_model_to_string(a->panics[i]->model),
                         tv_panic_model_to_string(b->panics[i]->model), &a->panics[i]->address,
                         &b->panics[i]->address))
            return false;
    for (size_t i = 0; i < a->nwatchdogs; i++)
        if (!check_model("watchdog", i, tv_watchdog_model_to_string(a->watchdogs[i]->model),
                         tv_watchdog_model_to_string(b->watchdogs[i]->model),
                         &a->watchdogs[i]->address, &b->watchdogs[i]->address))
            return false;
    for (size_t i = 0; i < a->ninputs; i++) {
        g_autofree char *ma =
            g_strdup_printf("%s on %s", tv_input_type_to_string(a->inputs[i]->type),
                            tv_input_bus_to_string(a->inputs[i]->bus));
        g_autofree char *mb =
            g_strdup_printf("%s on %s", tv_input_type_to_string(b->inputs[i]->type),
                            tv_input_bus_to_string(b->inputs[i]->bus));
        if (!check_model("input", i, ma, mb, &a->inputs[i]->address, &b->inputs[i]->address))
            return false;
    }
    for (size_t i = 0; i < a->nvideos; i++)
        if (!check_model("video", i, tv_video_model_to_string(a->videos[i]->model),
                         tv_video_model_to_string(b->videos[i]->model), &a->videos[i]->address,
                         &b->videos[i]->address))
            return false;
    return check_model("memballoon", 0, tv_balloon_model_to_string(a->memballoon),
                       tv_balloon_model_to_string(b->memballoon), &a->memballoon_address,
                       &b->memballoon_address);
}

/* <sound> (model, codecs), <filesystem> (mount tag, access mode, read-only:
 * what the guest sees; the host folder may differ) and <vsock>, each with
 * its address */
static bool check_guest_devices(const TvDomainDevices *a, const TvDomainDevices *b)
{
    if (!same_count("sound", a->nsounds, b->nsounds) ||
        !same_count("filesystem", a->nfilesystems, b->nfilesystems) ||
        !same_count("vsock", a->vsock != NULL, b->vsock != NULL))
        return false;
    for (size_t i = 0; i < a->nsounds; i++) {
        const TvDomainSound *x = a->sounds[i], *y = b->sounds[i];
        g_autofree char *dev = g_strdup_printf("<sound> %zu", i + 1);
        g_autofree char *codecs = g_strdup_printf("the number of <codec> of %s", dev);
        if (!check_model("sound", i, tv_sound_model_to_string(x->model),
                         tv_sound_model_to_string(y->model), &x->address, &y->address) ||
            !same_num(codecs, x->ncodecs, y->ncodecs))
            return false;
        for (size_t c = 0; c < x->ncodecs; c++) {
            g_autofree char *codec = g_strdup_printf("<codec> %zu of %s", c + 1, dev);
            if (!same_text(codec, tv_sound_codec_to_string(x->codecs[c]),
                           tv_sound_codec_to_string(y->codecs[c])))
                return false;
        }
    }
    for (size_t i = 0; i < a->nfilesystems; i++) {
        const TvDomainFilesystem *x = a->filesystems[i], *y = b->filesystems[i];
        g_autofree char *dev = g_strdup_printf("<filesystem> %zu", i + 1);
        g_autofree char *tag = g_strdup_printf("<target dir> of %s", dev);
        g_autofree char *mode = g_strdup_printf("accessmode of %s", dev);
        g_autofree char *ro = g_strdup_printf("<readonly/> of %s", dev);
        if (!same_text(tag, x->target_dir, y->target_dir) ||
            !same_text(mode, tv_fs_access_mode_to_string(x->accessmode),
                       tv_fs_access_mode_to_string(y->accessmode)) ||
            !same_text(ro, x->readonly ? "yes" : "no", y->readonly ? "yes" : "no") ||
            !same_address(dev, &x->address, &y->address))
            return false;
    }
    return !a->vsock || same_address("<vsock>", &a->vsock->address, &b->vsock->address);
}

/* <redirdev> (type and USB address: the socket may differ) and the
 * <redirfilter> rules, which decide what the guest may be given */
static bool check_redirdevs(const TvDomainDevices *a, const TvDomainDevices *b)
{
    if (!same_count("redirdev", a->nredirdevs, b->nredirdevs))
        return false;
    for (size_t i = 0; i < a->nredirdevs; i++) {
        const TvDomainRedirdev *x = a->redirdevs[i], *y = b->redirdevs[i];
        if (!check_model("redirdev", i, tv_redirdev_type_to_string(x->type),
                         tv_redirdev_type_to_string(y->type), &x->address, &y->address))
            return false;
    }
    g_autofree char *fa = tv_domain_redirfilter_string(a->redirfilter);
    g_autofree char *fb = tv_domain_redirfilter_string(b->redirfilter);
    return same_text("<redirfilter> (its <usbdev> rules)", fa, fb);
}

bool tv_domain_def_check_abi_stability(const TvDomainDef *src, const TvDomainDef *dst)
{
    const TvDomainDevices *a = &src->devices, *b = &dst->devices;
    return check_identity(src, dst) && check_features(&src->features, &dst->features) &&
           check_cpu(&src->cpu, &dst->cpu) && check_controllers(a, b) && check_disks(a, b) &&
           check_nets(a, b) &&
           check_chrs("serial", a->serials, a->nserials, b->serials, b->nserials) &&
           check_chrs("console", a->consoles, a->nconsoles, b->consoles, b->nconsoles) &&
           check_chrs("channel", a->channels, a->nchannels, b->channels, b->nchannels) &&
           check_small_devices(a, b) && check_guest_devices(a, b) && check_redirdevs(a, b);
}
