/* SPDX-License-Identifier: MIT */
/* The config file's sections and keys: the one list the reader checks every file against. */
#include "hedgetrig/conf.h"

#include <string.h>

/* [gateway] and [risk]: hostsw/gateway/gw_config.c. */
static const char *const k_gateway[] = {
    "host", "port", "sender_comp_id", "target_comp_id", "heartbeat_s", "cancel_on_disconnect", "reset_seq_on_logon",
    "journal", "journal_fsync", "journal_fsync_interval_ms", "journal_tail", "journal_mode", "resend_orders",
    "clordid_prefix", "qty_decimals", "price_decimals", "connect_timeout_ms", "reconnect_min_ms", "reconnect_max_ms",
    "reconnect_max_attempts", "max_msg_bytes", "kill_file", "log", "positions", "trade_capture", "account_interval_ms",
    "account_currency", "send", "send_sq_idle_ms", "send_sq_cpu", NULL};
static const char *const k_risk[] = {"max_order_qty",      "max_notional",       "max_position",
                                     "collar_bps",         "require_mark",       "notional_interval_ms",
                                     "max_orders_per_sec", "duplicate_window_ms", NULL};
/* [rate]: Deribit's request limits, mirrored by the gateway and enforced by the exchange simulator
 * (hostsw/profile/ratelimit.c). */
static const char *const k_rate[] = {"tier",       "me_rate_per_s", "me_burst", "credit_cost", "credit_max",
                                     "credit_refill_per_s", "reserve", "enforce", NULL};
/* [exchange_sim]: sim/exchange/exchange.c. */
static const char *const k_exchange_sim[] = {
    "host", "port", "comp_id", "latency_us", "fee_bps", "max_fill_qty", "mid", "spread", "level_qty", "levels",
    "record", "logon_timeout_ms", "max_connections", "max_bad_messages", "equity", "script", "book", NULL};
/* The engine's sections: hostsw/engine/config.c. */
static const char *const k_engine[] = {"book",           "max_book_qty_contracts", "event_log", "table_log", "series",
                                       "series_every",   "arm_timeout_ms",         "order_timeout_ms",
                                       "check",          "allow_unpriced",         "prearm",    "wire",      NULL};
static const char *const k_pipeline[] = {"backend", "xclbin", "device", "clock_mhz", "event_capacity", NULL};
static const char *const k_hedge[] = {
    "strategy", "min_half_width", "max_half_width", "venues", "collar", "impact_y", "impact_horizon_s", "latency_s",
    "adverse_coef", "fixed_cost_usd", "min_hedge_coin", "max_orders_per_s", "burst_orders", "min_interval_ms",
    "retry_ms", NULL};
static const char *const k_greeks[] = {
    "rate", "year_days", "convention", "forward", "max_quote_age_ms", "refresh_max_move", "refresh_min_move",
    "refresh_max_vol_move", "refresh_min_vol_move", "refresh_error_budget", "refresh_adaptive",
    "refresh_max_interval_ms", "refresh_min_interval_ms", NULL};
static const char *const k_venue[] = {"kind", "secrets", "book", "synthetic_levels", "synthetic_level_amount",
                                      "synthetic_half_spread_bps", "synthetic_step_bps", NULL};
static const char *const k_source[] = {"kind", "path", "groups", "ports", "deribit", "iface", "unicast",
                                       "rcvbuf_bytes", "eal", "port_id", "mbufs", "idle_eof_ms", "speed", NULL};
static const char *const k_threads[] = {"enabled", "hot_cpu", "slow_cpu", "ring_bytes", "slow_idle_us", NULL};
static const char *const k_status[] = {"interval_s", "counters_file", "prometheus_file", NULL};
static const char *const k_book[] = {"reconcile", "on_liquidation", NULL};
static const char *const k_margin[] = {"model",         "equity_coin",         "band_narrow_from",
                                       "band_narrow_to", "band_min_fraction",  "prefer_lower_margin",
                                       "flatten_ratio",  "kill_ratio",         "series",
                                       "venue_equity",   NULL};
/* [market]: sim/market/market_config.c (its ht_mkt_config_keys, which the tests compare with this list). */
static const char *const k_market[] = {
    "seed", "start_ms", "step_ms", "steps", "spot_usd", "vol", "jumps_per_day", "jump_stdev", "atm_iv",
    "iv_reversion", "iv_vol_of_vol", "skew", "smile", "perp_premium", "future_carry", "expiry_days", "future_days",
    "strikes_per_side", "strike_step_usd", "option_ticker_every", "future_every", "snapshot_every", "book_levels",
    "level_amount_usd", "level_step_usd", "half_spread_usd", "trade_prob", "loss_prob", "mtu_bytes", "crash_start_s",
    "crash_duration_s", "crash_fall", "crash_iv_rise", NULL};

const ht_conf_section ht_conf_sections[] = {
    {"gateway", k_gateway, "docs/gateway.md"},         {"risk", k_risk, "docs/gateway.md"},
    {"rate", k_rate, "docs/gateway.md"},
    {"exchange_sim", k_exchange_sim, "docs/gateway.md"}, {"engine", k_engine, "docs/deployment.md"},
    {"pipeline", k_pipeline, "docs/deployment.md"},    {"hedge", k_hedge, "docs/deployment.md"},
    {"greeks", k_greeks, "docs/deployment.md"},        {"venue", k_venue, "docs/deployment.md"},
    {"source", k_source, "docs/deployment.md"},        {"market", k_market, "docs/deployment.md"},
    {"threads", k_threads, "docs/deployment.md"},      {"status", k_status, "docs/deployment.md"},
    {"book", k_book, "docs/deployment.md"},           {"margin", k_margin, "docs/deployment.md"},
    {NULL, NULL, NULL},
};

const ht_conf_section *ht_conf_section_find(const char *name)
{
    for (const ht_conf_section *s = ht_conf_sections; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}
