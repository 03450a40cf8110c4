/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systemd notification protocol: datagrams of "KEY=VALUE" lines sent
 * to the socket named by NOTIFY_SOCKET. Without NOTIFY_SOCKET every call
 * does nothing, so the agent runs the same outside systemd.
 */
#ifndef NODECOND_DAEMON_SD_NOTIFY_H
#define NODECOND_DAEMON_SD_NOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1\nSTATUS=..."). Returns 1 when sent, 0 without NOTIFY_SOCKET, or -errno. */
int sd_notify_send(const char *state);

/*
 * Returns the watchdog interval in microseconds from WATCHDOG_USEC, or 0
 * when systemd expects no pings (unset, invalid, or WATCHDOG_PID naming
 * another process).
 */
uint64_t sd_notify_watchdog_usec(void);

#endif
