/* SPDX-License-Identifier: MIT */
/* The exchange simulator's life cycle and connection loop: configuration, create/destroy, the books of a capture,
 * accepting peers, reading, latency queues, heartbeats and the thread. The FIX session is in xsim_session.c, the
 * books and matching in xsim_orders.c (xsim_priv.h). */
#define _GNU_SOURCE /* accept4 */
#include "hedgetrig/exchange_sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/tsc.h"
#include "xsim_priv.h"

/* Writes a line to the simulator's log, if any. */
void xsim_log(ht_xsim *x, const char *fmt, ...)
{
    if (!x->cfg.log)
        return;
    char stamp[24];
    ht_fix_format_time(stamp, ht_wall_ns());
    stamp[21] = '\0';
    fprintf(x->cfg.log, "%s exchange-sim: ", stamp);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(x->cfg.log, fmt, ap);
    va_end(ap);
    fputc('\n', x->cfg.log);
    fflush(x->cfg.log);
}

void ht_xsim_config_default(ht_xsim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->bind_host, sizeof cfg->bind_host, "127.0.0.1");
    snprintf(cfg->comp_id, sizeof cfg->comp_id, "DERIBITSERVER");
    cfg->fee_bps = 5;
    cfg->default_mid = 50000;
    cfg->default_spread = 1;
    cfg->default_level_qty = 10000;
    cfg->default_levels = 10;
    cfg->logon_timeout_ms = 5000;
    cfg->max_connections = 16;
    cfg->max_bad_messages = 10;
    cfg->equity_coin = 10;
    ht_rate_config_default(&cfg->rate);
    cfg->rate.enforce = false; /* on with a [rate] section, --rate-tier or the in-process venue's [rate] */
}

bool ht_xsim_valid_host(const char *host)
{
    struct in_addr addr;
    return host && inet_pton(AF_INET, host, &addr) == 1;
}

/* Applies one [exchange_sim] key. */
static bool apply_xsim_key(void *user, const char *section, const char *k, const char *v, bool *known,
                           const char **expected)
{
    (void)section;
    ht_xsim_config *c = user;
    uint32_t u;
    *known = true;
    if (!strcmp(k, "host"))
        return *expected = "an IPv4 address", ht_xsim_valid_host(v) &&
                                                ht_conf_str(c->bind_host, sizeof c->bind_host, v, false);
    if (!strcmp(k, "port"))
        return *expected = "0..65535", ht_conf_u32(v, 0, 65535, &u) && (c->port = (uint16_t)u, true);
    if (!strcmp(k, "comp_id"))
        return *expected = "1..31 characters", ht_conf_str(c->comp_id, sizeof c->comp_id, v, false);
    if (!strcmp(k, "latency_us"))
        return *expected = "0..10000000", ht_conf_u32(v, 0, 10000000, &c->latency_us);
    if (!strcmp(k, "fee_bps"))
        return *expected = "a number >= 0", ht_conf_nonneg(v, &c->fee_bps);
    if (!strcmp(k, "max_fill_qty"))
        return *expected = "a number >= 0", ht_conf_nonneg(v, &c->max_fill_qty);
    if (!strcmp(k, "mid"))
        return *expected = "a number >= 0", ht_conf_nonneg(v, &c->default_mid);
    if (!strcmp(k, "spread"))
        return *expected = "a number > 0", ht_conf_nonneg(v, &c->default_spread) && c->default_spread > 0;
    if (!strcmp(k, "level_qty"))
        return *expected = "a number > 0", ht_conf_nonneg(v, &c->default_level_qty) && c->default_level_qty > 0;
    if (!strcmp(k, "levels"))
        return *expected = "1..32", ht_conf_u32(v, 1, HT_XSIM_MAX_LEVELS, &c->default_levels);
    if (!strcmp(k, "record"))
        return *expected = "a file path", ht_conf_str(c->record_path, sizeof c->record_path, v, true);
    if (!strcmp(k, "logon_timeout_ms"))
        return *expected = "100..600000", ht_conf_u32(v, 100, 600000, &c->logon_timeout_ms);
    if (!strcmp(k, "max_connections"))
        return *expected = "1..64", ht_conf_u32(v, 1, HT_XSIM_MAX_CONNECTIONS, &c->max_connections);
    if (!strcmp(k, "max_bad_messages"))
        return *expected = "1..1000", ht_conf_u32(v, 1, 1000, &c->max_bad_messages);
    if (!strcmp(k, "equity"))
        return *expected = "a number of coin >= 0", ht_conf_nonneg(v, &c->equity_coin);
    if (!strcmp(k, "script"))
        return *expected = "a file path", ht_conf_str(c->script_path, sizeof c->script_path, v, false);
    if (!strcmp(k, "book"))
        return *expected = "a file path", ht_conf_str(c->book_path, sizeof c->book_path, v, false);
    *known = false;
    return false;
}

/* What the config reader passes to apply_xsim_key. */
typedef struct xsim_load {
    ht_xsim_config *cfg;
    bool rate_seen; /* a [rate] key was read: the limits start from Deribit's defaults, enforced */
} xsim_load;

/* Applies one key of [exchange_sim] or [rate] (the limits the gateway mirrors, enforced here). */
static bool apply_load_key(void *user, const char *section, const char *k, const char *v, bool *known,
                           const char **expected)
{
    xsim_load *l = user;
    if (strcmp(section, "rate") != 0)
        return apply_xsim_key(l->cfg, section, k, v, known, expected);
    if (!l->rate_seen) {
        l->rate_seen = true;
        ht_rate_config_default(&l->cfg->rate);
    }
    return ht_rate_config_apply(&l->cfg->rate, k, v, known, expected);
}

int ht_xsim_config_load(ht_xsim_config *cfg, const char *path, ht_error *err)
{
    static const char *const sections[] = {"exchange_sim", "rate", NULL};
    xsim_load l = {cfg, false};
    return ht_conf_read(path, sections, apply_load_key, &l, err);
}

ht_xsim *ht_xsim_create(const ht_xsim_config *cfg, ht_error *err)
{
    if (cfg->default_mid > 0 && (!(cfg->default_spread > 0) || !(cfg->default_level_qty > 0) ||
                                 cfg->default_levels < 1 || cfg->default_levels > HT_XSIM_MAX_LEVELS)) {
        ht_error_set(err, "exchange-sim: the standalone book needs spread > 0, level_qty > 0, levels 1..%d",
                     HT_XSIM_MAX_LEVELS);
        return NULL;
    }
    if (!ht_xsim_valid_host(cfg->bind_host)) {
        ht_error_set(err, "exchange-sim: host '%s' is not an IPv4 address (e.g. 127.0.0.1)", cfg->bind_host);
        return NULL;
    }
    if (!(cfg->fee_bps >= 0) || !(cfg->max_fill_qty >= 0) || !cfg->comp_id[0]) {
        ht_error_set(err, "exchange-sim: fee_bps and max_fill_qty must be >= 0 and comp_id set");
        return NULL;
    }
    /* The CompID goes into every message (49); the client id is compared with Username (553). */
    if (ht_fix_check_value("exchange-sim: comp_id (SenderCompID 49)", cfg->comp_id,
                           strnlen(cfg->comp_id, sizeof cfg->comp_id), HT_FIX_GRAMMAR_ID, 1, 31, err) != 0 ||
        (cfg->client_id[0] && ht_fix_check_value("exchange-sim: client_id (Username 553)", cfg->client_id,
                                                 strnlen(cfg->client_id, sizeof cfg->client_id), HT_FIX_GRAMMAR_ID, 1,
                                                 127, err) != 0))
        return NULL;
    if (cfg->logon_timeout_ms < 100 || cfg->logon_timeout_ms > 600000 || cfg->max_connections < 1 ||
        cfg->max_connections > HT_XSIM_MAX_CONNECTIONS || cfg->max_bad_messages < 1 || cfg->max_bad_messages > 1000) {
        ht_error_set(err, "exchange-sim: logon_timeout_ms must be 100..600000 (got %u), max_connections 1..%d (got %u), "
                     "max_bad_messages 1..1000 (got %u)", cfg->logon_timeout_ms, HT_XSIM_MAX_CONNECTIONS,
                     cfg->max_connections, cfg->max_bad_messages);
        return NULL;
    }
    if (!(cfg->equity_coin >= 0) || !isfinite(cfg->equity_coin)) {
        ht_error_set(err, "exchange-sim: equity must be a finite number of coin >= 0 (got %g)", cfg->equity_coin);
        return NULL;
    }
    if (ht_rate_config_check(&cfg->rate, err) != 0)
        return NULL;
    ht_xsim *x = calloc(1, sizeof *x);
    if (!x) {
        ht_error_set(err, "exchange-sim: out of memory");
        return NULL;
    }
    x->cfg = *cfg;
    ht_rate_account_init(&x->rate, &cfg->rate, ht_mono_ns());
    x->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->script_cv, NULL);
    for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++)
        x->conns[i].fd = -1;
    x->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    int one = 1;
    if (x->listen_fd < 0 || inet_pton(AF_INET, cfg->bind_host, &addr.sin_addr) != 1 ||
        setsockopt(x->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(x->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(x->listen_fd, 64) != 0) {
        ht_error_set(err, "exchange-sim: listening on %s:%u: %s", cfg->bind_host, cfg->port, strerror(errno));
        ht_xsim_destroy(x);
        return NULL;
    }
    if (x->wake_fd < 0) {
        ht_error_set(err, "exchange-sim: eventfd: %s", strerror(errno));
        ht_xsim_destroy(x);
        return NULL;
    }
    socklen_t alen = sizeof addr;
    getsockname(x->listen_fd, (struct sockaddr *)&addr, &alen);
    x->port = ntohs(addr.sin_port);
    if (cfg->script_path[0]) {
        ht_xsim_script *script = ht_xsim_script_load(cfg->script_path, err);
        int rc = script ? ht_xsim_set_script(x, script, err) : -1;
        ht_xsim_script_destroy(script);
        if (rc != 0) {
            ht_xsim_destroy(x);
            return NULL;
        }
    }
    if (cfg->record_path[0]) {
        x->record = fopen(cfg->record_path, "a");
        if (!x->record) {
            ht_error_set(err, "exchange-sim: record %s: %s", cfg->record_path, strerror(errno));
            ht_xsim_destroy(x);
            return NULL;
        }
    }
    return x;
}

uint16_t ht_xsim_port(const ht_xsim *x)
{
    return x->port;
}

/* Hands one datagram of the capture to the feed (a replay callback). */
static int capture_packet(void *feed, const ht_nic_packet *pkt)
{
    ht_feed_on_packet(feed, pkt->payload, pkt->len, pkt->rx_tsc);
    return 0;
}

int ht_xsim_load_capture(ht_xsim *x, const char *pcap_path, ht_error *err)
{
    ht_feed_config fc;
    ht_feed_config_default(&fc);
    ht_feed *feed = ht_feed_create(&fc, err);
    if (!feed)
        return -1;
    const ht_nic_replay_ops ops = {.on_packet = capture_packet, .ctx = feed};
    const int end = ht_nic_replay_file(pcap_path, &ops, NULL, err);
    if (end < 0) {
        if (end == HT_NIC_REPLAY_ERROR) { /* err is "PATH: what" */
            ht_error read_err = *err;
            ht_error_set(err, "exchange-sim: capture %s", read_err.msg);
        }
        ht_feed_destroy(feed);
        return -1;
    }
    int loaded = 0;
    for (uint32_t i = 0; i < ht_feed_instrument_count(feed); i++) {
        const ht_instrument *in = ht_feed_instrument_at(feed, i);
        ht_book_status status = ht_feed_book_status(feed, in);
        const ht_book *b = ht_feed_book(feed, in);
        if (status == HT_BOOK_NONE || status == HT_BOOK_BROKEN || (!b->bid_count && !b->ask_count))
            continue;
        /* The feed's amounts are Deribit's (USD for inverse futures): the book holds contracts, as FIX reports. */
        ht_contract c;
        if (ht_contract_from_instrument(in, &c, NULL) != 0 || ht_xsim_set_contract(x, in->name, &c, NULL) != 0)
            continue;
        ht_xsim_level levels[HT_XSIM_MAX_LEVELS];
        size_t nb = b->bid_count < HT_XSIM_MAX_LEVELS ? b->bid_count : HT_XSIM_MAX_LEVELS;
        for (size_t k = 0; k < nb; k++)
            levels[k] = (ht_xsim_level){b->bids[k].price, ht_units_amount_to_contracts(&c, b->bids[k].amount)};
        if (ht_xsim_set_depth(x, in->name, true, levels, nb) != 0)
            continue;
        size_t na = b->ask_count < HT_XSIM_MAX_LEVELS ? b->ask_count : HT_XSIM_MAX_LEVELS;
        for (size_t k = 0; k < na; k++)
            levels[k] = (ht_xsim_level){b->asks[k].price, ht_units_amount_to_contracts(&c, b->asks[k].amount)};
        ht_xsim_set_depth(x, in->name, false, levels, na);
        loaded++;
    }
    xsim_log(x, "capture %s: %d books loaded from %u instruments", pcap_path, loaded, ht_feed_instrument_count(feed));
    ht_feed_destroy(feed);
    if (loaded == 0)
        return ht_error_set(err, "exchange-sim: capture %s holds no complete book", pcap_path);
    return loaded;
}

void ht_xsim_stats_get(ht_xsim *x, ht_xsim_stats *out)
{
    pthread_mutex_lock(&x->lock);
    *out = x->stats;
    pthread_mutex_unlock(&x->lock);
}

void ht_xsim_debug_drop_next_report(ht_xsim *x) { atomic_store(&x->drop_next_report, 1); }
void ht_xsim_debug_disconnect(ht_xsim *x) { atomic_store(&x->disconnect_all, 1); }

/* Writes bytes now, waiting while the socket is full (the simulator is not latency-critical), but not for a peer
 * that stopped reading: after SEND_STALL_MS of a full socket the connection is marked stalled and the loop closes
 * it, so one such peer cannot hold every other session up. */
#define SEND_STALL_MS 2000
static void write_now(conn *c, const char *bytes, size_t len)
{
    size_t done = 0;
    uint64_t full_since = 0;
    while (c->fd >= 0 && !c->stalled && done < len) {
        ssize_t n = send(c->fd, bytes + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uint64_t now = ht_mono_ns();
            if (!full_since)
                full_since = now;
            c->stalled = now - full_since >= (uint64_t)SEND_STALL_MS * 1000000u;
            struct pollfd p = {c->fd, POLLOUT, 0};
            poll(&p, 1, 100);
            continue;
        }
        if (n <= 0)
            return;
        done += (size_t)n;
    }
    c->last_tx_ns = ht_mono_ns();
}

/* Sends (or queues for latency_us) bytes on a connection. */
void xsim_transmit(ht_xsim *x, conn *c, const char *bytes, size_t len)
{
    if (x->cfg.latency_us == 0 && c->q_len == 0) {
        write_now(c, bytes, len);
        return;
    }
    if (c->q_len == MAX_PENDING)
        return;
    char *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, bytes, len);
    c->queue[(c->q_head + c->q_len) % MAX_PENDING] =
        (pending){ht_mono_ns() + (uint64_t)x->cfg.latency_us * 1000u, copy, len};
    c->q_len++;
}

/* Closes a connection; the session store (sequence numbers) stays for the reconnect. */
void xsim_drop_conn(ht_xsim *x, conn *c, const char *why)
{
    if (c->fd < 0)
        return;
    xsim_log(x, "connection from %s (%s) closed: %s", c->store ? c->store->client_comp_id : "no logon", c->peer, why);
    close(c->fd);
    c->fd = -1;
    for (size_t i = 0; i < c->q_len; i++)
        free(c->queue[(c->q_head + i) % MAX_PENDING].bytes);
    c->q_len = 0;
    c->q_head = 0;
    c->rx_len = 0;
    c->logged_on = false;
    c->store = NULL;
    c->pos_subscribed = c->trades_subscribed = false;
}

/* Closes a peer that broke a rule (no Logon in time, too much garbage) and counts it. */
static void close_peer(ht_xsim *x, conn *c, const char *why)
{
    pthread_mutex_lock(&x->lock);
    x->stats.closed_peers++;
    pthread_mutex_unlock(&x->lock);
    xsim_drop_conn(x, c, why);
}

/* Reads and handles what a connection has. */
static void service_conn(ht_xsim *x, conn *c)
{
    ssize_t got = recv(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        xsim_drop_conn(x, c, got == 0 ? "peer closed" : strerror(errno));
        return;
    }
    if (got < 0)
        return;
    c->rx_len += (size_t)got;
    c->last_rx_ns = ht_mono_ns();
    size_t off = 0;
    while (c->fd >= 0 && !c->stalled && off < c->rx_len) {
        ht_fix_msg m;
        size_t used;
        ht_error err;
        ht_fix_parse_status st = ht_fix_parse(c->rx + off, c->rx_len - off, 0, &m, &used, &err);
        if (st == HT_FIX_PARSE_INCOMPLETE)
            break;
        off += used;
        if (st == HT_FIX_PARSE_BAD) {
            xsim_log(x, "malformed message from %s ignored: %s", c->peer, err.msg);
            if (++c->bad_in_a_row >= x->cfg.max_bad_messages) {
                if (c->logged_on)
                    xsim_send_admin(x, c, HT_FIX_MSG_LOGOUT, NULL, "too many malformed messages", 0);
                close_peer(x, c, "malformed messages in a row: the limit (max_bad_messages) is reached");
            }
            continue;
        }
        c->bad_in_a_row = 0;
        xsim_on_message(x, c, &m);
    }
    if (c->fd >= 0) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
        if (c->rx_len == RX_CAP)
            xsim_drop_conn(x, c, "receive buffer full");
    }
}

/* Closes a connection whose peer stopped reading (see write_now). */
static void close_if_stalled(ht_xsim *x, conn *c)
{
    if (c->fd >= 0 && c->stalled)
        close_peer(x, c, "the peer does not read: its socket stayed full for 2000 ms");
}

/* Sends queued messages that are due; returns the ns until the next one (or UINT64_MAX). */
static uint64_t flush_due(conn *c, uint64_t now)
{
    while (c->fd >= 0 && c->q_len) {
        pending *p = &c->queue[c->q_head];
        if (p->due_ns > now)
            return p->due_ns - now;
        write_now(c, p->bytes, p->len);
        free(p->bytes);
        c->q_head = (c->q_head + 1) % MAX_PENDING;
        c->q_len--;
    }
    return UINT64_MAX;
}

/* Logs a refused connection: at most one line a second, with the count of those refused silently since. */
static void log_refusal(ht_xsim *x, const char *peer, size_t in_use, size_t waiting)
{
    uint64_t now = ht_mono_ns();
    pthread_mutex_lock(&x->lock);
    x->stats.refused_connections++;
    pthread_mutex_unlock(&x->lock);
    if (x->refusal_logged_ns && now - x->refusal_logged_ns < 1000000000u) {
        x->refusals_unlogged++;
        return;
    }
    xsim_log(x, "connection from %s refused: %zu of %u connections in use (max_connections), %zu of them not logged on "
         "(closed %u ms after connecting without a Logon)%s", peer, in_use, x->cfg.max_connections, waiting,
         x->cfg.logon_timeout_ms, x->refusals_unlogged ? "; more refused in the last second" : "");
    x->refusal_logged_ns = now;
    x->refusals_unlogged = 0;
}

/* Accepts one pending connection into a free slot, or refuses it (closed at once, logged) when max_connections
 * are in use. */
static void accept_peer(ht_xsim *x)
{
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    int fd = accept4(x->listen_fd, (struct sockaddr *)&from, &from_len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    char peer[48] = "?";
    char addr[INET_ADDRSTRLEN];
    if (from.sin_family == AF_INET && inet_ntop(AF_INET, &from.sin_addr, addr, sizeof addr))
        snprintf(peer, sizeof peer, "%s:%u", addr, ntohs(from.sin_port));
    conn *slot = NULL;
    size_t in_use = 0, waiting = 0;
    for (size_t i = 0; i < x->cfg.max_connections; i++) {
        if (x->conns[i].fd < 0) {
            if (!slot)
                slot = &x->conns[i];
            continue;
        }
        in_use++;
        waiting += !x->conns[i].logged_on;
    }
    if (!slot) {
        /* Counted before the close: a client that sees its connection closed finds the refusal counted. */
        log_refusal(x, peer, in_use, waiting);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!slot->rx)
        slot->rx = malloc(RX_CAP);
    if (!slot->queue)
        slot->queue = calloc(MAX_PENDING, sizeof *slot->queue);
    if (!slot->rx || !slot->queue) {
        close(fd);
        xsim_log(x, "connection from %s refused: out of memory", peer);
        return;
    }
    slot->fd = fd;
    memcpy(slot->peer, peer, sizeof slot->peer);
    slot->rx_len = 0;
    slot->logged_on = false;
    slot->resend_pending = false;
    slot->bad_in_a_row = 0;
    slot->stalled = false;
    slot->accepted_ns = slot->last_rx_ns = slot->last_tx_ns = ht_mono_ns();
}

int ht_xsim_run(ht_xsim *x, volatile sig_atomic_t *stop)
{
    xsim_log(x, "listening on %s:%u as %s", x->cfg.bind_host, x->port, x->cfg.comp_id);
    uint64_t logon_timeout_ns = (uint64_t)x->cfg.logon_timeout_ms * 1000000u;
    while (!atomic_load(&x->stop) && !(stop && *stop)) {
        if (atomic_exchange(&x->disconnect_all, 0))
            for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++)
                xsim_drop_conn(x, &x->conns[i], "test hook: forced disconnect");
        xsim_ledger_run_script(x);
        xsim_account_flush(x);
        struct pollfd fds[HT_XSIM_MAX_CONNECTIONS + 2];
        conn *which[HT_XSIM_MAX_CONNECTIONS + 2];
        nfds_t n = 0;
        fds[n] = (struct pollfd){x->listen_fd, POLLIN, 0};
        which[n++] = NULL;
        fds[n] = (struct pollfd){x->wake_fd, POLLIN, 0};
        which[n++] = NULL;
        uint64_t now = ht_mono_ns();
        uint64_t wait_ns = 50000000u;
        for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++) {
            conn *c = &x->conns[i];
            if (c->fd < 0)
                continue;
            if (!c->logged_on && now - c->accepted_ns >= logon_timeout_ns) {
                char why[64];
                snprintf(why, sizeof why, "no Logon within %u ms (logon_timeout_ms)", x->cfg.logon_timeout_ms);
                close_peer(x, c, why);
                continue;
            }
            uint64_t due = flush_due(c, now);
            if (due < wait_ns)
                wait_ns = due;
            close_if_stalled(x, c);
            if (c->fd < 0)
                continue;
            if (c->logged_on && now - c->last_tx_ns >= (uint64_t)c->heartbeat_s * 1000000000u)
                xsim_send_admin(x, c, HT_FIX_MSG_HEARTBEAT, NULL, NULL, 0);
            if (c->fd < 0)
                continue;
            fds[n] = (struct pollfd){c->fd, POLLIN, 0};
            which[n++] = c;
        }
        int timeout_ms = (int)(wait_ns / 1000000u);
        if (timeout_ms == 0 && wait_ns > 0 && wait_ns < 1000000u) {
            struct timespec ts = {0, (long)wait_ns};
            nanosleep(&ts, NULL);
        }
        int ready = poll(fds, n, timeout_ms);
        if (ready <= 0)
            continue;
        uint64_t woken;
        if ((fds[1].revents & POLLIN) && read(x->wake_fd, &woken, sizeof woken) < 0)
            woken = 0; /* already drained */
        for (nfds_t i = 2; i < n; i++)
            if (fds[i].revents && which[i]->fd >= 0) {
                service_conn(x, which[i]);
                close_if_stalled(x, which[i]);
            }
        if (fds[0].revents & POLLIN)
            accept_peer(x);
    }
    return 0;
}

/* Thread entry for ht_xsim_start. */
static void *xsim_thread(void *arg)
{
    ht_xsim_run(arg, NULL);
    return NULL;
}

int ht_xsim_start(ht_xsim *x, ht_error *err)
{
    atomic_store(&x->stop, 0);
    if (pthread_create(&x->thread, NULL, xsim_thread, x) != 0)
        return ht_error_set(err, "exchange-sim: cannot start its thread");
    x->thread_started = true;
    return 0;
}

void ht_xsim_stop(ht_xsim *x)
{
    atomic_store(&x->stop, 1);
    if (x->thread_started) {
        pthread_join(x->thread, NULL);
        x->thread_started = false;
    }
}

void ht_xsim_destroy(ht_xsim *x)
{
    if (!x)
        return;
    ht_xsim_stop(x);
    for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++) {
        xsim_drop_conn(x, &x->conns[i], "shutdown");
        free(x->conns[i].rx);
        free(x->conns[i].queue);
    }
    for (size_t i = 0; i < x->n_stores; i++)
        xsim_free_store(&x->stores[i]);
    if (x->listen_fd >= 0)
        close(x->listen_fd);
    if (x->record)
        fclose(x->record);
    if (x->wake_fd >= 0)
        close(x->wake_fd);
    xsim_ledger_free(x);
    pthread_cond_destroy(&x->script_cv);
    pthread_mutex_destroy(&x->lock);
    explicit_bzero(x->cfg.client_secret, sizeof x->cfg.client_secret);
    free(x);
}
