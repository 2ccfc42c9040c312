/* SPDX-License-Identifier: MIT */
/* The exchange simulator's account: positions per instrument, the trades booked on them (our orders', the
 * script's), realised and mark-to-market P&L, a margin model of the simulator's own, the script's clock and
 * the running of its events. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hedgetrig/tsc.h"
#include "xsim_priv.h"

/* ---- valuation: how a price change turns into coin ---- */

typedef enum valuation {
    VAL_INVERSE = 0, /* inverse futures and perpetuals: contracts of size USD, P&L in coin */
    VAL_COIN,        /* priced in coin (Deribit's coin options): contracts of size coin, P&L in coin */
    VAL_USD,         /* linear, priced in USD(C) ("_USDC" in the name): P&L in USD(C), converted at the price */
} valuation;

/* Margin rates of the simulator's own model (docs/gateway.md, "The account"). */
#define IM_FUTURE 0.02
#define MM_FUTURE 0.01
#define IM_SHORT_OPTION 0.15
#define MM_SHORT_OPTION 0.075

/* How symbol is valued, and its contract size (1 when the contract is unknown). Caller holds the lock. */
static valuation valuation_of(ht_xsim *x, const char *symbol, double *size)
{
    const book *b = xsim_find_book(x, symbol, false);
    bool known = b && b->have_contract;
    *size = known ? b->contract.size : 1.0;
    if (known && b->contract.kind == HT_CONTRACT_INVERSE)
        return VAL_INVERSE;
    return strstr(symbol, "_USD") ? VAL_USD : VAL_COIN;
}

/* The coin a position of contracts gains when the price moves from from_px to to_px (both > 0). */
static double pnl_coin(valuation v, double size, double contracts, double from_px, double to_px)
{
    switch (v) {
    case VAL_INVERSE:
        return contracts * size * (1.0 / from_px - 1.0 / to_px);
    case VAL_USD:
        return contracts * size * (to_px - from_px) / to_px;
    default:
        return contracts * size * (to_px - from_px);
    }
}

/* An option's strike and type from its Deribit name (UND-EXPIRY-STRIKE-C|P, 'd' for a decimal point in the
 * strike). False for anything else. */
static bool option_terms(const char *symbol, double *strike, bool *call)
{
    const char *d1 = strchr(symbol, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    const char *d3 = d2 ? strchr(d2 + 1, '-') : NULL;
    if (!d3 || strchr(d3 + 1, '-') || strlen(d3 + 1) != 1 || (d3[1] != 'C' && d3[1] != 'P'))
        return false;
    char text[24];
    size_t n = (size_t)(d3 - d2 - 1);
    if (n == 0 || n >= sizeof text)
        return false;
    for (size_t i = 0; i < n; i++)
        text[i] = d2[1 + i] == 'd' ? '.' : d2[1 + i];
    text[n] = '\0';
    char *end;
    *strike = strtod(text, &end);
    *call = d3[1] == 'C';
    return *end == '\0' && *strike > 0 && isfinite(*strike);
}

/* ---- positions and trades ---- */

/* The account's position in symbol (created flat when create is set), or NULL. Caller holds the lock. */
static xsim_position *find_position(ht_xsim *x, const char *symbol, bool create)
{
    xsim_account *a = &x->acct;
    for (size_t i = 0; i < a->n_pos; i++)
        if (!strcmp(a->pos[i].symbol, symbol))
            return &a->pos[i];
    if (!create || a->n_pos == HT_XSIM_MAX_SYMBOLS || strlen(symbol) >= sizeof a->pos[0].symbol)
        return NULL;
    xsim_position *p = &a->pos[a->n_pos++];
    memset(p, 0, sizeof *p);
    strcpy(p->symbol, symbol);
    return p;
}

double xsim_ledger_mark(ht_xsim *x, const xsim_position *p)
{
    if (p->mark > 0)
        return p->mark;
    const book *b = xsim_find_book(x, p->symbol, false);
    if (b && b->external && b->n_bids && b->n_asks)
        return (b->bids[0].price + b->asks[0].price) / 2;
    return p->last_px > 0 ? p->last_px : p->avg_px;
}

/* Moves a position by contracts at px: realises the P&L of what it closes, averages what it opens (harmonically
 * for inverse contracts, whose P&L is in 1/price). */
static void move_position(ht_xsim *x, xsim_position *p, double contracts, double px)
{
    double size;
    valuation v = valuation_of(x, p->symbol, &size);
    double c = p->contracts;
    if (c != 0 && !(p->avg_px > 0))
        p->avg_px = px; /* seeded without a mark: carried at its first trade's price, no P&L from the seed */
    if (c == 0 || (c > 0) == (contracts > 0)) {
        double total = fabs(c) + fabs(contracts);
        p->avg_px = v == VAL_INVERSE ? total / (fabs(c) / (p->avg_px > 0 ? p->avg_px : px) + fabs(contracts) / px)
                                     : (fabs(c) * p->avg_px + fabs(contracts) * px) / total;
    } else {
        double closed = fabs(contracts) < fabs(c) ? -contracts : c; /* signed as the position */
        x->acct.realised_coin += pnl_coin(v, size, closed, p->avg_px, px);
        if (fabs(contracts) > fabs(c))
            p->avg_px = px; /* the rest opens the other way */
    }
    p->contracts = c + contracts;
    if (fabs(p->contracts) < 1e-9) {
        p->contracts = 0;
        p->avg_px = 0;
    }
    p->last_px = px;
    p->changed = ++x->acct.changes;
}

int xsim_ledger_trade(ht_xsim *x, const char *symbol, double contracts, double px, double fee, xsim_trade_source src,
                      const char *session, double delivery_px)
{
    xsim_account *a = &x->acct;
    xsim_position *p = find_position(x, symbol, true);
    if (!p || !(px >= 0) || !isfinite(contracts))
        return -1;
    if (a->n_trades == a->cap_trades) {
        size_t cap = a->cap_trades ? a->cap_trades * 2 : 256;
        xsim_trade *grown = realloc(a->trades, cap * sizeof *grown);
        if (!grown)
            return -1;
        a->trades = grown;
        a->cap_trades = cap;
    }
    double size;
    valuation v = valuation_of(x, symbol, &size);
    if (fee > 0)
        a->fees_coin += v == VAL_USD && px > 0 ? fee / px : fee;
    if (px > 0)
        move_position(x, p, contracts, px);
    else { /* settled worthless: the position closes at 0 (an option's premium is all lost or kept) */
        a->realised_coin += v == VAL_COIN ? contracts * size * p->avg_px : 0; /* -settled x the entry price */
        p->contracts += contracts;
        if (fabs(p->contracts) < 1e-9)
            p->contracts = p->avg_px = 0;
        p->changed = ++a->changes;
    }
    xsim_trade *t = &a->trades[a->n_trades++];
    memset(t, 0, sizeof *t);
    t->id = a->n_trades;
    snprintf(t->symbol, sizeof t->symbol, "%s", symbol);
    t->contracts = contracts;
    t->px = px;
    t->delivery_px = delivery_px;
    t->source = src;
    snprintf(t->session, sizeof t->session, "%s", session ? session : "");
    t->wall_ns = ht_wall_ns();
    return 0;
}

void xsim_ledger_figures(ht_xsim *x, ht_xsim_account *out)
{
    memset(out, 0, sizeof *out);
    double unrealised = 0, im = 0, mm = 0;
    for (size_t i = 0; i < x->acct.n_pos; i++) {
        const xsim_position *p = &x->acct.pos[i];
        if (p->contracts == 0)
            continue;
        out->positions++;
        double size, strike;
        bool call;
        valuation v = valuation_of(x, p->symbol, &size);
        double mark = xsim_ledger_mark(x, p);
        if (!(mark > 0))
            continue;
        unrealised += pnl_coin(v, size, p->contracts, p->avg_px > 0 ? p->avg_px : mark, mark);
        double notional_coin = v == VAL_INVERSE ? fabs(p->contracts) * size / mark : fabs(p->contracts) * size;
        if (option_terms(p->symbol, &strike, &call)) {
            if (p->contracts < 0) { /* a short option: a share of the underlying and the premium to buy it back */
                double premium = v == VAL_COIN ? fabs(p->contracts) * size * mark : 0;
                im += IM_SHORT_OPTION * notional_coin + premium;
                mm += MM_SHORT_OPTION * notional_coin + premium;
            }
        } else {
            im += IM_FUTURE * notional_coin;
            mm += MM_FUTURE * notional_coin;
        }
    }
    out->realised_pnl_coin = x->acct.realised_coin;
    out->fees_coin = x->acct.fees_coin;
    out->unrealised_pnl_coin = unrealised;
    out->balance_coin = x->cfg.equity_coin + x->acct.realised_coin - x->acct.fees_coin;
    out->equity_coin = out->balance_coin + unrealised;
    out->initial_margin_coin = im;
    out->maintenance_margin_coin = mm;
}

void ht_xsim_account_get(ht_xsim *x, ht_xsim_account *out)
{
    pthread_mutex_lock(&x->lock);
    xsim_ledger_figures(x, out);
    pthread_mutex_unlock(&x->lock);
}

/* Wakes the simulator's loop (it sends what changed). */
static void wake(ht_xsim *x)
{
    uint64_t one = 1;
    if (x->wake_fd >= 0 && write(x->wake_fd, &one, sizeof one) < 0) {
        /* the counter is full: the loop wakes anyway */
    }
}

int ht_xsim_set_position(ht_xsim *x, const char *symbol, double contracts, ht_error *err)
{
    if (ht_fix_check_value("exchange-sim: position symbol", symbol, strlen(symbol), HT_FIX_GRAMMAR_INSTRUMENT, 1, 31,
                           err) != 0)
        return -1;
    if (!isfinite(contracts))
        return ht_error_set(err, "exchange-sim: position %s: %g contracts is not a finite number", symbol, contracts);
    pthread_mutex_lock(&x->lock);
    xsim_position *p = find_position(x, symbol, true);
    if (p && p->contracts != contracts) {
        p->contracts = contracts;
        p->avg_px = contracts != 0 ? xsim_ledger_mark(x, p) : 0; /* carried at the mark: no P&L from the seed */
        p->changed = ++x->acct.changes;
    }
    pthread_mutex_unlock(&x->lock);
    if (!p)
        return ht_error_set(err, "exchange-sim: position %s: no room for another instrument (%d)", symbol,
                            HT_XSIM_MAX_SYMBOLS);
    wake(x);
    return 0;
}

double ht_xsim_position(ht_xsim *x, const char *symbol)
{
    pthread_mutex_lock(&x->lock);
    const xsim_position *p = find_position(x, symbol, false);
    double contracts = p ? p->contracts : 0;
    pthread_mutex_unlock(&x->lock);
    return contracts;
}

void ht_xsim_set_mark(ht_xsim *x, const char *symbol, double mark)
{
    if (!(mark > 0) || !isfinite(mark))
        return;
    pthread_mutex_lock(&x->lock);
    xsim_position *p = find_position(x, symbol, true);
    if (p) {
        p->mark = mark;
        if (p->contracts != 0 && !(p->avg_px > 0))
            p->avg_px = mark;
    }
    pthread_mutex_unlock(&x->lock);
}

/* ---- the script ---- */

int ht_xsim_set_script(ht_xsim *x, const ht_xsim_script *s, ht_error *err)
{
    ht_xsim_event *copy = NULL;
    if (s->n_events) {
        copy = malloc(s->n_events * sizeof *copy);
        if (!copy)
            return ht_error_set(err, "exchange-sim: out of memory for the script");
        memcpy(copy, s->events, s->n_events * sizeof *copy);
    }
    pthread_mutex_lock(&x->lock);
    free(x->script);
    x->script = copy;
    x->n_script = s->n_events;
    x->next_event = 0;
    x->script_done = 0;
    pthread_mutex_unlock(&x->lock);
    wake(x);
    return 0;
}

void ht_xsim_set_clock(ht_xsim *x, uint64_t now_ns)
{
    pthread_mutex_lock(&x->lock);
    if (!x->clock_external) { /* from now on the script and the rate limits run on this clock */
        x->clock_external = true;
        x->clock_origin_ns = now_ns;
        x->clock_ns = now_ns;
        ht_rate_account_init(&x->rate, &x->cfg.rate, now_ns);
    }
    if (now_ns > x->clock_ns)
        x->clock_ns = now_ns;
    double now_s = (double)(x->clock_ns - x->clock_origin_ns) * 1e-9;
    size_t due = x->next_event;
    while (due < x->n_script && x->script[due].time_s <= now_s)
        due++;
    if (due > x->script_done && x->thread_started) {
        /* The events due run before the clock moves on: their reports are on their way when this returns, so a
         * replay sees the same account at the same exchange time at any speed. Bounded: a stuck loop costs 2 s. */
        wake(x);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 2;
        while (x->script_done < due && pthread_cond_timedwait(&x->script_cv, &x->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&x->lock);
}

void xsim_ledger_logon(ht_xsim *x)
{
    pthread_mutex_lock(&x->lock);
    if (!x->first_logon_ns)
        x->first_logon_ns = ht_mono_ns();
    pthread_mutex_unlock(&x->lock);
}

/* The script clock in seconds, or a negative number before it starts. Caller holds the lock. */
static double script_now_s(const ht_xsim *x)
{
    if (x->clock_external)
        return (double)(x->clock_ns - x->clock_origin_ns) * 1e-9;
    if (!x->first_logon_ns)
        return -1;
    return (double)(ht_mono_ns() - x->first_logon_ns) * 1e-9;
}

/* An option's value per contract at the delivery price (in its quote: coin for coin options, USD(C) for
 * linear ones), or the delivery price itself for anything else. */
static double settlement_px(ht_xsim *x, const char *symbol, double delivery_px)
{
    double strike, size;
    bool call;
    if (!option_terms(symbol, &strike, &call))
        return delivery_px;
    double intrinsic_usd = call ? fmax(0.0, delivery_px - strike) : fmax(0.0, strike - delivery_px);
    return valuation_of(x, symbol, &size) == VAL_USD ? intrinsic_usd : intrinsic_usd / delivery_px;
}

/* Books one scripted event on the account. Caller holds the lock. */
static void book_event(ht_xsim *x, const ht_xsim_event *ev)
{
    if (ev->kind == HT_XSIM_EV_SETTLE) {
        const xsim_position *p = find_position(x, ev->instrument, false);
        double held = p ? p->contracts : 0;
        double settled = ev->whole ? held : ev->qty_contracts;
        if (settled != 0)
            xsim_ledger_trade(x, ev->instrument, -settled, settlement_px(x, ev->instrument, ev->price), 0,
                              XSIM_TRADE_SETTLEMENT, "", ev->price);
        return;
    }
    xsim_ledger_trade(x, ev->instrument, ev->qty_contracts, ev->price, 0,
                      ev->kind == HT_XSIM_EV_LIQUIDATION ? XSIM_TRADE_LIQUIDATION : XSIM_TRADE_OTHER, "", 0);
}

void xsim_ledger_run_script(ht_xsim *x)
{
    for (;;) {
        pthread_mutex_lock(&x->lock);
        double now_s = script_now_s(x);
        if (x->next_event >= x->n_script || now_s < 0 || x->script[x->next_event].time_s > now_s) {
            pthread_mutex_unlock(&x->lock);
            return;
        }
        ht_xsim_event ev = x->script[x->next_event++];
        if (ev.kind != HT_XSIM_EV_DISCONNECT)
            book_event(x, &ev);
        x->stats.script_events++;
        pthread_mutex_unlock(&x->lock);
        xsim_log(x, "script line %u at %.3f s: %s %s %.10g at %.10g", ev.line, ev.time_s,
                 ht_xsim_event_kind_name(ev.kind), ev.instrument, ev.whole ? 0.0 : ev.qty_contracts, ev.price);
        if (ev.kind == HT_XSIM_EV_DISCONNECT) {
            for (size_t i = 0; i < HT_XSIM_MAX_CONNECTIONS; i++)
                xsim_drop_conn(x, &x->conns[i], "script: disconnect");
        } else {
            xsim_account_flush(x); /* the cause (a trade capture report) and the position update, now */
        }
        pthread_mutex_lock(&x->lock);
        x->script_done++;
        pthread_cond_broadcast(&x->script_cv);
        pthread_mutex_unlock(&x->lock);
    }
}

void xsim_ledger_free(ht_xsim *x)
{
    free(x->acct.trades);
    x->acct.trades = NULL;
    free(x->script);
    x->script = NULL;
}
