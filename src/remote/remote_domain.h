/* Procedures served by the QEMU driver (qemu_driver.h).  Kept apart from the
 * connection-level ones so the remote layer builds and runs without it. */
#pragma once

#include "remote.h"

/* Route the driver procedures of remote (created with a driver) to it. */
void tv_remote_register_driver_handlers(TvRemote *remote);
/* DOMAIN_OPEN_CONSOLE (remote_console.c); part of the driver handlers. */
void tv_remote_register_console_handlers(TvRemote *remote);
/* Guest addresses of interfaces
 * (remote_device.c); part of the driver handlers. */
void tv_remote_register_device_handlers(TvRemote *remote);
/* Node facts, CPU models, node devices (remote_host.c); part of the driver handlers. */
void tv_remote_register_host_handlers(TvRemote *remote);
/* vCPUs, memory, reset, metadata (remote_domain_tune.c); part of the driver handlers. */
void tv_remote_register_tune_handlers(TvRemote *remote);
/* Migration v3 with parameters (remote_migrate.c); part of the driver handlers. */
void tv_remote_register_migrate_handlers(TvRemote *remote);
/* Save, restore, managed save (remote_save.c); part of the driver handlers. */
void tv_remote_register_save_handlers(TvRemote *remote);
/* Statistics and snapshot lists (remote_stats.c); part of the driver handlers. */
void tv_remote_register_stats_handlers(TvRemote *remote);
/* setTime, getTime: the guest agent's calls (remote_agent.c); part of the
 * driver handlers. */
void tv_remote_register_agent_handlers(TvRemote *remote);
