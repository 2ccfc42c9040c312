/* SPDX-License-Identifier: MIT */
/* hedgetrig decode: prints one line per SBE message of a capture (CSV in the vendor decode's format, or text). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"
#include "source.h"

static const char *const g_usage =
    "usage: hedgetrig decode FILE [--csv] [--via file|dpdk] [--limit N] [--summary] [source options]\n"
    "\n"
    "Prints one line per SBE message of the Deribit multicast capture FILE (pcap or pcapng).\n"
    "\n"
    "  --csv                   the vendor decode's CSV (frame,channel,seq,template,instrument_id,fields),\n"
    "                          header line first; default: readable text with every field\n"
    "  --limit N               stop after N messages\n"
    "  --summary               print packet, message and error counts on stderr at the end\n" HT_SOURCE_USAGE
    "\n"
    "Malformed packets are reported on stderr (frame, channel, sequence, offset, template, what lied); the\n"
    "messages before the lie are printed. Frames captured shorter than they were sent (a snap length) are\n"
    "counted and named on stderr; a file cut mid-frame gives its messages up to the cut, then the error.\n"
    "--via file and --via dpdk print the same lines and exit with the same status.\n"
    "Exit status: 0 ok, 1 the file could not be read to its end, had malformed or truncated packets, or no\n"
    "complete datagram, 2 usage error.\n";

typedef struct decode_run {
    bool csv;
    uint64_t limit;
    uint64_t messages;
    uint64_t malformed;
    ht_feed *names; /* text mode: the feed that knows instrument names */
    char line[65536];
} decode_run;

/* Prints the messages of one datagram; false once the limit is reached. */
static bool decode_packet(decode_run *r, const ht_nic_packet *p)
{
    ht_sbe_iter it;
    if (ht_sbe_iter_init(&it, p->payload, p->len) != HT_SBE_OK) {
        ht_error err;
        ht_sbe_iter_fault(&it, &err);
        fprintf(stderr, "hedgetrig decode: frame %" PRIu64 ": %s\n", p->frame, err.msg);
        r->malformed++;
        return true;
    }
    if (r->names)
        ht_feed_on_packet(r->names, p->payload, p->len, p->rx_tsc);
    ht_sbe_msg msg;
    while (ht_sbe_iter_next(&it, &msg)) {
        if (r->limit && r->messages >= r->limit)
            return false;
        ht_sbe_status st;
        int n;
        if (r->csv) {
            n = ht_sbe_format_csv(r->line, sizeof r->line, p->frame, &it.frame, &msg, &st);
        } else {
            const ht_instrument *in = NULL;
            if (msg.hdr.block_len >= 4 && msg.hdr.template_id != HT_SBE_PRICE_INDEX &&
                msg.hdr.template_id != HT_SBE_SNAPSHOT_START)
                in = ht_feed_instrument(r->names, ht_sbe_u32(msg.block));
            n = ht_sbe_format_text(r->line, sizeof r->line, p->frame, &it.frame, &msg, in ? in->name : NULL, &st);
        }
        if (n < 0) {
            fprintf(stderr, "hedgetrig decode: frame %" PRIu64 ", channel %u seq %u, offset %u, template %u: %s\n",
                    p->frame, it.frame.channel_id, it.frame.seq, msg.offset, msg.hdr.template_id,
                    st != HT_SBE_OK ? ht_sbe_status_str(st) : "line too long");
            r->malformed++;
            return true;
        }
        fwrite(r->line, 1, (size_t)n, stdout);
        fputc('\n', stdout);
        r->messages++;
    }
    if (it.status != HT_SBE_OK) {
        ht_error err;
        ht_sbe_iter_fault(&it, &err);
        fprintf(stderr, "hedgetrig decode: frame %" PRIu64 ", channel %u seq %u: %s\n", p->frame,
                it.frame.channel_id, it.frame.seq, err.msg);
        r->malformed++;
    }
    return true;
}

/* decode_packet as a replay callback: stops the replay once the limit is reached. */
static int decode_next(void *ctx, const ht_nic_packet *p)
{
    return decode_packet(ctx, p) ? 0 : 1;
}

int cmd_decode(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    static decode_run run;
    memset(&run, 0, sizeof run);
    bool summary = false;
    ht_source_opts src;
    ht_source_opts_default(&src);
    for (int i = 1; i < argc; i++) {
        int r = ht_source_parse("decode", argc, argv, &i, &src);
        if (r == HT_EXIT_USAGE)
            return r;
        if (r == 1)
            continue;
        if (strcmp(argv[i], "--csv") == 0) {
            run.csv = true;
        } else if (strcmp(argv[i], "--summary") == 0) {
            summary = true;
        } else if (strcmp(argv[i], "--limit") == 0) {
            if (i + 1 >= argc)
                return ht_cli_usage_error("decode", "--limit needs a value");
            if (!ht_cli_parse_u64("decode", "--limit", argv[++i], 1, UINT64_MAX, &run.limit))
                return HT_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return ht_cli_unknown("decode", argv[i], g_usage);
        } else if (src.file) {
            return ht_cli_usage_error("decode", "more than one FILE ('%s' and '%s')", src.file, argv[i]);
        } else {
            src.file = argv[i];
        }
    }
    if (!src.file && src.cfg.kind != HT_NIC_SOCKET)
        return ht_cli_usage_error("decode", "no capture FILE given");
    ht_error err;
    if (!run.csv) {
        run.names = ht_feed_create(NULL, &err);
        if (!run.names)
            return ht_cli_fail("decode", "%s", err.msg);
    }
    ht_nic *nic = ht_source_open("decode", &src);
    if (!nic) {
        ht_feed_destroy(run.names);
        return HT_EXIT_FAIL;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (run.csv)
        puts(HT_SBE_CSV_HEADER);
    int rc = HT_EXIT_OK;
    const ht_nic_replay_ops ops = {.on_packet = decode_next, .ctx = &run};
    if (ht_nic_replay(nic, &ops, NULL, &err) == HT_NIC_REPLAY_ERROR) {
        fflush(stdout);
        ht_cli_fail("decode", "%s", err.msg);
        rc = HT_EXIT_FAIL;
    }
    fflush(stdout);
    const ht_nic_stats *ns = ht_nic_stats_get(nic);
    if (summary)
        fprintf(stderr,
                "decode: %" PRIu64 " frames, %" PRIu64 " datagrams, %" PRIu64 " messages, %" PRIu64
                " malformed packets, %" PRIu64 " not UDP, %" PRIu64 " truncated, %" PRIu64 " filtered out\n",
                ns->frames, ns->packets, run.messages, run.malformed, ns->not_udp, ns->truncated, ns->filtered);
    if (ns->truncated && rc == HT_EXIT_OK) {
        fprintf(stderr, "hedgetrig decode: %" PRIu64 " frame(s) of %s truncated (captured shorter than their IP/UDP "
                        "length), their messages not printed; the first is frame %" PRIu64 "\n",
                ns->truncated, src.file ? src.file : "the input", ns->first_truncated_frame);
        rc = HT_EXIT_FAIL;
    }
    if (ns->frames > 0 && ns->packets == 0 && ns->not_udp > 0 && rc == HT_EXIT_OK) {
        /* "no complete datagram" (see the usage): frames that are not UDP, e.g. a capture whose link type header
         * does not match its frames, printed nothing and exited 0. */
        fprintf(stderr, "hedgetrig decode: none of the %" PRIu64 " frame(s) of %s is an IPv4/UDP datagram (%" PRIu64
                        " not UDP: is the capture's link type right?)\n",
                ns->frames, src.file ? src.file : "the input", ns->not_udp);
        rc = HT_EXIT_FAIL;
    }
    if (run.malformed) {
        fprintf(stderr, "hedgetrig decode: %" PRIu64 " malformed packet(s) in %s\n", run.malformed,
                src.file ? src.file : "the input");
        rc = HT_EXIT_FAIL;
    }
    ht_nic_close(nic);
    ht_feed_destroy(run.names);
    return rc;
}
