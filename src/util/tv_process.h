/* Small process helpers shared by everything that starts or watches QEMU. */
#pragma once

#include <sys/types.h>

/* pidfd_open(2): an fd (close-on-exec) that becomes readable when pid exits,
 * also for a process that is not our child; -1 with errno set (no report). */
int tv_pidfd_open(pid_t pid);
/* pidfd_send_signal(2): signal the process the pidfd refers to (never a
 * process that reused its pid); -1 with errno set. */
int tv_pidfd_send_signal(int pidfd, int sig);

/* Reap this process's zombie children whose command name is comm, without
 * blocking; the number reaped.  A child subreaper inherits the middle
 * processes of programs that daemonize themselves (dnsmasq), which nobody
 * else waits for; other children (QEMU) are left to their watchers. */
int tv_process_reap_zombies(const char *comm);
