/* SPDX-License-Identifier: MIT */
/* Quantity units: the one place where contracts, Deribit amounts, coins, USD and fees convert (docs/units.md). */
#ifndef HEDGETRIG_UNITS_H
#define HEDGETRIG_UNITS_H

#include "hedgetrig/common.h"

/* How a contract is sized. The gateway speaks contracts on the wire (OrderQty 38 with QtyType 854 = 1), as
 * Deribit's ExecutionReports do; everything else converts through the functions below. */
typedef enum ht_contract_kind {
    HT_CONTRACT_LINEAR = 0, /* a contract is `size` coins: BTC_USDC-PERPETUAL (0.001 BTC), every option (1 coin) */
    HT_CONTRACT_INVERSE,    /* a contract is `size` USD, settled in coin: BTC-PERPETUAL, BTC-30JUN23 (10 USD) */
} ht_contract_kind;

typedef struct ht_contract {
    ht_contract_kind kind;
    double size; /* Deribit's contractSize (multicast) = ContractMultiplier (231, SecurityList): > 0 and finite */
} ht_contract;

/* Fills c after checking kind and size. 0, or -1 with err naming the bad value. */
int ht_contract_set(ht_contract *c, ht_contract_kind kind, double size, ht_error *err);

/* The contract of an instrument of the feed's registry (hedgetrig/feed.h): inverse futures and perpetuals are
 * USD-sized, everything else (linear futures, options, inverse options too) coin-sized. 0 or -1 with err. */
struct ht_instrument;
int ht_contract_from_instrument(const struct ht_instrument *in, ht_contract *c, ht_error *err);

/* "inverse" or "linear". */
const char *ht_contract_kind_name(ht_contract_kind kind);

/* Deribit's "amount" (the order size of its JSON API, and what OrderQty means with QtyType 854 = 0 "Units"):
 * USD for an inverse contract, coins for a linear one (and for options). amount = contracts x size. */
static inline double ht_units_contracts_to_amount(const ht_contract *c, double contracts)
{
    return contracts * c->size;
}

static inline double ht_units_amount_to_contracts(const ht_contract *c, double amount)
{
    return amount / c->size;
}

/* The coin delta of a quantity of contracts at price px_usd: inverse contracts x size / px, linear
 * contracts x size (the price does not enter). */
static inline double ht_units_contracts_to_coin(const ht_contract *c, double contracts, double px_usd)
{
    double amount = contracts * c->size;
    return c->kind == HT_CONTRACT_INVERSE ? amount / px_usd : amount;
}

/* The contracts (not rounded) that carry a coin delta at price px_usd: the inverse of the function above. */
static inline double ht_units_coin_to_contracts(const ht_contract *c, double coin, double px_usd)
{
    double amount = c->kind == HT_CONTRACT_INVERSE ? coin * px_usd : coin;
    return amount / c->size;
}

/* Deribit amount per coin of delta at price px_usd: px_usd (USD) for an inverse contract, 1 (coin) for a linear
 * one. The optimizer sizes in amounts with it; ht_units_amount_to_contracts then gives the order quantity. */
static inline double ht_units_amount_per_coin(const ht_contract *c, double px_usd)
{
    return c->kind == HT_CONTRACT_INVERSE ? px_usd : 1.0;
}

/* USD notional: inverse contracts x size (the price does not enter), linear contracts x size x px. */
static inline double ht_units_contracts_to_usd(const ht_contract *c, double contracts, double px_usd)
{
    double amount = contracts * c->size;
    return c->kind == HT_CONTRACT_INVERSE ? amount : amount * px_usd;
}

/* A fee of rate (a fraction of notional, e.g. 0.0005) on a trade of contracts at px_usd, in the currency the
 * contract settles in: coin for an inverse contract (USD notional / px), USD(C) for a linear one. */
static inline double ht_units_fee_settlement(const ht_contract *c, double contracts, double px_usd, double rate)
{
    double usd = rate * ht_units_contracts_to_usd(c, contracts, px_usd);
    return c->kind == HT_CONTRACT_INVERSE ? usd / px_usd : usd;
}

#endif
