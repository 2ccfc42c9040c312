/* SPDX-License-Identifier: MIT */
/* Tests of the fixed-point rules (rounding, saturation, conversion) and that the RTL package mirrors the headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/fixed.h"
#include "hedgetrig/pipe_regs.h"
#include "hedgetrig/wire_regs.h"
#include "hedgetrig/pipe_synth.h"

/* Conversion rounds to nearest with ties toward +infinity, in units of one LSB. */
static void from_double_rounds_ties_up(void **state)
{
    (void)state;
    static const struct {
        double lsbs;
        int64_t want;
    } cases[] = {
        {0.0, 0}, {0.49, 0}, {0.5, 1}, {1.5, 2}, {2.5, 3}, {-0.5, 0}, {-1.5, -1}, {-2.5, -2}, {-2.51, -3}, {-0.51, -1},
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        int64_t got = 12345;
        assert_int_equal(ht_fx_from_double(ldexp(cases[i].lsbs, -32), 32, &got), HT_FX_OK);
        assert_int_equal(got, cases[i].want);
    }
    /* A BTC spot with cents: the double nearest 25448.57, times 2^32, is 109300775879966.72 (exact, by
     * rational arithmetic), which rounds to ...967. */
    int64_t p;
    assert_int_equal(ht_fx_from_double(25448.57, HT_FX_PRICE_FRAC, &p), HT_FX_OK);
    assert_true(p == INT64_C(109300775879967));
}

/* Values beyond the format saturate and say so; NaN is refused; the extremes themselves are exact. */
static void from_double_saturates_and_refuses_nan(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(ht_fx_from_double(2147483648.0, 32, &v), HT_FX_SATURATED);
    assert_true(v == INT64_MAX);
    assert_int_equal(ht_fx_from_double(-2147483648.0, 32, &v), HT_FX_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(ht_fx_from_double(-2147483648.5, 32, &v), HT_FX_SATURATED);
    assert_true(v == INT64_MIN);
    assert_int_equal(ht_fx_from_double(INFINITY, 48, &v), HT_FX_SATURATED);
    assert_true(v == INT64_MAX);
    assert_int_equal(ht_fx_from_double(-INFINITY, 48, &v), HT_FX_SATURATED);
    assert_true(v == INT64_MIN);
    assert_int_equal(ht_fx_from_double(NAN, 48, &v), HT_FX_NAN);
    assert_true(v == 0);
    /* Just below the top: the largest double below 2^31 converts without saturating. */
    assert_int_equal(ht_fx_from_double(nextafter(2147483648.0, 0.0), 32, &v), HT_FX_OK);
    assert_true(v == INT64_MAX - 1023); /* 2^31 - 2^-22 (one double step below) is 2^63 - 2^10 LSBs */
}

/* A round trip through the format is within half an LSB, for every format and random magnitudes. */
static void round_trip_within_half_lsb(void **state)
{
    (void)state;
    static const unsigned fracs[] = {HT_FX_PRICE_FRAC, HT_FX_GAMMA_FRAC, HT_FX_SPEED_FRAC, HT_FX_VOL_FRAC,
                                     HT_FX_IIR_COEF_FRAC};
    ht_rng rng = {42};
    for (size_t f = 0; f < HT_ARRAY_LEN(fracs); f++) {
        double top = ldexp(1.0, 62 - (int)fracs[f]);
        for (int i = 0; i < 20000; i++) {
            double x = ht_rng_uniform(&rng, -1.0, 1.0) * top * ldexp(1.0, -(int)(ht_rng_next(&rng) % 40));
            int64_t v;
            assert_int_equal(ht_fx_from_double(x, fracs[f], &v), HT_FX_OK);
            double back = ht_fx_to_double(v, fracs[f]);
            double err = fabs(back - x);
            /* ht_fx_to_double is itself exact below 2^53 LSBs; above, allow its own rounding. */
            assert_true(err <= 0.5 * ht_fx_lsb(fracs[f]) + fabs(x) * 0x1.0p-52);
        }
    }
}

/* The integer narrowing the RTL uses: (x + 2^(s-1)) >> s, and clamping. */
static void round_shift_and_saturate(void **state)
{
    (void)state;
    assert_true(ht_fx_round_shift(5, 1) == 3);   /* 2.5 -> 3 */
    assert_true(ht_fx_round_shift(-5, 1) == -2); /* -2.5 -> -2 */
    assert_true(ht_fx_round_shift(-7, 2) == -2); /* -1.75 -> -2 */
    assert_true(ht_fx_round_shift(7, 2) == 2);   /* 1.75 -> 2 */
    ht_fx_wide big = (ht_fx_wide)INT64_MAX * 3;
    assert_true(ht_fx_round_shift(big, 36) == (big + ((ht_fx_wide)1 << 35)) / ((ht_fx_wide)1 << 36));
    bool sat = false;
    assert_true(ht_fx_saturate((ht_fx_wide)INT64_MAX, &sat) == INT64_MAX);
    assert_false(sat);
    assert_true(ht_fx_saturate((ht_fx_wide)INT64_MIN, &sat) == INT64_MIN);
    assert_false(sat);
    assert_true(ht_fx_saturate((ht_fx_wide)INT64_MAX + 1, &sat) == INT64_MAX);
    assert_true(sat);
    sat = false;
    assert_true(ht_fx_saturate((ht_fx_wide)INT64_MIN - 1, &sat) == INT64_MIN);
    assert_true(sat);
}

/* ---- The RTL package mirrors the headers ---------------------------------------------------------------- */

typedef struct constant {
    char name[64];
    char value[64]; /* a number, or the name of another constant */
} constant;

typedef struct constant_set {
    constant items[256];
    size_t n;
} constant_set;

/* Reads a whole text file into a NUL-terminated buffer (the caller frees it). */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[len] = '\0';
    fclose(f);
    return buf;
}

/* Collects `#define HT_FX_* / HT_PIPE_* value` lines of a C header. */
static void parse_header(const char *path, constant_set *set)
{
    char *text = read_text(path);
    assert_non_null(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        constant c;
        if (sscanf(line, "#define %63s %63s", c.name, c.value) == 2 &&
            (strncmp(c.name, "HT_FX_", 6) == 0 || strncmp(c.name, "HT_PIPE_", 8) == 0) && !strchr(c.name, '(')) {
            assert_true(set->n < HT_ARRAY_LEN(set->items));
            set->items[set->n++] = c;
        }
    }
    free(text);
}

/* Collects `localparam <type...> HT_* = value;` lines of the SystemVerilog package. */
static void parse_package(const char *path, constant_set *set)
{
    char *text = read_text(path);
    assert_non_null(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *lp = strstr(line, "localparam ");
        char *eq = strchr(line, '=');
        if (!lp || !eq)
            continue;
        /* The name is the last word before '='. */
        char *end = eq;
        while (end > lp && end[-1] == ' ')
            end--;
        char *start = end;
        while (start > lp && start[-1] != ' ')
            start--;
        constant c;
        snprintf(c.name, sizeof c.name, "%.*s", (int)(end - start), start);
        if (sscanf(eq + 1, " %63[^;]", c.value) != 1)
            continue;
        assert_true(set->n < HT_ARRAY_LEN(set->items));
        set->items[set->n++] = c;
    }
    free(text);
}

/* Resolves a constant to a number: C literals (0x.., optional u), SV literals (N'h.., 'd..), or an alias. */
static bool resolve(const constant_set *set, const char *value, int depth, uint64_t *out)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", value);
    size_t len = strlen(buf);
    while (len && (buf[len - 1] == ' ' || buf[len - 1] == 'u' || buf[len - 1] == 'U'))
        buf[--len] = '\0';
    const char *tick = strchr(buf, '\'');
    if (tick) {
        int base = tick[1] == 'h' ? 16 : tick[1] == 'd' ? 10 : tick[1] == 'b' ? 2 : 0;
        if (!base)
            return false;
        char *endp;
        *out = strtoull(tick + 2, &endp, base);
        return *endp == '\0';
    }
    if (buf[0] >= '0' && buf[0] <= '9') {
        char *endp;
        *out = strtoull(buf, &endp, 0);
        return *endp == '\0';
    }
    for (size_t i = 0; depth < 8 && i < set->n; i++)
        if (strcmp(set->items[i].name, buf) == 0)
            return resolve(set, set->items[i].value, depth + 1, out);
    return false;
}

/* Every HT_FX_* and HT_PIPE_* constant exists on both sides with the same value. */
static void package_constants_equal_header_constants(void **state)
{
    (void)state;
    static constant_set header, package;
    header.n = package.n = 0;
    parse_header(HT_SOURCE_DIR "/include/hedgetrig/fixed.h", &header);
    parse_header(HT_SOURCE_DIR "/include/hedgetrig/pipe_regs.h", &header);
    parse_header(HT_SOURCE_DIR "/include/hedgetrig/wire_regs.h", &header);
    parse_package(HT_SOURCE_DIR "/fpga/rtl/ht_pkg.sv", &package);
    assert_true(header.n > 60);
    size_t matched = 0;
    for (size_t i = 0; i < header.n; i++) {
        uint64_t hv, pv;
        if (!resolve(&header, header.items[i].value, 0, &hv))
            fail_msg("header constant %s = '%s' does not resolve to a number", header.items[i].name,
                     header.items[i].value);
        bool found = false;
        for (size_t j = 0; j < package.n; j++) {
            if (strcmp(package.items[j].name, header.items[i].name) != 0)
                continue;
            found = true;
            if (!resolve(&package, package.items[j].value, 0, &pv))
                fail_msg("ht_pkg.sv: %s = '%s' does not resolve to a number", package.items[j].name,
                         package.items[j].value);
            if (hv != pv)
                fail_msg("%s: header says %llu, ht_pkg.sv says %llu", header.items[i].name, (unsigned long long)hv,
                         (unsigned long long)pv);
        }
        if (!found)
            fail_msg("%s is in the headers but not in fpga/rtl/ht_pkg.sv", header.items[i].name);
        matched++;
    }
    for (size_t j = 0; j < package.n; j++) {
        if (strncmp(package.items[j].name, "HT_", 3) != 0)
            continue;
        bool found = false;
        for (size_t i = 0; i < header.n && !found; i++)
            found = strcmp(package.items[j].name, header.items[i].name) == 0;
        if (!found)
            fail_msg("%s is in fpga/rtl/ht_pkg.sv but not in the headers", package.items[j].name);
    }
    assert_int_equal(matched, header.n);
}

/* The parser itself catches a drift: a changed value is reported as different. */
static void package_check_detects_a_drift(void **state)
{
    (void)state;
    static constant_set set;
    set.n = 0;
    snprintf(set.items[0].name, 64, "HT_FX_A");
    snprintf(set.items[0].value, 64, "32'h30");
    snprintf(set.items[1].name, 64, "HT_FX_B");
    snprintf(set.items[1].value, 64, "HT_FX_A");
    set.n = 2;
    uint64_t v;
    assert_true(resolve(&set, "HT_FX_B", 0, &v));
    assert_true(v == 48);
    assert_true(resolve(&set, "0x30u", 0, &v));
    assert_true(v == 48);
    assert_false(resolve(&set, "HT_FX_MISSING", 0, &v));
    assert_false(resolve(&set, "12abc", 0, &v));
}

/* The Vitis kernel descriptions agree with the headers: register space, the table buffer's address register,
 * the stream widths, and each names a module of fpga/rtl. */
static void kernel_xml_matches_the_headers(void **state)
{
    (void)state;
    static const struct {
        const char *xml, *rtl, *module;
        bool streams;
    } kernels[] = {
        {"ht_pipe_kernel.xml", "ht_pipe_kernel.sv", "module ht_pipe_kernel #(", true},
        {"ht_pipe_kernel_mm.xml", "ht_pipe_kernel_mm.sv", "module ht_pipe_kernel_mm #(", false},
    };
    for (size_t k = 0; k < HT_ARRAY_LEN(kernels); k++) {
        char path[512], want[128];
        snprintf(path, sizeof path, "%s/fpga/vitis/%s", HT_SOURCE_DIR, kernels[k].xml);
        char *xml = read_text(path);
        assert_non_null(xml);
        snprintf(want, sizeof want, "name=\"s_axi_control\" mode=\"slave\" range=\"0x%X\"", HT_PIPE_KERNEL_REG_SPACE);
        if (!strstr(xml, want))
            fail_msg("%s lacks %s", kernels[k].xml, want);
        snprintf(want, sizeof want, "port=\"m_axi_gmem\" size=\"0x8\" offset=\"0x%X\"", HT_PIPE_KREG_DMA_ADDR);
        if (!strstr(xml, want))
            fail_msg("%s lacks %s", kernels[k].xml, want);
        snprintf(want, sizeof want, "port=\"m_axi_ring\" size=\"0x8\" offset=\"0x%X\"", HT_PIPE_KREG_RING_ADDR);
        if (!strstr(xml, want))
            fail_msg("%s lacks %s", kernels[k].xml, want);
        snprintf(want, sizeof want, "name=\"s_axis_rx\" mode=\"read_only\" dataWidth=\"%d\"",
                 HT_PIPE_WIRE_BEAT_BYTES * 8);
        if (!strstr(xml, want))
            fail_msg("%s lacks %s", kernels[k].xml, want);
        snprintf(want, sizeof want, "dataWidth=\"%d\"", HT_PIPE_BUFFER_ENTRY_BYTES * 8);
        assert_non_null(strstr(xml, want));
        snprintf(want, sizeof want, "name=\"s_axis_tick\" mode=\"read_only\" dataWidth=\"%d\"", HT_PIPE_TICK_BITS);
        assert_true((strstr(xml, want) != NULL) == kernels[k].streams);
        snprintf(want, sizeof want, "name=\"m_axis_event\" mode=\"write_only\" dataWidth=\"%d\"", HT_PIPE_EVENT_BITS);
        assert_true((strstr(xml, want) != NULL) == kernels[k].streams);
        free(xml);
        snprintf(path, sizeof path, "%s/fpga/rtl/%s", HT_SOURCE_DIR, kernels[k].rtl);
        char *rtl = read_text(path);
        assert_non_null(rtl);
        if (!strstr(rtl, kernels[k].module))
            fail_msg("%s does not define %s", kernels[k].rtl, kernels[k].module);
        free(rtl);
    }
}

/* The v++ link configurations name ports the kernel they link has: every `sp=ht_pipe.PORT:` and every
 * `stream_connect=...ht_pipe.PORT` is a port of the kernel XML of its `nk=KERNEL:1:ht_pipe` line. */
static void link_configs_name_the_kernels_ports(void **state)
{
    (void)state;
    static const char *const cfgs[] = {"u55c.cfg", "x3522.cfg"};
    for (size_t c = 0; c < HT_ARRAY_LEN(cfgs); c++) {
        char path[512];
        snprintf(path, sizeof path, "%s/fpga/vitis/%s", HT_SOURCE_DIR, cfgs[c]);
        char *cfg = read_text(path);
        assert_non_null(cfg);
        char kernel[64] = "";
        const char *nk = strstr(cfg, "\nnk=ht_pipe_kernel");
        assert_non_null(nk);
        assert_int_equal(sscanf(nk + 4, "%63[^:]", kernel), 1);
        snprintf(path, sizeof path, "%s/fpga/vitis/%s.xml", HT_SOURCE_DIR, kernel);
        char *xml = read_text(path);
        if (!xml)
            fail_msg("%s links %s, which has no %s", cfgs[c], kernel, path);
        unsigned ports = 0;
        for (const char *p = strstr(cfg, "ht_pipe."); p; p = strstr(p + 1, "ht_pipe.")) {
            const char *line = p;
            while (line > cfg && line[-1] != '\n')
                line--;
            if (*line == '#')
                continue; /* a comment's example */
            if (p > cfg && (p[-1] == '=' || p[-1] == ':' || p[-1] == '.')) {
                char port[64], want[96];
                if (sscanf(p + 8, "%63[a-z_]", port) != 1)
                    continue;
                if (strcmp(port, "ap_clk") == 0)
                    continue;
                snprintf(want, sizeof want, "<port name=\"%s\"", port);
                if (!strstr(xml, want))
                    fail_msg("%s connects ht_pipe.%s, which %s.xml does not have", cfgs[c], port, kernel);
                ports++;
            }
        }
        assert_true(ports >= 2);
        free(xml);
        free(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_double_rounds_ties_up),
        cmocka_unit_test(from_double_saturates_and_refuses_nan),
        cmocka_unit_test(round_trip_within_half_lsb),
        cmocka_unit_test(round_shift_and_saturate),
        cmocka_unit_test(package_constants_equal_header_constants),
        cmocka_unit_test(package_check_detects_a_drift),
        cmocka_unit_test(kernel_xml_matches_the_headers),
        cmocka_unit_test(link_configs_name_the_kernels_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
