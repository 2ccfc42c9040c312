/* SPDX-License-Identifier: MIT */
/* The in-process venue: the exchange simulator on loopback behind a FIX gateway. */
#ifndef HEDGETRIG_APP_VENUE_SIM_H
#define HEDGETRIG_APP_VENUE_SIM_H

#include "hedgetrig/engine_setup.h"

/* Starts the simulator (xsim's settings, NULL for its defaults, on 127.0.0.1 and a free port, quoting only the
 * books it is given, enforcing the gateway's [rate] limits when they say enforce, its script on the clock the
 * engine passes) and a gateway configured as gw_cfg but pointed at it (its CompID, no credentials, a fresh
 * session, a temporary journal removed with the venue). The venue's account starts as xsim->book_path says,
 * else as book_path (the engine's book: the venue holds the desk's book), else flat. NULL with err. */
ht_venue *ht_setup_venue_sim_create(const ht_gw_config *gw_cfg, const ht_xsim_config *xsim, const char *book_path,
                                    ht_error *err);

/* Seeds the simulator's account from a book file (hedgetrig/positions.h format: any instrument name of the FIX
 * Symbol grammar is taken, the venue knows no registry): each line's quantity becomes the venue's position, as
 * ht_xsim_set_position. Returns the number of positions, or -1 with err naming the file and line. */
int ht_setup_venue_book_seed(ht_xsim *x, const char *path, ht_error *err);

#endif
