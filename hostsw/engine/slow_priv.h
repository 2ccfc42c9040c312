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

/* ---- slow_orders.c: decisions, orders, fills ------------------------------------------------------------- */

/* Asks the optimizer what to do for u, sends the orders and, once they are resolved (at once in replay), sets
 * the band and inventory. b is the breach (NULL for a timer or a refresh). */
void slow_decide(slow_half *s, unsigned u, ht_opt_trigger trigger, const msg_breach *b);
/* The UNTRUSTED_* bits that concern u now (b: the breach's, else u's latest index tick and venues' trust). */
uint32_t slow_untrusted_for(const slow_half *s, unsigned u, const msg_breach *b);
/* Drains the venue's events and re-arms underlyings whose orders timed out. */
void slow_poll_venue(slow_half *s);

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
/* Accounts a pipeline tick of u: the net delta held since the last one, the double check, the series row. */
void slow_tick_stats(slow_half *s, unsigned u, const msg_index *m);

#endif
