/* SPDX-License-Identifier: MIT */
/* Command-line options that choose a packet source (file, DPDK, socket) for the subcommands that read market
 * data, and the code that opens it. */
#ifndef HEDGETRIG_APP_SOURCE_H
#define HEDGETRIG_APP_SOURCE_H

#include "hedgetrig/nic.h"

typedef struct ht_source_opts {
    ht_nic_config cfg;
    const char *file;        /* the capture (FILE argument) */
    char eal_args[4096];     /* the EAL arguments used for --via dpdk */
    bool eal_given;          /* --eal was on the command line */
} ht_source_opts;

/* The usage text of the source options (for --help), one option a line. */
#define HT_SOURCE_USAGE                                                                                     \
    "  --via file|dpdk|socket  how packets arrive (default file): libpcap reads FILE; dpdk replays FILE\n" \
    "                          through DPDK's net_pcap vdev (or the port --eal sets up); socket joins\n"  \
    "                          the groups on the ports (FILE is then not read)\n"                          \
    "  --group A.B.C.D[/N]     keep only datagrams to these multicast groups (repeatable)\n"               \
    "  --port N                keep only datagrams to these UDP ports (repeatable)\n"                     \
    "  --deribit               the production channels: 239.111.111.0-26, ports 6100 and 6101\n"        \
    "  --eal 'ARGS'            DPDK EAL arguments (default: --no-huge --no-pci --no-shconf -m 128\n"      \
    "                          --vdev=net_pcap0,rx_pcap=FILE)\n"                                         \
    "  --dpdk-port N           DPDK port to receive on (default 0)\n"                                   \
    "  --iface A.B.C.D         socket: local interface address for the joins (default any)\n"          \
    "  --rcvbuf BYTES          socket: receive buffer size (default: the system's)\n"                   \
    "  --idle-ms N             dpdk/socket: stop after N ms without a packet (default 500 for dpdk\n"   \
    "                          with a file, 0 = never otherwise)\n"

/* Fills the defaults (file source, full speed). */
void ht_source_opts_default(ht_source_opts *o);

/* Consumes the source option at argv[*i] (and its value, advancing *i). Returns 1 when it was one,
 * 0 when argv[*i] is not a source option, or HT_EXIT_USAGE after printing a usage error. */
int ht_source_parse(const char *cmd, int argc, char **argv, int *i, ht_source_opts *o);

/* Opens the source. Returns NULL after printing a clear error. */
ht_nic *ht_source_open(const char *cmd, ht_source_opts *o);

#endif
