/* SPDX-License-Identifier: MIT */
/* What the slow half's files share: slow.c (message dispatch, life cycle, pipeline commands), slow_book.c (the
 * registry mirror, the book file, arming, greeks refresh), slow_orders.c (decisions, orders, fills, venue events)
 * and slow_log.c (event log, series, statistics, status). */
#ifndef HEDGETRIG_ENGINE_SLOW_PRIV_H
#define HEDGETRIG_ENGINE_SLOW_PRIV_H

#include "engine_priv.h"

/* ---- slow.c: pipeline commands ---------------------------------------------------------------------------- */

/* Sends a pipeline command to the fast half. */
void slow_command(slow_half *s, cmd_type type, unsigned u, double a, double b);
/* Asks the venue to cancel every order of ours in flight (a cancel or cancel_failed row each, with why). */
void slow_cancel_pending(slow_half *s, const char *why);
/* Sets an underlying's band on the pipeline (which re-arms it); an empty or non-finite band is ignored. */
void slow_set_band(slow_half *s, unsigned u, double lo, double hi);

/* ---- slow_book.c: the registry mirror, the book, arming, refresh ----------------------------------------- */

/* An instrument record: the mirror, then the book (until it loads) or the greeks' forwards and smile points. */
void slow_on_instrument(slow_half *s, const ht_instrument *in);
/* A ticker: the mirror, the greeks, and for a hedge instrument its mark (risk collar, cost reference). */
void slow_on_ticker(slow_half *s, const msg_ticker *m);
/* The feed's book of a hedge instrument changed. */
void slow_on_venue_book(slow_half *s, const msg_venue_book *m);
/* Starts hedging once every option has a mark and every underlying an index (or the wait ran out). */
void slow_try_arm(slow_half *s);
/* Recomputes the greeks, loads them and lets the optimizer re-place the band (hedging when outside it). */
void slow_refresh(slow_half *s, unsigned why);
/* The net delta the pipeline computes for u at spot, in double (the same formula, from the greeks' sums);
 * *gamma (when not NULL) the net gamma. */
double slow_net_delta_at(const slow_half *s, unsigned u, double spot, double *gamma);

/* The mirrored instrument with this name, or NULL. */
ht_instrument *slow_reg_find_name(slow_half *s, const char *name);
/* The hedge instrument (venue slot) with this instrument id, or -1. */
int slow_venue_of(const slow_half *s, uint32_t id);
/* Replaces the book by a copy with one position added (add, add_qty) and/or one removed (remove_id; 0: none), with
 * a new ht_greeks over it caught up with the market and recomputed; the pipeline's table follows at the next load.
 * The underlyings must stay the same. 0, or -1 with err (the book in force is kept). */
int slow_book_rebuild(slow_half *s, const ht_instrument_spec *add, double add_qty, uint32_t remove_id, ht_error *err);

/* ---- slow_orders.c: decisions, orders, fills ------------------------------------------------------------- */

/* Asks the optimizer what to do for u, sends the orders and, once they are resolved (at once in replay), sets
 * the band and inventory. b is the breach (NULL for a timer or a refresh). */
void slow_decide(slow_half *s, unsigned u, ht_opt_trigger trigger, const msg_breach *b);
/* The UNTRUSTED_* bits that concern u now (b: the breach's, else u's latest index tick and venues' trust). */
uint32_t slow_untrusted_for(const slow_half *s, unsigned u, const msg_breach *b);
/* Drains the venue's events and re-arms underlyings whose orders timed out. */
void slow_poll_venue(slow_half *s);

/* True when no order may go out (the kill switch, or a halt of the live book). */
bool slow_stopped(const slow_half *s);
/* True when an order of ours on venue slot v is in flight. */
bool slow_order_in_flight(const slow_half *s, unsigned v);
/* A held hedge of u (rate limits) may be decided again now. */
bool slow_rate_fits(slow_half *s, unsigned u);
/* The quotes of u's venues, in the optimizer's venue order (from a breach, or the latest books). */
void slow_quotes_of(const slow_half *s, unsigned u, const msg_breach *b, ht_opt_quote *q);
/* The venue slot of u's optimizer venue opt_venue, or -1. */
int slow_venue_index(const slow_half *s, unsigned u, unsigned opt_venue);
/* A pending-order slot is free (an order can be tracked). */
bool slow_pending_free(const slow_half *s);

/* ---- slow_armed.c: pre-armed hedges ([engine] prearm) ---------------------------------------------------- */


/* Pre-arming is on and the venue can arm (ops arm and fire). */
bool slow_arm_enabled(const slow_half *s);
/* An input of u's armed hedges changed (u < 0: every underlying's): they are armed again before the next breach. */
void slow_arm_dirty(slow_half *s, int u);
/* Arms the hedges whose inputs changed (between packets in replay, between message batches live). */
void slow_arm_update(slow_half *s);
/* Fires u's armed hedge for breach b when the engine can vouch for it: true with out (the order is out), else
 * false with out->why (counted; the breach takes the full decision). */
bool slow_arm_fire(slow_half *s, unsigned u, const msg_breach *b, armed_fire *out);
/* One thread (replay, bench): the fast half fires u's armed hedge for breach b itself, before it posts the breach,
 * when the breach's decision will be taken (hedging started, not stopped, nothing pending, not held for the rate,
 * trusted data): the outcome waits in s->early for slow_decide, which takes it (slow_arm_at_breach). */
void slow_arm_fire_early(slow_half *s, const msg_breach *b);
/* The armed hedge at breach b of u: the fast half's early outcome when there is one (consumed), else fired here
 * (live: the slow half's first look at the breach). True when it went out, else out->why. */
bool slow_arm_at_breach(slow_half *s, unsigned u, const msg_breach *b, armed_fire *out);
/* The full decision taken after a fire sends the same order (venue, side, contracts, limit). */
bool slow_arm_matches(const armed_fire *f, const ht_opt_decision *d);
/* "prearm":{...} of the JSON report. */
void slow_arm_write_json(const slow_half *s, FILE *out);

/* ---- slow_live.c: the live book (positions, trades, account from the venue) ------------------------------ */

/* A venue event about the account: a position (snapshot or update), a trade of another session, account figures. */
void slow_live_event(slow_half *s, const ht_venue_event *ev);
/* The book file loaded: what the venue reported so far is reconciled with it. */
void slow_live_book_loaded(slow_half *s);
/* A new instrument record: a position the feed did not know joins the book when it can. */
void slow_live_on_instrument(slow_half *s, const ht_instrument *in);
/* Our orders on venue slot v are all resolved: position updates that waited for them are judged. */
void slow_live_orders_resolved(slow_half *s, unsigned v);
/* A fill of one of our hedge orders changed a position by signed_contracts (attribution "hedge"). */
void slow_live_note_hedge_fill(slow_half *s, const char *instrument, double signed_contracts);
/* The venue logged on (again): its position snapshot follows. */
void slow_live_logon(slow_half *s);
/* At the top level (not inside a decision): a book change waiting for a recompute is loaded, and held hedges are
 * decided again when the venue's limits let them. */
void slow_live_settle(slow_half *s);
/* Stops all orders for good with a reason (the status, the report and the exit status say it). */
void slow_live_halt(slow_half *s, const char *fmt, ...) HT_PRINTF(2, 3);
/* The engine's signed quantity of an instrument (0 when it holds none); *held: it is in the book or unhedged list. */
double slow_live_engine_qty(slow_half *s, const char *name, bool *held);

/* ---- slow_metrics.c: the Prometheus file, the live book in the report ------------------------------------ */

/* Writes up to max positions (the book's, then those only the venue reported or the engine cannot hedge) and
 * returns how many there are. */
size_t slow_positions(const slow_half *s, ht_engine_position *out, size_t max);
/* Writes [status] prometheus_file (temporary file, then rename); nothing when none is configured. */
void slow_write_prometheus(slow_half *s);
/* The report's live-book keys ("positions", "venue_positions", ..., each followed by a comma). */
void slow_live_write_json(const slow_half *s, FILE *out);

/* ---- slow_margin.c: the book's margin ------------------------------------------------------------------- */

/* Computes the book's margin now (after a refresh or a fill) into the report ([margin]; nothing when off). */
void slow_margin_update(slow_half *s);
/* A pipeline tick of u at spot: the estimate between computations (docs/margin.md), and the kill switch at
 * [margin] kill_ratio, the flatten level at flatten_ratio (logged as they are crossed). No allocation. */
void slow_margin_tick(slow_half *s, unsigned u, double spot);
/* Where u may decide: when the band's fraction the margin asks for changed (the margin-aware band, or flatten), the
 * optimizer gets it and decides again (the band re-placed, a hedge when outside). True when orders are pending. */
bool slow_margin_act(slow_half *s, unsigned u);
/* At the flatten level, whether an order of delta_coin on net delta nd_before raises it (|net delta| grows): true
 * with why (the order is refused). */
bool slow_margin_refuses(const slow_half *s, unsigned u, double nd_before, double delta_coin, char *why, size_t len);

/* ---- slow_log.c: event log, series, statistics ----------------------------------------------------------- */

/* Event-log rows (nothing without an event log). A market row: spot, net delta, band, breach side, decision
 * reason, then the detail. */
void slow_log_market(slow_half *s, const char *event, int u, double spot, double nd, double lo, double hi, int side,
                     const char *reason, const char *fmt, ...) HT_PRINTF(10, 11);
/* An order row: instrument, side, quantity, price, ClOrdID, expected cost, then the detail. */
void slow_log_order(slow_half *s, const char *event, int u, const char *instrument, int side, double qty,
                    double price, uint64_t clordid, double cost, const char *fmt, ...) HT_PRINTF(10, 11);
/* An information row: only the detail. */
void slow_log_info(slow_half *s, const char *event, int u, const char *fmt, ...) HT_PRINTF(4, 5);
/* The table just loaded, one line per book position ([engine] table_log; nothing when it is off). */
void slow_log_table(slow_half *s);
/* A file replaced atomically: the temporary (path.tmp, its name in tmp) to write, NULL when path is "" or it cannot
 * be opened; then closed and renamed over path (removed when the write failed). */
FILE *slow_replace_begin(const char *path, char *tmp, size_t tmp_size);
void slow_replace_end(FILE *f, const char *tmp, const char *path);
/* Accounts a pipeline tick of u: the net delta held since the last one, the double check, the series row. */
void slow_tick_stats(slow_half *s, unsigned u, const msg_index *m);

#endif
