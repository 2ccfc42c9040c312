/* SPDX-License-Identifier: MIT */
/* The config file: every reader (gateway, exchange simulator, engine) refuses the same malformed files with the
 * same message naming file and line; the keys documented in docs/ are exactly the keys that load; each one
 * reaches the configuration it is meant to set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/conf.h"
#include "hedgetrig/engine_setup.h"
#include "hedgetrig/market_sim.h"

#define TMP HT_TEST_TMPDIR

/* Writes len bytes of text to path. */
static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Loads path with each of the three readers a command uses; returns how many refused it, and checks that those
 * refusing gave exactly the message expected (NULL: not checked). */
static int refusals(const char *path, const char *expected)
{
    ht_gw_config gw;
    ht_xsim_config xsim;
    ht_setup_config *engine = malloc(sizeof *engine);
    assert_non_null(engine);
    ht_gw_config_default(&gw);
    ht_xsim_config_default(&xsim);
    ht_setup_config_default(engine);
    ht_error err[3];
    memset(err, 0, sizeof err);
    int rc[3] = {ht_gw_config_load(&gw, path, &err[0]), ht_xsim_config_load(&xsim, path, &err[1]),
                 ht_setup_config_load(engine, path, &err[2])};
    free(engine);
    int refused = 0;
    for (int i = 0; i < 3; i++) {
        if (rc[i] == 0)
            continue;
        refused++;
        if (expected && strcmp(err[i].msg, expected) != 0)
            fail_msg("reader %d: message\n  '%s'\nexpected\n  '%s'", i, err[i].msg, expected);
    }
    return refused;
}

/* Structure errors: every reader refuses them, in sections it reads or not, with the same message. */
static void refuses_malformed_files_in_every_reader(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *message; /* after "config PATH:" */
    } cases[] = {
        {"[Risk]\nmax_order_qty = 5\n", 0, "1: unknown section [Risk]; did you mean [risk]? (no command reads [Risk])"},
        {"# limits\n[risks]\nmax_order_qty = 5\n", 0,
         "2: unknown section [risks]; did you mean [risk]? (no command reads [risks])"},
        {"[exchange-sim]\nport = 1\n", 0,
         "1: unknown section [exchange-sim]; did you mean [exchange_sim]? (no command reads [exchange-sim])"},
        {"[limits]\n", 0,
         "1: unknown section [limits]: no hedgetrig command reads it (sections: docs/deployment.md)"},
        {"max_order_qty = 5\n[risk]\n", 0,
         "1: 'max_order_qty' is outside any section: put it under its [section] header"},
        {"[risk]\nmax_order_qty 5\n", 0, "2: expected 'key = value', got 'max_order_qty 5'"},
        {"[risk]\n = 5\n", 0, "2: expected 'key = value', got '= 5'"},
        {"[risk]\nmax_order_qty = 5\n\nmax_order_qty = 6\n", 0,
         "4: max_order_qty in [risk] again (first at line 2): give each key once"},
        {"[risk]\n[gateway]\n[risk]\n", 0, "3: [risk] again (first at line 1): give each section once"},
        {"[hedge]\nstrategy = fixed:1\nmax_order_qty = 5\n", 0,
         "3: unknown key 'max_order_qty' in [hedge] (keys: docs/deployment.md)"},
        {"[risk]\nMax_Order_Qty = 5\n", 0,
         "2: unknown key 'Max_Order_Qty' in [risk]; did you mean 'max_order_qty'? (keys: docs/gateway.md)"},
        {"[gateway\n", 0, "1: expected a section header like [gateway], got '[gateway'"},
        {"[risk]\nmax_order_qty = 5\0 7\n", 28, "2: a NUL byte at column 18"},
        {"[risk]\nmax_order_qty = 5 # caf\xff\n", 0, "2: byte 0xFF at column 24 is not UTF-8 text"},
        {"[gateway]\xc0\xaf\n", 0, "1: byte 0xC0 at column 10 is not UTF-8 text"},
        {"[risk]\nmax_\xe9order_qty = 5\n", 0, "2: byte 0xE9 at column 5 is not UTF-8 text"},
        {"[hedge]\n# \x1b[31mred\n", 0, "2: control character 0x1B at column 3"},
        {"[exchange_sim]\nport = 1 # a\rb\n", 0, "2: control character 0x0D at column 13"},
    };
    const char *path = TMP "/bad.conf";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        write_file(path, cases[i].text, len);
        char expected[512];
        snprintf(expected, sizeof expected, "config %s:%s", path, cases[i].message);
        print_message("case %zu\n", i);
        assert_int_equal(refusals(path, expected), 3);
    }
    /* A line over 1024 bytes. */
    char *text = malloc(2100);
    assert_non_null(text);
    memcpy(text, "[gateway]\nlog = ", 16);
    memset(text + 16, 'a', 2000);
    memcpy(text + 2016, "\n", 2);
    write_file(path, text, strlen(text));
    free(text);
    assert_int_equal(refusals(path, "config " TMP "/bad.conf:2: line longer than 1024 bytes"), 3);
}

/* Bad values: the reader of the section refuses them with the line and what it expected. */
static void refuses_bad_values_naming_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"[risk]\nmax_order_qty = 5 5\n", "2: max_order_qty = '5 5': expected a number >= 0"},
        {"[risk]\ncollar_bps = 0x10\n", "2: collar_bps = '0x10': expected a number >= 0"},
        {"[risk]\nmax_notional = inf\n", "2: max_notional = 'inf': expected a number >= 0"},
        {"[risk]\nmax_position =\n", "2: max_position = '': expected a number >= 0"},
        {"[gateway]\nport = 80x\n", "2: port = '80x': expected a port 1..65535"},
        {"[gateway]\nheartbeat_s = 30s\n", "2: heartbeat_s = '30s': expected 1..300"},
        {"[gateway]\nhost =\n", "2: host = '': expected a host name (1..127 characters)"},
        {"[gateway]\njournal = # no journal\n", "2: journal = '': expected a file path (1..255 characters)"},
        {"[exchange_sim]\nfee_bps = nan\n", "2: fee_bps = 'nan': expected a number >= 0"},
        {"[engine]\nbook =\n", "2: book = '': expected a file path"},
        {"[engine]\nmax_book_qty_contracts = 0\n", "2: max_book_qty_contracts = '0': expected a number > 0 (contracts)"},
        {"[hedge]\ncollar = 0x1p-7\n", "2: collar = '0x1p-7': expected a fraction in (0, 0.5)"},
        {"[pipeline]\nclock_mhz = 250MHz\n", "2: clock_mhz = '250MHz': expected 1..2000"},
        {"[market]\nvol = 0x1p-1\n", "2: vol = '0x1p-1': expected a number"},
        {"[threads]\nhot_cpu = 2 3\n", "2: hot_cpu = '2 3': expected -1 or a CPU number"},
        {"[gateway]\njournal = a\x1b[2Jb\n", "2: control character 0x1B at column 12"},
        {"[engine]\nevent_log = ev\xff" "ents.csv\n", "2: byte 0xFF at column 15 is not UTF-8 text"},
        {"[status]\ncounters_file = c\x7f\n", "2: control character 0x7F at column 18"},
    };
    const char *path = TMP "/bad_value.conf";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text, strlen(cases[i].text));
        char expected[512];
        snprintf(expected, sizeof expected, "config %s:%s", path, cases[i].message);
        print_message("case %zu\n", i);
        assert_true(refusals(path, expected) >= 1);
    }
}

/* What editors and operators write is read: a byte order mark, CRLF, comments, blanks, other commands'
 * sections (checked, not applied), tabs. */
static void accepts_crlf_bom_and_other_commands_sections(void **state)
{
    (void)state;
    const char *path = TMP "/good.conf";
    static const char text[] = "\xEF\xBB\xBF# desk limits\r\n[risk]\r\n\tmax_order_qty = 5   # contracts\r\n\r\n"
                               "[hedge]\r\nstrategy = ww:0.5\r\n[exchange_sim]\r\nfee_bps = 2\r\n";
    write_file(path, text, sizeof text - 1);
    ht_gw_config gw;
    ht_gw_config_default(&gw);
    ht_error err = {{0}};
    if (ht_gw_config_load(&gw, path, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(gw.risk.max_order_qty == 5.0);
    ht_xsim_config xsim;
    ht_xsim_config_default(&xsim);
    assert_int_equal(ht_xsim_config_load(&xsim, path, &err), 0);
    assert_true(xsim.fee_bps == 2.0);
}

/* Paths that are not regular files are refused at once by every reader, naming the path and what it is. */
static void refuses_paths_that_are_not_regular_files(void **state)
{
    (void)state;
    assert_int_equal(refusals(TMP, "" TMP ": the config file is a directory, not a regular file"), 3);
    const char *link = TMP "/dir_link.conf";
    unlink(link);
    assert_int_equal(symlink(TMP, link), 0);
    assert_int_equal(refusals(link, "" TMP "/dir_link.conf: the config file is a directory, not a regular file"), 3);
    const char *fifo = TMP "/config.fifo";
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0); /* no writer: a blocking open would hang here */
    assert_int_equal(refusals(fifo, "" TMP "/config.fifo: the config file is a FIFO, not a regular file"), 3);
    ht_gw_config gw; /* the secrets file too: refused, not waited on */
    ht_gw_config_default(&gw);
    ht_error err = {{0}};
    assert_int_equal(ht_gw_secrets_load(&gw, fifo, &err), -1);
    assert_string_equal(err.msg, "secrets " TMP "/config.fifo: not a regular file");
    const char *secrets = TMP "/twice.secrets"; /* a second client_secret line does not silently win */
    static const char twice[] = "client_id = desk\nclient_secret = first\nclient_secret = second\n";
    write_file(secrets, twice, sizeof twice - 1);
    assert_int_equal(chmod(secrets, 0600), 0);
    assert_int_equal(ht_gw_secrets_load(&gw, secrets, &err), -1);
    assert_string_equal(err.msg, "secrets " TMP "/twice.secrets:3: client_secret again (first at line 2)");
    FILE *grown = fopen(secrets, "r+b"); /* nor is a 1 GiB one read */
    assert_non_null(grown);
    assert_int_equal(ftruncate(fileno(grown), (off_t)1 << 30), 0);
    fclose(grown);
    assert_int_equal(ht_gw_secrets_load(&gw, secrets, &err), -1);
    assert_string_equal(err.msg,
                        "secrets " TMP "/twice.secrets: 1073741824 bytes, more than the 65536 a secrets file may have");
    unlink(secrets);
    assert_int_equal(refusals("/dev/zero", "/dev/zero: the config file is a character device, not a regular file"), 3);
    const char *big = TMP "/big.conf"; /* 1 GiB, sparse: refused from its size, not read */
    FILE *f = fopen(big, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)1 << 30), 0);
    fclose(f);
    assert_int_equal(refusals(big, "" TMP "/big.conf: the config file has 1073741824 bytes, more than the 1048576 it "
                                  "may have"),
                     3);
    unlink(big);
    assert_int_equal(refusals(TMP "/no-such.conf",
                              "" TMP "/no-such.conf: cannot open the config file: No such file or directory"),
                     3);
}

/* ---- Every documented key loads, and reaches what it configures --------------------------------------------- */

/* How a key case reads its field in ht_setup_config (the engine's config and the simulators'). */
typedef enum field_kind { F64, U16, U32, U64, I64, UNS, INT, BOOL, STR, CUSTOM } field_kind;

/* One key: the value written, and what the loaded configuration must then hold. */
typedef struct key_case {
    const char *section, *key, *value;
    field_kind kind;
    size_t offset;        /* of the field in ht_setup_config */
    double number;        /* expected, for numbers, enums (INT) and BOOL (0/1) */
    const char *text;     /* expected, for STR */
    bool (*check)(const ht_setup_config *s); /* CUSTOM */
} key_case;

/* NUM, TXT: a field of the engine's config; SNUM, STXT: of a simulator's (xsim., market.). */
#define ENGINE_FIELD(field) (offsetof(ht_setup_config, engine) + offsetof(ht_engine_config, field))
#define NUM(sec, k, v, kind, field, expect) {sec, k, v, kind, ENGINE_FIELD(field), expect, NULL, NULL}
#define TXT(sec, k, v, field) {sec, k, v, STR, ENGINE_FIELD(field), 0, v, NULL}
#define SNUM(sec, k, v, kind, field, expect) {sec, k, v, kind, offsetof(ht_setup_config, field), expect, NULL, NULL}
#define STXT(sec, k, v, field) {sec, k, v, STR, offsetof(ht_setup_config, field), 0, v, NULL}
#define FUN(sec, k, v, fn) {sec, k, v, CUSTOM, 0, 0, NULL, fn}

static bool venues_two(const ht_setup_config *s)
{
    const ht_engine_config *c = &s->engine;
    return c->n_venues == 2 && !strcmp(c->venues[0], "BTC-PERPETUAL") && !strcmp(c->venues[1], "BTC-29MAR24");
}
static bool source_socket(const ht_setup_config *s)
{
    const ht_engine_config *c = &s->engine;
    return c->source == HT_ENGINE_SOURCE_NIC && c->nic.kind == HT_NIC_SOCKET;
}
static bool one_group(const ht_setup_config *s)
{
    const ht_engine_config *c = &s->engine;
    return c->nic.filter.n_groups == 1 && c->nic.filter.groups[0] == 0xEF010203u;
}
static bool two_ports(const ht_setup_config *s)
{
    const ht_engine_config *c = &s->engine;
    return c->nic.filter.n_ports == 2 && c->nic.filter.ports[0] == 7000 && c->nic.filter.ports[1] == 7001;
}
static bool deribit_channels(const ht_setup_config *s)
{
    const ht_engine_config *c = &s->engine;
    return c->nic.filter.n_groups == 27 && c->nic.filter.groups[26] == 0xEF6F6F1Au && c->nic.filter.n_ports == 2 &&
           c->nic.filter.ports[0] == 6100;
}
static bool two_unpriced(const ht_setup_config *s)
{
    const ht_engine_config *c = &s->engine;
    return c->n_allow_unpriced == 2 && !strcmp(c->allow_unpriced[1], "BTC-16JUN23-25000-P");
}
static bool three_expiries(const ht_setup_config *s)
{
    return s->market.n_expiries == 3 && s->market.expiry_days[0] == 2 && s->market.expiry_days[2] == 30;
}

static const key_case k_keys[] = {
    TXT("gateway", "host", "venue.example", gw.host),
    NUM("gateway", "port", "9999", U16, gw.port, 9999),
    TXT("gateway", "sender_comp_id", "DESK1", gw.sender_comp_id),
    TXT("gateway", "target_comp_id", "VENUE1", gw.target_comp_id),
    NUM("gateway", "heartbeat_s", "45", U32, gw.heartbeat_s, 45),
    NUM("gateway", "cancel_on_disconnect", "no", BOOL, gw.cancel_on_disconnect, 0),
    NUM("gateway", "reset_seq_on_logon", "yes", BOOL, gw.reset_seq_on_logon, 1),
    TXT("gateway", "journal", "desk.journal", gw.journal_path),
    NUM("gateway", "journal_fsync", "always", INT, gw.journal_fsync, HT_JOURNAL_FSYNC_ALWAYS),
    NUM("gateway", "journal_fsync_interval_ms", "250", U32, gw.journal_fsync_interval_ms, 250),
    NUM("gateway", "journal_tail", "truncate", INT, gw.journal_tail, HT_JOURNAL_TAIL_TRUNCATE),
    NUM("gateway", "journal_mode", "write", INT, gw.journal_mode, HT_JOURNAL_MODE_WRITE),
    NUM("gateway", "send", "io_uring", INT, gw.send, HT_GW_SEND_IO_URING),
    NUM("gateway", "send_sq_idle_ms", "250", U32, gw.send_sq_idle_ms, 250),
    NUM("gateway", "send_sq_cpu", "1", INT, gw.send_sq_cpu, 1),
    NUM("gateway", "resend_orders", "yes", BOOL, gw.resend_orders, 1),
    TXT("gateway", "clordid_prefix", "desk", gw.clordid_prefix),
    NUM("gateway", "qty_decimals", "4", UNS, gw.qty_decimals, 4),
    NUM("gateway", "price_decimals", "2", UNS, gw.price_decimals, 2),
    NUM("gateway", "connect_timeout_ms", "1500", U32, gw.connect_timeout_ms, 1500),
    NUM("gateway", "reconnect_min_ms", "50", U32, gw.reconnect_min_ms, 50),
    NUM("gateway", "reconnect_max_ms", "20000", U32, gw.reconnect_max_ms, 20000),
    NUM("gateway", "reconnect_max_attempts", "7", U32, gw.reconnect_max_attempts, 7),
    NUM("gateway", "max_msg_bytes", "4096", U32, gw.max_msg_bytes, 4096),
    TXT("gateway", "kill_file", "desk.kill", gw.kill_file),
    TXT("gateway", "log", "desk.log", gw.log_path),
    NUM("gateway", "positions", "off", BOOL, gw.positions, 0),
    NUM("gateway", "trade_capture", "off", BOOL, gw.trade_capture, 0),
    NUM("gateway", "account_interval_ms", "2500", U32, gw.account_interval_ms, 2500),
    TXT("gateway", "account_currency", "ETH", gw.account_currency),
    NUM("risk", "max_order_qty", "5", F64, gw.risk.max_order_qty, 5),
    NUM("risk", "max_notional", "123456", F64, gw.risk.max_notional, 123456),
    NUM("risk", "max_position", "777", F64, gw.risk.max_position, 777),
    NUM("risk", "collar_bps", "25", F64, gw.risk.collar_bps, 25),
    NUM("risk", "require_mark", "yes", BOOL, gw.risk.require_mark, 1),
    NUM("risk", "notional_interval_ms", "5000", U32, gw.risk.notional_interval_ms, 5000),
    NUM("risk", "max_orders_per_sec", "3", U32, gw.risk.max_orders_per_sec, 3),
    NUM("risk", "duplicate_window_ms", "900", U32, gw.risk.duplicate_window_ms, 900),
    TXT("rate", "tier", "tier1", gw.rate.tier),
    NUM("rate", "me_rate_per_s", "12", F64, gw.rate.me_rate_per_s, 12),
    NUM("rate", "me_burst", "33", F64, gw.rate.me_burst, 33),
    NUM("rate", "credit_cost", "250", F64, gw.rate.credit_cost, 250),
    NUM("rate", "credit_max", "40000", F64, gw.rate.credit_max, 40000),
    NUM("rate", "credit_refill_per_s", "5000", F64, gw.rate.credit_refill_per_s, 5000),
    NUM("rate", "reserve", "2", F64, gw.rate.reserve, 2),
    NUM("rate", "enforce", "no", BOOL, gw.rate.enforce, 0),
    STXT("exchange_sim", "host", "127.0.0.2", xsim.bind_host),
    SNUM("exchange_sim", "port", "9777", U16, xsim.port, 9777),
    STXT("exchange_sim", "comp_id", "SIMX", xsim.comp_id),
    SNUM("exchange_sim", "latency_us", "150", U32, xsim.latency_us, 150),
    SNUM("exchange_sim", "fee_bps", "2.5", F64, xsim.fee_bps, 2.5),
    SNUM("exchange_sim", "max_fill_qty", "3", F64, xsim.max_fill_qty, 3),
    SNUM("exchange_sim", "mid", "30000", F64, xsim.default_mid, 30000),
    SNUM("exchange_sim", "spread", "2", F64, xsim.default_spread, 2),
    SNUM("exchange_sim", "level_qty", "500", F64, xsim.default_level_qty, 500),
    SNUM("exchange_sim", "levels", "7", U32, xsim.default_levels, 7),
    STXT("exchange_sim", "record", "orders.csv", xsim.record_path),
    SNUM("exchange_sim", "logon_timeout_ms", "900", U32, xsim.logon_timeout_ms, 900),
    SNUM("exchange_sim", "max_connections", "4", U32, xsim.max_connections, 4),
    SNUM("exchange_sim", "max_bad_messages", "3", U32, xsim.max_bad_messages, 3),
    SNUM("exchange_sim", "equity", "2.5", F64, xsim.equity_coin, 2.5),
    STXT("exchange_sim", "script", "events.csv", xsim.script_path),
    STXT("exchange_sim", "book", "venue_book.csv", xsim.book_path),
    TXT("engine", "book", "desk.csv", book_path),
    NUM("engine", "max_book_qty_contracts", "5000", F64, max_book_qty_contracts, 5000),
    TXT("engine", "event_log", "events.csv", event_log),
    TXT("engine", "table_log", "table.csv", table_log),
    TXT("engine", "series", "series.csv", series_path),
    NUM("engine", "series_every", "3", U32, series_every, 3),
    NUM("engine", "arm_timeout_ms", "1234", U32, arm_timeout_ms, 1234),
    NUM("engine", "order_timeout_ms", "500", U32, order_timeout_ms, 500),
    NUM("engine", "check", "no", BOOL, check, 0),
    NUM("engine", "prearm", "no", BOOL, prearm, 0),
    NUM("engine", "wire", "on", BOOL, wire, 1),
    FUN("engine", "allow_unpriced", "BTC-16JUN23-24900-C, BTC-16JUN23-25000-P", two_unpriced),
    NUM("pipeline", "backend", "xrt", INT, backend, HT_PIPE_BACKEND_XRT),
    TXT("pipeline", "xclbin", "k.xclbin", xclbin),
    NUM("pipeline", "device", "3", UNS, xrt_device, 3),
    NUM("pipeline", "clock_mhz", "300", F64, clock_mhz, 300),
    NUM("pipeline", "event_capacity", "1024", U32, event_capacity, 1024),
    TXT("hedge", "strategy", "ww:0.5", strategy),
    NUM("hedge", "min_half_width", "0.2", F64, min_half_width_coin, 0.2),
    NUM("hedge", "max_half_width", "3", F64, max_half_width_coin, 3),
    FUN("hedge", "venues", "BTC-PERPETUAL, BTC-29MAR24", venues_two),
    NUM("hedge", "collar", "0.01", F64, collar_frac, 0.01),
    NUM("hedge", "impact_y", "0.9", F64, opt.impact_y, 0.9),
    NUM("hedge", "impact_horizon_s", "30", F64, opt.impact_horizon_s, 30),
    NUM("hedge", "latency_s", "0.002", F64, opt.latency_s, 0.002),
    NUM("hedge", "adverse_coef", "0.5", F64, opt.adverse_coef, 0.5),
    NUM("hedge", "fixed_cost_usd", "1.5", F64, opt.fixed_cost_usd, 1.5),
    NUM("hedge", "min_hedge_coin", "0.05", F64, opt.min_hedge_coin, 0.05),
    NUM("hedge", "max_orders_per_s", "4", F64, opt.max_orders_per_s, 4),
    NUM("hedge", "burst_orders", "8", F64, opt.burst_orders, 8),
    NUM("hedge", "min_interval_ms", "250", I64, opt.min_interval_ns, 250e6),
    NUM("hedge", "retry_ms", "40", I64, opt.retry_ns, 40e6),
    NUM("greeks", "rate", "0.03", F64, greeks.rate, 0.03),
    NUM("greeks", "year_days", "360", F64, greeks.year_days, 360),
    NUM("greeks", "convention", "usd", INT, greeks.convention, HT_DELTA_USD),
    NUM("greeks", "forward", "index", INT, greeks.forward, HT_FORWARD_INDEX),
    NUM("greeks", "max_quote_age_ms", "5000", U64, greeks.max_quote_age_ms, 5000),
    NUM("greeks", "refresh_max_move", "0.01", F64, greeks.refresh.max_move_rel, 0.01),
    NUM("greeks", "refresh_min_move", "0.0002", F64, greeks.refresh.min_move_rel, 0.0002),
    NUM("greeks", "refresh_max_vol_move", "0.02", F64, greeks.refresh.max_vol_move, 0.02),
    NUM("greeks", "refresh_min_vol_move", "0.0003", F64, greeks.refresh.min_vol_move, 0.0003),
    NUM("greeks", "refresh_error_budget", "0.002", F64, greeks.refresh.error_budget, 0.002),
    NUM("greeks", "refresh_adaptive", "no", BOOL, greeks.refresh.adaptive, 0),
    NUM("greeks", "refresh_max_interval_ms", "30000", U64, greeks.refresh.max_interval_ms, 30000),
    NUM("greeks", "refresh_min_interval_ms", "500", U64, greeks.refresh.min_interval_ms, 500),
    NUM("venue", "kind", "fix", INT, venue, HT_ENGINE_VENUE_FIX),
    TXT("venue", "secrets", "desk.secrets", secrets_path),
    NUM("venue", "book", "synthetic", BOOL, synthetic_book, 1),
    NUM("venue", "synthetic_levels", "5", UNS, synthetic_levels, 5),
    NUM("venue", "synthetic_level_amount", "250", F64, synthetic_level_amount, 250),
    NUM("venue", "synthetic_half_spread_bps", "3", F64, synthetic_half_spread_bps, 3),
    NUM("venue", "synthetic_step_bps", "2", F64, synthetic_step_bps, 2),
    FUN("source", "kind", "socket", source_socket),
    TXT("source", "path", "capture.pcap", nic_path),
    FUN("source", "groups", "239.1.2.3", one_group),
    FUN("source", "ports", "7000, 7001", two_ports),
    FUN("source", "deribit", "yes", deribit_channels),
    NUM("source", "iface", "10.1.2.3", U32, nic.iface_addr, 0x0A010203),
    NUM("source", "unicast", "yes", BOOL, nic.unicast, 1),
    NUM("source", "rcvbuf_bytes", "65536", INT, nic.rcvbuf_bytes, 65536),
    TXT("source", "eal", "-l 3 --no-huge", eal_args),
    NUM("source", "port_id", "2", U16, nic.port_id, 2),
    NUM("source", "mbufs", "1023", U32, nic.mbufs, 1023),
    NUM("source", "idle_eof_ms", "700", U32, nic.idle_eof_ms, 700),
    NUM("source", "speed", "2", F64, nic.speed, 2),
    SNUM("market", "seed", "7", U64, market.seed, 7),
    SNUM("market", "start_ms", "1700000000000", U64, market.start_ms, 1700000000000.0),
    SNUM("market", "step_ms", "500", U32, market.step_ms, 500),
    SNUM("market", "steps", "99", U64, market.steps, 99),
    SNUM("market", "spot_usd", "30000", F64, market.spot_usd, 30000),
    SNUM("market", "vol", "0.9", F64, market.vol, 0.9),
    SNUM("market", "jumps_per_day", "1", F64, market.jumps_per_day, 1),
    SNUM("market", "jump_stdev", "0.01", F64, market.jump_stdev, 0.01),
    SNUM("market", "atm_iv", "0.7", F64, market.atm_iv, 0.7),
    SNUM("market", "iv_reversion", "100", F64, market.iv_reversion, 100),
    SNUM("market", "iv_vol_of_vol", "0.5", F64, market.iv_vol_of_vol, 0.5),
    SNUM("market", "skew", "-0.2", F64, market.skew, -0.2),
    SNUM("market", "smile", "1", F64, market.smile, 1),
    SNUM("market", "perp_premium", "0.001", F64, market.perp_premium, 0.001),
    SNUM("market", "future_carry", "0.05", F64, market.future_carry, 0.05),
    FUN("market", "expiry_days", "2, 9, 30", three_expiries),
    SNUM("market", "future_days", "60", U32, market.future_days, 60),
    SNUM("market", "strikes_per_side", "6", UNS, market.strikes_per_side, 6),
    SNUM("market", "strike_step_usd", "500", F64, market.strike_step_usd, 500),
    SNUM("market", "option_ticker_every", "3", UNS, market.option_ticker_every, 3),
    SNUM("market", "future_every", "2", UNS, market.future_every, 2),
    SNUM("market", "snapshot_every", "100", UNS, market.snapshot_every, 100),
    SNUM("market", "book_levels", "5", UNS, market.book_levels, 5),
    SNUM("market", "level_amount_usd", "10000", F64, market.level_amount_usd, 10000),
    SNUM("market", "level_step_usd", "5", F64, market.level_step_usd, 5),
    SNUM("market", "half_spread_usd", "0.5", F64, market.half_spread_usd, 0.5),
    SNUM("market", "trade_prob", "0.5", F64, market.trade_prob, 0.5),
    SNUM("market", "loss_prob", "0.1", F64, market.loss_prob, 0.1),
    SNUM("market", "mtu_bytes", "1200", U32, market.mtu_bytes, 1200),
    SNUM("market", "crash_start_s", "1200", F64, market.crash_start_s, 1200),
    SNUM("market", "crash_duration_s", "300", F64, market.crash_duration_s, 300),
    SNUM("market", "crash_fall", "0.15", F64, market.crash_fall, 0.15),
    SNUM("market", "crash_iv_rise", "0.3", F64, market.crash_iv_rise, 0.3),
    NUM("threads", "enabled", "yes", BOOL, threads, 1),
    NUM("threads", "hot_cpu", "2", INT, hot_cpu, 2),
    NUM("threads", "slow_cpu", "3", INT, slow_cpu, 3),
    NUM("threads", "ring_bytes", "65536", U32, ring_bytes, 65536),
    NUM("threads", "slow_idle_us", "50", U32, slow_idle_us, 50),
    NUM("status", "interval_s", "7", U32, status_interval_s, 7),
    TXT("status", "counters_file", "counters.txt", counters_path),
    TXT("status", "prometheus_file", "hedgetrig.prom", prometheus_path),
    NUM("book", "reconcile", "halt", INT, reconcile, HT_ENGINE_RECONCILE_HALT),
    NUM("book", "on_liquidation", "halt", INT, on_liquidation, HT_ENGINE_LIQUIDATION_HALT),
    NUM("margin", "model", "portfolio", INT, margin_model, HT_MARGIN_PORTFOLIO),
    NUM("margin", "equity_coin", "12.5", F64, margin_equity_coin, 12.5),
    NUM("margin", "band_narrow_from", "0.4", F64, margin_band_narrow_from, 0.4),
    NUM("margin", "band_narrow_to", "0.8", F64, margin_band_narrow_to, 0.8),
    NUM("margin", "band_min_fraction", "0.3", F64, margin_band_min_fraction, 0.3),
    NUM("margin", "prefer_lower_margin", "yes", BOOL, opt.prefer_lower_margin, 1),
    NUM("margin", "flatten_ratio", "0.85", F64, margin_flatten_ratio, 0.85),
    NUM("margin", "kill_ratio", "0.95", F64, margin_kill_ratio, 0.95),
    TXT("margin", "series", "margin.csv", margin_series_path),
    NUM("margin", "venue_equity", "no", BOOL, margin_venue_equity_off, 1),
};

/* True when c holds what key case kc expects. */
static bool holds(const ht_setup_config *c, const key_case *kc)
{
    const char *field = (const char *)c + kc->offset;
    double v;
    switch (kc->kind) {
    case CUSTOM: return kc->check(c);
    case STR: return strcmp(field, kc->text) == 0;
    case F64: v = *(const double *)field; break;
    case U16: v = *(const uint16_t *)field; break;
    case U32: v = *(const uint32_t *)field; break;
    case U64: v = (double)*(const uint64_t *)field; break;
    case I64: v = (double)*(const int64_t *)field; break;
    case UNS: v = *(const unsigned *)field; break;
    case INT: v = *(const int *)field; break;
    case BOOL: v = *(const bool *)field; break;
    default: return false;
    }
    return v == kc->number;
}

/* The case for section/key, or NULL. */
static const key_case *find_case(const char *section, const char *key)
{
    for (size_t i = 0; i < sizeof k_keys / sizeof k_keys[0]; i++)
        if (!strcmp(k_keys[i].section, section) && !strcmp(k_keys[i].key, key))
            return &k_keys[i];
    return NULL;
}

/* Each key of ht_conf_sections, written alone under its section, loads (through the setup's reader, which
 * reads every section) and changes the configuration from its default to the value written. */
static void every_listed_key_takes_effect(void **state)
{
    (void)state;
    const char *path = TMP "/one_key.conf";
    ht_setup_config *defaults = malloc(sizeof *defaults), *loaded = malloc(sizeof *loaded);
    assert_non_null(defaults);
    assert_non_null(loaded);
    ht_setup_config_default(defaults);
    size_t n_listed = 0;
    for (const ht_conf_section *s = ht_conf_sections; s->name; s++)
        for (size_t k = 0; s->keys[k]; k++, n_listed++) {
            const key_case *kc = find_case(s->name, s->keys[k]);
            if (!kc)
                fail_msg("[%s] %s is listed but this test has no case for it", s->name, s->keys[k]);
            if (holds(defaults, kc))
                fail_msg("[%s] %s = %s is its default: the case could not fail", s->name, kc->key, kc->value);
            char text[256];
            snprintf(text, sizeof text, "[%s]\n%s = %s\n", s->name, kc->key, kc->value);
            write_file(path, text, strlen(text));
            ht_setup_config_default(loaded);
            ht_error err = {{0}};
            if (ht_setup_config_load(loaded, path, &err) != 0)
                fail_msg("[%s] %s = %s: %s", s->name, kc->key, kc->value, err.msg);
            if (!holds(loaded, kc))
                fail_msg("[%s] %s = %s did not reach the configuration", s->name, kc->key, kc->value);
        }
    assert_int_equal(n_listed, sizeof k_keys / sizeof k_keys[0]);
    free(defaults);
    free(loaded);
}

/* The [market] list of the reader is the market simulator's own (ht_mkt_config_keys, its options' source). */
static void market_keys_are_the_simulators(void **state)
{
    (void)state;
    const ht_conf_section *market = ht_conf_section_find("market");
    assert_non_null(market);
    size_t n = 0;
    for (; ht_mkt_config_keys[n]; n++) {
        bool listed = false;
        for (size_t k = 0; market->keys[k]; k++)
            listed |= strcmp(market->keys[k], ht_mkt_config_keys[n]) == 0;
        if (!listed)
            fail_msg("[market] %s is a simulator key the config reader does not list", ht_mkt_config_keys[n]);
    }
    size_t listed = 0;
    while (market->keys[listed])
        listed++;
    assert_int_equal(listed, n);
}

/* ---- The documents list exactly the keys that load --------------------------------------------------------- */

#define MAX_DOC_KEYS 512

/* Keys found in the docs: "section key" strings, and where each was found. */
typedef struct doc_keys {
    char entry[MAX_DOC_KEYS][96];
    char where[MAX_DOC_KEYS][64];
    size_t n;
} doc_keys;

/* Adds the comma-separated names of a table's first cell (`backticks` dropped) under section. */
static void add_cell(doc_keys *d, const char *section, const char *cell, size_t cell_len, const char *where)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)(cell_len < 255 ? cell_len : 255), cell);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '`')
            t++;
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '`'))
            t[--n] = '\0';
        if (!n || !strcmp(t, "key") || t[0] == '-' || t[0] == '(')
            continue;
        assert_true(d->n < MAX_DOC_KEYS);
        snprintf(d->entry[d->n], sizeof d->entry[0], "%s %s", section, t);
        snprintf(d->where[d->n], sizeof d->where[0], "%s", where);
        d->n++;
    }
}

/* Reads the key tables of a document: under each "### [section]" heading, the first cell of every table row
 * (until the next heading). */
static void read_doc(doc_keys *d, const char *doc)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", HT_SOURCE_DIR, doc);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char line[4096], section[64] = "";
    unsigned line_no = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        if (line[0] == '#') {
            section[0] = '\0';
            if (!strncmp(line, "### [", 5) && strchr(line, ']'))
                snprintf(section, sizeof section, "%.*s", (int)(strchr(line, ']') - line - 5), line + 5);
            continue;
        }
        if (!section[0] || line[0] != '|')
            continue;
        const char *cell = line + 1, *bar = strchr(cell, '|');
        if (!bar)
            continue;
        char where[64];
        snprintf(where, sizeof where, "%s:%u", doc, line_no);
        add_cell(d, section, cell, (size_t)(bar - cell), where);
    }
    fclose(f);
}

/* Every key documented in docs/gateway.md and docs/deployment.md is listed (so it loads: see above) and every
 * listed key is documented, each once. */
static void documented_keys_are_the_listed_keys(void **state)
{
    (void)state;
    doc_keys *d = calloc(1, sizeof *d);
    assert_non_null(d);
    read_doc(d, "docs/gateway.md");
    read_doc(d, "docs/deployment.md");
    size_t n_listed = 0;
    for (size_t i = 0; i < d->n; i++) {
        char section[64], key[64];
        assert_int_equal(sscanf(d->entry[i], "%63s %63s", section, key), 2);
        const ht_conf_section *s = ht_conf_section_find(section);
        if (!s)
            fail_msg("%s: [%s] is documented but no command reads it", d->where[i], section);
        bool listed = false;
        for (size_t k = 0; s->keys[k]; k++)
            listed |= strcmp(s->keys[k], key) == 0;
        if (!listed)
            fail_msg("%s: [%s] %s is documented but does not load", d->where[i], section, key);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(d->entry[j], d->entry[i]))
                fail_msg("%s: [%s] %s is documented twice (also %s)", d->where[i], section, key, d->where[j]);
    }
    for (const ht_conf_section *s = ht_conf_sections; s->name; s++)
        for (size_t k = 0; s->keys[k]; k++, n_listed++) {
            char entry[96];
            snprintf(entry, sizeof entry, "%s %s", s->name, s->keys[k]);
            bool documented = false;
            for (size_t i = 0; i < d->n; i++)
                documented |= strcmp(d->entry[i], entry) == 0;
            if (!documented)
                fail_msg("[%s] %s loads but is not documented in %s", s->name, s->keys[k], s->doc);
        }
    assert_int_equal(d->n, n_listed);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_malformed_files_in_every_reader),
        cmocka_unit_test(refuses_bad_values_naming_the_line),
        cmocka_unit_test(accepts_crlf_bom_and_other_commands_sections),
        cmocka_unit_test(refuses_paths_that_are_not_regular_files),
        cmocka_unit_test(every_listed_key_takes_effect),
        cmocka_unit_test(market_keys_are_the_simulators),
        cmocka_unit_test(documented_keys_are_the_listed_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
