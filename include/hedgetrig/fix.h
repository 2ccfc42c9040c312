/* SPDX-License-Identifier: MIT */
/* FIX 4.4 tag=value codec: a zero-copy validating parser and an allocation-free writer (BodyLength, CheckSum). */
#ifndef HEDGETRIG_FIX_H
#define HEDGETRIG_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

#define HT_FIX_SOH '\001'
#define HT_FIX_BEGIN_STRING "FIX.4.4"
/* Most fields one message may carry; a message with more is rejected. */
#define HT_FIX_MAX_FIELDS 1024 /* a Position Report lists every position of the account in one group */
/* Default and hard ceiling of the largest message the parser accepts (bytes, header to checksum). */
#define HT_FIX_DEFAULT_MAX_MSG 16384
#define HT_FIX_HARD_MAX_MSG (1u << 20)

/* Tags the gateway and the exchange simulator use (FIX 4.4 numbers; 9001 is Deribit's). */
enum ht_fix_tag {
    HT_TAG_AVG_PX = 6, HT_TAG_BEGIN_SEQ_NO = 7, HT_TAG_BEGIN_STRING = 8, HT_TAG_BODY_LENGTH = 9,
    HT_TAG_CHECKSUM = 10, HT_TAG_CL_ORD_ID = 11, HT_TAG_COMMISSION = 12, HT_TAG_COMM_TYPE = 13,
    HT_TAG_CUM_QTY = 14, HT_TAG_CASH_ORDER_QTY = 152, HT_TAG_END_SEQ_NO = 16, HT_TAG_EXEC_ID = 17, HT_TAG_LAST_PX = 31,
    HT_TAG_LAST_QTY = 32, HT_TAG_MSG_SEQ_NUM = 34, HT_TAG_MSG_TYPE = 35, HT_TAG_NEW_SEQ_NO = 36,
    HT_TAG_ORDER_ID = 37, HT_TAG_ORDER_QTY = 38, HT_TAG_ORD_STATUS = 39, HT_TAG_ORD_TYPE = 40,
    HT_TAG_ORIG_CL_ORD_ID = 41, HT_TAG_POSS_DUP_FLAG = 43, HT_TAG_PRICE = 44, HT_TAG_REF_SEQ_NUM = 45,
    HT_TAG_SENDER_COMP_ID = 49, HT_TAG_SENDING_TIME = 52, HT_TAG_SIDE = 54, HT_TAG_SYMBOL = 55,
    HT_TAG_TARGET_COMP_ID = 56, HT_TAG_TEXT = 58, HT_TAG_TIME_IN_FORCE = 59, HT_TAG_TRANSACT_TIME = 60,
    HT_TAG_SIGNATURE_LENGTH = 93, HT_TAG_SIGNATURE = 89, HT_TAG_RAW_DATA_LENGTH = 95, HT_TAG_RAW_DATA = 96,
    HT_TAG_POSS_RESEND = 97, HT_TAG_ENCRYPT_METHOD = 98, HT_TAG_ORD_REJ_REASON = 103,
    HT_TAG_HEART_BT_INT = 108, HT_TAG_TEST_REQ_ID = 112, HT_TAG_ORIG_SENDING_TIME = 122,
    HT_TAG_GAP_FILL_FLAG = 123, HT_TAG_RESET_SEQ_NUM_FLAG = 141, HT_TAG_EXEC_TYPE = 150,
    HT_TAG_LEAVES_QTY = 151, HT_TAG_CXL_REJ_REASON = 102, HT_TAG_CXL_REJ_RESPONSE_TO = 434,
    HT_TAG_REF_TAG_ID = 371, HT_TAG_REF_MSG_TYPE = 372, HT_TAG_SESSION_REJECT_REASON = 373,
    HT_TAG_BUSINESS_REJECT_REF_ID = 379, HT_TAG_BUSINESS_REJECT_REASON = 380, HT_TAG_USERNAME = 553,
    HT_TAG_PASSWORD = 554, HT_TAG_QTY_TYPE = 854, HT_TAG_CANCEL_ON_DISCONNECT = 9001,
    HT_TAG_DERIBIT_LABEL = 100010, /* Deribit's order label (String, at most 64 characters): the trigger */
    /* account messages (hedgetrig/fix_account.h): positions, users, trade capture */
    HT_TAG_CURRENCY = 15, HT_TAG_TRADE_DATE = 75, HT_TAG_CONTRACT_MULTIPLIER = 231,
    HT_TAG_SUBSCRIPTION_REQUEST_TYPE = 263, HT_TAG_NO_SIDES = 552, HT_TAG_TRADE_REQUEST_ID = 568,
    HT_TAG_TRADE_REQUEST_TYPE = 569, HT_TAG_PREVIOUSLY_REPORTED = 570, HT_TAG_TRADE_REPORT_ID = 571,
    HT_TAG_NO_POSITIONS = 702, HT_TAG_POS_TYPE = 703, HT_TAG_LONG_QTY = 704, HT_TAG_SHORT_QTY = 705,
    HT_TAG_POS_REQ_ID = 710, HT_TAG_POS_MAINT_RPT_ID = 721, HT_TAG_POS_REQ_TYPE = 724,
    HT_TAG_TOTAL_NUM_POS_REPORTS = 727, HT_TAG_POS_REQ_RESULT = 728, HT_TAG_SETTL_PRICE = 730,
    HT_TAG_TRADE_REQUEST_RESULT = 749, HT_TAG_TRADE_REQUEST_STATUS = 750, HT_TAG_TRD_TYPE = 828,
    HT_TAG_UNDERLYING_END_PRICE = 883, HT_TAG_USER_REQUEST_ID = 923, HT_TAG_USER_REQUEST_TYPE = 924,
    HT_TAG_USER_STATUS = 926, HT_TAG_USER_STATUS_TEXT = 927, HT_TAG_TRADE_ID = 1003,
    HT_TAG_SECONDARY_TRADE_ID = 1040, HT_TAG_DERIBIT_USER_EQUITY = 100001, HT_TAG_DERIBIT_USER_BALANCE = 100002,
    HT_TAG_DERIBIT_USER_INITIAL_MARGIN = 100003, HT_TAG_DERIBIT_USER_MAINTENANCE_MARGIN = 100004,
    HT_TAG_DERIBIT_LIQUIDATION_PRICE = 100088, HT_TAG_DERIBIT_SIZE_IN_CURRENCY = 100089,
};

/* MsgType (35) values the gateway and the exchange simulator use (FIX 4.4). */
#define HT_FIX_MSG_HEARTBEAT "0"
#define HT_FIX_MSG_TEST_REQUEST "1"
#define HT_FIX_MSG_RESEND_REQUEST "2"
#define HT_FIX_MSG_REJECT "3"
#define HT_FIX_MSG_SEQUENCE_RESET "4"
#define HT_FIX_MSG_LOGOUT "5"
#define HT_FIX_MSG_EXECUTION_REPORT "8"
#define HT_FIX_MSG_ORDER_CANCEL_REJECT "9"
#define HT_FIX_MSG_LOGON "A"
#define HT_FIX_MSG_NEW_ORDER_SINGLE "D"
#define HT_FIX_MSG_ORDER_CANCEL_REQUEST "F"
#define HT_FIX_MSG_BUSINESS_MESSAGE_REJECT "j"
#define HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST "AD"
#define HT_FIX_MSG_TRADE_CAPTURE_REPORT "AE"
#define HT_FIX_MSG_REQUEST_FOR_POSITIONS "AN"
#define HT_FIX_MSG_POSITION_REPORT "AP"
#define HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST_ACK "AQ"
#define HT_FIX_MSG_USER_REQUEST "BE"
#define HT_FIX_MSG_USER_RESPONSE "BF"

/* One field of a parsed message: value is buf[off .. off+len) of the message (not NUL-terminated). */
typedef struct ht_fix_field {
    uint32_t tag;
    uint32_t off;
    uint32_t len;
} ht_fix_field;

/* A parsed message. It points into the caller's buffer, which must outlive it. */
typedef struct ht_fix_msg {
    const char *buf;      /* first byte of the message ("8=FIX.4.4") */
    size_t len;           /* whole message, header through the checksum's SOH */
    char msg_type[4];     /* tag 35, NUL-terminated (1 or 2 characters in FIX 4.4) */
    uint32_t n_fields;    /* fields after BodyLength, up to and excluding CheckSum */
    ht_fix_field fields[HT_FIX_MAX_FIELDS];
} ht_fix_msg;

/* Results of ht_fix_parse. */
typedef enum ht_fix_parse_status {
    HT_FIX_PARSE_BAD = -1,        /* malformed: err says why; *consumed bytes should be dropped to resync */
    HT_FIX_PARSE_OK = 0,          /* one message parsed; *consumed is its length */
    HT_FIX_PARSE_INCOMPLETE = 1,  /* more bytes are needed; *consumed is 0 */
} ht_fix_parse_status;

/* Parses the first message of buf[0..len). Checks, in order: BeginString 8=FIX.4.4 first; BodyLength (9)
 * second, decimal, at most max_msg; the body ending exactly where "10=NNN<SOH>" starts; the CheckSum (sum of
 * bytes mod 256); every field "tag=value<SOH>" with a positive decimal tag without leading zeros and a
 * non-empty value; MsgType (35) as the first body field; RawData (96) and Signature (89) sized by their
 * length tags (95, 93); at most HT_FIX_MAX_FIELDS fields.
 * max_msg: largest acceptable message in bytes (0 means HT_FIX_DEFAULT_MAX_MSG; capped at HT_FIX_HARD_MAX_MSG).
 * On HT_FIX_PARSE_BAD, *consumed is the number of bytes to discard: up to the next "8=FIX" that may start
 * a message, or all of len. err (may be NULL) names the problem and its byte offset. */
ht_fix_parse_status ht_fix_parse(const char *buf, size_t len, size_t max_msg, ht_fix_msg *msg, size_t *consumed,
                                 ht_error *err);

/* First field with this tag, or NULL. */
const ht_fix_field *ht_fix_find(const ht_fix_msg *msg, uint32_t tag);
/* Value of the first field with this tag and its length; NULL (and *len 0) when absent. */
const char *ht_fix_get(const ht_fix_msg *msg, uint32_t tag, size_t *len);
/* Copies a field's value into out (capacity cap, NUL-terminated, truncated to fit). Returns false if absent. */
bool ht_fix_get_str(const ht_fix_msg *msg, uint32_t tag, char *out, size_t cap);
/* Like ht_fix_get_str, with every byte outside printable ASCII (0x20..0x7E) shown as '?': for what the venue sent
 * that reaches a log, a terminal or an event (Text, ids), so that it cannot carry control sequences. */
bool ht_fix_get_printable(const ht_fix_msg *msg, uint32_t tag, char *out, size_t cap);
/* Copies src[0..len) into out (capacity cap > 0, NUL-terminated, truncated) with bytes outside 0x20..0x7E as '?'.
 * Returns out. */
char *ht_fix_printable(const char *src, size_t len, char *out, size_t cap);
/* Parses a field as an unsigned decimal. Returns false when absent or not a plain number. */
bool ht_fix_get_u64(const ht_fix_msg *msg, uint32_t tag, uint64_t *out);
/* Parses a field as a decimal number (FIX Qty/Price/float: optional '-', digits, optional '.digits').
 * Returns false when absent or malformed. */
bool ht_fix_get_double(const ht_fix_msg *msg, uint32_t tag, double *out);
/* The same two readings of one value v[0..len) (any field, e.g. one inside a repeating group). */
bool ht_fix_value_u64(const char *v, size_t len, uint64_t *out);
bool ht_fix_value_double(const char *v, size_t len, double *out);
/* First character of a field (FIX char fields: Side, ExecType, ...), or '\0' when absent. */
char ht_fix_get_char(const ht_fix_msg *msg, uint32_t tag);
/* True when a field equals the NUL-terminated text. */
bool ht_fix_field_is(const ht_fix_msg *msg, uint32_t tag, const char *text);

/* ---- string values ---- */

/* What the string value of a FIX field may hold (docs/gateway.md, "String grammar"). Every grammar excludes SOH,
 * control characters and bytes above 0x7E, so a value can never end its field early or start another one. */
typedef enum ht_fix_grammar {
    HT_FIX_GRAMMAR_INSTRUMENT = 0, /* a Deribit instrument name (Symbol 55): A-Z 0-9 _ - */
    HT_FIX_GRAMMAR_ID,             /* an identifier (CompIDs 49/56, ClOrdID 11, Username 553): A-Z a-z 0-9 . _ - */
    HT_FIX_GRAMMAR_TEXT,           /* free text (Text 58, TestReqID 112): printable ASCII 0x20..0x7E */
    HT_FIX_GRAMMAR_SECRET,         /* a secret (never on the wire as such): printable ASCII without space 0x21..0x7E */
} ht_fix_grammar;

/* True when the grammar allows byte c. */
bool ht_fix_byte_allowed(ht_fix_grammar grammar, unsigned char c);

/* Checks that value[0..len) is min_len..max_len bytes, each allowed by the grammar. Returns 0, or -1 with err
 * "<field> '<value>': byte 0x01 at offset 13 is not allowed (<what the grammar allows>)" (the value shown with
 * non-printable bytes as '?'; never shown for HT_FIX_GRAMMAR_SECRET). field names the input as the caller knows
 * it: "--symbol", "config c.conf:4: sender_comp_id", "Symbol (55)". */
int ht_fix_check_value(const char *field, const char *value, size_t len, ht_fix_grammar grammar, size_t min_len,
                       size_t max_len, ht_error *err);

/* ---- writer ---- */

/* Room kept in front of the body for "8=FIX.4.4<SOH>9=NNNNNNN<SOH>". */
#define HT_FIX_HEADER_ROOM 24
/* Bytes of the trailer "10=NNN<SOH>". */
#define HT_FIX_TRAILER_BYTES 7

/* Builds one message in a caller-owned buffer, allocating nothing. The body is written from offset
 * HT_FIX_HEADER_ROOM; ht_fix_writer_finish writes BeginString and BodyLength backwards in front of it and
 * the CheckSum after it. If the buffer overflows, the writer records it and finish returns NULL.
 * The writer emits nothing that could parse as another field: a tag of 0, an empty value, or a value byte outside
 * printable ASCII (0x20..0x7E; SOH included) refuses the message (refused_tag names the field) and finish returns
 * NULL. Values are still checked against their field's grammar where they enter (ht_fix_check_value). */
typedef struct ht_fix_writer {
    char *buf;
    size_t cap;
    size_t pos;
    bool overflow;
    uint32_t refused_tag; /* the first field refused (0 when none) */
    bool refused;
} ht_fix_writer;

/* Starts a message of type msg_type (e.g. "D") in buf (capacity cap, at least 64 bytes). */
void ht_fix_writer_begin(ht_fix_writer *w, char *buf, size_t cap, const char *msg_type);
/* Appends tag=value for a NUL-terminated string (1 or more bytes of printable ASCII, else the message is refused). */
void ht_fix_put_str(ht_fix_writer *w, uint32_t tag, const char *value);
/* Appends tag=value for len bytes of value (the same rule). */
void ht_fix_put_bytes(ht_fix_writer *w, uint32_t tag, const char *value, size_t len);
/* Appends tag=<decimal>. */
void ht_fix_put_u64(ht_fix_writer *w, uint32_t tag, uint64_t value);
/* Appends tag=<one character>. */
void ht_fix_put_char(ht_fix_writer *w, uint32_t tag, char value);
/* Appends tag=<decimal number> with at most max_decimals (0..9) digits after the point, rounded half away
 * from zero, trailing zeros removed ("12.5", "3", "-0.25"). A value that cannot be written (not finite, or
 * |value| at or above 9e18 / 10^max_decimals) refuses the message. */
void ht_fix_put_decimal(ht_fix_writer *w, uint32_t tag, double value, unsigned max_decimals);
/* Appends tag=<UTCTimestamp with milliseconds: YYYYMMDD-HH:MM:SS.sss> for Unix time wall_ns. */
void ht_fix_put_time(ht_fix_writer *w, uint32_t tag, uint64_t wall_ns);
/* Writes the header and the checksum; returns the first byte of the finished message and its length in
 * *len, or NULL when the buffer was too small or a value was refused. */
const char *ht_fix_writer_finish(ht_fix_writer *w, size_t *len);

/* ---- formatting helpers shared by the writer and the fast order encoder ---- */

/* Writes value in decimal at out (room for 20 digits), returns the number of characters. */
size_t ht_fix_format_u64(char *out, uint64_t value);
/* Writes a signed decimal with at most max_decimals digits after the point (see ht_fix_put_decimal). */
size_t ht_fix_format_decimal(char *out, double value, unsigned max_decimals);
/* The value ht_fix_format_decimal writes for value, as a double (rounded half away from zero to max_decimals
 * digits), or NAN when it cannot be written (not finite, or |value| x 10^max_decimals at or above 9e18): what
 * a risk check must look at, so that the order checked is the order on the wire. */
double ht_fix_decimal_on_wire(double value, unsigned max_decimals);
/* Writes the 21-character UTCTimestamp "YYYYMMDD-HH:MM:SS.sss" for wall_ns at out. */
void ht_fix_format_time(char *out, uint64_t wall_ns);
/* Sum of bytes mod 256 (the FIX CheckSum). */
unsigned ht_fix_checksum(const char *data, size_t len);

/* ---- the NewOrderSingle fast path ---- */

/* Precomputed pieces of a NewOrderSingle (35=D) for one session: encoding then allocates nothing, calls no
 * printf and formats integers and prices by hand. Build once with ht_fix_nos_init. */
typedef struct ht_fix_nos_encoder {
    char head[96];       /* "35=D<SOH>49=SENDER<SOH>56=TARGET<SOH>34=" */
    size_t head_len;
    char clordid_prefix[32];
    size_t clordid_prefix_len;
    unsigned qty_decimals;   /* 0..9 */
    unsigned price_decimals; /* 0..9 */
    uint64_t cached_sec;     /* second of cached_time (the date and time change once a second) */
    char cached_time[17];
} ht_fix_nos_encoder;

/* Prepares the encoder. sender/target: CompIDs (1..31 characters of HT_FIX_GRAMMAR_ID); clordid_prefix: 0..31
 * characters of HT_FIX_GRAMMAR_ID put before the ClOrdID number; qty_decimals/price_decimals: digits kept after
 * the point (0..9).
 * Returns 0, or -1 with err naming the bad argument. */
int ht_fix_nos_init(ht_fix_nos_encoder *enc, const char *sender, const char *target, const char *clordid_prefix,
                    unsigned qty_decimals, unsigned price_decimals, ht_error *err);

/* Largest message ht_fix_encode_nos can produce, plus header room: size buffers with it. */
#define HT_FIX_NOS_BUFFER_BYTES 512

/* Encodes a NewOrderSingle: limit (40=2), immediate-or-cancel (59=3), MsgSeqNum seq, SendingTime and
 * TransactTime from wall_ns, ClOrdID prefix+clordid, Symbol symbol[0..symbol_len), Side side
 * (1 buy, 2 sell), OrderQty qty in contracts with QtyType 854=1 (Contracts) always written, so the venue
 * never falls back on a default unit (docs/units.md), Price price. buf must hold HT_FIX_NOS_BUFFER_BYTES.
 * Returns the first byte of the message (inside buf) and its length in *len, or NULL (nothing encoded) when the
 * symbol is not 1..31 bytes of HT_FIX_GRAMMAR_INSTRUMENT, side is not '1' or '2', or qty or price is not
 * written as a number > 0 at its decimals (ht_fix_decimal_on_wire): the encoder re-checks what its callers
 * validated, so no caller can make it emit a field it did not mean. */
const char *ht_fix_encode_nos(ht_fix_nos_encoder *enc, char *buf, uint64_t seq, uint64_t wall_ns,
                              uint64_t clordid, const char *symbol, size_t symbol_len, char side, double qty,
                              double price, size_t *len);
/* The same with the market-data frame that triggered the order: when trigger_seq is not 0, DeribitLabel (100010)
 * = the trigger label (ht_fix_format_trigger_label) is appended as the body's last field (docs/gateway.md "Trigger
 * on the wire"). ht_fix_encode_nos is this with trigger_seq 0. */
const char *ht_fix_encode_nos_trigger(ht_fix_nos_encoder *enc, char *buf, uint64_t seq, uint64_t wall_ns,
                                      uint64_t clordid, const char *symbol, size_t symbol_len, char side, double qty,
                                      double price, uint16_t trigger_channel, uint64_t trigger_seq, size_t *len);
/* Writes the 21-character UTCTimestamp for wall_ns at out with the encoder's cached date (ht_fix_format_time). */
void ht_fix_nos_time(ht_fix_nos_encoder *enc, char *out, uint64_t wall_ns);

/* ---- the trigger label (DeribitLabel 100010; fix_armed.c) ---- */

/* Characters of the label hedgetrig writes: "t" + 5 digits of the channel + "." + 20 digits of the sequence. */
#define HT_FIX_TRIGGER_LABEL_CHARS 27
/* Writes the fixed-width label of a frame, "t00003.00000000000000004711" for channel 3 and sequence 4711, at out
 * (HT_FIX_TRIGGER_LABEL_CHARS bytes, no NUL). */
void ht_fix_format_trigger_label(char *out, uint16_t channel, uint64_t seq);
/* Reads a label of the grammar "t" 1*5DIGIT "." 1*20DIGIT (leading zeros allowed; the channel at most 65535, the
 * sequence at most 2^64-1 and not 0). true with *channel and *seq, false (outputs untouched) when value[0..len) is
 * anything else: another program's label, or a damaged one. */
bool ht_fix_parse_trigger_label(const char *value, size_t len, uint16_t *channel, uint64_t *seq);

/* ---- armed NewOrderSingles (fix_armed.c; docs/gateway.md "Armed orders") ---- */

#define HT_FIX_ARMED_TAIL_BYTES 320

/* A NewOrderSingle encoded ahead of its trigger. The message's fields up to ClOrdID (11) are written fresh when it
 * fires; the tail after them (Symbol 55 .. TransactTime 60, then DeribitLabel 100010) is encoded here once, with
 * fixed-width patch points: OrderQty (38, padded with trailing zeros after the point to qty_width), TransactTime
 * (21 characters) and the label (HT_FIX_TRIGGER_LABEL_CHARS). */
typedef struct ht_fix_armed_nos {
    uint16_t tail_len;   /* "55=" .. the SOH after TransactTime's value */
    uint16_t label_len;  /* "100010=<label><SOH>" right after the tail (left out when the trigger is 0) */
    uint16_t qty_off, qty_width, time_off, label_off; /* offsets of the values in tail[] */
    unsigned qty_decimals;
    char tail[HT_FIX_ARMED_TAIL_BYTES];
} ht_fix_armed_nos;

/* Arms a NewOrderSingle: encodes it as ht_fix_encode_nos_trigger would (the same checks of symbol, side, qty and
 * price) and keeps its tail with the patch points. The armed OrderQty is qty at the encoder's qty_decimals with
 * max(qty_decimals, 1) digits after the point, trailing zeros kept ("12.50000000"): the same number, in a width
 * that a quantity adjusted at firing fills by giving up trailing zeros. 0, or -1 (nothing armed) when the encoder
 * refuses the order. */
int ht_fix_arm_nos(ht_fix_nos_encoder *enc, ht_fix_armed_nos *armed, const char *symbol, size_t symbol_len, char side,
                   double qty, double price);
/* Writes qty (as on the wire: ht_fix_decimal_on_wire at the armed decimals, > 0) in exactly the armed width at out
 * (room for HT_FIX_ARMED_QTY_BYTES): whole digits, '.', the fraction padded with trailing zeros. Returns the width,
 * or -1 when qty does not fit it (too many whole digits, or a fraction too long for what is left). */
#define HT_FIX_ARMED_QTY_BYTES 40
int ht_fix_armed_qty(const ht_fix_armed_nos *armed, double qty, char *out);
/* Writes the whole message into buf (HT_FIX_NOS_BUFFER_BYTES): header fields as ht_fix_encode_nos writes them
 * (MsgSeqNum seq, SendingTime wall_ns, ClOrdID prefix + clordid), then a copy of the tail with TransactTime wall_ns,
 * the OrderQty qty_text (qty_width bytes from ht_fix_armed_qty; NULL: as armed) and the label of the trigger
 * (trigger_seq 0: no label) patched in, BodyLength and the CheckSum (ht_fix_checksum over the message, 16 bytes a
 * step). The armed order is not changed. Returns the first byte, *len its length. */
const char *ht_fix_fire_nos(ht_fix_nos_encoder *enc, const ht_fix_armed_nos *armed, char *buf, uint64_t seq,
                            uint64_t wall_ns, uint64_t clordid, const char *qty_text, uint16_t trigger_channel,
                            uint64_t trigger_seq, size_t *len);

/* ---- session layer shared by the initiator (hostsw/gateway) and the acceptor (sim/exchange) ---- */

/* Starts a message of type msg_type in buf (capacity cap) with the standard header: SenderCompID (49) sender,
 * TargetCompID (56) target, MsgSeqNum (34) seq, SendingTime (52) wall_ns. */
void ht_fix_begin_session_msg(ht_fix_writer *w, char *buf, size_t cap, const char *msg_type, const char *sender,
                              const char *target, uint64_t seq, uint64_t wall_ns);

/* What one side of a session holds for an outbound sequence number, as its answer to a ResendRequest sees it. */
typedef enum ht_fix_resend_kind {
    HT_FIX_RESEND_STOP = -1,    /* a failure: the answer ends here (the side has logged why) */
    HT_FIX_RESEND_GAP_FILL = 0, /* nothing to send again (admin, unknown, or withheld): gap-filled */
    HT_FIX_RESEND_MESSAGE = 1,  /* a stored message to send again with PossDupFlag */
} ht_fix_resend_kind;

/* One side's answer to a ResendRequest: its CompIDs, the buffer messages are written in, and how it reaches its
 * stored messages and its socket. */
typedef struct ht_fix_resend_source {
    const char *sender;  /* SenderCompID (49) of what is sent */
    const char *target;  /* TargetCompID (56) */
    char *buf;           /* where the resent messages and gap fills are written (capacity cap) */
    size_t cap;
    void *user;
    /* What seq holds (may act on it: the gateway voids an order it gap-fills). */
    ht_fix_resend_kind (*classify)(void *user, uint64_t seq);
    /* Parses the stored message of seq (classified HT_FIX_RESEND_MESSAGE) into *stored, whose bytes the side keeps
     * until the next call. 0; 1 when nothing is sent for seq (and the gap before it is closed); -1 to stop. */
    int (*load)(void *user, uint64_t seq, ht_fix_msg *stored);
    /* Sends finished bytes. 0, or -1 to stop. */
    int (*send)(void *user, const char *bytes, size_t len);
} ht_fix_resend_source;

/* Answers a ResendRequest for [begin, end] (begin 0 counts as 1; end is clamped by the caller): every sequence
 * number classified HT_FIX_RESEND_MESSAGE is resent with PossDupFlag (43) Y, OrigSendingTime (122) = its SendingTime,
 * a new header and its other fields as stored (PossDupFlag, OrigSendingTime and PossResend (97) of the stored one
 * dropped); each run of the others is covered by one SequenceReset-GapFill (35=4, 43=Y, 123=Y, NewSeqNo (36) = the
 * next sequence number not covered) sent as the run's first sequence number. *resent (may be NULL) counts the
 * messages resent. Returns 0, or -1 when a callback stopped it or a message did not fit the buffer. */
int ht_fix_answer_resend(const ht_fix_resend_source *src, uint64_t begin, uint64_t end, unsigned *resent);

/* Copies a message for logging with the values of secret-bearing tags (554 Password, 96 RawData) replaced
 * by '*' and SOH shown as '|'. out has capacity cap (NUL-terminated, truncated). Returns out. */
char *ht_fix_redact(const char *msg, size_t len, char *out, size_t cap);

#endif
