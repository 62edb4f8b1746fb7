/* Hot-plug of <rng>, <input> and <watchdog> (qemu_process.h, "Hot-plug";
 * docs/formatdomain.rst, "Attaching and detaching devices").  Their unplug
 * is the common one (qemu_process_hotplug.c), which deletes an rng's
 * backend object once QEMU deleted the device. */
#include "qemu_process_hotplug_priv.h"
#include "qemu_security_dac.h"
#include "tv_error.h"

int tv_qemu_process_attach_rng(TvQemuProcess *proc, TvDomainRng *rng,
                               const TvQemuProcessConfig *cfg)
{
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &rng->alias, "rng", "<rng>");
    if (!mon)
        return -1;
    /* a file as the source goes to QEMU's user; device nodes stay udev's */
    bool labelled = false;
    if (tv_qemu_security_changes_user(cfg->security)) {
        if (tv_qemu_security_dac_label_add(cfg->security, proc->dac_path, rng->backend_path) < 0)
            return -1;
        labelled = true;
    }
    g_autoptr(TvQemuObject) backend = tv_qemu_rng_backend(rng, rng->alias);
    g_autoptr(TvQemuObject) dev = tv_qemu_rng_device(rng, rng->alias);
    if (tv_qemu_plug_add(mon, "object-add", backend) < 0)
        goto fail;
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        TV_PLUG_UNDO(tv_qemu_monitor_object_del(mon, tv_qemu_object_get(backend, "id")));
        goto fail;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_RNG, rng, "rng");
    return 0;
fail:
    if (labelled)
        tv_qemu_security_dac_restore_remove(proc->dac_path, rng->backend_path);
    tv_error_prefix("domain '%s': cannot attach <rng> with source '%s'", proc->name,
                    rng->backend_path);
    return -1;
}

int tv_qemu_process_attach_input(TvQemuProcess *proc, TvDomainInput *input)
{
    g_autofree char *what =
        g_strdup_printf("<input type='%s' bus='%s'>", tv_input_type_to_string(input->type),
                        tv_input_bus_to_string(input->bus));
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &input->alias, "input", what);
    if (!mon)
        return -1;
    g_autoptr(TvQemuObject) dev = tv_qemu_input_object(input, input->alias);
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        tv_error_prefix("domain '%s': cannot attach %s", proc->name, what);
        return -1;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_INPUT, input, "input");
    return 0;
}

int tv_qemu_process_attach_watchdog(TvQemuProcess *proc, TvDomainWatchdog *wd)
{
    g_autofree char *what =
        g_strdup_printf("<watchdog model='%s'>", tv_watchdog_model_to_string(wd->model));
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &wd->alias, "watchdog", what);
    if (!mon)
        return -1;
    /* QEMU has one watchdog action for the machine (a guest has at most one
     * watchdog): set before the device can expire; "reset" again on failure */
    g_autoptr(TvQemuObject) dev = tv_qemu_watchdog_device(wd, wd->alias);
    if (tv_qemu_monitor_set_watchdog_action(mon, tv_qemu_watchdog_action(wd)) < 0)
        goto fail;
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        TV_PLUG_UNDO(tv_qemu_monitor_set_watchdog_action(mon, "reset"));
        goto fail;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_WATCHDOG, wd, "watchdog");
    return 0;
fail:
    tv_error_prefix("domain '%s': cannot attach %s", proc->name, what);
    return -1;
}
