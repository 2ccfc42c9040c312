/* SPDX-License-Identifier: MIT */
/* The in-process venue of replay and demo (hostsw/app/venue_sim.c) as the desk's venue: its account starts as the
 * engine's book file (every line of examples/book_deribit_sample.csv, read back from a Position Report), or as
 * --venue-book says when given (a difference for the engine to reconcile), and its script runs on the clock the
 * engine passes through the venue (set_clock: the capture's exchange time), counted from the first value. A raw
 * client reads the account over a second session of it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/engine_setup.h"
#include "hedgetrig/fix_account.h"
#include "hedgetrig/positions.h"
#include "fix_client.h"

#define SAMPLE_BOOK HT_SOURCE_DIR "/examples/book_deribit_sample.csv"

/* The port of the venue's simulator, from its address ("127.0.0.1:PORT"). */
static uint16_t venue_port(const ht_venue *v)
{
    const char *colon = strrchr(v->address, ':');
    assert_non_null(colon);
    return (uint16_t)strtoul(colon + 1, NULL, 10);
}

/* Reads the account's snapshot over a raw session into r. */
static void snapshot(client *c, uint16_t port, ht_fix_position_report *r)
{
    client_logon(c, port);
    client_send(c, "AN", "710=s|724=0|263=1|");
    assert_true(client_expect(c, "AP", NULL, 0));
    ht_error err;
    assert_int_equal(ht_fix_parse_position_report(&c->m, r, &err), 0);
}

/* A registry that knows every name (the book file's reference reading). */
static int any_name(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    (void)ctx, (void)why;
    memset(out, 0, sizeof *out);
    memcpy(out->name, name, len < HT_POS_NAME_MAX ? len : HT_POS_NAME_MAX);
    out->id = 2166136261u; /* FNV-1a: a distinct id per name */
    for (size_t i = 0; i < len; i++)
        out->id = (out->id ^ (uint8_t)name[i]) * 16777619u;
    return 0;
}

/* The venue starts with the engine's book: the snapshot lists every line of the book file with its quantity. */
static void venue_starts_with_the_engine_book(void **state)
{
    (void)state;
    ht_engine_config cfg;
    ht_engine_config_default(&cfg);
    cfg.venue = HT_ENGINE_VENUE_SIM;
    snprintf(cfg.book_path, sizeof cfg.book_path, "%s", SAMPLE_BOOK);
    ht_error err;
    ht_venue *v = ht_setup_venue_create(&cfg, NULL, &err);
    assert_non_null(v);
    static client c;
    static ht_fix_position_report r;
    snapshot(&c, venue_port(v), &r);
    ht_positions *book = ht_positions_load(SAMPLE_BOOK, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, any_name, NULL, &err);
    assert_non_null(book);
    size_t nonzero = 0;
    for (size_t i = 0; i < ht_positions_count(book); i++) {
        const ht_position *p = ht_positions_at(book, i);
        if (p->qty_contracts == 0)
            continue;
        nonzero++;
        bool found = false;
        for (unsigned k = 0; k < r.n && !found; k++)
            found = !strcmp(r.pos[k].symbol, p->spec.name) &&
                    fabs(ht_fix_position_contracts(&r.pos[k]) - p->qty_contracts) < 1e-9;
        if (!found)
            fail_msg("%s %g is not in the venue's snapshot", p->spec.name, p->qty_contracts);
    }
    assert_int_equal(r.n, nonzero);
    assert_true(nonzero > 50);
    ht_positions_destroy(book);
    close(c.fd);
    ht_venue_destroy(v);
}

/* --venue-book replaces the seed; the script (--venue-script) runs on the clock set_clock passes: nothing at the
 * first value (time_s 0 is it, the event is at 5), the fill once the clock is 5 s on. */
static void venue_book_and_script_on_the_engine_clock(void **state)
{
    (void)state;
    const char *vbook = HT_TEST_TMPDIR "/venue_book.csv";
    const char *script = HT_TEST_TMPDIR "/venue_script.csv";
    FILE *f = fopen(vbook, "w");
    assert_non_null(f);
    fputs("instrument,qty_contracts\nBTC-PERPETUAL,-300\nBTC-23JUN23-25000-C,-7\n", f);
    fclose(f);
    f = fopen(script, "w");
    assert_non_null(f);
    fputs("5,fill,BTC-23JUN23-25000-C,2,0.03\n", f);
    fclose(f);
    ht_setup_config setup;
    ht_setup_config_default(&setup);
    setup.engine.venue = HT_ENGINE_VENUE_SIM;
    snprintf(setup.engine.book_path, sizeof setup.engine.book_path, "%s", SAMPLE_BOOK);
    snprintf(setup.xsim.book_path, sizeof setup.xsim.book_path, "%s", vbook);
    snprintf(setup.xsim.script_path, sizeof setup.xsim.script_path, "%s", script);
    ht_error err;
    ht_venue *v = ht_setup_venue_create(&setup.engine, &setup.xsim, &err);
    assert_non_null(v);
    static client c;
    static ht_fix_position_report r;
    snapshot(&c, venue_port(v), &r);
    assert_int_equal(r.n, 2);
    const uint64_t t0 = 1686787200ull * 1000000000ull; /* the capture's day */
    v->ops->set_clock(v->ctx, t0);
    v->ops->set_clock(v->ctx, t0 + 4900000000ull);
    assert_int_equal(client_next(&c, 300), 0); /* 4.9 s: not yet */
    v->ops->set_clock(v->ctx, t0 + 5000000000ull);
    /* set_clock returns once the event is booked and its reports are written: no wait needed. */
    ht_xsim *x = ht_setup_venue_xsim(v);
    assert_non_null(x);
    assert_true(ht_xsim_position(x, "BTC-23JUN23-25000-C") == -5);
    struct pollfd readable = {c.fd, POLLIN, 0};
    assert_int_equal(poll(&readable, 1, 0), 1); /* the update is on the socket already */
    assert_true(client_expect(&c, "AP", NULL, 0));
    assert_int_equal(ht_fix_parse_position_report(&c.m, &r, &err), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.pos[0].symbol, "BTC-23JUN23-25000-C");
    assert_true(ht_fix_position_contracts(&r.pos[0]) == -5);
    assert_true(ht_xsim_position(x, "BTC-PERPETUAL") == -300);
    ht_xsim_stats st;
    ht_xsim_stats_get(x, &st);
    assert_int_equal(st.script_events, 1);
    assert_int_equal(st.rate_violations, 0);
    close(c.fd);
    ht_venue_destroy(v);
    /* A bad script stops the venue's creation with the file and line. */
    f = fopen(script, "w");
    assert_non_null(f);
    fputs("5,fill,BTC-23JUN23-25000-C,2,0.03\n4,fill,BTC-PERPETUAL,1,1\n", f);
    fclose(f);
    assert_null(ht_setup_venue_create(&setup.engine, &setup.xsim, &err));
    assert_non_null(strstr(err.msg, "venue_script.csv:2: time_s 4 is before the line above"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(venue_starts_with_the_engine_book),
        cmocka_unit_test(venue_book_and_script_on_the_engine_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
