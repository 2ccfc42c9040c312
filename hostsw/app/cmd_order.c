/* SPDX-License-Identifier: MIT */
/* `hedgetrig order`: one IOC limit order through the full gateway (risk, journal, FIX session); prints the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "hedgetrig/gateway.h"
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

/* Splits HOST:PORT. */
static bool parse_endpoint(const char *text, ht_gw_config *cfg)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof cfg->host)
        return false;
    uint64_t port;
    if (!ht_cli_parse_u64("order", "--fix port", colon + 1, 1, 65535, &port))
        return false;
    memcpy(cfg->host, text, (size_t)(colon - text));
    cfg->host[colon - text] = '\0';
    cfg->port = (uint16_t)port;
    return true;
}

int cmd_order(int argc, char **argv)
{
    if (ht_cli_wants_help(argc, argv)) {
        fputs(k_order_usage, stdout);
        return HT_EXIT_OK;
    }
    const char *fix = NULL, *sender = NULL, *target = NULL, *symbol = NULL, *side = NULL, *config = NULL,
               *secrets = NULL, *journal = NULL;
    double qty = 0, price = 0, mark = 0, inverse_usd = 0, contract_size = 0;
    uint64_t timeout_ms = 10000;
    bool have_qty = false, have_price = false, have_mark = false, no_collar = false;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "--no-collar")) {
            no_collar = true;
            continue;
        }
        if (i + 1 >= argc)
            return ht_cli_usage_error("order", "%s needs a value", opt);
        const char *v = argv[++i];
        if (!strcmp(opt, "--fix")) fix = v;
        else if (!strcmp(opt, "--sender")) sender = v;
        else if (!strcmp(opt, "--target")) target = v;
        else if (!strcmp(opt, "--symbol")) symbol = v;
        else if (!strcmp(opt, "--side")) side = v;
        else if (!strcmp(opt, "--config")) config = v;
        else if (!strcmp(opt, "--secrets")) secrets = v;
        else if (!strcmp(opt, "--journal")) journal = v;
        else if (!strcmp(opt, "--qty")) {
            if (!ht_cli_parse_double("order", opt, v, 1e-12, 1e15, &qty))
                return HT_EXIT_USAGE;
            have_qty = true;
        } else if (!strcmp(opt, "--price")) {
            if (!ht_cli_parse_double("order", opt, v, 1e-12, 1e15, &price))
                return HT_EXIT_USAGE;
            have_price = true;
        } else if (!strcmp(opt, "--mark")) {
            if (!ht_cli_parse_double("order", opt, v, 1e-12, 1e15, &mark))
                return HT_EXIT_USAGE;
            have_mark = true;
        } else if (!strcmp(opt, "--inverse")) {
            if (!ht_cli_parse_double("order", opt, v, 1e-12, 1e15, &inverse_usd))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--contract-size")) {
            if (!ht_cli_parse_double("order", opt, v, 1e-12, 1e15, &contract_size))
                return HT_EXIT_USAGE;
        } else if (!strcmp(opt, "--timeout-ms")) {
            if (!ht_cli_parse_u64("order", opt, v, 100, 3600000, &timeout_ms))
                return HT_EXIT_USAGE;
        } else {
            return ht_cli_usage_error("order", "unknown option '%s'", opt);
        }
    }
    if (!fix || !sender || !target || !symbol || !side || !have_qty || !have_price)
        return ht_cli_usage_error("order", "--fix, --sender, --target, --symbol, --side, --qty and --price are required");
    if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0)
        return ht_cli_usage_error("order", "--side must be buy or sell, got '%s'", side);
    if (inverse_usd > 0 && contract_size > 0)
        return ht_cli_usage_error("order", "--inverse and --contract-size exclude each other");
    ht_error err;
    /* Every string that becomes a FIX field is checked here, so the error names the option. */
    if (ht_gw_check_symbol("--symbol", symbol, &err) != 0 || ht_gw_check_comp_id("--sender", sender, &err) != 0 ||
        ht_gw_check_comp_id("--target", target, &err) != 0)
        return ht_cli_usage_error("order", "%s", err.msg);
    if (have_mark == no_collar)
        return ht_cli_usage_error("order", have_mark ? "--mark and --no-collar exclude each other"
                                                     : "give the instrument's --mark (the price collar measures from "
                                                       "it) or, deliberately, --no-collar");

    ht_gw_config cfg;
    ht_gw_config_defaults(&cfg);
    if (config && ht_gw_config_load(&cfg, config, &err) != 0)
        return ht_cli_usage_error("order", "%s", err.msg);
    if (!parse_endpoint(fix, &cfg))
        return ht_cli_usage_error("order", "--fix expects HOST:PORT, got '%s'", fix);
    snprintf(cfg.sender_comp_id, sizeof cfg.sender_comp_id, "%s", sender);
    snprintf(cfg.target_comp_id, sizeof cfg.target_comp_id, "%s", target);
    if (journal && !ht_cli_copy("order", "--journal", journal, cfg.journal_path, sizeof cfg.journal_path))
        return HT_EXIT_USAGE;
    if (!journal && !config)
        snprintf(cfg.journal_path, sizeof cfg.journal_path, "hedgetrig-%s-%s.journal", sender, target);
    if (ht_gw_secrets_load(&cfg, secrets, &err) != 0)
        return ht_cli_fail("order", "%s", err.msg);
    if (no_collar)
        cfg.risk.collar_bps = 0;
    cfg.reconnect_max_attempts = 1; /* one shot: a failed connect is a failed session */
    if (cfg.connect_timeout_ms > timeout_ms)
        cfg.connect_timeout_ms = (uint32_t)timeout_ms;

    ht_gw *gw = ht_gw_create(&cfg, &err);
    if (!gw)
        return ht_cli_fail("order", "%s", err.msg);
    if (have_mark && ht_gw_set_mark(gw, symbol, mark) != 0) {
        ht_gw_destroy(gw);
        return ht_cli_fail("order", "cannot set the mark of %s", symbol);
    }
    ht_contract contract = {inverse_usd > 0 ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR,
                            inverse_usd > 0 ? inverse_usd : contract_size};
    if ((inverse_usd > 0 || contract_size > 0) && ht_gw_set_contract(gw, symbol, &contract, &err) != 0) {
        ht_gw_destroy(gw);
        return ht_cli_fail("order", "%s", err.msg);
    }

    uint64_t deadline = ht_mono_ns() + timeout_ms * 1000000u;
    ht_gw_event ev[32];
    int rc = HT_EXIT_FAIL;
    const char *outcome = NULL;
    char reason[320] = "";
    bool sent = false, acked = false, done = false;
    ht_gw_send_result res = {0};
    while (!done && ht_mono_ns() < deadline) {
        int n = ht_gw_poll(gw, ev, (int)HT_ARRAY_LEN(ev));
        for (int i = 0; i < n && !done; i++) {
            const ht_gw_event *e = &ev[i];
            switch (e->type) {
            case HT_GW_EV_EXEC:
                if (!sent || e->clordid_num != res.clordid)
                    break;
                print_exec(e);
                if (e->exec_type == '8' || e->ord_status == '8') {
                    snprintf(reason, sizeof reason, "the venue rejected the order: %s (OrdRejReason %d)",
                             e->text[0] ? e->text : "no text", e->reason_code);
                    done = true;
                } else {
                    acked = true;
                    done = strchr("234C", e->ord_status) != NULL;
                }
                break;
            case HT_GW_EV_SESSION_REJECT:
            case HT_GW_EV_BUSINESS_REJECT:
                if (sent && (e->ref_seq == res.seq || e->ref_seq == 0)) {
                    snprintf(reason, sizeof reason, "the venue rejected the message (seq %llu): reason %d: %s",
                             (unsigned long long)e->ref_seq, e->reason_code, e->text);
                    done = true;
                }
                break;
            case HT_GW_EV_ORDER_VOID:
                if (sent && e->clordid_num == res.clordid) {
                    snprintf(reason, sizeof reason, "%s", e->text);
                    done = true;
                }
                break;
            case HT_GW_EV_LOGOUT:
            case HT_GW_EV_DISCONNECTED:
            case HT_GW_EV_GIVE_UP:
                if (!acked) {
                    snprintf(reason, sizeof reason, "session failed: %s", e->text);
                    done = true;
                }
                break;
            case HT_GW_EV_KILL:
                snprintf(reason, sizeof reason, "%s", e->text);
                done = !sent;
                break;
            default:
                break;
            }
        }
        if (!done && !sent && ht_gw_get_state(gw) == HT_GW_ACTIVE) {
            ht_gw_order o = {symbol, strcmp(side, "buy") == 0 ? HT_GW_BUY : HT_GW_SELL, qty, price};
            int s = ht_gw_send_order(gw, &o, &res);
            if (s != HT_GW_SENT) {
                snprintf(reason, sizeof reason, "order not sent: %s", res.reason);
                done = true;
            } else {
                sent = true;
                printf("sent: clordid=%s seq=%llu %s %s qty=%.10g price=%.10g (IOC limit)\n", res.clordid_text,
                       (unsigned long long)res.seq, side, symbol, qty, price);
            }
        }
        if (!done && ht_gw_get_state(gw) == HT_GW_STOPPED) {
            if (!reason[0])
                snprintf(reason, sizeof reason, "session stopped");
            done = true;
        }
        if (!done)
            ht_gw_wait(gw, 50);
    }
    if (!done && !reason[0])
        snprintf(reason, sizeof reason, "timed out after %llu ms (%s)", (unsigned long long)timeout_ms,
                 sent ? "no final execution report" : "no logon");
    /* A kill switch engaged after the order went out (an overfill, the kill file, a signal) makes the run a
     * failure even when the venue acknowledged it: its events may come after the report that ended the loop. */
    bool killed_after_send = sent && ht_gw_killed(gw);
    if (acked && !killed_after_send) {
        outcome = "acknowledged";
        rc = HT_EXIT_OK;
    } else if (killed_after_send) {
        printf("result: %s, then the kill switch engaged\n", acked ? "acknowledged" : "no final report");
        if (!reason[0])
            snprintf(reason, sizeof reason, "the kill switch engaged after the order was sent (see the session log)");
    }
    /* Log out cleanly when the session is up. */
    if (ht_gw_get_state(gw) == HT_GW_ACTIVE) {
        ht_gw_logout(gw, "hedgetrig order done");
        uint64_t until = ht_mono_ns() + 2000000000u;
        while (ht_gw_get_state(gw) != HT_GW_STOPPED && ht_mono_ns() < until) {
            ht_gw_poll(gw, ev, (int)HT_ARRAY_LEN(ev));
            ht_gw_wait(gw, 20);
        }
    }
    ht_gw_destroy(gw);
    fflush(stdout);
    if (outcome) {
        printf("result: %s\n", outcome);
        return rc;
    }
    return ht_cli_fail("order", "%s", reason);
}
