#include "qemu_boot.h"
#include "qemu_command.h"
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
    if (caps->virt_acpi)
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
    const char *model = tv_qemu_cpu_model_name(def);
    switch (def->features.pmu) {
    case TV_FEATURE_STATE_ON:
        addf(argv, "%s,pmu=on", model);
        break;
    case TV_FEATURE_STATE_OFF:
        addf(argv, "%s,pmu=off", model);
        break;
    case TV_FEATURE_STATE_ABSENT:
    case TV_FEATURE_STATE_LAST:
        add(argv, model);
        break;
    }
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

static void build_disks(GPtrArray *argv, const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        const TvDomainDisk *d = def->devices.disks[i];
        g_autofree char *path = tv_qemu_escape_opt(d->path);
        const char *ro = d->readonly ? "on" : "off";
        const char *fmt = d->format == TV_DISK_FORMAT_QCOW2 ? "qcow2" : "raw";
        add(argv, "-blockdev");
        addf(argv, "driver=file,filename=%s,node-name=tv-disk%zu-storage,read-only=%s", path, i,
             ro);
        add(argv, "-blockdev");
        addf(argv, "driver=%s,file=tv-disk%zu-storage,node-name=tv-disk%zu-format,read-only=%s",
             fmt, i, i, ro);
        unsigned bootindex = tv_qemu_boot_index(def, TV_BOOT_DEV_HD, i == 0, d->boot_order);
        g_autofree char *boot =
            bootindex ? g_strdup_printf(",bootindex=%u", bootindex) : g_strdup("");
        add(argv, "-device");
        addf(argv, "virtio-blk-pci,drive=tv-disk%zu-format,id=virtio-disk%zu%s", i, i, boot);
    }
}

static void build_nets(GPtrArray *argv, const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nnets; i++) {
        const TvDomainNet *n = def->devices.nets[i];
        add(argv, "-netdev");
        switch (n->type) {
        case TV_NET_TYPE_ETHERNET: {
            g_autofree char *ifname = n->ifname ? tv_qemu_escape_opt(n->ifname) : NULL;
            if (ifname)
                addf(argv, "tap,id=hostnet%zu,ifname=%s,script=no,downscript=no", i, ifname);
            else
                addf(argv, "tap,id=hostnet%zu,script=no,downscript=no", i);
            break;
        }
        case TV_NET_TYPE_USER:
        case TV_NET_TYPE_NONE:
        case TV_NET_TYPE_LAST:
            addf(argv, "user,id=hostnet%zu", i);
            break;
        }
        unsigned bootindex = tv_qemu_boot_index(def, TV_BOOT_DEV_NETWORK, i == 0, n->boot_order);
        g_autofree char *boot =
            bootindex ? g_strdup_printf(",bootindex=%u", bootindex) : g_strdup("");
        add(argv, "-device");
        addf(argv, "virtio-net-pci,netdev=hostnet%zu,id=net%zu,mac=%s%s", i, i, n->mac, boot);
    }
}

static void build_chardev(GPtrArray *argv, const TvDomainChr *chr, const char *id, const char *tty)
{
    g_autofree char *path = chr->path ? tv_qemu_escape_opt(chr->path) : NULL;
    add(argv, "-chardev");
    if (tty && chr->type == TV_CHR_TYPE_PTY) {
        g_autofree char *t = tv_qemu_escape_opt(tty);
        addf(argv, "serial,id=%s,path=%s", id, t);
        return;
    }
    switch (chr->type) {
    case TV_CHR_TYPE_FILE:
        addf(argv, "file,id=%s,path=%s", id, path);
        break;
    case TV_CHR_TYPE_UNIX:
        if (chr->unix_mode == TV_CHR_UNIX_MODE_CONNECT)
            addf(argv, "socket,id=%s,path=%s", id, path);
        else
            addf(argv, "socket,id=%s,path=%s,server=on,wait=off", id, path);
        break;
    case TV_CHR_TYPE_PTY:
    case TV_CHR_TYPE_NONE:
    case TV_CHR_TYPE_LAST:
        addf(argv, "pty,id=%s", id);
        break;
    }
}

static bool serial_has_port(const TvDomainDef *def, unsigned port)
{
    for (size_t i = 0; i < def->devices.nserials; i++) {
        if (def->devices.serials[i]->port == port)
            return true;
    }
    return false;
}

static void build_serials(GPtrArray *argv, const TvDomainDef *def, const char *tty0)
{
    for (size_t i = 0; i < def->devices.nserials; i++) {
        unsigned port = def->devices.serials[i]->port;
        g_autofree char *id = g_strdup_printf("charserial%u", port);
        build_chardev(argv, def->devices.serials[i], id, port == 0 ? tty0 : NULL);
        add(argv, "-serial");
        addf(argv, "chardev:%s", id);
    }
    /* a console is the serial port of the same number; alone it becomes that port */
    for (size_t i = 0; i < def->devices.nconsoles; i++) {
        const TvDomainChr *c = def->devices.consoles[i];
        if (serial_has_port(def, c->port))
            continue;
        g_autofree char *id = g_strdup_printf("charserial%u", c->port);
        build_chardev(argv, c, id, c->port == 0 ? tty0 : NULL);
        add(argv, "-serial");
        addf(argv, "chardev:%s", id);
    }
}

static void build_misc_devices(GPtrArray *argv, const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nrngs; i++) {
        const char *backend = def->devices.rngs[i]->backend_path;
        g_autofree char *file = tv_qemu_escape_opt(backend ? backend : "/dev/urandom");
        add(argv, "-object");
        addf(argv, "rng-random,id=objrng%zu,filename=%s", i, file);
        add(argv, "-device");
        addf(argv, "virtio-rng-pci,rng=objrng%zu,id=rng%zu", i, i);
    }
    if (def->devices.memballoon == TV_BALLOON_MODEL_VIRTIO) {
        add(argv, "-device");
        add(argv, "virtio-balloon-pci,id=balloon0");
    }
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
    build_machine(argv, def, caps, mte);
    build_cpu(argv, def);
    add(argv, "-m");
    addf(argv, "size=%lluk", def->memory_kib);
    add(argv, "-smp");
    unsigned present = tv_domain_def_vcpus_current(def);
    g_autofree char *maxcpus =
        present < def->vcpus ? g_strdup_printf(",maxcpus=%u", def->vcpus) : g_strdup("");
    if (def->cpu.sockets)
        addf(argv, "%u%s,sockets=%u,cores=%u,threads=%u", present, maxcpus, def->cpu.sockets,
             def->cpu.cores, def->cpu.threads);
    else
        addf(argv, "%u%s", present, maxcpus);
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
    if (def->on_reboot == TV_LIFECYCLE_DESTROY)
        add(argv, "-no-reboot");
    if (def->on_poweroff == TV_LIFECYCLE_PRESERVE)
        add(argv, "-no-shutdown");
    build_boot(argv, def);
    build_disks(argv, def);
    build_nets(argv, def);
    build_serials(argv, def, opts ? opts->serial0_tty : NULL);
    build_misc_devices(argv, def);
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
