/* SPDX-License-Identifier: MIT */
/* A desk's positions: the book file (CSV of instrument and signed quantity) checked against the registry. */
#ifndef HEDGETRIG_POSITIONS_H
#define HEDGETRIG_POSITIONS_H

/*
 * The book file, one position a line:
 *
 *     # comment (a '#' starts a comment anywhere on a line)
 *     instrument,qty_contracts
 *     BTC-23JUN23-25500-C, 12.5
 *     BTC-PERPETUAL,-3000          # inverse perpetual: contracts of 10 USD
 *
 * Blank lines and comments are allowed; spaces and tabs around fields are ignored; the optional header line
 * is exactly "instrument,qty" or "instrument,qty_contracts" (any case). The quantity is a signed decimal
 * number of contracts (Deribit's amount divided by the contract size). Loading fails, naming the line and what
 * was expected, on: an instrument the registry does not know, a second line for the same instrument, a
 * quantity that is not a finite number, a line with other than two fields, a line longer than
 * HT_POSITIONS_MAX_LINE bytes, a NUL byte, more than HT_POSITIONS_MAX positions, an instrument kind that
 * cannot be held (combos), a quantity whose magnitude is above the caller's maximum, or no position at all
 * (an empty book has nothing to hedge: it is a mistake, not a flat desk). A UTF-8 byte order mark at the
 * start and CRLF line ends are accepted. Options are priced; perpetuals, futures and spot count towards the hedge
 * inventory H of their underlying.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HT_POSITIONS_MAX 65536      /* lines a book file may hold */
#define HT_POSITIONS_MAX_LINE 1024  /* bytes per line, newline excluded */
#define HT_POSITIONS_MAX_FILE_BYTES ((size_t)64 << 20) /* a book file's size */
#define HT_POS_NAME_MAX 63          /* instrument name length */
/* The default largest |quantity| of a book line, in contracts: above any venue's position limit, and below
 * the 2^31 coins a fixed-point delta holds (include/hedgetrig/fixed.h). */
#define HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS 1e9

/* What a position is. */
typedef enum ht_pos_kind {
    HT_POS_OPTION = 0,    /* European option: priced with Black-76, goes into the greek table */
    HT_POS_FUTURE = 1,    /* dated future: hedge inventory */
    HT_POS_PERPETUAL = 2, /* perpetual swap: hedge inventory */
    HT_POS_SPOT = 3,      /* spot pair: hedge inventory */
} ht_pos_kind;

/* The static facts about one instrument that the slow path needs: a copy of the feed registry's entry
 * (see ht_greeks_spec_from_feed) or of a test table. */
typedef struct ht_instrument_spec {
    uint32_t id;                     /* exchange instrument id */
    char name[HT_POS_NAME_MAX + 1];  /* "BTC-23JUN23-25500-C" */
    ht_pos_kind kind;
    ht_b76_type option_type;         /* options only */
    bool inverse;                    /* coin-settled, quoted in coin (Deribit "reversed") */
    double strike;                   /* options: counter currency (USD, or USDC for linear) */
    uint64_t expiry_ms;              /* UTC milliseconds; ignored for perpetuals and spot */
    double contract_size;            /* size currency per contract (BTC options 1 BTC, BTC-PERPETUAL 10 USD) */
    bool size_in_coin;               /* contract size in the base coin (options, linear perpetuals, spot);
                                        false: in the counter currency (inverse futures and perpetuals) */
    char base_currency[9];           /* "BTC": the underlying the position belongs to */
    char index_name[17];             /* its price index, "btc_usd" or "btc_usdc" */
} ht_instrument_spec;

/* Finds an instrument by name (len bytes, not NUL-terminated). Fills *out and returns 0, or returns -1 when
 * the registry does not know it (or, with a message in why, when it knows it but it cannot be held). */
typedef int (*ht_instrument_lookup_fn)(void *ctx, const char *name, size_t len, ht_instrument_spec *out,
                                       ht_error *why);

/* One line of the book. */
typedef struct ht_position {
    ht_instrument_spec spec;
    double qty_contracts; /* signed: positive long */
    uint32_t line;        /* 1-based line in the book file */
} ht_position;

/* A loaded book, positions in file order. */
typedef struct ht_positions ht_positions;

/* Parses a book from memory. source names the input in messages ("book.csv"); a line whose |quantity| is above
 * max_abs_qty_contracts (> 0; HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS unless configured) is refused. Returns
 * NULL with a message "SOURCE:LINE: what was wrong" on any error (nothing is half-loaded). */
ht_positions *ht_positions_parse(const char *text, size_t len, const char *source, double max_abs_qty_contracts,
                                 ht_instrument_lookup_fn lookup, void *lookup_ctx, ht_error *err);

/* Reads and parses a book file (at most 64 MiB), as ht_positions_parse. Returns NULL with a message on error. */
ht_positions *ht_positions_load(const char *path, double max_abs_qty_contracts, ht_instrument_lookup_fn lookup,
                                void *lookup_ctx, ht_error *err);

/* An empty book, to be filled with ht_positions_add (programs that build books, benchmarks). NULL when
 * memory is short. */
ht_positions *ht_positions_create(void);

/* Appends a position (line number 0). Returns 0, or -1 with a message when the instrument is already held,
 * the quantity is not finite or the book is full. */
int ht_positions_add(ht_positions *book, const ht_instrument_spec *spec, double qty_contracts, ht_error *err);

/* Sets the quantity of the position at index i (0 <= i < count) to a finite qty_contracts, e.g. after a hedge
 * fill. An ht_greeks made on this book reads it at its next ht_greeks_recompute. 0, or -1 with a message. */
int ht_positions_set_qty(ht_positions *book, size_t i, double qty_contracts, ht_error *err);

/* Frees the book (NULL allowed). */
void ht_positions_destroy(ht_positions *book);

/* Number of positions, and the i-th (0 <= i < count). */
size_t ht_positions_count(const ht_positions *book);
const ht_position *ht_positions_at(const ht_positions *book, size_t i);

/* The position on an instrument id, or NULL. */
const ht_position *ht_positions_find(const ht_positions *book, uint32_t instrument_id);

/* "option", "future", "perpetual", "spot". */
const char *ht_pos_kind_name(ht_pos_kind kind);

#ifdef __cplusplus
}
#endif

#endif
