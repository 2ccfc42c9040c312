/* SPDX-License-Identifier: MIT */
/* The refresh defaults keep the fast path's Taylor error under 0.1% of gross delta on simulated paths and on
 * the real capture; a policy with loose thresholds does not (so the measurement can fail). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "hedgetrig/greeks.h"
#include "taylor.h"

/* Prints a run's figures. */
static void show(const char *what, const taylor_stats *s)
{
    print_message("%s: %llu ticks, %llu re-centres (move %llu, vol %llu, smile %llu, timer %llu), error p50 %.2e "
                  "p99 %.2e max %.2e of gross delta\n",
                  what, (unsigned long long)s->ticks, (unsigned long long)s->refreshes,
                  (unsigned long long)s->by_reason[0], (unsigned long long)s->by_reason[1],
                  (unsigned long long)s->by_reason[5], (unsigned long long)s->by_reason[2], s->p50, s->p99, s->max_rel);
}

static void defaults_hold_on_simulated_paths(void **state)
{
    (void)state;
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    ht_error err;
    taylor_stats s;
    /* Calm: realised vol 60%, vol of vol 100%; stressed: 120% and 300%. 20 minutes of 10 Hz ticks each. */
    assert_int_equal(taylor_sim_run(&cfg, 77, 0.6, 1.0, 1.0 / 3.0, 100.0, 1, 11, &s, &err), 0);
    show("simulated, calm", &s);
    assert_true(s.ticks > 10000);
    assert_true(s.max_rel < cfg.refresh.error_budget);
    assert_int_equal(taylor_sim_run(&cfg, 77, 1.2, 3.0, 1.0 / 3.0, 100.0, 1, 12, &s, &err), 0);
    show("simulated, stressed", &s);
    assert_true(s.max_rel < cfg.refresh.error_budget);
    assert_true(s.refreshes >= 20); /* the timer alone re-centres every minute */
}

static void loose_thresholds_break_the_budget(void **state)
{
    (void)state;
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    cfg.refresh.adaptive = false;
    cfg.refresh.max_move_rel = 0.05;
    cfg.refresh.max_vol_move = 0.5;
    cfg.refresh.max_interval_ms = 86400000;
    ht_error err;
    taylor_stats s;
    /* realised vol 300%: spot moves of about 2% in the 20 minutes */
    assert_int_equal(taylor_sim_run(&cfg, 77, 3.0, 3.0, 1.0 / 3.0, 100.0, 1, 12, &s, &err), 0);
    show("simulated, 300% vol, loose policy", &s);
    assert_true(s.max_rel > cfg.refresh.error_budget);
}

static void defaults_hold_on_the_capture(void **state)
{
    (void)state;
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    ht_error err;
    taylor_stats s;
    if (taylor_capture_run(&cfg, HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap",
                           HT_SOURCE_DIR "/examples/book_deribit_sample.csv", &s, &err) != 0)
        fail_msg("%s", err.msg);
    show("capture, example book", &s);
    assert_true(s.ticks + s.refreshes > 40);
    assert_true(s.max_rel < cfg.refresh.error_budget);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_hold_on_simulated_paths),
        cmocka_unit_test(loose_thresholds_break_the_budget),
        cmocka_unit_test(defaults_hold_on_the_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
