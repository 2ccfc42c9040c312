/* SPDX-License-Identifier: MIT */
/* Deribit's FIX account messages, both sides of the session: Request For Positions (AN) and Position Report (AP),
 * User Request (BE) and User Response (BF), TradeCaptureReportRequest (AD), its ack (AQ) and TradeCaptureReport (AE).
 *
 * Each message has a plain struct, an encoder that appends its body to a writer the caller began with the session
 * header (ht_fix_begin_session_msg) and a parser that reads a parsed message (ht_fix_parse) into the struct. Encoders
 * check every value before writing anything and parsers check every value they read: strings against the FIX string
 * grammars (symbols: HT_FIX_GRAMMAR_INSTRUMENT, ids: HT_FIX_GRAMMAR_ID), numbers plain decimals, quantities >= 0,
 * enumerations against their documented values, group counts against their entries. Both return 0, or -1 with err
 * naming the message, the field and its tag ("PositionReport (AP): LongQty (704) '-3' of entry 2 is negative").
 *
 * The tags, types and values follow Deribit's FIX pages (docs/gateway.md, "Account messages"). Where the pages say
 * nothing, the choice is ours and marked "our choice" below:
 *  - AE's side: Deribit's table lists no Side. We read FIX 4.4's TrdCapRptSideGrp (NoSides 552 = 1, Side 54 first,
 *    OrderID 37 optional) and, failing that, a Side (54) outside a group. The encoder writes the group.
 *  - How a trade capture report marks a liquidation or a settlement: Deribit's FIX pages name no marker (its JSON API
 *    marks liquidation trades, "liquidation": "M"/"T"/"MT"). We use FIX 4.4's TrdType (828) of the AE: absent, 0
 *    (regular), 1 (block) and 3 (transfer: a position move) are another session's trades; 1000 a liquidation and 1001
 *    a settlement or delivery at expiry (FIX 4.4 has no value for either; 1000 and up are kept clear of FIX's own).
 *  - AQ's result: Deribit's table puts TradeRequestResult at tag 571; FIX 4.4 has it at 749. The parser reads 749,
 *    else 571; the encoder writes 749 and 571 both, so either reader understands it.
 */
#ifndef HEDGETRIG_FIX_ACCOUNT_H
#define HEDGETRIG_FIX_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/fix.h"

#define HT_FIX_ACCT_ID_BYTES 48     /* request and report ids (HT_FIX_GRAMMAR_ID, 1..47 characters) */
#define HT_FIX_ACCT_USER_BYTES 128  /* Username (553): the logon's client id (HT_FIX_GRAMMAR_ID, 1..127) */
#define HT_FIX_ACCT_SYMBOL_BYTES 32 /* Symbol (55): HT_FIX_GRAMMAR_INSTRUMENT, 1..31 characters, as for orders */
#define HT_FIX_ACCT_CURRENCY_BYTES 16 /* Currency (15): A-Z 0-9, 1..15 characters ("BTC", "USDC", "CROSS") */
#define HT_FIX_ACCT_TEXT_BYTES 128  /* Text (58), UserStatusText (927): printable ASCII, longer text truncated */
/* Most entries one Position Report may carry (its NoPositions group); one with more is refused. */
#define HT_FIX_MAX_POSITIONS 96

/* SubscriptionRequestType (263) of AN and AD. */
typedef enum ht_fix_subscription {
    HT_FIX_SUB_SNAPSHOT = 0,    /* the current state once */
    HT_FIX_SUB_SUBSCRIBE = 1,   /* the current state, then every change */
    HT_FIX_SUB_UNSUBSCRIBE = 2, /* ends a previous subscription */
} ht_fix_subscription;

/* ---- Request For Positions (AN) ---- */
typedef struct ht_fix_pos_request {
    char pos_req_id[HT_FIX_ACCT_ID_BYTES];     /* PosReqID 710, required */
    /* PosReqType 724 is always 0 (positions), the only type Deribit knows: written, and checked when read. */
    int subscription;                          /* SubscriptionRequestType 263: ht_fix_subscription, -1 absent */
    char currency[HT_FIX_ACCT_CURRENCY_BYTES]; /* Currency 15: "" all currencies */
} ht_fix_pos_request;

int ht_fix_put_pos_request(ht_fix_writer *w, const ht_fix_pos_request *r, ht_error *err);
int ht_fix_parse_pos_request(const ht_fix_msg *m, ht_fix_pos_request *out, ht_error *err);

/* ---- Position Report (AP) ---- */

/* PosReqResult (728): Deribit documents 0, 1 and 99; FIX 4.4 adds 2..4. */
enum {
    HT_FIX_POS_RESULT_VALID = 0,
    HT_FIX_POS_RESULT_UNSUPPORTED = 1,
    HT_FIX_POS_RESULT_NO_POSITIONS = 2, /* FIX 4.4: none match; read as an empty account */
    HT_FIX_POS_RESULT_NOT_AUTHORIZED = 3,
    HT_FIX_POS_RESULT_NOT_SUPPORTED = 4,
    HT_FIX_POS_RESULT_OTHER = 99,
};

/* One entry of the PositionQty group (NoPositions 702). */
typedef struct ht_fix_position {
    char symbol[HT_FIX_ACCT_SYMBOL_BYTES]; /* Symbol 55, required in each entry */
    double long_qty;            /* LongQty 704, contracts >= 0 (0 when absent) */
    double short_qty;           /* ShortQty 705, contracts >= 0 (0 when absent) */
    double mark_px;             /* UnderlyingEndPrice 883: the mark; NAN when absent */
    double avg_px;              /* SettlPrice 730: Deribit's average price; NAN when absent */
    double contract_multiplier; /* ContractMultiplier 231, > 0; NAN when absent */
    char side;                  /* Side 54: '1' buy (long), '2' sell (short), '\0' absent */
} ht_fix_position;

/* The signed position of an entry in contracts: LongQty - ShortQty. */
static inline double ht_fix_position_contracts(const ht_fix_position *p)
{
    return p->long_qty - p->short_qty;
}

typedef struct ht_fix_position_report {
    char pos_maint_rpt_id[HT_FIX_ACCT_ID_BYTES]; /* PosMaintRptID 721, required */
    char pos_req_id[HT_FIX_ACCT_ID_BYTES];       /* PosReqID 710: "" when absent (unsolicited) */
    int pos_req_result;                          /* PosReqResult 728: 0 when absent */
    int64_t total_num_pos_reports;               /* TotalNumPosReports 727: -1 when absent */
    char text[HT_FIX_ACCT_TEXT_BYTES];           /* Text 58: "" when absent */
    unsigned n;                                  /* entries (NoPositions 702; 0 when absent) */
    ht_fix_position pos[HT_FIX_MAX_POSITIONS];
} ht_fix_position_report;

/* Writes 721, 710 (when set), 724=0, 728, 727 (when >= 0), 58 (when set), then the group: 702, and per entry 703=TQ,
 * 704, 705, 55, 854=1 (contracts), 231, 883, 54 (the side of a non-zero position), 730 (the ones that are set). */
int ht_fix_put_position_report(ht_fix_writer *w, const ht_fix_position_report *r, ht_error *err);
int ht_fix_parse_position_report(const ht_fix_msg *m, ht_fix_position_report *out, ht_error *err);

/* ---- User Request (BE) / User Response (BF) ---- */
typedef struct ht_fix_user_request {
    char user_request_id[HT_FIX_ACCT_ID_BYTES];  /* UserRequestID 923 */
    /* UserRequestType 924 is always 4 (individual user status), the only type Deribit accepts. */
    char username[HT_FIX_ACCT_USER_BYTES];       /* Username 553: the logon's client id */
    char currency[HT_FIX_ACCT_CURRENCY_BYTES];   /* Currency 15: "" for Deribit's default (BTC) */
} ht_fix_user_request;

int ht_fix_put_user_request(ht_fix_writer *w, const ht_fix_user_request *r, ht_error *err);
int ht_fix_parse_user_request(const ht_fix_msg *m, ht_fix_user_request *out, ht_error *err);

typedef struct ht_fix_user_response {
    char user_request_id[HT_FIX_ACCT_ID_BYTES];  /* UserRequestID 923 */
    char username[HT_FIX_ACCT_USER_BYTES];       /* Username 553 */
    int user_status;                             /* UserStatus 926 (1 logged in): -1 when absent */
    char user_status_text[HT_FIX_ACCT_TEXT_BYTES]; /* UserStatusText 927 */
    char currency[HT_FIX_ACCT_CURRENCY_BYTES];   /* Currency 15: "" when absent */
    /* Deribit's 100001..100004, in the currency: NAN when absent. */
    double equity, balance, initial_margin, maintenance_margin;
} ht_fix_user_response;

int ht_fix_put_user_response(ht_fix_writer *w, const ht_fix_user_response *r, ht_error *err);
int ht_fix_parse_user_response(const ht_fix_msg *m, ht_fix_user_response *out, ht_error *err);

/* ---- TradeCaptureReportRequest (AD), its ack (AQ), TradeCaptureReport (AE) ---- */
typedef struct ht_fix_trade_request {
    char trade_request_id[HT_FIX_ACCT_ID_BYTES]; /* TradeRequestID 568 */
    /* TradeRequestType 569 is always 0 (all trades). */
    int subscription;                            /* SubscriptionRequestType 263: -1 absent */
} ht_fix_trade_request;

int ht_fix_put_trade_request(ht_fix_writer *w, const ht_fix_trade_request *r, ht_error *err);
int ht_fix_parse_trade_request(const ht_fix_msg *m, ht_fix_trade_request *out, ht_error *err);

typedef struct ht_fix_trade_request_ack {
    char trade_request_id[HT_FIX_ACCT_ID_BYTES]; /* TradeRequestID 568 */
    int result;                                  /* TradeRequestResult 749 (Deribit: 571): 0 successful */
    int status;                                  /* TradeRequestStatus 750: 0 accepted, 2 rejected; -1 absent */
    char text[HT_FIX_ACCT_TEXT_BYTES];           /* Text 58 */
} ht_fix_trade_request_ack;

int ht_fix_put_trade_request_ack(ht_fix_writer *w, const ht_fix_trade_request_ack *r, ht_error *err);
int ht_fix_parse_trade_request_ack(const ht_fix_msg *m, ht_fix_trade_request_ack *out, ht_error *err);

/* TrdType (828) values of an AE (see the top of this file: 1000 and 1001 are our choice). */
enum {
    HT_FIX_TRD_REGULAR = 0,
    HT_FIX_TRD_BLOCK = 1,
    HT_FIX_TRD_TRANSFER = 3,
    HT_FIX_TRD_LIQUIDATION = 1000,
    HT_FIX_TRD_SETTLEMENT = 1001,
};

typedef struct ht_fix_trade_report {
    char trade_request_id[HT_FIX_ACCT_ID_BYTES]; /* TradeRequestID 568: "" when unsolicited */
    char trade_report_id[HT_FIX_ACCT_ID_BYTES];  /* TradeReportID 571: "" when absent */
    char trade_id[HT_FIX_ACCT_ID_BYTES];         /* TradeID 1003, required */
    bool previously_reported;                    /* PreviouslyReported 570 (Y/N), required */
    char symbol[HT_FIX_ACCT_SYMBOL_BYTES];       /* Symbol 55 */
    double last_qty;                             /* LastQty 32, contracts > 0 */
    double last_px;                              /* LastPx 31 */
    char side;                                   /* Side 54: '1' the account bought, '2' it sold */
    int trd_type;                                /* TrdType 828: 0 when absent */
    char order_id[HT_FIX_ACCT_ID_BYTES];         /* OrderID 37 of the side: "" when absent */
} ht_fix_trade_report;

/* Where an AE's trade came from (TrdType, our mapping): 0 another session, 1 liquidation, 2 settlement; the numbers
 * are ht_venue_trade_source's. */
int ht_fix_trade_report_source(const ht_fix_trade_report *r);

int ht_fix_put_trade_report(ht_fix_writer *w, const ht_fix_trade_report *r, ht_error *err);
int ht_fix_parse_trade_report(const ht_fix_msg *m, ht_fix_trade_report *out, ht_error *err);

#endif
