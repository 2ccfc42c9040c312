/* SPDX-License-Identifier: MIT */
/* The gateway's FIX session: the socket, logon, heartbeats and TestRequests, sequence numbers, gaps and resends
 * (answered through ht_fix_answer_resend), logout, and the dispatch of inbound messages by MsgType. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_priv.h"
#include "hedgetrig/tsc.h"

/* ---- socket ---- */

void gw_close_socket(ht_gw *gw)
{
    gw_uring_drop(gw);
    if (gw->fd >= 0)
        close(gw->fd);
    gw->fd = -1;
    gw->rx_len = 0;
    gw->tx_len = 0;
}

void gw_set_state(ht_gw *gw, ht_gw_state s)
{
    if (s != gw->state)
        gw_armed_invalidate(gw); /* a logon may restart the sequence numbers; a session down sends nothing */
    gw->state = s;
    gw->state_since_ns = ht_mono_ns();
}

/* Drops the connection and schedules a reconnect (unless stopping); reports HT_GW_EV_DISCONNECTED. */
void gw_disconnect(ht_gw *gw, ht_gw_event *ev, int max, int *n, const char *why)
{
    bool was_up = gw->fd >= 0;
    if (strcmp(why, "logout") != 0 && strcmp(why, "logon refused") != 0)
        snprintf(gw->last_problem, sizeof gw->last_problem, "%s", why); /* those two set a fuller one */
    gw_close_socket(gw);
    gw->resend_pending = false;
    gw->resend_until = 0;
    gw->test_req_sent_ns = 0;
    if (gw->state == HT_GW_LOGOUT_SENT || gw->state == HT_GW_STOPPED) {
        gw_set_state(gw, HT_GW_STOPPED);
    } else {
        gw->failed_attempts = gw->state == HT_GW_ACTIVE ? 0 : gw->failed_attempts + 1;
        if (gw->cfg.reconnect_max_attempts && gw->failed_attempts >= gw->cfg.reconnect_max_attempts) {
            gw_set_state(gw, HT_GW_STOPPED);
            gw_log(gw, "giving up after %u failed connection attempts: %s", gw->failed_attempts, why);
            ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_GIVE_UP);
            if (e)
                snprintf(e->text, sizeof e->text, "gave up after %u attempts: %s", gw->failed_attempts, why);
            return;
        }
        if (gw->failed_attempts == 0)
            gw->reconnect_delay_ms = gw->cfg.reconnect_min_ms;
        gw->reconnect_at_ns = ht_mono_ns() + (uint64_t)gw->reconnect_delay_ms * 1000000u;
        gw_set_state(gw, HT_GW_DISCONNECTED);
        gw_log(gw, "disconnected (%s); reconnecting in %u ms", why, gw->reconnect_delay_ms);
        gw->reconnect_delay_ms = gw->reconnect_delay_ms * 2 > gw->cfg.reconnect_max_ms ? gw->cfg.reconnect_max_ms
                                                                                         : gw->reconnect_delay_ms * 2;
    }
    if (was_up) {
        ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_DISCONNECTED);
        if (e)
            snprintf(e->text, sizeof e->text, "%s", why);
    }
}

/* Writes bytes to the socket, queueing what the kernel does not take. 0, or -1 when the queue overflows. */
int gw_send_bytes(ht_gw *gw, const char *bytes, size_t len)
{
    if (gw->fd < 0)
        return -1;
    if (gw->uring) /* send = io_uring: every byte of the session goes through the ring, in order */
        return gw_uring_send(gw, bytes, len);
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

/* True when bytes wait to be sent (or a completion to be reaped). */
static bool tx_pending(const ht_gw *gw)
{
    return gw->tx_len || gw_uring_busy(gw);
}

/* Sends what is queued. 0, or -1 when the socket failed. */
static int flush_tx(ht_gw *gw)
{
    if (gw->uring)
        return gw_uring_flush(gw);
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
    gw_set_state(gw, HT_GW_CONNECTING);
    return 0;
}

/* ---- outbound messages ---- */

/* Starts an outbound message with the standard header for sequence number seq. */
void gw_begin_msg(ht_gw *gw, ht_fix_writer *w, const char *type, uint64_t seq)
{
    ht_fix_begin_session_msg(w, gw->scratch, sizeof gw->scratch, type, gw->cfg.sender_comp_id, gw->cfg.target_comp_id,
                             seq, ht_wall_ns());
}

/* Finishes, journals (kind 'A': sequence only; else with the bytes) and sends a message at gw->next_out. */
int gw_finish_and_send(ht_gw *gw, ht_fix_writer *w, char kind, uint64_t clordid)
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
    uint8_t head[JREC_OUT_HEAD_BYTES];
    uint64_t seq = gw->next_out;
    memcpy(head, &seq, 8);
    memcpy(head + 8, &clordid, 8);
    head[16] = (uint8_t)kind;
    bool with_bytes = kind != 'A';
    int64_t at = gw_journal_put(gw, JREC_OUT, head, sizeof head, with_bytes ? bytes : NULL, with_bytes ? len : 0);
    if (at < 0)
        return -1;
    gw_index_out(gw, seq, clordid, kind, with_bytes ? (uint64_t)at : 0, with_bytes ? (uint32_t)len : 0);
    gw->next_out++;
    if (!gw->rate.paid)
        gw_rate_charge(gw, kind != 'A'); /* orders and cancels count on the matching engine, the rest on credits */
    gw->rate.paid = false;
    if (gw->debug_skip_out && kind != 'A') {
        gw->debug_skip_out = false;
        gw_log(gw, "test hook: seq %llu journaled but not transmitted", (unsigned long long)seq);
        return 0;
    }
    return gw_send_bytes(gw, bytes, len);
}

static int send_logon(ht_gw *gw)
{
    ht_fix_writer w;
    if (gw->cfg.reset_seq_on_logon) {
        uint64_t seqs[2] = {1, 1};
        if (gw_journal_put(gw, JREC_SEQ_RESET, seqs, sizeof seqs, NULL, 0) < 0)
            return -1;
        gw->next_out = 1;
        gw->next_in = 1;
        gw->out_count = 0;
    }
    gw_begin_msg(gw, &w, HT_FIX_MSG_LOGON, gw->next_out);
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
    int rc = gw_finish_and_send(gw, &w, 'A', 0);
    explicit_bzero(gw->scratch, sizeof gw->scratch); /* the logon held the password */
    if (rc == 0) {
        gw_set_state(gw, HT_GW_LOGON_SENT);
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
    gw_begin_msg(gw, &w, type, gw->next_out);
    if (test_req_id)
        ht_fix_put_str(&w, HT_TAG_TEST_REQ_ID, test_req_id);
    if (text && text[0])
        ht_fix_put_str(&w, HT_TAG_TEXT, text);
    return gw_finish_and_send(gw, &w, 'A', 0);
}

static int send_resend_request(ht_gw *gw, uint64_t begin)
{
    ht_fix_writer w;
    gw_begin_msg(gw, &w, HT_FIX_MSG_RESEND_REQUEST, gw->next_out);
    ht_fix_put_u64(&w, HT_TAG_BEGIN_SEQ_NO, begin);
    ht_fix_put_u64(&w, HT_TAG_END_SEQ_NO, 0);
    gw->resend_asked_ns = ht_mono_ns();
    gw_log(gw, "gap: expected inbound seq %llu, asked for a resend up to %llu", (unsigned long long)begin,
           (unsigned long long)gw->resend_until);
    return gw_finish_and_send(gw, &w, 'A', 0);
}

/* Sends a session Reject (35=3) of inbound seq ref_seq. */
int gw_send_reject(ht_gw *gw, uint64_t ref_seq, uint32_t ref_tag, const char *ref_type, int reason, const char *text)
{
    char shown_text[256], shown_type[8];
    ht_fix_writer w;
    gw_begin_msg(gw, &w, HT_FIX_MSG_REJECT, gw->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, ref_seq);
    if (ref_tag)
        ht_fix_put_u64(&w, HT_TAG_REF_TAG_ID, ref_tag);
    if (ref_type && ref_type[0]) /* the venue's MsgType, echoed: shown printable */
        ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, ht_fix_printable(ref_type, strlen(ref_type), shown_type, sizeof shown_type));
    ht_fix_put_u64(&w, HT_TAG_SESSION_REJECT_REASON, (uint64_t)reason);
    ht_fix_put_str(&w, HT_TAG_TEXT, ht_fix_printable(text, strlen(text), shown_text, sizeof shown_text));
    return gw_finish_and_send(gw, &w, 'A', 0);
}

/* What the gateway's resend callbacks share. */
typedef struct resend_ctx {
    ht_gw *gw;
    ht_gw_event *ev;
    int max;
    int *n;
    unsigned voided; /* orders gap-filled and voided */
} resend_ctx;

/* A resend's view of outbound seq (ht_fix_resend_source.classify): orders are resent when resend_orders is set,
 * cancels always; the rest is gap-filled, and an order gap-filled is voided (journaled, reported): it never reached
 * the venue. */
static ht_fix_resend_kind resend_classify(void *user, uint64_t seq)
{
    resend_ctx *rc = user;
    ht_gw *gw = rc->gw;
    const out_entry *e = gw_lookup_out(gw, seq);
    if (e && e->len && (gw->cfg.resend_orders || e->kind == 'F'))
        return HT_FIX_RESEND_MESSAGE;
    open_order *o = e && e->kind == 'D' ? gw_find_order(gw, e->clordid) : NULL;
    if (!o)
        return HT_FIX_RESEND_GAP_FILL;
    uint64_t id = e->clordid;
    if (gw_journal_put(gw, JREC_VOID, &id, sizeof id, NULL, 0) < 0)
        return HT_FIX_RESEND_STOP;
    gw_remove_order(gw, o);
    rc->voided++;
    ht_gw_event *v = gw_push_event(rc->ev, rc->max, rc->n, HT_GW_EV_ORDER_VOID);
    if (v) {
        v->clordid_num = id;
        snprintf(v->clordid, sizeof v->clordid, "%s%llu", gw->clordid_head, (unsigned long long)id);
        snprintf(v->text, sizeof v->text, "seq %llu gap-filled on the venue's resend request: the order "
                 "never reached the venue", (unsigned long long)seq);
    }
    return HT_FIX_RESEND_GAP_FILL;
}

/* Reads the journaled message of seq and parses it (ht_fix_resend_source.load). */
static int resend_load(void *user, uint64_t seq, ht_fix_msg *stored)
{
    ht_gw *gw = ((resend_ctx *)user)->gw;
    const out_entry *e = gw_lookup_out(gw, seq);
    if (e->len > sizeof gw->resend_stored - JREC_OUT_HEAD_BYTES)
        return -1;
    ht_error err;
    if (ht_journal_read_payload(gw->journal, e->offset, gw->resend_stored, JREC_OUT_HEAD_BYTES + e->len, &err) != 0) {
        gw_log(gw, "resend of seq %llu: %s", (unsigned long long)e->seq, err.msg);
        return -1;
    }
    size_t used;
    if (ht_fix_parse(gw->resend_stored + JREC_OUT_HEAD_BYTES, e->len, HT_FIX_HARD_MAX_MSG, stored, &used, &err) !=
        HT_FIX_PARSE_OK) {
        gw_log(gw, "resend of seq %llu: the journaled message does not parse: %s", (unsigned long long)e->seq, err.msg);
        return -1;
    }
    return 0;
}

/* Sends a resent message or a gap fill (ht_fix_resend_source.send): not journaled, it reuses its number. */
static int resend_send(void *user, const char *bytes, size_t len)
{
    gw_rate_charge(((resend_ctx *)user)->gw, false); /* a request like any other to the venue's credit pool */
    return gw_send_bytes(((resend_ctx *)user)->gw, bytes, len);
}

/* Answers the venue's ResendRequest [begin, end] from the journal: orders are resent (resend_orders) or
 * gap-filled and voided; admin messages are gap-filled. */
static int answer_resend(ht_gw *gw, uint64_t begin, uint64_t end, ht_gw_event *ev, int max, int *n)
{
    uint64_t last = gw->next_out - 1;
    if (end == 0 || end > last)
        end = last;
    gw_log(gw, "venue asked for a resend of %llu..%llu", (unsigned long long)begin, (unsigned long long)end);
    resend_ctx ctx = {gw, ev, max, n, 0};
    ht_fix_resend_source src = {gw->cfg.sender_comp_id, gw->cfg.target_comp_id, gw->scratch, sizeof gw->scratch,
                                &ctx, resend_classify, resend_load, resend_send};
    unsigned resent = 0;
    if (ht_fix_answer_resend(&src, begin, end, &resent) != 0)
        return -1;
    gw_log(gw, "resend answered: %u messages resent, %u orders voided, the rest gap-filled", resent, ctx.voided);
    return 0;
}

/* ---- inbound ---- */

/* Logs and reports a malformed or unexpected inbound message. */
void gw_report_bad(ht_gw *gw, ht_gw_event *ev, int max, int *n, uint64_t seq, const char *why)
{
    gw_log(gw, "inbound message rejected: %s", why);
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_BAD_MESSAGE);
    if (e) {
        e->seq = seq;
        snprintf(e->text, sizeof e->text, "%.*s", (int)sizeof e->text - 1, why); /* the log line has all of it */
    }
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

/* True when the message is of this MsgType. */
static bool is_type(const ht_fix_msg *m, const char *type)
{
    return strcmp(m->msg_type, type) == 0;
}

/* True for a SequenceReset-Reset (35=4 without GapFillFlag Y): it ignores MsgSeqNum. */
static bool is_seq_reset(const ht_fix_msg *m)
{
    return is_type(m, HT_FIX_MSG_SEQUENCE_RESET) && ht_fix_get_char(m, HT_TAG_GAP_FILL_FLAG) != 'Y';
}

/* Header checks: MsgSeqNum (34) present and positive into *seq, CompIDs those of this session. 0, or -1 after
 * logging out and disconnecting. */
static int check_header(ht_gw *gw, const ht_fix_msg *m, uint64_t *seq, ht_gw_event *ev, int max, int *n)
{
    if (!ht_fix_get_u64(m, HT_TAG_MSG_SEQ_NUM, seq) || *seq == 0) {
        gw_report_bad(gw, ev, max, n, 0, "message without a valid MsgSeqNum (34): logging out");
        send_simple_admin(gw, HT_FIX_MSG_LOGOUT, NULL, "MsgSeqNum missing");
        gw_disconnect(gw, ev, max, n, "message without MsgSeqNum");
        return -1;
    }
    if (!ht_fix_field_is(m, HT_TAG_SENDER_COMP_ID, gw->cfg.target_comp_id) ||
        !ht_fix_field_is(m, HT_TAG_TARGET_COMP_ID, gw->cfg.sender_comp_id)) {
        char why[160];
        snprintf(why, sizeof why, "seq %llu: CompIDs do not match this session (%s -> %s expected): logging out",
                 (unsigned long long)*seq, gw->cfg.target_comp_id, gw->cfg.sender_comp_id);
        gw_report_bad(gw, ev, max, n, *seq, why);
        gw_send_reject(gw, *seq, HT_TAG_SENDER_COMP_ID, m->msg_type, 9, "CompID problem");
        send_simple_admin(gw, HT_FIX_MSG_LOGOUT, NULL, "CompID problem");
        gw_disconnect(gw, ev, max, n, "CompID mismatch");
        return -1;
    }
    return 0;
}

/* While our Logon waits for its answer, anything but a Logon ends the attempt: a Logout is the venue refusing it
 * (the session stops when the venue complains about sequence numbers), the rest is a protocol error. Returns -1. */
static int on_not_logon_answer(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, ht_gw_event *ev, int max, int *n)
{
    if (!is_type(m, HT_FIX_MSG_LOGOUT)) {
        gw_report_bad(gw, ev, max, n, seq, "first message from the venue is not a Logon: disconnecting");
        gw_disconnect(gw, ev, max, n, "no Logon answer");
        return -1;
    }
    char text[200] = "";
    ht_fix_get_printable(m, HT_TAG_TEXT, text, sizeof text);
    gw_log(gw, "venue refused the logon: %s", text[0] ? text : "(no text)");
    snprintf(gw->last_problem, sizeof gw->last_problem, "venue refused the logon: %s", text[0] ? text : "(no text)");
    if (venue_seq_complaint(gw, text))
        gw_set_state(gw, HT_GW_STOPPED);
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_LOGOUT);
    if (e) {
        e->seq = seq;
        snprintf(e->text, sizeof e->text, "venue refused the logon: %s", text);
    }
    gw_disconnect(gw, ev, max, n, "logon refused");
    return -1;
}

/* The venue's Logon: the negotiated heartbeat, a sequence reset it asks for, the session active. */
static void on_logon_accepted(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, ht_gw_event *ev, int max, int *n)
{
    uint64_t hb = 0;
    if (ht_fix_get_u64(m, HT_TAG_HEART_BT_INT, &hb) && hb > 0 && hb <= 3600)
        gw->heartbeat_s = (uint32_t)hb;
    if (ht_fix_get_char(m, HT_TAG_RESET_SEQ_NUM_FLAG) == 'Y' && seq == 1)
        gw->next_in = 1;
    gw_set_state(gw, HT_GW_ACTIVE);
    gw->failed_attempts = 0;
    gw->reconnect_delay_ms = gw->cfg.reconnect_min_ms;
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_LOGON);
    if (e) {
        e->seq = seq;
        snprintf(e->text, sizeof e->text, "logged on: out seq %llu, in seq %llu", (unsigned long long)gw->next_out,
                 (unsigned long long)seq);
    }
    gw_log(gw, "logged on (venue seq %llu, expected %llu, heartbeat %u s)", (unsigned long long)seq,
           (unsigned long long)gw->next_in, gw->heartbeat_s);
    gw_account_on_logon(gw);
}

/* A MsgSeqNum below the expected one without PossDupFlag: the venue started a new session; this one stops. */
static int on_seq_too_low(ht_gw *gw, uint64_t seq, ht_gw_event *ev, int max, int *n)
{
    char why[80];
    snprintf(why, sizeof why, "MsgSeqNum too low: got %llu, expected %llu", (unsigned long long)seq,
             (unsigned long long)gw->next_in);
    gw_report_bad(gw, ev, max, n, seq, why);
    send_simple_admin(gw, HT_FIX_MSG_LOGOUT, NULL, why);
    gw_set_state(gw, HT_GW_STOPPED);
    gw_disconnect(gw, ev, max, n, why);
    snprintf(gw->last_problem, sizeof gw->last_problem, "%s (the venue started a new session; remedy: "
             "reset_seq_on_logon = yes, or remove the journal %s)", why, gw->cfg.journal_path);
    gw_log(gw, "session stopped: %s", gw->last_problem);
    return -1;
}

/* A MsgSeqNum above the expected one: one ResendRequest per gap (EndSeqNo 0 = everything); later messages are
 * covered by the same resend, and the timer asks again if the answer does not come within a heartbeat interval.
 * ResendRequest and Logout are acted on even out of order (*act set); the rest come again with the resend. */
static int on_seq_gap(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, bool *act)
{
    if (seq > gw->resend_until)
        gw->resend_until = seq;
    if (!gw->resend_pending) {
        gw->resend_pending = true;
        if (send_resend_request(gw, gw->next_in) != 0)
            return -1;
    }
    if (is_type(m, HT_FIX_MSG_LOGON))
        return 0;
    *act = is_type(m, HT_FIX_MSG_RESEND_REQUEST) || is_type(m, HT_FIX_MSG_LOGOUT);
    return 0;
}

/* A SequenceReset (either kind, in sequence or a Reset at any number): moves the expected number up, never down. */
static int on_sequence_reset(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, ht_gw_event *ev, int max, int *n)
{
    uint64_t new_seq = 0;
    if (!ht_fix_get_u64(m, HT_TAG_NEW_SEQ_NO, &new_seq)) {
        gw_report_bad(gw, ev, max, n, seq, "SequenceReset without NewSeqNo (36)");
        gw->next_in = seq + 1;
        return gw_send_reject(gw, seq, HT_TAG_NEW_SEQ_NO, HT_FIX_MSG_SEQUENCE_RESET, 1, "NewSeqNo missing");
    }
    if (new_seq > gw->next_in) {
        gw->next_in = new_seq;
        uint64_t seqs[2] = {gw->next_out, gw->next_in};
        if (gw_journal_put(gw, JREC_SEQ_RESET, seqs, sizeof seqs, NULL, 0) < 0)
            return -1;
    } else if (new_seq < gw->next_in) {
        gw_report_bad(gw, ev, max, n, seq, "SequenceReset would lower the expected sequence number: rejected");
        gw_send_reject(gw, seq, HT_TAG_NEW_SEQ_NO, HT_FIX_MSG_SEQUENCE_RESET, 5, "NewSeqNo lower than expected");
    }
    if (gw->resend_pending && gw->next_in > gw->resend_until)
        gw->resend_pending = false;
    return 0;
}

/* Sequencing of an inbound message: duplicates dropped, a number too low stops the session, a gap asks for a
 * resend, a SequenceReset moves the expected number, the test hook drops one. Sets *act when the message is to be
 * acted on; otherwise the return value is the caller's (0, or -1 when the connection must close). */
static int sequence_inbound(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, bool *act, ht_gw_event *ev, int max,
                            int *n)
{
    *act = false;
    bool reset = is_seq_reset(m);
    if (seq < gw->next_in && !reset) {
        if (ht_fix_get_char(m, HT_TAG_POSS_DUP_FLAG) == 'Y')
            return 0; /* already processed */
        return on_seq_too_low(gw, seq, ev, max, n);
    }
    const char *type = m->msg_type;
    if (gw->debug_drop_in && seq == gw->next_in && strchr("8j93", type[0]) && !type[1]) {
        gw->debug_drop_in = false;
        gw_log(gw, "test hook: inbound seq %llu dropped as if lost", (unsigned long long)seq);
        return 0;
    }
    if (seq > gw->next_in && !reset)
        return on_seq_gap(gw, m, seq, act);
    if (is_type(m, HT_FIX_MSG_SEQUENCE_RESET))
        return on_sequence_reset(gw, m, seq, ev, max, n);
    gw->next_in = seq + 1;
    if (gw->resend_pending && gw->next_in > gw->resend_until)
        gw->resend_pending = false;
    *act = true;
    return 0;
}

/* An inbound message's handler; returns -1 when the connection must close (after a logout). */
typedef int (*in_handler_fn)(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                             int max, int *n);

/* Logon (35=A), acted on in on_logon_accepted: its sequence number is journaled. */
static int on_logon(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                    int *n)
{
    (void)recv_tsc, (void)ev, (void)max, (void)n;
    return gw_journal_in_seq(gw, m, seq);
}

/* Heartbeat (35=0): one that answers our TestRequest ends its wait. */
static int on_heartbeat(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                        int *n)
{
    (void)seq, (void)recv_tsc, (void)ev, (void)max, (void)n;
    if (ht_fix_find(m, HT_TAG_TEST_REQ_ID))
        gw->test_req_sent_ns = 0;
    return 0;
}

/* TestRequest (35=1): a Heartbeat echoes its TestReqID, which must be printable text that fits. */
static int on_test_request(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                           int max, int *n)
{
    (void)recv_tsc;
    char id[64] = "";
    size_t id_len = 0;
    const char *raw = ht_fix_get(m, HT_TAG_TEST_REQ_ID, &id_len);
    ht_error bad;
    if (raw && (id_len >= sizeof id ||
                ht_fix_check_value("TestReqID (112)", raw, id_len, HT_FIX_GRAMMAR_TEXT, 1, sizeof id - 1, &bad) != 0)) {
        if (id_len >= sizeof id)
            snprintf(bad.msg, sizeof bad.msg, "TestReqID (112) is %zu bytes, at most %zu are echoed", id_len,
                     sizeof id - 1);
        gw_report_bad(gw, ev, max, n, seq, bad.msg);
        return gw_send_reject(gw, seq, HT_TAG_TEST_REQ_ID, HT_FIX_MSG_TEST_REQUEST, 6, bad.msg);
    }
    if (raw)
        memcpy(id, raw, id_len);
    return send_simple_admin(gw, HT_FIX_MSG_HEARTBEAT, id[0] ? id : NULL, NULL);
}

/* ResendRequest (35=2): answered from the journal. */
static int on_resend_request(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                             int max, int *n)
{
    (void)recv_tsc;
    uint64_t begin = 0, end = 0;
    if (!ht_fix_get_u64(m, HT_TAG_BEGIN_SEQ_NO, &begin) || !ht_fix_get_u64(m, HT_TAG_END_SEQ_NO, &end) || begin == 0) {
        gw_report_bad(gw, ev, max, n, seq, "ResendRequest without valid BeginSeqNo (7) / EndSeqNo (16)");
        return gw_send_reject(gw, seq, begin ? HT_TAG_END_SEQ_NO : HT_TAG_BEGIN_SEQ_NO, HT_FIX_MSG_RESEND_REQUEST, 1,
                              "bad ResendRequest");
    }
    return answer_resend(gw, begin, end, ev, max, n);
}

/* Logout (35=5): answered unless we asked for it; the session stops when it was ours or names sequence numbers. */
static int on_logout(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max,
                     int *n)
{
    (void)recv_tsc;
    char text[200] = "";
    ht_fix_get_printable(m, HT_TAG_TEXT, text, sizeof text);
    gw_log(gw, "venue logged out: %s", text[0] ? text : "(no text)");
    snprintf(gw->last_problem, sizeof gw->last_problem, "venue logged out: %s", text[0] ? text : "(no text)");
    bool seq_problem = gw->state != HT_GW_LOGOUT_SENT && venue_seq_complaint(gw, text);
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_LOGOUT);
    if (e) {
        e->seq = seq;
        snprintf(e->text, sizeof e->text, "venue logged out: %s", text);
    }
    if (gw->state != HT_GW_LOGOUT_SENT)
        send_simple_admin(gw, HT_FIX_MSG_LOGOUT, NULL, NULL);
    if (gw->state == HT_GW_LOGOUT_SENT || seq_problem)
        gw_set_state(gw, HT_GW_STOPPED);
    gw_disconnect(gw, ev, max, n, "logout");
    return -1;
}

/* Any other MsgType: a BusinessMessageReject (35=j, reason 3) naming it. */
static int on_unsupported(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, ht_gw_event *ev, int max, int *n)
{
    char why[96], shown_type[8];
    ht_fix_printable(m->msg_type, strlen(m->msg_type), shown_type, sizeof shown_type);
    snprintf(why, sizeof why, "unsupported MsgType '%s' (seq %llu)", shown_type, (unsigned long long)seq);
    gw_report_bad(gw, ev, max, n, seq, why);
    ht_fix_writer w;
    gw_begin_msg(gw, &w, HT_FIX_MSG_BUSINESS_MESSAGE_REJECT, gw->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, seq);
    ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, shown_type);
    ht_fix_put_u64(&w, HT_TAG_BUSINESS_REJECT_REASON, 3);
    ht_fix_put_str(&w, HT_TAG_TEXT, "unsupported message type");
    return gw_finish_and_send(gw, &w, 'A', 0);
}

/* The MsgTypes the gateway acts on. journals_seq: the handler journals the inbound sequence number itself (with
 * what the message says); for the others it is journaled before the handler runs. */
static const struct in_handler {
    const char *type;
    in_handler_fn fn;
    bool journals_seq;
} k_in_handlers[] = {
    {HT_FIX_MSG_LOGON, on_logon, true},
    {HT_FIX_MSG_HEARTBEAT, on_heartbeat, false},
    {HT_FIX_MSG_TEST_REQUEST, on_test_request, false},
    {HT_FIX_MSG_RESEND_REQUEST, on_resend_request, false},
    {HT_FIX_MSG_LOGOUT, on_logout, false},
    {HT_FIX_MSG_EXECUTION_REPORT, gw_on_execution_report, true},
    {HT_FIX_MSG_REJECT, gw_on_reject, true},
    {HT_FIX_MSG_ORDER_CANCEL_REJECT, gw_on_reject, true},
    {HT_FIX_MSG_BUSINESS_MESSAGE_REJECT, gw_on_reject, true},
    {HT_FIX_MSG_POSITION_REPORT, gw_on_position_report, false},
    {HT_FIX_MSG_TRADE_CAPTURE_REPORT, gw_on_trade_capture_report, false},
    {HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST_ACK, gw_on_trade_request_ack, false},
    {HT_FIX_MSG_USER_RESPONSE, gw_on_user_response, false},
};

/* Acts on a sequenced message: journals its sequence number when it was consumed (one acted on out of order was
 * not), then runs its MsgType's handler. */
static int dispatch_inbound(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                            int max, int *n)
{
    const struct in_handler *h = NULL;
    for (size_t i = 0; i < HT_ARRAY_LEN(k_in_handlers) && !h; i++)
        if (is_type(m, k_in_handlers[i].type))
            h = &k_in_handlers[i];
    if (!(h && h->journals_seq) && seq < gw->next_in && gw_journal_in_seq(gw, m, seq) != 0)
        return -1;
    return h ? h->fn(gw, m, seq, recv_tsc, ev, max, n) : on_unsupported(gw, m, seq, ev, max, n);
}

/* Handles one well-formed inbound message: header checks, the logon exchange, sequencing, then the MsgType's
 * handler. Returns -1 when the connection must close (after a logout). */
static int handle_message(ht_gw *gw, const ht_fix_msg *m, uint64_t recv_tsc, ht_gw_event *ev, int max, int *n)
{
    uint64_t seq = 0;
    if (check_header(gw, m, &seq, ev, max, n) != 0)
        return -1;
    bool is_logon = is_type(m, HT_FIX_MSG_LOGON);
    if (gw->state == HT_GW_LOGON_SENT && !is_logon)
        return on_not_logon_answer(gw, m, seq, ev, max, n);
    if (is_logon)
        on_logon_accepted(gw, m, seq, ev, max, n);
    bool act = false;
    int rc = sequence_inbound(gw, m, seq, &act, ev, max, n);
    if (!act)
        return rc;
    return dispatch_inbound(gw, m, seq, recv_tsc, ev, max, n);
}

/* Reads what the socket has and handles every complete message while there is room for events. */
static void read_and_handle(ht_gw *gw, ht_gw_event *ev, int max, int *n)
{
    uint64_t recv_tsc = ht_tsc_now();
    for (;;) {
        if (gw->rx_len == RX_CAP) {
            gw_disconnect(gw, ev, max, n, "receive buffer full");
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
            gw_disconnect(gw, ev, max, n, "the venue closed the connection");
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            break;
        char why[128];
        snprintf(why, sizeof why, "recv: %s", strerror(errno));
        gw_disconnect(gw, ev, max, n, why);
        return;
    }
    size_t off = 0;
    while (off < gw->rx_len && gw->fd >= 0 && *n < max && !gw_account_pending(gw)) {
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
            gw_report_bad(gw, ev, max, n, 0, why);
            if (++gw->bad_in_a_row >= MAX_BAD_IN_A_ROW) {
                send_simple_admin(gw, HT_FIX_MSG_LOGOUT, NULL, "too many malformed messages");
                gw_set_state(gw, HT_GW_LOGOUT_SENT);
                gw_disconnect(gw, ev, max, n, "too many malformed messages in a row");
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

/* Heartbeat, TestRequest, logon and logout timeouts, resend retries. */
static void run_timers(ht_gw *gw, uint64_t now, ht_gw_event *ev, int max, int *n)
{
    uint64_t hb_ns = (uint64_t)gw->heartbeat_s * 1000000000u;
    if (gw->state == HT_GW_LOGON_SENT && now - gw->state_since_ns > (uint64_t)gw->cfg.connect_timeout_ms * 1000000u) {
        gw_disconnect(gw, ev, max, n, "no Logon answer in time");
        return;
    }
    if (gw->state == HT_GW_LOGOUT_SENT && now - gw->state_since_ns > 2000000000u) {
        gw_disconnect(gw, ev, max, n, "no Logout answer in 2 s");
        return;
    }
    if (gw->state != HT_GW_ACTIVE)
        return;
    if (gw->test_req_sent_ns && now - gw->test_req_sent_ns > hb_ns) {
        gw_disconnect(gw, ev, max, n, "no answer to TestRequest");
        return;
    }
    if (!gw->test_req_sent_ns && now - gw->last_rx_ns > hb_ns + hb_ns / 5) {
        char id[32];
        snprintf(id, sizeof id, "T%llu", (unsigned long long)++gw->test_req_counter);
        gw->test_req_sent_ns = now;
        send_simple_admin(gw, HT_FIX_MSG_TEST_REQUEST, id, NULL);
    }
    if (now - gw->last_tx_ns >= hb_ns)
        send_simple_admin(gw, HT_FIX_MSG_HEARTBEAT, NULL, NULL);
    if (gw->resend_pending && now - gw->resend_asked_ns > hb_ns)
        send_resend_request(gw, gw->next_in);
}

int ht_gw_poll(ht_gw *gw, ht_gw_event *events, int max_events)
{
    int n = 0;
    uint64_t now = ht_mono_ns();
    gw_check_kill_sources(gw, now, events, max_events, &n);
    if (gw->state == HT_GW_DISCONNECTED && now >= gw->reconnect_at_ns) {
        char why[200];
        if (start_connect(gw, why, sizeof why) != 0) {
            gw_set_state(gw, HT_GW_CONNECTING);
            gw_disconnect(gw, events, max_events, &n, why);
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
                gw_disconnect(gw, events, max_events, &n, why);
                return n;
            }
            gw->last_rx_ns = now;
            if (send_logon(gw) != 0) {
                gw_disconnect(gw, events, max_events, &n, "could not send Logon");
                return n;
            }
        } else if (now - gw->state_since_ns > (uint64_t)gw->cfg.connect_timeout_ms * 1000000u) {
            gw_disconnect(gw, events, max_events, &n, "TCP connect timed out");
            return n;
        }
    }
    if (gw->fd >= 0 && gw->state != HT_GW_CONNECTING) {
        if (tx_pending(gw) && flush_tx(gw) != 0) {
            gw_disconnect(gw, events, max_events, &n, "send failed");
            return n;
        }
        gw_account_drain(gw, events, max_events, &n);
        read_and_handle(gw, events, max_events, &n);
        if (gw->fd >= 0)
            run_timers(gw, ht_mono_ns(), events, max_events, &n);
        if (gw->fd >= 0)
            gw_account_tick(gw, ht_mono_ns());
        if (gw->fd >= 0 && tx_pending(gw) && flush_tx(gw) != 0)
            gw_disconnect(gw, events, max_events, &n, "send failed");
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
    struct pollfd p[2] = {{gw->fd, POLLIN, 0}, {gw_uring_fd(gw), POLLIN, 0}};
    if (gw->state == HT_GW_CONNECTING || gw->tx_len)
        p[0].events |= POLLOUT;
    if (timeout_ms > 100)
        timeout_ms = 100; /* timers and the kill file are checked at least every 100 ms */
    poll(p, gw_uring_busy(gw) ? 2 : 1, timeout_ms); /* io_uring: a completion to reap wakes the wait too */
}

void ht_gw_logout(ht_gw *gw, const char *text)
{
    ht_error bad;
    if (text && text[0] && ht_fix_check_value("logout Text (58)", text, strlen(text), HT_FIX_GRAMMAR_TEXT, 1, 200, &bad) != 0) {
        gw_log(gw, "%s: the Logout goes without it", bad.msg);
        text = NULL;
    }
    if (gw->state == HT_GW_ACTIVE || gw->state == HT_GW_LOGON_SENT) {
        send_simple_admin(gw, HT_FIX_MSG_LOGOUT, NULL, text);
        gw_set_state(gw, HT_GW_LOGOUT_SENT);
        flush_tx(gw);
    } else {
        gw_close_socket(gw);
        gw_set_state(gw, HT_GW_STOPPED);
    }
}

