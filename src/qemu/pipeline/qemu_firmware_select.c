/* firmware='efi' at define, the variable store's path and the firmware
 * checks: see qemu_boot.h.  libvirt chooses the firmware when the domain is
 * defined and writes the choice into the definition; so does tagvirt, so a
 * firmware package added later does not change a defined guest. */
#include "qemu_boot.h"
#include "qemu_firmware.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* What the domain asks of a feature: ON, OFF or ABSENT (either). */
static int wanted(const TvDomainFirmware *fw, TvFirmwareFeature f)
{
    if (f == TV_FIRMWARE_FEATURE_SECURE_BOOT && fw->features[f] == TV_FEATURE_STATE_ABSENT)
        return fw->loader_secure;
    return fw->features[f];
}

/* Why descriptor d does not fit the domain, or NULL. */
static char *mismatch(const TvQemuFirmware *d, const TvDomainDef *def)
{
    const TvDomainFirmware *fw = &def->os.boot.fw;
    if (!d->usable)
        return g_strdup(d->why_not);
    if (!tv_qemu_firmware_matches_machine(d, def->os.machine))
        return g_strdup_printf("not for machine type '%s'", def->os.machine);
    const bool has[TV_FIRMWARE_FEATURE_LAST] = { d->secure_boot, d->enrolled_keys };
    for (int f = 0; f < TV_FIRMWARE_FEATURE_LAST; f++) {
        int want = wanted(fw, f);
        if ((want == TV_FEATURE_STATE_ON && !has[f]) || (want == TV_FEATURE_STATE_OFF && has[f]))
            return g_strdup_printf("%s '%s'", has[f] ? "has" : "lacks",
                                   tv_firmware_feature_to_string(f));
    }
    return NULL;
}

static int check_constraints(const TvDomainFirmware *fw)
{
    if (fw->features[TV_FIRMWARE_FEATURE_SECURE_BOOT] != TV_FEATURE_STATE_ABSENT &&
        fw->loader_secure != TV_FEATURE_STATE_ABSENT &&
        fw->features[TV_FIRMWARE_FEATURE_SECURE_BOOT] != fw->loader_secure) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: /domain/os/loader secure='%s' contradicts "
                        "/domain/os/firmware/feature name='secure-boot' enabled='%s'",
                        fw->loader_secure == TV_FEATURE_STATE_ON ? "yes" : "no",
                        fw->loader_secure == TV_FEATURE_STATE_ON ? "no" : "yes");
        return -1;
    }
    if (fw->loader_type == TV_LOADER_TYPE_ROM || fw->loader_readonly == TV_FEATURE_STATE_OFF) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <os firmware='efi'> chooses a read-only "
                        "pflash UEFI image and a variable store; /domain/os/loader cannot ask "
                        "for %s",
                        fw->loader_type == TV_LOADER_TYPE_ROM ? "type='rom'" : "readonly='no'");
        return -1;
    }
    return 0;
}

static int select_efi(TvDomainDef *def, const TvHostFacts *host)
{
    TvDomainFirmware *fw = &def->os.boot.fw;
    if (check_constraints(fw) < 0)
        return -1;
    g_autoptr(TvQemuFirmwareList) list = tv_qemu_firmware_list(host);
    GString *why = g_string_new(NULL);
    const TvQemuFirmware *chosen = NULL;
    for (size_t i = 0; i < list->n && !chosen; i++) {
        g_autofree char *reason = mismatch(&list->items[i], def);
        if (!reason)
            chosen = &list->items[i];
        else
            g_string_append_printf(why, "; %s: %s", list->items[i].path, reason);
    }
    if (!chosen) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: no UEFI firmware fits <os firmware='efi'> for "
                        "machine type '%s'%s%s",
                        def->os.machine,
                        list->n ? why->str
                                : " (no firmware descriptors in /usr/share/qemu/firmware or "
                                  "/etc/qemu/firmware: install Debian's qemu-efi-aarch64)",
                        "");
        g_string_free(why, TRUE);
        return -1;
    }
    g_string_free(why, TRUE);
    fw->loader = g_strdup(chosen->executable);
    fw->loader_type = TV_LOADER_TYPE_PFLASH;
    fw->loader_readonly = TV_FEATURE_STATE_ON;
    if (!fw->nvram_template)
        fw->nvram_template = g_strdup(chosen->nvram_template);
    fw->features[TV_FIRMWARE_FEATURE_SECURE_BOOT] =
        chosen->secure_boot ? TV_FEATURE_STATE_ON : TV_FEATURE_STATE_OFF;
    fw->features[TV_FIRMWARE_FEATURE_ENROLLED_KEYS] =
        chosen->enrolled_keys ? TV_FEATURE_STATE_ON : TV_FEATURE_STATE_OFF;
    return 0;
}

/* A loader given by path: its descriptor's template, when it has one. */
static void template_for_loader(TvDomainDef *def, const TvHostFacts *host)
{
    TvDomainFirmware *fw = &def->os.boot.fw;
    g_autoptr(TvQemuFirmwareList) list = tv_qemu_firmware_list(host);
    for (size_t i = 0; i < list->n; i++) {
        const TvQemuFirmware *d = &list->items[i];
        if (d->usable && g_strcmp0(d->executable, fw->loader) == 0) {
            fw->nvram_template = g_strdup(d->nvram_template);
            return;
        }
    }
}

int tv_qemu_firmware_post_parse(TvDomainDef *def, const TvHostFacts *host)
{
    TvDomainFirmware *fw = &def->os.boot.fw;
    if (fw->kind == TV_OS_FIRMWARE_EFI && !fw->loader && select_efi(def, host) < 0)
        return -1;
    if (!fw->loader)
        return 0;
    if (fw->loader_type == TV_LOADER_TYPE_DEFAULT)
        fw->loader_type = TV_LOADER_TYPE_PFLASH;
    if (fw->loader_type == TV_LOADER_TYPE_PFLASH && fw->loader_readonly == TV_FEATURE_STATE_ABSENT)
        fw->loader_readonly = TV_FEATURE_STATE_ON;
    if (fw->loader_type == TV_LOADER_TYPE_PFLASH && fw->loader_readonly == TV_FEATURE_STATE_ON &&
        !fw->nvram_template && !fw->nvram)
        template_for_loader(def, host);
    return 0;
}

void tv_qemu_firmware_fill_nvram(TvDomainDef *def, const char *dir)
{
    TvDomainFirmware *fw = &def->os.boot.fw;
    if (fw->loader && fw->loader_type == TV_LOADER_TYPE_PFLASH &&
        fw->loader_readonly == TV_FEATURE_STATE_ON && !fw->nvram)
        fw->nvram =
            g_strdup_printf("%s/%s_VARS.fd", dir ? dir : TV_QEMU_NVRAM_DIR_DEFAULT, def->name);
}

/* A file the host must let QEMU read (under the fixture root in tests). */
static int check_readable(const TvHostFacts *host, const char *path, const char *what)
{
    g_autofree char *real = tv_qemu_host_path(host, path);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot use %s '%s'", what, path);
        return -1;
    }
    close(fd);
    return 0;
}

static int validate_acpi(const TvDomainDef *def)
{
    const TvDomainFirmware *fw = &def->os.boot.fw;
    bool uefi = fw->loader && fw->loader_type == TV_LOADER_TYPE_PFLASH;
    if (def->features.acpi != TV_FEATURE_STATE_ON || uefi)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: ACPI requires UEFI on this architecture: "
                    "/domain/features/acpi needs <os firmware='efi'> or a pflash <loader>; remove "
                    "<acpi/> for a guest booted without UEFI firmware");
    return -1;
}

int tv_qemu_firmware_validate(const TvDomainDef *def, const TvHostFacts *host)
{
    const TvDomainFirmware *fw = &def->os.boot.fw;
    if (validate_acpi(def) < 0)
        return -1;
    if (fw->loader_secure == TV_FEATURE_STATE_ON && fw->kind != TV_OS_FIRMWARE_EFI) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: /domain/os/loader secure='yes' (a flash "
                        "protected by SMM) exists for x86 only; on aarch64 ask for a Secure Boot "
                        "image with <os firmware='efi'><firmware><feature enabled='yes' "
                        "name='secure-boot'/></firmware>");
        return -1;
    }
    if (fw->nvram && !fw->loader) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "<nvram> needs a <loader> (UEFI firmware) in <os>");
        return -1;
    }
    if (fw->nvram && fw->loader_type == TV_LOADER_TYPE_ROM) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "<nvram> needs <loader type='pflash'>, not type='rom'");
        return -1;
    }
    if (fw->loader &&
        check_readable(host, fw->loader, "the firmware image of /domain/os/loader") < 0)
        return -1;
    if (fw->nvram_template) {
        g_autofree char *store = fw->nvram ? tv_qemu_host_path(host, fw->nvram) : NULL;
        if ((!store || access(store, F_OK) != 0) &&
            check_readable(host, fw->nvram_template,
                           "the variable store template (attribute 'template' of "
                           "/domain/os/nvram)") < 0)
            return -1;
    }
    return 0;
}
