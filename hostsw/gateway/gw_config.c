/* SPDX-License-Identifier: MIT */
/* Gateway configuration: defaults, the [gateway]/[risk] sections of a config file, secrets, Deribit logon proof. */
#include "hedgetrig/gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hedgetrig/conf.h"
#include "hedgetrig/digest.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/textfile.h"

void ht_gw_config_default(ht_gw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 9881;
    ht_rate_config_default(&cfg->rate);
    cfg->positions = true;
    cfg->trade_capture = true;
    cfg->account_interval_ms = 10000;
    snprintf(cfg->account_currency, sizeof cfg->account_currency, "BTC");
    snprintf(cfg->sender_comp_id, sizeof cfg->sender_comp_id, "HEDGETRIG");
    snprintf(cfg->target_comp_id, sizeof cfg->target_comp_id, "DERIBITSERVER");
    cfg->heartbeat_s = 30;
    cfg->cancel_on_disconnect = true;
    snprintf(cfg->journal_path, sizeof cfg->journal_path, "hedgetrig-gateway.journal");
    cfg->journal_fsync = HT_JOURNAL_FSYNC_INTERVAL;
    cfg->journal_fsync_interval_ms = 100;
    cfg->journal_tail = HT_JOURNAL_TAIL_REFUSE;
    cfg->journal_mode = HT_JOURNAL_MODE_MMAP;
    cfg->send = HT_GW_SEND_PLAIN;
    cfg->send_sq_idle_ms = 1000;
    cfg->send_sq_cpu = -1;
    snprintf(cfg->clordid_prefix, sizeof cfg->clordid_prefix, "ht");
    cfg->qty_decimals = 8;
    cfg->price_decimals = 8;
    cfg->connect_timeout_ms = 5000;
    cfg->reconnect_min_ms = 100;
    cfg->reconnect_max_ms = 10000;
    cfg->reconnect_max_attempts = 0;
    cfg->max_msg_bytes = HT_FIX_DEFAULT_MAX_MSG;
    ht_risk_limits_default(&cfg->risk);
}

int ht_gw_check_symbol(const char *field, const char *symbol, ht_error *err)
{
    return ht_fix_check_value(field, symbol, strlen(symbol), HT_FIX_GRAMMAR_INSTRUMENT, 1, HT_GW_SYMBOL_BYTES - 1, err);
}

int ht_gw_check_comp_id(const char *field, const char *comp_id, ht_error *err)
{
    return ht_fix_check_value(field, comp_id, strlen(comp_id), HT_FIX_GRAMMAR_ID, 1, 31, err);
}

int ht_gw_check_clordid_prefix(const char *field, const char *prefix, ht_error *err)
{
    return ht_fix_check_value(field, prefix, strlen(prefix), HT_FIX_GRAMMAR_ID, 0, 15, err);
}

int ht_gw_check_client_id(const char *field, const char *client_id, ht_error *err)
{
    return ht_fix_check_value(field, client_id, strlen(client_id), HT_FIX_GRAMMAR_ID, 1, 127, err);
}

int ht_gw_check_client_secret(const char *field, const char *secret, ht_error *err)
{
    return ht_fix_check_value(field, secret, strlen(secret), HT_FIX_GRAMMAR_SECRET, 1, 127, err);
}

int ht_gw_config_check_strings(const ht_gw_config *cfg, ht_error *err)
{
    /* Unterminated arrays are refused before strlen reads past them. */
    if (!memchr(cfg->sender_comp_id, 0, sizeof cfg->sender_comp_id) ||
        !memchr(cfg->target_comp_id, 0, sizeof cfg->target_comp_id) ||
        !memchr(cfg->clordid_prefix, 0, sizeof cfg->clordid_prefix) || !memchr(cfg->client_id, 0, sizeof cfg->client_id) ||
        !memchr(cfg->client_secret, 0, sizeof cfg->client_secret))
        return ht_error_set(err, "gateway: a CompID, the ClOrdID prefix, the client id or secret is not NUL-terminated");
    if (ht_gw_check_comp_id("gateway: sender_comp_id (SenderCompID 49)", cfg->sender_comp_id, err) != 0 ||
        ht_gw_check_comp_id("gateway: target_comp_id (TargetCompID 56)", cfg->target_comp_id, err) != 0 ||
        ht_gw_check_clordid_prefix("gateway: clordid_prefix (ClOrdID 11)", cfg->clordid_prefix, err) != 0)
        return -1;
    if (cfg->client_id[0] && ht_gw_check_client_id("gateway: client_id (Username 553)", cfg->client_id, err) != 0)
        return -1;
    if (cfg->client_secret[0] && ht_gw_check_client_secret("gateway: client_secret", cfg->client_secret, err) != 0)
        return -1;
    return 0;
}

/* A string key whose value reaches the wire: copies it when check accepts it, else leaves the reason (which names the
 * byte and its offset) in a per-thread buffer that *expected points at. */
static bool wire_value(char *dst, size_t cap, const char *key, const char *v,
                       int (*check)(const char *, const char *, ht_error *), const char **expected)
{
    static __thread ht_error why;
    if (check(key, v, &why) != 0) {
        *expected = why.msg;
        return false;
    }
    return ht_conf_str(dst, cap, v, true);
}

/* A currency as Currency (15) carries it: 1..15 characters of A-Z 0-9 ("BTC", "USDC", "CROSS"). */
static bool currency_ok(const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9')))
            return false;
    return n >= 1 && n <= 15;
}

/* Applies one key of the [gateway] section; returns false with expected filled when the value is bad,
 * and sets *known false when the key is not one of ours. */
static bool apply_gateway_key(ht_gw_config *c, const char *k, const char *v, bool *known, const char **expected)
{
    uint32_t u;
    *known = true;
    if (!strcmp(k, "host"))
        return *expected = "a host name (1..127 characters)", ht_conf_str(c->host, sizeof c->host, v, false);
    if (!strcmp(k, "port"))
        return *expected = "a port 1..65535", ht_conf_u32(v, 1, 65535, &u) && (c->port = (uint16_t)u, true);
    if (!strcmp(k, "sender_comp_id"))
        return wire_value(c->sender_comp_id, sizeof c->sender_comp_id, k, v, ht_gw_check_comp_id, expected);
    if (!strcmp(k, "target_comp_id"))
        return wire_value(c->target_comp_id, sizeof c->target_comp_id, k, v, ht_gw_check_comp_id, expected);
    if (!strcmp(k, "heartbeat_s"))
        return *expected = "1..300", ht_conf_u32(v, 1, 300, &c->heartbeat_s);
    if (!strcmp(k, "cancel_on_disconnect"))
        return *expected = "yes or no", ht_conf_bool(v, &c->cancel_on_disconnect);
    if (!strcmp(k, "reset_seq_on_logon"))
        return *expected = "yes or no", ht_conf_bool(v, &c->reset_seq_on_logon);
    if (!strcmp(k, "resend_orders"))
        return *expected = "yes or no", ht_conf_bool(v, &c->resend_orders);
    if (!strcmp(k, "clordid_prefix"))
        return wire_value(c->clordid_prefix, sizeof c->clordid_prefix, k, v, ht_gw_check_clordid_prefix, expected);
    if (!strcmp(k, "qty_decimals"))
        return *expected = "0..9", ht_conf_u32(v, 0, 9, &u) && (c->qty_decimals = u, true);
    if (!strcmp(k, "price_decimals"))
        return *expected = "0..9", ht_conf_u32(v, 0, 9, &u) && (c->price_decimals = u, true);
    if (!strcmp(k, "connect_timeout_ms"))
        return *expected = "100..600000", ht_conf_u32(v, 100, 600000, &c->connect_timeout_ms);
    if (!strcmp(k, "reconnect_min_ms"))
        return *expected = "10..600000", ht_conf_u32(v, 10, 600000, &c->reconnect_min_ms);
    if (!strcmp(k, "reconnect_max_ms"))
        return *expected = "10..600000", ht_conf_u32(v, 10, 600000, &c->reconnect_max_ms);
    if (!strcmp(k, "reconnect_max_attempts"))
        return *expected = "0..1000000", ht_conf_u32(v, 0, 1000000, &c->reconnect_max_attempts);
    if (!strcmp(k, "max_msg_bytes"))
        return *expected = "256..1048576", ht_conf_u32(v, 256, 1048576, &c->max_msg_bytes);
    if (!strcmp(k, "positions") || !strcmp(k, "trade_capture")) {
        bool *on = !strcmp(k, "positions") ? &c->positions : &c->trade_capture;
        *expected = "subscribe or off";
        return !strcmp(v, "subscribe") ? (*on = true) : !strcmp(v, "off") ? (*on = false, true) : false;
    }
    if (!strcmp(k, "account_interval_ms"))
        return *expected = "0 (off) or 100..86400000", ht_conf_u32(v, 0, 86400000, &c->account_interval_ms) &&
                                                           (c->account_interval_ms == 0 || c->account_interval_ms >= 100);
    if (!strcmp(k, "account_currency"))
        return *expected = "a currency: 1..15 characters of A-Z 0-9", currency_ok(v) &&
                                                                         ht_conf_str(c->account_currency,
                                                                                     sizeof c->account_currency, v, false);
    if (!strcmp(k, "kill_file"))
        return *expected = "a file path (0..255 characters)", ht_conf_str(c->kill_file, sizeof c->kill_file, v, true);
    if (!strcmp(k, "log"))
        return *expected = "a file path, - for stdout (0..255 characters)", ht_conf_str(c->log_path, sizeof c->log_path, v, true);
    *known = false;
    return false;
}

/* What ht_gw_config_load fills, and which keys the file named (a collar the file sets needs a mark; a journal_fsync
 * of always without a journal_mode is a write journal). */
typedef struct gw_load {
    ht_gw_config *cfg;
    bool saw_collar_bps;
    bool saw_require_mark;
    bool saw_journal_mode;
} gw_load;

/* Applies one journal or send key of the [gateway] section (see apply_gateway_key). */
static bool apply_journal_key(gw_load *load, const char *k, const char *v, bool *known, const char **expected)
{
    ht_gw_config *c = load->cfg;
    *known = true;
    if (!strcmp(k, "journal"))
        return *expected = "a file path (1..255 characters)", ht_conf_str(c->journal_path, sizeof c->journal_path, v, false);
    if (!strcmp(k, "journal_fsync")) {
        *expected = "never, always or interval";
        if (!strcmp(v, "never"))
            return c->journal_fsync = HT_JOURNAL_FSYNC_NEVER, true;
        if (!strcmp(v, "always"))
            return c->journal_fsync = HT_JOURNAL_FSYNC_ALWAYS, true;
        if (!strcmp(v, "interval"))
            return c->journal_fsync = HT_JOURNAL_FSYNC_INTERVAL, true;
        return false;
    }
    if (!strcmp(k, "journal_fsync_interval_ms"))
        return *expected = "1..60000", ht_conf_u32(v, 1, 60000, &c->journal_fsync_interval_ms);
    if (!strcmp(k, "journal_tail")) {
        *expected = "refuse or truncate";
        if (!strcmp(v, "refuse"))
            return c->journal_tail = HT_JOURNAL_TAIL_REFUSE, true;
        if (!strcmp(v, "truncate"))
            return c->journal_tail = HT_JOURNAL_TAIL_TRUNCATE, true;
        return false;
    }
    if (!strcmp(k, "send")) {
        *expected = ht_gw_io_uring_built() ? "plain or io_uring"
                                           : "plain (io_uring: this build has no io_uring send path; build with "
                                             "liburing-dev installed)";
        if (!strcmp(v, "plain"))
            return c->send = HT_GW_SEND_PLAIN, true;
        return !strcmp(v, "io_uring") && ht_gw_io_uring_built() ? (c->send = HT_GW_SEND_IO_URING, true) : false;
    }
    if (!strcmp(k, "send_sq_idle_ms"))
        return *expected = "1..60000", ht_conf_u32(v, 1, 60000, &c->send_sq_idle_ms);
    if (!strcmp(k, "send_sq_cpu")) {
        uint32_t cpu;
        *expected = "-1 (none) or a CPU number 0..4095";
        return !strcmp(v, "-1") ? (c->send_sq_cpu = -1, true)
                                : ht_conf_u32(v, 0, 4095, &cpu) && (c->send_sq_cpu = (int)cpu, true);
    }
    if (!strcmp(k, "journal_mode")) {
        *expected = "write or mmap";
        load->saw_journal_mode = true;
        if (!strcmp(v, "write"))
            return c->journal_mode = HT_JOURNAL_MODE_WRITE, true;
        if (!strcmp(v, "mmap"))
            return c->journal_mode = HT_JOURNAL_MODE_MMAP, true;
        return false;
    }
    *known = false;
    return false;
}

/* Applies one key of the [risk] section (see apply_gateway_key). */
static bool apply_risk_key(gw_load *load, const char *k, const char *v, bool *known, const char **expected)
{
    ht_risk_limits *r = &load->cfg->risk;
    *known = true;
    load->saw_collar_bps |= strcmp(k, "collar_bps") == 0;
    load->saw_require_mark |= strcmp(k, "require_mark") == 0;
    if (!strcmp(k, "require_mark"))
        return *expected = "yes or no", ht_conf_bool(v, &r->require_mark);
    *expected = "a number >= 0";
    if (!strcmp(k, "max_order_qty"))
        return ht_conf_nonneg(v, &r->max_order_qty);
    if (!strcmp(k, "max_notional"))
        return ht_conf_nonneg(v, &r->max_notional);
    if (!strcmp(k, "max_position"))
        return ht_conf_nonneg(v, &r->max_position);
    if (!strcmp(k, "collar_bps"))
        return ht_conf_nonneg(v, &r->collar_bps);
    if (!strcmp(k, "notional_interval_ms"))
        return *expected = "1..86400000", ht_conf_u32(v, 1, 86400000, &r->notional_interval_ms);
    if (!strcmp(k, "max_orders_per_sec"))
        return *expected = "0..100000", ht_conf_u32(v, 0, HT_RISK_MAX_RATE, &r->max_orders_per_sec);
    if (!strcmp(k, "duplicate_window_ms"))
        return *expected = "0..3600000", ht_conf_u32(v, 0, 3600000, &r->duplicate_window_ms);
    *known = false;
    return false;
}

/* Routes a [gateway] or [risk] key to its parser. */
static bool apply_gw_key(void *user, const char *section, const char *key, const char *value, bool *known,
                         const char **expected)
{
    gw_load *load = user;
    if (strcmp(section, "rate") == 0)
        return ht_rate_config_apply(&load->cfg->rate, key, value, known, expected);
    if (strcmp(section, "gateway") != 0)
        return apply_risk_key(load, key, value, known, expected);
    bool ok = apply_journal_key(load, key, value, known, expected);
    return *known ? ok : apply_gateway_key(load->cfg, key, value, known, expected);
}

int ht_gw_config_load(ht_gw_config *cfg, const char *path, ht_error *err)
{
    static const char *const sections[] = {"gateway", "risk", "rate", NULL};
    gw_load load = {cfg, false, false, false};
    if (ht_conf_read(path, sections, apply_gw_key, &load, err) != 0)
        return -1;
    if (cfg->journal_fsync == HT_JOURNAL_FSYNC_ALWAYS && !load.saw_journal_mode)
        cfg->journal_mode = HT_JOURNAL_MODE_WRITE; /* an fsync per record is a syscall per order in either mode */
    if (cfg->journal_fsync == HT_JOURNAL_FSYNC_ALWAYS && cfg->journal_mode == HT_JOURNAL_MODE_MMAP)
        return ht_error_set(err, "config %s: journal_fsync = always needs journal_mode = write (with mmap the sync of "
                            "every record would be a syscall on the order path, which the mode exists to avoid); use "
                            "journal_fsync = interval or never with journal_mode = mmap", path);
    if (load.saw_collar_bps && !load.saw_require_mark)
        cfg->risk.require_mark = true; /* a collar the operator configured refuses orders it cannot measure */
    if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        return ht_error_set(err, "config %s: reconnect_max_ms %u is below reconnect_min_ms %u", path,
                            cfg->reconnect_max_ms, cfg->reconnect_min_ms);
    ht_error why;
    if (ht_rate_config_check(&cfg->rate, &why) != 0)
        return ht_error_set(err, "config %s: %s", path, why.msg);
    return 0;
}

int ht_gw_secrets_load(ht_gw_config *cfg, const char *secrets_path, ht_error *err)
{
    if (!secrets_path || !secrets_path[0]) {
        const char *id = getenv("HT_DERIBIT_CLIENT_ID");
        const char *secret = getenv("HT_DERIBIT_CLIENT_SECRET");
        if (id && (ht_gw_check_client_id("HT_DERIBIT_CLIENT_ID", id, err) != 0 ||
                   !ht_conf_str(cfg->client_id, sizeof cfg->client_id, id, false)))
            return -1;
        if (secret && (ht_gw_check_client_secret("HT_DERIBIT_CLIENT_SECRET", secret, err) != 0 ||
                       !ht_conf_str(cfg->client_secret, sizeof cfg->client_secret, secret, false)))
            return -1;
        return 0;
    }
    /* O_NONBLOCK: a FIFO without a writer would block the open; it is refused below like any non-file. */
    int fd = open(secrets_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return ht_error_set(err, "secrets %s: %s", secrets_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ht_error_set(err, "secrets %s: not a regular file", secrets_path);
    }
    if (st.st_size > 65536) { /* two short lines: a big file is not a secrets file (and is not read) */
        close(fd);
        return ht_error_set(err, "secrets %s: %lld bytes, more than the 65536 a secrets file may have", secrets_path,
                            (long long)st.st_size);
    }
    if (st.st_mode & 077) {
        close(fd);
        return ht_error_set(err, "secrets %s: permissions are %04o; must be 0600 or 0400 (chmod 600 %s)", secrets_path,
                            (unsigned)(st.st_mode & 07777), secrets_path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return ht_error_set(err, "secrets %s: %s", secrets_path, strerror(errno));
    }
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    int line_no = 0, id_line = 0, secret_line = 0;
    int rc = 0;
    while (rc == 0 && (got = getline(&line, &line_cap, f)) >= 0) {
        line_no++;
        if (memchr(line, '\0', (size_t)got)) { /* a NUL would silently cut the value short */
            rc = ht_error_set(err, "secrets %s:%d: holds a NUL byte", secrets_path, line_no);
            break;
        }
        char *s = ht_text_trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = ht_error_set(err, "secrets %s:%d: expected 'client_id = ...' or 'client_secret = ...'", secrets_path,
                              line_no);
            break;
        }
        *eq = '\0';
        char *key = ht_text_trim(s);
        char *value = ht_text_trim(eq + 1);
        char field[320];
        snprintf(field, sizeof field, "secrets %s:%d: %s", secrets_path, line_no, key);
        int *first = !strcmp(key, "client_id") ? &id_line : !strcmp(key, "client_secret") ? &secret_line : NULL;
        if (first && *first) {
            rc = ht_error_set(err, "secrets %s:%d: %s again (first at line %d)", secrets_path, line_no, key, *first);
            break;
        }
        if (first)
            *first = line_no;
        if (!strcmp(key, "client_id")) {
            if (ht_gw_check_client_id(field, value, err) != 0)
                rc = -1;
            else
                ht_conf_str(cfg->client_id, sizeof cfg->client_id, value, false);
        } else if (!strcmp(key, "client_secret")) {
            if (ht_gw_check_client_secret(field, value, err) != 0)
                rc = -1;
            else
                ht_conf_str(cfg->client_secret, sizeof cfg->client_secret, value, false);
        } else {
            rc = ht_error_set(err, "secrets %s:%d: unknown key '%s' (client_id, client_secret)", secrets_path, line_no,
                              key);
        }
    }
    if (line)
        explicit_bzero(line, line_cap);
    free(line);
    fclose(f);
    if (rc == 0 && (!cfg->client_id[0] || !cfg->client_secret[0]))
        rc = ht_error_set(err, "secrets %s: needs both client_id and client_secret", secrets_path);
    return rc;
}

int ht_gw_deribit_auth(uint64_t wall_ms, const char *secret, char raw_data[64], char password[45], ht_error *err)
{
    uint8_t nonce[32];
    size_t got = 0;
    while (got < sizeof nonce) {
        ssize_t n = getrandom(nonce + got, sizeof nonce - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ht_error_set(err, "getrandom for the logon nonce: %s", strerror(errno));
        got += (size_t)n;
    }
    char nonce64[48];
    ht_base64_encode(nonce, sizeof nonce, nonce64);
    snprintf(raw_data, 64, "%llu.%s", (unsigned long long)wall_ms, nonce64);
    ht_sha256 h;
    ht_sha256_init(&h);
    ht_sha256_update(&h, raw_data, strlen(raw_data));
    ht_sha256_update(&h, secret, strlen(secret));
    uint8_t digest[HT_SHA256_DIGEST_BYTES];
    ht_sha256_final(&h, digest);
    ht_base64_encode(digest, sizeof digest, password);
    explicit_bzero(&h, sizeof h);
    explicit_bzero(digest, sizeof digest);
    return 0;
}
