/* SPDX-License-Identifier: MIT */
/* The quantity conversions (hedgetrig/units.h) against hand-worked examples of Deribit's contract definitions
 * (BTC-PERPETUAL: 10 USD a contract; BTC_USDC-PERPETUAL: 0.001 BTC; options: 1 BTC), and round trips. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/units.h"

/* True when a and b agree to 1e-12 relative. */
static bool close_to(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

/* 16.19 coin at 44,000 USD: 71,236 contracts of 10 USD (712,360 USD), or 16,190 contracts of 0.001 BTC. */
static void worked_examples(void **state)
{
    (void)state;
    const ht_contract perp = {HT_CONTRACT_INVERSE, 10.0}, usdc = {HT_CONTRACT_LINEAR, 0.001};
    assert_true(close_to(ht_units_coin_to_contracts(&perp, 16.19, 44000), 71236));
    assert_true(close_to(ht_units_contracts_to_coin(&perp, 71236, 44000), 16.19));
    assert_true(close_to(ht_units_contracts_to_amount(&perp, 71236), 712360)); /* USD: what 854=0 would carry */
    assert_true(close_to(ht_units_contracts_to_usd(&perp, 71236, 44000), 712360));
    assert_true(close_to(ht_units_contracts_to_usd(&perp, 71236, 20000), 712360)); /* the price does not enter */
    assert_true(close_to(ht_units_fee_settlement(&perp, 71236, 44000, 5e-4), 356.18 / 44000)); /* BTC */
    assert_true(close_to(ht_units_coin_to_contracts(&usdc, 16.19, 44000), 16190));
    assert_true(close_to(ht_units_contracts_to_coin(&usdc, 16190, 12345), 16.19)); /* the price does not enter */
    assert_true(close_to(ht_units_contracts_to_amount(&usdc, 16190), 16.19));      /* coins */
    assert_true(close_to(ht_units_contracts_to_usd(&usdc, 16190, 44000), 712360));
    assert_true(close_to(ht_units_fee_settlement(&usdc, 16190, 44000, 5e-4), 356.18)); /* USDC */
    assert_true(close_to(ht_units_amount_to_contracts(&perp, 1000), 100));
    assert_true(ht_units_amount_per_coin(&perp, 44000) == 44000 && ht_units_amount_per_coin(&usdc, 44000) == 1);
    assert_true(close_to(ht_units_amount_to_contracts(&usdc, 0.5), 500));
}

/* coin -> contracts -> coin and contracts -> amount -> contracts return where they started. */
static void round_trips(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        ht_contract c = {i % 2 ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR, i % 2 ? 1.0 + (i % 10) : 0.001 * (1 + i % 7)};
        double coin = (u - 0.5) * 200, px = 100 + u * 1e5;
        assert_true(close_to(ht_units_contracts_to_coin(&c, ht_units_coin_to_contracts(&c, coin, px), px), coin));
        /* The optimizer's path (coin -> Deribit amount -> contracts) agrees with the direct conversion. */
        double via_amount = ht_units_amount_to_contracts(&c, coin * ht_units_amount_per_coin(&c, px));
        assert_true(close_to(via_amount, ht_units_coin_to_contracts(&c, coin, px)));
        double contracts = floor(u * 1e6);
        assert_true(close_to(ht_units_amount_to_contracts(&c, ht_units_contracts_to_amount(&c, contracts)), contracts));
    }
}

/* A contract's description is checked, and an instrument record gives the right kind. */
static void descriptions_are_checked(void **state)
{
    (void)state;
    ht_contract c;
    ht_error err;
    assert_int_equal(ht_contract_set(&c, HT_CONTRACT_INVERSE, 10, &err), 0);
    assert_true(c.kind == HT_CONTRACT_INVERSE && c.size == 10);
    assert_int_equal(ht_contract_set(&c, HT_CONTRACT_LINEAR, 0, &err), -1);
    assert_non_null(strstr(err.msg, "contract size"));
    assert_int_equal(ht_contract_set(&c, HT_CONTRACT_LINEAR, NAN, &err), -1);
    assert_int_equal(ht_contract_set(&c, HT_CONTRACT_LINEAR, INFINITY, &err), -1);
    assert_int_equal(ht_contract_set(&c, (ht_contract_kind)7, 1, &err), -1);
    assert_non_null(strstr(err.msg, "kind"));

    ht_instrument in;
    memset(&in, 0, sizeof in);
    snprintf(in.name, sizeof in.name, "BTC-PERPETUAL");
    in.kind = HT_INST_FUTURE;
    in.inverse = true;
    in.contract_size = 10;
    assert_int_equal(ht_contract_from_instrument(&in, &c, &err), 0);
    assert_true(c.kind == HT_CONTRACT_INVERSE && c.size == 10);
    in.inverse = false; /* BTC_USDC-PERPETUAL */
    in.contract_size = 0.001;
    assert_int_equal(ht_contract_from_instrument(&in, &c, &err), 0);
    assert_true(c.kind == HT_CONTRACT_LINEAR && c.size == 0.001);
    in.kind = HT_INST_OPTION; /* an inverse (coin-settled) option is sized in coins */
    in.inverse = true;
    in.contract_size = 1;
    assert_int_equal(ht_contract_from_instrument(&in, &c, &err), 0);
    assert_true(c.kind == HT_CONTRACT_LINEAR && c.size == 1);
    in.contract_size = -1;
    assert_int_equal(ht_contract_from_instrument(&in, &c, &err), -1);
    assert_non_null(strstr(err.msg, "BTC-PERPETUAL"));
    assert_string_equal(ht_contract_kind_name(HT_CONTRACT_INVERSE), "inverse");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(worked_examples),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(descriptions_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
