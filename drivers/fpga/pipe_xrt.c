/* SPDX-License-Identifier: MIT */
/* The xrt backend: the pipeline on an Alveo card (kernel ht_pipe_kernel, fpga/rtl) through XRT's native C API. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "pipe_backend.h"

/*
 * Everything that can make XRT abort the process is checked first, in plain C, before any xrt* call:
 * the xclbin must exist and carry the "xclbin2" magic, XILINX_XRT must name a folder whose lib/ holds the
 * XRT libraries (xrtDeviceOpen aborts otherwise), and the xocl driver must list a card. Only then is the
 * device opened, the xclbin loaded and the kernel opened for register access.
 *
 * The card is driven through the kernel wrapper's registers (pipe_regs.h, HT_PIPE_KREG_*): the pipeline's
 * own map below 0x2000, a tick window to push ticks from the host, an event window to read them back, and
 * a DMA engine that copies the greek table from a buffer object into the table memory. Time is real here:
 * idle and drain do nothing, and cycle stamps come from the card's counter.
 */

/* Kernel names the xclbins of bitstreams/ carry: with AXI4-Streams (X3522) or memory-mapped only (U55C). */
static const char *const g_kernel_names[] = {"ht_pipe_kernel", "ht_pipe_kernel_mm"};

typedef struct xrt_pipe {
    xrtDeviceHandle dev;
    xrtKernelHandle krn;
    xrtBufferHandle bo;
    uint8_t *map;            /* the table buffer, HT_PIPE_TABLE_DEPTH entries of HT_PIPE_BUFFER_ENTRY_BYTES */
    uint64_t bo_addr;        /* its device address */
    uint32_t dirty_first;    /* entries written since the last copy: [dirty_first, dirty_end) */
    uint32_t dirty_end;
    bool failed;             /* a register or DMA access failed: reported once on stderr */
} xrt_pipe;

/* Counts the PCI functions bound to the xocl driver (the user function of each Alveo card). */
static int count_xocl_devices(void)
{
    DIR *d = opendir("/sys/bus/pci/drivers/xocl");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned dom, bus, dev, fn;
        if (sscanf(e->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
            n++;
    }
    closedir(d);
    return n;
}

/* True when folder `lib` holds libxrt_coreutil.so (any version suffix). */
static bool has_xrt_libraries(const char *lib)
{
    DIR *d = opendir(lib);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = strncmp(e->d_name, "libxrt_coreutil.so", 18) == 0;
    closedir(d);
    return found;
}

/* Every check that keeps XRT from aborting the process; -1 with a message naming what is missing. */
static int probe(const ht_pipe_config *cfg, ht_error *err)
{
    if (!cfg->xclbin_path || !*cfg->xclbin_path)
        return ht_error_set(err, "xrt backend: no xclbin given (ht_pipe_config.xclbin_path, --xclbin); "
                                 "bitstreams/build.sh makes one with AMD Vitis");
    FILE *f = fopen(cfg->xclbin_path, "rb");
    if (!f)
        return ht_error_set(err, "xrt backend: cannot open xclbin %s: %s", cfg->xclbin_path, strerror(errno));
    char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got != sizeof magic || memcmp(magic, "xclbin2", 8) != 0)
        return ht_error_set(err, "xrt backend: %s is not an xclbin (expected \"xclbin2\" at offset 0)",
                            cfg->xclbin_path);
    const char *root = getenv("XILINX_XRT");
    if (!root || !*root)
        return ht_error_set(err, "xrt backend: XILINX_XRT is not set (source the XRT setup script, e.g. "
                                 "/opt/xilinx/xrt/setup.sh; XRT aborts the process without it)");
    char lib[4096];
    snprintf(lib, sizeof lib, "%s/lib", root);
    if (!has_xrt_libraries(lib))
        return ht_error_set(err, "xrt backend: XILINX_XRT=%s, but %s holds no libxrt_coreutil.so "
                                 "(XRT aborts the process without it)", root, lib);
    int cards = count_xocl_devices();
    if (cards == 0)
        return ht_error_set(err, "xrt backend: no Alveo card (no device bound to the xocl driver in "
                                 "/sys/bus/pci/drivers/xocl)");
    if (cfg->xrt_device >= (unsigned)cards)
        return ht_error_set(err, "xrt backend: device %u requested, %d card%s found", cfg->xrt_device, cards,
                            cards == 1 ? "" : "s");
    return 0;
}

/* Reports a failed card access once (not on the hot path of a healthy card). */
static void card_failed(xrt_pipe *p, const char *what, uint32_t offset)
{
    if (!p->failed)
        fprintf(stderr, "hedgetrig: xrt backend: %s at register 0x%04x failed; the card's results are not "
                        "trustworthy from here on\n", what, offset);
    p->failed = true;
}

static void wr(xrt_pipe *p, uint32_t offset, uint32_t value)
{
    if (xrtKernelWriteRegister(p->krn, offset, value) != 0)
        card_failed(p, "register write", offset);
}

static uint32_t rd(xrt_pipe *p, uint32_t offset)
{
    uint32_t v = 0;
    if (xrtKernelReadRegister(p->krn, offset, &v) != 0)
        card_failed(p, "register read", offset);
    return v;
}

/* Copies the entries written since the last copy from the buffer into the table memory. */
static void flush_table(xrt_pipe *p)
{
    if (p->dirty_end <= p->dirty_first)
        return;
    size_t off = (size_t)p->dirty_first * HT_PIPE_BUFFER_ENTRY_BYTES;
    size_t len = (size_t)(p->dirty_end - p->dirty_first) * HT_PIPE_BUFFER_ENTRY_BYTES;
    if (xrtBOSync(p->bo, XCL_BO_SYNC_BO_TO_DEVICE, len, off) != 0)
        card_failed(p, "buffer sync", HT_PIPE_KREG_DMA_ADDR);
    uint64_t addr = p->bo_addr + off;
    wr(p, HT_PIPE_KREG_DMA_ADDR, (uint32_t)addr);
    wr(p, HT_PIPE_KREG_DMA_ADDR + 4, (uint32_t)(addr >> 32));
    wr(p, HT_PIPE_KREG_DMA_FIRST, p->dirty_first);
    wr(p, HT_PIPE_KREG_DMA_COUNT, p->dirty_end - p->dirty_first);
    wr(p, HT_PIPE_KREG_DMA_START, 1);
    for (long spin = 0; spin < 100000000L && !p->failed; spin++)
        if ((rd(p, HT_PIPE_KREG_DMA_STATUS) & 1u) == 0)
            break;
    if (rd(p, HT_PIPE_KREG_DMA_STATUS) & 2u)
        card_failed(p, "table DMA (AXI error)", HT_PIPE_KREG_DMA_STATUS);
    p->dirty_first = UINT32_MAX;
    p->dirty_end = 0;
}

static void xrt_close(void *be);

static void *xrt_open(const ht_pipe_config *cfg, ht_error *err)
{
    if (probe(cfg, err) != 0)
        return NULL;
    xrt_pipe *p = calloc(1, sizeof *p);
    if (!p) {
        ht_error_set(err, "xrt backend: out of memory");
        return NULL;
    }
    p->dirty_first = UINT32_MAX;
    p->dev = xrtDeviceOpen(cfg->xrt_device);
    if (!p->dev) {
        ht_error_set(err, "xrt backend: xrtDeviceOpen(%u) failed", cfg->xrt_device);
        free(p);
        return NULL;
    }
    if (xrtDeviceLoadXclbinFile(p->dev, cfg->xclbin_path) != 0) {
        ht_error_set(err, "xrt backend: the card refused %s (xrtDeviceLoadXclbinFile)", cfg->xclbin_path);
        xrt_close(p);
        return NULL;
    }
    xuid_t uuid;
    if (xrtDeviceGetXclbinUUID(p->dev, uuid) != 0) {
        ht_error_set(err, "xrt backend: cannot read the loaded xclbin's UUID");
        xrt_close(p);
        return NULL;
    }
    for (size_t i = 0; i < HT_ARRAY_LEN(g_kernel_names) && !p->krn; i++)
        p->krn = xrtPLKernelOpenExclusive(p->dev, uuid, g_kernel_names[i]);
    if (!p->krn) {
        ht_error_set(err, "xrt backend: %s has no kernel ht_pipe_kernel or ht_pipe_kernel_mm", cfg->xclbin_path);
        xrt_close(p);
        return NULL;
    }
    uint32_t id = rd(p, HT_PIPE_REG_ID), version = rd(p, HT_PIPE_REG_VERSION);
    if (id != HT_PIPE_ID_MAGIC || version != HT_PIPE_VERSION) {
        ht_error_set(err, "xrt backend: the kernel answers ID 0x%08x version 0x%08x, expected 0x%08x 0x%08x", id,
                     version, HT_PIPE_ID_MAGIC, HT_PIPE_VERSION);
        xrt_close(p);
        return NULL;
    }
    p->bo = xrtBOAlloc(p->dev, (size_t)HT_PIPE_TABLE_DEPTH * HT_PIPE_BUFFER_ENTRY_BYTES, XRT_BO_FLAGS_NONE,
                       (xrtMemoryGroup)xrtKernelArgGroupId(p->krn, 0));
    p->map = p->bo ? xrtBOMap(p->bo) : NULL;
    if (!p->map) {
        ht_error_set(err, "xrt backend: cannot allocate the %d-entry table buffer", HT_PIPE_TABLE_DEPTH);
        xrt_close(p);
        return NULL;
    }
    memset(p->map, 0, (size_t)HT_PIPE_TABLE_DEPTH * HT_PIPE_BUFFER_ENTRY_BYTES);
    p->bo_addr = xrtBOAddress(p->bo);
    /* Reset the pipeline (registers, counters, book) and take ticks and events through registers. */
    wr(p, HT_PIPE_KREG_CONTROL, 1u);
    wr(p, HT_PIPE_KREG_MODE, 0u);
    if (p->failed) {
        ht_error_set(err, "xrt backend: the kernel's registers do not answer");
        xrt_close(p);
        return NULL;
    }
    return p;
}

static void xrt_close(void *be)
{
    xrt_pipe *p = be;
    if (!p)
        return;
    if (p->bo)
        xrtBOFree(p->bo);
    if (p->krn)
        xrtKernelClose(p->krn);
    if (p->dev)
        xrtDeviceClose(p->dev);
    free(p);
}

static void xrt_push_tick(void *be, const ht_fx_tick *tick)
{
    xrt_pipe *p = be;
    wr(p, HT_PIPE_KREG_TICK_SEQ, (uint32_t)tick->seq);
    wr(p, HT_PIPE_KREG_TICK_SEQ + 4, (uint32_t)(tick->seq >> 32));
    wr(p, HT_PIPE_KREG_TICK_PRICE, (uint32_t)(uint64_t)tick->price);
    wr(p, HT_PIPE_KREG_TICK_PRICE + 4, (uint32_t)((uint64_t)tick->price >> 32));
    wr(p, HT_PIPE_KREG_TICK_PUSH, tick->underlying);
}

static bool xrt_poll_event(void *be, ht_fx_event *ev)
{
    xrt_pipe *p = be;
    if ((rd(p, HT_PIPE_KREG_EVENT_STATUS) & 1u) == 0)
        return false;
    uint32_t w[HT_PIPE_EVENT_BITS / 32];
    for (unsigned i = 0; i < HT_ARRAY_LEN(w); i++) /* the last read pops the event */
        w[i] = rd(p, HT_PIPE_KREG_EVENT_WORDS + 4 * i);
    ev->underlying = (uint8_t)(w[0] & 0xFF);
    ev->side = (uint8_t)((w[0] >> 8) & 0xF);
    ev->seq = w[2] | (uint64_t)w[3] << 32;
    ev->price = (int64_t)(w[4] | (uint64_t)w[5] << 32);
    ev->net_delta = (int64_t)(w[6] | (uint64_t)w[7] << 32);
    ev->net_gamma = (int64_t)(w[8] | (uint64_t)w[9] << 32);
    ev->cycle_in = w[10] | (uint64_t)w[11] << 32;
    ev->cycle_out = w[12] | (uint64_t)w[13] << 32;
    return true;
}

static bool xrt_in_flight(void *be)
{
    (void)be;
    return false; /* real time: the 10 cycles are over before a register read returns */
}

static void xrt_nothing(void *be)
{
    (void)be;
}

static void xrt_wait_fold(void *be)
{
    xrt_pipe *p = be;
    flush_table(p);
    for (long spin = 0; spin < 100000000L && !p->failed; spin++)
        if ((rd(p, HT_PIPE_REG_STATUS) & 1u) == 0)
            break;
}

static void xrt_idle(void *be, uint64_t cycles)
{
    (void)be;
    (void)cycles;
}

static void xrt_reg_write(void *be, uint32_t addr, uint32_t value)
{
    xrt_pipe *p = be;
    flush_table(p); /* table entries written before a COMMIT must be in the table memory first */
    wr(p, addr, value);
}

static uint32_t xrt_reg_read(void *be, uint32_t addr)
{
    xrt_pipe *p = be;
    flush_table(p);
    return rd(p, addr);
}

static void xrt_table_write(void *be, uint32_t index, const ht_fx_entry *entry)
{
    xrt_pipe *p = be;
    uint64_t words[HT_PIPE_BUFFER_ENTRY_BYTES / 8] = {(uint64_t)entry->delta, (uint64_t)entry->gamma,
                                                     (uint64_t)entry->speed, (uint64_t)entry->vanna,
                                                     (uint64_t)entry->ref_spot, entry->underlying};
    memcpy(p->map + (size_t)index * HT_PIPE_BUFFER_ENTRY_BYTES, words, sizeof words);
    if (index < p->dirty_first)
        p->dirty_first = index;
    if (index + 1 > p->dirty_end)
        p->dirty_end = index + 1;
}

static uint64_t xrt_now(void *be)
{
    xrt_pipe *p = be;
    uint64_t lo = rd(p, HT_PIPE_REG_CYCLES);
    uint64_t hi = rd(p, HT_PIPE_REG_CYCLES + 4);
    return lo | hi << 32;
}

static uint64_t xrt_events_dropped(void *be)
{
    (void)be;
    return 0; /* the card keeps its events (FLAGS.EVENT_LOST says when it could not) */
}

const ht_pipe_backend_ops ht_pipe_xrt_ops = {
    .name = "xrt",
    .open = xrt_open,
    .close = xrt_close,
    .push_tick = xrt_push_tick,
    .poll_event = xrt_poll_event,
    .in_flight = xrt_in_flight,
    .drain = xrt_nothing,
    .wait_fold = xrt_wait_fold,
    .idle = xrt_idle,
    .reg_write = xrt_reg_write,
    .reg_read = xrt_reg_read,
    .table_write = xrt_table_write,
    .now = xrt_now,
    .events_dropped = xrt_events_dropped,
};
