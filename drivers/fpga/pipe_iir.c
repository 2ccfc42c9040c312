/* SPDX-License-Identifier: MIT */
/* The tick low-pass: designed with liquid-dsp on the host, quantised to the RTL's coefficient format. */
#include <liquid/liquid.h>
#include <math.h>

#include "hedgetrig/pipe.h"

int ht_pipe_iir_design_lowpass(unsigned order, double cutoff, ht_pipe_iir *out, ht_error *err)
{
    if (order < 1 || order > 2)
        return ht_error_set(err, "IIR design: order %u not supported (1 or 2: one second-order section)", order);
    if (!(cutoff > 0.0 && cutoff < 0.5))
        return ht_error_set(err, "IIR design: cutoff %g must lie in (0, 0.5) (a fraction of the tick rate)", cutoff);
    float b[3] = {0}, a[3] = {0};
    if (liquid_iirdes(LIQUID_IIRDES_BUTTER, LIQUID_IIRDES_LOWPASS, LIQUID_IIRDES_TF, order, (float)cutoff, 0.0f,
                      1.0f, 60.0f, b, a) != 0 ||
        !(a[0] != 0.0f))
        return ht_error_set(err, "IIR design: liquid-dsp could not design a Butterworth order %u, cutoff %g", order,
                            cutoff);
    /* Normalise to a0 = 1: the RTL has no a0. */
    double coef[5] = {b[0] / (double)a[0], b[1] / (double)a[0], b[2] / (double)a[0], a[1] / (double)a[0],
                      a[2] / (double)a[0]};
    for (int i = 0; i < 5; i++) {
        out->coef[i] = coef[i];
        if (fabs(coef[i]) >= 2.0)
            return ht_error_set(err, "IIR design: coefficient %d = %g is outside the register range [-2, 2)", i,
                                coef[i]);
        ht_fx_from_double(coef[i], HT_FX_IIR_COEF_FRAC, &out->coef_fx[i]);
    }
    /* Unit DC gain exactly: b0 + b1 + b2 = 1 + a1 + a2 in integers, so a constant price passes unchanged. */
    const int64_t one = (int64_t)1 << HT_FX_IIR_COEF_FRAC;
    out->coef_fx[1] = one + out->coef_fx[3] + out->coef_fx[4] - out->coef_fx[0] - out->coef_fx[2];
    return 0;
}
