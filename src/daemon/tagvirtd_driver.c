#include "tagvirtd_driver.h"

#include "remote_domain.h"

TvQemuDriver *tv_daemon_driver_open(const TvDaemonConfig *cfg, const char *root)
{
    TvQemuDriverConfig dcfg = { 0 };
    dcfg.root = root;
    dcfg.host_root = cfg->host_root;
    dcfg.emulator = cfg->emulator;
    dcfg.autostart = cfg->autostart;
    dcfg.prefork = cfg->prefork_qemu;
    return tv_qemu_driver_open(&dcfg);
}

void tv_daemon_driver_attach(TvQemuDriver *drv, TvRemote *remote)
{
    tv_remote_register_driver_handlers(remote);
    tv_qemu_driver_set_event_callback(drv, tv_remote_emit_event, remote);
}

void tv_daemon_driver_close(TvQemuDriver *drv)
{
    if (!drv)
        return;
    tv_qemu_driver_set_event_callback(drv, NULL, NULL);
    tv_qemu_driver_close(drv);
}
