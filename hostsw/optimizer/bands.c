/* SPDX-License-Identifier: MIT */
/* Band formulas (Whalley-Wilmott, Zakamouline, Leland) and the strategy spec parser. Pure functions. */
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/optimizer.h"
#include "hedgetrig/parse.h"

/* One second in years: the floor on time to expiry where a formula divides by it or takes its log. */
#define TAU_FLOOR_YEARS (1.0 / HT_OPT_SECONDS_PER_YEAR)

/* Cube root of x > 0: an estimate from the exponent bits (within 4 %), then three Halley steps
 * y <- y (y^3 + 2x) / (2y^3 + x), each tripling the correct digits: within 4 ulp of libm's cbrt (a test), at a
 * fraction of its cost (glibc's goes through frexp and ldexp). */
static double cbrt_pos(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits = bits / 3 + 0x2A9F7893782DA1CEull; /* divides the biased exponent by 3 */
    double y;
    memcpy(&y, &bits, sizeof y);
    for (int i = 0; i < 3; i++) {
        double y3 = y * y * y;
        y *= (y3 + 2.0 * x) / (2.0 * y3 + x);
    }
    return y;
}

double ht_opt_ww_half_width(double gamma_book, double spot, double tau_years, double rate, double k,
                            double risk_aversion)
{
    if (!(k > 0.0) || gamma_book == 0.0 || !(spot > 0.0) || !(risk_aversion > 0.0))
        return 0.0;
    double tau = tau_years > 0.0 ? tau_years : 0.0;
    double discount = rate != 0.0 ? exp(-rate * tau) : 1.0;
    double x = 1.5 * discount * k * spot * gamma_book * gamma_book / risk_aversion;
    return x > 0.0 && x < INFINITY ? cbrt_pos(x) : cbrt(x);
}

double ht_opt_zak(double gamma_book, double spot, double tau_years, double rate, double vol, double k,
                  double risk_aversion, ht_opt_zak_terms *out)
{
    ht_opt_zak_terms t = {0.0, 0.0, 0.0, vol};
    if (k > 0.0 && spot > 0.0 && vol > 0.0 && risk_aversion > 0.0) {
        double tau = tau_years > TAU_FLOOR_YEARS ? tau_years : TAU_FLOOR_YEARS;
        double abs_gamma = fabs(gamma_book);
        double log_k = log(k);
        double log_tau = log(tau);
        double log_disc_vol = -rate * tau - log(vol); /* log(e^{-r tau} / sigma) */
        t.h0 = k / (risk_aversion * spot * vol * vol * tau);
        if (abs_gamma > 0.0) {
            t.h1 = 1.12 * exp(0.31 * log_k + 0.05 * log_tau + 0.25 * log_disc_vol) * sqrt(abs_gamma / risk_aversion);
            t.kappa = -4.76 * exp(0.78 * log_k - 0.02 * log_tau + 0.25 * log_disc_vol +
                                  0.15 * log(risk_aversion * spot * spot * abs_gamma));
            double side = gamma_book > 0.0 ? 1.0 : -1.0; /* long gamma narrows the vol, short gamma widens it */
            double factor = 1.0 + side * t.kappa;
            if (factor < 1e-4)
                factor = 1e-4;
            t.vol_mod = vol * sqrt(factor);
        }
    }
    if (out)
        *out = t;
    return t.h0 + t.h1;
}

double ht_opt_leland_vol(double vol, double k, double dt_years, double gamma_book)
{
    if (!(k > 0.0) || !(dt_years > 0.0) || !(vol > 0.0) || gamma_book == 0.0)
        return vol;
    double leland_number = sqrt(8.0 / M_PI) * k / (vol * sqrt(dt_years));
    double side = gamma_book < 0.0 ? 1.0 : -1.0; /* the writer (short gamma) hedges at a higher vol */
    double factor = 1.0 + side * leland_number;
    if (factor < 1e-4)
        factor = 1e-4;
    return vol * sqrt(factor);
}

double ht_opt_hedge_vol(const ht_opt_strategy *s, double gamma_book, double spot, double tau_years, double rate,
                        double vol, double k)
{
    switch (s->rule) {
    case HT_OPT_RULE_ZAK: {
        ht_opt_zak_terms t;
        ht_opt_zak(gamma_book, spot, tau_years, rate, vol, k, s->param, &t);
        return t.vol_mod;
    }
    case HT_OPT_RULE_LELAND:
        return ht_opt_leland_vol(vol, k, (double)s->interval_ns * 1e-9 / HT_OPT_SECONDS_PER_YEAR, gamma_book);
    default:
        return vol;
    }
}

void ht_opt_strategy_init(ht_opt_strategy *s, ht_opt_rule rule, double param)
{
    memset(s, 0, sizeof *s);
    s->rule = rule;
    s->param = param;
    s->target = HT_OPT_TARGET_AUTO;
}

/* Parses a whole positive number out of [text, text+len) (whatever strtod reads: leading blanks and hexadecimal
 * floats too); returns false when it is not one. */
static bool parse_positive(const char *text, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    double v;
    if (ht_parse_double(buf, HT_PARSE_STRTOD_GRAMMAR, &v) != HT_PARSE_OK || !(v > 0.0))
        return false;
    *out = v;
    return true;
}

int ht_opt_strategy_parse(const char *spec, int64_t step_ns, ht_opt_strategy *s, ht_error *err)
{
    if (!spec || !*spec)
        return ht_error_set(err, "strategy: empty spec (expected e.g. time:1, ww:1,edge, zak:1, move:0.01, fixed:0.1)");
    if (step_ns <= 0)
        return ht_error_set(err, "strategy '%s': step length must be > 0 ns", spec);
    const char *colon = strchr(spec, ':');
    if (!colon)
        return ht_error_set(err, "strategy '%s': expected NAME:VALUE (time:N, leland:N, move:H, ww:G, zak:G, fixed:X)",
                            spec);
    size_t name_len = (size_t)(colon - spec);
    const char *value = colon + 1;
    const char *comma = strchr(value, ',');
    size_t value_len = comma ? (size_t)(comma - value) : strlen(value);
    ht_opt_rule rule = HT_OPT_RULE_COUNT; /* the first rule of that name: FIXED for "fixed" (FIXED_PCT by its %) */
    for (int r = 0; r < HT_OPT_RULE_COUNT; r++) {
        const char *name = ht_opt_rule_traits_of((ht_opt_rule)r)->name;
        if (strlen(name) == name_len && strncmp(spec, name, name_len) == 0) {
            rule = (ht_opt_rule)r;
            break;
        }
    }
    if (rule == HT_OPT_RULE_COUNT)
        return ht_error_set(err, "strategy '%s': unknown rule '%.*s' (expected time, leland, move, ww, zak, fixed)",
                            spec, (int)name_len, spec);
    const bool timed = ht_opt_rule_traits_of(rule)->timed;
    bool percent = false;
    if (rule == HT_OPT_RULE_FIXED && value_len > 0 && value[value_len - 1] == '%') {
        percent = true;
        value_len--;
    }
    double v = 0.0;
    if (!parse_positive(value, value_len, &v))
        return ht_error_set(err, "strategy '%s': value '%.*s' is not a positive number", spec, (int)value_len, value);
    ht_opt_target target = HT_OPT_TARGET_AUTO;
    if (comma) {
        const char *t = comma + 1;
        if (strcmp(t, "edge") == 0)
            target = HT_OPT_TARGET_EDGE;
        else if (strcmp(t, "center") == 0 || strcmp(t, "centre") == 0)
            target = HT_OPT_TARGET_CENTRE;
        else
            return ht_error_set(err, "strategy '%s': sizing '%s' is not edge or center", spec, t);
        if (timed)
            return ht_error_set(err, "strategy '%s': time-based rules always hedge to the centre; drop ',%s'", spec, t);
    }
    ht_opt_strategy_init(s, rule, v);
    s->target = target;
    if (timed) {
        if (v != floor(v) || v > 1e9)
            return ht_error_set(err, "strategy '%s': N must be a whole number of steps (1..1e9)", spec);
        if (v * (double)step_ns > 1e18)
            return ht_error_set(err, "strategy '%s': N steps of %lld ns is longer than 1e18 ns", spec,
                                (long long)step_ns);
        s->interval_ns = (int64_t)v * step_ns;
        s->param = 0.0;
    } else if (percent) {
        if (v > 1000.0)
            return ht_error_set(err, "strategy '%s': percent of gross delta must be <= 1000", spec);
        s->rule = HT_OPT_RULE_FIXED_PCT;
        s->param = v / 100.0;
    }
    return 0;
}

const char *ht_opt_strategy_name(const ht_opt_strategy *s, int64_t step_ns, char *buf, size_t len)
{
    const char *suffix = s->target == HT_OPT_TARGET_EDGE     ? ",edge"
                         : s->target == HT_OPT_TARGET_CENTRE ? ",center"
                                                             : "";
    if (len == 0)
        return buf;
    const ht_opt_rule_traits *rule = ht_opt_rule_traits_of(s->rule);
    if (rule && rule->timed)
        snprintf(buf, len, "%s:%lld", rule->name, (long long)(step_ns > 0 ? s->interval_ns / step_ns : s->interval_ns));
    else if (s->rule == HT_OPT_RULE_FIXED_PCT)
        snprintf(buf, len, "fixed:%g%%%s", s->param * 100.0, suffix);
    else
        snprintf(buf, len, "%s:%g%s", rule ? rule->name : "?", s->param, suffix);
    return buf;
}
