/* SPDX-License-Identifier: MIT */
/* `hedgetrig order`: one IOC limit order through the full gateway (risk, journal, FIX session); prints the report. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/parse.h"
#include "hedgetrig/tsc.h"

static const char k_order_usage[] =
    "usage: hedgetrig order --fix HOST:PORT --sender ID --target ID --symbol S --side buy|sell --qty Q --price P\n"
    "                       (--mark P | --no-collar) [--config CFG] [--secrets FILE]\n"
    "                       [--inverse USD | --contract-size C] [--journal FILE] [--timeout-ms N]\n"
    "\n"
    "Sends one immediate-or-cancel limit order through the gateway: pre-trade risk checks, the journal, a\n"
    "FIX 4.4 session (Deribit logon when a client id and secret are given), and prints every execution report.\n"
    "Exit 0 when the venue acknowledged the order (new, filled, partly filled or canceled unfilled), 1 when it\n"
    "was rejected (by a risk rule or the venue), the session failed, or the kill switch engaged after the order\n"
    "was sent (an overfill, the kill file, a signal), 2 on a usage error.\n"
    "\n"
    "  --fix HOST:PORT   the venue's FIX acceptor\n"
    "  --sender ID       our SenderCompID;  --target ID  the venue's TargetCompID (1..31 of A-Z a-z 0-9 . _ -)\n"
    "  --symbol S        instrument, 1..31 of A-Z 0-9 _ - (e.g. BTC-PERPETUAL)\n"
    "  --side buy|sell   --qty Q (contracts: OrderQty with QtyType 854=1; docs/units.md, > 0)  --price P (limit)\n"
    "  --config CFG      config file: [gateway] and [risk] sections (docs/gateway.md); the options above win\n"
    "  --secrets FILE    client_id / client_secret file, mode 0600 (default: HT_DERIBIT_CLIENT_ID and\n"
    "                    HT_DERIBIT_CLIENT_SECRET from the environment, when set)\n"
    "  --mark P          the instrument's mark price: the price collar (risk.collar_bps, default 500) measures\n"
    "                    the order's price from it\n"
    "  --no-collar       send without a price collar (one of --mark and --no-collar is required)\n"
    "  --inverse USD     an inverse instrument whose contract is worth USD (BTC-PERPETUAL: 10): the notional rule\n"
    "                    (risk.max_notional, USD) counts qty x USD\n"
    "  --contract-size C a linear instrument of C coins a contract (BTC_USDC-PERPETUAL: 0.001): the notional\n"
    "                    rule counts qty x C x price (without either option: qty x price, a contract of one coin)\n"
    "  --journal FILE    journal path (default: the config's, else hedgetrig-SENDER-TARGET.journal)\n"
    "  --timeout-ms N    give up when logon plus the order's final report take longer (default 10000)\n";

/* Human name of an ExecType / OrdStatus code. */
static const char *exec_name(char c)
{
    switch (c) {
    case '0': return "new";
    case '1': return "partially-filled";
    case '2': return "filled";
    case '3': return "done-for-day";
    case '4': return "canceled";
    case '8': return "rejected";
    case 'C': return "expired";
    case 'F': return "trade";
    default: return "other";
    }
}

/* Prints one execution report as a line. */
static void print_exec(const ht_gw_event *e)
{
    printf("exec: clordid=%s order_id=%s exec_id=%s exec_type=%c(%s) ord_status=%c(%s) %s %s qty=%.10g", e->clordid,
           e->order_id, e->exec_id, e->exec_type, exec_name(e->exec_type), e->ord_status, exec_name(e->ord_status),
           e->side == HT_GW_SELL ? "sell" : "buy", e->symbol, e->order_qty);
    if (e->exec_type == 'F')
        printf(" last=%.10g@%.10g fee=%.10g", e->last_qty, e->last_px, e->commission);
    printf(" cum=%.10g leaves=%.10g avg_px=%.10g position=%.10g", e->cum_qty, e->leaves_qty, e->avg_px,
           e->position_after);
    if (e->text[0])
        printf(" text=\"%s\"", e->text);
    putchar('\n');
}

/* Splits --fix HOST:PORT into cfg. A bad port is reported first in ht_cli_parse_u64's words ("--fix port ..."),
 * then by the caller as a whole. */
static bool parse_endpoint(const char *text, ht_gw_config *cfg)
{
    const char *port_text = ht_hostport_port_text(text, sizeof cfg->host);
    uint64_t port;
    return port_text && ht_cli_parse_u64("order", "--fix port", port_text, 1, 65535, &port) &&
           ht_parse_hostport(text, 0, cfg->host, sizeof cfg->host, &cfg->port) == HT_PARSE_OK;
}

/* What the command line asks for. */
typedef struct order_args {
    const char *fix, *sender, *target, *symbol, *side, *config, *secrets, *journal;
    double qty, price, mark, inverse_usd, contract_size; /* contracts, limit price, mark, USD, coins */
    uint64_t timeout_ms;
    bool have_qty, have_price, have_mark, no_collar;
} order_args;

/* Reads one numeric option's value (v) into a; false when the option is not a numeric one, *rc set to
 * HT_EXIT_USAGE when its value was bad (already reported). */
static bool parse_number_option(order_args *a, const char *opt, const char *v, int *rc)
{
    static const struct {
        const char *opt;
        size_t value, seen; /* offsets in order_args; seen = 0 when nothing records it */
    } numbers[] = {
        {"--qty", offsetof(order_args, qty), offsetof(order_args, have_qty)},
        {"--price", offsetof(order_args, price), offsetof(order_args, have_price)},
        {"--mark", offsetof(order_args, mark), offsetof(order_args, have_mark)},
        {"--inverse", offsetof(order_args, inverse_usd), 0},
        {"--contract-size", offsetof(order_args, contract_size), 0},
    };
    for (size_t k = 0; k < HT_ARRAY_LEN(numbers); k++) {
        if (strcmp(opt, numbers[k].opt) != 0)
            continue;
        if (!ht_cli_parse_double("order", opt, v, 1e-12, 1e15, (double *)((char *)a + numbers[k].value)))
            *rc = HT_EXIT_USAGE;
        else if (numbers[k].seen)
            *(bool *)((char *)a + numbers[k].seen) = true;
        return true;
    }
    if (strcmp(opt, "--timeout-ms") != 0)
        return false;
    if (!ht_cli_parse_u64("order", opt, v, 100, 3600000, &a->timeout_ms))
        *rc = HT_EXIT_USAGE;
    return true;
}

/* Reads the options into a. HT_EXIT_OK, or HT_EXIT_USAGE after printing what was wrong. */
static int parse_args(int argc, char **argv, order_args *a)
{
    *a = (order_args){.timeout_ms = 10000};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "--no-collar")) {
            a->no_collar = true;
            continue;
        }
        if (i + 1 >= argc)
            return ht_cli_usage_error("order", "%s needs a value", opt);
        const char *v = argv[++i];
        int rc = HT_EXIT_OK;
        if (!strcmp(opt, "--fix")) a->fix = v;
        else if (!strcmp(opt, "--sender")) a->sender = v;
        else if (!strcmp(opt, "--target")) a->target = v;
        else if (!strcmp(opt, "--symbol")) a->symbol = v;
        else if (!strcmp(opt, "--side")) a->side = v;
        else if (!strcmp(opt, "--config")) a->config = v;
        else if (!strcmp(opt, "--secrets")) a->secrets = v;
        else if (!strcmp(opt, "--journal")) a->journal = v;
        else if (!parse_number_option(a, opt, v, &rc))
            return ht_cli_usage_error("order", "unknown option '%s'", opt);
        if (rc != HT_EXIT_OK)
            return rc;
    }
    return HT_EXIT_OK;
}

/* Checks what the options say together: the required ones, the side, exclusive pairs, and every string that
 * becomes a FIX field (so that the error names the option). HT_EXIT_OK or HT_EXIT_USAGE. */
static int check_args(const order_args *a)
{
    if (!a->fix || !a->sender || !a->target || !a->symbol || !a->side || !a->have_qty || !a->have_price)
        return ht_cli_usage_error("order", "--fix, --sender, --target, --symbol, --side, --qty and --price are required");
    if (strcmp(a->side, "buy") != 0 && strcmp(a->side, "sell") != 0)
        return ht_cli_usage_error("order", "--side must be buy or sell, got '%s'", a->side);
    if (a->inverse_usd > 0 && a->contract_size > 0)
        return ht_cli_usage_error("order", "--inverse and --contract-size exclude each other");
    ht_error err;
    if (ht_gw_check_symbol("--symbol", a->symbol, &err) != 0 || ht_gw_check_comp_id("--sender", a->sender, &err) != 0 ||
        ht_gw_check_comp_id("--target", a->target, &err) != 0)
        return ht_cli_usage_error("order", "%s", err.msg);
    if (a->have_mark == a->no_collar)
        return ht_cli_usage_error("order", a->have_mark ? "--mark and --no-collar exclude each other"
                                                        : "give the instrument's --mark (the price collar measures "
                                                          "from it) or, deliberately, --no-collar");
    return HT_EXIT_OK;
}

/* The gateway's config: defaults, the config file, then the options (which win), secrets and the one-shot session
 * settings. HT_EXIT_OK, HT_EXIT_USAGE or HT_EXIT_FAIL (secrets), after printing what was wrong. */
static int build_config(const order_args *a, ht_gw_config *cfg)
{
    ht_error err;
    ht_gw_config_default(cfg);
    if (a->config && ht_gw_config_load(cfg, a->config, &err) != 0)
        return ht_cli_usage_error("order", "%s", err.msg);
    if (!parse_endpoint(a->fix, cfg))
        return ht_cli_usage_error("order", "--fix expects HOST:PORT, got '%s'", a->fix);
    snprintf(cfg->sender_comp_id, sizeof cfg->sender_comp_id, "%s", a->sender);
    snprintf(cfg->target_comp_id, sizeof cfg->target_comp_id, "%s", a->target);
    if (a->journal && !ht_cli_copy("order", "--journal", a->journal, cfg->journal_path, sizeof cfg->journal_path))
        return HT_EXIT_USAGE;
    if (!a->journal && !a->config)
        snprintf(cfg->journal_path, sizeof cfg->journal_path, "hedgetrig-%s-%s.journal", a->sender, a->target);
    if (ht_gw_secrets_load(cfg, a->secrets, &err) != 0)
        return ht_cli_fail("order", "%s", err.msg);
    if (a->no_collar)
        cfg->risk.collar_bps = 0;
    cfg->reconnect_max_attempts = 1; /* one shot: a failed connect is a failed session */
    if (cfg->connect_timeout_ms > a->timeout_ms)
        cfg->connect_timeout_ms = (uint32_t)a->timeout_ms;
    return HT_EXIT_OK;
}

/* Creates the gateway and gives it the instrument's mark and contract. NULL after printing why (exit 1). */
static ht_gw *open_gateway(const order_args *a, const ht_gw_config *cfg)
{
    ht_error err;
    ht_gw *gw = ht_gw_create(cfg, &err);
    if (!gw) {
        ht_cli_fail("order", "%s", err.msg);
        return NULL;
    }
    if (a->have_mark && ht_gw_set_mark(gw, a->symbol, a->mark) != 0) {
        ht_gw_destroy(gw);
        ht_cli_fail("order", "cannot set the mark of %s", a->symbol);
        return NULL;
    }
    ht_contract contract = {a->inverse_usd > 0 ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR,
                            a->inverse_usd > 0 ? a->inverse_usd : a->contract_size};
    if ((a->inverse_usd > 0 || a->contract_size > 0) && ht_gw_set_contract(gw, a->symbol, &contract, &err) != 0) {
        ht_gw_destroy(gw);
        ht_cli_fail("order", "%s", err.msg);
        return NULL;
    }
    return gw;
}

/* Where the order is: sent or not, acknowledged, finished, and why it failed. */
typedef struct order_run {
    ht_gw_send_result res;
    bool sent, acked, done;
    char reason[320];
} order_run;

/* Takes in one gateway event: our order's execution reports, a reject of it, a session that ends, the kill switch. */
static void on_event(order_run *run, const ht_gw_event *e)
{
    switch (e->type) {
    case HT_GW_EV_EXEC:
        if (!run->sent || e->clordid_num != run->res.clordid)
            break;
        print_exec(e);
        if (e->exec_type == '8' || e->ord_status == '8') {
            snprintf(run->reason, sizeof run->reason, "the venue rejected the order: %s (OrdRejReason %d)",
                     e->text[0] ? e->text : "no text", e->reason_code);
            run->done = true;
        } else {
            run->acked = true;
            run->done = strchr("234C", e->ord_status) != NULL;
        }
        break;
    case HT_GW_EV_SESSION_REJECT:
    case HT_GW_EV_BUSINESS_REJECT:
        if (run->sent && (e->ref_seq == run->res.seq || e->ref_seq == 0)) {
            snprintf(run->reason, sizeof run->reason, "the venue rejected the message (seq %llu): reason %d: %s",
                     (unsigned long long)e->ref_seq, e->reason_code, e->text);
            run->done = true;
        }
        break;
    case HT_GW_EV_ORDER_VOID:
        if (run->sent && e->clordid_num == run->res.clordid) {
            snprintf(run->reason, sizeof run->reason, "%s", e->text);
            run->done = true;
        }
        break;
    case HT_GW_EV_LOGOUT:
    case HT_GW_EV_DISCONNECTED:
    case HT_GW_EV_GIVE_UP:
        if (!run->acked) {
            snprintf(run->reason, sizeof run->reason, "session failed: %s", e->text);
            run->done = true;
        }
        break;
    case HT_GW_EV_KILL:
        snprintf(run->reason, sizeof run->reason, "%s", e->text);
        run->done = !run->sent;
        break;
    default:
        break;
    }
}

/* Sends the order once the session is up. */
static void send_when_active(ht_gw *gw, const order_args *a, order_run *run)
{
    if (run->done || run->sent || ht_gw_get_state(gw) != HT_GW_ACTIVE)
        return;
    ht_gw_order o = {a->symbol, strcmp(a->side, "buy") == 0 ? HT_GW_BUY : HT_GW_SELL, a->qty, a->price, 0, 0};
    int s = ht_gw_send_order(gw, &o, &run->res);
    if (s != HT_GW_SENT) {
        snprintf(run->reason, sizeof run->reason, "order not sent: %s", run->res.reason);
        run->done = true;
    } else {
        run->sent = true;
        printf("sent: clordid=%s seq=%llu %s %s qty=%.10g price=%.10g (IOC limit)\n", run->res.clordid_text,
               (unsigned long long)run->res.seq, a->side, a->symbol, a->qty, a->price);
    }
}

/* Logs on, sends the order and follows it to its final report, a reject, the session's end or the timeout. */
static void run_order(ht_gw *gw, const order_args *a, order_run *run)
{
    uint64_t deadline = ht_mono_ns() + a->timeout_ms * 1000000u;
    ht_gw_event ev[32];
    while (!run->done && ht_mono_ns() < deadline) {
        int n = ht_gw_poll(gw, ev, (int)HT_ARRAY_LEN(ev));
        for (int i = 0; i < n && !run->done; i++)
            on_event(run, &ev[i]);
        send_when_active(gw, a, run);
        if (!run->done && ht_gw_get_state(gw) == HT_GW_STOPPED) {
            if (!run->reason[0])
                snprintf(run->reason, sizeof run->reason, "session stopped");
            run->done = true;
        }
        if (!run->done)
            ht_gw_wait(gw, 50);
    }
    if (!run->done && !run->reason[0])
        snprintf(run->reason, sizeof run->reason, "timed out after %llu ms (%s)", (unsigned long long)a->timeout_ms,
                 run->sent ? "no final execution report" : "no logon");
}

/* Logs out cleanly when the session is up (for at most 2 s). */
static void log_out(ht_gw *gw)
{
    if (ht_gw_get_state(gw) != HT_GW_ACTIVE)
        return;
    ht_gw_event ev[32];
    ht_gw_logout(gw, "hedgetrig order done");
    uint64_t until = ht_mono_ns() + 2000000000u;
    while (ht_gw_get_state(gw) != HT_GW_STOPPED && ht_mono_ns() < until) {
        ht_gw_poll(gw, ev, (int)HT_ARRAY_LEN(ev));
        ht_gw_wait(gw, 20);
    }
}

/* The run's result: exit 0 with "result: acknowledged", else exit 1 with the reason. Closes the gateway. */
static int finish(ht_gw *gw, order_run *run)
{
    /* A kill switch engaged after the order went out (an overfill, the kill file, a signal) makes the run a
     * failure even when the venue acknowledged it: its events may come after the report that ended the loop. */
    const bool killed_after_send = run->sent && ht_gw_killed(gw);
    const bool acknowledged = run->acked && !killed_after_send;
    if (killed_after_send) {
        printf("result: %s, then the kill switch engaged\n", run->acked ? "acknowledged" : "no final report");
        if (!run->reason[0])
            snprintf(run->reason, sizeof run->reason,
                     "the kill switch engaged after the order was sent (see the session log)");
    }
    log_out(gw);
    ht_gw_destroy(gw);
    fflush(stdout);
    if (acknowledged) {
        printf("result: acknowledged\n");
        return HT_EXIT_OK;
    }
    return ht_cli_fail("order", "%s", run->reason);
}

int cmd_order(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(k_order_usage, stdout);
        return HT_EXIT_OK;
    }
    order_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == HT_EXIT_OK)
        rc = check_args(&a);
    ht_gw_config cfg;
    if (rc == HT_EXIT_OK)
        rc = build_config(&a, &cfg);
    if (rc != HT_EXIT_OK)
        return rc;
    ht_gw *gw = open_gateway(&a, &cfg);
    if (!gw)
        return HT_EXIT_FAIL;
    order_run run = {0};
    run_order(gw, &a, &run);
    return finish(gw, &run);
}
