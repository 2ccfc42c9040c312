/* SPDX-License-Identifier: MIT */
/* The exchange simulator's FIX acceptor session: the counterparties' session stores, logon (with Deribit's
 * credentials), sequence numbers and gaps, resends (through ht_fix_answer_resend), and the dispatch of inbound
 * messages by MsgType. */
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/digest.h"
#include "hedgetrig/tsc.h"
#include "xsim_priv.h"

/* ---- outbound ---- */

/* Starts a message to the connection's counterparty with the next sequence number. */
void xsim_begin_out(ht_xsim *x, conn *c, ht_fix_writer *w, const char *type, uint64_t seq)
{
    ht_fix_begin_session_msg(w, x->scratch, sizeof x->scratch, type, x->cfg.comp_id, c->store->client_comp_id, seq,
                             ht_wall_ns());
}

/* Finishes a message, stores it for resends under the next sequence number and transmits it. */
void xsim_send_out(ht_xsim *x, conn *c, ht_fix_writer *w, bool app, bool withhold)
{
    size_t len;
    const char *bytes = ht_fix_writer_finish(w, &len);
    if (!bytes) {
        if (w->refused)
            xsim_log(x, "outbound message not sent: the value of tag %u is empty or not printable ASCII", w->refused_tag);
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
        xsim_transmit(x, c, bytes, len);
    else
        xsim_log(x, "test hook: seq %llu withheld", (unsigned long long)m->seq);
}

/* Sends an admin message (Heartbeat, TestRequest, Logout, ResendRequest) with optional fields. */
void xsim_send_admin(ht_xsim *x, conn *c, const char *type, const char *test_req_id, const char *text,
                       uint64_t resend_from)
{
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, type, c->store->next_out);
    if (test_req_id)
        ht_fix_put_str(&w, HT_TAG_TEST_REQ_ID, test_req_id);
    if (resend_from) {
        ht_fix_put_u64(&w, HT_TAG_BEGIN_SEQ_NO, resend_from);
        ht_fix_put_u64(&w, HT_TAG_END_SEQ_NO, 0);
    }
    if (text)
        ht_fix_put_str(&w, HT_TAG_TEXT, text);
    xsim_send_out(x, c, &w, false, false);
}

/* Sends a session Reject (35=3). */
void xsim_send_session_reject(ht_xsim *x, conn *c, uint64_t ref_seq, uint32_t tag, const char *type, int reason,
                                const char *text)
{
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_REJECT, c->store->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, ref_seq);
    if (tag)
        ht_fix_put_u64(&w, HT_TAG_REF_TAG_ID, tag);
    ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, type);
    ht_fix_put_u64(&w, HT_TAG_SESSION_REJECT_REASON, (uint64_t)reason);
    ht_fix_put_str(&w, HT_TAG_TEXT, text);
    xsim_send_out(x, c, &w, false, false);
    pthread_mutex_lock(&x->lock);
    x->stats.session_rejects++;
    pthread_mutex_unlock(&x->lock);
}

/* Copies an inbound string field into out (capacity cap) when it holds 1..cap-1 bytes of the grammar; otherwise
 * answers with a session Reject (373=6, incorrect data format) naming the tag, the byte and its offset, and returns
 * false. An absent field is left empty (true): required tags are checked by the callers. What the simulator echoes
 * back (ClOrdID, Symbol, TestReqID) is thus always a value that encodes as exactly one field. */
bool xsim_inbound_value(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, const char *type, uint32_t tag,
                          const char *name, ht_fix_grammar grammar, char *out, size_t cap)
{
    size_t len = 0;
    const char *v = ht_fix_get(m, tag, &len);
    out[0] = '\0';
    if (!v)
        return true;
    ht_error bad;
    if (ht_fix_check_value(name, v, len, grammar, 1, cap - 1, &bad) != 0) {
        xsim_log(x, "seq %llu rejected: %s", (unsigned long long)seq, bad.msg);
        xsim_send_session_reject(x, c, seq, tag, type, 6, bad.msg);
        return false;
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

/* A connection's resend callbacks share this. */
typedef struct resend_ctx {
    ht_xsim *x;
    conn *c;
} resend_ctx;

/* The stored message of outbound seq, or NULL. The store holds consecutive numbers from its first (a reset empties
 * it), so the index is the distance from that one. */
static const stored_msg *find_stored(const session_store *s, uint64_t seq)
{
    if (!s->n_sent || seq < s->sent[0].seq || seq - s->sent[0].seq >= s->n_sent)
        return NULL;
    const stored_msg *m = &s->sent[seq - s->sent[0].seq];
    return m->seq == seq ? m : NULL;
}

/* Application messages are resent, admin ones gap-filled (ht_fix_resend_source.classify). */
static ht_fix_resend_kind resend_classify(void *user, uint64_t seq)
{
    const stored_msg *m = find_stored(((resend_ctx *)user)->c->store, seq);
    return m && m->app ? HT_FIX_RESEND_MESSAGE : HT_FIX_RESEND_GAP_FILL;
}

/* Parses the stored message of seq; one that does not parse is skipped (ht_fix_resend_source.load). */
static int resend_load(void *user, uint64_t seq, ht_fix_msg *stored)
{
    const stored_msg *m = find_stored(((resend_ctx *)user)->c->store, seq);
    size_t used;
    return ht_fix_parse(m->bytes, m->len, HT_FIX_HARD_MAX_MSG, stored, &used, NULL) == HT_FIX_PARSE_OK ? 0 : 1;
}

/* Sends a resent message or a gap fill, not stored again (ht_fix_resend_source.send). */
static int resend_send(void *user, const char *bytes, size_t len)
{
    resend_ctx *rc = user;
    xsim_transmit(rc->x, rc->c, bytes, len);
    return 0;
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
    xsim_log(x, "%s asked for a resend of %llu..%llu", s->client_comp_id, (unsigned long long)begin,
             (unsigned long long)end);
    resend_ctx ctx = {x, c};
    ht_fix_resend_source src = {x->cfg.comp_id, s->client_comp_id, x->scratch, sizeof x->scratch, &ctx,
                                resend_classify, resend_load, resend_send};
    ht_fix_answer_resend(&src, begin, end, NULL);
}

/* Frees what a session store holds (its stored messages and ClOrdIDs). */
void xsim_free_store(session_store *s)
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

/* The session store of a counterparty, created on its first logon. */
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
        xsim_log(x, "session of %s forgotten (idle; %d counterparties are known) for %s", s->client_comp_id,
             HT_XSIM_MAX_SESSIONS, comp_id);
        xsim_free_store(s);
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
    xsim_send_admin(x, c, HT_FIX_MSG_LOGOUT, NULL, text, 0);
    xsim_drop_conn(x, c, text);
    free(scratch.sent);
}

/* The first message of a connection must be a Logon to this CompID whose SenderCompID (it becomes TargetCompID
 * (56) of every answer) is an identifier that fits sender[32]. True with it in sender; false after closing. */
static bool logon_sender(ht_xsim *x, conn *c, const ht_fix_msg *m, char sender[32])
{
    size_t sender_len = 0;
    const char *raw_sender = ht_fix_get(m, HT_TAG_SENDER_COMP_ID, &sender_len);
    if (strcmp(m->msg_type, HT_FIX_MSG_LOGON) != 0 || !raw_sender ||
        !ht_fix_field_is(m, HT_TAG_TARGET_COMP_ID, x->cfg.comp_id)) {
        xsim_drop_conn(x, c, "first message is not a Logon to this CompID");
        return false;
    }
    ht_error bad;
    if (ht_fix_check_value("Logon SenderCompID (49)", raw_sender, sender_len, HT_FIX_GRAMMAR_ID, 1, 31, &bad) != 0) {
        xsim_log(x, "logon refused: %s", bad.msg);
        xsim_drop_conn(x, c, "bad SenderCompID");
        return false;
    }
    memcpy(sender, raw_sender, sender_len);
    sender[sender_len] = '\0';
    return true;
}

/* Attaches the sender's session store to the connection: credentials first (a refused logon must not touch the
 * session it names: its connection, its sequence numbers), then the store (another connection of it is closed;
 * ResetSeqNumFlag starts its numbers again). True, or false after refusing. */
static bool open_session(ht_xsim *x, conn *c, const ht_fix_msg *m, const char *sender)
{
    if (!auth_ok(x, m)) {
        xsim_log(x, "logon from %s (%s) refused: bad credentials", sender, c->peer);
        refuse_logon(x, c, sender, "invalid credentials");
        return false;
    }
    c->store = store_for(x, sender);
    if (!c->store) {
        xsim_log(x, "logon from %s (%s) refused: %d counterparties are connected already", sender, c->peer,
                 HT_XSIM_MAX_SESSIONS);
        refuse_logon(x, c, sender, "too many sessions");
        return false;
    }
    for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++)
        if (&x->conns[i] != c && x->conns[i].fd >= 0 && x->conns[i].store == c->store)
            xsim_drop_conn(x, &x->conns[i], "replaced by a new logon");
    if (ht_fix_get_char(m, HT_TAG_RESET_SEQ_NUM_FLAG) == 'Y') {
        c->store->next_in = 1;
        c->store->next_out = 1;
        /* The stored messages go with their sequence numbers (they leaked at every reset before). */
        for (size_t k = 0; k < c->store->n_sent; k++)
            free(c->store->sent[k].bytes);
        c->store->n_sent = 0;
    }
    return true;
}

/* Accepts a connection's Logon: the session, the heartbeat interval (30 s unless 1..3600 is asked), the answering
 * Logon. True when the message is then sequenced like any other; false after closing. */
static bool accept_logon(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    char sender[32] = "";
    if (!logon_sender(x, c, m, sender) || !open_session(x, c, m, sender))
        return false;
    uint64_t hb = 30;
    ht_fix_get_u64(m, HT_TAG_HEART_BT_INT, &hb);
    c->heartbeat_s = hb >= 1 && hb <= 3600 ? (uint32_t)hb : 30;
    c->logged_on = true;
    c->store->last_logon_ns = ht_mono_ns();
    xsim_ledger_logon(x);
    pthread_mutex_lock(&x->lock);
    x->stats.logons++;
    pthread_mutex_unlock(&x->lock);
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_LOGON, c->store->next_out);
    ht_fix_put_u64(&w, HT_TAG_ENCRYPT_METHOD, 0);
    ht_fix_put_u64(&w, HT_TAG_HEART_BT_INT, c->heartbeat_s);
    if (ht_fix_get_char(m, HT_TAG_RESET_SEQ_NUM_FLAG) == 'Y')
        ht_fix_put_char(&w, HT_TAG_RESET_SEQ_NUM_FLAG, 'Y');
    xsim_send_out(x, c, &w, false, false);
    xsim_log(x, "logon from %s, seq %llu (expected %llu)", sender, (unsigned long long)seq,
             (unsigned long long)c->store->next_in);
    return true;
}

/* Sequencing: a number too low (not a PossDup) ends the session with a Logout; a gap asks for a resend once (a
 * ResendRequest that opened the gap is answered still); a SequenceReset moves the expected number. True when the
 * message is in sequence and to be acted on. */
static bool sequence_inbound(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    session_store *s = c->store;
    const char *type = m->msg_type;
    bool reset = strcmp(type, HT_FIX_MSG_SEQUENCE_RESET) == 0 && ht_fix_get_char(m, HT_TAG_GAP_FILL_FLAG) != 'Y';
    if (seq < s->next_in && !reset) {
        if (ht_fix_get_char(m, HT_TAG_POSS_DUP_FLAG) == 'Y')
            return false;
        char why[96];
        snprintf(why, sizeof why, "MsgSeqNum too low, expecting %llu but received %llu", (unsigned long long)s->next_in,
                 (unsigned long long)seq);
        xsim_send_admin(x, c, HT_FIX_MSG_LOGOUT, NULL, why, 0);
        xsim_drop_conn(x, c, why);
        return false;
    }
    if (seq > s->next_in && !reset) {
        if (!c->resend_pending) {
            c->resend_pending = true;
            xsim_send_admin(x, c, HT_FIX_MSG_RESEND_REQUEST, NULL, NULL, s->next_in);
        }
        if (strcmp(type, HT_FIX_MSG_RESEND_REQUEST) == 0) {
            uint64_t b = 0, e = 0;
            ht_fix_get_u64(m, HT_TAG_BEGIN_SEQ_NO, &b);
            ht_fix_get_u64(m, HT_TAG_END_SEQ_NO, &e);
            answer_resend(x, c, b, e);
        }
        return false;
    }
    if (strcmp(type, HT_FIX_MSG_SEQUENCE_RESET) == 0) {
        uint64_t new_seq = 0;
        if (ht_fix_get_u64(m, HT_TAG_NEW_SEQ_NO, &new_seq) && new_seq > s->next_in)
            s->next_in = new_seq;
        else if (!reset)
            s->next_in = seq + 1;
        c->resend_pending = false;
        return false;
    }
    s->next_in = seq + 1;
    c->resend_pending = false;
    return true;
}

/* Logon (35=A, handled in accept_logon) and Heartbeat (35=0): nothing more to do. */
static void on_nothing(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    (void)x, (void)c, (void)m, (void)seq;
}

/* TestRequest (35=1): a Heartbeat echoes its TestReqID. */
static void on_test_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    char id[64] = "";
    if (xsim_inbound_value(x, c, m, seq, HT_FIX_MSG_TEST_REQUEST, HT_TAG_TEST_REQ_ID, "TestReqID (112)",
                           HT_FIX_GRAMMAR_TEXT, id, sizeof id))
        xsim_send_admin(x, c, HT_FIX_MSG_HEARTBEAT, id[0] ? id : NULL, NULL, 0);
}

/* ResendRequest (35=2): answered from the store. */
static void on_resend_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    uint64_t b = 0, e = 0;
    if (!ht_fix_get_u64(m, HT_TAG_BEGIN_SEQ_NO, &b) || !ht_fix_get_u64(m, HT_TAG_END_SEQ_NO, &e) || b == 0)
        xsim_send_session_reject(x, c, seq, HT_TAG_BEGIN_SEQ_NO, HT_FIX_MSG_RESEND_REQUEST, 1, "bad ResendRequest");
    else
        answer_resend(x, c, b, e);
}

/* Logout (35=5): answered, then the connection closes. */
static void on_logout(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    (void)m, (void)seq;
    xsim_send_admin(x, c, HT_FIX_MSG_LOGOUT, NULL, "bye", 0);
    xsim_drop_conn(x, c, "logout");
}

/* NewOrderSingle (35=D): matched (a PossDup of one already handled is dropped). */
static void on_order(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    xsim_on_new_order(x, c, m, seq, ht_fix_get_char(m, HT_TAG_POSS_DUP_FLAG) == 'Y');
}

/* Any other MsgType: a BusinessMessageReject (35=j, reason 3) naming it. */
static void on_unsupported(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_BUSINESS_MESSAGE_REJECT, c->store->next_out);
    ht_fix_put_u64(&w, HT_TAG_REF_SEQ_NUM, seq);
    char shown_type[8];
    ht_fix_put_str(&w, HT_TAG_REF_MSG_TYPE, ht_fix_printable(m->msg_type, strlen(m->msg_type), shown_type,
                                                             sizeof shown_type));
    ht_fix_put_u64(&w, HT_TAG_BUSINESS_REJECT_REASON, 3);
    ht_fix_put_str(&w, HT_TAG_TEXT, "unsupported message type");
    xsim_send_out(x, c, &w, true, false);
    pthread_mutex_lock(&x->lock);
    x->stats.session_rejects++;
    pthread_mutex_unlock(&x->lock);
}

/* The MsgTypes the simulator acts on once a message is in sequence. */
static const struct in_handler {
    const char *type;
    void (*fn)(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq);
} k_in_handlers[] = {
    {HT_FIX_MSG_LOGON, on_nothing},
    {HT_FIX_MSG_HEARTBEAT, on_nothing},
    {HT_FIX_MSG_TEST_REQUEST, on_test_request},
    {HT_FIX_MSG_RESEND_REQUEST, on_resend_request},
    {HT_FIX_MSG_LOGOUT, on_logout},
    {HT_FIX_MSG_NEW_ORDER_SINGLE, on_order},
    {HT_FIX_MSG_ORDER_CANCEL_REQUEST, xsim_on_cancel_request},
    {HT_FIX_MSG_REQUEST_FOR_POSITIONS, xsim_on_pos_request},
    {HT_FIX_MSG_TRADE_CAPTURE_REPORT_REQUEST, xsim_on_trade_request},
    {HT_FIX_MSG_USER_REQUEST, xsim_on_user_request},
};

/* Handles one inbound message on a connection: MsgSeqNum present, the Logon of a new connection, sequencing, then
 * the MsgType's handler. */
void xsim_on_message(ht_xsim *x, conn *c, const ht_fix_msg *m)
{
    uint64_t seq = 0;
    if (!ht_fix_get_u64(m, HT_TAG_MSG_SEQ_NUM, &seq) || seq == 0) {
        xsim_drop_conn(x, c, "message without MsgSeqNum");
        return;
    }
    if (!c->logged_on && !accept_logon(x, c, m, seq))
        return;
    if (!sequence_inbound(x, c, m, seq) || !xsim_rate_admit(x, c, m, seq))
        return;
    for (size_t i = 0; i < HT_ARRAY_LEN(k_in_handlers); i++)
        if (strcmp(m->msg_type, k_in_handlers[i].type) == 0) {
            k_in_handlers[i].fn(x, c, m, seq);
            return;
        }
    on_unsupported(x, c, m, seq);
}
