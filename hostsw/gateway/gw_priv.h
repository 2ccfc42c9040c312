/* SPDX-License-Identifier: MIT */
/* Inside the gateway (not installed): the state of one FIX initiator and what its files share. gateway.c holds the
 * life cycle and accessors, gw_session.c the session (socket, logon, heartbeats, sequence numbers, resend),
 * gw_orders.c instruments, open orders and execution reports, gw_journal.c the journal records and their replay,
 * gw_kill.c the kill switch. */
#ifndef HEDGETRIG_GW_PRIV_H
#define HEDGETRIG_GW_PRIV_H

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hedgetrig/fix.h"
#include "hedgetrig/fix_account.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/risk.h"

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

#define GW_SEEN_TRADES 256 /* trade ids remembered: a trade capture report repeated within them is dropped */

/* The account messages (gw_account.c). */
typedef struct gw_account {
    bool want_positions, want_trades, want_user; /* requests to send when the credit pool has room */
    bool held_positions, held_trades, held_user; /* ... and already counted as held back */
    uint64_t pos_seq, trade_seq, user_seq;       /* outbound MsgSeqNum of the last AN, AD, BE (rejects name them) */
    char pos_req_id[HT_FIX_ACCT_ID_BYTES];       /* PosReqID of the last AN */
    uint64_t counter;                            /* request ids */
    bool snapshot_open;                          /* our AN's answer has not come yet (or not all of it) */
    bool snapshot_started;                       /* its first report came */
    int64_t snapshot_reports_left;               /* reports of the snapshot still to come (TotalNumPosReports) */
    uint64_t next_user_ns;                       /* the BE timer (monotonic) */
    ht_fix_position_report rep;                  /* the last Position Report, reported entry by entry */
    unsigned rep_next;                           /* its next entry to report (< rep.n: events are pending) */
    bool rep_snapshot;                           /* it answers our AN */
    char seen[GW_SEEN_TRADES][HT_FIX_ACCT_ID_BYTES]; /* trade ids reported lately */
    unsigned seen_next;
} gw_account;

/* The rate-limit mirror (gw_account.c): the buckets on the monotonic clock, or on the risk clock (exchange time in
 * replay) while the engine sets it. */
typedef struct gw_rate {
    ht_rate_account mono, venue;
    uint64_t venue_clock_ns; /* the risk clock's last reading (0: not started) */
    uint64_t held;           /* orders refused and requests held back because they did not fit */
    uint64_t me_changes;     /* order-to-volume: orders and cancels sent, plus one per IOC cancelled unfilled */
    double volume_contracts; /* order-to-volume: contracts filled by our orders */
    bool paid;               /* the message being finished was counted already (gw_rate_take) */
} gw_rate;

/* The io_uring send path (gw_uring.c). */
typedef struct gw_uring gw_uring;

struct ht_gw {
    ht_gw_config cfg;
    ht_journal *journal;
    gw_uring *uring;        /* send = io_uring: every send of the session goes through it; NULL for plain */
    ht_risk *risk;
    ht_fix_nos_encoder nos;
    FILE *log;
    bool own_log;
    uint64_t risk_clock_ns; /* the risk windows' clock when set (ht_gw_set_risk_clock), else 0 */
    uint64_t arm_serial;    /* bumped by what makes armed orders stale (gw_armed.c) */
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

    gw_account acct;
    gw_rate rate;

    ht_gw_fill_fn fill_fn;
    void *fill_user;

    char *rx;
    size_t rx_len;
    char *tx;
    size_t tx_len;
    char scratch[8192];
    char resend_stored[4096]; /* the journaled record of a message being resent */
    char nos_buf[HT_FIX_NOS_BUFFER_BYTES];
};

/* Bytes of a JREC_OUT record before the message: u64 seq, u64 clordid, u8 kind. */
#define JREC_OUT_HEAD_BYTES 17

/* The crash test hook: SIGKILL on the armed arrival at point (ht_gw_debug_crash_at). */
#define CRASH_POINT(gw, point)                                                                                \
    do {                                                                                                      \
        if (HT_UNLIKELY((gw)->crash_at == (point)) && --(gw)->crash_countdown == 0)                            \
            kill(getpid(), SIGKILL);                                                                          \
    } while (0)

/* ---- gateway.c: life cycle ---- */

/* Writes one timestamped line to the session log. */
void gw_log(ht_gw *gw, const char *fmt, ...) HT_PRINTF(2, 3);
/* Adds an event to the caller's array if there is room (NULL when there is none). */
ht_gw_event *gw_push_event(ht_gw_event *ev, int max, int *n, ht_gw_event_type type);

/* ---- gw_session.c: socket, session messages ---- */

void gw_close_socket(ht_gw *gw);
void gw_set_state(ht_gw *gw, ht_gw_state s);
/* Drops the connection and schedules a reconnect (unless stopping); reports HT_GW_EV_DISCONNECTED. */
void gw_disconnect(ht_gw *gw, ht_gw_event *ev, int max, int *n, const char *why);
/* Writes bytes to the socket, queueing what the kernel does not take. 0, or -1 when the queue overflows. */
int gw_send_bytes(ht_gw *gw, const char *bytes, size_t len);
/* Starts an outbound message with the standard header for sequence number seq. */
void gw_begin_msg(ht_gw *gw, ht_fix_writer *w, const char *type, uint64_t seq);
/* Finishes, journals (kind 'A': sequence only; else with the bytes) and sends a message at gw->next_out. */
int gw_finish_and_send(ht_gw *gw, ht_fix_writer *w, char kind, uint64_t clordid);
/* Sends a session Reject (35=3) of inbound seq ref_seq. */
int gw_send_reject(ht_gw *gw, uint64_t ref_seq, uint32_t ref_tag, const char *ref_type, int reason, const char *text);
/* Logs and reports a malformed or unexpected inbound message. */
void gw_report_bad(ht_gw *gw, ht_gw_event *ev, int max, int *n, uint64_t seq, const char *why);

/* ---- gw_orders.c: instruments, open orders, the venue's answers ---- */

/* Index of an instrument, creating it when create is set; -1 when unknown or the table is full. */
int gw_find_instrument(ht_gw *gw, const char *symbol, size_t len, bool create);
/* The open order with this ClOrdID number, or NULL. */
open_order *gw_find_order(ht_gw *gw, uint64_t clordid);
/* Records a new open order and its quantity on the instrument's side. */
void gw_add_order(ht_gw *gw, uint64_t clordid, uint64_t seq, int inst, int side, double qty, double price);
/* Forgets an open order and releases what is left of its quantity. */
void gw_remove_order(ht_gw *gw, open_order *o);
/* Applies an inbound execution to positions and open orders (live and on replay). Returns the instrument. */
int gw_apply_exec(ht_gw *gw, const jrec_in *r);
/* Handles an ExecutionReport (35=8): journals it, applies it, reports it. */
int gw_on_execution_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                           int max, int *n);
/* Reports a reject-like message (35=3, 9, j) as an event; journals its sequence number. */
int gw_on_reject(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max, int *n);
/* Sends a cancel for one open order (kill switch and ht_gw_cancel). */
int gw_send_cancel(ht_gw *gw, const open_order *o);
/* Clears a send result before an order is tried. */
static inline void gw_result_reset(ht_gw_send_result *res)
{
    res->clordid = 0;
    res->clordid_text[0] = '\0';
    res->reason[0] = '\0';
    res->rule = HT_RISK_OK;
    res->ready_tsc = res->journaled_tsc = res->sent_tsc = 0;
}
/* The risk inputs of the moment for an order on instrument inst (-1: none) and side (+1/-1): its position, the
 * open quantity on that side (signed like the side) and the risk clock. */
void gw_risk_inputs(const ht_gw *gw, int inst, int side, double *position, double *open_same, uint64_t *now);
/* The session's half of the final gate, shared by ht_gw_send_order and ht_gw_fire_armed: logged on, room for an
 * open order, the [rate] matching-engine budget (taken), ClOrdIDs reserved. HT_GW_SENT or the HT_GW_ERR_* with
 * res->reason. */
int gw_order_gate(ht_gw *gw, ht_gw_send_result *res);
/* Stamps ready, journals and sends an encoded order (MsgSeqNum seq = gw->next_out, ClOrdID number id) and does the
 * bookkeeping of a sent order: the outbound index, the open order, the risk windows, res. HT_GW_SENT or
 * HT_GW_ERR_IO. */
int gw_order_out(ht_gw *gw, uint64_t seq, uint64_t id, int inst, const ht_risk_order *ro, uint64_t now,
                 const char *bytes, size_t len, ht_gw_send_result *res);
/* Makes every armed order of the gateway stale (gw_armed.c). */
void gw_armed_invalidate(ht_gw *gw);

/* ---- gw_account.c: account messages, the rate-limit mirror ---- */

void gw_rate_init(ht_gw *gw);
/* Takes one request of a budget (me: matching engine, else the credit pool) when both mirrors have room for it and
 * the reserve; false (nothing taken) otherwise. */
bool gw_rate_take(ht_gw *gw, bool me);
/* Counts one request whatever the room (session messages that must go out). */
void gw_rate_charge(ht_gw *gw, bool me);
/* An order of ours ended: cancelled_rest when it ended cancelled with quantity left (order-to-volume counts it
 * twice), filled its contracts. */
void gw_rate_order_done(ht_gw *gw, bool cancelled_rest, double filled);
void gw_account_on_logon(ht_gw *gw);
void gw_account_after_fill(ht_gw *gw);
/* Sends the account requests that are due and fit. */
void gw_account_tick(ht_gw *gw, uint64_t now);
/* A Reject or BusinessMessageReject of ref_seq: reported when it refused one of our account requests. */
void gw_account_on_reject(ht_gw *gw, uint64_t ref_seq, const char *text, ht_gw_event *ev, int max, int *n);
/* Position events not yet reported (a report with more entries than there was room for). */
bool gw_account_pending(const ht_gw *gw);
void gw_account_drain(ht_gw *gw, ht_gw_event *ev, int max, int *n);
int gw_on_position_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                          int *n);
int gw_on_trade_capture_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                               int max, int *n);
int gw_on_trade_request_ack(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                            int max, int *n);
int gw_on_user_response(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                        int *n);

/* ---- gw_journal.c: records, the outbound index, replay ---- */

/* Appends a record; on failure logs, closes the session and returns -1. */
int64_t gw_journal_put(ht_gw *gw, uint8_t type, const void *head, size_t head_len, const void *body, size_t body_len);
/* Remembers where the message of an outbound sequence number is (grows off the order path, geometrically). */
int gw_index_out(ht_gw *gw, uint64_t seq, uint64_t clordid, char kind, uint64_t offset, uint32_t len);
/* The index entry of an outbound sequence number, or NULL. */
const out_entry *gw_lookup_out(const ht_gw *gw, uint64_t seq);
/* Journals that an inbound message's sequence number was consumed (its MsgType, nothing else). 0, or -1. */
int gw_journal_in_seq(ht_gw *gw, const ht_fix_msg *m, uint64_t seq);
/* Opens the journal (replaying it, or writing a fresh one's header) and sets the ClOrdID head from it. 0, or -1. */
int gw_journal_start(ht_gw *gw, ht_error *err);

/* ---- gw_uring.c: the io_uring send path (send = io_uring) ---- */

/* Sets up the ring and its polling thread when the config asks for io_uring. 0, or -1 with err naming the key (a
 * build without liburing, or a kernel or container that refuses the ring: never a silent fallback to plain). */
int gw_uring_create(ht_gw *gw, ht_error *err);
void gw_uring_destroy(ht_gw *gw);
/* gw_send_bytes through the ring: copies and queues the bytes, writes a ring entry when nothing is in flight.
 * 0, or -1 with errno (an earlier send failed, or the staging buffer is full). */
int gw_uring_send(ht_gw *gw, const char *bytes, size_t len);
/* Reaps completions and submits what is queued (ht_gw_poll). 0, or -1 with errno when a send failed (logged). */
int gw_uring_flush(ht_gw *gw);
/* Bytes queued or in flight, or an error to report. */
bool gw_uring_busy(const ht_gw *gw);
/* The ring's file descriptor (readable when a completion waits), -1 without a ring. */
int gw_uring_fd(const ht_gw *gw);
/* Before the socket closes: ends a send in flight (shutdown, waits at most 1 s) and forgets what was queued. */
void gw_uring_drop(ht_gw *gw);

/* ---- gw_kill.c: the kill switch's sources ---- */

/* Engages the kill switch if the signal arrived or the kill file appeared. */
void gw_check_kill_sources(ht_gw *gw, uint64_t now, ht_gw_event *ev, int max, int *n);

#endif
