/* SPDX-License-Identifier: MIT */
/* Inside the gateway library: the pid file a gateway holds next to its journal, and the kill reason beside it. */
#ifndef HEDGETRIG_GW_PROCESS_H
#define HEDGETRIG_GW_PROCESS_H

#include <stddef.h>

#include "hedgetrig/gateway.h"

/* Creates (or takes over a stale) <journal>.pid, locks it for the life of the process's open file and writes
 * "hedgetrig-gateway PID START_TICKS". Returns the locked fd with the path in pid_path, or -1 with err (also
 * when another gateway holds it: two gateways on one journal would reuse its ClOrdIDs). */
int gw_pid_file_acquire(const char *journal_path, char *pid_path, size_t cap, ht_error *err);

/* Removes the pid file and releases the lock. fd -1 is ignored. */
void gw_pid_file_release(int fd, const char *pid_path);

/* Takes (reads and removes) the reason `hedgetrig kill` left next to the pid file, written within the last
 * minute. 0 with its first line in out, or -1 when there is none. */
int gw_take_kill_reason(const char *pid_path, char *out, size_t cap);

#endif
