/* SPDX-License-Identifier: MIT */
/* The FIX 4.4 initiator's life cycle: create (checks, log, risk, pid file, journal), destroy, the session log,
 * events, accessors and test hooks. The session, orders, journal and kill switch live in the gw_*.c files
 * (gw_priv.h). */
#include "hedgetrig/gateway.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gw_priv.h"
#include "gw_process.h"
#include "hedgetrig/tsc.h"

const char *ht_gw_state_name(ht_gw_state state)
{
    static const char *const names[] = {"disconnected", "connecting", "logon-sent", "active", "logout-sent", "stopped"};
    return (unsigned)state < HT_ARRAY_LEN(names) ? names[state] : "unknown";
}

/* Writes one timestamped line to the session log. */
void gw_log(ht_gw *gw, const char *fmt, ...)
{
    char stamp[24];
    ht_fix_format_time(stamp, ht_wall_ns());
    stamp[21] = '\0';
    fprintf(gw->log, "%s gateway %s: ", stamp, gw->cfg.sender_comp_id);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(gw->log, fmt, ap);
    va_end(ap);
    fputc('\n', gw->log);
    fflush(gw->log);
}

/* Adds an event to the caller's array if there is room. */
ht_gw_event *gw_push_event(ht_gw_event *ev, int max, int *n, ht_gw_event_type type)
{
    if (!ev || *n >= max)
        return NULL;
    ht_gw_event *e = &ev[(*n)++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->recv_tsc = ht_tsc_now();
    return e;
}

ht_gw *ht_gw_create(const ht_gw_config *cfg, ht_error *err)
{
    if (!cfg->host[0] || cfg->port == 0)
        return ht_error_set(err, "gateway: host and port are required"), NULL;
    if (cfg->heartbeat_s < 1 || cfg->heartbeat_s > 300)
        return ht_error_set(err, "gateway: heartbeat_s must be 1..300, got %u", cfg->heartbeat_s), NULL;
    if (cfg->reconnect_min_ms < 10 || cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        return ht_error_set(err, "gateway: reconnect_min_ms must be >= 10 and <= reconnect_max_ms"), NULL;
    if (cfg->max_msg_bytes < 256 || cfg->max_msg_bytes > HT_FIX_HARD_MAX_MSG)
        return ht_error_set(err, "gateway: max_msg_bytes must be 256..%u", HT_FIX_HARD_MAX_MSG), NULL;
    if (cfg->client_secret[0] && !cfg->client_id[0])
        return ht_error_set(err, "gateway: a client secret without a client id"), NULL;
    if (!cfg->journal_path[0])
        return ht_error_set(err, "gateway: a journal path is required (it keeps ClOrdIDs unique across restarts)"), NULL;
    if (ht_gw_config_check_strings(cfg, err) != 0)
        return NULL;
    ht_gw *gw = calloc(1, sizeof *gw);
    if (!gw)
        return ht_error_set(err, "gateway: out of memory"), NULL;
    gw->cfg = *cfg;
    gw->fd = -1;
    gw->pid_fd = -1;
    gw->next_out = 1;
    gw->next_in = 1;
    gw->next_clordid = 1;
    gw->heartbeat_s = cfg->heartbeat_s;
    gw->reconnect_delay_ms = cfg->reconnect_min_ms;
    gw->log = stderr;
    if (cfg->log_path[0] && strcmp(cfg->log_path, "-") == 0) {
        gw->log = stdout;
    } else if (cfg->log_path[0]) {
        gw->log = fopen(cfg->log_path, "a");
        if (!gw->log) {
            ht_error_set(err, "gateway: log %s: %s", cfg->log_path, strerror(errno));
            free(gw);
            return NULL;
        }
        gw->own_log = true;
    }
    if (ht_fix_nos_init(&gw->nos, cfg->sender_comp_id, cfg->target_comp_id, cfg->clordid_prefix, cfg->qty_decimals,
                        cfg->price_decimals, err) != 0 ||
        !(gw->risk = ht_risk_create(&cfg->risk, err))) {
        ht_gw_destroy(gw);
        return NULL;
    }
    gw->rx = malloc(RX_CAP);
    gw->tx = malloc(TX_CAP);
    if (!gw->rx || !gw->tx) {
        ht_gw_destroy(gw);
        return ht_error_set(err, "gateway: out of memory for socket buffers"), NULL;
    }
    /* The pid file first: it says which process runs this journal (`hedgetrig kill --pid` checks it) and keeps a
     * second gateway off the journal. */
    gw->pid_fd = gw_pid_file_acquire(cfg->journal_path, gw->pid_path, sizeof gw->pid_path, err);
    if (gw->pid_fd < 0) {
        ht_gw_destroy(gw);
        return NULL;
    }
    if (gw_uring_create(gw, err) != 0 || gw_journal_start(gw, err) != 0) {
        ht_gw_destroy(gw);
        return NULL;
    }
    gw_rate_init(gw);
    gw->state = HT_GW_DISCONNECTED;
    gw->reconnect_at_ns = 0;
    return gw;
}

void ht_gw_destroy(ht_gw *gw)
{
    if (!gw)
        return;
    gw_close_socket(gw);
    gw_uring_destroy(gw);
    ht_journal_close(gw->journal);
    gw_pid_file_release(gw->pid_fd, gw->pid_path);
    ht_risk_destroy(gw->risk);
    if (gw->own_log)
        fclose(gw->log);
    free(gw->rx);
    free(gw->tx);
    free(gw->out_index);
    explicit_bzero(gw->cfg.client_secret, sizeof gw->cfg.client_secret);
    explicit_bzero(gw->scratch, sizeof gw->scratch);
    free(gw);
}

void ht_gw_on_fill(ht_gw *gw, ht_gw_fill_fn fn, void *user)
{
    gw->fill_fn = fn;
    gw->fill_user = user;
}
size_t ht_gw_open_orders(const ht_gw *gw) { return gw->n_open; }
const char *ht_gw_clordid_head(const ht_gw *gw) { return gw->clordid_head; }
const char *ht_gw_last_problem(const ht_gw *gw) { return gw->last_problem; }
const char *ht_gw_pid_file(const ht_gw *gw) { return gw->pid_path; }
uint64_t ht_gw_orders_journaled(const ht_gw *gw) { return gw->orders_journaled; }
void ht_gw_journal_stats(const ht_gw *gw, ht_journal_stats *stats) { ht_journal_stats_get(gw->journal, stats); }
ht_gw_state ht_gw_get_state(const ht_gw *gw) { return gw->state; }
uint64_t ht_gw_next_out_seq(const ht_gw *gw) { return gw->next_out; }
uint64_t ht_gw_next_in_seq(const ht_gw *gw) { return gw->next_in; }
int ht_gw_fd(const ht_gw *gw) { return gw->fd; }

void ht_gw_debug_gap(ht_gw *gw, bool skip_out, bool drop_in)
{
    gw->debug_skip_out = skip_out;
    gw->debug_drop_in = drop_in;
}

void ht_gw_debug_crash_at(ht_gw *gw, ht_gw_crash_point point, uint64_t nth)
{
    gw->crash_at = nth > 0 ? point : HT_GW_CRASH_NONE;
    gw->crash_countdown = nth;
}
