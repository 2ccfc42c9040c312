/* SPDX-License-Identifier: MIT */
/* Deribit's margin: standard margin against the examples Deribit's pages publish and against the rules
 * computed here again in USD; portfolio margin against a direct revaluation of the book written out in this
 * file (Black-76 prices summed per scenario), the documented risk vector of a perpetual and the documented
 * contingency examples; the distance to liquidation against the shortfall recomputed at the distance found. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/margin.h"

/* |a - b| <= tol, printing both when not (NaN fails). */
#define ASSERT_NEAR(a, b, tol)                                                                                 \
    do {                                                                                                       \
        const double a_ = (a), b_ = (b);                                                                       \
        if (!(fabs(a_ - b_) <= (tol)))                                                                         \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, (double)(tol));                 \
    } while (0)

#define EXP_30D_MS (30ull * 86400000ull)

/* A spec: an option when type is non-zero, else a perpetual or future (inverse: 10 USD; linear: 0.001 BTC). */
static ht_instrument_spec spec_of(const char *name, ht_pos_kind kind, int type, double strike, uint64_t expiry_ms,
                                  bool inverse)
{
    ht_instrument_spec s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.kind = kind;
    s.option_type = (ht_b76_type)type;
    s.strike = strike;
    s.expiry_ms = expiry_ms;
    s.inverse = inverse;
    s.size_in_coin = kind == HT_POS_OPTION || !inverse;
    s.contract_size = kind == HT_POS_OPTION ? 1.0 : (inverse ? 10.0 : 0.001);
    snprintf(s.base_currency, sizeof s.base_currency, "BTC");
    return s;
}

static ht_margin_position option_pos(const ht_instrument_spec *s, double qty, double mark, double fwd, double iv,
                                     double t)
{
    return (ht_margin_position){s, qty, mark, fwd, fwd, iv, t};
}

static ht_margin_position future_pos(const ht_instrument_spec *s, double qty, double mark, double index)
{
    return (ht_margin_position){s, qty, mark, NAN, index, NAN, NAN};
}

/* test.deribit.com/pages/docs/futures: "Your position is 25 BTC in size: initial margin is 2% + 25/100 *0.5% =
 * 2.125% (= 0.53125 BTC)", "350 BTC ... 3.75% (= 13.125 BTC)"; maintenance 1.5% + 0.5% per 100 BTC. */
static void test_inverse_future_documented(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const ht_instrument_spec perp = spec_of("BTC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, true);
    const double mark = 26000.0;
    ht_margin_figures f;
    /* 25 BTC at 26,000 USD = 65,000 contracts of 10 USD; short or long alike. */
    ht_margin_position pos = future_pos(&perp, -25.0 * mark / 10.0, mark, 25990.0);
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
    assert_true(f.coin);
    ASSERT_NEAR(f.initial, 0.53125, 1e-12);
    ASSERT_NEAR(f.maintenance, 25.0 * (0.015 + 0.25 * 0.005), 1e-12);
    pos.qty_contracts = 350.0 * mark / 10.0;
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
    ASSERT_NEAR(f.initial, 13.125, 1e-12);
    ASSERT_NEAR(f.maintenance, 350.0 * (0.015 + 3.5 * 0.005), 1e-12);
    pos.qty_contracts = 0.0;
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
    ASSERT_NEAR(f.initial, 0.0, 0.0);
}

/* support.deribit.com "Linear Perpetual": BTC at 100,000 USDC; 25 BTC: IM 53,125 USDC, MM 28,125 USDC; 350 BTC:
 * IM 1,312,500 USDC (MM 1 % + 350 x 0.005 % = 2.75 %: 962,500 USDC). */
static void test_linear_perpetual_documented(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const ht_instrument_spec perp = spec_of("BTC_USDC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, false);
    ht_margin_figures f;
    ht_margin_position pos = future_pos(&perp, 25.0 / 0.001, 100000.0, 100000.0);
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
    assert_false(f.coin);
    ASSERT_NEAR(f.initial, 53125.0, 1e-6);
    ASSERT_NEAR(f.maintenance, 28125.0, 1e-6);
    pos.qty_contracts = -350.0 / 0.001;
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
    ASSERT_NEAR(f.initial, 1312500.0, 1e-5);
    ASSERT_NEAR(f.maintenance, 962500.0, 1e-5);
}

/* The rules of issue 16 (Deribit's, as doc.tslab.pro copies them), by hand:
 *   short call K 30,000 at S 25,000, mark 0.01: OTM 5,000: IM max(0.15 - 0.2, 0.1) + 0.01 = 0.11; MM 0.085;
 *   short call K 20,000 (in the money), mark 0.21: IM 0.15 + 0.21 = 0.36; MM 0.285;
 *   short put K 20,000, mark 0.005: IM 0.1 + 0.005 = 0.105; MM max(0.075, 0.000375) + 0.005 = 0.08;
 *   short put K 100,000, mark 3.0: MM max(0.075, 0.225) + 3 = 3.225 > 0.15 + 3: IM = MM = 3.225. */
static void test_inverse_option_rules(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const struct {
        int type;
        double strike, mark, im, mm;
    } cases[] = {
        {HT_B76_CALL, 30000, 0.01, 0.11, 0.085},
        {HT_B76_CALL, 20000, 0.21, 0.36, 0.285},
        {HT_B76_PUT, 20000, 0.005, 0.105, 0.08},
        {HT_B76_PUT, 100000, 3.0, 3.225, 3.225},
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        const ht_instrument_spec s = spec_of("BTC-X", HT_POS_OPTION, cases[i].type, cases[i].strike, 1, true);
        ht_margin_position pos = option_pos(&s, -3.0, cases[i].mark, 25000.0, 0.5, 0.1);
        ht_margin_figures f;
        assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
        assert_true(f.coin);
        ASSERT_NEAR(f.initial, 3.0 * cases[i].im, 1e-12);
        ASSERT_NEAR(f.maintenance, 3.0 * cases[i].mm, 1e-12);
        pos.qty_contracts = 3.0; /* long: the premium is paid, no margin */
        assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
        ASSERT_NEAR(f.initial, 0.0, 0.0);
        ASSERT_NEAR(f.maintenance, 0.0, 0.0);
    }
}

/* A linear option's margin in USDC is the inverse rule's coin figure times the underlying price when its
 * USDC mark is the coin mark times that price: the two are the same rule in two currencies (computed here in
 * USD from the rule's terms, not through the library). */
static void test_linear_option_is_inverse_in_usd(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const double s_usd = 25437.0;
    for (int type = HT_B76_CALL; type <= HT_B76_PUT; type++) {
        for (double k = 15000; k <= 40000; k += 2500) {
            const double mark_coin = ht_b76_price((ht_b76_type)type, s_usd, k, 0.05, 0.6, 0.0) / s_usd;
            const ht_instrument_spec lin = spec_of("BTC_USDC-X", HT_POS_OPTION, type, k, 1, false);
            ht_margin_position pos = option_pos(&lin, -2.0, mark_coin * s_usd, s_usd, 0.6, 0.05);
            ht_margin_figures f;
            assert_int_equal(ht_margin_standard_position(&p, &pos, &f, NULL), 0);
            assert_false(f.coin);
            const double otm = type == HT_B76_CALL ? fmax(k - s_usd, 0) : fmax(s_usd - k, 0);
            const double mark_usd = mark_coin * s_usd;
            double im = fmax(0.15 * s_usd - otm, 0.10 * s_usd) + mark_usd;
            const double mm = type == HT_B76_CALL ? 0.075 * s_usd + mark_usd
                                                  : fmax(0.075 * s_usd, 0.075 * mark_usd) + mark_usd;
            if (type == HT_B76_PUT)
                im = fmax(im, mm);
            ASSERT_NEAR(f.initial, 2.0 * im, 1e-7);
            ASSERT_NEAR(f.maintenance, 2.0 * mm, 1e-7);
        }
    }
}

/* Bad input is refused with the instrument named. */
static void test_bad_inputs_named(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    assert_int_equal(ht_margin_params_check(&p, NULL), 0);
    const ht_instrument_spec s = spec_of("BTC-23JUN23-25000-C", HT_POS_OPTION, HT_B76_CALL, 25000, 1, true);
    ht_margin_position pos = option_pos(&s, -1.0, NAN, 25000.0, 0.5, 0.1);
    ht_margin_figures f;
    ht_error err;
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, &err), -1);
    assert_non_null(strstr(err.msg, "BTC-23JUN23-25000-C: mark nan"));
    pos.mark = 0.01;
    pos.underlying_usd = -1.0;
    assert_int_equal(ht_margin_standard_position(&p, &pos, &f, &err), -1);
    assert_non_null(strstr(err.msg, "underlying price -1"));
    ht_margin_account a;
    pos.underlying_usd = 25000.0;
    pos.iv = NAN;
    assert_int_equal(ht_margin_account_compute(HT_MARGIN_PORTFOLIO, &p, &pos, 1, NULL, NULL, &a, &err), -1);
    assert_non_null(strstr(err.msg, "implied vol nan"));
    p.pm_price_steps = 0;
    assert_int_equal(ht_margin_params_check(&p, &err), -1);
    assert_non_null(strstr(err.msg, "pm_price_steps"));
}

/* docs.deribit.com private/pme/simulate's example: BTC-PERPETUAL's standard risk vector, moves -16 % .. +4 %
 * (three vol scenarios each, equal for a future). A long inverse perpetual of X coin at the forward gains
 * X (1 - 1/(1+m)); X = 0.0599120693... x 0.84 / 0.16 from the -16 % entry. */
static void test_perpetual_risk_vector_documented(void **state)
{
    (void)state;
    static const double documented[] = {-0.05991206933333334, -0.04289159509090909, -0.027351162086956524,
                                        -0.013105765166666668, 0.0, 0.012097629384615385};
    ht_margin_params p;
    ht_margin_params_default(&p);
    const ht_instrument_spec perp = spec_of("BTC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, true);
    const double f0 = 66000.0, x_coin = 0.05991206933333334 * 0.84 / 0.16;
    const ht_margin_position pos = future_pos(&perp, x_coin * f0 / 10.0, f0, f0);
    ht_margin_account a;
    assert_int_equal(ht_margin_account_compute(HT_MARGIN_PORTFOLIO, &p, &pos, 1, NULL, NULL, &a, NULL), 0);
    assert_int_equal(a.pm_coin.grid_count, 27);
    for (size_t k = 0; k < HT_ARRAY_LEN(documented); k++)
        for (int v = 0; v < 3; v++)
            ASSERT_NEAR(a.pm_coin.grid_pnl[k * 3 + v], documented[k], 1e-12);
    ASSERT_NEAR(a.pm_coin.worst_loss, -documented[0], 1e-12);
    ASSERT_NEAR(a.pm_coin.worst_move, -0.16, 1e-15);
    ASSERT_NEAR(a.maintenance_coin, 0.8 * a.initial_coin, 1e-15);
}

/* The vol scenarios: 30 days to expiry is a factor 1 (up x1.5, down x0.75); the up scenario is at least 0.5;
 * 15 days: (30/15)^0.3; 120 days: (30/120)^0.13. */
static void test_pm_vols(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    double v[3];
    ht_margin_pm_vols(&p, 0.6, 30.0 / 365.0, v);
    ASSERT_NEAR(v[0], 0.9, 1e-12);
    ASSERT_NEAR(v[1], 0.6, 0.0);
    ASSERT_NEAR(v[2], 0.45, 1e-12);
    ht_margin_pm_vols(&p, 0.2, 30.0 / 365.0, v);
    ASSERT_NEAR(v[0], 0.5, 0.0);
    ht_margin_pm_vols(&p, 0.6, 15.0 / 365.0, v);
    ASSERT_NEAR(v[0], 0.6 * (1 + 0.5 * pow(2.0, 0.3)), 1e-12);
    ht_margin_pm_vols(&p, 0.6, 120.0 / 365.0, v);
    ASSERT_NEAR(v[2], 0.6 * (1 - 0.25 * pow(0.25, 0.13)), 1e-12);
}

/* deribit.com/pages/docs/portfoliomargin's contingency examples: call +10 and put -20 on strike X: net short
 * 10: 10 x 0.01 BTC; long 100 BTC of future A and short 100 BTC of future B: 1 % x 100 BTC. */
static void test_pm_contingencies_documented(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const ht_instrument_spec call = spec_of("BTC-X-C", HT_POS_OPTION, HT_B76_CALL, 26000, EXP_30D_MS, true);
    const ht_instrument_spec put = spec_of("BTC-X-P", HT_POS_OPTION, HT_B76_PUT, 26000, EXP_30D_MS, true);
    const ht_instrument_spec fa = spec_of("BTC-A", HT_POS_FUTURE, 0, NAN, EXP_30D_MS, true);
    const ht_instrument_spec fb = spec_of("BTC-B", HT_POS_FUTURE, 0, NAN, 2 * EXP_30D_MS, true);
    const ht_margin_position pos[] = {
        option_pos(&call, 10, 0.05, 26000, 0.5, 30.0 / 365), option_pos(&put, -20, 0.05, 26000, 0.5, 30.0 / 365),
        future_pos(&fa, 100 * 26000 / 10.0, 26000, 25950), future_pos(&fb, -100 * 26100 / 10.0, 26100, 25950),
    };
    ht_margin_account a;
    assert_int_equal(ht_margin_account_compute(HT_MARGIN_PORTFOLIO, &p, pos, 4, NULL, NULL, &a, NULL), 0);
    ASSERT_NEAR(a.pm_coin.short_option_contingency, 0.1, 1e-12);
    ASSERT_NEAR(a.pm_coin.futures_offset_contingency, 1.0, 1e-12);
    ASSERT_NEAR(a.pm_coin.initial, a.pm_coin.worst_loss + 1.1, 1e-12);
}

/* The grid against a direct revaluation: each scenario's P&L summed here from Black-76 prices (inverse: / F)
 * and the futures' payoffs, with the vols from the documented rule, for a short-gamma book in both currencies. */
static void test_pm_grid_against_direct_revaluation(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const double f = 25500.0, idx = 25450.0;
    const ht_instrument_spec s[] = {
        spec_of("BTC-C1", HT_POS_OPTION, HT_B76_CALL, 26000, 1, true),
        spec_of("BTC-P1", HT_POS_OPTION, HT_B76_PUT, 24000, 1, true),
        spec_of("BTC-C2", HT_POS_OPTION, HT_B76_CALL, 25000, 1, true),
        spec_of("BTC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, true),
        spec_of("BTC_USDC-C", HT_POS_OPTION, HT_B76_CALL, 25500, 1, false),
        spec_of("BTC_USDC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0, false),
    };
    const double qty[] = {-12, -8, 5, 3000, -4, 1500};
    const double iv[] = {0.55, 0.62, 0.5, NAN, 0.58, NAN};
    const double t[] = {8.0 / 365, 40.0 / 365, 8.0 / 365, NAN, 3.0 / 365, NAN};
    ht_margin_position pos[6];
    for (size_t i = 0; i < 6; i++) {
        if (s[i].kind == HT_POS_OPTION) {
            const double usd = ht_b76_price(s[i].option_type, f, s[i].strike, t[i], iv[i], 0.0);
            pos[i] = option_pos(&s[i], qty[i], s[i].inverse ? usd / f : usd, f, iv[i], t[i]);
            pos[i].index_usd = idx;
        } else {
            pos[i] = future_pos(&s[i], qty[i], s[i].inverse ? 25480.0 : 25470.0, idx);
        }
    }
    ht_margin_account a;
    assert_int_equal(ht_margin_account_compute(HT_MARGIN_PORTFOLIO, &p, pos, 6, NULL, NULL, &a, NULL), 0);
    for (int coin = 0; coin < 2; coin++) {
        const ht_margin_pm_detail *d = coin ? &a.pm_coin : &a.pm_usdc;
        double worst = 0.0;
        for (int k = -4, cell = 0; k <= 4; k++) {
            const double m = 0.04 * k;
            for (int v = 0; v < 3; v++, cell++) {
                double pnl = 0.0;
                for (size_t i = 0; i < 6; i++) {
                    if (s[i].inverse != (coin == 1))
                        continue;
                    if (s[i].kind != HT_POS_OPTION) {
                        const double m0 = pos[i].mark, m1 = m0 * (1 + m);
                        pnl += s[i].inverse ? qty[i] * 10.0 * (1 / m0 - 1 / m1) : qty[i] * 0.001 * (m1 - m0);
                        continue;
                    }
                    const double days = t[i] * 365, shock = pow(30 / days, days < 30 ? 0.3 : 0.13);
                    const double vol = v == 0 ? fmax(iv[i] * (1 + 0.5 * shock), 0.5)
                                              : v == 1 ? iv[i] : fmax(iv[i] * (1 - 0.25 * shock), 1e-4);
                    const double f1 = f * (1 + m);
                    const double p1 = ht_b76_price(s[i].option_type, f1, s[i].strike, t[i], vol, 0.0);
                    const double p0 = ht_b76_price(s[i].option_type, f, s[i].strike, t[i], iv[i], 0.0);
                    pnl += qty[i] * (s[i].inverse ? p1 / f1 - p0 / f : p1 - p0);
                }
                ASSERT_NEAR(d->grid_pnl[cell], pnl, 1e-9 * (1 + fabs(pnl)));
                worst = fmax(worst, -pnl);
            }
        }
        ASSERT_NEAR(d->worst_loss, worst, 1e-9 * (1 + worst));
        assert_true(worst > 0.0); /* a short-gamma book loses somewhere on the grid */
    }
    /* The totals convert the USDC side at the index. */
    ASSERT_NEAR(a.maintenance_total_coin, a.maintenance_coin + a.maintenance_usdc / idx, 1e-12);
}

/* The distance to liquidation: at the move found the maintenance margin equals equity plus the move's P&L,
 * recomputed here from the rules (a short inverse call: MM 0.075 + mark per coin); just inside it does not. */
static void test_distance_standard(void **state)
{
    (void)state;
    ht_margin_params p;
    ht_margin_params_default(&p);
    const double f = 25000.0, iv = 0.6, t = 20.0 / 365, k = 26000.0, qty = -10.0, equity = 2.0;
    const ht_instrument_spec s = spec_of("BTC-C", HT_POS_OPTION, HT_B76_CALL, k, 1, true);
    const double mark0 = ht_b76_price(HT_B76_CALL, f, k, t, iv, 0.0) / f;
    const ht_margin_position pos = option_pos(&s, qty, mark0, f, iv, t);
    ht_margin_distance d;
    assert_int_equal(ht_margin_distance_compute(HT_MARGIN_STANDARD, &p, &pos, 1, equity, 5.0, 0.95, 5.0, &d, NULL), 0);
    assert_false(d.already);
    ASSERT_NEAR(d.ratio, -qty * (0.075 + mark0) / equity, 1e-12);
    assert_true(isfinite(d.spot_up_rel) && d.spot_up_rel > 0.0);
    for (int side = 0; side < 2; side++) {
        const double m = d.spot_up_rel * (side ? 1.0 - 1e-4 : 1.0);
        const double f1 = f * (1 + m);
        const double mark1 = ht_b76_price(HT_B76_CALL, f1, k, t, iv, 0.0) / f1;
        const double shortfall = -qty * (0.075 + mark1) - (equity + qty * (mark1 - mark0));
        if (side)
            assert_true(shortfall < 0.0);
        else
            assert_true(shortfall >= -1e-5);
    }
    /* A short call alone: a fall lowers its margin, so no fall liquidates; a vol rise does. */
    assert_true(isnan(d.spot_down_rel));
    assert_true(isfinite(d.vol_up) && d.vol_up > 0.0);
    /* Equity below maintenance: already liquidating. */
    assert_int_equal(ht_margin_distance_compute(HT_MARGIN_STANDARD, &p, &pos, 1, 0.5, 5.0, 0.95, 5.0, &d, NULL), 0);
    assert_true(d.already);
    ht_error err;
    assert_int_equal(ht_margin_distance_compute(HT_MARGIN_STANDARD, &p, &pos, 1, -1.0, 5.0, 0.95, 5.0, &d, &err), -1);
    assert_non_null(strstr(err.msg, "equity -1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inverse_future_documented),
        cmocka_unit_test(test_linear_perpetual_documented),
        cmocka_unit_test(test_inverse_option_rules),
        cmocka_unit_test(test_linear_option_is_inverse_in_usd),
        cmocka_unit_test(test_bad_inputs_named),
        cmocka_unit_test(test_perpetual_risk_vector_documented),
        cmocka_unit_test(test_pm_vols),
        cmocka_unit_test(test_pm_contingencies_documented),
        cmocka_unit_test(test_pm_grid_against_direct_revaluation),
        cmocka_unit_test(test_distance_standard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
