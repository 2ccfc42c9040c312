/* SPDX-License-Identifier: MIT */
/* The Deribit FIX 4.4 gateway (hedgetrig/gateway.h) as a venue (hedgetrig/venue.h). */
#ifndef HEDGETRIG_VENUE_FIX_H
#define HEDGETRIG_VENUE_FIX_H

#include "hedgetrig/gateway.h"
#include "hedgetrig/venue.h"

/* Creates the gateway from cfg (ht_gw_create: journal, pid file, session; it connects on the first poll) and
 * wraps it. NULL with err. ht_venue_destroy destroys the gateway. */
ht_venue *ht_venue_fix_create(const ht_gw_config *cfg, ht_error *err);

/* The gateway inside a venue made by ht_venue_fix_create (for what only a FIX session has: the journal, the
 * kill switch's operator calls, sequence numbers). */
ht_gw *ht_venue_fix_gateway(const ht_venue *venue);

#endif
