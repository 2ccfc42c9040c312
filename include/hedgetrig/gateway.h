/* SPDX-License-Identifier: MIT */
/* The order gateway: a FIX 4.4 initiator in Deribit's dialect with pre-trade risk, a journal and a kill switch. */
#ifndef HEDGETRIG_GATEWAY_H
#define HEDGETRIG_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hedgetrig/common.h"
#include "hedgetrig/conf.h" /* ht_conf_read, which ht_gw_config_load and the simulators' loaders follow */
#include "hedgetrig/fix.h"
#include "hedgetrig/journal.h"
#include "hedgetrig/ratelimit.h"
#include "hedgetrig/risk.h"

/* Threading: one ht_gw belongs to one thread. ht_gw_send_order and ht_gw_poll take no lock and never block;
 * the order path allocates nothing; its syscalls are the socket send and, with journal_mode = write, the journal
 * write (docs/gateway.md "Journal modes").
 * ht_gw_wait is the only call that sleeps. */

#define HT_GW_SYMBOL_BYTES 32
#define HT_GW_MAX_INSTRUMENTS 64
#define HT_GW_MAX_OPEN_ORDERS 1024
/* Room for a ClOrdID: Deribit takes at most 64 characters (FIX New Order Single, tag 11). */
#define HT_GW_CLORDID_BYTES 65

/* How the session's bytes reach the socket ([gateway] send, docs/gateway.md "The send"). */
typedef enum ht_gw_send_mode {
    HT_GW_SEND_PLAIN = 0,    /* send() from the calling thread (default) */
    HT_GW_SEND_IO_URING,     /* every send of the session through an io_uring with a submission-queue polling kernel
                              * thread (IORING_SETUP_SQPOLL): the order path writes a ring entry, completions are reaped
                              * by ht_gw_poll; needs a build with liburing, and a kernel and container that allow it */
} ht_gw_send_mode;

/* Everything the gateway is configured with. Fill with ht_gw_config_default, then ht_gw_config_load
 * (the [gateway] and [risk] sections of a config file) and ht_gw_secrets_load. Keys: docs/gateway.md. */
typedef struct ht_gw_config {
    char host[128];                 /* venue host name or address */
    uint16_t port;                  /* venue TCP port, 1..65535 */
    char sender_comp_id[32];        /* our CompID (49), 1..31 characters of A-Z a-z 0-9 . _ - */
    char target_comp_id[32];        /* the venue's CompID (56), the same grammar */
    char client_id[128];            /* Deribit client id -> Username (553), the same grammar; from the secrets file or
                                     * environment */
    char client_secret[128];        /* Deribit client secret (printable ASCII, no space): signs the logon, never
                                     * logged or journaled */
    uint32_t heartbeat_s;           /* HeartBtInt (108), 1..300 */
    bool cancel_on_disconnect;      /* CancelOnDisconnect (9001) */
    bool reset_seq_on_logon;        /* send ResetSeqNumFlag (141=Y) and start both sequences at 1 */
    char journal_path[256];         /* the journal file (required: it guarantees ClOrdIDs are never reused) */
    ht_journal_fsync journal_fsync; /* never | always | interval */
    uint32_t journal_fsync_interval_ms; /* 1..60000, for interval */
    ht_journal_tail journal_tail;   /* refuse | truncate a corrupt journal tail */
    ht_journal_mode journal_mode;   /* write (pwritev per record) | mmap (default: no syscall per order; always is
                                     * refused with it) */
    ht_gw_send_mode send;           /* plain (default) | io_uring */
    uint32_t send_sq_idle_ms;       /* io_uring: the polling thread sleeps after this long without a send (then the
                                     * next send wakes it with a syscall), 1..60000, default 1000 */
    int send_sq_cpu;                /* io_uring: the CPU the polling thread is bound to (IORING_SETUP_SQ_AFF), 0..4095;
                                     * -1 (default): where the scheduler puts it */
    bool resend_orders;             /* answer a ResendRequest by resending orders (PossDupFlag=Y) instead of gap-filling them */
    char clordid_prefix[16];        /* put before the journal's session tag and the ClOrdID number, 0..15 characters
                                     * of A-Z a-z 0-9 . _ - */
    unsigned qty_decimals;          /* digits after the point in OrderQty, 0..9 */
    unsigned price_decimals;        /* digits after the point in Price, 0..9 */
    uint32_t connect_timeout_ms;    /* TCP connect + logon answer, 100..600000 */
    uint32_t reconnect_min_ms;      /* first reconnect delay, 10..600000; doubles on each failure */
    uint32_t reconnect_max_ms;      /* ceiling of the delay, >= reconnect_min_ms */
    uint32_t reconnect_max_attempts;/* give up after this many failed connects in a row (0 = never) */
    uint32_t max_msg_bytes;         /* largest inbound message accepted, 256..1048576 */
    char kill_file[256];            /* if this file appears, the kill switch engages (its first line is the reason) */
    char log_path[256];             /* session log ("" = stderr; "-" = stdout) */
    /* The account messages (docs/gateway.md, "Positions, trades and the account"), all sent at every logon: */
    bool positions;                 /* positions = subscribe: RequestForPositions (AN), snapshot + updates */
    bool trade_capture;             /* trade_capture = subscribe: TradeCaptureReportRequest (AD) */
    uint32_t account_interval_ms;   /* User Request (BE) every this often and after our fills; 0 = no BE at all */
    char account_currency[16];      /* Currency (15) of the BE: A-Z 0-9, 1..15 characters */
    ht_risk_limits risk;            /* [risk] section */
    ht_rate_config rate;            /* [rate] section: Deribit's request limits, mirrored (hedgetrig/ratelimit.h) */
} ht_gw_config;

/* Defaults: heartbeat 30 s, fsync interval 100 ms, reconnect 100 ms .. 10 s, prefix "ht", 8 decimals, ... */
void ht_gw_config_default(ht_gw_config *cfg);

/* Reads "key = value" lines of the [gateway], [risk] and [rate] sections of the file at path over cfg ('#' starts a
 * comment; the whole file is checked as ht_conf_read says, other commands' sections included).
 * Returns 0 or -1 with err naming the file, the line and what was expected. */
int ht_gw_config_load(ht_gw_config *cfg, const char *path, ht_error *err);

/* The string grammar of every config value that reaches the wire (docs/gateway.md, "String grammar"): field
 * names the input in the error ("--symbol", "Symbol (55)"). 0, or -1 with err naming the byte and its offset.
 * Symbol (55): 1..31 characters of A-Z 0-9 _ - (Deribit's instrument names). */
int ht_gw_check_symbol(const char *field, const char *symbol, ht_error *err);
/* SenderCompID (49) / TargetCompID (56): 1..31 characters of A-Z a-z 0-9 . _ - */
int ht_gw_check_comp_id(const char *field, const char *comp_id, ht_error *err);
/* The ClOrdID prefix: 0..15 characters of A-Z a-z 0-9 . _ - (the whole ClOrdID stays within Deribit's 64). */
int ht_gw_check_clordid_prefix(const char *field, const char *prefix, ht_error *err);
/* The client id (Username 553): 1..127 characters of A-Z a-z 0-9 . _ - */
int ht_gw_check_client_id(const char *field, const char *client_id, ht_error *err);
/* The client secret (never sent; signs the logon): 1..127 characters of printable ASCII without space. */
int ht_gw_check_client_secret(const char *field, const char *secret, ht_error *err);
/* Checks every string of cfg that reaches the wire against its grammar (ht_gw_create calls it). 0 or -1 with err. */
int ht_gw_config_check_strings(const ht_gw_config *cfg, ht_error *err);

/* Loads the client id and secret. If secrets_path is non-NULL and non-empty, reads "client_id = ..." and
 * "client_secret = ..." from that file, which must be a regular file with no group/other permissions (0600
 * or 0400); otherwise from the environment variables HT_DERIBIT_CLIENT_ID and HT_DERIBIT_CLIENT_SECRET (when
 * set). Returns 0 or -1 with err (which never contains the secret). */
int ht_gw_secrets_load(ht_gw_config *cfg, const char *secrets_path, ht_error *err);

/* Builds the Deribit logon proof: raw_data = "<ms timestamp>.<base64 of 32 random bytes>" and
 * password = base64(sha256(raw_data || secret)). raw_data needs 64 bytes, password 45. */
int ht_gw_deribit_auth(uint64_t wall_ms, const char *secret, char raw_data[64], char password[45], ht_error *err);

typedef enum ht_gw_state {
    HT_GW_DISCONNECTED = 0, /* waiting to (re)connect */
    HT_GW_CONNECTING,       /* TCP connect in progress */
    HT_GW_LOGON_SENT,       /* waiting for the venue's Logon */
    HT_GW_ACTIVE,           /* logged on: orders may be sent */
    HT_GW_LOGOUT_SENT,      /* waiting for the venue's Logout */
    HT_GW_STOPPED,          /* logged out or gave up: no more reconnects */
} ht_gw_state;

typedef enum ht_gw_side { HT_GW_BUY = 1, HT_GW_SELL = 2 } ht_gw_side;

/* A hedge order: always a limit, immediate-or-cancel. */
typedef struct ht_gw_order {
    const char *symbol;  /* instrument, 1..31 characters of A-Z 0-9 _ - (e.g. "BTC-PERPETUAL"); anything else is
                          * refused as bad_order, naming the byte */
    ht_gw_side side;
    double qty;          /* contracts (OrderQty 38, sent with QtyType 854 = 1: docs/units.md), > 0 */
    double price;        /* limit price, > 0 */
    /* The market-data frame that triggered the order (Deribit multicast frame header: channel, sequence), sent as
     * DeribitLabel (100010) "t<channel>.<seq>" (docs/gateway.md "Trigger on the wire"). trigger_seq 0: none, no
     * label. */
    uint16_t trigger_channel;
    uint64_t trigger_seq;
} ht_gw_order;

/* Results of ht_gw_send_order. */
enum {
    HT_GW_SENT = 0,          /* encoded, journaled and handed to the socket (or queued behind earlier bytes) */
    HT_GW_ERR_RISK = 1,      /* refused by a risk rule (result.rule, result.reason); nothing left */
    HT_GW_ERR_NOT_READY = 2, /* not logged on; nothing left */
    HT_GW_ERR_FULL = 3,      /* HT_GW_MAX_OPEN_ORDERS orders are open; nothing left */
    HT_GW_ERR_IO = 4,        /* the journal or the socket failed (reason); the session is closed */
    HT_GW_ERR_RATE = 5,      /* the venue's matching-engine budget ([rate]) has no room now (reason); nothing left */
    HT_GW_ERR_STALE = 6,     /* ht_gw_fire_armed: the armed order is not armed, or stale (the gateway can no longer
                                vouch for it: arm it again); nothing left */
};

typedef struct ht_gw_send_result {
    uint64_t clordid;         /* ClOrdID number (the wire ClOrdID is ht_gw_clordid_head + this number) */
    char clordid_text[HT_GW_CLORDID_BYTES]; /* the wire ClOrdID */
    uint64_t seq;             /* MsgSeqNum used */
    uint64_t ready_tsc;       /* ht_tsc_now() when the encoded bytes were ready (before journal and send) */
    uint64_t journaled_tsc;   /* ht_tsc_now() after the journal write (write-ahead: before the send) */
    uint64_t sent_tsc;        /* ht_tsc_now() after the send syscall returned (send = io_uring: the ring entry
                               * was written) */
    ht_risk_rule rule;        /* HT_RISK_OK, or the rule that refused the order */
    char reason[256];         /* why it was refused (empty when sent) */
} ht_gw_send_result;

/* What ht_gw_poll reports. */
typedef enum ht_gw_event_type {
    HT_GW_EV_LOGON = 1,        /* session established (text: "resumed at seq ..." or "new session") */
    HT_GW_EV_LOGOUT,           /* the venue or we logged out (text: reason) */
    HT_GW_EV_DISCONNECTED,     /* the connection dropped (text: why); a reconnect follows unless STOPPED */
    HT_GW_EV_EXEC,             /* an ExecutionReport (35=8) */
    HT_GW_EV_CANCEL_REJECT,    /* an OrderCancelReject (35=9) */
    HT_GW_EV_SESSION_REJECT,   /* a Reject (35=3) of one of our messages: ref_seq, reason_code, text */
    HT_GW_EV_BUSINESS_REJECT,  /* a BusinessMessageReject (35=j): ref_seq, reason_code, text */
    HT_GW_EV_ORDER_VOID,       /* an order of ours was gap-filled on a resend: it never reached the venue */
    HT_GW_EV_KILL,             /* the kill switch engaged (text: reason and the number of cancels sent) */
    HT_GW_EV_BAD_MESSAGE,      /* an inbound message was malformed and dropped or rejected (text: why) */
    HT_GW_EV_GIVE_UP,          /* reconnect_max_attempts failed in a row: state is STOPPED */
    /* The account messages (positions, trade capture, user status; docs/gateway.md, "Positions, trades and the
     * account"): */
    HT_GW_EV_POSITION,         /* the venue's position in symbol: position, mark_px, snapshot, snapshot_end */
    HT_GW_EV_TRADE,            /* a trade on the account not made by our orders: symbol, side, last_qty, last_px,
                                  trade_source, exec_id (the venue's trade id) */
    HT_GW_EV_ACCOUNT,          /* the account's figures (User Response): currency, equity, balance, margins */
    HT_GW_EV_ACCOUNT_REFUSED,  /* the venue refused a position, trade capture or user request (text: which, why);
                                  the session goes on without it */
} ht_gw_event_type;

typedef struct ht_gw_event {
    ht_gw_event_type type;
    uint64_t recv_tsc;          /* ht_tsc_now() when the bytes were read */
    uint64_t seq;               /* the inbound MsgSeqNum (0 for local events) */
    char clordid[HT_GW_CLORDID_BYTES]; /* ClOrdID (11) as sent */
    uint64_t clordid_num;       /* its number when it is one of ours, else 0 */
    char order_id[48];          /* OrderID (37) */
    char exec_id[48];           /* ExecID (17) */
    char symbol[HT_GW_SYMBOL_BYTES];
    char exec_type;             /* ExecType (150): '0' new, 'F' trade, '4' canceled, '8' rejected, ... */
    char ord_status;            /* OrdStatus (39) */
    ht_gw_side side;
    double order_qty, last_qty, last_px, cum_qty, leaves_qty, avg_px, commission;
    double position_after;      /* the instrument's position after this report */
    uint64_t ref_seq;           /* RefSeqNum (45) for rejects */
    int reason_code;            /* SessionRejectReason (373), BusinessRejectReason (380), OrdRejReason (103) */
    char text[256];             /* Text (58) or a description */
    /* POSITION, TRADE, ACCOUNT */
    double position;            /* POSITION: the venue's signed position, contracts (positive long) */
    double mark_px;             /* POSITION: the venue's mark (0 when not given) */
    bool snapshot, snapshot_end;/* POSITION: part of the answer to our subscription; its last entry */
    int trade_source;           /* TRADE: 0 another session, 1 liquidation, 2 settlement (ht_venue_trade_source) */
    char currency[16];          /* ACCOUNT */
    double equity, balance, initial_margin, maintenance_margin; /* ACCOUNT: NAN where the venue did not say */
} ht_gw_event;

/* A fill, as pushed to the fill callback: the pipeline's hedge inventory changes by side*qty. */
typedef struct ht_gw_fill {
    const char *symbol;
    ht_gw_side side;
    double qty;             /* LastQty (> 0) */
    double price;           /* LastPx */
    double position_after;  /* signed position of the instrument after the fill */
    uint64_t clordid_num;
    uint64_t recv_tsc;
} ht_gw_fill;
typedef void (*ht_gw_fill_fn)(void *user, const ht_gw_fill *fill);

typedef struct ht_gw ht_gw;

/* Validates cfg, opens (and replays) the journal, and prepares the session; connects on the first poll.
 * After a restart it resumes the sequence numbers, positions, open orders and ClOrdID counter from the
 * journal. Returns NULL with err on a bad config or an unusable journal. */
ht_gw *ht_gw_create(const ht_gw_config *cfg, ht_error *err);

/* Drives everything that is not an order: connect, logon, reads, session messages, resends, heartbeats,
 * timers, the kill file and signal. Never blocks. Writes up to max_events events; returns how many. */
int ht_gw_poll(ht_gw *gw, ht_gw_event *events, int max_events);

/* Sleeps until the socket is readable or a timer is due, at most timeout_ms. For callers without their own
 * event loop (the CLI, tests); a latency-critical caller polls instead. */
void ht_gw_wait(ht_gw *gw, int timeout_ms);

/* Risk-checks, encodes, journals and sends one IOC limit order. See the HT_GW_* results. */
int ht_gw_send_order(ht_gw *gw, const ht_gw_order *order, ht_gw_send_result *result);

/* An order armed ahead of its trigger (docs/gateway.md "Armed orders"): checked by the rules that do not depend on
 * the moment and encoded, so that ht_gw_fire_armed only applies the final gate and patches the fields of the moment.
 * Plain data (no pointer into it is kept): it may be copied, and lives wherever the caller keeps it. */
typedef struct ht_gw_armed {
    bool armed;              /* false: never armed, refused, fired, or found stale */
    const struct ht_gw *gw;  /* the gateway that armed it (another one's is stale) */
    uint64_t serial;         /* the gateway's arming serial then (bumped by what makes armed orders stale) */
    int inst;                /* the gateway's instrument index */
    int risk_index;          /* the risk state's entry of the symbol (-1: none yet) */
    int side;                /* +1 buy, -1 sell */
    double qty, price;       /* as on the wire (rounded to qty_decimals / price_decimals) */
    char symbol[HT_GW_SYMBOL_BYTES];
    ht_fix_armed_nos nos;    /* the encoded tail and its patch points */
} ht_gw_armed;

/* Arms an order: the static rules (Symbol an instrument name, qty and price numbers > 0 once written, bad_order,
 * max_order_qty, room in the instrument table) and the encoding (ht_fix_arm_nos). The order's trigger fields are
 * ignored (the trigger comes with the fire). Any state of the session. HT_GW_SENT (0, out->armed) or HT_GW_ERR_RISK
 * (result->rule, result->reason; out->armed false). No syscall, no allocation. */
int ht_gw_arm_order(ht_gw *gw, const ht_gw_order *order, ht_gw_armed *out, ht_gw_send_result *result);

/* Fires an armed order with qty contracts (rounded to qty_decimals; a quantity other than the armed one is checked
 * again by the static quantity rules and must fit the armed OrderQty width, else HT_GW_ERR_RISK) and its trigger:
 * the final gate (kill switch, max_position, no_mark and collar against the mark of the moment, order rate,
 * notional and duplicate windows: ht_risk_check_moment, the code ht_gw_send_order runs; then the session active,
 * room for an open order, the [rate] budget), then the fields of the moment are patched in and the order is
 * journaled and sent with the bookkeeping of ht_gw_send_order. Results as ht_gw_send_order's, plus HT_GW_ERR_STALE
 * (armed->armed set false) when it was not armed or the gateway can no longer vouch for it: ht_gw_set_contract,
 * any session state change (logon, disconnect, logout: the sequence numbers may restart), the kill switch and its
 * release. A refused order stays armed; one that went out (HT_GW_SENT, or HT_GW_ERR_IO after the journal) is spent
 * (armed false). No allocation, no lock; the syscalls are those of ht_gw_send_order (the send, and the journal write
 * in journal_mode = write). */
int ht_gw_fire_armed(ht_gw *gw, ht_gw_armed *armed, double qty, uint16_t trigger_channel, uint64_t trigger_seq,
                     ht_gw_send_result *result);

/* Sends an OrderCancelRequest (35=F) for an open order of ours. 0, or -1 with err. */
int ht_gw_cancel(ht_gw *gw, uint64_t clordid_num, ht_error *err);

/* Sets the clock the risk windows (order rate, notional per interval, duplicates) read for the next orders, in ns,
 * e.g. the exchange time of a replay so that which orders pass does not depend on the machine's speed. It must
 * not go backwards. 0 (the default) returns to the monotonic clock. */
void ht_gw_set_risk_clock(ht_gw *gw, uint64_t now_ns);

/* Sets the mark price the risk collar measures from. 0 or -1 (symbol table full, or not an instrument name). */
int ht_gw_set_mark(ht_gw *gw, const char *symbol, double mark);

/* Sets the symbol's contract (hedgetrig/units.h): ContractMultiplier and kind, which the max_notional rule
 * converts order quantities (contracts) to USD with (ht_risk_set_contract). 0, or -1 with err. */
int ht_gw_set_contract(ht_gw *gw, const char *symbol, const ht_contract *contract, ht_error *err);

/* Engages the kill switch: cancels every open order, refuses new ones, logs and reports HT_GW_EV_KILL. */
void ht_gw_kill(ht_gw *gw, const char *reason);
bool ht_gw_killed(const ht_gw *gw);

/* Releases the kill switch, an operator's decision (the gateway never does it by itself): logs who did it, and
 * kill signals received until now are answered (a later one engages it again). Refused with err while the kill
 * file exists. 0 (also when it was not engaged), or -1 with err. */
int ht_gw_rearm(ht_gw *gw, const char *who, ht_error *err);

/* Makes signo (e.g. SIGUSR1) engage the kill switch of every gateway at its next poll. 0 or -1. */
int ht_gw_kill_on_signal(int signo);

/* Which process is a gateway. Every gateway holds <journal>.pid while it lives: created (or a stale one taken
 * over) in ht_gw_create, locked (an open-file-description lock, so it also stops a second gateway on the same
 * journal, in another process or this one), holding "hedgetrig-gateway PID START" where START is the process's
 * start time in clock ticks since boot (a reused pid has another), and removed by ht_gw_destroy. A crashed
 * gateway leaves the file unlocked: stale. */
const char *ht_gw_pid_file(const ht_gw *gw);
/* 0 when pid is a running gateway that catches SIGUSR1: among its open files (/proc/PID/fd) is a pid file that is
 * locked and names this pid and start time; its path goes to pid_path. Else -1 with err saying what it is. */
int ht_gw_check_process(int pid, char *pid_path, size_t cap, ht_error *err);
/* The pid of the gateway holding the pid file, or -1 with err (absent; not a pid file; stale: names the pid). */
int ht_gw_pid_file_holder(const char *pid_path, ht_error *err);
/* Engages the kill switch of the gateway process pid with a reason: checks it as ht_gw_check_process does, leaves
 * the reason in <pid file>.reason (the gateway logs it), and sends SIGUSR1 through a pidfd opened before the
 * checks, so a pid that is reused between the checks and the signal is never signalled. 0, or -1 with err
 * (nothing was sent). */
int ht_gw_signal_kill(int pid, const char *reason, char *pid_path, size_t cap, ht_error *err);

/* Sends Logout with text as its Text (58) when text is printable ASCII (else without Text, and the log says
 * which byte was refused); the session stops (no reconnect) when the venue answers or after 2 s. */
void ht_gw_logout(ht_gw *gw, const char *text);

/* Registers the fill callback (called from ht_gw_poll, after the position is updated). fn may be NULL. */
void ht_gw_on_fill(ht_gw *gw, ht_gw_fill_fn fn, void *user);

/* The signed position of an instrument (0 when unknown). */
double ht_gw_position(const ht_gw *gw, const char *symbol);
/* Open orders right now. */
size_t ht_gw_open_orders(const ht_gw *gw);
/* The venue's request limits as the gateway mirrors them now ([rate]; docs/gateway.md, "Rate limits"). */
struct ht_venue_limits;
void ht_gw_get_limits(ht_gw *gw, struct ht_venue_limits *out);
/* What every ClOrdID of this journal starts with: clordid_prefix, the journal's session tag (12 characters: the
 * journal's creation time in seconds and 25 random bits, in base 32) and '-'; the number follows. The tag is
 * made when the journal is created and kept in its header, so a restart continues the same ids and two fresh
 * journals never produce the same one. A journal written before session tags existed keeps prefix + number. */
const char *ht_gw_clordid_head(const ht_gw *gw);
/* Why the session last went down or was refused ("" when it never was): the venue's Logout text, a sequence
 * number problem with its remedy (reset_seq_on_logon, or another journal), a connect error. */
const char *ht_gw_last_problem(const ht_gw *gw);
/* True when this build has the io_uring send path (built with liburing). */
bool ht_gw_io_uring_built(void);

/* What the io_uring send path has done (all 0 with send = plain). */
typedef struct ht_gw_uring_stats {
    uint64_t sends;        /* ring entries written */
    uint64_t short_sends;  /* completions that sent less than asked (the rest was sent again, in order) */
    uint64_t wakeups;      /* sends that found the polling thread asleep and woke it (a syscall) */
    uint64_t queued;       /* sends queued behind one in flight (submitted when it completed) */
} ht_gw_uring_stats;
void ht_gw_uring_stats_get(const ht_gw *gw, ht_gw_uring_stats *stats);

/* The journal's counters (mode, mapped bytes, grows off and on the order path, syncs). */
void ht_gw_journal_stats(const ht_gw *gw, ht_journal_stats *stats);
/* NewOrderSingles in the journal (across restarts). */
uint64_t ht_gw_orders_journaled(const ht_gw *gw);
ht_gw_state ht_gw_get_state(const ht_gw *gw);
const char *ht_gw_state_name(ht_gw_state state);
/* Next outbound / expected inbound MsgSeqNum. */
uint64_t ht_gw_next_out_seq(const ht_gw *gw);
uint64_t ht_gw_next_in_seq(const ht_gw *gw);
/* The socket (-1 when none) for callers with their own epoll loop. With send = io_uring, bytes queued behind a send in
 * flight go out at the next ht_gw_poll, which such a loop must call often (ht_gw_wait also wakes on the ring). */
int ht_gw_fd(const ht_gw *gw);

/* Test hooks that force a sequence gap (used by the interoperability tests):
 * skip_out: journal the next outbound application message but do not transmit it;
 * drop_in: treat the next inbound application message as lost. */
void ht_gw_debug_gap(ht_gw *gw, bool skip_out, bool drop_in);

/* Test hook for crash-restart tests: the boundaries of the order and report paths where a crash must lose
 * and duplicate nothing. */
typedef enum ht_gw_crash_point {
    HT_GW_CRASH_NONE = 0,        /* disarmed */
    HT_GW_CRASH_ORDER_JOURNALED, /* a NewOrderSingle is in the journal, send() not called yet */
    HT_GW_CRASH_ORDER_SENT,      /* send() of a NewOrderSingle returned, no report on it read yet */
    HT_GW_CRASH_FILL_READ,       /* a partial fill (ExecType F, LeavesQty > 0) read, not journaled yet */
    HT_GW_CRASH_FILL_JOURNALED,  /* that partial fill journaled, not applied to the position yet */
} ht_gw_crash_point;

/* Makes the process raise SIGKILL on the nth arrival (1 = the next) at point; HT_GW_CRASH_NONE disarms.
 * Disarmed, each point costs one predictable compare. */
void ht_gw_debug_crash_at(ht_gw *gw, ht_gw_crash_point point, uint64_t nth);

/* Closes the socket without Logout, syncs and closes the journal, wipes the secret. NULL is ignored. */
void ht_gw_destroy(ht_gw *gw);

#endif
