/* SPDX-License-Identifier: MIT */
/* Inside the exchange simulator (not installed): its state and what its files share. exchange.c holds the life
 * cycle, configuration, the capture loader and the connection loop; xsim_session.c the FIX acceptor session (logon,
 * sequence numbers, resends, the MsgType dispatch); xsim_orders.c the books, IOC matching, ExecutionReports and the
 * record file; xsim_ledger.c the account (positions, trades, P&L, margins), its clock and the script's events;
 * xsim_account.c the account's messages (AN/AP, AD/AQ/AE, BE/BF) and the rate limits; xsim_script.c the script
 * parser. */
#ifndef HEDGETRIG_XSIM_PRIV_H
#define HEDGETRIG_XSIM_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"
#include "hedgetrig/ratelimit.h"
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
    /* account subscriptions (xsim_account.c) */
    bool pos_subscribed;     /* AN with updates: a Position Report follows every position change */
    char pos_req_id[64];     /* its PosReqID, echoed in the updates */
    uint64_t pos_seen;       /* the account's change counter when this connection was last told */
    bool trades_subscribed;  /* AD with updates: a Trade Capture Report follows every trade not of its orders */
    char trade_req_id[64];
    size_t trades_seen;      /* trades[] index up to which this connection was told */
} conn;

/* Who made a trade on the account. */
typedef enum xsim_trade_source {
    XSIM_TRADE_ORDER = 0,    /* an order of a session (session names it) */
    XSIM_TRADE_OTHER,        /* the script's fill: another session of the account */
    XSIM_TRADE_LIQUIDATION,  /* the script's liquidation */
    XSIM_TRADE_SETTLEMENT,   /* the script's settle: delivery at expiry */
} xsim_trade_source;

/* One trade on the account. */
typedef struct xsim_trade {
    uint64_t id;
    char symbol[32];
    double contracts;    /* signed: positive when the account bought */
    double px;           /* the trade's price (settlement: the instrument's value at the delivery price) */
    double delivery_px;  /* settlement: the delivery price, else 0 */
    xsim_trade_source source;
    char session[32];    /* the CompID whose order made it ("" for the script's trades) */
    uint64_t wall_ns;
} xsim_trade;

/* The account's position in one instrument. */
typedef struct xsim_position {
    char symbol[32];
    double contracts; /* signed */
    double avg_px;    /* average entry price of the open position (0: flat) */
    double last_px;   /* the last trade's price */
    double mark;      /* set by ht_xsim_set_mark (0: none) */
    uint64_t changed; /* the account's change counter at its last change */
} xsim_position;

/* The one account every session trades on (xsim_ledger.c). Guarded by ht_xsim.lock. */
typedef struct xsim_account {
    xsim_position pos[HT_XSIM_MAX_SYMBOLS];
    size_t n_pos;
    uint64_t changes;     /* counts position changes: a connection told up to it has seen every one */
    double realised_coin, fees_coin;
    xsim_trade *trades;
    size_t n_trades, cap_trades;
} xsim_account;

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
    /* the account, its script and its clock (xsim_ledger.c) */
    xsim_account acct;
    ht_xsim_event *script;
    size_t n_script, next_event;
    size_t script_done;       /* events run and sent (xsim_ledger_run_script), for ht_xsim_set_clock to wait on */
    pthread_cond_t script_cv; /* signalled when script_done grows */
    bool clock_external;      /* ht_xsim_set_clock was called: the script runs on that clock */
    uint64_t clock_ns, clock_origin_ns;
    uint64_t first_logon_ns;  /* monotonic; 0: no logon yet */
    int wake_fd;              /* an eventfd: set_clock and set_position wake the loop */
    /* the rate limits (xsim_account.c): one account, one pair of buckets */
    ht_rate_account rate;
    uint64_t report_id;       /* PosMaintRptIDs given */
};

/* ---- exchange.c: log, connections ---- */

/* Writes a line to the simulator's log, if any. */
void xsim_log(ht_xsim *x, const char *fmt, ...) HT_PRINTF(2, 3);
/* Sends (or queues for latency_us) bytes on a connection. */
void xsim_transmit(ht_xsim *x, conn *c, const char *bytes, size_t len);
/* Closes a connection; the session store (sequence numbers) stays for the reconnect. */
void xsim_drop_conn(ht_xsim *x, conn *c, const char *why);

/* ---- xsim_session.c: the acceptor session ---- */

/* Starts a message to the connection's counterparty with sequence number seq. */
void xsim_begin_out(ht_xsim *x, conn *c, ht_fix_writer *w, const char *type, uint64_t seq);
/* Finishes a message, stores it for resends under the next sequence number and transmits it (unless withheld). */
void xsim_send_out(ht_xsim *x, conn *c, ht_fix_writer *w, bool app, bool withhold);
/* Sends an admin message (Heartbeat, TestRequest, Logout, ResendRequest) with optional fields. */
void xsim_send_admin(ht_xsim *x, conn *c, const char *type, const char *test_req_id, const char *text,
                     uint64_t resend_from);
/* Sends a session Reject (35=3). */
void xsim_send_session_reject(ht_xsim *x, conn *c, uint64_t ref_seq, uint32_t tag, const char *type, int reason,
                              const char *text);
/* Copies an inbound string field of a grammar into out, or rejects the message (see xsim_session.c). */
bool xsim_inbound_value(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, const char *type, uint32_t tag,
                        const char *name, ht_fix_grammar grammar, char *out, size_t cap);
/* Handles one inbound message on a connection. */
void xsim_on_message(ht_xsim *x, conn *c, const ht_fix_msg *m);
/* Frees what a session store holds (its stored messages and ClOrdIDs). */
void xsim_free_store(session_store *s);

/* ---- xsim_orders.c: books, matching, reports ---- */

/* Handles a NewOrderSingle (35=D). */
void xsim_on_new_order(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, bool poss_dup);
/* Handles an OrderCancelRequest (35=F): every order is immediate-or-cancel, so it is too late. */
void xsim_on_cancel_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq);
/* The book of a symbol (created empty when create is set), or NULL. Caller holds the lock. */
book *xsim_find_book(ht_xsim *x, const char *symbol, bool create);

/* ---- xsim_ledger.c: the account ---- */

/* Books a trade on the account (position, average price, realised P&L, fee) and keeps it for trade capture.
 * Caller holds the lock. 0, or -1 when there is no room for the symbol or the trade. */
int xsim_ledger_trade(ht_xsim *x, const char *symbol, double contracts, double px, double fee, xsim_trade_source src,
                      const char *session, double delivery_px);
/* Runs the script's events that are due on its clock (the loop's thread). */
void xsim_ledger_run_script(ht_xsim *x);
/* Marks the first logon (the standalone script clock starts there). */
void xsim_ledger_logon(ht_xsim *x);
/* The price a position is marked at: its set mark, else the book's mid, else the last trade, else its entry.
 * Caller holds the lock. */
double xsim_ledger_mark(ht_xsim *x, const xsim_position *p);
/* The account's figures (caller holds the lock). */
void xsim_ledger_figures(ht_xsim *x, ht_xsim_account *out);
/* Frees the account's trades and the script. */
void xsim_ledger_free(ht_xsim *x);

/* ---- xsim_account.c: the account's messages and the rate limits ---- */

/* Charges an in-sequence message to the rate limits: true when it may be handled; false after refusing it with
 * too_many_requests (10028) and ending the session. */
bool xsim_rate_admit(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq);
/* Sends what subscribed connections have not been told yet: trade capture reports, then position updates. */
void xsim_account_flush(ht_xsim *x);
/* Request For Positions (AN), TradeCaptureReportRequest (AD), User Request (BE). */
void xsim_on_pos_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq);
void xsim_on_trade_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq);
void xsim_on_user_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq);

#endif
