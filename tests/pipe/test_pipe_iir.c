/* SPDX-License-Identifier: MIT */
/* The tick low-pass: liquid-dsp's design, quantised, against liquid-dsp's own filter and a double reference. */
#include <complex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <liquid/liquid.h>

#include "hedgetrig/pipe.h"
#include "hedgetrig/pipe_synth.h"

/* Opens a sw pipe with an always-breaching band on underlying u, so every tick reports its filtered price. */
static ht_pipe *open_probe_pipe(unsigned u)
{
    ht_error err = {{0}};
    ht_pipe *pipe = ht_pipe_create(NULL, &err);
    if (!pipe || ht_pipe_set_band(pipe, u, -2.0e9, -2.0e9, &err) != 0)
        fail_msg("%s", err.msg);
    return pipe;
}

/* Pushes a tick and returns the price the pipeline used (after the filter). */
static double filtered_price(ht_pipe *pipe, unsigned u, uint64_t seq, double spot, int64_t *fx)
{
    ht_pipe_event ev;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_push_tick(pipe, &(ht_pipe_tick){.underlying = u, .seq = seq, .spot_usd = spot}), 0);
    assert_int_equal(ht_pipe_poll_event(pipe, &ev), 1);
    if (ht_pipe_rearm(pipe, u, &err) != 0)
        fail_msg("%s", err.msg);
    if (fx)
        *fx = ev.price_fx;
    return ev.spot_usd;
}

/* The quantised design has unit DC gain exactly and stays within a few LSBs of liquid-dsp's coefficients. */
static void design_quantises_with_exact_dc_gain(void **state)
{
    (void)state;
    const double cutoffs[] = {0.01, 0.05, 0.2, 0.45};
    for (size_t k = 0; k < HT_ARRAY_LEN(cutoffs); k++) {
        for (unsigned order = 1; order <= 2; order++) {
            ht_pipe_iir iir;
            ht_error err = {{0}};
            if (ht_pipe_iir_design_lowpass(order, cutoffs[k], &iir, &err) != 0)
                fail_msg("%s", err.msg);
            const int64_t one = (int64_t)1 << HT_FX_IIR_COEF_FRAC;
            assert_true(iir.coef_fx[0] + iir.coef_fx[1] + iir.coef_fx[2] == one + iir.coef_fx[3] + iir.coef_fx[4]);
            /* liquid-dsp designs in single precision; check against its coefficients directly. */
            float b[3] = {0}, a[3] = {0};
            assert_int_equal(liquid_iirdes(LIQUID_IIRDES_BUTTER, LIQUID_IIRDES_LOWPASS, LIQUID_IIRDES_TF, order,
                                           (float)cutoffs[k], 0.0f, 1.0f, 60.0f, b, a),
                             0);
            double want[5] = {b[0] / a[0], b[1] / a[0], b[2] / a[0], a[1] / a[0], a[2] / a[0]};
            for (int i = 0; i < 5; i++) {
                double got = ht_fx_to_double(iir.coef_fx[i], HT_FX_IIR_COEF_FRAC);
                assert_true(fabs(got - want[i]) < 1e-6); /* b1 absorbs the float design's DC-gain error */
            }
            if (order == 1)
                assert_true(iir.coef_fx[2] == 0 && iir.coef_fx[4] == 0);
        }
    }
    ht_pipe_iir iir;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_iir_design_lowpass(3, 0.1, &iir, &err), -1);
    assert_non_null(strstr(err.msg, "order 3"));
    assert_int_equal(ht_pipe_iir_design_lowpass(2, 0.5, &iir, &err), -1);
    assert_non_null(strstr(err.msg, "cutoff"));
}

/* The frequency response of the quantised coefficients equals liquid-dsp's filter's response. */
static void frequency_response_matches_liquid(void **state)
{
    (void)state;
    ht_pipe_iir iir;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_iir_design_lowpass(2, 0.05, &iir, &err), 0);
    iirfilt_rrrf q = iirfilt_rrrf_create_prototype(LIQUID_IIRDES_BUTTER, LIQUID_IIRDES_LOWPASS, LIQUID_IIRDES_TF, 2,
                                                   0.05f, 0.0f, 1.0f, 60.0f);
    assert_non_null(q);
    double c[5];
    for (int i = 0; i < 5; i++)
        c[i] = ht_fx_to_double(iir.coef_fx[i], HT_FX_IIR_COEF_FRAC);
    for (double f = 0.0; f < 0.5; f += 0.01) {
        double complex z1 = cexp(-2.0 * I * M_PI * f), z2 = z1 * z1;
        double complex h = (c[0] + c[1] * z1 + c[2] * z2) / (1.0 + c[3] * z1 + c[4] * z2);
        liquid_float_complex hl;
        iirfilt_rrrf_freqresponse(q, (float)f, &hl);
        /* liquid-dsp evaluates at z = e^{-j w} (the conjugate of H(e^{j w})): same filter, mirrored phase. */
        assert_true(cabs(h - conj((double complex)hl)) < 2e-6);
    }
    /* -3 dB at the cutoff, as a Butterworth should be. */
    double complex z1 = cexp(-2.0 * I * M_PI * 0.05), z2 = z1 * z1;
    double gain = cabs((c[0] + c[1] * z1 + c[2] * z2) / (1.0 + c[3] * z1 + c[4] * z2));
    assert_true(fabs(gain - M_SQRT1_2) < 1e-4);
    iirfilt_rrrf_destroy(q);
}

/* A constant price passes the filter unchanged, bit for bit, however long it runs. */
static void constant_price_passes_exactly(void **state)
{
    (void)state;
    ht_pipe *pipe = open_probe_pipe(6);
    ht_pipe_iir iir;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_iir_design_lowpass(2, 0.02, &iir, &err), 0);
    assert_int_equal(ht_pipe_set_filter(pipe, 6, &iir, &err), 0);
    int64_t want;
    ht_fx_from_double(25448.57, HT_FX_PRICE_FRAC, &want);
    for (int t = 0; t < 500; t++) {
        int64_t got;
        filtered_price(pipe, 6, (uint64_t)t, 25448.57, &got);
        assert_true(got == want);
    }
    ht_pipe_counters cnt;
    assert_int_equal(ht_pipe_read_counters(pipe, &cnt, &err), 0);
    assert_int_equal(cnt.iir_mask, 1u << 6);
    assert_int_equal(cnt.flags, 0);
    ht_pipe_destroy(pipe);
}

/* On a random walk around a BTC price, the fixed-point filter tracks a double-precision direct form I with
 * the designed coefficients to 1e-6 USD, and liquid-dsp's single-precision filter on the deviations to
 * float accuracy; switching the filter off passes raw prices again. */
static void time_response_matches_references(void **state)
{
    (void)state;
    const unsigned u = 9;
    ht_pipe *pipe = open_probe_pipe(u);
    ht_pipe_iir iir;
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_iir_design_lowpass(2, 0.05, &iir, &err), 0);
    assert_int_equal(ht_pipe_set_filter(pipe, u, &iir, &err), 0);
    iirfilt_rrrf q = iirfilt_rrrf_create_prototype(LIQUID_IIRDES_BUTTER, LIQUID_IIRDES_LOWPASS, LIQUID_IIRDES_TF, 2,
                                                   0.05f, 0.0f, 1.0f, 60.0f);
    ht_rng rng = {3};
    const double x0 = 25000.0;
    double x = x0, x1 = x0, x2 = x0, y1 = x0, y2 = x0, worst_double = 0.0, worst_liquid = 0.0;
    /* The reference runs the quantised coefficients in double: what is left is the datapath's rounding.
     * (liquid-dsp's float design misses unit DC gain by ~1e-6, 0.1 USD on a 25k price; b1 absorbs that.) */
    double c[5];
    for (int i = 0; i < 5; i++)
        c[i] = ht_fx_to_double(iir.coef_fx[i], HT_FX_IIR_COEF_FRAC);
    for (int t = 0; t < 3000; t++) {
        if (t > 0)
            x += ht_rng_uniform(&rng, -5.0, 5.0);
        x = round(x * 100.0) / 100.0; /* index prices have cents */
        double got = filtered_price(pipe, u, (uint64_t)t, x, NULL);
        double want = t == 0 ? x : c[0] * x + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;
        if (t > 0) {
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = want;
        }
        float liquid_out;
        iirfilt_rrrf_execute(q, (float)(x - x0), &liquid_out);
        worst_double = fmax(worst_double, fabs(got - want));
        worst_liquid = fmax(worst_liquid, fabs((got - x0) - liquid_out));
    }
    print_message("IIR vs double DF-I: %.3g USD; vs liquid-dsp (float): %.3g USD\n", worst_double, worst_liquid);
    assert_true(worst_double < 1e-6);
    assert_true(worst_liquid < 1e-2); /* float carries ~7 digits of deviations up to a few hundred USD */
    iirfilt_rrrf_destroy(q);
    /* Off: raw prices again. */
    assert_int_equal(ht_pipe_set_filter(pipe, u, NULL, &err), 0);
    int64_t got, want;
    filtered_price(pipe, u, 9999, 26000.01, &got);
    ht_fx_from_double(26000.01, HT_FX_PRICE_FRAC, &want);
    assert_true(got == want);
    ht_pipe_destroy(pipe);
}

/* A coefficient outside the register range is refused by the API; written raw, the RTL clamps it and flags. */
static void out_of_range_coefficients(void **state)
{
    (void)state;
    ht_pipe *pipe = open_probe_pipe(0);
    ht_pipe_iir iir = {.coef_fx = {INT64_MAX, 0, 0, 0, 0}};
    ht_error err = {{0}};
    assert_int_equal(ht_pipe_set_filter(pipe, 0, &iir, &err), -1);
    assert_non_null(strstr(err.msg, "coefficient 0"));
    uint32_t base = HT_PIPE_REG_UND_BASE + HT_PIPE_UREG_IIR_B0;
    assert_int_equal(ht_pipe_reg_write64(pipe, base, (uint64_t)INT64_MAX, &err), 0);
    assert_int_equal(ht_pipe_reg_write(pipe, HT_PIPE_REG_UND_BASE + HT_PIPE_UREG_IIR_CTRL, 1, &err), 0);
    ht_pipe_counters cnt;
    assert_int_equal(ht_pipe_read_counters(pipe, &cnt, &err), 0);
    assert_true(cnt.flags & HT_PIPE_FLAG_IIR_COEF);
    ht_pipe_destroy(pipe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(design_quantises_with_exact_dc_gain),
        cmocka_unit_test(frequency_response_matches_liquid),
        cmocka_unit_test(constant_price_passes_exactly),
        cmocka_unit_test(time_response_matches_references),
        cmocka_unit_test(out_of_range_coefficients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
