/* SPDX-License-Identifier: MIT */
/* The engine wired to its venue and its packet source for demo, replay, run and bench (hedgetrig/engine_setup.h):
 * the config file with the simulators' sections, the venue the config names, the market simulator as a source. */
#include <signal.h>
#include <string.h>

#include "venue_sim.h"

#include "hedgetrig/conf.h"
#include "hedgetrig/tsc.h"
#include "hedgetrig/venue_fix.h"

void ht_setup_config_default(ht_setup_config *c)
{
    ht_engine_config_default(&c->engine);
    ht_xsim_config_default(&c->xsim);
    ht_mkt_config_default(&c->market);
}

/* ht_conf_apply_fn over a setup config: [market] to the market simulator, the rest to the engine. */
static bool apply_key(void *user, const char *section, const char *key, const char *value, bool *known,
                      const char **expected)
{
    ht_setup_config *c = user;
    if (!strcmp(section, "market")) {
        *known = true;
        return ht_mkt_config_set(&c->market, key, value, known, expected);
    }
    return ht_engine_config_apply(&c->engine, section, key, value, known, expected);
}

int ht_setup_config_load(ht_setup_config *c, const char *path, ht_error *err)
{
    const char *sections[16];
    size_t n = 0;
    for (; ht_engine_config_sections[n] && n + 2 < HT_ARRAY_LEN(sections); n++)
        sections[n] = ht_engine_config_sections[n];
    sections[n++] = "market";
    sections[n] = NULL;
    if (ht_conf_read(path, sections, apply_key, c, err) != 0)
        return -1;
    if (ht_gw_config_load(&c->engine.gw, path, err) != 0)
        return -1;
    return ht_xsim_config_load(&c->xsim, path, err);
}

int ht_setup_config_check(const ht_setup_config *c, ht_error *err)
{
    if (ht_engine_config_check(&c->engine, err) != 0)
        return -1;
    if (c->engine.source == HT_ENGINE_SOURCE_MARKET && ht_mkt_config_check(&c->market, err) != 0)
        return -1;
    return 0;
}

ht_venue *ht_setup_venue_create(const ht_engine_config *cfg, const ht_xsim_config *xsim, ht_error *err)
{
    if (cfg->venue == HT_ENGINE_VENUE_SIM)
        return ht_setup_venue_sim_create(&cfg->gw, xsim, cfg->book_path, err);
    ht_gw_config gw = cfg->gw;
    if (ht_gw_secrets_load(&gw, cfg->secrets_path[0] ? cfg->secrets_path : NULL, err) != 0)
        return NULL;
    return ht_venue_fix_create(&gw, err);
}

ht_engine *ht_setup_engine_create(const ht_engine_config *cfg, const ht_xsim_config *xsim, ht_error *err)
{
    ht_engine *e = ht_engine_create(cfg, err);
    if (!e)
        return NULL;
    ht_venue *venue = ht_setup_venue_create(cfg, xsim, err);
    if (!venue) {
        ht_engine_destroy(e);
        return NULL;
    }
    if (!cfg->threads)
        ht_gw_kill_on_signal(SIGUSR1);
    if (ht_engine_attach_venue(e, venue, err) != 0) {
        ht_engine_destroy(e);
        return NULL;
    }
    return e;
}

/* ht_engine_source_fn over the market simulator: one packet at a time, since the simulator's next step reuses
 * the memory of this one's packets. */
static int market_next(void *user, ht_nic_packet *buf, int max, ht_error *err)
{
    (void)max;
    (void)err;
    if (ht_mkt_next(user, &buf[0]) != 1)
        return HT_NIC_EOF;
    buf[0].rx_tsc = ht_tsc_now();
    return 1;
}

int ht_setup_run_market(ht_engine *e, ht_mkt *market, volatile sig_atomic_t *stop, ht_error *err)
{
    return ht_engine_run_source(e, market_next, market, stop, err);
}
