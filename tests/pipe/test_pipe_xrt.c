/* SPDX-License-Identifier: MIT */
/* The xrt backend without a card: every missing piece is refused with a message naming it, never an abort. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hedgetrig/pipe.h"

/* Opens the xrt backend in a child process with XILINX_XRT set to xilinx_xrt (NULL: unset) and passes when
 * the child exits normally after ht_pipe_create refused with a message containing one of the needles. A
 * crash or an abort inside XRT shows as a child killed by a signal. */
static void expect_refusal(const char *xclbin, const char *xilinx_xrt, const char *needle, const char *needle2)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (xilinx_xrt)
            setenv("XILINX_XRT", xilinx_xrt, 1);
        else
            unsetenv("XILINX_XRT");
        ht_pipe_config cfg;
        ht_pipe_config_default(&cfg);
        cfg.backend = HT_PIPE_BACKEND_XRT;
        cfg.xclbin_path = xclbin;
        ht_error err = {{0}};
        ht_pipe *pipe = ht_pipe_create(&cfg, &err);
        if (pipe)
            _exit(10);
        if (!strstr(err.msg, needle) && !(needle2 && strstr(err.msg, needle2))) {
            fprintf(stderr, "refusal message '%s' does not say '%s'\n", err.msg, needle);
            _exit(11);
        }
        printf("refused as expected: %s\n", err.msg);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fail_msg("the xrt backend killed the process (signal %d) for xclbin %s, XILINX_XRT %s", WTERMSIG(status),
                 xclbin ? xclbin : "(none)", xilinx_xrt ? xilinx_xrt : "(unset)");
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Writes a file with the given bytes. */
static void write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

/* True when the xocl driver lists a card (then the last step reaches the card and it refuses our file). */
static bool card_present(void)
{
    DIR *d = opendir("/sys/bus/pci/drivers/xocl");
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        found |= strchr(e->d_name, ':') != NULL;
    closedir(d);
    return found;
}

static void every_missing_piece_is_named(void **state)
{
    (void)state;
    const char *dir = HT_TEST_TMPDIR;
    char not_xclbin[512], fake_xclbin[512], empty_root[512], fake_root[512], fake_lib[600], link[700];
    snprintf(not_xclbin, sizeof not_xclbin, "%s/not.xclbin", dir);
    snprintf(fake_xclbin, sizeof fake_xclbin, "%s/fake.xclbin", dir);
    snprintf(empty_root, sizeof empty_root, "%s/xrt-empty", dir);
    snprintf(fake_root, sizeof fake_root, "%s/xrt-root", dir);
    snprintf(fake_lib, sizeof fake_lib, "%s/lib", fake_root);
    snprintf(link, sizeof link, "%s/libxrt_coreutil.so", fake_lib);
    write_file(not_xclbin, "just text\n", 10);
    static const char magic[64] = "xclbin2"; /* the magic, then zeros: not a loadable image */
    write_file(fake_xclbin, magic, sizeof magic);
    mkdir(empty_root, 0755);
    mkdir(fake_root, 0755);
    mkdir(fake_lib, 0755);
    unlink(link);
    assert_int_equal(symlink(HT_XRT_COREUTIL_LIBRARY, link), 0);

    expect_refusal(NULL, fake_root, "no xclbin given", NULL);
    expect_refusal("/nonexistent/ht_pipe.xclbin", fake_root, "cannot open xclbin /nonexistent/ht_pipe.xclbin", NULL);
    expect_refusal(not_xclbin, fake_root, "is not an xclbin", NULL);
    expect_refusal(fake_xclbin, NULL, "XILINX_XRT is not set", NULL);
    expect_refusal(fake_xclbin, empty_root, "holds no libxrt_coreutil.so", NULL);
    if (card_present())
        expect_refusal(fake_xclbin, fake_root, "refused", "no kernel");
    else
        expect_refusal(fake_xclbin, fake_root, "no Alveo card", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_missing_piece_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
