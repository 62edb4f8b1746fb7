#include "qemu_boot.h"
#include "qemu_command_priv.h"
#include "qemu_command_redirdev.h"
#include "qemu_cpu.h"
#include "qemu_lifecycle.h"
#include "qemu_security.h"
#include "tv_error.h"

#include <string.h>

char *tv_qemu_escape_opt(const char *value)
{
    GString *out = g_string_sized_new(strlen(value) + 4);
    for (const char *p = value; *p; p++) {
        if (*p == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

static void add(GPtrArray *argv, const char *arg)
{
    g_ptr_array_add(argv, g_strdup(arg));
}

static void addf(GPtrArray *argv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void addf(GPtrArray *argv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(argv, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static void build_machine(GPtrArray *argv, const TvDomainDef *def, const TvQemuCaps *caps,
                          const TvQemuMtePlan *mte)
{
    GString *m = g_string_new(def->os.machine);
    g_string_append(m, ",usb=off");
    switch (def->features.gic) {
    case TV_GIC_VERSION_2:
        g_string_append(m, ",gic-version=2");
        break;
    case TV_GIC_VERSION_3:
        g_string_append(m, ",gic-version=3");
        break;
    case TV_GIC_VERSION_HOST:
        g_string_append(m, ",gic-version=host");
        break;
    case TV_GIC_VERSION_DEFAULT:
    case TV_GIC_VERSION_LAST:
        break;
    }
    if (tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_ACPI))
        g_string_append(m, def->features.acpi == TV_FEATURE_STATE_ON ? ",acpi=on" : ",acpi=off");
    tv_qemu_firmware_machine_opts(m, def);
    switch (mte->route) {
    case TV_MTE_ROUTE_MTE_VERSION:
        g_string_append_printf(m, ",mte-version=%d", mte->level);
        break;
    case TV_MTE_ROUTE_MTE_ON:
        g_string_append(m, ",mte=on");
        break;
    case TV_MTE_ROUTE_NONE:
        break;
    }
    add(argv, "-machine");
    g_ptr_array_add(argv, g_string_free(m, FALSE));
}

static void build_cpu(GPtrArray *argv, const TvDomainDef *def)
{
    add(argv, "-accel");
    add(argv, def->virt_type == TV_VIRT_KVM ? "kvm" : "tcg");
    add(argv, "-cpu");
    g_ptr_array_add(argv, tv_qemu_cpu_arg(def));
}

static void build_boot(GPtrArray *argv, const TvDomainDef *def)
{
    const TvDomainOsBoot *b = &def->os.boot;
    tv_qemu_firmware_boot_command(argv, def);
    /* -kernel, -initrd, -append and -dtb values are taken whole by QEMU: no escaping */
    if (b->kernel) {
        add(argv, "-kernel");
        add(argv, b->kernel);
    }
    if (b->initrd) {
        add(argv, "-initrd");
        add(argv, b->initrd);
    }
    if (b->cmdline) {
        add(argv, "-append");
        add(argv, b->cmdline);
    }
    if (b->dtb) {
        add(argv, "-dtb");
        add(argv, b->dtb);
    }
}

char *tv_qemu_net_alias(const TvDomainNet *n, size_t i)
{
    return n->alias ? g_strdup(n->alias) : g_strdup_printf("net%zu", i);
}

/* A tap the runtime opened (bridge, network, ethernet) is passed as a
 * descriptor (fd: its number on the command line, its getfd name at
 * hot-plug); without one (domxml-to-native) the tap is named. */
TvQemuObject *tv_qemu_net_netdev(const TvDomainNet *n, const char *alias, const char *fd)
{
    bool tap = n->type == TV_NET_TYPE_ETHERNET || n->type == TV_NET_TYPE_BRIDGE ||
               n->type == TV_NET_TYPE_NETWORK;
    TvQemuObject *o = tv_qemu_object_new(tap ? "tap" : "user");
    tv_qemu_object_strf(o, "id", "host%s", alias);
    if (!tap)
        return o;
    if (fd) {
        tv_qemu_object_str(o, "fd", fd);
        return o;
    }
    if (n->ifname)
        tv_qemu_object_str(o, "ifname", n->ifname);
    tv_qemu_object_str(o, "script", "no");
    tv_qemu_object_str(o, "downscript", "no");
    return o;
}

TvQemuObject *tv_qemu_net_device(const TvDomainNet *n, const char *alias, unsigned bootindex)
{
    TvQemuObject *o = tv_qemu_object_new("virtio-net-pci");
    tv_qemu_object_strf(o, "netdev", "host%s", alias);
    tv_qemu_object_str(o, "id", alias);
    tv_qemu_object_str(o, "mac", n->mac);
    if (n->mtu)
        tv_qemu_object_int(o, "host_mtu", n->mtu);
    if (bootindex)
        tv_qemu_object_int(o, "bootindex", bootindex);
    tv_qemu_object_add_address(o, &n->address);
    return o;
}

static void build_nets(GPtrArray *argv, const TvDomainDef *def, const TvQemuCommandOptions *opts)
{
    for (size_t i = 0; i < def->devices.nnets; i++) {
        const TvDomainNet *n = def->devices.nets[i];
        int fd = opts && opts->net_fds ? opts->net_fds[i] : 0;
        g_autofree char *fdnum = fd > 0 ? g_strdup_printf("%d", fd) : NULL;
        g_autofree char *alias = tv_qemu_net_alias(n, i);
        g_autoptr(TvQemuObject) netdev = tv_qemu_net_netdev(n, alias, fdnum);
        tv_qemu_argv_add_object(argv, "-netdev", netdev);
        unsigned bootindex = tv_qemu_boot_index(def, TV_BOOT_DEV_NETWORK, i == 0, n->boot_order);
        g_autoptr(TvQemuObject) dev = tv_qemu_net_device(n, alias, bootindex);
        tv_qemu_argv_add_object(argv, "-device", dev);
    }
}

static void build_misc_devices(GPtrArray *argv, const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nrngs; i++) {
        const TvDomainRng *r = def->devices.rngs[i];
        g_autofree char *alias = tv_qemu_rng_alias(r, i);
        g_autoptr(TvQemuObject) backend = tv_qemu_rng_backend(r, alias);
        tv_qemu_argv_add_object(argv, "-object", backend);
        g_autoptr(TvQemuObject) dev = tv_qemu_rng_device(r, alias);
        tv_qemu_argv_add_object(argv, "-device", dev);
    }
    if (def->features.compat.vmcoreinfo == TV_FEATURE_STATE_ON) {
        add(argv, "-device");
        add(argv, "vmcoreinfo");
    }
    tv_qemu_build_misc(argv, def);
}

GPtrArray *tv_qemu_build_command(const TvDomainDef *def, const TvQemuCaps *caps,
                                 const TvQemuMtePlan *mte, const TvQemuCommandOptions *opts)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    char uuid[TV_UUID_STRLEN + 1];
    g_autofree char *name = tv_qemu_escape_opt(def->name);

    add(argv, def->devices.emulator ? def->devices.emulator : caps->binary);
    add(argv, "-name");
    addf(argv, "guest=%s,debug-threads=on", name);
    if (opts && opts->paused)
        add(argv, "-S");
    if (opts && opts->incoming) {
        add(argv, "-incoming");
        add(argv, "defer");
    }
    build_machine(argv, def, caps, mte);
    build_cpu(argv, def);
    add(argv, "-m");
    addf(argv, "size=%lluk", def->memory_kib);
    add(argv, "-smp");
    g_ptr_array_add(argv, tv_qemu_smp_arg(def));
    tv_uuid_format(def->uuid, uuid);
    add(argv, "-uuid");
    add(argv, uuid);
    add(argv, "-no-user-config");
    add(argv, "-nodefaults");
    if (opts && opts->monitor_fd > 0) {
        /* bound by the manager: QEMU needs no write access to the state folder */
        add(argv, "-chardev");
        addf(argv, "socket,id=charmonitor,fd=%d,server=on,wait=off", opts->monitor_fd);
        add(argv, "-mon");
        add(argv, "chardev=charmonitor,id=monitor,mode=control");
    } else if (opts && opts->monitor_path) {
        g_autofree char *mon = tv_qemu_escape_opt(opts->monitor_path);
        add(argv, "-chardev");
        addf(argv, "socket,id=charmonitor,path=%s,server=on,wait=off", mon);
        add(argv, "-mon");
        add(argv, "chardev=charmonitor,id=monitor,mode=control");
    }
    add(argv, "-rtc");
    add(argv, def->clock == TV_CLOCK_OFFSET_LOCALTIME ? "base=localtime" : "base=utc");
    tv_qemu_lifecycle_command(argv, def);
    build_boot(argv, def);
    tv_qemu_build_topology(argv, def);
    tv_qemu_build_disks(argv, def);
    tv_qemu_build_filesystems(argv, def);
    build_nets(argv, def, opts);
    tv_qemu_build_smartcards(argv, def, opts);
    tv_qemu_build_chardevs(argv, def, opts);
    tv_qemu_build_display(argv, def);
    tv_qemu_build_sounds(argv, def);
    tv_qemu_build_redirdevs(argv, def);
    build_misc_devices(argv, def);
    tv_qemu_build_vsock(argv, def, opts);
    if (tv_qemu_build_tpm(argv, def, opts) < 0) {
        g_ptr_array_free(argv, TRUE);
        return NULL;
    }
    add(argv, "-display");
    add(argv, "none");
    add(argv, "-msg");
    add(argv, "timestamp=on");
    if (opts && opts->sandbox) {
        add(argv, "-sandbox");
        add(argv, TV_QEMU_SANDBOX_ARG);
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

static char *shell_quote(const char *arg)
{
    bool plain = *arg != '\0';
    for (const char *p = arg; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-_=,./:+@%", *p))
            plain = false;
    }
    return plain ? g_strdup(arg) : g_shell_quote(arg);
}

char *tv_qemu_command_format(GPtrArray *argv)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < argv->len && g_ptr_array_index(argv, i); i++) {
        const char *arg = g_ptr_array_index(argv, i);
        g_autofree char *q = shell_quote(arg);
        const char *next = i + 1 < argv->len ? g_ptr_array_index(argv, i + 1) : NULL;
        g_string_append(out, q);
        /* an option and its value stay on one line */
        if (arg[0] == '-' && next && next[0] != '-') {
            g_autofree char *qn = shell_quote(next);
            g_string_append_printf(out, " %s", qn);
            i++;
        }
        g_string_append(out,
                        (i + 1 < argv->len && g_ptr_array_index(argv, i + 1)) ? " \\\n" : "\n");
    }
    return g_string_free(out, FALSE);
}

void tv_qemu_assign_aliases(TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        TvDomainDisk *d = def->devices.disks[i];
        if (!d->alias)
            d->alias = tv_qemu_disk_alias(d, i);
    }
    for (size_t i = 0; i < def->devices.nnets; i++) {
        TvDomainNet *n = def->devices.nets[i];
        if (!n->alias)
            n->alias = tv_qemu_net_alias(n, i);
    }
    for (size_t i = 0; i < def->devices.ncontrollers; i++) {
        TvDomainController *c = def->devices.controllers[i];
        if (!c->alias)
            c->alias = tv_qemu_controller_alias(c);
    }
    tv_qemu_assign_pluggable_aliases(def);
    for (size_t i = 0; i < def->devices.nsmartcards; i++) {
        if (!def->devices.smartcards[i]->alias)
            def->devices.smartcards[i]->alias = g_strdup_printf("smartcard%zu", i);
    }
    tv_qemu_assign_redirdev_aliases(def);
    if (def->devices.tpm && !def->devices.tpm->alias)
        def->devices.tpm->alias = g_strdup("tpm0");
}
