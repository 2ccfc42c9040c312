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

#include "pipe_card.h"

/*
 * Everything that can make XRT abort the process is checked first, in plain C, before any xrt* call:
 * the xclbin must exist and carry the "xclbin2" magic, XILINX_XRT must name a folder whose lib/ holds the
 * XRT libraries (xrtDeviceOpen aborts otherwise), and the xocl driver must list a card. Only then is the
 * device opened, the xclbin loaded and the kernel opened for register access.
 *
 * The protocol on top (registers, tick and event windows, table DMA) is pipe_card.c; this file only carries
 * it over XRT: xrtKernelRead/WriteRegister for the registers, a buffer object for the table.
 */

/* Records in the event ring: 4096 of 64 bytes (256 KB), a quarter read before the card is told. */
#define XRT_RING_LOG2 12

/* Kernel names the xclbins of bitstreams/ carry: with AXI4-Streams (X3522) or memory-mapped only (U55C). */
static const char *const g_kernel_names[] = {"ht_pipe_kernel", "ht_pipe_kernel_mm"};

/* The XRT handles behind a card io. */
typedef struct xrt_io {
    xrtDeviceHandle dev;
    xrtKernelHandle krn;
    xrtBufferHandle bo;
    xrtBufferHandle ring; /* the event ring in host memory (kernel arg 1), NULL for a kernel without one */
} xrt_io;

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

/* Register write through XRT. */
static int xrt_write_reg(void *ctx, uint32_t offset, uint32_t value)
{
    return xrtKernelWriteRegister(((xrt_io *)ctx)->krn, offset, value);
}

/* Register read through XRT. */
static int xrt_read_reg(void *ctx, uint32_t offset, uint32_t *value)
{
    return xrtKernelReadRegister(((xrt_io *)ctx)->krn, offset, value);
}

/* Buffer bytes to the card. */
static int xrt_sync_buffer(void *ctx, size_t offset, size_t len)
{
    return xrtBOSync(((xrt_io *)ctx)->bo, XCL_BO_SYNC_BO_TO_DEVICE, len, offset);
}

/* Frees the buffer, closes the kernel and the device. */
static void xrt_io_close(void *ctx)
{
    xrt_io *x = ctx;
    if (!x)
        return;
    if (x->ring)
        xrtBOFree(x->ring);
    if (x->bo)
        xrtBOFree(x->bo);
    if (x->krn)
        xrtKernelClose(x->krn);
    if (x->dev)
        xrtDeviceClose(x->dev);
    free(x);
}

static void *xrt_open(const ht_pipe_config *cfg, ht_error *err)
{
    if (probe(cfg, err) != 0)
        return NULL;
    xrt_io *x = calloc(1, sizeof *x);
    if (!x) {
        ht_error_set(err, "xrt backend: out of memory");
        return NULL;
    }
    x->dev = xrtDeviceOpen(cfg->xrt_device);
    if (!x->dev) {
        ht_error_set(err, "xrt backend: xrtDeviceOpen(%u) failed", cfg->xrt_device);
        xrt_io_close(x);
        return NULL;
    }
    if (xrtDeviceLoadXclbinFile(x->dev, cfg->xclbin_path) != 0) {
        ht_error_set(err, "xrt backend: the card refused %s (xrtDeviceLoadXclbinFile)", cfg->xclbin_path);
        xrt_io_close(x);
        return NULL;
    }
    xuid_t uuid;
    if (xrtDeviceGetXclbinUUID(x->dev, uuid) != 0) {
        ht_error_set(err, "xrt backend: cannot read the loaded xclbin's UUID");
        xrt_io_close(x);
        return NULL;
    }
    for (size_t i = 0; i < HT_ARRAY_LEN(g_kernel_names) && !x->krn; i++)
        x->krn = xrtPLKernelOpenExclusive(x->dev, uuid, g_kernel_names[i]);
    if (!x->krn) {
        ht_error_set(err, "xrt backend: %s has no kernel ht_pipe_kernel or ht_pipe_kernel_mm", cfg->xclbin_path);
        xrt_io_close(x);
        return NULL;
    }
    x->bo = xrtBOAlloc(x->dev, (size_t)HT_PIPE_TABLE_DEPTH * HT_PIPE_BUFFER_ENTRY_BYTES, XRT_BO_FLAGS_NONE,
                       (xrtMemoryGroup)xrtKernelArgGroupId(x->krn, 0));
    uint8_t *map = x->bo ? xrtBOMap(x->bo) : NULL;
    if (!map) {
        ht_error_set(err, "xrt backend: cannot allocate the %d-entry table buffer", HT_PIPE_TABLE_DEPTH);
        xrt_io_close(x);
        return NULL;
    }
    ht_card_io io = {.ctx = x, .write_reg = xrt_write_reg, .read_reg = xrt_read_reg, .sync_buffer = xrt_sync_buffer,
                     .close = xrt_io_close, .buffer = map, .buffer_addr = xrtBOAddress(x->bo)};
    /* The event ring in host memory, which the card writes over PCIe and the host reads without a system call
     * (a host-only buffer needs no sync). A kernel built before the ring has no arg 1: events then come through
     * the event window. */
    int ring_group = xrtKernelArgGroupId(x->krn, 1);
    if (ring_group >= 0) {
        x->ring = xrtBOAlloc(x->dev, (size_t)HT_PIPE_RING_RECORD_BYTES << XRT_RING_LOG2, XRT_BO_FLAGS_HOST_ONLY,
                             (xrtMemoryGroup)ring_group);
        uint8_t *ring = x->ring ? xrtBOMap(x->ring) : NULL;
        if (!ring) {
            ht_error_set(err, "xrt backend: cannot allocate the event ring (%d records in host memory)",
                         1 << XRT_RING_LOG2);
            xrt_io_close(x);
            return NULL;
        }
        io.ring = ring;
        io.ring_addr = xrtBOAddress(x->ring);
        io.ring_log2 = XRT_RING_LOG2;
    }
    return ht_card_open(&io, err);
}

const ht_pipe_backend_ops ht_pipe_xrt_ops = HT_CARD_OPS("xrt", xrt_open, NULL);
