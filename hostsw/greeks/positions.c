/* SPDX-License-Identifier: MIT */
/* The book file parser and the position list (checked against the instrument registry). */
#include "hedgetrig/positions.h"
#include "hedgetrig/textfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ht_positions {
    ht_position *items;
    size_t count, capacity;
    uint32_t *slots;    /* open-addressing set of item index + 1 keyed by instrument id (0 = empty) */
    size_t slot_mask;   /* slot count - 1 (a power of two) */
};

const char *ht_pos_kind_name(ht_pos_kind kind)
{
    switch (kind) {
    case HT_POS_OPTION: return "option";
    case HT_POS_FUTURE: return "future";
    case HT_POS_PERPETUAL: return "perpetual";
    case HT_POS_SPOT: return "spot";
    }
    return "unknown";
}

/* Mixes an instrument id into a slot number. */
static size_t id_hash(uint32_t id)
{
    uint32_t h = id * 2654435761u;
    return (size_t)(h ^ (h >> 16));
}

/* The slot holding instrument id, or the empty slot where it would go. */
static size_t find_slot(const ht_positions *book, uint32_t id)
{
    size_t i = id_hash(id) & book->slot_mask;
    while (book->slots[i] != 0 && book->items[book->slots[i] - 1].spec.id != id)
        i = (i + 1) & book->slot_mask;
    return i;
}

/* Doubles the id set and re-inserts every position. Returns 0 or -1 when memory is short. */
static int grow_slots(ht_positions *book)
{
    const size_t n = (book->slot_mask + 1) * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    free(book->slots);
    book->slots = slots;
    book->slot_mask = n - 1;
    for (size_t k = 0; k < book->count; k++)
        book->slots[find_slot(book, book->items[k].spec.id)] = (uint32_t)(k + 1);
    return 0;
}

ht_positions *ht_positions_create(void)
{
    ht_positions *book = calloc(1, sizeof *book);
    if (!book)
        return NULL;
    book->slot_mask = 63;
    book->slots = calloc(book->slot_mask + 1, sizeof *book->slots);
    if (!book->slots) {
        free(book);
        return NULL;
    }
    return book;
}

void ht_positions_destroy(ht_positions *book)
{
    if (!book)
        return;
    free(book->items);
    free(book->slots);
    free(book);
}

size_t ht_positions_count(const ht_positions *book)
{
    return book ? book->count : 0;
}

const ht_position *ht_positions_at(const ht_positions *book, size_t i)
{
    return book && i < book->count ? &book->items[i] : NULL;
}

const ht_position *ht_positions_find(const ht_positions *book, uint32_t instrument_id)
{
    if (!book)
        return NULL;
    const uint32_t slot = book->slots[find_slot(book, instrument_id)];
    return slot ? &book->items[slot - 1] : NULL;
}

/* Appends a position, refusing a second one on the same instrument; line is for messages (0: none). */
static int add_position(ht_positions *book, const ht_instrument_spec *spec, double qty, uint32_t line,
                        const char *where, ht_error *err)
{
    if (!isfinite(qty))
        return ht_error_set(err, "%s%s: quantity must be a finite number of contracts", where, spec->name);
    if (book->count >= HT_POSITIONS_MAX)
        return ht_error_set(err, "%smore than %d positions", where, HT_POSITIONS_MAX);
    const size_t slot = find_slot(book, spec->id);
    if (book->slots[slot] != 0) {
        const ht_position *first = &book->items[book->slots[slot] - 1];
        if (first->line)
            return ht_error_set(err, "%s%s: a second line for this instrument (the first is line %u)", where,
                                spec->name, first->line);
        return ht_error_set(err, "%s%s: this instrument is already in the book", where, spec->name);
    }
    if (book->count == book->capacity) {
        const size_t cap = book->capacity ? book->capacity * 2 : 64;
        ht_position *items = realloc(book->items, cap * sizeof *items);
        if (!items)
            return ht_error_set(err, "%sout of memory for %zu positions", where, cap);
        book->items = items;
        book->capacity = cap;
    }
    ht_position *p = &book->items[book->count];
    p->spec = *spec;
    p->qty_contracts = qty;
    p->line = line;
    book->slots[slot] = (uint32_t)(book->count + 1);
    book->count++;
    if (book->count * 2 > book->slot_mask + 1 && grow_slots(book) != 0)
        return ht_error_set(err, "%sout of memory for the instrument index", where);
    return 0;
}

int ht_positions_add(ht_positions *book, const ht_instrument_spec *spec, double qty_contracts, ht_error *err)
{
    if (!book || !spec)
        return ht_error_set(err, "positions: no book or no instrument");
    return add_position(book, spec, qty_contracts, 0, "", err);
}

int ht_positions_set_qty(ht_positions *book, size_t i, double qty_contracts, ht_error *err)
{
    if (!book || i >= book->count)
        return ht_error_set(err, "positions: no position %zu in a book of %zu", i, book ? book->count : 0);
    if (!isfinite(qty_contracts))
        return ht_error_set(err, "positions: %s: the quantity must be finite", book->items[i].spec.name);
    book->items[i].qty_contracts = qty_contracts;
    return 0;
}

/* Trims spaces and tabs from both ends of [*begin, *end). */
static void trim(const char **begin, const char **end)
{
    while (*begin < *end && (**begin == ' ' || **begin == '\t'))
        (*begin)++;
    while (*end > *begin && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* Copies up to 40 bytes of a field into out for a message, replacing unprintable bytes with '?'. */
static void quote_field(const char *s, size_t n, char out[48])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 40; i++)
        out[k++] = isprint((unsigned char)s[i]) ? s[i] : '?';
    if (n > 40) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = '\0';
}

/* True when [s, s+n) is the optional header line (instrument,qty or instrument,qty_contracts, any case). */
static bool is_header(const char *name, size_t name_len, const char *qty, size_t qty_len)
{
    return name_len == 10 && strncasecmp(name, "instrument", 10) == 0 &&
           ((qty_len == 3 && strncasecmp(qty, "qty", 3) == 0) ||
            (qty_len == 13 && strncasecmp(qty, "qty_contracts", 13) == 0));
}

/* Parses one line (without its newline) into the book. first_content says whether no position or header
 * has been seen yet (a header is allowed only then). */
static int parse_line(ht_positions *book, const char *begin, const char *end, uint32_t line_no, const char *source,
                      double max_abs_qty, bool *first_content, ht_instrument_lookup_fn lookup, void *ctx,
                      ht_error *err)
{
    char where[128];
    snprintf(where, sizeof where, "%s:%u: ", source, line_no);
    size_t len = end > begin ? (size_t)(end - begin) : 0; /* as a size, so gcc -O3 sees it cannot be negative */
    if (len && begin[len - 1] == '\r')
        len--;
    const char *hash = memchr(begin, '#', len);
    end = hash ? hash : begin + len;
    trim(&begin, &end);
    if (begin == end)
        return 0;
    const char *comma = memchr(begin, ',', (size_t)(end - begin));
    if (!comma)
        return ht_error_set(err, "%sexpected 'instrument,qty_contracts', found no comma", where);
    if (memchr(comma + 1, ',', (size_t)(end - comma - 1)))
        return ht_error_set(err, "%sexpected two fields 'instrument,qty_contracts', found more", where);
    const char *name = begin, *name_end = comma, *qty = comma + 1, *qty_end = end;
    trim(&name, &name_end);
    trim(&qty, &qty_end);
    const size_t name_len = (size_t)(name_end - name), qty_len = (size_t)(qty_end - qty);
    const bool was_first = *first_content;
    *first_content = false;
    if (was_first && is_header(name, name_len, qty, qty_len))
        return 0;
    char shown[48];
    if (name_len == 0)
        return ht_error_set(err, "%sexpected an instrument name before the comma", where);
    if (name_len > HT_POS_NAME_MAX) {
        quote_field(name, name_len, shown);
        return ht_error_set(err, "%sinstrument name '%s' is longer than %d characters", where, shown, HT_POS_NAME_MAX);
    }
    if (!ht_text_is_decimal(qty, qty_len)) {
        quote_field(qty, qty_len, shown);
        return ht_error_set(err, "%sexpected a signed decimal quantity in contracts, found '%s'", where, shown);
    }
    char number[HT_POSITIONS_MAX_LINE + 1];
    memcpy(number, qty, qty_len);
    number[qty_len] = '\0';
    errno = 0;
    const double value = strtod(number, NULL);
    if (errno == ERANGE || !isfinite(value)) {
        quote_field(qty, qty_len, shown);
        return ht_error_set(err, "%squantity '%s' is out of range", where, shown);
    }
    if (fabs(value) > max_abs_qty) {
        quote_field(qty, qty_len, shown);
        return ht_error_set(err, "%squantity '%s' is beyond the maximum of %g contracts (max_book_qty_contracts)",
                            where, shown, max_abs_qty);
    }
    ht_instrument_spec spec;
    ht_error why = {{0}};
    memset(&spec, 0, sizeof spec);
    if (lookup(ctx, name, name_len, &spec, &why) != 0) {
        quote_field(name, name_len, shown);
        if (why.msg[0])
            return ht_error_set(err, "%sinstrument '%s': %s", where, shown, why.msg);
        return ht_error_set(err, "%sunknown instrument '%s' (not in the instrument registry)", where, shown);
    }
    return add_position(book, &spec, value, line_no, where, err);
}

ht_positions *ht_positions_parse(const char *text, size_t len, const char *source, double max_abs_qty_contracts,
                                 ht_instrument_lookup_fn lookup, void *lookup_ctx, ht_error *err)
{
    if (!source)
        source = "book";
    if (!lookup || (!text && len)) {
        ht_error_set(err, "%s: no instrument registry to check the book against", source);
        return NULL;
    }
    if (!(max_abs_qty_contracts > 0)) {
        ht_error_set(err, "%s: the maximum quantity must be > 0 contracts, got %g", source, max_abs_qty_contracts);
        return NULL;
    }
    ht_positions *book = ht_positions_create();
    if (!book) {
        ht_error_set(err, "%s: out of memory", source);
        return NULL;
    }
    const char *p = text, *end = text + len;
    static const char bom[] = "\xEF\xBB\xBF"; /* UTF-8 byte order mark, as some editors write */
    if (len >= 3 && memcmp(text, bom, 3) == 0)
        p += 3;
    uint32_t line_no = 0;
    bool first_content = true;
    while (p < end) {
        line_no++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        int rc = 0;
        if ((size_t)(line_end - p) > HT_POSITIONS_MAX_LINE)
            rc = ht_error_set(err, "%s:%u: line longer than %d bytes", source, line_no, HT_POSITIONS_MAX_LINE);
        else if (memchr(p, '\0', (size_t)(line_end - p)))
            rc = ht_error_set(err, "%s:%u: NUL byte in a text file", source, line_no);
        else
            rc = parse_line(book, p, line_end, line_no, source, max_abs_qty_contracts, &first_content, lookup,
                            lookup_ctx, err);
        if (rc != 0) {
            ht_positions_destroy(book);
            return NULL;
        }
        p = nl ? nl + 1 : end;
    }
    if (book->count == 0) {
        ht_error_set(err, "%s: no positions in its %u lines (an empty book has nothing to hedge)", source, line_no);
        ht_positions_destroy(book);
        return NULL;
    }
    return book;
}

ht_positions *ht_positions_load(const char *path, double max_abs_qty_contracts, ht_instrument_lookup_fn lookup,
                                void *lookup_ctx, ht_error *err)
{
    size_t len = 0;
    char *text = ht_text_file_read(path, "book file", HT_POSITIONS_MAX_FILE_BYTES, &len, err);
    if (!text)
        return NULL;
    ht_positions *book = ht_positions_parse(text, len, path, max_abs_qty_contracts, lookup, lookup_ctx, err);
    free(text);
    return book;
}
