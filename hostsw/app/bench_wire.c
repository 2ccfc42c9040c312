/* SPDX-License-Identifier: MIT */
/* hedgetrig bench wire: the whole loop on loopback (the shared capture multicast into `run`, orders to
 * `exchange-sim`), captured on lo with tcpdump, and tick to wire measured from that capture next to run's own
 * tick->order. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hedgetrig/textfile.h"
#include "hedgetrig/tsc.h"
#include "hedgetrig/wire_latency.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define CAPTURE_BOOK HT_SOURCE_DIR "/examples/book_deribit_sample.csv"

int ht_bench_wire(int argc, char **argv);

static const char *const g_usage =
    "usage: hedgetrig bench wire [--json] [--out DIR] [--speed X] [--slow-idle-us N]\n"
    "                            [--capture-tool tcpdump|dumpcap]\n"
    "\n"
    "Tick to wire on loopback, measured from a capture of lo as a tap would (docs/deployment.md, \"Tick to wire\n"
    "from a capture\"): `hedgetrig exchange-sim` (any free port), `hedgetrig run` (socket source joined to\n"
    "239.111.111.0/27 on 127.0.0.1, band fixed:0.005 so that most index ticks breach, orders over FIX to the\n"
    "simulator) and `hedgetrig multicast` replaying the shared capture into it at --speed, all captured on lo by\n"
    "tcpdump (or dumpcap) started first. Then everything is stopped (SIGTERM) and `hedgetrig latency` analyses\n"
    "the capture: tick_to_wire_ns p50/p99 are printed next to run's own tick->order and tick->wire p50/p99.\n"
    "Capturing needs root or CAP_NET_RAW and the tool installed: without them the bench fails, naming why.\n"
    "\n"
    "  --json           one JSON object: {\"orders\", \"matched\", \"unmatched\", \"tick_to_wire_ns\": {min, p50, p90,\n"
    "                   p99, p999, max}, \"run_tick_to_order_ns\": {count, p50, p99}, \"run_tick_to_wire_ns\": {...}}\n"
    "  --out DIR        where the capture (wire.pcap), run's config, output and logs go (default bench-wire)\n"
    "  --speed X        the replay's pace: 1 the capture's own (80 s), N times faster (default 4)\n"
    "  --slow-idle-us N run's [threads] slow_idle_us: the slow half's sleep when idle (default 50, as\n"
    "                   examples/run_loopback.conf; 0 spins, a whole core: on a 2-core machine it competes with\n"
    "                   the capture and the replay)\n"
    "  --capture-tool T tcpdump (default; dumpcap when tcpdump is not installed)\n"
    "\n"
    "Exit status: 0 measured (at least one order matched to its tick), 1 a failure or no order matched\n"
    "(printed, with the reasons), 2 usage error.\n";

/* Where the parts run and what they left. */
typedef struct wire_bench {
    char dir[1024];
    char self[4096];      /* this binary */
    char tool[64];        /* tcpdump or dumpcap */
    double speed;
    uint64_t slow_idle_us; /* run's [threads] slow_idle_us */
    bool json;
    unsigned md_port_offset;
    unsigned venue_port;
    pid_t capture, venue, run, sender;
} wire_bench;

/* dir/name into out. */
static void path_of(const wire_bench *b, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", b->dir, name);
}

/* Starts argv (argv[0] a path or a name looked up in PATH) with stdout and stderr to files of the bench's
 * folder. The child's own pid, or -1 after a message. */
static pid_t start(const wire_bench *b, char *const argv[], const char *out_name, const char *err_name)
{
    char out[1200], err[1200];
    path_of(b, out_name, out, sizeof out);
    path_of(b, err_name, err, sizeof err);
    /* Opened (and emptied) here, before the child runs, so that no wait reads a file a former bench left. */
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fo < 0 || fe < 0 ? -1 : fork();
    if (pid < 0) {
        ht_cli_fail("bench", "wire: cannot start %s (%s, %s): %s", argv[0], out, err, strerror(errno));
        if (fo >= 0)
            close(fo);
        if (fe >= 0)
            close(fe);
        return -1;
    }
    if (pid == 0) {
        if (dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(126);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fo);
    close(fe);
    return pid;
}

/* A part's output file as text (NULL when it cannot be read yet). */
static char *read_text(const char *path)
{
    size_t len;
    return ht_text_file_read(path, "output", 1u << 26, &len, NULL);
}

/* Sleeps ms milliseconds. */
static void nap_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to timeout_ms for a file of the folder to contain needle while pid runs. True when it does; false
 * when the time is up or pid ended (*ended set). */
static bool wait_for_text(const wire_bench *b, const char *name, const char *needle, pid_t pid, unsigned timeout_ms,
                          bool *ended)
{
    char path[1200];
    path_of(b, name, path, sizeof path);
    *ended = false;
    for (unsigned waited = 0; waited < timeout_ms; waited += 50) {
        char *text = read_text(path);
        bool found = text && strstr(text, needle);
        free(text);
        if (found)
            return true;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            *ended = true;
            return false;
        }
        nap_ms(50);
    }
    return false;
}

/* Stops a child with sig and waits up to timeout_ms (then SIGKILL). Its exit status, or -1 when it had to be
 * killed or was not running. */
static int stop(pid_t *pid, int sig, unsigned timeout_ms)
{
    if (*pid <= 0)
        return -1;
    if (sig)
        kill(*pid, sig);
    int st = 0;
    for (unsigned waited = 0;; waited += 20) {
        pid_t got = waitpid(*pid, &st, WNOHANG);
        if (got == *pid)
            break;
        if (got < 0 || waited >= timeout_ms) {
            kill(*pid, SIGKILL);
            waitpid(*pid, &st, 0);
            *pid = 0;
            return -1;
        }
        nap_ms(20);
    }
    *pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Prints the end of a log of the folder on stderr (what a failed part said). */
static void show_log(const wire_bench *b, const char *name)
{
    char path[1200];
    path_of(b, name, path, sizeof path);
    char *text = read_text(path);
    if (!text)
        return;
    size_t len = strlen(text);
    fprintf(stderr, "--- %s\n%s%s", path, text + (len > 2000 ? len - 2000 : 0),
            len && text[len - 1] != '\n' ? "\n" : "");
    free(text);
}

/* True when name is an executable in PATH. */
static bool in_path(const char *name)
{
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char full[4200];
        snprintf(full, sizeof full, "%.*s/%s", (int)len, path, name);
        if (len && access(full, X_OK) == 0)
            return true;
        path = end ? end + 1 : NULL;
    }
    return false;
}

/* Starts the capture of lo (md ports and the venue's port) and waits until it listens. */
static int start_capture(wire_bench *b)
{
    char filter[200], file[1200];
    snprintf(filter, sizeof filter, "udp portrange %u-%u or tcp port %u", 6100 + b->md_port_offset,
             6101 + b->md_port_offset, b->venue_port);
    path_of(b, "wire.pcap", file, sizeof file);
    bool tcpdump = strcmp(b->tool, "tcpdump") == 0;
    char *tcpdump_argv[] = {"tcpdump", "-i", "lo", "-w", file, "--time-stamp-precision", "nano", "-U", "-s", "0",
                            "-B", "16384", filter, NULL};
    char *dumpcap_argv[] = {"dumpcap", "-i", "lo", "-w", file, "-F", "pcap", "-B", "16", "-f", filter, NULL};
    b->capture = start(b, tcpdump ? tcpdump_argv : dumpcap_argv, "capture.out", "capture.err");
    if (b->capture < 0)
        return -1;
    bool ended;
    if (wait_for_text(b, "capture.err", tcpdump ? "listening on" : "Capturing on", b->capture, 10000, &ended))
        return 0;
    show_log(b, "capture.err");
    return ht_cli_fail("bench", "wire: %s could not capture on lo (%s): capturing needs root or CAP_NET_RAW "
                       "(e.g. setcap cap_net_raw,cap_net_admin=eip on the tool)",
                       b->tool, ended ? "it exited" : "it did not start listening within 10 s");
}

/* Starts the exchange simulator on any free port (holding the book, as a desk's account would) and reads it. */
static int start_venue(wire_bench *b)
{
    char *argv[] = {b->self, "exchange-sim", "--port", "0", "--mid", "27000", "--level-qty", "1000000",
                    "--levels", "30", "--venue-book", CAPTURE_BOOK, NULL};
    b->venue = start(b, argv, "venue.out", "venue.err");
    bool ended;
    if (b->venue < 0 || !wait_for_text(b, "venue.out", "listening on", b->venue, 10000, &ended)) {
        show_log(b, "venue.err");
        return ht_cli_fail("bench", "wire: the exchange simulator did not start");
    }
    char path[1200];
    path_of(b, "venue.out", path, sizeof path);
    char *text = read_text(path);
    const char *at = text ? strstr(text, "listening on ") : NULL;
    const char *colon = at ? strchr(at + 13, ':') : NULL;
    b->venue_port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
    free(text);
    return b->venue_port ? 0 : ht_cli_fail("bench", "wire: no port in the exchange simulator's 'listening on' line");
}

/* Writes run's config and starts it; waits until its session is logged on. */
static int start_run(wire_bench *b)
{
    char conf[1200], journal[1200], log[1200];
    path_of(b, "run.conf", conf, sizeof conf);
    path_of(b, "journal", journal, sizeof journal);
    path_of(b, "session.log", log, sizeof log);
    unlink(journal);
    FILE *f = fopen(conf, "w");
    if (!f)
        return ht_cli_fail("bench", "wire: cannot write %s: %s", conf, strerror(errno));
    fprintf(f,
            "[engine]\nbook = %s\n[hedge]\nstrategy = fixed:0.005\nmin_half_width = 0.001\n"
            "[source]\nkind = socket\ngroups = 239.111.111.0/27\nports = %u, %u\niface = 127.0.0.1\n"
            "rcvbuf_bytes = 8388608\n[venue]\nkind = fix\n[gateway]\nhost = 127.0.0.1\nport = %u\njournal = %s\n"
            "log = %s\n[risk]\nmax_notional = 0\n[threads]\nenabled = yes\nhot_cpu = -1\nslow_cpu = -1\n"
            "slow_idle_us = %" PRIu64 "\n[status]\ninterval_s = 1\n",
            CAPTURE_BOOK, 6100 + b->md_port_offset, 6101 + b->md_port_offset, b->venue_port, journal, log,
            b->slow_idle_us);
    if (fclose(f) != 0)
        return ht_cli_fail("bench", "wire: cannot write %s", conf);
    char *argv[] = {b->self, "run", "--config", conf, "--json", NULL};
    b->run = start(b, argv, "run.json", "run.err");
    bool ended;
    if (b->run < 0 || !wait_for_text(b, "run.err", "venue active", b->run, 20000, &ended)) {
        show_log(b, "run.err");
        return ht_cli_fail("bench", "wire: run did not log on to the exchange simulator within 20 s");
    }
    return 0;
}

/* Replays the shared capture as multicast into run, and waits for the replay's end. */
static int replay_market(wire_bench *b)
{
    char speed[32], offset[32];
    snprintf(speed, sizeof speed, "%g", b->speed);
    snprintf(offset, sizeof offset, "%u", b->md_port_offset);
    char *argv[] = {b->self, "multicast", CAPTURE, "--speed", speed, "--iface", "127.0.0.1", "--port-offset", offset,
                    NULL};
    b->sender = start(b, argv, "multicast.out", "multicast.err");
    if (b->sender < 0)
        return -1;
    if (stop(&b->sender, 0, (unsigned)(100000.0 / b->speed) + 30000) != 0) {
        show_log(b, "multicast.err");
        return ht_cli_fail("bench", "wire: the multicast replay failed");
    }
    return 0;
}

/* Stops every part that runs: run and the venue with SIGTERM, the capture once its file stopped growing. */
static int stop_all(wire_bench *b)
{
    bool had_run = b->run > 0;
    int run_rc = stop(&b->run, SIGTERM, 30000);
    stop(&b->venue, SIGTERM, 10000);
    stop(&b->sender, SIGTERM, 5000);
    char file[1200];
    path_of(b, "wire.pcap", file, sizeof file);
    off_t last = -1;
    for (unsigned i = 0; i < 100 && b->capture > 0; i++) { /* the capture catches up with the kernel's buffer */
        struct stat st;
        off_t now = stat(file, &st) == 0 ? st.st_size : 0;
        if (now == last)
            break;
        last = now;
        nap_ms(300);
    }
    stop(&b->capture, SIGINT, 10000);
    if (had_run && run_rc != 0) {
        show_log(b, "run.err");
        return ht_cli_fail("bench", "wire: run did not stop cleanly (exit %d)", run_rc);
    }
    return 0;
}

/* A span's count, p50 and p99 from run's JSON report ("latency": {"tick->order": {...}}); zeros if absent. */
static void run_span(const char *json, const char *span, uint64_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    char key[64];
    snprintf(key, sizeof key, "\"%s\":{", span);
    const char *at = json ? strstr(json, key) : NULL;
    if (!at)
        return;
    const char *names[3] = {"\"count\":", "\"p50\":", "\"p99\":"};
    const char *end = strchr(at, '}');
    for (int i = 0; i < 3; i++) {
        const char *v = strstr(at, names[i]);
        if (v && (!end || v < end))
            out[i] = strtoull(v + strlen(names[i]), NULL, 10);
    }
}

/* Prints the figures: the capture's tick to wire next to run's own clocks. */
static void print_figures(const wire_bench *b, const ht_wire_report *r, const uint64_t t2o[3], const uint64_t t2w[3])
{
    if (b->json) {
        printf("{\"capture\":\"%s/wire.pcap\",\"speed\":%g,", b->dir, b->speed);
        ht_wire_report_json(stdout, r);
        printf(",");
        printf("\"run_tick_to_order_ns\":{\"count\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 "},"
               "\"run_tick_to_wire_ns\":{\"count\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 "}}\n",
               t2o[0], t2o[1], t2o[2], t2w[0], t2w[1], t2w[2]);
        return;
    }
    printf("== wire: the shared capture multicast on lo at speed %g into run (slow_idle_us %" PRIu64 "), orders to "
           "exchange-sim, captured by %s (%s/wire.pcap)\n",
           b->speed, b->slow_idle_us, b->tool, b->dir);
    printf("orders on the wire %" PRIu64 ", matched to their tick %" PRIu64 " (no trigger %" PRIu64
           ", bad trigger %" PRIu64 ", trigger never seen %" PRIu64 ", trigger after the order %" PRIu64 ")\n",
           r->orders, r->matched, r->no_trigger, r->bad_trigger, r->trigger_not_seen, r->trigger_after_order);
    printf("%-50s %8s %12s %12s\n", "span", "count", "p50 ns", "p99 ns");
    printf("%-50s %8" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", "tick_to_wire (capture: md packet -> order packet)",
           r->matched, r->p50_ns, r->p99_ns);
    printf("%-50s %8" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", "tick->order (run's clock: rx -> encoded)", t2o[0],
           t2o[1], t2o[2]);
    printf("%-50s %8" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", "tick->wire (run's clock: rx -> send returned)",
           t2w[0], t2w[1], t2w[2]);
}

/* Analyses the capture and prints the figures; HT_EXIT_OK when an order matched. */
static int report(const wire_bench *b)
{
    char file[1200], json_path[1200];
    path_of(b, "wire.pcap", file, sizeof file);
    path_of(b, "run.json", json_path, sizeof json_path);
    ht_wire_config cfg;
    ht_wire_config_default(&cfg);
    cfg.md.ports[cfg.md.n_ports++] = (uint16_t)(6100 + b->md_port_offset);
    cfg.md.ports[cfg.md.n_ports++] = (uint16_t)(6101 + b->md_port_offset);
    cfg.fix_ports[cfg.n_fix_ports++] = (uint16_t)b->venue_port;
    ht_wire_report r;
    ht_error err;
    if (ht_wire_analyse_file(file, &cfg, &r, &err) != 0)
        return ht_cli_fail("bench", "wire: %s", err.msg);
    char *json = read_text(json_path);
    uint64_t t2o[3], t2w[3];
    run_span(json, "tick->order", t2o);
    run_span(json, "tick->wire", t2w);
    free(json);
    print_figures(b, &r, t2o, t2w);
    if (r.matched == 0)
        return ht_cli_fail("bench", "wire: no order of the %" PRIu64 " captured was matched to its tick%s", r.orders,
                           r.no_trigger == r.orders && r.orders
                               ? " (none carries a trigger: does the gateway write tag 100010?)"
                               : "");
    return HT_EXIT_OK;
}

/* Parses the options into b. HT_EXIT_OK, or the usage error's code. */
static int parse_options(int argc, char **argv, wire_bench *b)
{
    snprintf(b->dir, sizeof b->dir, "bench-wire");
    b->speed = 4;
    b->slow_idle_us = 50;
    snprintf(b->tool, sizeof b->tool, "%s", in_path("tcpdump") || !in_path("dumpcap") ? "tcpdump" : "dumpcap");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            b->json = true;
        } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            if (!ht_cli_copy("bench", a, argv[++i], b->dir, sizeof b->dir))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--speed") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_double("bench", a, argv[++i], 0.1, 1000, &b->speed))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--slow-idle-us") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_u64("bench", a, argv[++i], 0, 1000000, &b->slow_idle_us))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--capture-tool") == 0 && i + 1 < argc) {
            const char *t = argv[++i];
            if (strcmp(t, "tcpdump") != 0 && strcmp(t, "dumpcap") != 0)
                return ht_cli_usage_error("bench", "--capture-tool: tcpdump or dumpcap, not '%s'", t);
            snprintf(b->tool, sizeof b->tool, "%s", t);
        } else {
            return ht_cli_unknown("bench", a, g_usage);
        }
    }
    return HT_EXIT_OK;
}

int ht_bench_wire(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    static wire_bench b;
    memset(&b, 0, sizeof b);
    int rc = parse_options(argc, argv, &b);
    if (rc != HT_EXIT_OK)
        return rc;
    if (!in_path(b.tool))
        return ht_cli_fail("bench", "wire: %s is not installed (Debian: apt-get install %s; scripts/install-deps.sh)",
                           b.tool, strcmp(b.tool, "tcpdump") == 0 ? "tcpdump" : "wireshark-common");
    ssize_t n = readlink("/proc/self/exe", b.self, sizeof b.self - 1);
    if (n <= 0)
        return ht_cli_fail("bench", "wire: cannot find this binary (/proc/self/exe): %s", strerror(errno));
    b.self[n] = '\0';
    if (!ht_cli_output_ok("bench", "--out", b.dir, true))
        return HT_EXIT_FAIL;
    mkdir(b.dir, 0755);
    b.md_port_offset = 20000 + (unsigned)(getpid() % 10000) * 2; /* beside a real feed and other runs */
    rc = start_venue(&b);
    if (rc == 0)
        rc = start_capture(&b);
    if (rc == 0)
        rc = start_run(&b);
    if (rc == 0)
        rc = replay_market(&b);
    nap_ms(500); /* the last orders reach the wire */
    int stop_rc = stop_all(&b);
    if (rc != 0)
        return HT_EXIT_FAIL;
    return stop_rc != 0 ? HT_EXIT_FAIL : report(&b);
}
