#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes black76_tail_mpmath.csv: Black-76 prices and deltas of far out-of-the-money options computed with
# 50-digit arithmetic (mpmath), from the exact double inputs. test_black76 reads the CSV; this script is only
# how it was made (python3 with mpmath 1.3): ./black76_tail_mpmath.py > black76_tail_mpmath.csv
from mpmath import mp, mpf, ncdf, log, sqrt, exp

mp.dps = 50
print("# Black-76 tail references, 50-digit mpmath; made by black76_tail_mpmath.py")
print("type,forward,strike,t_years,sigma,rate,price,delta")
cases = []
for f in (100.0, 25441.7):
    for mny in (0.5, 0.8, 0.9, 0.97, 1.03, 1.1, 1.25, 2.0):
        for t in (1.0 / 8760, 1.0 / 365, 7.0 / 365, 0.25, 1.0):
            for sig in (0.05, 0.1, 0.3, 0.8):
                cases.append((f, f * mny, t, sig))
for f, k, t, sig in cases:
    r = 0.03
    cp = "call" if k > f else "put"  # the out-of-the-money side
    F, K, T, S, R = (mpf(x) for x in (f, k, t, sig, r))
    s = S * sqrt(T)
    d1 = log(F / K) / s + s / 2
    d2 = d1 - s
    df = exp(-R * T)
    if cp == "call":
        price, delta = df * (F * ncdf(d1) - K * ncdf(d2)), df * ncdf(d1)
    else:
        price, delta = df * (K * ncdf(-d2) - F * ncdf(-d1)), -df * ncdf(-d1)
    # Keep the tail: exercise probability below 1e-7 and a price that is a normal double.
    prob = ncdf(-abs(d2))
    if prob < mpf("1e-7") and price > mpf("1e-300"):
        print("%s,%r,%r,%r,%r,%r,%s,%s" % (cp, f, k, t, sig, r, mp.nstr(price, 20), mp.nstr(delta, 20)))
