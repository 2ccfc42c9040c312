/* SPDX-License-Identifier: MIT */
/* hedgetrig latency: tick to wire from a capture of the wire (market data and the FIX orders it triggered). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/wire_latency.h"

static const char *const g_usage =
    "usage: hedgetrig latency --pcap CAP [--json] [--fix-port P]... [--md-port P]... [--md-group G]...\n"
    "                         [--trigger-tag N]\n"
    "\n"
    "Tick to wire measured from a capture of the wire, as a tap measures it (STAC-T0): every FIX NewOrderSingle\n"
    "(35=D) in the capture's TCP streams is matched, by the trigger it carries (tag 100010, Deribit's order\n"
    "label, \"t<channel>.<seq>\"), to the first capture of that market-data frame (a UDP datagram whose Deribit\n"
    "multicast frame header has that channelId and sequence). The gap is the capture time of the TCP segment\n"
    "that carried the order's last byte minus the capture time of the market-data frame.\n"
    "\n"
    "  --pcap CAP         the capture: pcap or pcapng; Ethernet (VLAN tags allowed), Linux cooked (SLL, SLL2:\n"
    "                     tcpdump -i any), BSD loopback or raw IPv4 link types; IPv4 only\n"
    "  --json             one JSON object instead of the text report\n"
    "  --fix-port P       TCP segments from or to port P are the order flow (repeatable; default: all TCP)\n"
    "  --md-port P        UDP datagrams to port P are market data (repeatable; default: all UDP)\n"
    "  --md-group G       UDP datagrams to group G (an address or a CIDR block) are market data (repeatable)\n"
    "  --trigger-tag N    the FIX tag that carries the trigger (default 100010)\n"
    "\n"
    "Each TCP direction is put back in order: a retransmitted segment is counted and its bytes used once; bytes\n"
    "never captured (a hole) are counted and skipped. Percentiles are nearest-rank over the matched orders.\n"
    "Frames that are not IPv4, fragments and frames captured shorter than their headers say are counted and\n"
    "skipped; the first of them is named on stderr.\n"
    "Exit status: 0 the capture was read to its end (also when it holds no orders: \"no orders\" is printed),\n"
    "1 it could not be opened or read to its end (the report of the frames before the error is printed),\n"
    "2 usage error.\n";

/* Prints the report as text. */
static void print_text(const char *path, const ht_wire_report *r)
{
    printf("capture: %s: %" PRIu64 " frames: %" PRIu64 " market-data frames (%" PRIu64 " repeated), %" PRIu64
           " TCP segments with data (%" PRIu64 " retransmitted, %" PRIu64 " holes) in %" PRIu64
           " directions, %" PRIu64 " FIX messages\n",
           path, r->frames, r->md_frames, r->md_repeats, r->tcp_segments, r->tcp_retransmitted, r->tcp_holes,
           r->tcp_flows, r->fix_messages);
    if (r->orders == 0) {
        printf("no orders in the capture\n");
        return;
    }
    printf("orders: %" PRIu64 "  matched: %" PRIu64 "  unmatched: %" PRIu64 " (no trigger %" PRIu64
           ", bad trigger %" PRIu64 ", trigger never seen %" PRIu64 ", trigger after the order %" PRIu64 ")\n",
           r->orders, r->matched, r->orders - r->matched, r->no_trigger, r->bad_trigger, r->trigger_not_seen,
           r->trigger_after_order);
    if (r->matched == 0)
        return;
    printf("tick_to_wire_ns: min %" PRIu64 "  p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64 "  p99.9 %" PRIu64
           "  max %" PRIu64 "\n",
           r->min_ns, r->p50_ns, r->p90_ns, r->p99_ns, r->p999_ns, r->max_ns);
    printf("(the capture time of the segment carrying each order's last byte minus that of its trigger's frame)\n");
}

/* Prints a JSON string value (the path, a message), escaped. */
static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Prints the report as one JSON object; error is the read error ("" when none). */
static void print_json(const char *path, const ht_wire_report *r, const char *error)
{
    printf("{\"capture\":");
    print_json_string(path);
    printf(",\"frames\":%" PRIu64 ",", r->frames);
    ht_wire_report_json(stdout, r);
    printf(",\"poss_dup\":%" PRIu64, r->poss_dup);
    printf(",\"md\":{\"frames\":%" PRIu64 ",\"repeats\":%" PRIu64 ",\"bad\":%" PRIu64 "}"
           ",\"tcp\":{\"directions\":%" PRIu64 ",\"directions_dropped_segments\":%" PRIu64 ",\"segments\":%" PRIu64
           ",\"retransmitted\":%" PRIu64 ",\"holes\":%" PRIu64 ",\"fix_messages\":%" PRIu64 ",\"fix_bad\":%" PRIu64
           "},\"skipped\":{\"not_ip\":%" PRIu64 ",\"fragments\":%" PRIu64 ",\"truncated\":%" PRIu64
           ",\"other\":%" PRIu64 "}",
           r->md_frames, r->md_repeats, r->md_bad, r->tcp_flows, r->tcp_flows_dropped, r->tcp_segments,
           r->tcp_retransmitted, r->tcp_holes, r->fix_messages, r->fix_bad, r->not_ip, r->fragments, r->truncated,
           r->other);
    printf(",\"first_problem\":");
    print_json_string(r->first_problem);
    printf(",\"error\":");
    print_json_string(error);
    printf("}\n");
}

/* Parses one option with a value into cfg. HT_EXIT_OK, or HT_EXIT_USAGE after the message. */
static int parse_filter_option(const char *opt, const char *value, ht_wire_config *cfg)
{
    ht_error err;
    uint64_t n;
    if (strcmp(opt, "--fix-port") == 0) {
        if (cfg->n_fix_ports == HT_NIC_MAX_PORTS)
            return ht_cli_usage_error("latency", "--fix-port: at most %u ports", HT_NIC_MAX_PORTS);
        if (!ht_cli_parse_u64("latency", opt, value, 1, 65535, &n))
            return HT_EXIT_USAGE;
        cfg->fix_ports[cfg->n_fix_ports++] = (uint16_t)n;
    } else if (strcmp(opt, "--md-port") == 0) {
        if (ht_nic_filter_add_port(&cfg->md, value, &err) != 0)
            return ht_cli_usage_error("latency", "--md-port: %s", err.msg);
    } else if (strcmp(opt, "--md-group") == 0) {
        if (ht_nic_filter_add_group(&cfg->md, value, &err) != 0)
            return ht_cli_usage_error("latency", "--md-group: %s", err.msg);
    } else {
        if (!ht_cli_parse_u64("latency", opt, value, 1, UINT32_MAX, &n))
            return HT_EXIT_USAGE;
        cfg->trigger_tag = (uint32_t)n;
    }
    return HT_EXIT_OK;
}

int cmd_latency(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_wire_config cfg;
    ht_wire_config_default(&cfg);
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (i + 1 < argc && strcmp(a, "--pcap") == 0) {
            if (path)
                return ht_cli_usage_error("latency", "--pcap given twice ('%s' and '%s')", path, argv[i + 1]);
            path = argv[++i];
        } else if (i + 1 < argc && (strcmp(a, "--fix-port") == 0 || strcmp(a, "--md-port") == 0 ||
                                    strcmp(a, "--md-group") == 0 || strcmp(a, "--trigger-tag") == 0)) {
            int rc = parse_filter_option(a, argv[++i], &cfg);
            if (rc != HT_EXIT_OK)
                return rc;
        } else {
            return ht_cli_unknown("latency", a, g_usage);
        }
    }
    if (!path)
        return ht_cli_usage_error("latency", "no capture given (--pcap CAP)");
    ht_wire_report rep;
    ht_error err = {0};
    int rc = ht_wire_analyse_file(path, &cfg, &rep, &err);
    if (rc != 0 && rep.frames == 0)
        return ht_cli_fail("latency", "%s", err.msg);
    if (json)
        print_json(path, &rep, rc != 0 ? err.msg : "");
    else
        print_text(path, &rep);
    fflush(stdout);
    if (rep.first_problem[0])
        fprintf(stderr, "hedgetrig latency: %s: skipped: %s\n", path, rep.first_problem);
    if (rc != 0)
        return ht_cli_fail("latency", "%s", err.msg);
    return HT_EXIT_OK;
}
