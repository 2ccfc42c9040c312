// SPDX-License-Identifier: MIT
// Benchmark: a full greek-table recompute for books of 78 and 4096 positions, in ns per position, next to
// QuantLib's AnalyticEuropeanEngine repricing the same book in the same run. Not a test: it prints medians
// and percentiles (bench/README.md records them with this command).
#include <ql/exercise.hpp>
#include <ql/instruments/vanillaoption.hpp>
#include <ql/pricingengines/vanilla/analyticeuropeanengine.hpp>
#include <ql/processes/blackscholesprocess.hpp>
#include <ql/quotes/simplequote.hpp>
#include <ql/settings.hpp>
#include <ql/termstructures/volatility/equityfx/blackconstantvol.hpp>
#include <ql/termstructures/yield/flatforward.hpp>
#include <ql/time/calendars/nullcalendar.hpp>
#include <ql/time/daycounters/actual365fixed.hpp>

#include <boost/date_time/posix_time/posix_time.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "hedgetrig/black76.h"
#include "hedgetrig/greeks.h"
#include "synth_book.h"

namespace ql = QuantLib;
namespace ext = QuantLib::ext;

namespace {

const uint64_t kNowMs = 1686830400000ull; // 2023-06-15 12:00 UTC
const double kSpot = 25441.7;
double g_sink = 0.0; // keeps results alive

// Nanoseconds per position of `work` over `repeats` runs: median, p10, p90.
struct Timing {
    double p10, median, p90;
};
Timing time_per_position(size_t positions, int repeats, const std::function<void()> &work)
{
    std::vector<double> ns;
    work(); // warm-up
    for (int r = 0; r < repeats; r++) {
        const auto t0 = std::chrono::steady_clock::now();
        work();
        const auto t1 = std::chrono::steady_clock::now();
        ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / (double)positions);
    }
    std::sort(ns.begin(), ns.end());
    auto pct = [&](double p) { return ns[std::min(ns.size() - 1, (size_t)(p * (double)(ns.size() - 1) + 0.5))]; };
    return {pct(0.10), pct(0.50), pct(0.90)};
}

void print_row(const char *what, size_t n, const Timing &t)
{
    std::printf("%-58s %6zu %10.1f %10.1f %10.1f\n", what, n, t.median, t.p10, t.p90);
}

// One QuantLib option of the book with its own vol quote (each position has its own implied vol).
struct QlOption {
    ext::shared_ptr<ql::SimpleQuote> vol;
    ext::shared_ptr<ql::VanillaOption> option;
    ext::shared_ptr<ql::GeneralizedBlackScholesProcess> process;
    double price;
};

void run(size_t n_options, int repeats)
{
    ht_positions *book = synth_book(n_options, kSpot, kNowMs, 42);
    const size_t n = ht_positions_count(book); // options + the perpetual
    ht_greeks_config cfg;
    ht_greeks_config_default(&cfg);
    cfg.forward = HT_FORWARD_INDEX;
    cfg.refresh.adaptive = false;
    ht_error err;
    ht_greeks *g = ht_greeks_create(&cfg, book, &err);
    cfg.refresh.adaptive = true;
    ht_greeks *g_adaptive = ht_greeks_create(&cfg, book, &err);
    synth_market(g, book, kSpot, 0.55, kNowMs);
    synth_market(g_adaptive, book, kSpot, 0.55, kNowMs);
    if (ht_greeks_recompute(g, kNowMs) != n_options) {
        std::fprintf(stderr, "bench: only part of the synthetic book priced\n");
        std::exit(1);
    }

    // The same options for QuantLib: Black-Scholes-Merton on the index with r = q = 0 (so F = S, as in the
    // Black-76 setup above) and each option's implied vol from hostsw/greeks.
    ql::Date today(15, ql::June, 2023, 12, 0, 0);
    ql::Settings::instance().evaluationDate() = today;
    ql::DayCounter dc = ql::Actual365Fixed();
    auto spot = ext::make_shared<ql::SimpleQuote>(kSpot);
    ql::Handle<ql::YieldTermStructure> flat(ext::make_shared<ql::FlatForward>(today, 0.0, dc));
    std::vector<QlOption> qopts;
    for (size_t i = 0; i < n; i++) {
        const ht_greeks_result *r = ht_greeks_result_at(g, i);
        if (!r->in_table)
            continue;
        QlOption q;
        q.vol = ext::make_shared<ql::SimpleQuote>(r->iv);
        q.process = ext::make_shared<ql::BlackScholesMertonProcess>(
            ql::Handle<ql::Quote>(spot), flat, flat,
            ql::Handle<ql::BlackVolTermStructure>(ext::make_shared<ql::BlackConstantVol>(
                today, ql::NullCalendar(), ql::Handle<ql::Quote>(q.vol), dc)));
        const ql::Date expiry(today.dateTime() +
                              boost::posix_time::milliseconds((long)(r->pos->spec.expiry_ms - kNowMs)));
        q.option = ext::make_shared<ql::VanillaOption>(
            ext::make_shared<ql::PlainVanillaPayoff>(
                r->pos->spec.option_type == HT_B76_CALL ? ql::Option::Call : ql::Option::Put, r->pos->spec.strike),
            ext::make_shared<ql::EuropeanExercise>(expiry));
        q.option->setPricingEngine(ext::make_shared<ql::AnalyticEuropeanEngine>(q.process));
        q.price = r->price_usd;
        qopts.push_back(q);
    }
    const size_t m = qopts.size();

    // hostsw/greeks: the whole recompute (forward, IV from the mark, greeks, flags, aggregates, table rows).
    print_row("hostsw/greeks recompute: IV + greeks + table", n,
              time_per_position(n, repeats, [&] { ht_greeks_recompute(g, kNowMs); }));
    print_row("hostsw/greeks recompute + adaptive refresh thresholds", n,
              time_per_position(n, repeats, [&] { ht_greeks_recompute(g_adaptive, kNowMs); }));
    // The two parts on their own, over the options.
    std::vector<const ht_greeks_result *> res;
    for (size_t i = 0; i < n; i++)
        if (ht_greeks_result_at(g, i)->in_table)
            res.push_back(ht_greeks_result_at(g, i));
    print_row("Black-76 implied vol from price (ht_b76_implied_vol)", m, time_per_position(m, repeats, [&] {
                  for (const ht_greeks_result *r : res)
                      g_sink += ht_b76_implied_vol(r->pos->spec.option_type, r->forward, r->pos->spec.strike,
                                                   r->t_years, 0.0, r->price_usd)
                                    .sigma;
              }));
    print_row("Black-76 price + 7 greeks at a known vol (ht_b76_compute)", m, time_per_position(m, repeats, [&] {
                  ht_b76_greeks b;
                  for (const ht_greeks_result *r : res) {
                      ht_b76_compute(r->pos->spec.option_type, r->forward, r->pos->spec.strike, r->t_years, r->iv,
                                     0.0, &b);
                      g_sink += b.delta;
                  }
              }));
    // QuantLib: a spot move invalidates every option; reprice NPV, delta, gamma, vega of each.
    double bump = 0.0;
    print_row("QuantLib AnalyticEuropeanEngine: NPV+delta+gamma+vega", m, time_per_position(m, repeats, [&] {
                  bump = bump == 0.0 ? 1e-6 : 0.0;
                  spot->setValue(kSpot + bump);
                  for (QlOption &q : qopts)
                      g_sink += q.option->NPV() + q.option->delta() + q.option->gamma() + q.option->vega();
              }));
    spot->setValue(kSpot);
    const int iv_repeats = std::max(3, repeats / 8);
    print_row("QuantLib impliedVolatility + NPV+delta+gamma+vega", m, time_per_position(m, iv_repeats, [&] {
                  for (QlOption &q : qopts) {
                      q.vol->setValue(q.option->impliedVolatility(q.price, q.process, 1e-10, 200));
                      g_sink += q.option->NPV() + q.option->delta() + q.option->gamma() + q.option->vega();
                  }
              }));
    ht_greeks_destroy(g);
    ht_greeks_destroy(g_adaptive);
    ht_positions_destroy(book);
}

} // namespace

// Usage: bench_greeks [REPEATS [POSITIONS]]: REPEATS runs (default 101; the 4096 book gets a tenth of them),
// POSITIONS 78 or 4096 to run one book only (for callgrind).
int main(int argc, char **argv)
{
    int repeats = 101;
    long only = 0;
    if (argc > 1)
        repeats = std::max(3, std::atoi(argv[1]));
    if (argc > 2)
        only = std::atol(argv[2]);
    std::printf("# ns per position, median and p10/p90 over %d runs (QuantLib implied vol: %d runs)\n", repeats,
                std::max(3, repeats / 8));
    std::printf("%-58s %6s %10s %10s %10s\n", "what", "n", "median", "p10", "p90");
    if (only == 0 || only == 78)
        run(77, repeats); // 77 options + 1 perpetual = 78 positions
    if (only == 0 || only == 4096)
        run(4095, only ? repeats : std::max(3, repeats / 10)); // 4096 positions
    std::printf("# (checksum %g)\n", g_sink);
    return 0;
}
