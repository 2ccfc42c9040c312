/* SPDX-License-Identifier: MIT */
/* The gateway's journal: the records it writes (layouts in gw_priv.h and docs/gateway.md), the index of outbound
 * sequence numbers, and the replay that rebuilds sequence numbers, ClOrdIDs, open orders and positions at start. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>

#include "gw_priv.h"
#include "hedgetrig/tsc.h"

/* Remembers where the message of an outbound sequence number is (grows off the order path, geometrically). */
int gw_index_out(ht_gw *gw, uint64_t seq, uint64_t clordid, char kind, uint64_t offset, uint32_t len)
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
const out_entry *gw_lookup_out(const ht_gw *gw, uint64_t seq)
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

/* The error for a record whose payload is not the size its type has. */
static int bad_size(const ht_gw *gw, const char *type, uint64_t offset, uint32_t len, size_t expected, ht_error *err)
{
    return ht_error_set(err, "journal %s: %s record at offset %llu is %u bytes, expected %zu", gw->cfg.journal_path,
                        type, (unsigned long long)offset, len, expected);
}

/* Replays an OUT record: the outbound sequence number, the index entry, the ClOrdID, and an order as open. */
static int replay_out(ht_gw *gw, const uint8_t *payload, uint32_t len, uint64_t offset, ht_error *err)
{
    if (len < JREC_OUT_HEAD_BYTES)
        return ht_error_set(err, "journal %s: OUT record at offset %llu is %u bytes, expected >= %d",
                            gw->cfg.journal_path, (unsigned long long)offset, len, JREC_OUT_HEAD_BYTES);
    uint64_t seq = get_u64(payload), clordid = get_u64(payload + 8);
    char kind = (char)payload[16];
    gw->next_out = seq + 1;
    if (gw_index_out(gw, seq, clordid, kind, len > JREC_OUT_HEAD_BYTES ? offset : 0, len - JREC_OUT_HEAD_BYTES) != 0)
        return ht_error_set(err, "journal %s: out of memory", gw->cfg.journal_path);
    if (kind == 'D')
        gw->orders_journaled++;
    if (kind == 'D' && len > JREC_OUT_HEAD_BYTES) {
        ht_fix_msg msg;
        size_t used;
        ht_error perr;
        if (ht_fix_parse((const char *)payload + JREC_OUT_HEAD_BYTES, len - JREC_OUT_HEAD_BYTES,
                         HT_FIX_HARD_MAX_MSG, &msg, &used, &perr) != HT_FIX_PARSE_OK)
            return ht_error_set(err, "journal %s: order at offset %llu does not parse: %s", gw->cfg.journal_path,
                                (unsigned long long)offset, perr.msg);
        size_t sym_len;
        const char *sym = ht_fix_get(&msg, HT_TAG_SYMBOL, &sym_len);
        double qty = 0, px = 0;
        ht_fix_get_double(&msg, HT_TAG_ORDER_QTY, &qty);
        ht_fix_get_double(&msg, HT_TAG_PRICE, &px);
        int inst = sym ? gw_find_instrument(gw, sym, sym_len, true) : -1;
        if (inst >= 0 && gw->n_open < HT_GW_MAX_OPEN_ORDERS)
            gw_add_order(gw, clordid, seq, inst, ht_fix_get_char(&msg, HT_TAG_SIDE) == '2' ? -1 : 1, qty, px);
    }
    if (clordid >= gw->next_clordid)
        gw->next_clordid = clordid + 1;
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
    case JREC_OUT:
        return replay_out(gw, payload, len, offset, err);
    case JREC_IN: {
        if (len != sizeof(jrec_in))
            return bad_size(gw, "IN", offset, len, sizeof(jrec_in), err);
        jrec_in r;
        memcpy(&r, payload, sizeof r);
        gw->next_in = r.seq + 1;
        if (r.msg_type[0] == HT_FIX_MSG_EXECUTION_REPORT[0])
            gw_apply_exec(gw, &r);
        return 0;
    }
    case JREC_RESERVE:
        if (len != 8)
            return bad_size(gw, "RESERVE", offset, len, 8, err);
        gw->reserved_clordid = get_u64(payload);
        return 0;
    case JREC_SEQ_RESET:
        if (len != 16)
            return bad_size(gw, "SEQ_RESET", offset, len, 16, err);
        gw->next_out = get_u64(payload);
        gw->next_in = get_u64(payload + 8);
        gw->out_count = 0;
        return 0;
    case JREC_VOID: {
        if (len != 8)
            return bad_size(gw, "VOID", offset, len, 8, err);
        open_order *o = gw_find_order(gw, get_u64(payload));
        if (o)
            gw_remove_order(gw, o);
        return 0;
    }
    default:
        return ht_error_set(err, "journal %s: unknown record type %u at offset %llu", gw->cfg.journal_path, type,
                            (unsigned long long)offset);
    }
}

int64_t gw_journal_put(ht_gw *gw, uint8_t type, const void *head, size_t head_len, const void *body, size_t body_len)
{
    ht_error err;
    int64_t at = ht_journal_append(gw->journal, type, head, head_len, body, body_len, &err);
    if (at < 0) {
        gw_log(gw, "JOURNAL FAILURE, stopping the session: %s", err.msg);
        gw_close_socket(gw);
        gw_set_state(gw, HT_GW_STOPPED);
    }
    return at;
}

/* Replays the journal (or starts a fresh one with its header and a new session tag), then prepares the ClOrdID
 * head and the order encoder from the session tag. */
int gw_journal_start(ht_gw *gw, ht_error *err)
{
    ht_journal_report rep;
    ht_journal_options opt = {gw->cfg.journal_fsync, gw->cfg.journal_fsync_interval_ms, gw->cfg.journal_tail,
                              gw->cfg.journal_mode};
    gw->journal = ht_journal_open_with(gw->cfg.journal_path, &opt, replay_record, gw, &rep, err);
    if (!gw->journal)
        return -1;
    if (rep.warning[0])
        gw_log(gw, "WARNING: %s", rep.warning);
    if (rep.unpublished_bytes)
        gw_log(gw, "journal %s: a record of %llu bytes at offset %llu was being written when the last process stopped "
               "(never published, so never sent): dropped", gw->cfg.journal_path,
               (unsigned long long)rep.unpublished_bytes, (unsigned long long)rep.good_bytes);
    if (rep.records == 0) {
        char head[96];
        if (make_session_tag(gw, err) != 0)
            return -1;
        int len = snprintf(head, sizeof head, "%s%c%s%c%s", gw->cfg.sender_comp_id, 0, gw->cfg.target_comp_id, 0,
                           gw->session_tag);
        if (gw_journal_put(gw, JREC_HEADER, head, (size_t)len + 1, NULL, 0) < 0)
            return ht_error_set(err, "gateway: cannot write the journal %s", gw->cfg.journal_path);
    }
    snprintf(gw->clordid_head, sizeof gw->clordid_head, "%s%s%s", gw->cfg.clordid_prefix, gw->session_tag,
             gw->session_tag[0] ? "-" : "");
    gw->clordid_head_len = strlen(gw->clordid_head);
    if (ht_fix_nos_init(&gw->nos, gw->cfg.sender_comp_id, gw->cfg.target_comp_id, gw->clordid_head,
                        gw->cfg.qty_decimals, gw->cfg.price_decimals, err) != 0)
        return -1;
    if (rep.records == 0) {
        gw_log(gw, "journal %s: new; ClOrdIDs %s1, %s2, ...", gw->cfg.journal_path, gw->clordid_head,
               gw->clordid_head);
    } else {
        if (gw->reserved_clordid > gw->next_clordid)
            gw->next_clordid = gw->reserved_clordid; /* skip the rest of the last block: never reuse */
        gw_log(gw, "journal %s: %llu records; resuming at out seq %llu, in seq %llu, ClOrdID %s%llu, %zu open orders",
               gw->cfg.journal_path, (unsigned long long)rep.records, (unsigned long long)gw->next_out,
               (unsigned long long)gw->next_in, gw->clordid_head, (unsigned long long)gw->next_clordid, gw->n_open);
    }
    return 0;
}

/* Journals that an inbound message's sequence number was consumed. */
int gw_journal_in_seq(ht_gw *gw, const ht_fix_msg *m, uint64_t seq)
{
    jrec_in r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    memcpy(r.msg_type, m->msg_type, 2);
    return gw_journal_put(gw, JREC_IN, &r, sizeof r, NULL, 0) < 0 ? -1 : 0;
}
