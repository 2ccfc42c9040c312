/* SPDX-License-Identifier: MIT */
/* The FIX 4.4 initiator: session layer, order path, journal replay and resend, inventory and kill switch. */
#include "hedgetrig/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_process.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/tsc.h"

/* Journal record types (payload layouts in docs/gateway.md). */
enum {
    JREC_HEADER = 1,   /* "sender\0target\0session\0" (journals before session tags end after target) */
    JREC_OUT = 2,      /* u64 seq, u64 clordid, u8 kind, [message bytes for orders and cancels] */
    JREC_IN = 3,       /* jrec_in */
    JREC_RESERVE = 4,  /* u64: ClOrdIDs below this number are used */
    JREC_SEQ_RESET = 5,/* u64 next_out, u64 next_in */
    JREC_VOID = 6,     /* u64 clordid: gap-filled, never reached the venue */
};

/* Inbound record: enough to rebuild positions and open orders. */
typedef struct jrec_in {
    uint64_t seq;
    uint64_t clordid;
    double last_qty;
    double last_px;
    double cum_qty;
    char msg_type[2];
    char exec_type;
    char ord_status;
    int8_t side; /* +1 / -1 / 0 */
    char symbol[HT_GW_SYMBOL_BYTES];
} jrec_in;

#define CLORDID_BLOCK 1024
#define RX_CAP (1u << 21)
#define TX_CAP (1u << 20)
#define OUT_INDEX_INITIAL 4096
#define MAX_BAD_IN_A_ROW 50
#define SESSION_TAG_CHARS 12 /* 7 base-32 digits of the creation second, 5 of random bits */

typedef struct instrument {
    char symbol[HT_GW_SYMBOL_BYTES];
    size_t symbol_len;
    double position;
    double open_buy;  /* open quantity, >= 0 */
    double open_sell; /* open quantity, >= 0 */
} instrument;

typedef struct open_order {
    uint64_t clordid;   /* 0 = free slot */
    uint64_t seq;
    int inst;
    int8_t side;
    double qty;
    double price;
    double cum_qty;
} open_order;

/* Where an outbound message of a sequence number lives in the journal. */
typedef struct out_entry {
    uint64_t seq;
    uint64_t clordid;
    uint64_t offset;  /* record offset; 0 with len 0 for admin messages */
    uint32_t len;     /* message bytes */
    char kind;        /* 'A' admin, 'D' order, 'F' cancel */
} out_entry;

struct ht_gw {
    ht_gw_config cfg;
    ht_journal *journal;
    ht_risk *risk;
    ht_fix_nos_encoder nos;
    FILE *log;
    bool own_log;
    uint64_t risk_clock_ns; /* the risk windows' clock when set (ht_gw_set_risk_clock), else 0 */
    char session_tag[SESSION_TAG_CHARS + 1]; /* the journal's ClOrdID session tag ("" in an old journal) */
    char clordid_head[40];  /* clordid_prefix + session_tag + '-' (just the prefix in an old journal) */
    size_t clordid_head_len;
    char last_problem[512]; /* why the session last went down or was refused, with the remedy when known */
    int pid_fd;             /* the locked pid file next to the journal (-1 before it is taken) */
    char pid_path[272];     /* <journal>.pid */

    ht_gw_state state;
    int fd;
    uint64_t next_out;
    uint64_t next_in;
    uint64_t next_clordid;
    uint64_t reserved_clordid;
    uint64_t orders_journaled;

    /* timers, CLOCK_MONOTONIC ns */
    uint64_t state_since_ns;
    uint64_t reconnect_at_ns;
    uint32_t reconnect_delay_ms;
    uint32_t failed_attempts;
    uint64_t last_rx_ns;
    uint64_t last_tx_ns;
    uint64_t test_req_sent_ns;
    uint64_t test_req_counter;
    uint64_t kill_check_ns;
    sig_atomic_t kill_signals_seen; /* g_kill_signal when this gateway last engaged or was rearmed */
    uint32_t heartbeat_s; /* negotiated */

    bool resend_pending;
    uint64_t resend_until;
    uint64_t resend_asked_ns;
    uint32_t bad_in_a_row;
    bool logon_answered;
    bool debug_skip_out;
    bool debug_drop_in;
    ht_gw_crash_point crash_at; /* ht_gw_debug_crash_at: the armed point, and arrivals left before SIGKILL */
    uint64_t crash_countdown;

    instrument inst[HT_GW_MAX_INSTRUMENTS];
    int n_inst;
    open_order orders[HT_GW_MAX_OPEN_ORDERS];
    size_t n_open;

    out_entry *out_index;
    size_t out_count;
    size_t out_cap;

    ht_gw_fill_fn fill_fn;
    void *fill_user;

    char *rx;
    size_t rx_len;
    char *tx;
    size_t tx_len;
    char scratch[8192];
    char nos_buf[HT_FIX_NOS_BUFFER_BYTES];
};

/* Kill signals received so far (the handler only counts; each gateway compares with the count it acted on), and
 * the pid that sent the last one. */
static volatile sig_atomic_t g_kill_signal;
static volatile sig_atomic_t g_kill_sender;

const char *ht_gw_state_name(ht_gw_state state)
{
    static const char *const names[] = {"disconnected", "connecting", "logon-sent", "active", "logout-sent", "stopped"};
    return (unsigned)state < HT_ARRAY_LEN(names) ? names[state] : "unknown";
}

/* Writes one timestamped line to the session log. */
static void gw_log(ht_gw *gw, const char *fmt, ...) HT_PRINTF(2, 3);
static void gw_log(ht_gw *gw, const char *fmt, ...)
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
static ht_gw_event *push_event(ht_gw_event *ev, int max, int *n, ht_gw_event_type type)
{
    if (!ev || *n >= max)
        return NULL;
    ht_gw_event *e = &ev[(*n)++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->recv_tsc = ht_tsc_now();
    return e;
}

/* Index of an instrument, creating it when create is set; -1 when unknown or the table is full. */
static int find_instrument(ht_gw *gw, const char *symbol, size_t len, bool create)
{
    for (int i = 0; i < gw->n_inst; i++)
        if (gw->inst[i].symbol_len == len && memcmp(gw->inst[i].symbol, symbol, len) == 0)
            return i;
    if (!create || gw->n_inst == HT_GW_MAX_INSTRUMENTS || len == 0 || len >= HT_GW_SYMBOL_BYTES)
        return -1;
    instrument *in = &gw->inst[gw->n_inst];
    memset(in, 0, sizeof *in);
    memcpy(in->symbol, symbol, len);
    in->symbol_len = len;
    return gw->n_inst++;
}

/* The open order with this ClOrdID number, or NULL. */
static open_order *find_order(ht_gw *gw, uint64_t clordid)
{
    if (!clordid)
        return NULL;
    for (size_t i = 0; i < HT_GW_MAX_OPEN_ORDERS; i++)
        if (gw->orders[i].clordid == clordid)
            return &gw->orders[i];
    return NULL;
}

/* Records a new open order and its quantity on the instrument's side. */
static void add_order(ht_gw *gw, uint64_t clordid, uint64_t seq, int inst, int side, double qty, double price)
{
    for (size_t i = 0; i < HT_GW_MAX_OPEN_ORDERS; i++) {
        open_order *o = &gw->orders[i];
        if (o->clordid == 0) {
            *o = (open_order){clordid, seq, inst, (int8_t)side, qty, price, 0};
            if (side > 0)
                gw->inst[inst].open_buy += qty;
            else
                gw->inst[inst].open_sell += qty;
            gw->n_open++;
            return;
        }
    }
}

/* Forgets an open order and releases what is left of its quantity. */
static void remove_order(ht_gw *gw, open_order *o)
{
    double left = o->qty - o->cum_qty;
    if (left < 0)
        left = 0;
    instrument *in = &gw->inst[o->inst];
    if (o->side > 0)
        in->open_buy = in->open_buy > left ? in->open_buy - left : 0;
    else
        in->open_sell = in->open_sell > left ? in->open_sell - left : 0;
    o->clordid = 0;
    gw->n_open--;
}

/* Parses our ClOrdID text (head + number); 0 when it is not one of ours. */
static uint64_t parse_clordid(const ht_gw *gw, const char *text, size_t len)
{
    size_t plen = gw->clordid_head_len;
    if (len <= plen || memcmp(text, gw->clordid_head, plen) != 0 || len - plen > 19)
        return 0;
    uint64_t v = 0;
    for (size_t i = plen; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    return v;
}

/* Remembers where the message of an outbound sequence number is (grows off the order path, geometrically). */
static int index_out(ht_gw *gw, uint64_t seq, uint64_t clordid, char kind, uint64_t offset, uint32_t len)
{
    if (gw->out_count == gw->out_cap) {
        size_t cap = gw->out_cap ? gw->out_cap * 2 : OUT_INDEX_INITIAL;
        out_entry *grown = realloc(gw->out_index, cap * sizeof *grown);
        if (!grown)
            return -1;
        gw->out_index = grown;
        gw->out_cap = cap;
    }
    /* Sequence numbers only grow within a session; a reset starts the index again. */
    if (gw->out_count && gw->out_index[gw->out_count - 1].seq >= seq)
        gw->out_count = 0;
    gw->out_index[gw->out_count++] = (out_entry){seq, clordid, offset, len, kind};
    return 0;
}

/* The index entry of an outbound sequence number, or NULL (binary search: entries are in seq order). */
static const out_entry *lookup_out(const ht_gw *gw, uint64_t seq)
{
    size_t lo = 0, hi = gw->out_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gw->out_index[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < gw->out_count && gw->out_index[lo].seq == seq ? &gw->out_index[lo] : NULL;
}

/* Applies an inbound execution to positions and open orders (live and on replay). Returns the instrument. */
static int apply_exec(ht_gw *gw, const jrec_in *r)
{
    size_t sym_len = strnlen(r->symbol, sizeof r->symbol);
    open_order *o = find_order(gw, r->clordid);
    int inst = o ? o->inst : find_instrument(gw, r->symbol, sym_len, true);
    if (inst < 0)
        return -1;
    int side = r->side ? r->side : (o ? o->side : 0);
    if (r->exec_type == 'F' && r->last_qty > 0 && side) {
        gw->inst[inst].position += side * r->last_qty;
        if (o) {
            double before = o->cum_qty;
            o->cum_qty = r->cum_qty > before ? r->cum_qty : before + r->last_qty;
            double filled = o->cum_qty - before;
            if (o->side > 0)
                gw->inst[inst].open_buy = gw->inst[inst].open_buy > filled ? gw->inst[inst].open_buy - filled : 0;
            else
                gw->inst[inst].open_sell = gw->inst[inst].open_sell > filled ? gw->inst[inst].open_sell - filled : 0;
        }
    }
    bool terminal = r->ord_status == '2' || r->ord_status == '4' || r->ord_status == '8' || r->ord_status == 'C' ||
                    r->ord_status == '3';
    if (o && terminal)
        remove_order(gw, o);
    return inst;
}

/* ---- journal ---- */

/* Little-endian u64 from bytes. */
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* True for the characters of a session tag (base 32: digits and lower-case letters but i, l, o, u). */
static bool session_tag_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u');
}

/* Takes the ClOrdID session tag from a journal header (rest: what follows the target CompID, len bytes). */
static int replay_session_tag(ht_gw *gw, const char *rest, size_t len, uint64_t offset, ht_error *err)
{
    if (len == 0)
        return 0; /* a journal from before session tags: ClOrdIDs stay prefix + number */
    size_t n = strnlen(rest, len);
    bool ok = n == SESSION_TAG_CHARS && n < len;
    for (size_t i = 0; ok && i < n; i++)
        ok = session_tag_char(rest[i]);
    if (!ok)
        return ht_error_set(err, "journal %s: HEADER record at offset %llu has a bad ClOrdID session tag "
                            "(expected %d base-32 characters and a NUL)", gw->cfg.journal_path,
                            (unsigned long long)offset, SESSION_TAG_CHARS);
    memcpy(gw->session_tag, rest, n + 1);
    return 0;
}

/* Makes a fresh journal's session tag: the wall-clock second (7 base-32 digits, good until the year 3058) then
 * 25 random bits, so journals made in different seconds never share a tag and ones made in the same second
 * share one with a chance of 2^-25. 0, or -1 with err when the system has no randomness. */
static int make_session_tag(ht_gw *gw, ht_error *err)
{
    static const char digits[] = "0123456789abcdefghjkmnpqrstvwxyz";
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return ht_error_set(err, "gateway: getrandom for the ClOrdID session tag: %s", strerror(errno));
    uint64_t sec = ht_wall_ns() / 1000000000u;
    for (int i = 6; i >= 0; i--, sec >>= 5)
        gw->session_tag[i] = digits[sec & 31];
    for (int i = 11; i >= 7; i--, rnd >>= 5)
        gw->session_tag[i] = digits[rnd & 31];
    gw->session_tag[SESSION_TAG_CHARS] = '\0';
    return 0;
}

/* Replays one journal record into the gateway's state. */
static int replay_record(void *user, uint8_t type, const uint8_t *payload, uint32_t len, uint64_t offset, ht_error *err)
{
    ht_gw *gw = user;
    switch (type) {
    case JREC_HEADER: {
        const char *sender = (const char *)payload;
        size_t sl = strnlen(sender, len);
        const char *target = sl < len ? sender + sl + 1 : "";
        size_t tl = sl < len ? strnlen(target, len - sl - 1) : 0;
        if (sl == len || strncmp(sender, gw->cfg.sender_comp_id, len) != 0 ||
            strncmp(target, gw->cfg.target_comp_id, len - sl - 1) != 0)
            return ht_error_set(err, "journal %s belongs to another session (%.*s -> %.*s), not %s -> %s",
                                gw->cfg.journal_path, (int)sl, sender, (int)tl, target,
                                gw->cfg.sender_comp_id, gw->cfg.target_comp_id);
        return replay_session_tag(gw, target + tl + 1, sl + tl + 2 < len ? len - sl - tl - 2 : 0, offset, err);
    }
    case JREC_OUT: {
        if (len < 17)
            return ht_error_set(err, "journal %s: OUT record at offset %llu is %u bytes, expected >= 17",
                                gw->cfg.journal_path, (unsigned long long)offset, len);
        uint64_t seq = get_u64(payload), clordid = get_u64(payload + 8);
        char kind = (char)payload[16];
        gw->next_out = seq + 1;
        if (index_out(gw, seq, clordid, kind, len > 17 ? offset : 0, len - 17) != 0)
            return ht_error_set(err, "journal %s: out of memory", gw->cfg.journal_path);
        if (kind == 'D')
            gw->orders_journaled++;
        if (kind == 'D' && len > 17) {
            ht_fix_msg msg;
            size_t used;
            ht_error perr;
            if (ht_fix_parse((const char *)payload + 17, len - 17, HT_FIX_HARD_MAX_MSG, &msg, &used, &perr) !=
                HT_FIX_PARSE_OK)
                return ht_error_set(err, "journal %s: order at offset %llu does not parse: %s", gw->cfg.journal_path,
                                    (unsigned long long)offset, perr.msg);
            size_t sym_len;
            const char *sym = ht_fix_get(&msg, HT_TAG_SYMBOL, &sym_len);
            double qty = 0, px = 0;
            ht_fix_get_double(&msg, HT_TAG_ORDER_QTY, &qty);
            ht_fix_get_double(&msg, HT_TAG_PRICE, &px);
            int inst = sym ? find_instrument(gw, sym, sym_len, true) : -1;
            if (inst >= 0 && gw->n_open < HT_GW_MAX_OPEN_ORDERS)
                add_order(gw, clordid, seq, inst, ht_fix_get_char(&msg, HT_TAG_SIDE) == '2' ? -1 : 1, qty, px);
        }
        if (clordid >= gw->next_clordid)
            gw->next_clordid = clordid + 1;
        return 0;
    }
    case JREC_IN: {
        if (len != sizeof(jrec_in))
            return ht_error_set(err, "journal %s: IN record at offset %llu is %u bytes, expected %zu",
                                gw->cfg.journal_path, (unsigned long long)offset, len, sizeof(jrec_in));
        jrec_in r;
        memcpy(&r, payload, sizeof r);
        gw->next_in = r.seq + 1;
        if (r.msg_type[0] == '8')
            apply_exec(gw, &r);
        return 0;
    }
    case JREC_RESERVE:
        if (len != 8)
            return ht_error_set(err, "journal %s: RESERVE record at offset %llu is %u bytes, expected 8",
                                gw->cfg.journal_path, (unsigned long long)offset, len);
        gw->reserved_clordid = get_u64(payload);
        return 0;
    case JREC_SEQ_RESET:
        if (len != 16)
            return ht_error_set(err, "journal %s: SEQ_RESET record at offset %llu is %u bytes, expected 16",
                                gw->cfg.journal_path, (unsigned long long)offset, len);
        gw->next_out = get_u64(payload);
        gw->next_in = get_u64(payload + 8);
        gw->out_count = 0;
        return 0;
    case JREC_VOID: {
        if (len != 8)
            return ht_error_set(err, "journal %s: VOID record at offset %llu is %u bytes, expected 8",
                                gw->cfg.journal_path, (unsigned long long)offset, len);
        open_order *o = find_order(gw, get_u64(payload));
        if (o)
            remove_order(gw, o);
        return 0;
    }
    default:
        return ht_error_set(err, "journal %s: unknown record type %u at offset %llu", gw->cfg.journal_path, type,
                            (unsigned long long)offset);
    }
}

/* Appends a record; on failure logs, closes the session and returns -1. */
static int64_t journal_put(ht_gw *gw, uint8_t type, const void *head, size_t head_len, const void *body, size_t body_len);

/* ---- socket ---- */

static void close_socket(ht_gw *gw)
{
    if (gw->fd >= 0)
        close(gw->fd);
    gw->fd = -1;
    gw->rx_len = 0;
    gw->tx_len = 0;
}

static void set_state(ht_gw *gw, ht_gw_state s)
{
    gw->state = s;
    gw->state_since_ns = ht_mono_ns();
}

/* Drops the connection and schedules a reconnect (unless stopping); reports HT_GW_EV_DISCONNECTED. */
static void disconnect(ht_gw *gw, ht_gw_event *ev, int max, int *n, const char *why)
{
    bool was_up = gw->fd >= 0;
    if (strcmp(why, "logout") != 0 && strcmp(why, "logon refused") != 0)
        snprintf(gw->last_problem, sizeof gw->last_problem, "%s", why); /* those two set a fuller one */
    close_socket(gw);
    gw->resend_pending = false;
    gw->resend_until = 0;
    gw->test_req_sent_ns = 0;
    if (gw->state == HT_GW_LOGOUT_SENT || gw->state == HT_GW_STOPPED) {
        set_state(gw, HT_GW_STOPPED);
    } else {
        gw->failed_attempts = gw->state == HT_GW_ACTIVE ? 0 : gw->failed_attempts + 1;
        if (gw->cfg.reconnect_max_attempts && gw->failed_attempts >= gw->cfg.reconnect_max_attempts) {
            set_state(gw, HT_GW_STOPPED);
            gw_log(gw, "giving up after %u failed connection attempts: %s", gw->failed_attempts, why);
            ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_GIVE_UP);
            if (e)
                snprintf(e->text, sizeof e->text, "gave up after %u attempts: %s", gw->failed_attempts, why);
            return;
        }
        if (gw->failed_attempts == 0)
            gw->reconnect_delay_ms = gw->cfg.reconnect_min_ms;
        gw->reconnect_at_ns = ht_mono_ns() + (uint64_t)gw->reconnect_delay_ms * 1000000u;
        set_state(gw, HT_GW_DISCONNECTED);
        gw_log(gw, "disconnected (%s); reconnecting in %u ms", why, gw->reconnect_delay_ms);
        gw->reconnect_delay_ms = gw->reconnect_delay_ms * 2 > gw->cfg.reconnect_max_ms ? gw->cfg.reconnect_max_ms
                                                                                         : gw->reconnect_delay_ms * 2;
    }
    if (was_up) {
        ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_DISCONNECTED);
        if (e)
            snprintf(e->text, sizeof e->text, "%s", why);
    }
}

/* Writes bytes to the socket, queueing what the kernel does not take. 0, or -1 when the queue overflows. */
static int send_bytes(ht_gw *gw, const char *bytes, size_t len)
{
    if (gw->fd < 0)
        return -1;
    size_t done = 0;
    if (gw->tx_len == 0) {
        ssize_t n = send(gw->fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        done = n > 0 ? (size_t)n : 0;
    }
    if (done < len) {
        if (gw->tx_len + len - done > TX_CAP)
            return -1;
        memcpy(gw->tx + gw->tx_len, bytes + done, len - done);
        gw->tx_len += len - done;
    }
    gw->last_tx_ns = ht_mono_ns();
    return 0;
}

/* Sends what is queued. 0, or -1 when the socket failed. */
static int flush_tx(ht_gw *gw)
{
    while (gw->tx_len) {
        ssize_t n = send(gw->fd, gw->tx, gw->tx_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            return -1;
        }
        memmove(gw->tx, gw->tx + n, gw->tx_len - (size_t)n);
        gw->tx_len -= (size_t)n;
    }
    return 0;
}

/* Starts a non-blocking TCP connect. 0, or -1 with why. */
static int start_connect(ht_gw *gw, char *why, size_t why_cap)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof port, "%u", gw->cfg.port);
    int rc = getaddrinfo(gw->cfg.host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, why_cap, "resolving %s: %s", gw->cfg.host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, why_cap, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) {
        snprintf(why, why_cap, "connect to %s:%u: %s", gw->cfg.host, gw->cfg.port, strerror(errno));
        close(fd);
        return -1;
    }
    gw->fd = fd;
    gw->rx_len = 0;
    gw->tx_len = 0;
    set_state(gw, HT_GW_CONNECTING);
    return 0;
}

/* ---- outbound messages ---- */

/* Starts an outbound message with the standard header for sequence number seq. */
static void begin_msg(ht_gw *gw, ht_fix_writer *w, const char *type, uint64_t seq)
{
    ht_fix_writer_begin(w, gw->scratch, sizeof gw->scratch, type);
    ht_fix_put_str(w, HT_TAG_SENDER_COMP_ID, gw->cfg.sender_comp_id);
    ht_fix_put_str(w, HT_TAG_TARGET_COMP_ID, gw->cfg.target_comp_id);
    ht_fix_put_u64(w, HT_TAG_MSG_SEQ_NUM, seq);
    ht_fix_put_time(w, HT_TAG_SENDING_TIME, ht_wall_ns());
}

/* Finishes, journals (kind 'A': sequence only; else with the bytes) and sends a message at gw->next_out. */
static int finish_and_send(ht_gw *gw, ht_fix_writer *w, char kind, uint64_t clordid)
{
    size_t len;
    const char *bytes = ht_fix_writer_finish(w, &len);
    if (!bytes) {
        if (w->refused)
            gw_log(gw, "outbound message not sent: the value of tag %u is empty or not printable ASCII", w->refused_tag);
        else
            gw_log(gw, "outbound message does not fit %zu bytes", sizeof gw->scratch);
        return -1;
    }
    uint8_t head[17];
    uint64_t seq = gw->next_out;
    memcpy(head, &seq, 8);
    memcpy(head + 8, &clordid, 8);
    head[16] = (uint8_t)kind;
    bool with_bytes = kind != 'A';
    int64_t at = journal_put(gw, JREC_OUT, head, sizeof head, with_bytes ? bytes : NULL, with_bytes ? len : 0);
    if (at < 0)
        return -1;
    index_out(gw, seq, clordid, kind, with_bytes ? (uint64_t)at : 0, with_bytes ? (uint32_t)len : 0);
    gw->next_out++;
    if (gw->debug_skip_out && kind != 'A') {
        gw->debug_skip_out = false;
        gw_log(gw, "test hook: seq %llu journaled but not transmitted", (unsigned long long)seq);
        return 0;
    }
    return send_bytes(gw, bytes, len);
}

static int send_logon(ht_gw *gw)
{
    ht_fix_writer w;
    if (gw->cfg.reset_seq_on_logon) {
        uint64_t seqs[2] = {1, 1};
        if (journal_put(gw, JREC_SEQ_RESET, seqs, sizeof seqs, NULL, 0) < 0)
            return -1;
        gw->next_out = 1;
        gw->next_in = 1;
        gw->out_count = 0;
    }
    begin_msg(gw, &w, "A", gw->next_out);
    ht_fix_put_u64(&w, HT_TAG_ENCRYPT_METHOD, 0);
    ht_fix_put_u64(&w, HT_TAG_HEART_BT_INT, gw->cfg.heartbeat_s);
    if (gw->cfg.reset_seq_on_logon)
        ht_fix_put_char(&w, HT_TAG_RESET_SEQ_NUM_FLAG, 'Y');
    if (gw->cfg.client_secret[0]) {
        char raw[64], password[45];
        ht_error err;
        if (ht_gw_deribit_auth(ht_wall_ns() / 1000000u, gw->cfg.client_secret, raw, password, &err) != 0) {
            gw_log(gw, "logon: %s", err.msg);
            return -1;
        }
        ht_fix_put_u64(&w, HT_TAG_RAW_DATA_LENGTH, strlen(raw));
        ht_fix_put_str(&w, HT_TAG_RAW_DATA, raw);
        ht_fix_put_str(&w, HT_TAG_USERNAME, gw->cfg.client_id);
        ht_fix_put_str(&w, HT_TAG_PASSWORD, password);
        explicit_bzero(password, sizeof password);
    }
    ht_fix_put_char(&w, HT_TAG_CANCEL_ON_DISCONNECT, gw->cfg.cancel_on_disconnect ? 'Y' : 'N');
    int rc = finish_and_send(gw, &w, 'A', 0);
    explicit_bzero(gw->scratch, sizeof gw->scratch); /* the logon held the password */
    if (rc == 0) {
        set_state(gw, HT_GW_LOGON_SENT);
        gw->logon_answered = false;
        gw_log(gw, "logon sent to %s:%u as %s -> %s, seq %llu, expecting %llu%s", gw->cfg.host, gw->cfg.port,
               gw->cfg.sender_comp_id, gw->cfg.target_comp_id, (unsigned long long)gw->next_out - 1,
               (unsigned long long)gw->next_in, gw->cfg.client_secret[0] ? ", Deribit auth" : "");
    }
    return rc;
}

/* Sends an admin message with optional test request id / text. */
static int send_simple_admin(ht_gw *gw, const char *type, const char *test_req_id, const char *text)
{
    ht_fix_writer w;
    begin_msg(gw, &w, type, gw->next_out);
    if (test_req_id)
        ht_fix_put_str(&w, HT_TAG_TEST_REQ_ID, test_req_id);
    if (text && text[0])
        ht_fix_put_str(&w, HT_TAG_TEXT, text);
    return finish_and_send(gw, &w, 'A', 0);
}

static int send_resend_request(ht_gw *gw, uint64_t begin)
{
    ht_fix_writer w;
    begin_msg(gw, &w, "2", gw->next_out);
    ht_fix_put_u64(&w, HT_TAG_BEGIN_SEQ_NO, begin);
    ht_fix_put_u64(&w, HT_TAG_END_SEQ_NO, 0);
    gw->resend_asked_ns = ht_mono_ns();
    gw_log(gw, "gap: expected inbound seq %llu, asked for a resend up to %llu", (unsigned long long)begin,
           (unsigned long long)gw->resend_until);
    return finish_and_send(gw, &w, 'A', 0);
}

/* Sends a session Reject (35=3) of inbound seq ref_seq. */
static int send_reject(ht_gw *gw, uint64_t ref_seq, uint32_t ref_tag, const char *ref_type, int reason, const char *text)
{
    char shown_text[256], shown_type[8];
    ht_fix_writer w;
    begin_msg(gw, &w, "3", gw->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, ref_seq);
    if (ref_tag)
        ht_fix_put_u64(&w, HT_TAG_REF_TAG_ID, ref_tag);
    if (ref_type && ref_type[0]) /* the venue's MsgType, echoed: shown printable */
        ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, ht_fix_printable(ref_type, strlen(ref_type), shown_type, sizeof shown_type));
    ht_fix_put_u64(&w, HT_TAG_SESSION_REJECT_REASON, (uint64_t)reason);
    ht_fix_put_str(&w, HT_TAG_TEXT, ht_fix_printable(text, strlen(text), shown_text, sizeof shown_text));
    return finish_and_send(gw, &w, 'A', 0);
}

/* Sends a SequenceReset-GapFill covering [seq, new_seq) (a resent message: it is not journaled). */
static int send_gap_fill(ht_gw *gw, uint64_t seq, uint64_t new_seq)
{
    ht_fix_writer w;
    begin_msg(gw, &w, "4", seq);
    ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
    ht_fix_put_char(&w, HT_TAG_GAP_FILL_FLAG, 'Y');
    ht_fix_put_u64(&w, HT_TAG_NEW_SEQ_NO, new_seq);
    size_t len;
    const char *bytes = ht_fix_writer_finish(&w, &len);
    return bytes ? send_bytes(gw, bytes, len) : -1;
}

/* Resends a journaled application message with PossDupFlag=Y and OrigSendingTime. */
static int resend_message(ht_gw *gw, const out_entry *e)
{
    char stored[4096];
    if (e->len > sizeof stored - 17)
        return -1;
    ht_error err;
    if (ht_journal_read_payload(gw->journal, e->offset, stored, 17 + e->len, &err) != 0) {
        gw_log(gw, "resend of seq %llu: %s", (unsigned long long)e->seq, err.msg);
        return -1;
    }
    ht_fix_msg msg;
    size_t used;
    if (ht_fix_parse(stored + 17, e->len, HT_FIX_HARD_MAX_MSG, &msg, &used, &err) != HT_FIX_PARSE_OK) {
        gw_log(gw, "resend of seq %llu: the journaled message does not parse: %s", (unsigned long long)e->seq, err.msg);
        return -1;
    }
    ht_fix_writer w;
    begin_msg(gw, &w, msg.msg_type, e->seq);
    ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
    size_t tlen;
    const char *orig_time = ht_fix_get(&msg, HT_TAG_SENDING_TIME, &tlen);
    if (orig_time)
        ht_fix_put_bytes(&w, HT_TAG_ORIG_SENDING_TIME, orig_time, tlen);
    for (uint32_t i = 0; i < msg.n_fields; i++) {
        const ht_fix_field *f = &msg.fields[i];
        switch (f->tag) {
        case HT_TAG_MSG_TYPE: case HT_TAG_SENDER_COMP_ID: case HT_TAG_TARGET_COMP_ID: case HT_TAG_MSG_SEQ_NUM:
        case HT_TAG_SENDING_TIME: case HT_TAG_POSS_DUP_FLAG: case HT_TAG_ORIG_SENDING_TIME: case HT_TAG_POSS_RESEND:
            continue;
        default:
            ht_fix_put_bytes(&w, f->tag, msg.buf + f->off, f->len);
        }
    }
    size_t len;
    const char *bytes = ht_fix_writer_finish(&w, &len);
    return bytes ? send_bytes(gw, bytes, len) : -1;
}

/* Answers the venue's ResendRequest [begin, end] from the journal: orders are resent (resend_orders) or
 * gap-filled and voided; admin messages are gap-filled. */
static int answer_resend(ht_gw *gw, uint64_t begin, uint64_t end, ht_gw_event *ev, int max, int *n)
{
    uint64_t last = gw->next_out - 1;
    if (end == 0 || end > last)
        end = last;
    gw_log(gw, "venue asked for a resend of %llu..%llu", (unsigned long long)begin, (unsigned long long)end);
    uint64_t gap_start = 0;
    unsigned resent = 0, voided = 0;
    for (uint64_t s = begin; s <= end; s++) {
        const out_entry *e = lookup_out(gw, s);
        bool resend = e && e->len && (gw->cfg.resend_orders || e->kind == 'F');
        if (!resend) {
            if (!gap_start)
                gap_start = s;
            if (e && e->kind == 'D') {
                open_order *o = find_order(gw, e->clordid);
                if (o) {
                    uint64_t id = e->clordid;
                    if (journal_put(gw, JREC_VOID, &id, sizeof id, NULL, 0) < 0)
                        return -1;
                    remove_order(gw, o);
                    voided++;
                    ht_gw_event *v = push_event(ev, max, n, HT_GW_EV_ORDER_VOID);
                    if (v) {
                        v->clordid_num = id;
                        snprintf(v->clordid, sizeof v->clordid, "%s%llu", gw->clordid_head, (unsigned long long)id);
                        snprintf(v->text, sizeof v->text, "seq %llu gap-filled on the venue's resend request: the order "
                                 "never reached the venue", (unsigned long long)s);
                    }
                }
            }
            continue;
        }
        if (gap_start && send_gap_fill(gw, gap_start, s) != 0)
            return -1;
        gap_start = 0;
        if (resend_message(gw, e) != 0)
            return -1;
        resent++;
    }
    if (gap_start && send_gap_fill(gw, gap_start, end + 1) != 0)
        return -1;
    gw_log(gw, "resend answered: %u messages resent, %u orders voided, the rest gap-filled", resent, voided);
    return 0;
}

/* ---- inbound ---- */

/* Logs and reports a malformed or unexpected inbound message. */
static void report_bad(ht_gw *gw, ht_gw_event *ev, int max, int *n, uint64_t seq, const char *why)
{
    gw_log(gw, "inbound message rejected: %s", why);
    ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_BAD_MESSAGE);
    if (e) {
        e->seq = seq;
        snprintf(e->text, sizeof e->text, "%.*s", (int)sizeof e->text - 1, why); /* the log line has all of it */
    }
}

/* The crash test hook: SIGKILL on the armed arrival at point (ht_gw_debug_crash_at). */
#define CRASH_POINT(gw, point)                                                                                \
    do {                                                                                                      \
        if (HT_UNLIKELY((gw)->crash_at == (point)) && --(gw)->crash_countdown == 0)                            \
            kill(getpid(), SIGKILL);                                                                          \
    } while (0)

/* The instrument an ExecutionReport is about, into symbol[HT_GW_SYMBOL_BYTES]: our order's own when the report is
 * about one of ours (a different echo is logged), else the report's Symbol (55), which must be an instrument name
 * that fits (never truncated onto another instrument). 0, or -1 (reported) when it is not. */
static int exec_symbol(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, const open_order *o, char *symbol,
                       ht_gw_event *ev, int max, int *n)
{
    size_t len = 0;
    const char *echo = ht_fix_get(m, HT_TAG_SYMBOL, &len);
    if (o) {
        const instrument *in = &gw->inst[o->inst];
        memcpy(symbol, in->symbol, in->symbol_len);
        symbol[in->symbol_len] = '\0';
        if (len != in->symbol_len || memcmp(echo, in->symbol, len) != 0) {
            char shown[40];
            gw_log(gw, "ExecutionReport seq %llu for %s%llu names Symbol '%s', the order was for %s: kept %s",
                   (unsigned long long)seq, gw->cfg.clordid_prefix, (unsigned long long)o->clordid,
                   ht_fix_printable(echo, len, shown, sizeof shown), symbol, symbol);
        }
        return 0;
    }
    ht_error bad;
    if (ht_fix_check_value("ExecutionReport Symbol (55)", echo, len, HT_FIX_GRAMMAR_INSTRUMENT, 1,
                           HT_GW_SYMBOL_BYTES - 1, &bad) != 0) {
        char why[256];
        snprintf(why, sizeof why, "seq %llu: %.220s", (unsigned long long)seq, bad.msg);
        report_bad(gw, ev, max, n, seq, why);
        return -1;
    }
    memcpy(symbol, echo, len);
    symbol[len] = '\0';
    return 0;
}

/* Fills an event from an ExecutionReport and applies it; journals it. */
static int on_execution_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                               int max, int *n)
{
    static const uint32_t required[] = {HT_TAG_ORDER_ID, HT_TAG_EXEC_ID, HT_TAG_EXEC_TYPE, HT_TAG_ORD_STATUS,
                                        HT_TAG_SIDE, HT_TAG_SYMBOL};
    for (size_t i = 0; i < HT_ARRAY_LEN(required); i++) {
        if (!ht_fix_find(m, required[i])) {
            char why[128];
            snprintf(why, sizeof why, "ExecutionReport seq %llu lacks required tag %u", (unsigned long long)seq,
                     required[i]);
            report_bad(gw, ev, max, n, seq, why);
            return send_reject(gw, seq, required[i], "8", 1, why);
        }
    }
    jrec_in r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    r.msg_type[0] = '8';
    r.exec_type = ht_fix_get_char(m, HT_TAG_EXEC_TYPE);
    r.ord_status = ht_fix_get_char(m, HT_TAG_ORD_STATUS);
    char side = ht_fix_get_char(m, HT_TAG_SIDE);
    r.side = side == '1' ? 1 : side == '2' ? -1 : 0;
    ht_fix_get_double(m, HT_TAG_LAST_QTY, &r.last_qty);
    ht_fix_get_double(m, HT_TAG_LAST_PX, &r.last_px);
    ht_fix_get_double(m, HT_TAG_CUM_QTY, &r.cum_qty);
    size_t idlen;
    const char *id = ht_fix_get(m, HT_TAG_CL_ORD_ID, &idlen);
    r.clordid = id ? parse_clordid(gw, id, idlen) : 0;
    if (!find_order(gw, r.clordid)) {
        /* A report on a cancel request names the order in OrigClOrdID. */
        const char *orig = ht_fix_get(m, HT_TAG_ORIG_CL_ORD_ID, &idlen);
        uint64_t orig_id = orig ? parse_clordid(gw, orig, idlen) : 0;
        if (find_order(gw, orig_id))
            r.clordid = orig_id;
    }
    double leaves_qty = 0; /* a partial fill matters only to the crash test hook */
    bool partial_fill = HT_UNLIKELY(gw->crash_at != HT_GW_CRASH_NONE) && r.exec_type == 'F' &&
                        ht_fix_get_double(m, HT_TAG_LEAVES_QTY, &leaves_qty) && leaves_qty > 0;
    if (partial_fill)
        CRASH_POINT(gw, HT_GW_CRASH_FILL_READ);
    if (exec_symbol(gw, m, seq, find_order(gw, r.clordid), r.symbol, ev, max, n) != 0)
        return send_reject(gw, seq, HT_TAG_SYMBOL, "8", 5, "Symbol (55) is not an instrument name of at most 31 characters");
    if (journal_put(gw, JREC_IN, &r, sizeof r, NULL, 0) < 0)
        return -1;
    if (partial_fill)
        CRASH_POINT(gw, HT_GW_CRASH_FILL_JOURNALED);
    /* A fill beyond the order's quantity (a venue fault, or a unit mix-up such as USD read as contracts) leaves a
     * position nobody decided: it is applied as reported, and the kill switch stops further orders. */
    const open_order *ours = find_order(gw, r.clordid);
    double ordered = ours ? ours->qty : 0, filled_after = 0;
    if (ours && r.exec_type == 'F' && r.last_qty > 0)
        filled_after = r.cum_qty > ours->cum_qty ? r.cum_qty : ours->cum_qty + r.last_qty;
    bool overfill = ours && filled_after > ordered * (1 + 1e-9);
    int inst = apply_exec(gw, &r);
    double position = inst >= 0 ? gw->inst[inst].position : 0;
    ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_EXEC);
    if (e) {
        e->recv_tsc = recv_tsc;
        e->seq = seq;
        ht_fix_get_printable(m, HT_TAG_CL_ORD_ID, e->clordid, sizeof e->clordid);
        e->clordid_num = r.clordid;
        ht_fix_get_printable(m, HT_TAG_ORDER_ID, e->order_id, sizeof e->order_id);
        ht_fix_get_printable(m, HT_TAG_EXEC_ID, e->exec_id, sizeof e->exec_id);
        memcpy(e->symbol, r.symbol, sizeof e->symbol);
        e->exec_type = r.exec_type;
        e->ord_status = r.ord_status;
        e->side = r.side < 0 ? HT_GW_SELL : HT_GW_BUY;
        ht_fix_get_double(m, HT_TAG_ORDER_QTY, &e->order_qty);
        e->last_qty = r.last_qty;
        e->last_px = r.last_px;
        e->cum_qty = r.cum_qty;
        ht_fix_get_double(m, HT_TAG_LEAVES_QTY, &e->leaves_qty);
        ht_fix_get_double(m, HT_TAG_AVG_PX, &e->avg_px);
        ht_fix_get_double(m, HT_TAG_COMMISSION, &e->commission);
        e->position_after = position;
        uint64_t code = 0;
        if (ht_fix_get_u64(m, HT_TAG_ORD_REJ_REASON, &code))
            e->reason_code = (int)code;
        ht_fix_get_printable(m, HT_TAG_TEXT, e->text, sizeof e->text);
    }
    if (r.exec_type == 'F' && r.last_qty > 0 && gw->fill_fn && inst >= 0) {
        ht_gw_fill f = {gw->inst[inst].symbol, r.side < 0 ? HT_GW_SELL : HT_GW_BUY, r.last_qty, r.last_px, position,
                        r.clordid, recv_tsc};
        gw->fill_fn(gw->fill_user, &f);
    }
    if (HT_UNLIKELY(overfill)) {
        char why[256];
        snprintf(why, sizeof why, "OVERFILL: ExecutionReport seq %llu fills %.10g of order %s%llu for %.10g %s",
                 (unsigned long long)seq, filled_after, gw->clordid_head, (unsigned long long)r.clordid, ordered,
                 r.symbol);
        ht_gw_kill(gw, why);
        ht_gw_event *k = push_event(ev, max, n, HT_GW_EV_KILL);
        if (k)
            snprintf(k->text, sizeof k->text, "%s", why);
    }
    return 0;
}

/* Reports a reject-like message (35=3, 9, j) as an event; journals its sequence number. */
static int on_reject(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, ht_gw_event_type type, ht_gw_event *ev, int max,
                     int *n)
{
    ht_gw_event *e = push_event(ev, max, n, type);
    char text[256] = "";
    ht_fix_get_printable(m, HT_TAG_TEXT, text, sizeof text);
    uint64_t ref = 0, code = 0;
    ht_fix_get_u64(m, HT_TAG_REF_SEQ_NUM, &ref);
    if (type == HT_GW_EV_SESSION_REJECT)
        ht_fix_get_u64(m, HT_TAG_SESSION_REJECT_REASON, &code);
    else if (type == HT_GW_EV_BUSINESS_REJECT)
        ht_fix_get_u64(m, HT_TAG_BUSINESS_REJECT_REASON, &code);
    else
        ht_fix_get_u64(m, HT_TAG_CXL_REJ_REASON, &code);
    gw_log(gw, "%s from the venue: seq %llu, ref seq %llu, reason %llu: %s",
           type == HT_GW_EV_SESSION_REJECT ? "Reject" : type == HT_GW_EV_BUSINESS_REJECT ? "BusinessMessageReject"
                                                                                         : "OrderCancelReject",
           (unsigned long long)seq, (unsigned long long)ref, (unsigned long long)code, text);
    if (e) {
        e->seq = seq;
        e->ref_seq = ref;
        e->reason_code = (int)code;
        memcpy(e->text, text, sizeof e->text);
        ht_fix_get_printable(m, HT_TAG_CL_ORD_ID, e->clordid, sizeof e->clordid);
    }
    jrec_in r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    memcpy(r.msg_type, m->msg_type, 2);
    return journal_put(gw, JREC_IN, &r, sizeof r, NULL, 0) < 0 ? -1 : 0;
}

/* Journals that an inbound admin message's sequence number was consumed. */
static int journal_in_seq(ht_gw *gw, const ht_fix_msg *m, uint64_t seq)
{
    jrec_in r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    memcpy(r.msg_type, m->msg_type, 2);
    return journal_put(gw, JREC_IN, &r, sizeof r, NULL, 0) < 0 ? -1 : 0;
}

/* When the venue's Logout text is about sequence numbers (it expects other ones than the journal holds), adds the
 * remedy to last_problem, logs it and returns true: reconnecting would not help, the session stops. */
static bool venue_seq_complaint(ht_gw *gw, const char *text)
{
    bool about_seq = false;
    for (const char *t = text; *t && t[1] && t[2] && !about_seq; t++)
        about_seq = (t[0] | 0x20) == 's' && (t[1] | 0x20) == 'e' && (t[2] | 0x20) == 'q';
    if (!about_seq)
        return false;
    size_t used = strlen(gw->last_problem);
    snprintf(gw->last_problem + used, sizeof gw->last_problem - used, " (remedy: reset_seq_on_logon = yes, or "
             "the journal of the venue's session instead of %s)", gw->cfg.journal_path);
    gw_log(gw, "session stopped: %s", gw->last_problem);
    return true;
}

/* Handles one well-formed inbound message. Returns -1 when the connection must close (after a logout). */
static int handle_message(ht_gw *gw, const ht_fix_msg *m, uint64_t recv_tsc, ht_gw_event *ev, int max, int *n)
{
    uint64_t seq = 0;
    const char *type = m->msg_type;
    if (!ht_fix_get_u64(m, HT_TAG_MSG_SEQ_NUM, &seq) || seq == 0) {
        report_bad(gw, ev, max, n, 0, "message without a valid MsgSeqNum (34): logging out");
        send_simple_admin(gw, "5", NULL, "MsgSeqNum missing");
        disconnect(gw, ev, max, n, "message without MsgSeqNum");
        return -1;
    }
    if (!ht_fix_field_is(m, HT_TAG_SENDER_COMP_ID, gw->cfg.target_comp_id) ||
        !ht_fix_field_is(m, HT_TAG_TARGET_COMP_ID, gw->cfg.sender_comp_id)) {
        char why[160];
        snprintf(why, sizeof why, "seq %llu: CompIDs do not match this session (%s -> %s expected): logging out",
                 (unsigned long long)seq, gw->cfg.target_comp_id, gw->cfg.sender_comp_id);
        report_bad(gw, ev, max, n, seq, why);
        send_reject(gw, seq, HT_TAG_SENDER_COMP_ID, type, 9, "CompID problem");
        send_simple_admin(gw, "5", NULL, "CompID problem");
        disconnect(gw, ev, max, n, "CompID mismatch");
        return -1;
    }
    bool poss_dup = ht_fix_get_char(m, HT_TAG_POSS_DUP_FLAG) == 'Y';
    bool is_logon = strcmp(type, "A") == 0;
    if (gw->state == HT_GW_LOGON_SENT && strcmp(type, "5") == 0) {
        char text[200] = "";
        ht_fix_get_printable(m, HT_TAG_TEXT, text, sizeof text);
        gw_log(gw, "venue refused the logon: %s", text[0] ? text : "(no text)");
        snprintf(gw->last_problem, sizeof gw->last_problem, "venue refused the logon: %s", text[0] ? text : "(no text)");
        if (venue_seq_complaint(gw, text))
            set_state(gw, HT_GW_STOPPED);
        ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_LOGOUT);
        if (e) {
            e->seq = seq;
            snprintf(e->text, sizeof e->text, "venue refused the logon: %s", text);
        }
        disconnect(gw, ev, max, n, "logon refused");
        return -1;
    }
    if (gw->state == HT_GW_LOGON_SENT && !is_logon) {
        report_bad(gw, ev, max, n, seq, "first message from the venue is not a Logon: disconnecting");
        disconnect(gw, ev, max, n, "no Logon answer");
        return -1;
    }
    if (is_logon) {
        uint64_t hb = 0;
        if (ht_fix_get_u64(m, HT_TAG_HEART_BT_INT, &hb) && hb > 0 && hb <= 3600)
            gw->heartbeat_s = (uint32_t)hb;
        if (ht_fix_get_char(m, HT_TAG_RESET_SEQ_NUM_FLAG) == 'Y' && seq == 1)
            gw->next_in = 1;
        set_state(gw, HT_GW_ACTIVE);
        gw->failed_attempts = 0;
        gw->reconnect_delay_ms = gw->cfg.reconnect_min_ms;
        ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_LOGON);
        if (e) {
            e->seq = seq;
            snprintf(e->text, sizeof e->text, "logged on: out seq %llu, in seq %llu", (unsigned long long)gw->next_out,
                     (unsigned long long)seq);
        }
        gw_log(gw, "logged on (venue seq %llu, expected %llu, heartbeat %u s)", (unsigned long long)seq,
               (unsigned long long)gw->next_in, gw->heartbeat_s);
    }
    if (seq < gw->next_in) {
        if (poss_dup)
            return 0; /* already processed */
        if (strcmp(type, "4") == 0 && ht_fix_get_char(m, HT_TAG_GAP_FILL_FLAG) != 'Y')
            goto process; /* a SequenceReset-Reset ignores MsgSeqNum */
        char why[80];
        snprintf(why, sizeof why, "MsgSeqNum too low: got %llu, expected %llu", (unsigned long long)seq,
                 (unsigned long long)gw->next_in);
        report_bad(gw, ev, max, n, seq, why);
        send_simple_admin(gw, "5", NULL, why);
        set_state(gw, HT_GW_STOPPED);
        disconnect(gw, ev, max, n, why);
        snprintf(gw->last_problem, sizeof gw->last_problem, "%s (the venue started a new session; remedy: "
                 "reset_seq_on_logon = yes, or remove the journal %s)", why, gw->cfg.journal_path);
        gw_log(gw, "session stopped: %s", gw->last_problem);
        return -1;
    }
    if (gw->debug_drop_in && seq == gw->next_in && strchr("8j93", type[0]) && !type[1]) {
        gw->debug_drop_in = false;
        gw_log(gw, "test hook: inbound seq %llu dropped as if lost", (unsigned long long)seq);
        return 0;
    }
    if (seq > gw->next_in) {
        if (strcmp(type, "4") == 0 && ht_fix_get_char(m, HT_TAG_GAP_FILL_FLAG) != 'Y')
            goto process;
        /* One ResendRequest per gap (EndSeqNo 0 = everything): later messages are covered by the same
         * resend; the timer asks again if the answer does not come within a heartbeat interval. */
        if (seq > gw->resend_until)
            gw->resend_until = seq;
        if (!gw->resend_pending) {
            gw->resend_pending = true;
            if (send_resend_request(gw, gw->next_in) != 0)
                return -1;
        }
        if (is_logon)
            return 0;
        /* ResendRequest and Logout are acted on even out of order; the rest come again with the resend. */
        if (strcmp(type, "2") != 0 && strcmp(type, "5") != 0)
            return 0;
        goto act;
    }
process:
    if (strcmp(type, "4") == 0) {
        uint64_t new_seq = 0;
        if (!ht_fix_get_u64(m, HT_TAG_NEW_SEQ_NO, &new_seq)) {
            report_bad(gw, ev, max, n, seq, "SequenceReset without NewSeqNo (36)");
            gw->next_in = seq + 1;
            return send_reject(gw, seq, HT_TAG_NEW_SEQ_NO, "4", 1, "NewSeqNo missing");
        }
        if (new_seq > gw->next_in) {
            gw->next_in = new_seq;
            uint64_t seqs[2] = {gw->next_out, gw->next_in};
            if (journal_put(gw, JREC_SEQ_RESET, seqs, sizeof seqs, NULL, 0) < 0)
                return -1;
        } else if (new_seq < gw->next_in) {
            report_bad(gw, ev, max, n, seq, "SequenceReset would lower the expected sequence number: rejected");
            send_reject(gw, seq, HT_TAG_NEW_SEQ_NO, "4", 5, "NewSeqNo lower than expected");
        }
        if (gw->resend_pending && gw->next_in > gw->resend_until)
            gw->resend_pending = false;
        return 0;
    }
    gw->next_in = seq + 1;
    if (gw->resend_pending && gw->next_in > gw->resend_until)
        gw->resend_pending = false;
act:
    if (!is_logon && strcmp(type, "8") != 0 && strcmp(type, "3") != 0 && strcmp(type, "9") != 0 &&
        strcmp(type, "j") != 0 && seq < gw->next_in && journal_in_seq(gw, m, seq) != 0)
        return -1;
    if (is_logon) {
        return journal_in_seq(gw, m, seq);
    } else if (strcmp(type, "0") == 0) {
        if (ht_fix_find(m, HT_TAG_TEST_REQ_ID))
            gw->test_req_sent_ns = 0;
    } else if (strcmp(type, "1") == 0) {
        char id[64] = "";
        size_t id_len = 0;
        const char *raw = ht_fix_get(m, HT_TAG_TEST_REQ_ID, &id_len);
        ht_error bad;
        if (raw && (id_len >= sizeof id ||
                    ht_fix_check_value("TestReqID (112)", raw, id_len, HT_FIX_GRAMMAR_TEXT, 1, sizeof id - 1, &bad) != 0)) {
            if (id_len >= sizeof id)
                snprintf(bad.msg, sizeof bad.msg, "TestReqID (112) is %zu bytes, at most %zu are echoed", id_len,
                         sizeof id - 1);
            report_bad(gw, ev, max, n, seq, bad.msg);
            return send_reject(gw, seq, HT_TAG_TEST_REQ_ID, "1", 6, bad.msg);
        }
        if (raw)
            memcpy(id, raw, id_len);
        return send_simple_admin(gw, "0", id[0] ? id : NULL, NULL);
    } else if (strcmp(type, "2") == 0) {
        uint64_t begin = 0, end = 0;
        if (!ht_fix_get_u64(m, HT_TAG_BEGIN_SEQ_NO, &begin) || !ht_fix_get_u64(m, HT_TAG_END_SEQ_NO, &end) || begin == 0) {
            report_bad(gw, ev, max, n, seq, "ResendRequest without valid BeginSeqNo (7) / EndSeqNo (16)");
            return send_reject(gw, seq, begin ? HT_TAG_END_SEQ_NO : HT_TAG_BEGIN_SEQ_NO, "2", 1, "bad ResendRequest");
        }
        return answer_resend(gw, begin, end, ev, max, n);
    } else if (strcmp(type, "5") == 0) {
        char text[200] = "";
        ht_fix_get_printable(m, HT_TAG_TEXT, text, sizeof text);
        gw_log(gw, "venue logged out: %s", text[0] ? text : "(no text)");
        snprintf(gw->last_problem, sizeof gw->last_problem, "venue logged out: %s", text[0] ? text : "(no text)");
        bool seq_problem = gw->state != HT_GW_LOGOUT_SENT && venue_seq_complaint(gw, text);
        ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_LOGOUT);
        if (e) {
            e->seq = seq;
            snprintf(e->text, sizeof e->text, "venue logged out: %s", text);
        }
        if (gw->state != HT_GW_LOGOUT_SENT)
            send_simple_admin(gw, "5", NULL, NULL);
        if (gw->state == HT_GW_LOGOUT_SENT || seq_problem)
            set_state(gw, HT_GW_STOPPED);
        disconnect(gw, ev, max, n, "logout");
        return -1;
    } else if (strcmp(type, "8") == 0) {
        return on_execution_report(gw, m, seq, recv_tsc, ev, max, n);
    } else if (strcmp(type, "3") == 0) {
        return on_reject(gw, m, seq, HT_GW_EV_SESSION_REJECT, ev, max, n);
    } else if (strcmp(type, "9") == 0) {
        return on_reject(gw, m, seq, HT_GW_EV_CANCEL_REJECT, ev, max, n);
    } else if (strcmp(type, "j") == 0) {
        return on_reject(gw, m, seq, HT_GW_EV_BUSINESS_REJECT, ev, max, n);
    } else {
        char why[96], shown_type[8];
        ht_fix_printable(type, strlen(type), shown_type, sizeof shown_type);
        snprintf(why, sizeof why, "unsupported MsgType '%s' (seq %llu)", shown_type, (unsigned long long)seq);
        report_bad(gw, ev, max, n, seq, why);
        ht_fix_writer w;
        begin_msg(gw, &w, "j", gw->next_out);
        ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, seq);
        ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, shown_type);
        ht_fix_put_u64(&w, HT_TAG_BUSINESS_REJECT_REASON, 3);
        ht_fix_put_str(&w, HT_TAG_TEXT, "unsupported message type");
        return finish_and_send(gw, &w, 'A', 0);
    }
    return 0;
}

/* Reads what the socket has and handles every complete message while there is room for events. */
static void read_and_handle(ht_gw *gw, ht_gw_event *ev, int max, int *n)
{
    uint64_t recv_tsc = ht_tsc_now();
    for (;;) {
        if (gw->rx_len == RX_CAP) {
            disconnect(gw, ev, max, n, "receive buffer full");
            return;
        }
        ssize_t got = recv(gw->fd, gw->rx + gw->rx_len, RX_CAP - gw->rx_len, MSG_DONTWAIT);
        if (got > 0) {
            gw->rx_len += (size_t)got;
            gw->last_rx_ns = ht_mono_ns();
            if (gw->rx_len < RX_CAP)
                break;
            continue;
        }
        if (got == 0) {
            disconnect(gw, ev, max, n, "the venue closed the connection");
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            break;
        char why[128];
        snprintf(why, sizeof why, "recv: %s", strerror(errno));
        disconnect(gw, ev, max, n, why);
        return;
    }
    size_t off = 0;
    while (off < gw->rx_len && gw->fd >= 0 && *n < max) {
        ht_fix_msg msg;
        size_t used = 0;
        ht_error err;
        ht_fix_parse_status st = ht_fix_parse(gw->rx + off, gw->rx_len - off, gw->cfg.max_msg_bytes, &msg, &used, &err);
        if (st == HT_FIX_PARSE_INCOMPLETE)
            break;
        off += used;
        if (st == HT_FIX_PARSE_BAD) {
            char why[256];
            snprintf(why, sizeof why, "malformed FIX dropped: %.220s", err.msg);
            report_bad(gw, ev, max, n, 0, why);
            if (++gw->bad_in_a_row >= MAX_BAD_IN_A_ROW) {
                send_simple_admin(gw, "5", NULL, "too many malformed messages");
                set_state(gw, HT_GW_LOGOUT_SENT);
                disconnect(gw, ev, max, n, "too many malformed messages in a row");
                return;
            }
            continue;
        }
        gw->bad_in_a_row = 0;
        if (handle_message(gw, &msg, recv_tsc, ev, max, n) != 0 && gw->fd < 0)
            return;
    }
    if (gw->fd >= 0 && off) {
        memmove(gw->rx, gw->rx + off, gw->rx_len - off);
        gw->rx_len -= off;
    }
}

/* Sends a cancel for one open order (kill switch and ht_gw_cancel). */
static int send_cancel(ht_gw *gw, const open_order *o)
{
    if (gw->next_clordid >= gw->reserved_clordid) {
        uint64_t reserve = gw->next_clordid + CLORDID_BLOCK;
        if (journal_put(gw, JREC_RESERVE, &reserve, sizeof reserve, NULL, 0) < 0)
            return -1;
        gw->reserved_clordid = reserve;
    }
    uint64_t id = gw->next_clordid++;
    char text[HT_GW_CLORDID_BYTES];
    ht_fix_writer w;
    begin_msg(gw, &w, "F", gw->next_out);
    snprintf(text, sizeof text, "%s%llu", gw->clordid_head, (unsigned long long)o->clordid);
    ht_fix_put_str(&w, HT_TAG_ORIG_CL_ORD_ID, text);
    snprintf(text, sizeof text, "%s%llu", gw->clordid_head, (unsigned long long)id);
    ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, text);
    ht_fix_put_bytes(&w, HT_TAG_SYMBOL, gw->inst[o->inst].symbol, gw->inst[o->inst].symbol_len);
    ht_fix_put_char(&w, HT_TAG_SIDE, o->side > 0 ? '1' : '2');
    ht_fix_put_decimal(&w, HT_TAG_ORDER_QTY, o->qty, gw->cfg.qty_decimals);
    ht_fix_put_time(&w, HT_TAG_TRANSACT_TIME, ht_wall_ns());
    return finish_and_send(gw, &w, 'F', id);
}

/* Engages the kill switch if the signal arrived or the kill file appeared. */
static void check_kill_sources(ht_gw *gw, uint64_t now, ht_gw_event *ev, int max, int *n)
{
    if (ht_risk_killed(gw->risk, NULL))
        return;
    char reason[256] = "";
    sig_atomic_t signals = g_kill_signal;
    if (signals != gw->kill_signals_seen) {
        gw->kill_signals_seen = signals;
        char said[160];
        int sender = (int)g_kill_sender;
        if (gw_take_kill_reason(gw->pid_path, said, sizeof said) == 0)
            snprintf(reason, sizeof reason, "kill signal from pid %d (hedgetrig kill): %s", sender,
                     said[0] ? said : "(no reason given)");
        else
            snprintf(reason, sizeof reason, "kill signal received from pid %d", sender);
    } else if (gw->cfg.kill_file[0] && now - gw->kill_check_ns >= 100000000u) {
        gw->kill_check_ns = now;
        FILE *f = fopen(gw->cfg.kill_file, "r");
        if (f) {
            char line[160] = "";
            if (!fgets(line, sizeof line, f))
                line[0] = '\0';
            fclose(f);
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(reason, sizeof reason, "kill file %.100s: %.90s", gw->cfg.kill_file, line[0] ? line : "(empty)");
        }
    }
    if (!reason[0])
        return;
    for (char *c = reason; *c; c++) /* a reason is one line of text in the log, whoever wrote it */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    ht_gw_kill(gw, reason);
    ht_gw_event *e = push_event(ev, max, n, HT_GW_EV_KILL);
    if (e) {
        const char *why = "";
        ht_risk_killed(gw->risk, &why);
        snprintf(e->text, sizeof e->text, "kill switch engaged: %s", why);
    }
}

/* Heartbeat, TestRequest, logon and logout timeouts, resend retries. */
static void run_timers(ht_gw *gw, uint64_t now, ht_gw_event *ev, int max, int *n)
{
    uint64_t hb_ns = (uint64_t)gw->heartbeat_s * 1000000000u;
    if (gw->state == HT_GW_LOGON_SENT && now - gw->state_since_ns > (uint64_t)gw->cfg.connect_timeout_ms * 1000000u) {
        disconnect(gw, ev, max, n, "no Logon answer in time");
        return;
    }
    if (gw->state == HT_GW_LOGOUT_SENT && now - gw->state_since_ns > 2000000000u) {
        disconnect(gw, ev, max, n, "no Logout answer in 2 s");
        return;
    }
    if (gw->state != HT_GW_ACTIVE)
        return;
    if (gw->test_req_sent_ns && now - gw->test_req_sent_ns > hb_ns) {
        disconnect(gw, ev, max, n, "no answer to TestRequest");
        return;
    }
    if (!gw->test_req_sent_ns && now - gw->last_rx_ns > hb_ns + hb_ns / 5) {
        char id[32];
        snprintf(id, sizeof id, "T%llu", (unsigned long long)++gw->test_req_counter);
        gw->test_req_sent_ns = now;
        send_simple_admin(gw, "1", id, NULL);
    }
    if (now - gw->last_tx_ns >= hb_ns)
        send_simple_admin(gw, "0", NULL, NULL);
    if (gw->resend_pending && now - gw->resend_asked_ns > hb_ns)
        send_resend_request(gw, gw->next_in);
}

static int64_t journal_put(ht_gw *gw, uint8_t type, const void *head, size_t head_len, const void *body, size_t body_len)
{
    ht_error err;
    int64_t at = ht_journal_append(gw->journal, type, head, head_len, body, body_len, &err);
    if (at < 0) {
        gw_log(gw, "JOURNAL FAILURE, stopping the session: %s", err.msg);
        close_socket(gw);
        set_state(gw, HT_GW_STOPPED);
    }
    return at;
}

/* ---- public API ---- */

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
    ht_journal_report rep;
    gw->journal = ht_journal_open(cfg->journal_path, cfg->journal_fsync, cfg->journal_fsync_interval_ms, cfg->journal_tail,
                                  replay_record, gw, &rep, err);
    if (!gw->journal) {
        ht_gw_destroy(gw);
        return NULL;
    }
    if (rep.warning[0])
        gw_log(gw, "WARNING: %s", rep.warning);
    if (rep.records == 0) {
        char head[96];
        if (make_session_tag(gw, err) != 0) {
            ht_gw_destroy(gw);
            return NULL;
        }
        int len = snprintf(head, sizeof head, "%s%c%s%c%s", cfg->sender_comp_id, 0, cfg->target_comp_id, 0,
                           gw->session_tag);
        if (journal_put(gw, JREC_HEADER, head, (size_t)len + 1, NULL, 0) < 0) {
            ht_gw_destroy(gw);
            return ht_error_set(err, "gateway: cannot write the journal %s", cfg->journal_path), NULL;
        }
    }
    snprintf(gw->clordid_head, sizeof gw->clordid_head, "%s%s%s", cfg->clordid_prefix, gw->session_tag,
             gw->session_tag[0] ? "-" : "");
    gw->clordid_head_len = strlen(gw->clordid_head);
    if (ht_fix_nos_init(&gw->nos, cfg->sender_comp_id, cfg->target_comp_id, gw->clordid_head, cfg->qty_decimals,
                        cfg->price_decimals, err) != 0) {
        ht_gw_destroy(gw);
        return NULL;
    }
    if (rep.records == 0) {
        gw_log(gw, "journal %s: new; ClOrdIDs %s1, %s2, ...", cfg->journal_path, gw->clordid_head, gw->clordid_head);
    } else {
        if (gw->reserved_clordid > gw->next_clordid)
            gw->next_clordid = gw->reserved_clordid; /* skip the rest of the last block: never reuse */
        gw_log(gw, "journal %s: %llu records; resuming at out seq %llu, in seq %llu, ClOrdID %s%llu, %zu open orders",
               cfg->journal_path, (unsigned long long)rep.records, (unsigned long long)gw->next_out,
               (unsigned long long)gw->next_in, gw->clordid_head, (unsigned long long)gw->next_clordid, gw->n_open);
    }
    gw->state = HT_GW_DISCONNECTED;
    gw->reconnect_at_ns = 0;
    return gw;
}

void ht_gw_destroy(ht_gw *gw)
{
    if (!gw)
        return;
    close_socket(gw);
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

int ht_gw_poll(ht_gw *gw, ht_gw_event *events, int max_events)
{
    int n = 0;
    uint64_t now = ht_mono_ns();
    check_kill_sources(gw, now, events, max_events, &n);
    if (gw->state == HT_GW_DISCONNECTED && now >= gw->reconnect_at_ns) {
        char why[200];
        if (start_connect(gw, why, sizeof why) != 0) {
            set_state(gw, HT_GW_CONNECTING);
            disconnect(gw, events, max_events, &n, why);
            return n;
        }
    }
    if (gw->state == HT_GW_CONNECTING) {
        struct pollfd p = {gw->fd, POLLOUT, 0};
        if (poll(&p, 1, 0) == 1) {
            int so_err = 0;
            socklen_t sl = sizeof so_err;
            getsockopt(gw->fd, SOL_SOCKET, SO_ERROR, &so_err, &sl);
            if (so_err) {
                char why[200];
                snprintf(why, sizeof why, "connect to %s:%u: %s", gw->cfg.host, gw->cfg.port, strerror(so_err));
                disconnect(gw, events, max_events, &n, why);
                return n;
            }
            gw->last_rx_ns = now;
            if (send_logon(gw) != 0) {
                disconnect(gw, events, max_events, &n, "could not send Logon");
                return n;
            }
        } else if (now - gw->state_since_ns > (uint64_t)gw->cfg.connect_timeout_ms * 1000000u) {
            disconnect(gw, events, max_events, &n, "TCP connect timed out");
            return n;
        }
    }
    if (gw->fd >= 0 && gw->state != HT_GW_CONNECTING) {
        if (gw->tx_len && flush_tx(gw) != 0) {
            disconnect(gw, events, max_events, &n, "send failed");
            return n;
        }
        read_and_handle(gw, events, max_events, &n);
        if (gw->fd >= 0)
            run_timers(gw, ht_mono_ns(), events, max_events, &n);
        if (gw->fd >= 0 && gw->tx_len && flush_tx(gw) != 0)
            disconnect(gw, events, max_events, &n, "send failed");
    }
    if (gw->journal)
        ht_journal_tick(gw->journal, now);
    return n;
}

void ht_gw_wait(ht_gw *gw, int timeout_ms)
{
    if (gw->fd < 0) {
        if (gw->state == HT_GW_DISCONNECTED) {
            uint64_t now = ht_mono_ns();
            if (gw->reconnect_at_ns > now) {
                uint64_t ms = (gw->reconnect_at_ns - now) / 1000000u + 1;
                if ((int)ms < timeout_ms)
                    timeout_ms = (int)ms;
            } else {
                return;
            }
        }
        if (timeout_ms > 0)
            poll(NULL, 0, timeout_ms > 100 ? 100 : timeout_ms);
        return;
    }
    struct pollfd p = {gw->fd, POLLIN, 0};
    if (gw->state == HT_GW_CONNECTING || gw->tx_len)
        p.events |= POLLOUT;
    if (timeout_ms > 100)
        timeout_ms = 100; /* timers and the kill file are checked at least every 100 ms */
    poll(&p, 1, timeout_ms);
}

/* True when symbol[0..len) is 1..31 bytes of an instrument name and len is its whole length (the order path's check;
 * the encoder checks again). */
static inline bool symbol_ok(const char *symbol, size_t len)
{
    if (!symbol || len == 0 || len >= HT_GW_SYMBOL_BYTES)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ht_fix_byte_allowed(HT_FIX_GRAMMAR_INSTRUMENT, (unsigned char)symbol[i]))
            return false;
    return true;
}

int ht_gw_send_order(ht_gw *gw, const ht_gw_order *order, ht_gw_send_result *res)
{
    res->clordid = 0;
    res->clordid_text[0] = '\0';
    res->reason[0] = '\0';
    res->rule = HT_RISK_OK;
    res->ready_tsc = res->journaled_tsc = res->sent_tsc = 0;
    size_t sym_len = order->symbol ? strnlen(order->symbol, HT_GW_SYMBOL_BYTES) : 0;
    int side = order->side == HT_GW_BUY ? 1 : order->side == HT_GW_SELL ? -1 : 0;
    ht_risk_order ro = {order->symbol ? order->symbol : "", side, order->qty, order->price};
    if (HT_UNLIKELY(!symbol_ok(order->symbol, sym_len))) {
        /* What becomes Symbol (55) must be an instrument name: a byte like SOH would start another field. */
        ht_error bad;
        ht_fix_check_value("Symbol (55)", ro.symbol, strnlen(ro.symbol, 64), HT_FIX_GRAMMAR_INSTRUMENT, 1,
                           HT_GW_SYMBOL_BYTES - 1, &bad);
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: %.230s", bad.msg);
        gw_log(gw, "ORDER REFUSED: %s", res->reason);
        return HT_GW_ERR_RISK;
    }
    /* The risk rules check the quantity and price as they will be written (rounded to the configured decimals):
     * 1e-9 must not pass as "positive" and go out as OrderQty 0, nor 1e15 overflow the encoder. */
    ro.qty = ht_fix_decimal_on_wire(order->qty, gw->cfg.qty_decimals);
    ro.price = ht_fix_decimal_on_wire(order->price, gw->cfg.price_decimals);
    if (HT_UNLIKELY(!(ro.qty > 0) || !(ro.price > 0)) && order->qty > 0 && order->price > 0) {
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: qty %.10g @ %.10g cannot be written with "
                 "qty_decimals %u / price_decimals %u as a number > 0 (below 9e18 once scaled)", order->qty,
                 order->price, gw->cfg.qty_decimals, gw->cfg.price_decimals);
        gw_log(gw, "ORDER REFUSED: %s", res->reason);
        return HT_GW_ERR_RISK;
    }
    int inst = find_instrument(gw, order->symbol, sym_len, true);
    double position = inst >= 0 ? gw->inst[inst].position : 0;
    double open_same = inst < 0 ? 0 : side > 0 ? gw->inst[inst].open_buy : -gw->inst[inst].open_sell;
    uint64_t now = gw->risk_clock_ns ? gw->risk_clock_ns : ht_mono_ns();
    res->rule = ht_risk_check(gw->risk, &ro, position, open_same, now, res->reason, sizeof res->reason);
    if (res->rule == HT_RISK_OK && inst < 0) {
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: symbol '%.40s' is too long or the instrument "
                 "table (%d) is full", ro.symbol, HT_GW_MAX_INSTRUMENTS);
    }
    if (HT_UNLIKELY(res->rule != HT_RISK_OK)) {
        gw_log(gw, "ORDER REFUSED: %s", res->reason);
        return HT_GW_ERR_RISK;
    }
    if (HT_UNLIKELY(gw->state != HT_GW_ACTIVE)) {
        snprintf(res->reason, sizeof res->reason, "session is %s, not active", ht_gw_state_name(gw->state));
        return HT_GW_ERR_NOT_READY;
    }
    if (HT_UNLIKELY(gw->n_open >= HT_GW_MAX_OPEN_ORDERS)) {
        snprintf(res->reason, sizeof res->reason, "%d orders are open", HT_GW_MAX_OPEN_ORDERS);
        return HT_GW_ERR_FULL;
    }
    if (HT_UNLIKELY(gw->next_clordid >= gw->reserved_clordid)) {
        uint64_t reserve = gw->next_clordid + CLORDID_BLOCK;
        if (journal_put(gw, JREC_RESERVE, &reserve, sizeof reserve, NULL, 0) < 0) {
            snprintf(res->reason, sizeof res->reason, "journal write failed (see the log)");
            return HT_GW_ERR_IO;
        }
        gw->reserved_clordid = reserve;
    }
    uint64_t id = gw->next_clordid++;
    uint64_t seq = gw->next_out;
    size_t len;
    const char *bytes = ht_fix_encode_nos(&gw->nos, gw->nos_buf, seq, ht_wall_ns(), id, order->symbol, sym_len,
                                          side > 0 ? '1' : '2', ro.qty, ro.price, &len);
    if (HT_UNLIKELY(!bytes)) { /* unreachable after the checks above; the encoder refuses on its own */
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: the order encoder refused the order");
        return HT_GW_ERR_RISK;
    }
    res->ready_tsc = ht_tsc_now();
    res->clordid = id;
    res->seq = seq;
    uint8_t head[17];
    memcpy(head, &seq, 8);
    memcpy(head + 8, &id, 8);
    head[16] = 'D';
    int64_t at = journal_put(gw, JREC_OUT, head, sizeof head, bytes, len);
    if (HT_UNLIKELY(at < 0)) {
        snprintf(res->reason, sizeof res->reason, "journal write failed (see the log)");
        return HT_GW_ERR_IO;
    }
    res->journaled_tsc = ht_tsc_now();
    gw->next_out++;
    gw->orders_journaled++;
    CRASH_POINT(gw, HT_GW_CRASH_ORDER_JOURNALED);
    int rc = 0;
    if (HT_UNLIKELY(gw->debug_skip_out)) {
        gw->debug_skip_out = false;
        gw_log(gw, "test hook: order seq %llu journaled but not transmitted", (unsigned long long)seq);
    } else {
        rc = send_bytes(gw, bytes, len);
    }
    CRASH_POINT(gw, HT_GW_CRASH_ORDER_SENT);
    res->sent_tsc = ht_tsc_now();
    index_out(gw, seq, id, 'D', (uint64_t)at, (uint32_t)len);
    add_order(gw, id, seq, inst, side, ro.qty, ro.price);
    ht_risk_commit(gw->risk, &ro, now);
    memcpy(res->clordid_text, gw->clordid_head, gw->clordid_head_len);
    res->clordid_text[gw->clordid_head_len + ht_fix_format_u64(res->clordid_text + gw->clordid_head_len, id)] = '\0';
    if (HT_UNLIKELY(rc != 0)) {
        /* Journaled: the venue will ask for it (gap) after the reconnect, or it is voided then. */
        snprintf(res->reason, sizeof res->reason, "socket send failed: %s", strerror(errno));
        close_socket(gw);
        set_state(gw, HT_GW_DISCONNECTED);
        gw->reconnect_at_ns = ht_mono_ns() + (uint64_t)gw->cfg.reconnect_min_ms * 1000000u;
        return HT_GW_ERR_IO;
    }
    return HT_GW_SENT;
}

int ht_gw_cancel(ht_gw *gw, uint64_t clordid_num, ht_error *err)
{
    open_order *o = find_order(gw, clordid_num);
    if (!o)
        return ht_error_set(err, "no open order %s%llu", gw->clordid_head, (unsigned long long)clordid_num);
    if (gw->state != HT_GW_ACTIVE)
        return ht_error_set(err, "session is %s, not active", ht_gw_state_name(gw->state));
    if (send_cancel(gw, o) != 0)
        return ht_error_set(err, "sending the cancel failed (see the log)");
    return 0;
}

void ht_gw_set_risk_clock(ht_gw *gw, uint64_t now_ns)
{
    gw->risk_clock_ns = now_ns;
}

int ht_gw_set_mark(ht_gw *gw, const char *symbol, double mark)
{
    if (!symbol_ok(symbol, symbol ? strnlen(symbol, HT_GW_SYMBOL_BYTES) : 0))
        return -1; /* no order for it could be sent: a mark for it would only hide a typo */
    return ht_risk_set_mark(gw->risk, symbol, mark);
}

int ht_gw_set_contract(ht_gw *gw, const char *symbol, const ht_contract *contract, ht_error *err)
{
    if (ht_gw_check_symbol("ht_gw_set_contract: Symbol (55)", symbol ? symbol : "", err) != 0)
        return -1;
    return ht_risk_set_contract(gw->risk, symbol, contract, err);
}

void ht_gw_kill(ht_gw *gw, const char *reason)
{
    if (ht_risk_killed(gw->risk, NULL))
        return;
    ht_risk_kill(gw->risk, reason);
    unsigned sent = 0, open = 0;
    for (size_t i = 0; i < HT_GW_MAX_OPEN_ORDERS; i++) {
        if (!gw->orders[i].clordid)
            continue;
        open++;
        if (gw->state == HT_GW_ACTIVE && send_cancel(gw, &gw->orders[i]) == 0)
            sent++;
    }
    gw_log(gw, "KILL SWITCH ENGAGED: %s; %u open orders, %u cancels sent; no new orders until rearmed", reason, open,
           sent);
    fprintf(stderr, "hedgetrig gateway: KILL SWITCH ENGAGED: %s; %u cancels sent; new orders are refused\n", reason, sent);
}

int ht_gw_rearm(ht_gw *gw, const char *who, ht_error *err)
{
    if (!ht_risk_killed(gw->risk, NULL))
        return 0;
    if (gw->cfg.kill_file[0] && access(gw->cfg.kill_file, F_OK) == 0)
        return ht_error_set(err, "kill switch stays engaged: the kill file %s still exists (remove it first)",
                            gw->cfg.kill_file);
    gw->kill_signals_seen = g_kill_signal; /* signals before this decision are answered */
    ht_risk_rearm(gw->risk);
    gw_log(gw, "KILL SWITCH REARMED by %s: new orders are accepted again", who && who[0] ? who : "(unnamed)");
    fprintf(stderr, "hedgetrig gateway: kill switch rearmed by %s\n", who && who[0] ? who : "(unnamed)");
    return 0;
}

bool ht_gw_killed(const ht_gw *gw)
{
    return ht_risk_killed(gw->risk, NULL);
}

/* The signal handler: only counts and notes the sender; ht_gw_poll acts. */
static void on_kill_signal(int signo, siginfo_t *info, void *context)
{
    (void)signo;
    (void)context;
    g_kill_sender = info ? (sig_atomic_t)info->si_pid : 0;
    if (g_kill_signal < INT_MAX / 2)
        g_kill_signal = g_kill_signal + 1;
}

int ht_gw_kill_on_signal(int signo)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_kill_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL);
}

void ht_gw_logout(ht_gw *gw, const char *text)
{
    ht_error bad;
    if (text && text[0] && ht_fix_check_value("logout Text (58)", text, strlen(text), HT_FIX_GRAMMAR_TEXT, 1, 200, &bad) != 0) {
        gw_log(gw, "%s: the Logout goes without it", bad.msg);
        text = NULL;
    }
    if (gw->state == HT_GW_ACTIVE || gw->state == HT_GW_LOGON_SENT) {
        send_simple_admin(gw, "5", NULL, text);
        set_state(gw, HT_GW_LOGOUT_SENT);
        flush_tx(gw);
    } else {
        close_socket(gw);
        set_state(gw, HT_GW_STOPPED);
    }
}

void ht_gw_on_fill(ht_gw *gw, ht_gw_fill_fn fn, void *user)
{
    gw->fill_fn = fn;
    gw->fill_user = user;
}

double ht_gw_position(const ht_gw *gw, const char *symbol)
{
    size_t len = strlen(symbol);
    for (int i = 0; i < gw->n_inst; i++)
        if (gw->inst[i].symbol_len == len && memcmp(gw->inst[i].symbol, symbol, len) == 0)
            return gw->inst[i].position;
    return 0;
}

size_t ht_gw_open_orders(const ht_gw *gw) { return gw->n_open; }
const char *ht_gw_clordid_head(const ht_gw *gw) { return gw->clordid_head; }
const char *ht_gw_last_problem(const ht_gw *gw) { return gw->last_problem; }
const char *ht_gw_pid_file(const ht_gw *gw) { return gw->pid_path; }
uint64_t ht_gw_orders_journaled(const ht_gw *gw) { return gw->orders_journaled; }
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
