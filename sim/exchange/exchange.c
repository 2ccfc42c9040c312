/* SPDX-License-Identifier: MIT */
/* The exchange simulator: FIX 4.4 acceptor sessions, IOC matching against a book, latency, fees, a record file. */
#define _GNU_SOURCE /* accept4 */
#include "hedgetrig/exchange_sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hedgetrig/digest.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/tsc.h"
#include "hedgetrig/units.h"

#define RX_CAP (1u << 20)
#define MAX_PENDING 65536
#define MAX_CLORDIDS (1u << 20)

typedef struct book {
    char symbol[32];
    bool external; /* set through the book source interface: depletes */
    bool have_contract; /* contract known (ht_xsim_set_contract, a capture): QtyType 0 and Commission work */
    ht_contract contract;
    ht_xsim_level bids[HT_XSIM_MAX_LEVELS];
    size_t n_bids;
    ht_xsim_level asks[HT_XSIM_MAX_LEVELS];
    size_t n_asks;
} book;

/* A sent message kept for resends. */
typedef struct stored_msg {
    uint64_t seq;
    bool app;
    char *bytes; /* NULL for admin messages */
    size_t len;
} stored_msg;

/* Sequence state of one counterparty, kept across its reconnects. */
typedef struct session_store {
    char client_comp_id[32];
    uint64_t next_in;
    uint64_t next_out;
    uint64_t last_logon_ns; /* when it last logged on (the oldest idle one is forgotten when the table is full) */
    stored_msg *sent;
    size_t n_sent, cap_sent;
    char **clordids; /* ClOrdIDs seen: an open-addressing hash set of cap_clordids slots (NULL: empty) */
    size_t n_clordids, cap_clordids;
} session_store;

typedef struct pending {
    uint64_t due_ns;
    char *bytes;
    size_t len;
} pending;

typedef struct conn {
    int fd;
    char peer[48];        /* "address:port" for the log */
    uint64_t accepted_ns; /* when the connection was accepted (the logon timeout counts from here) */
    uint32_t bad_in_a_row;/* malformed messages since the last good one */
    bool stalled;         /* the peer stopped reading: nothing more is written, the loop closes it */
    bool logged_on;
    session_store *store;
    char *rx;
    size_t rx_len;
    pending *queue;
    size_t q_head, q_len;
    uint32_t heartbeat_s;
    uint64_t last_tx_ns, last_rx_ns;
    bool resend_pending;
} conn;

struct ht_xsim {
    ht_xsim_config cfg;
    int listen_fd;
    uint16_t port;
    conn conns[HT_XSIM_MAX_CONNECTIONS];
    session_store stores[HT_XSIM_MAX_SESSIONS];
    size_t n_stores;
    pthread_mutex_t lock; /* books and stats */
    book books[HT_XSIM_MAX_SYMBOLS];
    size_t n_books;
    ht_xsim_stats stats;
    uint64_t order_id, exec_id;
    FILE *record;
    uint64_t refusal_logged_ns;  /* when a refused connection was last logged (one line a second at most) */
    uint64_t refusals_unlogged;  /* refused since then */
    pthread_t thread;
    bool thread_started;
    atomic_int stop;
    atomic_int drop_next_report;
    atomic_int disconnect_all;
    char scratch[16384];
};

/* Writes a line to the simulator's log, if any. */
static void xlog(ht_xsim *x, const char *fmt, ...) HT_PRINTF(2, 3);
static void xlog(ht_xsim *x, const char *fmt, ...)
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

void ht_xsim_config_defaults(ht_xsim_config *cfg)
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
    *known = false;
    return false;
}

int ht_xsim_config_load(ht_xsim_config *cfg, const char *path, ht_error *err)
{
    static const char *const sections[] = {"exchange_sim", NULL};
    return ht_conf_read(path, sections, apply_xsim_key, cfg, err);
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
    ht_xsim *x = calloc(1, sizeof *x);
    if (!x) {
        ht_error_set(err, "exchange-sim: out of memory");
        return NULL;
    }
    x->cfg = *cfg;
    pthread_mutex_init(&x->lock, NULL);
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
    socklen_t alen = sizeof addr;
    getsockname(x->listen_fd, (struct sockaddr *)&addr, &alen);
    x->port = ntohs(addr.sin_port);
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

/* ---- books ---- */

/* The book of a symbol (created empty when create is set), or NULL. Caller holds the lock. */
static book *find_book(ht_xsim *x, const char *symbol, bool create)
{
    for (size_t i = 0; i < x->n_books; i++)
        if (strcmp(x->books[i].symbol, symbol) == 0)
            return &x->books[i];
    if (!create || x->n_books == HT_XSIM_MAX_SYMBOLS || strlen(symbol) >= sizeof x->books[0].symbol)
        return NULL;
    book *b = &x->books[x->n_books++];
    memset(b, 0, sizeof *b);
    strcpy(b->symbol, symbol);
    return b;
}

int ht_xsim_set_depth(ht_xsim *x, const char *symbol, bool is_bid, const ht_xsim_level *levels, size_t n)
{
    if (n > HT_XSIM_MAX_LEVELS)
        return -1;
    pthread_mutex_lock(&x->lock);
    book *b = find_book(x, symbol, true);
    if (b) {
        b->external = true;
        size_t kept = 0;
        ht_xsim_level *dst = is_bid ? b->bids : b->asks;
        for (size_t i = 0; i < n; i++)
            if (levels[i].qty > 0 && levels[i].price > 0)
                dst[kept++] = levels[i];
        if (is_bid)
            b->n_bids = kept;
        else
            b->n_asks = kept;
    }
    pthread_mutex_unlock(&x->lock);
    return b ? 0 : -1;
}

int ht_xsim_set_top(ht_xsim *x, const char *symbol, double bid_px, double bid_qty, double ask_px, double ask_qty)
{
    ht_xsim_level bid = {bid_px, bid_qty}, ask = {ask_px, ask_qty};
    if (ht_xsim_set_depth(x, symbol, true, &bid, 1) != 0)
        return -1;
    return ht_xsim_set_depth(x, symbol, false, &ask, 1);
}

int ht_xsim_set_contract(ht_xsim *x, const char *symbol, const ht_contract *contract, ht_error *err)
{
    ht_contract checked;
    if (ht_contract_set(&checked, contract->kind, contract->size, err) != 0)
        return ht_error_set(err, "exchange-sim: %s: contract size must be finite and > 0, got %g", symbol,
                            contract->size);
    pthread_mutex_lock(&x->lock);
    book *b = find_book(x, symbol, true);
    if (b) {
        b->have_contract = true;
        b->contract = checked;
    }
    pthread_mutex_unlock(&x->lock);
    return b ? 0 : ht_error_set(err, "exchange-sim: %s: no room for another symbol (%d) or the name is too long",
                                symbol, HT_XSIM_MAX_SYMBOLS);
}

/* Fills a book with the standalone levels around default_mid. */
static void standalone_book(const ht_xsim_config *c, book *b)
{
    b->n_bids = b->n_asks = c->default_levels;
    for (uint32_t i = 0; i < c->default_levels; i++) {
        b->bids[i] = (ht_xsim_level){c->default_mid - c->default_spread / 2 - i * c->default_spread, c->default_level_qty};
        b->asks[i] = (ht_xsim_level){c->default_mid + c->default_spread / 2 + i * c->default_spread, c->default_level_qty};
    }
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
    xlog(x, "capture %s: %d books loaded from %u instruments", pcap_path, loaded, ht_feed_instrument_count(feed));
    ht_feed_destroy(feed);
    if (loaded == 0)
        return ht_error_set(err, "exchange-sim: capture %s holds no complete book", pcap_path);
    return loaded;
}

void ht_xsim_get_stats(ht_xsim *x, ht_xsim_stats *out)
{
    pthread_mutex_lock(&x->lock);
    *out = x->stats;
    pthread_mutex_unlock(&x->lock);
}

void ht_xsim_debug_drop_next_report(ht_xsim *x) { atomic_store(&x->drop_next_report, 1); }
void ht_xsim_debug_disconnect(ht_xsim *x) { atomic_store(&x->disconnect_all, 1); }

/* ---- outbound ---- */

/* Starts a message to the connection's counterparty with the next sequence number. */
static void begin_out(ht_xsim *x, conn *c, ht_fix_writer *w, const char *type, uint64_t seq)
{
    ht_fix_writer_begin(w, x->scratch, sizeof x->scratch, type);
    ht_fix_put_str(w, HT_TAG_SENDER_COMP_ID, x->cfg.comp_id);
    ht_fix_put_str(w, HT_TAG_TARGET_COMP_ID, c->store->client_comp_id);
    ht_fix_put_u64(w, HT_TAG_MSG_SEQ_NUM, seq);
    ht_fix_put_time(w, HT_TAG_SENDING_TIME, ht_wall_ns());
}

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
static void transmit(ht_xsim *x, conn *c, const char *bytes, size_t len)
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

/* Finishes a message, stores it for resends under the next sequence number and transmits it. */
static void send_out(ht_xsim *x, conn *c, ht_fix_writer *w, bool app, bool withhold)
{
    size_t len;
    const char *bytes = ht_fix_writer_finish(w, &len);
    if (!bytes) {
        if (w->refused)
            xlog(x, "outbound message not sent: the value of tag %u is empty or not printable ASCII", w->refused_tag);
        return;
    }
    session_store *s = c->store;
    if (s->n_sent == s->cap_sent) {
        size_t cap = s->cap_sent ? s->cap_sent * 2 : 1024;
        stored_msg *grown = realloc(s->sent, cap * sizeof *grown);
        if (!grown)
            return;
        s->sent = grown;
        s->cap_sent = cap;
    }
    stored_msg *m = &s->sent[s->n_sent++];
    m->seq = s->next_out++;
    m->app = app;
    m->len = app ? len : 0;
    m->bytes = app ? malloc(len) : NULL;
    if (m->bytes)
        memcpy(m->bytes, bytes, len);
    if (!withhold)
        transmit(x, c, bytes, len);
    else
        xlog(x, "test hook: seq %llu withheld", (unsigned long long)m->seq);
}

/* Sends an admin message (Heartbeat, TestRequest, Logout, ResendRequest) with optional fields. */
static void send_admin(ht_xsim *x, conn *c, const char *type, const char *test_req_id, const char *text,
                       uint64_t resend_from)
{
    ht_fix_writer w;
    begin_out(x, c, &w, type, c->store->next_out);
    if (test_req_id)
        ht_fix_put_str(&w, HT_TAG_TEST_REQ_ID, test_req_id);
    if (resend_from) {
        ht_fix_put_u64(&w, HT_TAG_BEGIN_SEQ_NO, resend_from);
        ht_fix_put_u64(&w, HT_TAG_END_SEQ_NO, 0);
    }
    if (text)
        ht_fix_put_str(&w, HT_TAG_TEXT, text);
    send_out(x, c, &w, false, false);
}

/* Sends a session Reject (35=3). */
static void send_session_reject(ht_xsim *x, conn *c, uint64_t ref_seq, uint32_t tag, const char *type, int reason,
                                const char *text)
{
    ht_fix_writer w;
    begin_out(x, c, &w, "3", c->store->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, ref_seq);
    if (tag)
        ht_fix_put_u64(&w, HT_TAG_REF_TAG_ID, tag);
    ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, type);
    ht_fix_put_u64(&w, HT_TAG_SESSION_REJECT_REASON, (uint64_t)reason);
    ht_fix_put_str(&w, HT_TAG_TEXT, text);
    send_out(x, c, &w, false, false);
    pthread_mutex_lock(&x->lock);
    x->stats.session_rejects++;
    pthread_mutex_unlock(&x->lock);
}

/* Closes a connection; the session store (sequence numbers) stays for the reconnect. */
static void drop_conn(ht_xsim *x, conn *c, const char *why)
{
    if (c->fd < 0)
        return;
    xlog(x, "connection from %s (%s) closed: %s", c->store ? c->store->client_comp_id : "no logon", c->peer, why);
    close(c->fd);
    c->fd = -1;
    for (size_t i = 0; i < c->q_len; i++)
        free(c->queue[(c->q_head + i) % MAX_PENDING].bytes);
    c->q_len = 0;
    c->q_head = 0;
    c->rx_len = 0;
    c->logged_on = false;
    c->store = NULL;
}

/* ---- orders ---- */

/* FNV-1a hash of a ClOrdID. */
static uint64_t clordid_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return h;
}

/* Slot of id in an open-addressing table of cap (a power of two) entries: its own, or the empty one it would
 * take. */
static size_t clordid_slot(char *const *table, size_t cap, const char *id)
{
    size_t i = (size_t)clordid_hash(id) & (cap - 1);
    while (table[i] && strcmp(table[i], id) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

/* True when this counterparty has sent the ClOrdID before; otherwise remembers it (a hash set kept at most half
 * full; beyond MAX_CLORDIDS ids new ones are no longer remembered). */
static bool seen_clordid(session_store *s, const char *id)
{
    if (s->cap_clordids && s->clordids[clordid_slot(s->clordids, s->cap_clordids, id)])
        return true;
    if (2 * (s->n_clordids + 1) > s->cap_clordids) {
        size_t cap = s->cap_clordids ? s->cap_clordids * 2 : 1024;
        if (cap > 2 * (size_t)MAX_CLORDIDS)
            return false;
        char **grown = calloc(cap, sizeof *grown);
        if (!grown)
            return false;
        for (size_t i = 0; i < s->cap_clordids; i++)
            if (s->clordids[i])
                grown[clordid_slot(grown, cap, s->clordids[i])] = s->clordids[i];
        free(s->clordids);
        s->clordids = grown;
        s->cap_clordids = cap;
    }
    char *copy = strdup(id);
    if (!copy)
        return false;
    s->clordids[clordid_slot(s->clordids, s->cap_clordids, id)] = copy;
    s->n_clordids++;
    return false;
}

/* Fields every ExecutionReport of one order shares. */
typedef struct order_ctx {
    char clordid[64];
    char symbol[32];
    char side;
    double qty, price;     /* qty in contracts, whatever QtyType the order came with */
    double cash_qty;       /* the USD amount of a QtyType 0 (Units) order on an inverse contract, else 0 */
    uint64_t order_id;
    double cum, notional;
} order_ctx;

/* Sends one ExecutionReport for the order. */
static void send_exec(ht_xsim *x, conn *c, const order_ctx *o, char exec_type, char ord_status, double last_qty,
                      double last_px, double commission, int rej_reason, const char *text)
{
    ht_fix_writer w;
    begin_out(x, c, &w, "8", c->store->next_out);
    char id[32];
    snprintf(id, sizeof id, "X%llu", (unsigned long long)o->order_id);
    ht_fix_put_str(&w, HT_TAG_ORDER_ID, id);
    snprintf(id, sizeof id, "E%llu", (unsigned long long)++x->exec_id);
    ht_fix_put_str(&w, HT_TAG_EXEC_ID, id);
    ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, o->clordid);
    ht_fix_put_char(&w, HT_TAG_EXEC_TYPE, exec_type);
    ht_fix_put_char(&w, HT_TAG_ORD_STATUS, ord_status);
    ht_fix_put_str(&w, HT_TAG_SYMBOL, o->symbol);
    ht_fix_put_char(&w, HT_TAG_SIDE, o->side);
    ht_fix_put_decimal(&w, HT_TAG_ORDER_QTY, o->qty, 8); /* contracts, as Deribit reports */
    if (o->cash_qty > 0)
        ht_fix_put_decimal(&w, HT_TAG_CASH_ORDER_QTY, o->cash_qty, 8);
    ht_fix_put_char(&w, HT_TAG_ORD_TYPE, '2');
    ht_fix_put_decimal(&w, HT_TAG_PRICE, o->price, 8);
    ht_fix_put_char(&w, HT_TAG_TIME_IN_FORCE, '3');
    if (exec_type == 'F') {
        ht_fix_put_decimal(&w, HT_TAG_LAST_QTY, last_qty, 8);
        ht_fix_put_decimal(&w, HT_TAG_LAST_PX, last_px, 8);
        if (commission >= 0) { /* absolute, in the settlement currency (docs/units.md); absent when unknown */
            ht_fix_put_decimal(&w, HT_TAG_COMMISSION, commission, 9);
            ht_fix_put_char(&w, HT_TAG_COMM_TYPE, '3');
        }
    }
    ht_fix_put_decimal(&w, HT_TAG_CUM_QTY, o->cum, 8);
    ht_fix_put_decimal(&w, HT_TAG_LEAVES_QTY, exec_type == '0' || ord_status == '1' ? o->qty - o->cum : 0, 8);
    ht_fix_put_decimal(&w, HT_TAG_AVG_PX, o->cum > 0 ? o->notional / o->cum : 0, 8);
    if (rej_reason >= 0)
        ht_fix_put_u64(&w, HT_TAG_ORD_REJ_REASON, (uint64_t)rej_reason);
    if (text)
        ht_fix_put_str(&w, HT_TAG_TEXT, text);
    ht_fix_put_time(&w, HT_TAG_TRANSACT_TIME, ht_wall_ns());
    bool withhold = atomic_exchange(&x->drop_next_report, 0) != 0;
    send_out(x, c, &w, true, withhold);
}

/* Appends the order's line to the record: what was received and what became of it. */
static void record_order(ht_xsim *x, const conn *c, uint64_t seq, const order_ctx *o, const char *status)
{
    if (!x->record)
        return;
    fprintf(x->record, "%s,%llu,%s,%s,%c,%.10g,%.10g,%s\n", c->store->client_comp_id, (unsigned long long)seq,
            o->clordid, o->symbol, o->side ? o->side : '?', o->qty, o->price, status);
    fflush(x->record);
}

/* Matches an IOC limit order against the book, records the outcome (filled, partial: the rest canceled,
 * canceled: nothing matched, rejected: unknown symbol) before any report leaves, and reports New, Trade(s) and
 * the cancel of any rest. */
static void match_order(ht_xsim *x, conn *c, order_ctx *o, uint64_t seq)
{
    struct { double px, qty; } fills[HT_XSIM_MAX_LEVELS * 4];
    size_t n_fills = 0;
    pthread_mutex_lock(&x->lock);
    book *b = find_book(x, o->symbol, x->cfg.default_mid > 0);
    if (b && !b->external && !(x->cfg.default_mid > 0))
        b = NULL; /* only a contract was set: no book to trade against */
    bool known = b != NULL;
    ht_contract contract = b && b->have_contract ? b->contract : (ht_contract){HT_CONTRACT_LINEAR, 0.0};
    if (b && !b->external)
        standalone_book(&x->cfg, b);
    if (b) {
        bool buy = o->side == '1';
        ht_xsim_level *lv = buy ? b->asks : b->bids;
        size_t *n = buy ? &b->n_asks : &b->n_bids;
        double left = o->qty;
        size_t i = 0;
        while (i < *n && left > 1e-12 && (buy ? lv[i].price <= o->price : lv[i].price >= o->price)) {
            double take = left < lv[i].qty ? left : lv[i].qty;
            left -= take;
            lv[i].qty -= take;
            while (take > 1e-12 && n_fills < HT_ARRAY_LEN(fills)) {
                double piece = x->cfg.max_fill_qty > 0 && take > x->cfg.max_fill_qty ? x->cfg.max_fill_qty : take;
                fills[n_fills].px = lv[i].price;
                fills[n_fills].qty = piece;
                n_fills++;
                take -= piece;
            }
            if (lv[i].qty <= 1e-12)
                i++;
        }
        /* Remove emptied levels from an external (depleting) book. */
        if (b->external && i) {
            memmove(lv, lv + i, (*n - i) * sizeof *lv);
            *n -= i;
        }
    }
    x->stats.orders++;
    if (!known)
        x->stats.rejects++;
    pthread_mutex_unlock(&x->lock);
    o->order_id = ++x->order_id;
    double will_fill = 0;
    for (size_t i = 0; i < n_fills; i++)
        will_fill += fills[i].qty;
    record_order(x, c, seq, o, !known ? "rejected" : will_fill >= o->qty - 1e-9 ? "filled"
                                                   : will_fill > 0 ? "partial" : "canceled");
    if (!known) {
        send_exec(x, c, o, '8', '8', 0, 0, 0, 1, "unknown symbol");
        return;
    }
    send_exec(x, c, o, '0', '0', 0, 0, 0, -1, NULL);
    double fee_total = 0;
    for (size_t i = 0; i < n_fills; i++) {
        o->cum += fills[i].qty;
        o->notional += fills[i].qty * fills[i].px;
        double fee = contract.size > 0
                         ? ht_units_fee_settlement(&contract, fills[i].qty, fills[i].px, x->cfg.fee_bps / 1e4)
                         : -1.0;
        fee_total += fee > 0 ? fee : 0;
        bool done = o->cum >= o->qty - 1e-9;
        send_exec(x, c, o, 'F', done ? '2' : '1', fills[i].qty, fills[i].px, fee, -1, NULL);
    }
    if (o->cum < o->qty - 1e-9)
        send_exec(x, c, o, '4', '4', 0, 0, 0, -1, o->cum > 0 ? "IOC remainder canceled" : "IOC: nothing to match");
    pthread_mutex_lock(&x->lock);
    x->stats.executions += n_fills;
    x->stats.filled_qty += o->cum;
    pthread_mutex_unlock(&x->lock);
    (void)fee_total;
}

/* Copies an inbound string field into out (capacity cap) when it holds 1..cap-1 bytes of the grammar; otherwise
 * answers with a session Reject (373=6, incorrect data format) naming the tag, the byte and its offset, and returns
 * false. An absent field is left empty (true): required tags are checked by the callers. What the simulator echoes
 * back (ClOrdID, Symbol, TestReqID) is thus always a value that encodes as exactly one field. */
static bool inbound_value(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, const char *type, uint32_t tag,
                          const char *name, ht_fix_grammar grammar, char *out, size_t cap)
{
    size_t len = 0;
    const char *v = ht_fix_get(m, tag, &len);
    out[0] = '\0';
    if (!v)
        return true;
    ht_error bad;
    if (ht_fix_check_value(name, v, len, grammar, 1, cap - 1, &bad) != 0) {
        xlog(x, "seq %llu rejected: %s", (unsigned long long)seq, bad.msg);
        send_session_reject(x, c, seq, tag, type, 6, bad.msg);
        return false;
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

/* Turns the order's OrderQty into contracts as Deribit does with QtyType (854): absent or 1 (Contracts), OrderQty
 * is contracts of the ContractMultiplier; 0 (Units), it is USD for inverse futures and perpetuals, coins for
 * linear ones and options, converted to contracts (docs/units.md). Returns NULL, or why the order is rejected. */
static const char *qty_to_contracts(ht_xsim *x, const ht_fix_msg *m, order_ctx *o)
{
    size_t len;
    const char *qty_type = ht_fix_get(m, HT_TAG_QTY_TYPE, &len);
    if (!qty_type || (len == 1 && qty_type[0] == '1'))
        return NULL;
    if (len != 1 || qty_type[0] != '0')
        return "QtyType (854) must be 0 (Units) or 1 (Contracts)";
    pthread_mutex_lock(&x->lock);
    const book *b = find_book(x, o->symbol, false);
    ht_contract c = b && b->have_contract ? b->contract : (ht_contract){HT_CONTRACT_LINEAR, 0.0};
    pthread_mutex_unlock(&x->lock);
    if (!(c.size > 0))
        return "QtyType 0 (Units) needs the instrument's contract size, which the simulator does not know";
    if (c.kind == HT_CONTRACT_INVERSE)
        o->cash_qty = o->qty;
    o->qty = ht_units_amount_to_contracts(&c, o->qty);
    return NULL;
}

/* Handles a NewOrderSingle. */
/* The first tag that appears twice in a message (a NewOrderSingle has no repeating group), or 0. */
static uint32_t repeated_tag(const ht_fix_msg *m)
{
    for (uint32_t i = 1; i < m->n_fields; i++)
        for (uint32_t k = 0; k < i; k++)
            if (m->fields[k].tag == m->fields[i].tag)
                return m->fields[i].tag;
    return 0;
}

static void on_new_order(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, bool poss_dup)
{
    static const uint32_t required[] = {HT_TAG_CL_ORD_ID, HT_TAG_SYMBOL, HT_TAG_SIDE, HT_TAG_ORDER_QTY, HT_TAG_ORD_TYPE};
    for (size_t i = 0; i < HT_ARRAY_LEN(required); i++)
        if (!ht_fix_find(m, required[i])) {
            char why[80];
            snprintf(why, sizeof why, "required tag %u missing", required[i]);
            send_session_reject(x, c, seq, required[i], "D", 1, why);
            return;
        }
    /* "38=1|...|38=999" is two orders to two readers (the first value here, the last elsewhere): none is taken. */
    uint32_t twice = repeated_tag(m);
    if (twice) {
        char why[80];
        snprintf(why, sizeof why, "tag %u appears more than once", twice);
        xlog(x, "seq %llu rejected: %s", (unsigned long long)seq, why);
        send_session_reject(x, c, seq, twice, "D", 13, why);
        return;
    }
    order_ctx o;
    memset(&o, 0, sizeof o);
    if (!inbound_value(x, c, m, seq, "D", HT_TAG_CL_ORD_ID, "ClOrdID (11)", HT_FIX_GRAMMAR_ID, o.clordid,
                       sizeof o.clordid) ||
        !inbound_value(x, c, m, seq, "D", HT_TAG_SYMBOL, "Symbol (55)", HT_FIX_GRAMMAR_INSTRUMENT, o.symbol,
                       sizeof o.symbol))
        return;
    o.side = ht_fix_get_char(m, HT_TAG_SIDE);
    bool qty_ok = ht_fix_get_double(m, HT_TAG_ORDER_QTY, &o.qty) && o.qty > 0;
    const char *bad_qty_type = qty_ok ? qty_to_contracts(x, m, &o) : NULL;
    bool px_ok = ht_fix_get_double(m, HT_TAG_PRICE, &o.price) && o.price > 0;
    char tif = ht_fix_get_char(m, HT_TAG_TIME_IN_FORCE);
    bool dup = seen_clordid(c->store, o.clordid);
    if (dup) {
        record_order(x, c, seq, &o, poss_dup ? "possdup" : "duplicate");
        if (poss_dup)
            return; /* a resend of an order already handled */
        pthread_mutex_lock(&x->lock);
        x->stats.orders++;
        x->stats.rejects++;
        pthread_mutex_unlock(&x->lock);
        send_exec(x, c, &o, '8', '8', 0, 0, 0, 6, "duplicate ClOrdID");
        return;
    }
    const char *bad = NULL;
    if (o.side != '1' && o.side != '2')
        bad = "Side must be 1 (buy) or 2 (sell)";
    else if (!qty_ok)
        bad = "OrderQty must be a positive number";
    else if (bad_qty_type)
        bad = bad_qty_type;
    else if (ht_fix_get_char(m, HT_TAG_ORD_TYPE) != '2' || !px_ok)
        bad = "only limit orders (40=2) with a positive Price are accepted";
    else if (tif != '3')
        bad = "only immediate-or-cancel orders (59=3) are accepted";
    if (bad) {
        pthread_mutex_lock(&x->lock);
        x->stats.orders++;
        x->stats.rejects++;
        pthread_mutex_unlock(&x->lock);
        o.order_id = ++x->order_id;
        record_order(x, c, seq, &o, "rejected");
        send_exec(x, c, &o, '8', '8', 0, 0, 0, 99, bad);
        return;
    }
    match_order(x, c, &o, seq);
}

/* Answers a client's ResendRequest from the store: application messages resent, admin gap-filled. */
static void answer_resend(ht_xsim *x, conn *c, uint64_t begin, uint64_t end)
{
    session_store *s = c->store;
    if (end == 0 || end >= s->next_out)
        end = s->next_out - 1;
    pthread_mutex_lock(&x->lock);
    x->stats.resend_requests++;
    pthread_mutex_unlock(&x->lock);
    xlog(x, "%s asked for a resend of %llu..%llu", s->client_comp_id, (unsigned long long)begin,
         (unsigned long long)end);
    uint64_t gap = 0;
    for (size_t i = 0; i < s->n_sent; i++) {
        stored_msg *m = &s->sent[i];
        if (m->seq < begin || m->seq > end)
            continue;
        if (!m->app) {
            if (!gap)
                gap = m->seq;
            continue;
        }
        ht_fix_writer w;
        if (gap) {
            begin_out(x, c, &w, "4", gap);
            ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
            ht_fix_put_char(&w, HT_TAG_GAP_FILL_FLAG, 'Y');
            ht_fix_put_u64(&w, HT_TAG_NEW_SEQ_NO, m->seq);
            size_t len;
            const char *b = ht_fix_writer_finish(&w, &len);
            if (b)
                transmit(x, c, b, len);
            gap = 0;
        }
        ht_fix_msg orig;
        size_t used;
        if (ht_fix_parse(m->bytes, m->len, HT_FIX_HARD_MAX_MSG, &orig, &used, NULL) != HT_FIX_PARSE_OK)
            continue;
        begin_out(x, c, &w, orig.msg_type, m->seq);
        ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
        size_t tl;
        const char *t = ht_fix_get(&orig, HT_TAG_SENDING_TIME, &tl);
        if (t)
            ht_fix_put_bytes(&w, HT_TAG_ORIG_SENDING_TIME, t, tl);
        for (uint32_t f = 0; f < orig.n_fields; f++) {
            uint32_t tag = orig.fields[f].tag;
            if (tag == HT_TAG_MSG_TYPE || tag == HT_TAG_SENDER_COMP_ID || tag == HT_TAG_TARGET_COMP_ID ||
                tag == HT_TAG_MSG_SEQ_NUM || tag == HT_TAG_SENDING_TIME)
                continue;
            ht_fix_put_bytes(&w, tag, orig.buf + orig.fields[f].off, orig.fields[f].len);
        }
        size_t len;
        const char *b = ht_fix_writer_finish(&w, &len);
        if (b)
            transmit(x, c, b, len);
    }
    if (gap) {
        ht_fix_writer w;
        begin_out(x, c, &w, "4", gap);
        ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
        ht_fix_put_char(&w, HT_TAG_GAP_FILL_FLAG, 'Y');
        ht_fix_put_u64(&w, HT_TAG_NEW_SEQ_NO, end + 1);
        size_t len;
        const char *b = ht_fix_writer_finish(&w, &len);
        if (b)
            transmit(x, c, b, len);
    }
}

/* The session store of a counterparty, created on its first logon. */
/* Frees what a session store holds (its stored messages and ClOrdIDs). */
static void free_store(session_store *s)
{
    for (size_t k = 0; k < s->n_sent; k++)
        free(s->sent[k].bytes);
    free(s->sent);
    for (size_t k = 0; k < s->cap_clordids; k++)
        free(s->clordids[k]);
    free(s->clordids);
}

/* The store to reuse when the table is full: the one logged on longest ago among those no connection uses. */
static session_store *oldest_idle_store(ht_xsim *x)
{
    session_store *oldest = NULL;
    for (size_t i = 0; i < x->n_stores; i++) {
        bool in_use = false;
        for (size_t k = 0; k < HT_XSIM_MAX_CONNECTIONS && !in_use; k++)
            in_use = x->conns[k].fd >= 0 && x->conns[k].store == &x->stores[i];
        if (!in_use && (!oldest || x->stores[i].last_logon_ns < oldest->last_logon_ns))
            oldest = &x->stores[i];
    }
    return oldest;
}

static session_store *store_for(ht_xsim *x, const char *comp_id)
{
    for (size_t i = 0; i < x->n_stores; i++)
        if (strcmp(x->stores[i].client_comp_id, comp_id) == 0)
            return &x->stores[i];
    session_store *s;
    if (x->n_stores < HT_XSIM_MAX_SESSIONS) {
        s = &x->stores[x->n_stores++];
    } else {
        /* Full: a counterparty that is gone makes room (eight CompIDs that logged on once locked every new one
         * out until a restart). Only when all are connected is the logon refused. */
        s = oldest_idle_store(x);
        if (!s)
            return NULL;
        xlog(x, "session of %s forgotten (idle; %d counterparties are known) for %s", s->client_comp_id,
             HT_XSIM_MAX_SESSIONS, comp_id);
        free_store(s);
    }
    memset(s, 0, sizeof *s);
    snprintf(s->client_comp_id, sizeof s->client_comp_id, "%s", comp_id);
    s->next_in = 1;
    s->next_out = 1;
    return s;
}

/* Checks the Deribit logon proof: 554 == base64(sha256(96 || secret)) and 553 == client_id. */
static bool auth_ok(const ht_xsim *x, const ht_fix_msg *m)
{
    if (!x->cfg.client_secret[0])
        return true;
    size_t raw_len, user_len, pw_len;
    const char *raw = ht_fix_get(m, HT_TAG_RAW_DATA, &raw_len);
    const char *user = ht_fix_get(m, HT_TAG_USERNAME, &user_len);
    const char *pw = ht_fix_get(m, HT_TAG_PASSWORD, &pw_len);
    if (!raw || !user || !pw || user_len != strlen(x->cfg.client_id) || memcmp(user, x->cfg.client_id, user_len) != 0)
        return false;
    ht_sha256 h;
    ht_sha256_init(&h);
    ht_sha256_update(&h, raw, raw_len);
    ht_sha256_update(&h, x->cfg.client_secret, strlen(x->cfg.client_secret));
    uint8_t digest[HT_SHA256_DIGEST_BYTES];
    ht_sha256_final(&h, digest);
    char expect[48];
    size_t n = ht_base64_encode(digest, sizeof digest, expect);
    return n == pw_len && memcmp(expect, pw, n) == 0;
}

/* Answers a refused Logon with a Logout (sequence number 1 of a throwaway store: the refused peer's session, if
 * it has one, is left as it was) and closes the connection. */
static void refuse_logon(ht_xsim *x, conn *c, const char *sender, const char *text)
{
    session_store scratch;
    memset(&scratch, 0, sizeof scratch);
    snprintf(scratch.client_comp_id, sizeof scratch.client_comp_id, "%s", sender);
    scratch.next_in = scratch.next_out = 1;
    c->store = &scratch;
    send_admin(x, c, "5", NULL, text, 0);
    drop_conn(x, c, text);
    free(scratch.sent);
}

/* Handles one inbound message on a connection. */
static void on_message(ht_xsim *x, conn *c, const ht_fix_msg *m)
{
    uint64_t seq = 0;
    const char *type = m->msg_type;
    if (!ht_fix_get_u64(m, HT_TAG_MSG_SEQ_NUM, &seq) || seq == 0) {
        drop_conn(x, c, "message without MsgSeqNum");
        return;
    }
    if (!c->logged_on) {
        char sender[32] = "";
        size_t sender_len = 0;
        const char *raw_sender = ht_fix_get(m, HT_TAG_SENDER_COMP_ID, &sender_len);
        if (strcmp(type, "A") != 0 || !raw_sender || !ht_fix_field_is(m, HT_TAG_TARGET_COMP_ID, x->cfg.comp_id)) {
            drop_conn(x, c, "first message is not a Logon to this CompID");
            return;
        }
        /* The sender becomes TargetCompID (56) of every answer: it must be an identifier that fits. */
        ht_error bad;
        if (ht_fix_check_value("Logon SenderCompID (49)", raw_sender, sender_len, HT_FIX_GRAMMAR_ID, 1,
                               sizeof sender - 1, &bad) != 0) {
            xlog(x, "logon refused: %s", bad.msg);
            drop_conn(x, c, "bad SenderCompID");
            return;
        }
        memcpy(sender, raw_sender, sender_len);
        /* Credentials first: a refused logon must not touch the session it names (its connection, its
         * sequence numbers). */
        if (!auth_ok(x, m)) {
            xlog(x, "logon from %s (%s) refused: bad credentials", sender, c->peer);
            refuse_logon(x, c, sender, "invalid credentials");
            return;
        }
        c->store = store_for(x, sender);
        if (!c->store) {
            xlog(x, "logon from %s (%s) refused: %d counterparties are connected already", sender, c->peer,
                 HT_XSIM_MAX_SESSIONS);
            refuse_logon(x, c, sender, "too many sessions");
            return;
        }
        for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++)
            if (&x->conns[i] != c && x->conns[i].fd >= 0 && x->conns[i].store == c->store)
                drop_conn(x, &x->conns[i], "replaced by a new logon");
        if (ht_fix_get_char(m, HT_TAG_RESET_SEQ_NUM_FLAG) == 'Y') {
            c->store->next_in = 1;
            c->store->next_out = 1;
            /* The stored messages go with their sequence numbers (they leaked at every reset before). */
            for (size_t k = 0; k < c->store->n_sent; k++)
                free(c->store->sent[k].bytes);
            c->store->n_sent = 0;
        }
        uint64_t hb = 30;
        ht_fix_get_u64(m, HT_TAG_HEART_BT_INT, &hb);
        c->heartbeat_s = hb >= 1 && hb <= 3600 ? (uint32_t)hb : 30;
        c->logged_on = true;
        c->store->last_logon_ns = ht_mono_ns();
        pthread_mutex_lock(&x->lock);
        x->stats.logons++;
        pthread_mutex_unlock(&x->lock);
        ht_fix_writer w;
        begin_out(x, c, &w, "A", c->store->next_out);
        ht_fix_put_u64(&w, HT_TAG_ENCRYPT_METHOD, 0);
        ht_fix_put_u64(&w, HT_TAG_HEART_BT_INT, c->heartbeat_s);
        if (ht_fix_get_char(m, HT_TAG_RESET_SEQ_NUM_FLAG) == 'Y')
            ht_fix_put_char(&w, HT_TAG_RESET_SEQ_NUM_FLAG, 'Y');
        send_out(x, c, &w, false, false);
        xlog(x, "logon from %s, seq %llu (expected %llu)", sender, (unsigned long long)seq,
             (unsigned long long)c->store->next_in);
    }
    session_store *s = c->store;
    bool poss_dup = ht_fix_get_char(m, HT_TAG_POSS_DUP_FLAG) == 'Y';
    bool reset = strcmp(type, "4") == 0 && ht_fix_get_char(m, HT_TAG_GAP_FILL_FLAG) != 'Y';
    if (seq < s->next_in && !reset) {
        if (poss_dup)
            return;
        char why[96];
        snprintf(why, sizeof why, "MsgSeqNum too low, expecting %llu but received %llu", (unsigned long long)s->next_in,
                 (unsigned long long)seq);
        send_admin(x, c, "5", NULL, why, 0);
        drop_conn(x, c, why);
        return;
    }
    if (seq > s->next_in && !reset) {
        if (!c->resend_pending) {
            c->resend_pending = true;
            send_admin(x, c, "2", NULL, NULL, s->next_in);
        }
        if (strcmp(type, "2") == 0) {
            uint64_t b = 0, e = 0;
            ht_fix_get_u64(m, HT_TAG_BEGIN_SEQ_NO, &b);
            ht_fix_get_u64(m, HT_TAG_END_SEQ_NO, &e);
            answer_resend(x, c, b, e);
        }
        return;
    }
    if (strcmp(type, "4") == 0) {
        uint64_t new_seq = 0;
        if (ht_fix_get_u64(m, HT_TAG_NEW_SEQ_NO, &new_seq) && new_seq > s->next_in)
            s->next_in = new_seq;
        else if (!reset)
            s->next_in = seq + 1;
        c->resend_pending = false;
        return;
    }
    s->next_in = seq + 1;
    c->resend_pending = false;
    if (strcmp(type, "A") == 0 || strcmp(type, "0") == 0) {
        return;
    } else if (strcmp(type, "1") == 0) {
        char id[64] = "";
        if (inbound_value(x, c, m, seq, "1", HT_TAG_TEST_REQ_ID, "TestReqID (112)", HT_FIX_GRAMMAR_TEXT, id, sizeof id))
            send_admin(x, c, "0", id[0] ? id : NULL, NULL, 0);
    } else if (strcmp(type, "2") == 0) {
        uint64_t b = 0, e = 0;
        if (!ht_fix_get_u64(m, HT_TAG_BEGIN_SEQ_NO, &b) || !ht_fix_get_u64(m, HT_TAG_END_SEQ_NO, &e) || b == 0)
            send_session_reject(x, c, seq, HT_TAG_BEGIN_SEQ_NO, "2", 1, "bad ResendRequest");
        else
            answer_resend(x, c, b, e);
    } else if (strcmp(type, "5") == 0) {
        send_admin(x, c, "5", NULL, "bye", 0);
        drop_conn(x, c, "logout");
    } else if (strcmp(type, "D") == 0) {
        on_new_order(x, c, m, seq, poss_dup);
    } else if (strcmp(type, "F") == 0) {
        /* Every order is immediate-or-cancel: by the time a cancel arrives it is done. */
        char id[64], orig[64];
        if (!inbound_value(x, c, m, seq, "F", HT_TAG_CL_ORD_ID, "ClOrdID (11)", HT_FIX_GRAMMAR_ID, id, sizeof id) ||
            !inbound_value(x, c, m, seq, "F", HT_TAG_ORIG_CL_ORD_ID, "OrigClOrdID (41)", HT_FIX_GRAMMAR_ID, orig,
                           sizeof orig))
            return;
        if (!id[0] || !orig[0]) {
            send_session_reject(x, c, seq, id[0] ? HT_TAG_ORIG_CL_ORD_ID : HT_TAG_CL_ORD_ID, "F", 1,
                                "required tag missing");
            return;
        }
        ht_fix_writer w;
        begin_out(x, c, &w, "9", s->next_out);
        ht_fix_put_str(&w, HT_TAG_ORDER_ID, "NONE");
        ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, id);
        ht_fix_put_str(&w, HT_TAG_ORIG_CL_ORD_ID, orig);
        ht_fix_put_char(&w, HT_TAG_ORD_STATUS, '4');
        ht_fix_put_char(&w, HT_TAG_CXL_REJ_RESPONSE_TO, '1');
        ht_fix_put_u64(&w, HT_TAG_CXL_REJ_REASON, 0);
        ht_fix_put_str(&w, HT_TAG_TEXT, "too late to cancel: IOC orders are done on arrival");
        send_out(x, c, &w, true, false);
    } else {
        ht_fix_writer w;
        begin_out(x, c, &w, "j", s->next_out);
        ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, seq);
        char shown_type[8];
        ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, ht_fix_printable(type, strlen(type), shown_type, sizeof shown_type));
        ht_fix_put_u64(&w, HT_TAG_BUSINESS_REJECT_REASON, 3);
        ht_fix_put_str(&w, HT_TAG_TEXT, "unsupported message type");
        send_out(x, c, &w, true, false);
        pthread_mutex_lock(&x->lock);
        x->stats.session_rejects++;
        pthread_mutex_unlock(&x->lock);
    }
}

/* Closes a peer that broke a rule (no Logon in time, too much garbage) and counts it. */
static void close_peer(ht_xsim *x, conn *c, const char *why)
{
    pthread_mutex_lock(&x->lock);
    x->stats.closed_peers++;
    pthread_mutex_unlock(&x->lock);
    drop_conn(x, c, why);
}

/* Reads and handles what a connection has. */
static void service_conn(ht_xsim *x, conn *c)
{
    ssize_t got = recv(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        drop_conn(x, c, got == 0 ? "peer closed" : strerror(errno));
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
            xlog(x, "malformed message from %s ignored: %s", c->peer, err.msg);
            if (++c->bad_in_a_row >= x->cfg.max_bad_messages) {
                if (c->logged_on)
                    send_admin(x, c, "5", NULL, "too many malformed messages", 0);
                close_peer(x, c, "malformed messages in a row: the limit (max_bad_messages) is reached");
            }
            continue;
        }
        c->bad_in_a_row = 0;
        on_message(x, c, &m);
    }
    if (c->fd >= 0) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
        if (c->rx_len == RX_CAP)
            drop_conn(x, c, "receive buffer full");
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
    xlog(x, "connection from %s refused: %zu of %u connections in use (max_connections), %zu of them not logged on "
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
        close(fd);
        log_refusal(x, peer, in_use, waiting);
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
        xlog(x, "connection from %s refused: out of memory", peer);
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
    xlog(x, "listening on %s:%u as %s", x->cfg.bind_host, x->port, x->cfg.comp_id);
    uint64_t logon_timeout_ns = (uint64_t)x->cfg.logon_timeout_ms * 1000000u;
    while (!atomic_load(&x->stop) && !(stop && *stop)) {
        if (atomic_exchange(&x->disconnect_all, 0))
            for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++)
                drop_conn(x, &x->conns[i], "test hook: forced disconnect");
        struct pollfd fds[HT_XSIM_MAX_CONNECTIONS + 1];
        conn *which[HT_XSIM_MAX_CONNECTIONS + 1];
        nfds_t n = 0;
        fds[n] = (struct pollfd){x->listen_fd, POLLIN, 0};
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
                send_admin(x, c, "0", NULL, NULL, 0);
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
        for (nfds_t i = 1; i < n; i++)
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
        drop_conn(x, &x->conns[i], "shutdown");
        free(x->conns[i].rx);
        free(x->conns[i].queue);
    }
    for (size_t i = 0; i < x->n_stores; i++)
        free_store(&x->stores[i]);
    if (x->listen_fd >= 0)
        close(x->listen_fd);
    if (x->record)
        fclose(x->record);
    pthread_mutex_destroy(&x->lock);
    explicit_bzero(x->cfg.client_secret, sizeof x->cfg.client_secret);
    free(x);
}
