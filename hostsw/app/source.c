/* SPDX-License-Identifier: MIT */
/* Parsing of the packet-source options shared by decode, demo and the replay commands. */
#include "source.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void ht_source_opts_default(ht_source_opts *o)
{
    memset(o, 0, sizeof *o);
    ht_nic_config_default(&o->cfg);
}

/* The option's value, or NULL after a usage error when it is missing. */
static const char *option_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        ht_cli_usage_error(cmd, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int ht_source_parse(const char *cmd, int argc, char **argv, int *i, ht_source_opts *o)
{
    const char *opt = argv[*i];
    const char *v;
    ht_error err;
    if (strcmp(opt, "--via") == 0) {
        if (!(v = option_value(cmd, argc, argv, i)))
            return HT_EXIT_USAGE;
        if (ht_nic_kind_parse(v, &o->cfg.kind) != 0)
            return ht_cli_usage_error(cmd, "--via expects file, dpdk or socket, got '%s'", v);
        return 1;
    }
    if (strcmp(opt, "--group") == 0) {
        if (!(v = option_value(cmd, argc, argv, i)))
            return HT_EXIT_USAGE;
        if (ht_nic_filter_add_group(&o->cfg.filter, v, &err) != 0)
            return ht_cli_usage_error(cmd, "%s", err.msg);
        return 1;
    }
    if (strcmp(opt, "--port") == 0) {
        if (!(v = option_value(cmd, argc, argv, i)))
            return HT_EXIT_USAGE;
        if (ht_nic_filter_add_port(&o->cfg.filter, v, &err) != 0)
            return ht_cli_usage_error(cmd, "%s", err.msg);
        return 1;
    }
    if (strcmp(opt, "--deribit") == 0) {
        ht_nic_filter_deribit(&o->cfg.filter);
        return 1;
    }
    if (strcmp(opt, "--eal") == 0) {
        if (!(v = option_value(cmd, argc, argv, i)))
            return HT_EXIT_USAGE;
        if (!ht_cli_copy(cmd, opt, v, o->eal_args, sizeof o->eal_args))
            return HT_EXIT_USAGE;
        o->eal_given = true;
        return 1;
    }
    if (strcmp(opt, "--dpdk-port") == 0) {
        uint64_t port;
        if (!(v = option_value(cmd, argc, argv, i)) || !ht_cli_parse_u64(cmd, opt, v, 0, 65535, &port))
            return HT_EXIT_USAGE;
        o->cfg.port_id = (uint16_t)port;
        return 1;
    }
    if (strcmp(opt, "--iface") == 0) {
        struct in_addr a;
        if (!(v = option_value(cmd, argc, argv, i)))
            return HT_EXIT_USAGE;
        if (inet_pton(AF_INET, v, &a) != 1)
            return ht_cli_usage_error(cmd, "--iface expects an IPv4 address, got '%s'", v);
        o->cfg.iface_addr = ntohl(a.s_addr);
        return 1;
    }
    if (strcmp(opt, "--rcvbuf") == 0) {
        uint64_t bytes;
        if (!(v = option_value(cmd, argc, argv, i)) || !ht_cli_parse_u64(cmd, opt, v, 1024, 1u << 30, &bytes))
            return HT_EXIT_USAGE;
        o->cfg.rcvbuf_bytes = (int)bytes;
        return 1;
    }
    if (strcmp(opt, "--idle-ms") == 0) {
        uint64_t ms;
        if (!(v = option_value(cmd, argc, argv, i)) || !ht_cli_parse_u64(cmd, opt, v, 0, 3600000, &ms))
            return HT_EXIT_USAGE;
        o->cfg.idle_eof_ms = (uint32_t)ms;
        return 1;
    }
    return 0;
}

ht_nic *ht_source_open(const char *cmd, ht_source_opts *o)
{
    ht_nic_config *cfg = &o->cfg;
    if (cfg->kind != HT_NIC_SOCKET && !o->file) {
        ht_cli_usage_error(cmd, "no capture FILE given");
        return NULL;
    }
    cfg->path = o->file;
    if (cfg->kind == HT_NIC_DPDK) {
        if (o->eal_given)
            cfg->path = NULL; /* the user's EAL says what the port reads: nothing to check it against */
        else
            snprintf(o->eal_args, sizeof o->eal_args,
                     "--no-huge --no-pci --no-shconf -m 128 --log-level=*:error --vdev=net_pcap0,rx_pcap=%s",
                     o->file);
        cfg->eal_args = o->eal_args;
        if (!o->eal_given && cfg->idle_eof_ms == 0)
            cfg->idle_eof_ms = 500;
    }
    ht_error err;
    ht_nic *nic = ht_nic_open(cfg, &err);
    if (!nic)
        ht_cli_fail(cmd, "%s", err.msg);
    return nic;
}
