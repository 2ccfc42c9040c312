/* SPDX-License-Identifier: MIT */
/* The in-process venue: the exchange simulator on loopback behind a FIX gateway, as one venue whose books are the
 * feed's. Every operation goes to the gateway (the FIX venue); the contracts and books also go to the simulator. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "venue_sim.h"

#include "hedgetrig/fix.h"
#include "hedgetrig/positions.h"
#include "hedgetrig/venue_fix.h"

typedef struct venue_sim {
    ht_venue venue;   /* first: the ht_venue handed out is this struct */
    ht_venue *fix;    /* the gateway, logged on to the simulator */
    ht_xsim *xsim;
    char journal[HT_ENGINE_PATH_MAX]; /* the gateway's temporary journal ("" = none yet) */
} venue_sim;

static int sim_send(void *ctx, const ht_venue_order *order, ht_venue_send_result *result)
{
    const venue_sim *v = ctx;
    return v->fix->ops->send(v->fix->ctx, order, result);
}

static int sim_cancel(void *ctx, uint64_t order_id, ht_error *err)
{
    const venue_sim *v = ctx;
    return v->fix->ops->cancel(v->fix->ctx, order_id, err);
}

static int sim_poll(void *ctx, ht_venue_event *events, int max)
{
    const venue_sim *v = ctx;
    return v->fix->ops->poll(v->fix->ctx, events, max);
}

static void sim_wait(void *ctx, int timeout_ms)
{
    const venue_sim *v = ctx;
    v->fix->ops->wait(v->fix->ctx, timeout_ms);
}

static double sim_position(void *ctx, const char *instrument)
{
    const venue_sim *v = ctx;
    return v->fix->ops->position(v->fix->ctx, instrument);
}

static ht_venue_state sim_state(void *ctx)
{
    const venue_sim *v = ctx;
    return v->fix->ops->state(v->fix->ctx);
}

static const char *sim_state_name(void *ctx)
{
    const venue_sim *v = ctx;
    return v->fix->ops->state_name(v->fix->ctx);
}

static const char *sim_last_problem(void *ctx)
{
    const venue_sim *v = ctx;
    return v->fix->ops->last_problem(v->fix->ctx);
}

static void sim_logout(void *ctx, const char *text)
{
    const venue_sim *v = ctx;
    v->fix->ops->logout(v->fix->ctx, text);
}

static void sim_kill(void *ctx, const char *text)
{
    const venue_sim *v = ctx;
    if (v->fix->ops->kill)
        v->fix->ops->kill(v->fix->ctx, text);
}

/* The gateway's notional rule and the simulator's 854 conversion and Commission read the same contract. */
static int sim_set_contract(void *ctx, const char *instrument, const ht_contract *contract, ht_error *err)
{
    const venue_sim *v = ctx;
    if (v->fix->ops->set_contract(v->fix->ctx, instrument, contract, err) != 0)
        return -1;
    return ht_xsim_set_contract(v->xsim, instrument, contract, err);
}

/* The gateway's collar and the simulator's account (its mark-to-market and margins) read the same mark. */
static void sim_set_mark(void *ctx, const char *instrument, double mark)
{
    const venue_sim *v = ctx;
    v->fix->ops->set_mark(v->fix->ctx, instrument, mark);
    ht_xsim_set_mark(v->xsim, instrument, mark);
}

/* The gateway's windows and the simulator's script and rate limits run on the same clock (replay: the
 * capture's). */
static void sim_set_clock(void *ctx, uint64_t now_ns)
{
    const venue_sim *v = ctx;
    v->fix->ops->set_clock(v->fix->ctx, now_ns);
    if (now_ns)
        ht_xsim_set_clock(v->xsim, now_ns);
}

/* The simulator fills against the feed's book of the instrument (contracts, as the venue's reports are). */
static void sim_set_book(void *ctx, const char *instrument, const ht_venue_level *bids, unsigned n_bids,
                         const ht_venue_level *asks, unsigned n_asks)
{
    const venue_sim *v = ctx;
    ht_xsim_level lv[HT_XSIM_MAX_LEVELS];
    unsigned n = n_bids < HT_XSIM_MAX_LEVELS ? n_bids : HT_XSIM_MAX_LEVELS;
    for (unsigned i = 0; i < n; i++)
        lv[i] = (ht_xsim_level){bids[i].price, bids[i].contracts};
    ht_xsim_set_depth(v->xsim, instrument, true, lv, n);
    n = n_asks < HT_XSIM_MAX_LEVELS ? n_asks : HT_XSIM_MAX_LEVELS;
    for (unsigned i = 0; i < n; i++)
        lv[i] = (ht_xsim_level){asks[i].price, asks[i].contracts};
    ht_xsim_set_depth(v->xsim, instrument, false, lv, n);
}

/* The gateway's mirror of the rate limits the simulator enforces (the engine holds hedges on it). */
static void sim_limits(void *ctx, ht_venue_limits *out)
{
    const venue_sim *v = ctx;
    v->fix->ops->limits(v->fix->ctx, out);
}

/* Armed orders are the gateway's (the simulator sees the order when it is fired). */
static int sim_arm(void *ctx, const ht_venue_order *order, ht_venue_armed *out)
{
    const venue_sim *v = ctx;
    return v->fix->ops->arm(v->fix->ctx, order, out);
}

static int sim_fire(void *ctx, ht_venue_armed *armed, double contracts, uint16_t trigger_channel,
                    uint64_t trigger_seq, ht_venue_send_result *result)
{
    const venue_sim *v = ctx;
    return v->fix->ops->fire(v->fix->ctx, armed, contracts, trigger_channel, trigger_seq, result);
}

/* The gateway first (it logs off a simulator that is still there), then the simulator, then the journal. */
static void sim_destroy(void *ctx)
{
    venue_sim *v = ctx;
    ht_venue_destroy(v->fix);
    if (v->xsim)
        ht_xsim_destroy(v->xsim);
    if (v->journal[0]) {
        char log[HT_ENGINE_PATH_MAX + 8];
        snprintf(log, sizeof log, "%s.log", v->journal);
        unlink(v->journal);
        unlink(log);
    }
    free(v);
}

static const ht_venue_ops sim_ops = {
    .send = sim_send,
    .cancel = sim_cancel,
    .poll = sim_poll,
    .wait = sim_wait,
    .position = sim_position,
    .state = sim_state,
    .state_name = sim_state_name,
    .last_problem = sim_last_problem,
    .logout = sim_logout,
    .set_contract = sim_set_contract,
    .set_mark = sim_set_mark,
    .set_clock = sim_set_clock,
    .set_book = sim_set_book,
    .limits = sim_limits,
    .arm = sim_arm,
    .fire = sim_fire,
    .kill = sim_kill,
    .destroy = sim_destroy,
};

ht_xsim *ht_setup_venue_xsim(const ht_venue *venue)
{
    return venue && venue->ops == &sim_ops ? ((const venue_sim *)venue->ctx)->xsim : NULL;
}

/* Makes a temporary file path for the gateway's journal. */
static int make_temp_journal(venue_sim *v, ht_error *err)
{
    const char *dir = getenv("TMPDIR");
    snprintf(v->journal, sizeof v->journal, "%s/hedgetrig-journal-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(v->journal);
    if (fd < 0) {
        v->journal[0] = '\0';
        return ht_error_set(err, "engine: cannot create a temporary journal: %s", strerror(errno));
    }
    close(fd);
    unlink(v->journal); /* the gateway creates it afresh */
    return 0;
}

/* A registry that knows every name of the Symbol grammar (the simulator has none): the book file's names are
 * taken as the venue's (ht_instrument_lookup_fn). */
static int any_instrument(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    (void)ctx;
    if (len > 31 || ht_fix_check_value("instrument", name, len, HT_FIX_GRAMMAR_INSTRUMENT, 1, 31, why) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    uint32_t h = 2166136261u; /* FNV-1a: a distinct id per name */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    out->id = h;
    memcpy(out->name, name, len);
    out->kind = len > 2 && name[len - 2] == '-' && (name[len - 1] == 'C' || name[len - 1] == 'P') ? HT_POS_OPTION
                : strstr(out->name, "PERPETUAL")                                                  ? HT_POS_PERPETUAL
                                                                                                  : HT_POS_FUTURE;
    return 0;
}

int ht_setup_venue_book_seed(ht_xsim *x, const char *path, ht_error *err)
{
    ht_positions *book = ht_positions_load(path, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, any_instrument, NULL, err);
    if (!book)
        return -1;
    int n = 0;
    for (size_t i = 0; i < ht_positions_count(book) && n >= 0; i++) {
        const ht_position *p = ht_positions_at(book, i);
        n = ht_xsim_set_position(x, p->spec.name, p->qty_contracts, err) == 0 ? n + 1 : -1;
    }
    ht_positions_destroy(book);
    return n;
}

/* Starts the simulator and points gw at it: loopback, its port and CompID, no credentials, a fresh session; the
 * gateway's rate limits, and the account seeded from a book. */
static int start_sim(venue_sim *v, const ht_xsim_config *xsim, ht_gw_config *gw, const char *book_path,
                     ht_error *err)
{
    ht_xsim_config xc;
    if (xsim)
        xc = *xsim;
    else
        ht_xsim_config_default(&xc);
    xc.rate = gw->rate; /* the limits the gateway mirrors, enforced when [rate] enforce says so */
    snprintf(xc.bind_host, sizeof xc.bind_host, "127.0.0.1");
    xc.port = 0;
    xc.default_mid = 0; /* only the books the feed gives it: an order for anything else is rejected */
    xc.latency_us = 0;
    xc.log = NULL;
    v->xsim = ht_xsim_create(&xc, err);
    if (!v->xsim)
        return -1;
    const char *seed = xc.book_path[0] ? xc.book_path : book_path;
    if (seed && seed[0] && ht_setup_venue_book_seed(v->xsim, seed, err) < 0)
        return -1;
    if (ht_xsim_start(v->xsim, err) != 0)
        return -1;
    snprintf(gw->host, sizeof gw->host, "127.0.0.1");
    gw->port = ht_xsim_port(v->xsim);
    snprintf(gw->target_comp_id, sizeof gw->target_comp_id, "%s", xc.comp_id);
    gw->client_id[0] = gw->client_secret[0] = '\0';
    if (make_temp_journal(v, err) != 0)
        return -1;
    snprintf(gw->journal_path, sizeof gw->journal_path, "%s", v->journal);
    gw->journal_fsync = HT_JOURNAL_FSYNC_NEVER;
    snprintf(gw->log_path, sizeof gw->log_path, "%.200s.log", v->journal);
    gw->reset_seq_on_logon = true;
    return 0;
}

ht_venue *ht_setup_venue_sim_create(const ht_gw_config *gw_cfg, const ht_xsim_config *xsim, const char *book_path,
                                    ht_error *err)
{
    venue_sim *v = calloc(1, sizeof *v);
    if (!v) {
        ht_error_set(err, "engine: out of memory");
        return NULL;
    }
    v->venue.ops = &sim_ops;
    v->venue.ctx = v;
    ht_gw_config gw = *gw_cfg;
    if (start_sim(v, xsim, &gw, book_path, err) != 0 || !(v->fix = ht_venue_fix_create(&gw, err))) {
        sim_destroy(v);
        return NULL;
    }
    snprintf(v->venue.address, sizeof v->venue.address, "%s", v->fix->address);
    snprintf(v->venue.session_log, sizeof v->venue.session_log, "%s", v->fix->session_log);
    v->venue.logon_timeout_ms = v->fix->logon_timeout_ms;
    return &v->venue;
}
