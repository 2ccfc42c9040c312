/* SPDX-License-Identifier: MIT */
/* The in-process venue: the exchange simulator on loopback behind a FIX gateway. */
#ifndef HEDGETRIG_APP_VENUE_SIM_H
#define HEDGETRIG_APP_VENUE_SIM_H

#include "hedgetrig/engine_setup.h"

/* Starts the simulator (xsim's settings, NULL for its defaults, on 127.0.0.1 and a free port, quoting only the
 * books it is given) and a gateway configured as gw_cfg but pointed at it (its CompID, no credentials, a fresh
 * session, a temporary journal removed with the venue). NULL with err. */
ht_venue *ht_setup_venue_sim_create(const ht_gw_config *gw_cfg, const ht_xsim_config *xsim, ht_error *err);

#endif
