/* SPDX-License-Identifier: MIT */
/* The engine's slow half, the book: the mirror of the feed's instrument registry, the book file (loaded once the
 * registry knows what it names), arming (hedging starts once the greeks are usable), the greeks refresh and table
 * loads, and the hedge instruments' marks and books. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slow_priv.h"
#include "hedgetrig/greeks_feed.h"

#define DEFAULT_TAU_YEARS (30.0 / 365.0)
#define DEFAULT_VOL 0.5

static void set_venue_book(slow_half *s, venue_state *vs, const ht_book_level *bids, unsigned nb,
                           const ht_book_level *asks, unsigned na, double mark);
static void note_greeks(slow_half *s);

/* ---- Registry mirror ------------------------------------------------------------------------------------- */

/* The mirrored instrument with this id, or NULL. */
static ht_instrument *reg_find(slow_half *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->n_reg; i++)
        if (s->reg[i].id == id)
            return &s->reg[i];
    return NULL;
}

/* The mirrored instrument with this name, or NULL. */
static ht_instrument *reg_find_name(slow_half *s, const char *name, size_t len)
{
    for (uint32_t i = 0; i < s->n_reg; i++)
        if (s->reg[i].name_len == len && memcmp(s->reg[i].name, name, len) == 0)
            return &s->reg[i];
    return NULL;
}

/* Stores an instrument record (a later record of the same id keeps the ticker state already mirrored). */
static void reg_store(slow_half *s, const ht_instrument *in)
{
    ht_instrument *r = reg_find(s, in->id);
    if (r) {
        ht_ticker t = r->ticker;
        *r = *in;
        if (t.timestamp_ms > r->ticker.timestamp_ms)
            r->ticker = t;
        return;
    }
    if (s->n_reg == s->cap_reg) {
        uint32_t cap = s->cap_reg ? 2 * s->cap_reg : 256;
        ht_instrument *n = realloc(s->reg, cap * sizeof *n);
        if (!n)
            return;
        s->reg = n;
        bool *t = realloc(s->reg_trusted, cap * sizeof *t);
        if (!t)
            return;
        s->reg_trusted = t;
        s->cap_reg = cap;
    }
    s->reg_trusted[s->n_reg] = in->ticker.timestamp_ms != 0;
    s->reg[s->n_reg++] = *in;
}

ht_instrument *slow_reg_find_name(slow_half *s, const char *name)
{
    return reg_find_name(s, name, strlen(name));
}

/* ht_instrument_lookup_fn over the mirror. */
static int mirror_lookup(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    ht_instrument *in = reg_find_name(ctx, name, len);
    if (!in)
        return -1;
    return ht_greeks_spec_from_feed(in, out, why);
}


/* ---- Hedge instruments and the net delta ------------------------------------------------------------------- */

int slow_venue_of(const slow_half *s, uint32_t id)
{
    for (unsigned v = 0; v < s->n_venues; v++)
        if (s->venues[v].known && s->venues[v].id == id)
            return (int)v;
    return -1;
}

double slow_net_delta_at(const slow_half *s, unsigned u, double spot, double *gamma)
{
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    const under_state *us = &s->under[u];
    double ds = spot - g->s0;
    if (gamma)
        *gamma = g->b + g->c * ds;
    return g->a + (g->b + 0.5 * g->c * ds) * ds + g->v * us->vol_move_sent + us->h_pipe;
}

/* The optimizer's view of u's book from the latest recompute. */
static void opt_book_of(const slow_half *s, unsigned u, ht_opt_book *b)
{
    const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
    double wsum = 0.0, tsum = 0.0;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        if (!r->in_table || r->underlying != u)
            continue;
        double w = fabs(r->qty_x_mult * r->gamma);
        wsum += w;
        tsum += w * r->t_years;
    }
    b->tau_years = wsum > 0.0 && tsum > 0.0 ? tsum / wsum : DEFAULT_TAU_YEARS;
    b->vol = isfinite(g->ref_vol) && g->ref_vol > 0.0 ? g->ref_vol : DEFAULT_VOL;
    b->realised_vol = 0.0;
    b->rate = s->e->cfg.greeks.rate;
    b->vanna = isfinite(g->v) ? g->v : 0.0;
    b->gross_delta_coin = isfinite(g->gross_delta) ? g->gross_delta : 0.0;
}

/* ---- Refresh, arming ------------------------------------------------------------------------------------- */

/* Grows both load buffers to hold n rows (the book grew while it ran). Only while no load is in flight: the fast
 * half reads a buffer from CMD_LOAD to MSG_LOAD_DONE. False (nothing changed) when memory is short. */
static bool grow_load_buffers(slow_half *s, size_t n)
{
    size_t cap = n + 64;
    for (unsigned b = 0; b < 2; b++) {
        ht_pipe_position *p = realloc(s->load_buf[b], cap * sizeof *p);
        if (!p) {
            engine_fail(s->e, "engine: out of memory for a table of %zu rows", n);
            return false;
        }
        s->load_buf[b] = p;
    }
    s->load_cap = cap;
    return true;
}

/* Hands the greeks' table, S0 and inventories to the pipeline (a background fold there). */
static bool load_table(slow_half *s)
{
    if (s->load_in_flight >= 0)
        return false;
    size_t n;
    const ht_greeks_row *rows = ht_greeks_rows(s->greeks, &n);
    unsigned buf = s->load_next;
    if (n > s->load_cap && !grow_load_buffers(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        s->load_buf[buf][i] = (ht_pipe_position){rows[i].underlying, rows[i].qty_x_mult, rows[i].delta, rows[i].gamma,
                                                 rows[i].speed, rows[i].vanna, rows[i].ref_spot_usd};
    engine_cmd c;
    memset(&c, 0, sizeof c);
    c.type = CMD_LOAD;
    c.buffer = buf;
    c.rows = (uint32_t)n;
    c.n_underlyings = s->n_under;
    const double *s0 = ht_greeks_s0(s->greeks);
    for (unsigned u = 0; u < s->n_under; u++) {
        const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
        c.s0[u] = s0[u];
        c.h[u] = g->h;
        s->under[u].h_pipe = g->h;
        /* The book already holds the fills of a decision still in flight: they are in H from here on. */
        s->under[u].fills_in_load = s->under[u].pending > 0 ? s->under[u].decision_fills : 0.0;
        s->under[u].vol_move_sent = 0.0;
        s->under[u].muted = false;
    }
    s->load_in_flight = (int)buf;
    s->load_next ^= 1u;
    s->rep.refreshes++;
    engine_command(s->e, &c);
    return true;
}

void slow_refresh(slow_half *s, unsigned why)
{
    if (s->load_in_flight >= 0)
        return;
    /* Re-centring on an index the feed does not trust would load a table without a reference spot: the table in
     * force stays until the index is trusted again (the refresh triggers keep firing until then). */
    for (unsigned u = 0; u < s->n_under; u++)
        if (s->under[u].active && !s->under[u].index_trusted)
            return;
    ht_greeks_recompute(s->greeks, s->now_ms);
    note_greeks(s);
    slow_margin_update(s);
    if (!load_table(s))
        return;
    slow_arm_dirty(s, -1);
    slow_log_table(s);
    for (unsigned u = 0; u < s->n_under; u++)
        opt_book_of(s, u, &s->under[u].opt_book);
    for (unsigned u = 0; u < s->n_under; u++) {
        const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
        if (!s->under[u].active || !isfinite(g->s0))
            continue;
        slow_log_market(s, "refresh", (int)u, g->s0, slow_net_delta_at(s, u, g->s0, NULL), NAN, NAN, 0, NULL,
                        "why %u: A %.10g B %.10g C %.10g V %.10g H %.10g", why, g->a, g->b, g->c, g->v, g->h);
        s->under[u].spot = isfinite(s->under[u].spot) && s->under[u].spot > 0 ? s->under[u].spot : g->s0;
        s->under[u].held = slow_net_delta_at(s, u, s->under[u].spot, NULL);
        slow_decide(s, u, HT_OPT_TRIGGER_REFRESH, NULL);
    }
}

/* Registers a future with g as a forward source and an option as a smile point for fallback vols. */
static void add_market_instrument(ht_greeks *g, const ht_instrument *in)
{
    ht_instrument_spec spec;
    if (!g || ht_greeks_spec_from_feed(in, &spec, NULL) != 0)
        return;
    if (in->kind == HT_INST_FUTURE)
        ht_greeks_add_forward_instrument(g, &spec);
    else if (in->kind == HT_INST_OPTION)
        ht_greeks_add_smile_instrument(g, &spec);
}

/* Gives a new greeks engine what the mirror already knows: the futures (forwards), the options (smile points),
 * the indices and the marks. */
static void greeks_catch_up(slow_half *s, ht_greeks *g)
{
    for (uint32_t i = 0; i < s->n_reg; i++)
        add_market_instrument(g, &s->reg[i]);
    for (unsigned k = 0; k < s->n_idx; k++)
        ht_greeks_set_index(g, s->idx[k].name, s->idx[k].price, s->idx[k].ts_ms, s->idx[k].trusted);
    for (uint32_t i = 0; i < s->n_reg; i++) {
        const ht_instrument *in = &s->reg[i];
        if (in->ticker.timestamp_ms)
            ht_greeks_set_mark(g, in->id, in->ticker.mark_price, in->ticker.index_price, in->ticker.timestamp_ms,
                               s->reg_trusted[i]);
    }
}

/* True when [engine] allow_unpriced names this instrument. */
static bool allowed_unpriced(const slow_half *s, const char *name)
{
    for (unsigned k = 0; k < s->e->cfg.n_allow_unpriced; k++)
        if (strcmp(s->e->cfg.allow_unpriced[k], name) == 0)
            return true;
    return false;
}

/* After a recompute: counts the table, and logs every position that went onto a fallback vol, changed
 * fallback, left the table or came back (event "fallback" / "left_out" / "priced"). */
static void note_greeks(slow_half *s)
{
    ht_engine_report *rep = &s->rep;
    rep->positions_in_table = rep->positions_excluded = rep->positions_fallback = 0;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        const bool usable = HT_GREEKS_USABLE(r);
        rep->positions_in_table += r->in_table;
        rep->positions_excluded += !usable;
        rep->positions_fallback += (r->flags & HT_GF_FALLBACK) != 0;
        const uint32_t state = (usable ? 0u : 1u) | (r->flags & HT_GF_FALLBACK);
        const uint32_t was = s->pos_flags[i];
        s->pos_flags[i] = state | 0x80000000u;
        if (was == (state | 0x80000000u) || (!was && !state))
            continue;
        char flags[160];
        ht_greeks_flags_format(r->flags & ~(uint32_t)HT_GF_HEDGE, flags, sizeof flags);
        if (!usable) {
            rep->fallback_entries++;
            slow_log_info(s, "left_out", (int)r->underlying, "%s: no usable greeks (%s)", r->pos->spec.name, flags);
        } else if (r->flags & HT_GF_FALLBACK) {
            rep->fallback_entries++;
            slow_log_info(s, "fallback", (int)r->underlying, "%s: %s, priced at vol %.6g", r->pos->spec.name, flags,
                          r->iv);
        } else {
            slow_log_info(s, "priced", (int)r->underlying, "%s: its own IV %.6g again", r->pos->spec.name, r->iv);
        }
    }
}

/* Loads the book once the registry knows every instrument it names and the hedge instruments. */
static void try_load_book(slow_half *s)
{
    ht_error err = {{0}};
    ht_positions *book = ht_positions_parse(s->book_text, s->book_len, s->e->cfg.book_path,
                                             s->e->cfg.max_book_qty_contracts, mirror_lookup, s, &err);
    if (!book) {
        snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for instrument records: %.200s", err.msg);
        return;
    }
    for (unsigned v = 0; v < s->n_venues; v++) {
        venue_state *vs = &s->venues[v];
        ht_instrument *in = reg_find_name(s, vs->name, strlen(vs->name));
        if (!in) {
            snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for the hedge instrument %s", vs->name);
            ht_positions_destroy(book);
            return;
        }
        ht_instrument_spec spec;
        if (ht_greeks_spec_from_feed(in, &spec, &err) != 0 || spec.kind == HT_POS_OPTION) {
            engine_fail(s->e, "hedge instrument %s cannot hedge: %s", vs->name,
                        spec.kind == HT_POS_OPTION ? "it is an option" : err.msg);
            ht_positions_destroy(book);
            return;
        }
        const ht_position *held = ht_positions_find(book, in->id);
        if (!held && ht_positions_add(book, &spec, 0.0, &err) != 0) {
            engine_fail(s->e, "%s", err.msg);
            ht_positions_destroy(book);
            return;
        }
        for (size_t i = 0; i < ht_positions_count(book); i++)
            if (ht_positions_at(book, i)->spec.id == in->id)
                vs->book_index = i;
        vs->id = in->id;
        vs->known = true;
        vs->taker_fee = in->taker_commission;
        /* One contract description for the optimizer, the venue's notional rule (USD), a simulated venue's 854
         * conversion and Commission, and the fills (docs/units.md). */
        if (ht_contract_from_instrument(in, &vs->contract, &err) != 0 ||
            (s->venue && s->venue->ops->set_contract(s->venue->ctx, vs->name, &vs->contract, &err) != 0)) {
            engine_fail(s->e, "%s", err.msg);
            ht_positions_destroy(book);
            return;
        }
        vs->position_contracts = ht_positions_at(book, vs->book_index)->qty_contracts;
        vs->mark = in->ticker.mark_price;
    }
    const ht_engine_config *cfg = &s->e->cfg;
    for (unsigned k = 0; k < cfg->n_allow_unpriced; k++) {
        const ht_instrument *in = reg_find_name(s, cfg->allow_unpriced[k], strlen(cfg->allow_unpriced[k]));
        if (!in || !ht_positions_find(book, in->id)) {
            engine_fail(s->e, "config: [engine] allow_unpriced names %s, which is not in the book %s",
                        cfg->allow_unpriced[k], cfg->book_path);
            ht_positions_destroy(book);
            return;
        }
    }
    s->greeks = ht_greeks_create(&s->e->cfg.greeks, book, &err);
    s->pos_flags = calloc(ht_positions_count(book) + 1, sizeof *s->pos_flags);
    if (!s->greeks || !s->pos_flags) {
        engine_fail(s->e, "%s", s->greeks ? "engine: out of memory" : err.msg);
        ht_positions_destroy(book);
        return;
    }
    s->book = book;
    greeks_catch_up(s, s->greeks);
    /* The unhedged baseline: the same book, never traded, its table re-centred by the market alone, so that
     * "without hedging" is the same whatever the strategy (the hedged table also refreshes after fills). */
    s->base_book = ht_positions_parse(s->book_text, s->book_len, s->e->cfg.book_path, s->e->cfg.max_book_qty_contracts,
                                      mirror_lookup, s, &err);
    s->base_greeks = s->base_book ? ht_greeks_create(&s->e->cfg.greeks, s->base_book, &err) : NULL;
    if (!s->base_greeks) {
        engine_fail(s->e, "the unhedged baseline: %s", err.msg);
        return;
    }
    greeks_catch_up(s, s->base_greeks);
    s->book_loaded = true;
    s->book_loaded_ms = s->now_ms;
    snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for marks");
    slow_log_info(s, "book", -1, "%zu positions from %s", ht_positions_count(book), s->e->cfg.book_path);
    slow_live_book_loaded(s);
}

/* A copy of the book with one position added (add) and/or one removed (remove_id, 0: none), in the same order. */
static ht_positions *book_copy(const ht_positions *from, const ht_instrument_spec *add, double add_qty,
                               uint32_t remove_id, ht_error *err)
{
    ht_positions *book = ht_positions_create();
    if (!book) {
        ht_error_set(err, "engine: out of memory for the book");
        return NULL;
    }
    for (size_t i = 0; i < ht_positions_count(from); i++) {
        const ht_position *p = ht_positions_at(from, i);
        if ((!remove_id || p->spec.id != remove_id) && ht_positions_add(book, &p->spec, p->qty_contracts, err) != 0) {
            ht_positions_destroy(book);
            return NULL;
        }
    }
    if (add && ht_positions_add(book, add, add_qty, err) != 0) {
        ht_positions_destroy(book);
        return NULL;
    }
    return book;
}

/* True when g serves the same underlyings, in the same order, as the greeks in force (the pipeline's and the
 * optimizer's underlying numbers stay valid). */
static bool same_underlyings(const ht_greeks *g, const ht_greeks *was)
{
    unsigned n = ht_greeks_underlying_count(was);
    if (ht_greeks_underlying_count(g) != n)
        return false;
    for (unsigned u = 0; u < n; u++)
        if (strcmp(ht_greeks_underlying_at(g, u)->base, ht_greeks_underlying_at(was, u)->base) != 0)
            return false;
    return true;
}

int slow_book_rebuild(slow_half *s, const ht_instrument_spec *add, double add_qty, uint32_t remove_id, ht_error *err)
{
    ht_positions *book = book_copy(s->book, add, add_qty, remove_id, err);
    if (!book)
        return -1;
    ht_greeks *g = ht_greeks_create(&s->e->cfg.greeks, book, err);
    size_t n = ht_positions_count(book);
    uint32_t *flags = g ? calloc(n + 1, sizeof *flags) : NULL;
    if (!g || !flags || !same_underlyings(g, s->greeks)) {
        if (g && flags)
            ht_error_set(err, "the book's underlyings would change (%s)", add ? add->base_currency : "a removal");
        else if (g)
            ht_error_set(err, "engine: out of memory");
        free(flags);
        ht_greeks_destroy(g);
        ht_positions_destroy(book);
        return -1;
    }
    /* Each position keeps its greeks state (the fallback log reports changes, not the rebuild). */
    for (size_t i = 0; i < n; i++) {
        const ht_position *p = ht_positions_at(book, i);
        for (size_t j = 0; j < ht_positions_count(s->book); j++)
            if (ht_positions_at(s->book, j)->spec.id == p->spec.id)
                flags[i] = s->pos_flags[j];
    }
    greeks_catch_up(s, g);
    ht_greeks_destroy(s->greeks);
    ht_positions_destroy(s->book);
    free(s->pos_flags);
    s->greeks = g;
    s->book = book;
    s->pos_flags = flags;
    for (unsigned v = 0; v < s->n_venues; v++)
        for (size_t i = 0; i < n; i++)
            if (ht_positions_at(book, i)->spec.id == s->venues[v].id)
                s->venues[v].book_index = i;
    /* The aggregates the double evaluation and the decisions read: valid from now on (the table follows at the
     * next load). */
    ht_greeks_recompute(g, s->now_ms);
    ht_greeks_book_changed(g);
    return 0;
}

void slow_on_instrument(slow_half *s, const ht_instrument *in)
{
    reg_store(s, in);
    if (!s->book_loaded && !s->e->error[0])
        try_load_book(s);
    else {
        add_market_instrument(s->greeks, in);
        add_market_instrument(s->base_greeks, in);
        slow_live_on_instrument(s, in);
    }
}

/* Step 1 of arming: are the greeks ready? Recomputes them and counts the positions without usable greeks
 * (*missing) and those of them [engine] allow_unpriced does not name. False, with s->arm_blocker saying why,
 * while hedging must wait (marks still missing before arm_timeout_ms) or must not start (positions without
 * greeks that the operator did not allow). */
static bool arm_greeks_ready(slow_half *s, size_t *missing)
{
    ht_greeks_recompute(s->greeks, s->now_ms);
    bool timed_out = s->now_ms >= s->book_loaded_ms + s->e->cfg.arm_timeout_ms;
    size_t blocking = 0;
    *missing = 0;
    const ht_greeks_result *first = NULL, *first_blocking = NULL;
    for (size_t i = 0; i < ht_greeks_result_count(s->greeks); i++) {
        const ht_greeks_result *r = ht_greeks_result_at(s->greeks, i);
        if (HT_GREEKS_USABLE(r))
            continue;
        (*missing)++;
        first = first ? first : r;
        if (!allowed_unpriced(s, r->pos->spec.name)) {
            blocking++;
            first_blocking = first_blocking ? first_blocking : r;
        }
    }
    unsigned nu = ht_greeks_underlying_count(s->greeks);
    bool no_spot = false;
    for (unsigned u = 0; u < nu; u++)
        no_spot |= !isfinite(ht_greeks_underlying_at(s->greeks, u)->s0);
    char why[160] = "";
    if (first)
        ht_greeks_flags_format(first->flags & HT_GF_EXCLUDING, why, sizeof why);
    if ((*missing > 0 || no_spot) && !timed_out) {
        snprintf(s->arm_blocker, sizeof s->arm_blocker, "waiting for marks: %zu positions have no usable greeks yet (%s: %.80s)%s",
                 *missing, first ? first->pos->spec.name : "-", first ? why : "-",
                 no_spot ? ", and an underlying has no index" : "");
        return false;
    }
    if (blocking > 0) {
        /* Hedging a book whose greeks are partly unknown hedges the wrong delta: only by the operator's leave. */
        ht_greeks_flags_format(first_blocking->flags & HT_GF_EXCLUDING, why, sizeof why);
        bool first_refusal = strncmp(s->arm_blocker, "not arming", 10) != 0;
        snprintf(s->arm_blocker, sizeof s->arm_blocker,
                 "not arming: %zu positions have no usable greeks (%s: %.80s); name them in [engine] allow_unpriced to "
                 "hedge without them",
                 blocking, first_blocking->pos->spec.name, why);
        if (first_refusal)
            slow_log_info(s, "arm_refused", -1, "%s", s->arm_blocker);
        return false;
    }
    return true;
}

/* Step 2a: hands the optimizer u's hedge instruments (those of its base currency). 0, or -1 after engine_fail. */
static int arm_venues_of(slow_half *s, unsigned u, const ht_greeks_underlying *g)
{
    ht_error err = {{0}};
    for (unsigned v = 0; v < s->n_venues; v++) {
        venue_state *vs = &s->venues[v];
        const ht_instrument *in = reg_find(s, vs->id);
        if (!in || strcmp(in->base_currency, g->base) != 0)
            continue;
        ht_opt_venue ov;
        ht_opt_venue_init(&ov, vs->name, in->inverse ? HT_OPT_INVERSE : HT_OPT_LINEAR, in->contract_size);
        ov.lot_amount = in->contract_size;
        ov.min_amount = isfinite(in->min_trade_amount) && in->min_trade_amount > 0 ? in->min_trade_amount
                                                                                    : in->contract_size;
        ov.tick_size = in->tick_size > 0 ? in->tick_size : ov.tick_size;
        ov.maker_fee = in->maker_commission;
        ov.taker_fee = in->taker_commission;
        ov.collar_frac = s->e->cfg.collar_frac;
        vs->opt_index = ht_opt_add_venue(s->opt, u, &ov, &err);
        vs->u = u;
        if (vs->opt_index < 0) {
            engine_fail(s->e, "hedge instrument %s: %s", vs->name, err.msg);
            return -1;
        }
    }
    return 0;
}

/* Step 2: every underlying of the book: its state, its strategy, its hedge instruments, and its reference index
 * on the fast half. 0, or -1 after engine_fail. */
static int arm_underlyings(slow_half *s, unsigned nu)
{
    ht_error err = {{0}};
    s->n_under = nu;
    for (unsigned u = 0; u < nu; u++) {
        const ht_greeks_underlying *g = ht_greeks_underlying_at(s->greeks, u);
        under_state *us = &s->under[u];
        us->active = isfinite(g->s0);
        us->index_trusted = us->active; /* s0 is a trusted, fresh index price */
        us->spot = g->s0;
        if (ht_opt_set_strategy(s->opt, u, &s->strategy, &err) != 0) {
            engine_fail(s->e, "hedge strategy: %s", err.msg);
            return -1;
        }
        if (arm_venues_of(s, u, g) != 0)
            return -1;
        engine_cmd ref;
        memset(&ref, 0, sizeof ref);
        ref.type = CMD_SET_REF;
        ref.u = u;
        snprintf(ref.name, sizeof ref.name, "%s", g->ref_index);
        engine_command(s->e, &ref);
    }
    return 0;
}

/* Step 3: the fast half forwards the hedge instruments' books from now on (a synthetic book starts here). */
static void arm_venue_books(slow_half *s)
{
    engine_cmd venues;
    memset(&venues, 0, sizeof venues);
    venues.type = CMD_SET_VENUES;
    for (unsigned v = 0; v < s->n_venues; v++) {
        venue_state *vs = &s->venues[v];
        venues.ids[venues.n++] = vs->id;
        const ht_instrument *in = reg_find(s, vs->id);
        if (s->e->cfg.synthetic_book && in && vs->mark > 0) {
            ht_book_level bids[ENGINE_BOOK_LEVELS], asks[ENGINE_BOOK_LEVELS];
            unsigned n = engine_synthetic_ladder(&s->e->cfg, vs->mark, in->tick_size, bids, asks);
            set_venue_book(s, vs, bids, n, asks, n, vs->mark);
        }
    }
    engine_command(s->e, &venues);
}

void slow_try_arm(slow_half *s)
{
    if (s->armed || !s->book_loaded || s->e->error[0])
        return;
    size_t missing;
    if (!arm_greeks_ready(s, &missing))
        return;
    unsigned nu = ht_greeks_underlying_count(s->greeks);
    if (nu > ENGINE_MAX_UNDERLYINGS) {
        engine_fail(s->e, "the book has %u underlyings, the pipeline serves %d", nu, ENGINE_MAX_UNDERLYINGS);
        return;
    }
    if (arm_underlyings(s, nu) != 0)
        return;
    arm_venue_books(s);
    s->armed = true;
    s->rep.armed = true;
    s->arm_time_ms = s->now_ms;
    s->arm_blocker[0] = '\0';
    note_greeks(s);
    slow_log_info(s, "arm", -1,
                  "%" PRIu64 " options in the table (%" PRIu64 " at a fallback vol), %" PRIu64 " positions left out%s",
                  s->rep.positions_in_table, s->rep.positions_fallback, s->rep.positions_excluded,
                  missing ? " (allowed by [engine] allow_unpriced)" : "");
    slow_refresh(s, HT_REFRESH_NEVER);
}

void slow_on_ticker(slow_half *s, const msg_ticker *m)
{
    ht_instrument *in = reg_find(s, m->id);
    if (in && m->ts_ms >= in->ticker.timestamp_ms) {
        s->reg_trusted[in - s->reg] = m->trusted;
        in->ticker.mark_price = m->mark;
        in->ticker.index_price = m->index;
        in->ticker.timestamp_ms = m->ts_ms;
        in->ticker_updates++;
    }
    if (s->greeks)
        ht_greeks_set_mark(s->greeks, m->id, m->mark, m->index, m->ts_ms, m->trusted);
    if (s->base_greeks)
        ht_greeks_set_mark(s->base_greeks, m->id, m->mark, m->index, m->ts_ms, m->trusted);
    int v = slow_venue_of(s, m->id);
    if (v >= 0 && isfinite(m->mark) && m->mark > 0) {
        venue_state *vs = &s->venues[v];
        if (vs->mark != m->mark)
            slow_arm_dirty(s, (int)vs->u); /* the collar's centre and the coins of a contract: armed on the mark */
        vs->mark = m->mark;
        if (s->venue)
            s->venue->ops->set_mark(s->venue->ctx, vs->name, m->mark);
        if (s->e->cfg.synthetic_book && s->armed) {
            ht_book_level bids[ENGINE_BOOK_LEVELS], asks[ENGINE_BOOK_LEVELS];
            unsigned n = engine_synthetic_ladder(&s->e->cfg, m->mark, in ? in->tick_size : 0.0, bids, asks);
            set_venue_book(s, vs, bids, n, asks, n, m->mark);
        }
    }
}

/* A hedge instrument's book: the optimizer's quote and, for a simulated venue, the book it trades against. */
static void set_venue_book(slow_half *s, venue_state *vs, const ht_book_level *bids, unsigned nb,
                           const ht_book_level *asks, unsigned na, double mark)
{
    engine_quote_from_levels(bids, nb, asks, na, mark, &vs->quote);
    if (!s->venue || !s->venue->ops->set_book)
        return;
    /* The venue's book is in contracts, as its reports are; the feed's amounts are Deribit's. */
    if (!vs->known)
        return;
    ht_venue_level bid_lv[ENGINE_BOOK_LEVELS], ask_lv[ENGINE_BOOK_LEVELS];
    nb = nb < ENGINE_BOOK_LEVELS ? nb : ENGINE_BOOK_LEVELS;
    na = na < ENGINE_BOOK_LEVELS ? na : ENGINE_BOOK_LEVELS;
    for (unsigned i = 0; i < nb; i++)
        bid_lv[i] = (ht_venue_level){bids[i].price, ht_units_amount_to_contracts(&vs->contract, bids[i].amount)};
    for (unsigned i = 0; i < na; i++)
        ask_lv[i] = (ht_venue_level){asks[i].price, ht_units_amount_to_contracts(&vs->contract, asks[i].amount)};
    s->venue->ops->set_book(s->venue->ctx, vs->name, bid_lv, nb, ask_lv, na);
}

void slow_on_venue_book(slow_half *s, const msg_venue_book *m)
{
    int v = slow_venue_of(s, m->id);
    if (v >= 0) {
        set_venue_book(s, &s->venues[v], m->bids, m->n_bids, m->asks, m->n_asks, m->mark);
        slow_arm_dirty(s, (int)s->venues[v].u);
    }
}
