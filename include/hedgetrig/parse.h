/* SPDX-License-Identifier: MIT */
/* Reading one value out of text: a number, an integer, HOST:PORT. The one parser of each that config files,
 * command-line options and spec strings share; the caller says in words what it expected. */
#ifndef HEDGETRIG_PARSE_H
#define HEDGETRIG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a parser found. Nothing is written to *out unless it returns HT_PARSE_OK. */
typedef enum ht_parse_result {
    HT_PARSE_OK = 0,
    HT_PARSE_SYNTAX,      /* not a number of the grammar asked for (empty, trailing bytes, a letter, ...) */
    HT_PARSE_UNFIT,       /* a number its type cannot hold: beyond 2^64-1 or int64, a double's overflow or
                           * underflow (see HT_PARSE_UNDERFLOW_OK) */
    HT_PARSE_OUT_OF_RANGE /* an integer outside the caller's [min, max] */
} ht_parse_result;

/* Widening flags. With none, a number is plain decimal and nothing else: [+-]digits[.digits][(e|E)[+-]digits]
 * for a double (ht_text_is_decimal), digits for an integer; no blanks, no hexadecimal, no inf or nan. The
 * flags keep what older callers accepted before they shared this parser; each says who uses it. */
enum {
    /* Whatever strtod(3) reads: leading white space and hexadecimal floats ("0x1p3") too; inf and nan are still
     * refused (not finite). The backtest's book and model spec, the optimizer's strategy value. */
    HT_PARSE_STRTOD_GRAMMAR = 1u << 0,
    /* Spaces and tabs after the number (the backtest's comma-separated fields). */
    HT_PARSE_TRAILING_BLANKS = 1u << 1,
    /* A number too small in magnitude for a double reads as 0 or a subnormal instead of failing (strtod's ERANGE
     * not looked at): the engine's and the market simulator's config numbers. */
    HT_PARSE_UNDERFLOW_OK = 1u << 2,
    /* For ht_parse_i64, what strtol(3) reads in base 10: leading white space and a '+' or '-' sign (the engine's
     * signed keys, the port of replay --fix). */
    HT_PARSE_STRTOL_GRAMMAR = 1u << 3,
};

/* A finite double from the whole NUL-terminated text (flags above). */
ht_parse_result ht_parse_double(const char *text, unsigned flags, double *out);

/* An unsigned decimal integer in [min, max] from the whole text: digits only (no sign, no blank), at most
 * 2^64-1 (HT_PARSE_UNFIT beyond). flags: none take effect today (pass 0). */
ht_parse_result ht_parse_u64(const char *text, uint64_t min, uint64_t max, unsigned flags, uint64_t *out);

/* A signed decimal integer in [min, max]: an optional '-' and digits, or with HT_PARSE_STRTOL_GRAMMAR strtol's
 * leading white space and a '+' too. */
ht_parse_result ht_parse_i64(const char *text, int64_t min, int64_t max, unsigned flags, int64_t *out);

/* The port text of HOST:PORT: what follows the last colon, when a host of 1..host_cap-1 bytes comes before it;
 * else NULL. For a caller that reports a bad port in its own words before ht_parse_hostport. */
const char *ht_hostport_port_text(const char *text, size_t host_cap);

/* Splits HOST:PORT at the last colon into host[host_cap] and a port 1..65535 read by ht_parse_i64 with
 * port_flags (0: digits only). HT_PARSE_SYNTAX when there is no colon, the host is empty or does not fit; the
 * port's own result otherwise. host and *port are written only on HT_PARSE_OK. */
ht_parse_result ht_parse_hostport(const char *text, unsigned port_flags, char *host, size_t host_cap, uint16_t *port);

#ifdef __cplusplus
}
#endif

#endif
