/* SPDX-License-Identifier: MIT */
/* The engine wired to the world, for the app (demo, replay, run, bench) and the end-to-end tests: the config file
 * with the simulators' sections, the venue (a FIX gateway to a real venue, or to the exchange simulator started
 * in-process), and the market simulator as a packet source. The engine itself knows neither simulator. */
#ifndef HEDGETRIG_ENGINE_SETUP_H
#define HEDGETRIG_ENGINE_SETUP_H

#include <signal.h>

#include "hedgetrig/engine.h"
#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/market_sim.h"
#include "hedgetrig/venue.h"

/* Everything a config file sets for a run. */
typedef struct ht_setup_config {
    ht_engine_config engine; /* the engine's sections, [gateway] and [risk] */
    ht_xsim_config xsim;     /* [exchange_sim]: the in-process venue (engine.venue = sim) */
    ht_mkt_config market;    /* [market]: the in-process market (engine.source = sim) */
} ht_setup_config;

/* Fills c with the defaults of the engine and both simulators. */
void ht_setup_config_default(ht_setup_config *c);

/* Reads a config file over c: the engine's sections and [market] in one pass, then [gateway] and [risk], then
 * [exchange_sim]. An unknown key or a bad value is an error naming the file, the line and what was expected. */
int ht_setup_config_load(ht_setup_config *c, const char *path, ht_error *err);

/* ht_engine_config_check, and the market simulator's settings when it is the source. 0 or -1 with err. */
int ht_setup_config_check(const ht_setup_config *c, ht_error *err);

/* Makes the venue cfg->venue names. sim: starts the exchange simulator in-process on loopback (xsim's settings,
 * NULL for its defaults; it quotes only the books the feed gives it) and points a FIX gateway at it, with a
 * temporary journal removed with the venue. fix: a FIX gateway to [gateway] host:port, with the client id and
 * secret from cfg->secrets_path (or the environment). Connects on the first poll. NULL with err. */
ht_venue *ht_setup_venue_create(const ht_engine_config *cfg, const ht_xsim_config *xsim, ht_error *err);

/* The exchange simulator behind a venue ht_setup_venue_create made with cfg->venue = sim (its account, its
 * ht_xsim_stats: rate_violations, me_changes, ...), or NULL for any other venue. Owned by the venue. */
ht_xsim *ht_setup_venue_xsim(const ht_venue *venue);

/* ht_engine_create, then the venue (ht_setup_venue_create) attached and logged on (ht_engine_attach_venue). In
 * replay (threads off) SIGUSR1 engages the kill switch. NULL with err. */
ht_engine *ht_setup_engine_create(const ht_engine_config *cfg, const ht_xsim_config *xsim, ht_error *err);

/* Runs the engine on the market simulator's packets, one at a time (ht_engine_run_source). */
int ht_setup_run_market(ht_engine *e, ht_mkt *market, volatile sig_atomic_t *stop, ht_error *err);

#endif
