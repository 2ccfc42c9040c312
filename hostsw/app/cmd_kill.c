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
    "Engages the kill switch of a running gateway: it cancels its open orders, refuses new ones and says so.\n"
    "  --config CFG    take the kill file from the config's [gateway] kill_file\n"
    "  --file PATH     write the kill file (its first line is the reason the gateway logs)\n"
    "  --pid PID       send SIGUSR1 to the gateway's process (it must have called ht_gw_kill_on_signal)\n"
    "  --reason TEXT   why (default: \"hedgetrig kill from the command line\")\n"
    "At least one of --config/--file or --pid. Exit 0 when every trigger was delivered, 1 otherwise.\n";

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
    ht_gw_config cfg;
    ht_gw_config_defaults(&cfg);
    ht_error err;
    if (config) {
        if (ht_gw_config_load(&cfg, config, &err) != 0)
            return ht_cli_usage_error("kill", "%s", err.msg);
        if (!cfg.kill_file[0] && !file)
            return ht_cli_fail("kill", "config %s sets no kill_file in [gateway]", config);
        if (!file)
            file = cfg.kill_file;
    }
    if (!file && !pid)
        return ht_cli_usage_error("kill", "give --file, --config or --pid");
    int rc = HT_EXIT_OK;
    if (file) {
        FILE *f = fopen(file, "w");
        if (!f || fprintf(f, "%s\n", reason) < 0 || fclose(f) != 0) {
            rc = ht_cli_fail("kill", "writing kill file %s: %s", file, strerror(errno));
        } else {
            printf("kill: wrote %s (\"%s\"); the gateway engages within 100 ms of its next poll\n", file, reason);
        }
    }
    if (pid) {
        if (kill((pid_t)pid, SIGUSR1) != 0)
            rc = ht_cli_fail("kill", "SIGUSR1 to pid %llu: %s", (unsigned long long)pid, strerror(errno));
        else
            printf("kill: sent SIGUSR1 to pid %llu\n", (unsigned long long)pid);
    }
    return rc;
}
