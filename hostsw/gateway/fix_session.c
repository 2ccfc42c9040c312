/* SPDX-License-Identifier: MIT */
/* FIX 4.4 session layer that both sides of a session share: the standard header, and the answer to a
 * ResendRequest (PossDup resend of stored messages, SequenceReset-GapFill over the rest). */
#include "hedgetrig/fix.h"

#include "hedgetrig/tsc.h"

void ht_fix_begin_session_msg(ht_fix_writer *w, char *buf, size_t cap, const char *msg_type, const char *sender,
                              const char *target, uint64_t seq, uint64_t wall_ns)
{
    ht_fix_writer_begin(w, buf, cap, msg_type);
    ht_fix_put_str(w, HT_TAG_SENDER_COMP_ID, sender);
    ht_fix_put_str(w, HT_TAG_TARGET_COMP_ID, target);
    ht_fix_put_u64(w, HT_TAG_MSG_SEQ_NUM, seq);
    ht_fix_put_time(w, HT_TAG_SENDING_TIME, wall_ns);
}

/* Sends a SequenceReset-GapFill as MsgSeqNum seq saying that the next message is new_seq. 0, or -1. */
static int send_gap_fill(const ht_fix_resend_source *src, uint64_t seq, uint64_t new_seq)
{
    ht_fix_writer w;
    ht_fix_begin_session_msg(&w, src->buf, src->cap, HT_FIX_MSG_SEQUENCE_RESET, src->sender, src->target, seq,
                             ht_wall_ns());
    ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
    ht_fix_put_char(&w, HT_TAG_GAP_FILL_FLAG, 'Y');
    ht_fix_put_u64(&w, HT_TAG_NEW_SEQ_NO, new_seq);
    size_t len;
    const char *bytes = ht_fix_writer_finish(&w, &len);
    return bytes ? src->send(src->user, bytes, len) : -1;
}

/* Sends a stored message again as MsgSeqNum seq: PossDupFlag=Y, OrigSendingTime from its SendingTime, a new
 * header, its body fields as they were. 0, or -1. */
static int send_poss_dup(const ht_fix_resend_source *src, uint64_t seq, const ht_fix_msg *stored)
{
    ht_fix_writer w;
    ht_fix_begin_session_msg(&w, src->buf, src->cap, stored->msg_type, src->sender, src->target, seq, ht_wall_ns());
    ht_fix_put_char(&w, HT_TAG_POSS_DUP_FLAG, 'Y');
    size_t time_len;
    const char *orig_time = ht_fix_get(stored, HT_TAG_SENDING_TIME, &time_len);
    if (orig_time)
        ht_fix_put_bytes(&w, HT_TAG_ORIG_SENDING_TIME, orig_time, time_len);
    for (uint32_t i = 0; i < stored->n_fields; i++) {
        const ht_fix_field *f = &stored->fields[i];
        switch (f->tag) {
        case HT_TAG_MSG_TYPE: case HT_TAG_SENDER_COMP_ID: case HT_TAG_TARGET_COMP_ID: case HT_TAG_MSG_SEQ_NUM:
        case HT_TAG_SENDING_TIME: case HT_TAG_POSS_DUP_FLAG: case HT_TAG_ORIG_SENDING_TIME: case HT_TAG_POSS_RESEND:
            continue; /* the header is new; a stored resend's flags are not carried twice */
        default:
            ht_fix_put_bytes(&w, f->tag, stored->buf + f->off, f->len);
        }
    }
    size_t len;
    const char *bytes = ht_fix_writer_finish(&w, &len);
    return bytes ? src->send(src->user, bytes, len) : -1;
}

int ht_fix_answer_resend(const ht_fix_resend_source *src, uint64_t begin, uint64_t end, unsigned *resent)
{
    unsigned count = 0;
    uint64_t gap_start = 0; /* first sequence number of the run to gap-fill, 0 when none is open */
    int rc = 0;
    for (uint64_t seq = begin ? begin : 1; seq <= end && rc == 0; seq++) {
        ht_fix_resend_kind kind = src->classify(src->user, seq);
        if (kind == HT_FIX_RESEND_STOP) {
            rc = -1;
            break;
        }
        if (kind == HT_FIX_RESEND_GAP_FILL) {
            if (!gap_start)
                gap_start = seq;
            continue;
        }
        if (gap_start && send_gap_fill(src, gap_start, seq) != 0) {
            rc = -1;
            break;
        }
        gap_start = 0;
        ht_fix_msg stored;
        int loaded = src->load(src->user, seq, &stored);
        if (loaded > 0)
            continue;
        if (loaded < 0 || send_poss_dup(src, seq, &stored) != 0) {
            rc = -1;
            break;
        }
        count++;
    }
    if (rc == 0 && gap_start && send_gap_fill(src, gap_start, end + 1) != 0)
        rc = -1;
    if (resent)
        *resent = count;
    return rc;
}
