// SPDX-License-Identifier: MIT
// The peer comparison: hedgetrig's per-tick net-delta update (the pipeline's C model: one tick in, the book's net
// delta against its band out) against what a typical desk writes, a full QuantLib reprice of the same book on
// every tick (a SimpleQuote spot, one VanillaOption with an AnalyticEuropeanEngine per position, delta() summed).
// Both run side by side in this one program, on the same spot path, interleaved in blocks; both answers are
// compared (hedgetrig's Taylor expansion against QuantLib's exact delta). QuantLib lives here only, never in the
// product.
#include <ql/quantlib.hpp>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

extern "C" {
#include "hedgetrig/black76.h"
#include "hedgetrig/pipe.h"
#include "hedgetrig/pipe_synth.h"
#include "hedgetrig/profile.h"
#include "hedgetrig/tsc.h"
}

namespace ql = QuantLib;

namespace {

// One European option of the book.
struct Option {
    bool call;
    double strike, t_years, vol, qty;
};

// A book of n options around spot s0: strikes s0 exp(U(-0.25, 0.25)), 1 day to 6 months, vols 40%..90%,
// quantities +-U(1, 50) BTC. The same seed gives the same book.
std::vector<Option> make_book(size_t n, double s0, uint64_t seed)
{
    ht_rng rng{seed};
    std::vector<Option> book(n);
    for (auto &o : book) {
        o.call = ht_rng_next(&rng) & 1;
        o.strike = std::round(s0 * std::exp(ht_rng_uniform(&rng, -0.25, 0.25)) / 100.0) * 100.0;
        o.t_years = ht_rng_uniform(&rng, 1.0 / 365.0, 0.5);
        o.vol = ht_rng_uniform(&rng, 0.4, 0.9);
        o.qty = (ht_rng_next(&rng) & 1 ? 1.0 : -1.0) * ht_rng_uniform(&rng, 1.0, 50.0);
    }
    return book;
}

// The same book in QuantLib: a flat zero-rate curve, flat vols per option, a shared spot quote.
struct QlBook {
    ql::ext::shared_ptr<ql::SimpleQuote> spot;
    std::vector<ql::ext::shared_ptr<ql::VanillaOption>> options;
    std::vector<double> qty;

    QlBook(const std::vector<Option> &book, double s0)
    {
        ql::Date today(5, ql::January, 2024);
        ql::Settings::instance().evaluationDate() = today;
        ql::DayCounter dc = ql::Actual365Fixed();
        spot = ql::ext::make_shared<ql::SimpleQuote>(s0);
        ql::Handle<ql::Quote> spot_h(spot);
        ql::Handle<ql::YieldTermStructure> zero(ql::ext::make_shared<ql::FlatForward>(today, 0.0, dc));
        for (const auto &o : book) {
            ql::Handle<ql::BlackVolTermStructure> vol(
                ql::ext::make_shared<ql::BlackConstantVol>(today, ql::NullCalendar(), o.vol, dc));
            auto process = ql::ext::make_shared<ql::BlackScholesMertonProcess>(spot_h, zero, zero, vol);
            ql::Date expiry = today + (ql::Integer)std::lround(o.t_years * 365.0);
            auto payoff = ql::ext::make_shared<ql::PlainVanillaPayoff>(o.call ? ql::Option::Call : ql::Option::Put,
                                                                       o.strike);
            auto opt = ql::ext::make_shared<ql::VanillaOption>(payoff, ql::ext::make_shared<ql::EuropeanExercise>(expiry));
            opt->setPricingEngine(ql::ext::make_shared<ql::AnalyticEuropeanEngine>(process));
            options.push_back(opt);
            qty.push_back(o.qty);
        }
    }

    // A tick the lean way: QuantLib's BlackCalculator per option, no instruments or observers.
    double net_delta_calculator(const std::vector<Option> &book, double s) const
    {
        double sum = 0.0;
        for (const auto &o : book) {
            double t = std::lround(o.t_years * 365.0) / 365.0;
            ql::BlackCalculator calc(o.call ? ql::Option::Call : ql::Option::Put, o.strike, s, o.vol * std::sqrt(t),
                                     1.0);
            sum += o.qty * calc.delta(s);
        }
        return sum;
    }

    // A tick: the new spot, every option repriced, the book's delta.
    double net_delta(double s)
    {
        spot->setValue(s);
        double sum = 0.0;
        for (size_t i = 0; i < options.size(); i++)
            sum += qty[i] * options[i]->delta();
        return sum;
    }
};

// The book's greek table at s0 for the pipeline, from Black-76 on the forward (r = 0: the forward is the spot),
// with the expiries QuantLib uses (whole days).
std::vector<ht_pipe_position> make_table(const std::vector<Option> &book, double s0)
{
    std::vector<ht_pipe_position> rows;
    for (const auto &o : book) {
        ht_b76_greeks g;
        double t = std::lround(o.t_years * 365.0) / 365.0;
        if (ht_b76_compute(o.call ? HT_B76_CALL : HT_B76_PUT, s0, o.strike, t, o.vol, 0.0, &g) != 0)
            continue;
        rows.push_back(ht_pipe_position{0, o.qty, g.delta, g.gamma, g.speed, g.vanna, s0});
    }
    return rows;
}

// Nanoseconds of a TSC interval.
uint64_t ns_of(uint64_t ticks)
{
    return (uint64_t)(ht_tsc_to_ns(ticks) + 0.5);
}

// One book size: timing side by side, then the agreement of the two net deltas.
void run(size_t n, size_t ticks)
{
    const double s0 = 44000.0;
    std::vector<Option> book = make_book(n, s0, 1000 + n);
    QlBook qlb(book, s0);
    std::vector<ht_pipe_position> table = make_table(book, s0);
    ht_error err;
    ht_pipe *pipe = ht_pipe_create(nullptr, &err);
    double s0s[HT_PIPE_UNDERLYINGS] = {s0};
    if (!pipe || ht_pipe_load_book(pipe, table.data(), table.size(), s0s, &err) != 0 || ht_pipe_sync(pipe, &err) != 0 ||
        ht_pipe_set_band(pipe, 0, -1e9, 1e9, &err) != 0) {
        std::fprintf(stderr, "bench_peer: %s\n", err.msg);
        std::exit(1);
    }
    // A spot path: 1 bp steps around s0 (the Taylor expansion's own accuracy is docs/greeks.md's subject).
    ht_rng rng{7};
    std::vector<double> path(ticks);
    double s = s0;
    for (auto &p : path) {
        s *= 1.0 + ht_rng_uniform(&rng, -1e-4, 1e-4);
        s = std::min(std::max(s, s0 * 0.99), s0 * 1.01);
        p = s;
    }
    auto *ht_hist_ht = static_cast<ht_hist *>(std::malloc(sizeof(ht_hist)));
    auto *ht_hist_ql = static_cast<ht_hist *>(std::malloc(sizeof(ht_hist)));
    auto *ht_hist_bc = static_cast<ht_hist *>(std::malloc(sizeof(ht_hist)));
    ht_hist_reset(ht_hist_ht);
    ht_hist_reset(ht_hist_ql);
    ht_hist_reset(ht_hist_bc);
    volatile double sink = 0;
    const size_t block = 64;
    for (size_t start = 0; start < ticks; start += block) {
        size_t end = std::min(ticks, start + block);
        for (size_t i = start; i < end; i++) {
            uint64_t t0 = ht_tsc_now();
            ht_pipe_tick tick{0, i, path[i]};
            ht_pipe_push_tick(pipe, &tick);
            ht_pipe_event ev;
            int got = ht_pipe_poll_event(pipe, &ev);
            uint64_t t1 = ht_tsc_now();
            sink = sink + got;
            ht_hist_record(ht_hist_ht, ns_of(t1 - t0));
        }
        for (size_t i = start; i < end; i++) {
            uint64_t t0 = ht_tsc_now();
            double d = qlb.net_delta(path[i]);
            uint64_t t1 = ht_tsc_now();
            sink = sink + d;
            ht_hist_record(ht_hist_ql, ns_of(t1 - t0));
        }
        for (size_t i = start; i < end; i++) {
            uint64_t t0 = ht_tsc_now();
            double d = qlb.net_delta_calculator(book, path[i]);
            uint64_t t1 = ht_tsc_now();
            sink = sink + d;
            ht_hist_record(ht_hist_bc, ns_of(t1 - t0));
        }
    }
    // Agreement: a band that every tick breaches makes the pipeline report its net delta (re-armed each time).
    double worst = 0.0, gross = 0.0;
    for (const auto &r : table)
        gross += std::fabs(r.qty_x_mult * r.delta);
    for (size_t i = 0; i < ticks; i += std::max<size_t>(1, ticks / 200)) {
        ht_pipe_set_band(pipe, 0, 1e8, 1e9, &err);
        ht_pipe_tick tick{0, i, path[i]};
        ht_pipe_push_tick(pipe, &tick);
        ht_pipe_event ev;
        if (ht_pipe_poll_event(pipe, &ev) != 1) {
            std::fprintf(stderr, "bench_peer: no event at tick %zu\n", i);
            std::exit(1);
        }
        worst = std::max(worst, std::fabs(ev.net_delta_contracts - qlb.net_delta(path[i])));
    }
    uint64_t ht50 = ht_hist_quantile(ht_hist_ht, 0.5), ht99 = ht_hist_quantile(ht_hist_ht, 0.99);
    uint64_t ql50 = ht_hist_quantile(ht_hist_ql, 0.5), ql99 = ht_hist_quantile(ht_hist_ql, 0.99);
    uint64_t bc50 = ht_hist_quantile(ht_hist_bc, 0.5);
    std::printf("%9zu %8zu %8" PRIu64 " %8" PRIu64 " %11" PRIu64 " %11" PRIu64 " %9.0f %9.0f %10" PRIu64
                " %9.0f %11.2e %9.2e\n",
                n, ticks, ht50, ht99, ql50, ql99, (double)ql50 / (double)std::max<uint64_t>(ht50, 1),
                ht_hist_mean(ht_hist_ql) / std::max(ht_hist_mean(ht_hist_ht), 1.0), bc50,
                (double)bc50 / (double)std::max<uint64_t>(ht50, 1), worst, worst / gross);
    std::free(ht_hist_ht);
    std::free(ht_hist_ql);
    std::free(ht_hist_bc);
    ht_pipe_destroy(pipe);
}

} // namespace

int main(int argc, char **argv)
{
    size_t ticks = argc > 1 ? (size_t)std::strtoull(argv[1], nullptr, 10) : 20000;
    ht_tsc_calibrate(0);
    std::printf("per tick, ns (same spot path, interleaved blocks of 64 ticks; QuantLib %s, AnalyticEuropeanEngine):\n",
                QL_VERSION);
    std::printf("%9s %8s %8s %8s %11s %11s %9s %9s %10s %9s %11s %9s\n", "positions", "ticks", "ht p50", "ht p99",
                "QL p50", "QL p99", "p50 x", "mean x", "QL-BC p50", "BC p50 x", "max |diff|", "/ gross");
    for (size_t n : {11, 76, 1000, 4096})
        run(n, n >= 1000 ? std::max<size_t>(ticks / 20, 200) : ticks);
    std::printf("hedgetrig: one tick through the C model (push + poll, constant in the book size: A, B, C, V are\n"
                "folded once per refresh). QL: spot set, every VanillaOption's delta recomputed (instruments,\n"
                "engines, observers: what a desk writes). QL-BC: QuantLib's BlackCalculator per option, the lean way.\n"
                "x: QuantLib's time over hedgetrig's. |diff|: hedgetrig's\n"
                "second-order Taylor net delta against QuantLib's exact one on moves up to 1%%, in BTC and as a\n"
                "fraction of the book's gross delta.\n");
    return 0;
}
