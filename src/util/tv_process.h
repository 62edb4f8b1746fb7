/* Small process helpers shared by everything that starts or watches QEMU. */
#pragma once

#include <sys/types.h>

/* pidfd_open(2): an fd (close-on-exec) that becomes readable when pid exits,
 * also for a process that is not our child; -1 with errno set (no report). */
int tv_pidfd_open(pid_t pid);
/* pidfd_send_signal(2): signal the process the pidfd refers to (never a
 * process that reused its pid); -1 with errno set. */
int tv_pidfd_send_signal(int pidfd, int sig);
