/* SPDX-License-Identifier: MIT */
/* `hedgetrig kill`: engages a running gateway's kill switch through its kill file and/or SIGUSR1. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/gateway.h"

static const char k_kill_usage[] =
    "usage: hedgetrig kill [--config CFG] [--file PATH] [--pid PID] [--reason TEXT]\n"
    "\n"
    "Engages the kill switch of a running gateway: it cancels its open orders, refuses new ones and logs the reason.\n"
    "  --config CFG    write the config's [gateway] kill_file, and signal the gateway that runs the config's\n"
    "                  journal (the one holding <journal>.pid); a stale pid file is reported, not signalled\n"
    "  --file PATH     write the kill file (its first line is the reason the gateway logs)\n"
    "  --pid PID       signal that process (SIGUSR1), only if it is a running hedgetrig gateway: it holds a\n"
    "                  locked gateway pid file naming it (checked in /proc) and catches SIGUSR1; otherwise\n"
    "                  nothing is sent (a pid reused meanwhile is never signalled)\n"
    "  --reason TEXT   why, logged by the gateway whichever way it is reached (default: \"hedgetrig kill from\n"
    "                  the command line\")\n"
    "At least one of --config/--file or --pid. Exit 0 when every trigger was delivered, 1 otherwise.\n";

/* Signals the gateway process pid with the reason (after the checks of ht_gw_signal_kill). An exit code. */
static int signal_gateway(int pid, const char *reason)
{
    char pid_file[600];
    ht_error err;
    if (ht_gw_signal_kill(pid, reason, pid_file, sizeof pid_file, &err) != 0)
        return ht_cli_fail("kill", "%s", err.msg);
    printf("kill: sent SIGUSR1 to pid %d, the gateway holding %s (\"%s\")\n", pid, pid_file, reason);
    return HT_EXIT_OK;
}

/* Writes the kill file. An exit code. */
static int write_kill_file(const char *file, const char *reason)
{
    FILE *f = fopen(file, "w");
    if (!f || fprintf(f, "%s\n", reason) < 0 || fclose(f) != 0)
        return ht_cli_fail("kill", "writing kill file %s: %s", file, strerror(errno));
    printf("kill: wrote %s (\"%s\"); the gateway engages within 100 ms of its next poll\n", file, reason);
    return HT_EXIT_OK;
}

int cmd_kill(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(k_kill_usage, stdout);
        return HT_EXIT_OK;
    }
    const char *config = NULL, *file = NULL, *reason = "hedgetrig kill from the command line";
    uint64_t pid = 0;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return ht_cli_usage_error("kill", "%s needs a value", opt);
        const char *v = argv[++i];
        if (!strcmp(opt, "--config"))
            config = v;
        else if (!strcmp(opt, "--file"))
            file = v;
        else if (!strcmp(opt, "--reason"))
            reason = v;
        else if (!strcmp(opt, "--pid")) {
            if (!ht_cli_parse_u64("kill", opt, v, 2, 4194304, &pid))
                return HT_EXIT_USAGE;
        } else
            return ht_cli_usage_error("kill", "unknown option '%s'", opt);
    }
    if (!file && !pid && !config)
        return ht_cli_usage_error("kill", "give --file, --config or --pid");
    ht_gw_config cfg;
    ht_gw_config_default(&cfg);
    ht_error err;
    int config_pid = -1;
    char stale[300] = "";
    if (config) {
        if (ht_gw_config_load(&cfg, config, &err) != 0)
            return ht_cli_usage_error("kill", "%s", err.msg);
        if (!file && cfg.kill_file[0])
            file = cfg.kill_file;
        char pid_file[300];
        if (cfg.journal_path[0] && (size_t)snprintf(pid_file, sizeof pid_file, "%s.pid", cfg.journal_path) <
                                       sizeof pid_file) {
            config_pid = ht_gw_pid_file_holder(pid_file, &err);
            if (config_pid < 0)
                snprintf(stale, sizeof stale, "%s", err.msg);
        }
        if (!file && config_pid < 0 && !pid)
            return ht_cli_fail("kill", "config %s: no kill_file in [gateway], and %s", config,
                               stale[0] ? stale : "no [gateway] journal to find the gateway by");
    }
    int rc = HT_EXIT_OK;
    if (file && write_kill_file(file, reason) != HT_EXIT_OK)
        rc = HT_EXIT_FAIL;
    if (config && config_pid < 0 && stale[0])
        printf("kill: %s\n", stale);
    if (config_pid > 0 && (uint64_t)config_pid != pid && signal_gateway(config_pid, reason) != HT_EXIT_OK)
        rc = HT_EXIT_FAIL;
    if (pid && signal_gateway((int)pid, reason) != HT_EXIT_OK)
        rc = HT_EXIT_FAIL;
    return rc;
}
