/* SPDX-License-Identifier: MIT */
/* The book file parser: what it accepts, and a clear message naming the line for everything it refuses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hedgetrig/positions.h"

/* A small registry: names as in the shared capture (ids are the capture's). */
static const struct {
    uint32_t id;
    const char *name;
    ht_pos_kind kind;
    ht_b76_type type;
    double strike, contract_size;
    bool inverse, size_in_coin;
} k_registry[] = {
    {14, "BTC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 10, true, false},
    {12, "BTC_USDC-PERPETUAL", HT_POS_PERPETUAL, 0, NAN, 0.001, false, true},
    {30, "BTC-23JUN23", HT_POS_FUTURE, 0, NAN, 10, true, false},
    {77, "BTC-23JUN23-25500-C", HT_POS_OPTION, HT_B76_CALL, 25500, 1, true, true},
    {78, "BTC-23JUN23-25500-P", HT_POS_OPTION, HT_B76_PUT, 25500, 1, true, true},
    {16, "BTC_USDC-16JUN23-25800-C", HT_POS_OPTION, HT_B76_CALL, 25800, 1, false, true},
};

/* Looks a name up in k_registry; "BTC-COMBO" is known but refused with a reason. */
static int lookup(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    (void)ctx;
    if (len == 9 && memcmp(name, "BTC-COMBO", 9) == 0)
        return ht_error_set(why, "a combo cannot be held (hold its legs)");
    for (size_t i = 0; i < sizeof k_registry / sizeof k_registry[0]; i++)
        if (strlen(k_registry[i].name) == len && memcmp(k_registry[i].name, name, len) == 0) {
            memset(out, 0, sizeof *out);
            out->id = k_registry[i].id;
            snprintf(out->name, sizeof out->name, "%s", k_registry[i].name);
            out->kind = k_registry[i].kind;
            out->option_type = k_registry[i].type;
            out->strike = k_registry[i].strike;
            out->contract_size = k_registry[i].contract_size;
            out->inverse = k_registry[i].inverse;
            out->size_in_coin = k_registry[i].size_in_coin;
            snprintf(out->base_currency, sizeof out->base_currency, "BTC");
            return 0;
        }
    return -1;
}

/* Parses text; returns the book (or NULL) and leaves the message in err. */
static ht_positions *parse(const char *text, ht_error *err)
{
    memset(err, 0, sizeof *err);
    return ht_positions_parse(text, strlen(text), "book.csv", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, err);
}

/* Parses case i's text with max_abs_qty and checks the outcome: accepted when message is NULL, else refused with
 * exactly that message. */
static void check_case(size_t i, const char *text, double max_abs_qty, const char *message)
{
    ht_error err = {{0}};
    ht_positions *b = ht_positions_parse(text, strlen(text), "book.csv", max_abs_qty, lookup, NULL, &err);
    if (!message) {
        if (!b)
            fail_msg("case %zu refused: %s", i, err.msg);
        ht_positions_destroy(b);
        return;
    }
    if (b)
        fail_msg("case %zu accepted: %s", i, text);
    if (strcmp(err.msg, message) != 0)
        fail_msg("case %zu: message\n  '%s'\nexpected\n  '%s'", i, err.msg, message);
}

static void accepts_comments_blanks_header_and_spaces(void **state)
{
    (void)state;
    ht_error err;
    ht_positions *b = parse("# a desk's book\r\n"
                            "\n"
                            "Instrument,QTY\n"
                            "  BTC-23JUN23-25500-C , 12.5   # long calls\r\n"
                            "\t\n"
                            "BTC-23JUN23-25500-P,-3\n"
                            "BTC-PERPETUAL,-3000\n"
                            "BTC_USDC-16JUN23-25800-C,+1e-2",
                            &err);
    assert_non_null(b);
    assert_int_equal(ht_positions_count(b), 4);
    const ht_position *p = ht_positions_at(b, 0);
    assert_string_equal(p->spec.name, "BTC-23JUN23-25500-C");
    assert_true(p->qty_contracts == 12.5);
    assert_int_equal(p->line, 4);
    assert_true(ht_positions_at(b, 1)->qty_contracts == -3.0);
    assert_true(ht_positions_at(b, 3)->qty_contracts == 0.01);
    assert_int_equal(ht_positions_at(b, 3)->line, 8);
    assert_ptr_equal(ht_positions_find(b, 14), ht_positions_at(b, 2));
    assert_null(ht_positions_find(b, 999));
    assert_null(ht_positions_at(b, 4));
    ht_positions_destroy(b);
}

/* A file saved by a Windows editor: a UTF-8 byte order mark and CRLF line ends, the header included. */
static void accepts_a_byte_order_mark_and_crlf(void **state)
{
    (void)state;
    ht_error err;
    ht_positions *b = parse("\xEF\xBB\xBFinstrument,qty_contracts\r\nBTC-PERPETUAL,-3000\r\n\r\nBTC-23JUN23,40\r\n", &err);
    if (!b)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(ht_positions_count(b), 2);
    assert_string_equal(ht_positions_at(b, 0)->spec.name, "BTC-PERPETUAL");
    assert_true(ht_positions_at(b, 0)->qty_contracts == -3000.0);
    assert_int_equal(ht_positions_at(b, 1)->line, 4);
    ht_positions_destroy(b);
    /* Without a header, the mark must not become part of the first instrument's name. */
    b = parse("\xEF\xBB\xBF" "BTC-23JUN23-25500-C,1\r\n", &err);
    if (!b)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(ht_positions_at(b, 0)->spec.id, 77);
    ht_positions_destroy(b);
    /* A mark anywhere else is not one: it stays in the name, which the registry does not know. */
    assert_null(parse("BTC-PERPETUAL,1\n\xEF\xBB\xBF" "BTC-23JUN23,2\n", &err));
    assert_non_null(strstr(err.msg, "book.csv:2: unknown instrument"));
}

/* A book with no position (empty, blank, only comments, only a header) has nothing to hedge: refused. */
static void refuses_an_empty_book(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"", "book.csv: no positions in its 0 lines (an empty book has nothing to hedge)"},
        {"\n\n", "book.csv: no positions in its 2 lines (an empty book has nothing to hedge)"},
        {"# a desk's book\r\n# nothing yet\r\n", "book.csv: no positions in its 2 lines (an empty book has nothing to hedge)"},
        {"\xEF\xBB\xBFinstrument,qty\n", "book.csv: no positions in its 1 lines (an empty book has nothing to hedge)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(i, cases[i].text, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, cases[i].message);
}

/* |quantity| above the maximum (default 1e9 contracts, or the caller's) is refused naming the line; at it, kept. */
static void refuses_quantities_beyond_the_maximum(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double max;
        const char *message; /* NULL: accepted */
    } cases[] = {
        {"BTC-PERPETUAL,1\nBTC-23JUN23,1e300\n", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS,
         "book.csv:2: quantity '1e300' is beyond the maximum of 1e+09 contracts (max_book_qty_contracts)"},
        {"BTC-PERPETUAL,1e23\n", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS,
         "book.csv:1: quantity '1e23' is beyond the maximum of 1e+09 contracts (max_book_qty_contracts)"},
        {"BTC-PERPETUAL,-1000000000.5\n", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS,
         "book.csv:1: quantity '-1000000000.5' is beyond the maximum of 1e+09 contracts (max_book_qty_contracts)"},
        {"BTC-PERPETUAL,-1e9\n", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, NULL},
        {"BTC-23JUN23-25500-C,250.5\n", 250,
         "book.csv:1: quantity '250.5' is beyond the maximum of 250 contracts (max_book_qty_contracts)"},
        {"BTC-23JUN23-25500-C,-250\n", 250, NULL},
        {"BTC-23JUN23-25500-C,1\n", 0, "book.csv: the maximum quantity must be > 0 contracts, got 0"},
        {"BTC-23JUN23-25500-C,1\n", NAN, "book.csv: the maximum quantity must be > 0 contracts, got nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(i, cases[i].text, cases[i].max, cases[i].message);
}

/* Each refusal names the file, the line and what was expected. */
static void refuses_bad_lines_naming_them(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"BTC-23JUN23-25500-C,1\nBTC-XXX,2\n", "book.csv:2: unknown instrument 'BTC-XXX' (not in the instrument registry)"},
        {"BTC-23JUN23-25500-C,1\n\nBTC-23JUN23-25500-C,2\n",
         "book.csv:3: BTC-23JUN23-25500-C: a second line for this instrument (the first is line 1)"},
        {"BTC-PERPETUAL,abc\n", "book.csv:1: expected a signed decimal quantity in contracts, found 'abc'"},
        {"BTC-PERPETUAL,\n", "book.csv:1: expected a signed decimal quantity in contracts, found ''"},
        {"BTC-PERPETUAL,inf\n", "book.csv:1: expected a signed decimal quantity in contracts, found 'inf'"},
        {"BTC-PERPETUAL,nan\n", "book.csv:1: expected a signed decimal quantity in contracts, found 'nan'"},
        {"BTC-PERPETUAL,0x10\n", "book.csv:1: expected a signed decimal quantity in contracts, found '0x10'"},
        {"BTC-PERPETUAL,1e\n", "book.csv:1: expected a signed decimal quantity in contracts, found '1e'"},
        {"BTC-PERPETUAL,1 000\n", "book.csv:1: expected a signed decimal quantity in contracts, found '1 000'"},
        {"BTC-PERPETUAL,1e999\n", "book.csv:1: quantity '1e999' is out of range"},
        {"BTC-PERPETUAL 5\n", "book.csv:1: expected 'instrument,qty_contracts', found no comma"},
        {"BTC-PERPETUAL,5,6\n", "book.csv:1: expected two fields 'instrument,qty_contracts', found more"},
        {",5\n", "book.csv:1: expected an instrument name before the comma"},
        {"BTC-PERPETUAL,1\ninstrument,qty\n", "book.csv:2: expected a signed decimal quantity in contracts, found 'qty'"},
        {"BTC-COMBO,1\n", "book.csv:1: instrument 'BTC-COMBO': a combo cannot be held (hold its legs)"},
        {"BTC-PERPETUAL,1\nA234567890123456789012345678901234567890123456789012345678901234,1\n",
         "book.csv:2: instrument name 'A234567890123456789012345678901234567890...' is longer than 63 characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(i, cases[i].text, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, cases[i].message);
}

static void refuses_long_lines_and_nul_bytes(void **state)
{
    (void)state;
    char *text = malloc(3000);
    assert_non_null(text);
    memset(text, 'A', 2000);
    memcpy(text + 2000, ",1\n", 4);
    ht_error err;
    assert_null(parse(text, &err));
    assert_string_equal(err.msg, "book.csv:1: line longer than 1024 bytes");
    free(text);
    static const char with_nul[] = "BTC-PERPETUAL,1\nBTC-23JUN23\0,2\n";
    assert_null(ht_positions_parse(with_nul, sizeof with_nul - 1, "book.csv", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS,
                                    lookup, NULL, &err));
    assert_string_equal(err.msg, "book.csv:2: NUL byte in a text file");
}

/* Files: a missing file is named; a file round-trips; a book of 4096 generated lines keeps its order. */
static void loads_files(void **state)
{
    (void)state;
    ht_error err = {{0}};
    assert_null(ht_positions_load(HT_TEST_TMPDIR "/no-such-book.csv", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, &err));
    assert_non_null(strstr(err.msg, "no-such-book.csv: cannot open"));

    const char *path = HT_TEST_TMPDIR "/book.csv";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("instrument,qty_contracts\nBTC-23JUN23,40\nBTC_USDC-PERPETUAL,-2.5\n", f);
    fclose(f);
    ht_positions *b = ht_positions_load(path, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, &err);
    assert_non_null(b);
    assert_int_equal(ht_positions_count(b), 2);
    assert_true(ht_positions_at(b, 1)->qty_contracts == -2.5);
    assert_int_equal(ht_positions_at(b, 1)->spec.kind, HT_POS_PERPETUAL);
    ht_positions_destroy(b);
    /* Not regular files: refused at once (a FIFO without a writer must not block the load). */
    const char *fifo = HT_TEST_TMPDIR "/book.fifo";
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_null(ht_positions_load(fifo, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, &err));
    assert_non_null(strstr(err.msg, "book.fifo: the book file is a FIFO, not a regular file"));
    unlink(fifo);
    assert_null(ht_positions_load(HT_TEST_TMPDIR, HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, &err));
    assert_non_null(strstr(err.msg, ": the book file is a directory, not a regular file"));
    assert_null(ht_positions_load("/dev/zero", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, &err));
    assert_string_equal(err.msg, "/dev/zero: the book file is a character device, not a regular file");
}

/* A built book: ht_positions_add refuses duplicates and non-finite quantities; the id index survives growth. */
static void builds_large_books(void **state)
{
    (void)state;
    ht_positions *b = ht_positions_create();
    assert_non_null(b);
    ht_instrument_spec spec;
    memset(&spec, 0, sizeof spec);
    for (uint32_t i = 0; i < 4096; i++) {
        spec.id = 100000 + i * 7;
        snprintf(spec.name, sizeof spec.name, "X-%u", i);
        assert_int_equal(ht_positions_add(b, &spec, (double)i, NULL), 0);
    }
    for (uint32_t i = 0; i < 4096; i++) {
        const ht_position *p = ht_positions_find(b, 100000 + i * 7);
        assert_non_null(p);
        assert_true(p->qty_contracts == (double)i);
    }
    ht_error err;
    spec.id = 100000;
    assert_int_equal(ht_positions_add(b, &spec, 1, &err), -1);
    assert_non_null(strstr(err.msg, "already in the book"));
    spec.id = 5;
    assert_int_equal(ht_positions_add(b, &spec, NAN, &err), -1);
    assert_int_equal(ht_positions_count(b), 4096);
    ht_positions_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_comments_blanks_header_and_spaces),
        cmocka_unit_test(refuses_bad_lines_naming_them),
        cmocka_unit_test(accepts_a_byte_order_mark_and_crlf),
        cmocka_unit_test(refuses_an_empty_book),
        cmocka_unit_test(refuses_quantities_beyond_the_maximum),
        cmocka_unit_test(refuses_long_lines_and_nul_bytes),
        cmocka_unit_test(loads_files),
        cmocka_unit_test(builds_large_books),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
